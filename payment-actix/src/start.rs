//! Starting a payment from any handler: [`start`], [`StartResponse`] and [`StartError`].

use std::ops::Deref;

use actix_web::{
    HttpRequest, HttpResponse, Responder, ResponseError, body::BoxBody, http::StatusCode,
};
use payment_core::{AccountId, Error, Order, Payments, StartedPayment};

use crate::render;

/// Creates the payment at `account` (a gateway, for its default account) and returns the
/// response that sends the buyer there with the signed order-state cookie.
///
/// Decide the order's amount on the server: verify uses it.
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
    account: impl Into<AccountId>,
    order: &Order,
) -> Result<StartResponse, StartError> {
    let started = payments.start(account, order).await?;
    Ok(StartResponse(started))
}

/// A started payment, as a response ([`StartedPayment::reply`]): `302 Found` to the
/// gateway for a `GET` redirect, or `200` with an auto-submitting form for a gateway that
/// takes a `POST` (Inopal); with the order-state `Set-Cookie` and `Cache-Control:
/// no-store`.
#[derive(Debug, Clone)]
pub struct StartResponse(pub StartedPayment);

impl StartResponse {
    /// The response (the same as [`Responder::respond_to`], which needs no request here).
    pub fn into_response(self) -> HttpResponse {
        render::reply(self.0.reply())
    }
}

impl Deref for StartResponse {
    type Target = StartedPayment;

    fn deref(&self) -> &StartedPayment {
        &self.0
    }
}

impl Responder for StartResponse {
    type Body = BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        self.into_response()
    }
}

/// A payment that could not be started. As a [`ResponseError`] it answers with
/// [`Error::reply`]: a readable Persian/English page with 422 for an order outside the
/// gateway's limits, 502 for a refusal or an unusable answer, 504 for a timeout, 500 for
/// configuration problems.
///
/// ```
/// use actix_web::{HttpResponse, ResponseError};
/// use payment_actix::{StartError, payment_core::Error};
///
/// fn explain(err: &StartError) -> HttpResponse {
///     match &err.0 {
///         Error::InvalidOrder(invalid) => HttpResponse::BadRequest().body(invalid.to_string()),
///         _ => err.error_response(),
///     }
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[error("payment could not be started: {0}")]
pub struct StartError(#[from] pub Error);

impl ResponseError for StartError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        render::reply(self.0.reply())
    }
}

impl Deref for StartError {
    type Target = Error;

    fn deref(&self) -> &Error {
        &self.0
    }
}
