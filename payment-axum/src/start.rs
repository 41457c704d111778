//! Starting a payment from any handler: [`start`], [`StartResponse`], [`StartError`].

use std::fmt;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use payment_core::{
    Error, GatewayId, Order, Payments, Redirect, Rial, StartedPayment, StateCookie,
};

use crate::callback;

/// Creates the payment at `gateway` for `order` and answers with the redirect that sends
/// the buyer there, setting the signed state cookie.
///
/// Decide the order's amount on the server: verify will use exactly that amount. Store
/// [`StartResponse::gateway_ref`] with the order if you want to find the payment later.
///
/// ```
/// use axum::{Router, extract::{Path, State}, http::StatusCode, response::{IntoResponse, Response}, routing::post};
/// use payment_axum::{payment_core::{GatewayId, Order, OrderId, Payments, Rial}, start};
///
/// async fn checkout(State(payments): State<Payments>, Path(id): Path<String>) -> Response {
///     let Ok(id) = id.parse::<OrderId>() else {
///         return StatusCode::NOT_FOUND.into_response();
///     };
///     // Look the order up and price it on the server; never trust an amount from a form.
///     let order = Order::new(id, Rial::new(120_000));
///     match start(&payments, GatewayId::NovinPal, &order).await {
///         Ok(started) => {
///             // Store `started.gateway_ref()` with the order here.
///             started.into_response()
///         }
///         // Renders itself (422, 502, 504 or 500); or match on `e.error()`.
///         Err(e) => e.into_response(),
///     }
/// }
///
/// fn routes() -> Router<Payments> {
///     Router::new().route("/checkout/{id}", post(checkout))
/// }
/// ```
pub async fn start(
    payments: &Payments,
    gateway: GatewayId,
    order: &Order,
) -> Result<StartResponse, StartError> {
    payments
        .start(gateway, order)
        .await
        .map(StartResponse::from)
        .map_err(StartError::from)
}

/// A started payment as a response: `302 Found` to the gateway for `GET` gateways, or
/// `200` with an auto-submitting form for `POST` gateways (Inopal); always with the
/// `Set-Cookie` of the signed order state and `Cache-Control: no-store`.
///
/// ```
/// use payment_axum::{StartError, StartResponse, payment_core::{GatewayId, Order, Payments}, start};
///
/// async fn pay(payments: &Payments, order: &Order) -> Result<StartResponse, StartError> {
///     let started = start(payments, GatewayId::Inopal, order).await?;
///     // Keep these with the order: the reference finds the payment at the gateway, and
///     // Inopal adds its fee to what the buyer pays.
///     let _reference = started.gateway_ref().to_owned();
///     let _buyer_pays = started.payable_amount().unwrap_or(order.amount());
///     Ok(started)
/// }
/// ```
#[derive(Clone)]
pub struct StartResponse {
    started: StartedPayment,
}

impl StartResponse {
    /// The gateway's reference for the payment; store it with the order.
    pub fn gateway_ref(&self) -> &str {
        &self.started.gateway_ref
    }

    /// What the buyer will pay, where the gateway adds a fee (Inopal).
    pub fn payable_amount(&self) -> Option<Rial> {
        self.started.payable_amount
    }

    /// Where the buyer is sent.
    pub fn redirect(&self) -> &Redirect {
        &self.started.redirect
    }

    /// The state cookie the response sets.
    pub fn cookie(&self) -> &StateCookie {
        &self.started.cookie
    }

    /// The pipeline's result, to answer in another way.
    pub fn into_started(self) -> StartedPayment {
        self.started
    }
}

impl From<StartedPayment> for StartResponse {
    fn from(started: StartedPayment) -> Self {
        Self { started }
    }
}

// The redirect holds the gateway's token; keep it out of logs.
impl fmt::Debug for StartResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redirect = match &self.started.redirect {
            Redirect::Get(_) => "GET",
            _ => "POST form",
        };
        f.debug_struct("StartResponse")
            .field("redirect", &redirect)
            .field("cookie", &self.started.cookie)
            .field("payable_amount", &self.started.payable_amount)
            .finish_non_exhaustive()
    }
}

impl IntoResponse for StartResponse {
    fn into_response(self) -> Response {
        let redirect = &self.started.redirect;
        let location = match redirect {
            Redirect::Get(url) => HeaderValue::try_from(url.as_str()).ok(),
            _ => None,
        };
        let response = match location {
            Some(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
            // POST gateways, and (never seen) a URL that is no valid header value.
            None => Html(redirect.auto_submit_page()).into_response(),
        };
        callback::finish(response, std::slice::from_ref(&self.started.cookie))
    }
}

/// A payment that could not be started. It renders itself as a readable Persian and
/// English page with a fitting status, or match on [`StartError::error`] to answer in your
/// own way:
///
/// | [`payment_core::Error`] | status |
/// |---|---|
/// | `InvalidOrder` (amount or order id outside the gateway's limits; nothing was sent) | 422 |
/// | `Gateway` (the gateway refused) | 502 |
/// | `Transport` with `Timeout` | 504 |
/// | other `Transport` (connection, 5xx, malformed answer) | 502 |
/// | `Config`, `Unsupported` and the rest | 500 |
///
/// A transport error at start is safe to retry: no state was issued, and a payment the
/// gateway may have created is never verified.
///
/// ```
/// use axum::response::{IntoResponse, Response};
/// use payment_axum::{StartError, payment_core::Error};
///
/// fn answer(e: StartError) -> Response {
///     match e.error() {
///         Error::InvalidOrder(problem) => format!("Please change the order: {problem}").into_response(),
///         _ => e.into_response(),
///     }
/// }
/// ```
pub struct StartError {
    error: Error,
}

impl StartError {
    /// The error from `payment-core`.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The error from `payment-core`, by value.
    pub fn into_error(self) -> Error {
        self.error
    }

    /// The status of the default response ([`Error::http_status`]).
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The default page ([`Error::buyer_page`]): what happened and what the buyer can do,
    /// in Persian and English.
    pub fn page(&self) -> String {
        self.error.buyer_page()
    }
}

impl From<Error> for StartError {
    fn from(error: Error) -> Self {
        Self { error }
    }
}

impl From<StartError> for Error {
    fn from(error: StartError) -> Self {
        error.error
    }
}

impl fmt::Debug for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StartError").field(&self.error).finish()
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "payment could not be started: {}", self.error)
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl IntoResponse for StartError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self.error, "payment could not be started");
        }
        let mut response = (status, Html(self.page())).into_response();
        callback::no_store(response.headers_mut());
        response
    }
}
