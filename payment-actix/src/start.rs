//! Starting a payment from any handler: [`start`], [`StartResponse`] and [`StartError`].

use std::fmt;

use actix_web::{
    HttpRequest, HttpResponse, Responder, ResponseError,
    body::BoxBody,
    http::{
        StatusCode,
        header::{self, ContentType, HeaderValue},
    },
};
use payment_core::{
    Error, GatewayId, Order, Payments, Redirect, Rial, StartedPayment, StateCookie,
};

use crate::glue;

/// Creates the payment at `gateway` and returns the response that sends the buyer there
/// with the signed order-state cookie.
///
/// Decide the order's amount on the server: verify uses it. Store
/// [`StartResponse::gateway_ref`] with the order if you like (the receipt carries it too).
///
/// ```no_run
/// use actix_web::{Responder, get, web};
/// use payment_actix::{start, payment_core::{GatewayId, Order, Payments, Rial}};
///
/// #[get("/checkout/{order}")]
/// async fn checkout(payments: web::Data<Payments>, order: web::Path<String>) -> impl Responder {
///     let Ok(id) = order.into_inner().parse() else {
///         return Err(actix_web::error::ErrorBadRequest("bad order id"));
///     };
///     let amount = Rial::new(120_000); // from your database, never from the buyer
///     let response = start(&payments, GatewayId::NovinPal, &Order::new(id, amount)).await?;
///     // save response.gateway_ref() with the order here if you want it before the callback
///     Ok(response)
/// }
/// ```
pub async fn start(
    payments: &Payments,
    gateway: GatewayId,
    order: &Order,
) -> Result<StartResponse, StartError> {
    match payments.start(gateway, order).await {
        Ok(started) => Ok(StartResponse { started }),
        Err(error) => {
            match &error {
                Error::Config(_) => {
                    tracing::error!(gateway = %gateway, %error, "payment could not be started: configuration");
                }
                Error::InvalidOrder(_) => {
                    tracing::info!(gateway = %gateway, order_id = %order.id(), %error, "order refused before start");
                }
                _ => {
                    tracing::warn!(gateway = %gateway, order_id = %order.id(), %error, "payment could not be started");
                }
            }
            let error = StartError { error };
            Err(error)
        }
    }
}

/// A started payment, as a response: `302 Found` to the gateway for a `GET` redirect, or
/// `200` with an auto-submitting form for a gateway that takes a `POST` (Inopal); with the
/// order-state `Set-Cookie` and `Cache-Control: no-store`.
///
/// Return it from a handler as it is, or read what to store first:
///
/// ```
/// use actix_web::{HttpResponse, web};
/// use payment_actix::{StartError, start, payment_core::{GatewayId, Order, Payments}};
///
/// async fn checkout(payments: web::Data<Payments>, order: Order) -> Result<HttpResponse, StartError> {
///     let started = start(&payments, GatewayId::Inopal, &order).await?;
///     let reference = started.gateway_ref().to_owned(); // store with the order
///     let to_pay = started.payable_amount(); // Inopal adds its fee
///     # let _ = (reference, to_pay);
///     Ok(started.into_response())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct StartResponse {
    started: StartedPayment,
}

impl StartResponse {
    /// The gateway's reference for this payment (unique per payment; store it with the
    /// order).
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

    /// The signed order-state cookie the response sets.
    pub fn cookie(&self) -> &StateCookie {
        &self.started.cookie
    }

    /// Everything the core returned.
    pub fn started(&self) -> &StartedPayment {
        &self.started
    }

    /// Takes everything the core returned, to build your own response.
    pub fn into_started(self) -> StartedPayment {
        self.started
    }

    /// The response (the same as [`Responder::respond_to`], which needs no request here).
    pub fn into_response(self) -> HttpResponse {
        let mut response = match &self.started.redirect {
            Redirect::Get(url) => match HeaderValue::from_str(url.as_str()) {
                Ok(location) => {
                    let mut response = HttpResponse::Found().finish();
                    response.headers_mut().insert(header::LOCATION, location);
                    response
                }
                // A URL is always a valid header value; keep a working page regardless.
                Err(_) => page(self.started.redirect.auto_submit_page()),
            },
            Redirect::PostForm { .. } => page(self.started.redirect.auto_submit_page()),
        };
        glue::no_store(response.headers_mut());
        glue::add_cookies(
            response.headers_mut(),
            std::slice::from_ref(&self.started.cookie),
        );
        response
    }
}

fn page(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(body)
}

impl Responder for StartResponse {
    type Body = BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        self.into_response()
    }
}

impl From<StartResponse> for HttpResponse {
    fn from(response: StartResponse) -> Self {
        response.into_response()
    }
}

/// A payment that could not be started. As a [`ResponseError`] it answers with a readable
/// Persian/English page and a status that says whose fault it was:
///
/// | cause | status |
/// |---|---|
/// | [`Error::InvalidOrder`] (amount or order id outside the gateway's limits) | 422 |
/// | [`Error::Gateway`] (the gateway refused) | 502 |
/// | [`Error::Transport`] timeout | 504 |
/// | other [`Error::Transport`] | 502 |
/// | [`Error::Config`], [`Error::Unsupported`] and anything else | 500 |
///
/// Match on [`StartError::error`] to handle a case yourself:
///
/// ```
/// use actix_web::{HttpResponse, ResponseError};
/// use payment_actix::{StartError, payment_core::Error};
///
/// fn explain(err: &StartError) -> HttpResponse {
///     match err.error() {
///         Error::InvalidOrder(invalid) => HttpResponse::BadRequest().body(invalid.to_string()),
///         _ => err.error_response(),
///     }
/// }
/// ```
#[derive(Debug)]
pub struct StartError {
    error: Error,
}

impl StartError {
    /// What went wrong.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// Takes what went wrong.
    pub fn into_error(self) -> Error {
        self.error
    }
}

impl From<Error> for StartError {
    fn from(error: Error) -> Self {
        Self { error }
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

impl ResponseError for StartError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        glue::html(self.status_code(), self.error.buyer_page(), &[])
    }
}
