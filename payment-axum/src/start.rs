//! Starting a payment from any handler: [`start`], [`StartResponse`], [`StartError`].

use std::ops::Deref;

use axum::response::{IntoResponse, Response};
use payment_core::{AccountId, Error, Order, Payments, StartedPayment};

use crate::render;

/// Creates the payment at `account` (a gateway, for its default account) for `order` and
/// answers with the redirect that sends the buyer there, setting the signed state cookie.
///
/// Decide the order's amount on the server: verify will use exactly that amount.
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
///         // Store `started.gateway_ref()` with the order here if you like.
///         Ok(started) => started.into_response(),
///         // Renders itself (422, 502, 504 or 500); or match on the `Error` inside.
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
    account: impl Into<AccountId>,
    order: &Order,
) -> Result<StartResponse, StartError> {
    match payments.start(account, order).await {
        Ok(started) => Ok(StartResponse(started)),
        Err(error) => Err(StartError(error)),
    }
}

/// A started payment as a response ([`StartedPayment::reply`]): `302 Found` to the
/// gateway, or `200` with an auto-submitting form for a gateway that takes a `POST`
/// (Inopal); with the signed state cookie and `Cache-Control: no-store`.
#[derive(Debug, Clone)]
pub struct StartResponse(pub StartedPayment);

impl Deref for StartResponse {
    type Target = StartedPayment;

    fn deref(&self) -> &StartedPayment {
        &self.0
    }
}

impl IntoResponse for StartResponse {
    fn into_response(self) -> Response {
        render::reply(self.0.reply())
    }
}

/// A payment that could not be started. It renders itself ([`Error::reply`]): a readable
/// Persian and English page with 422 for an order outside the gateway's limits, 502 for a
/// refusal or an unusable answer, 504 for a timeout, 500 for configuration problems. A
/// transport error at start is safe to retry: no state was issued.
///
/// ```
/// use axum::response::{IntoResponse, Response};
/// use payment_axum::{StartError, payment_core::Error};
///
/// fn answer(e: StartError) -> Response {
///     match &e.0 {
///         Error::InvalidOrder(problem) => format!("Please change the order: {problem}").into_response(),
///         _ => e.into_response(),
///     }
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[error("payment could not be started: {0}")]
pub struct StartError(#[from] pub Error);

impl Deref for StartError {
    type Target = Error;

    fn deref(&self) -> &Error {
        &self.0
    }
}

impl IntoResponse for StartError {
    fn into_response(self) -> Response {
        render::reply(self.0.reply())
    }
}
