//! The [`PaymentCallback`] extractor, its [`PaymentRejection`], and [`CallbackCookies`].

use std::{
    convert::Infallible,
    fmt,
    ops::Deref,
    sync::{Arc, Mutex, PoisonError},
};

use axum::{
    extract::{FromRef, FromRequest, FromRequestParts, Request},
    http::request::Parts,
    response::{AppendHeaders, IntoResponse, IntoResponseParts, Response, ResponseParts},
};
use payment_core::{
    Payments,
    adapter::{Gateway, GatewayReceipt},
    reply::{ReplyParts, StateCookie, Unpaid},
};

use crate::render;

/// An extractor for a handler on your own callback route: it runs the whole callback
/// pipeline for gateway `P` (state cookie, signature, expiry, order and amount checks,
/// replay guard, verify with the state's amount) and yields the verified [`Receipt`](payment_core::Receipt).
///
/// Anything but a verified payment is a [`PaymentRejection`], which renders itself (a
/// readable Persian and English page with the right status). Take
/// `Result<PaymentCallback<P>, PaymentRejection>` to render failures yourself.
///
/// **Configuration** comes from the router's state: [`Payments`] must be
/// [`FromRef`] of it (a `Router<Payments>` works as is; for your own state type implement
/// `FromRef<AppState> for Payments`, cloning it is cheap).
///
/// **The route** must be the callback path given to gateways,
/// [`Payments::callback_path`] (e.g. `/pay/callback/novinpal`), with `GET` and `POST`;
/// at any other path, or for a gateway that is not configured, the extractor refuses with
/// [`Rejection::Misconfigured`](payment_core::Rejection::Misconfigured) (500) and an
/// error is logged, so a wrong route cannot go unnoticed. Put the extractor last among
/// the handler's arguments (it reads the body).
///
/// **Cookies.** An extractor cannot set response headers, so the removal of the used
/// state cookie is not sent unless you ask for it: add a [`CallbackCookies`] argument
/// *before* this one and return it as a response part. A left-over state cookie is
/// harmless: it only reaches the callback routes, expires with the state (30 minutes by
/// default), and the replay guard refuses a second use of the payment it names.
///
/// ```
/// use axum::{Router, response::Html, routing::get};
/// use payment_axum::{CallbackCookies, PaymentCallback};
/// use payment_axum::payment_core::{Payments, adapter::Gateway};
///
/// async fn paid<P: Gateway>(
///     cookies: CallbackCookies,
///     PaymentCallback(receipt): PaymentCallback<P>,
/// ) -> (CallbackCookies, Html<String>) {
///     // Fulfil the order here: the receipt is only ever built from a verified payment.
///     let page = format!("order {} paid: {} rial", receipt.order_id(), receipt.amount().get());
///     (cookies, Html(page))
/// }
///
/// fn routes<P: Gateway>(payments: &Payments) -> Router<Payments> {
///     let path = payments.callback_path(P::ID);
///     Router::new().route(&path, get(paid::<P>).post(paid::<P>))
/// }
/// ```
///
/// With a concrete gateway it reads `async fn paid(PaymentCallback(receipt):
/// PaymentCallback<NovinPal>)`. To render failures yourself:
///
/// ```
/// use axum::response::{Html, IntoResponse, Response};
/// use payment_axum::{PaymentCallback, PaymentRejection};
/// use payment_axum::payment_core::{NotPaid, adapter::Gateway};
///
/// async fn paid<P: Gateway>(callback: Result<PaymentCallback<P>, PaymentRejection>) -> Response {
///     let rejection = match callback {
///         Ok(PaymentCallback(receipt)) => {
///             return Html(format!("thanks for {}", receipt.order_id())).into_response();
///         }
///         Err(rejection) => rejection,
///     };
///     match rejection.not_paid() {
///         NotPaid::Pending(payment) => {
///             // store `payment` and retry it later with `Payments::retry`
///             Html(format!("checking order {}", payment.order_id)).into_response()
///         }
///         // The library's own answer for the rest; always for the re-post page, which
///         // recovers the state cookie a browser withholds on a cross-site POST.
///         _ => rejection.into_response(),
///     }
/// }
/// ```
#[derive(Debug)]
pub struct PaymentCallback<P: Gateway>(pub <P as GatewayReceipt>::Receipt);

impl<S, P> FromRequest<S> for PaymentCallback<P>
where
    S: Send + Sync,
    P: Gateway,
    Payments: FromRef<S>,
{
    type Rejection = PaymentRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, PaymentRejection> {
        let payments = Payments::from_ref(state);
        let slot = request.extensions().get::<CallbackCookies>().cloned();
        let result = render::callback(&payments, Some(P::ID), request).await;
        let (receipt, parts) = result.into_receipt().map_err(|unpaid| {
            if let Some(slot) = &slot {
                slot.fill(unpaid.reply_parts());
            }
            PaymentRejection(unpaid)
        })?;
        if let Some(slot) = slot {
            slot.fill(parts);
        }
        Ok(PaymentCallback(receipt))
    }
}

/// Why [`PaymentCallback`] yielded no receipt: the payment failed, is pending, the
/// callback was refused, or the request must be re-posted from the shop's own origin
/// ([`Unpaid::not_paid`] says which).
///
/// It renders itself ([`IntoResponse`]): the library's page, its status
/// ([`Unpaid::http_status`]), the cookies to set, and `Cache-Control: no-store`. If you
/// render it yourself, answer
/// [`NotPaid::Resubmit`](payment_core::NotPaid::Resubmit) with its own response anyway.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PaymentRejection(pub Unpaid);

impl Deref for PaymentRejection {
    type Target = Unpaid;

    fn deref(&self) -> &Unpaid {
        &self.0
    }
}

impl IntoResponse for PaymentRejection {
    fn into_response(self) -> Response {
        render::reply(self.0.reply())
    }
}

/// The state cookies a [`PaymentCallback`] in the same handler wants set or removed, as a
/// response part (with `Cache-Control: no-store` unless the response sets its own).
///
/// Take it as an argument *before* the `PaymentCallback` (extractors run in order), and
/// return it as the first element of a response tuple. It is filled whatever the outcome,
/// so it also works with `Result<PaymentCallback<P>, PaymentRejection>`.
///
/// ```
/// use axum::response::IntoResponse;
/// use payment_axum::{CallbackCookies, PaymentCallback, payment_core::adapter::Gateway};
///
/// async fn paid<P: Gateway>(
///     cookies: CallbackCookies,
///     PaymentCallback(receipt): PaymentCallback<P>,
/// ) -> impl IntoResponse {
///     (cookies, format!("paid: {}", receipt.order_id()))
/// }
/// ```
#[derive(Clone, Default)]
pub struct CallbackCookies {
    slot: Arc<Mutex<ReplyParts>>,
}

impl CallbackCookies {
    fn fill(&self, parts: ReplyParts) {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = parts;
    }

    fn parts(&self) -> ReplyParts {
        self.slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The cookies, as filled by the `PaymentCallback` of the same request (none before
    /// it ran).
    pub fn cookies(&self) -> Vec<StateCookie> {
        self.parts().cookies().to_vec()
    }
}

impl fmt::Debug for CallbackCookies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CallbackCookies")
            .field(&self.cookies())
            .finish()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CallbackCookies {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        let cookies = CallbackCookies::default();
        parts.extensions.insert(cookies.clone());
        Ok(cookies)
    }
}

impl IntoResponseParts for CallbackCookies {
    type Error = <AppendHeaders<Vec<(&'static str, String)>> as IntoResponseParts>::Error;

    fn into_response_parts(self, res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        render::headers(res.headers(), &self.parts()).into_response_parts(res)
    }
}
