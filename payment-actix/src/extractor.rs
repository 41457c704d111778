//! The [`PaymentCallback`] extractor, its [`PaymentRejection`], and [`CallbackCookies`].

use std::{
    fmt,
    future::Future,
    ops::Deref,
    pin::Pin,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
};

use actix_web::{
    FromRequest, HttpMessage, HttpRequest, HttpResponse, Responder, ResponseError, dev,
    http::StatusCode, web,
};
use payment_core::{
    Payments, Rejection,
    adapter::{Gateway, GatewayReceipt},
    reply::{CallbackResult, ReplyParts, StateCookie, Unpaid},
};

use crate::render;

/// A verified payment at gateway `P`: the extractor for a handler at that gateway's
/// callback path ([`Payments::callback_path`](payment_core::Payments::callback_path), e.g.
/// `/pay/callback/novinpal`; route both `GET` and `POST` to it).
///
/// It reads the callback (the query of a `GET`, the form body of a `POST`, at most
/// [`CallbackRequest::MAX_BODY`](payment_core::CallbackRequest::MAX_BODY) bytes) and the
/// `Cookie` header, then runs the core pipeline: it finds the signed order state the
/// callback belongs to, checks signature, expiry, order and amount, claims the payment
/// once in the replay guard, verifies it with the gateway for the **state's** amount, and
/// only then yields the [`Receipt`](payment_core::Receipt). Everything else is a [`PaymentRejection`], which
/// answers for itself (status and a Persian/English page); take
/// `Result<PaymentCallback<P>, PaymentRejection>` to render failures yourself.
///
/// **Configuration** comes from the app data: `web::Data<Payments>` (from an
/// `Arc<Payments>`: `web::Data::from(arc)`) or a plain `Payments` (cheap to clone). If none
/// is registered, the gateway is not configured, or the handler is not at a configured
/// callback path of `P`, the rejection is [`Rejection::Misconfigured`] (500) and an error
/// is logged: a wrong route must not go unnoticed, since the gateway is sent to the
/// configured one.
///
/// **Cookies.** An extractor cannot set response headers, so the removal of the used state
/// cookie is only sent if you ask for it: add a [`CallbackCookies`] argument and pass your
/// response through [`CallbackCookies::attach`]. A left-over state cookie is harmless: it
/// only reaches the callback routes, expires with the state (30 minutes by default), and
/// the replay guard refuses a second use of the payment it names.
///
/// ```no_run
/// use actix_web::{App, HttpResponse, HttpServer, Responder, web};
/// use payment_actix::{CallbackCookies, PaymentCallback, payment_core::{GatewayId, NovinPal, Payments}};
///
/// async fn paid(
///     cookies: CallbackCookies,
///     PaymentCallback(receipt): PaymentCallback<NovinPal>,
/// ) -> impl Responder {
///     // Fulfil receipt.order_id() here: a receipt only ever comes from a verified payment,
///     // once. receipt.gateway_ref() is unique per payment.
///     let page = format!("paid order {} ({} rial)", receipt.order_id(), receipt.amount().get());
///     cookies.attach(HttpResponse::Ok().body(page))
/// }
///
/// # async fn run(payments: Payments) -> std::io::Result<()> {
/// let path = payments.callback_path(GatewayId::NovinPal);
/// HttpServer::new(move || {
///     App::new()
///         .app_data(web::Data::new(payments.clone()))
///         .route(&path, web::get().to(paid))
///         .route(&path, web::post().to(paid))
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await
/// # }
/// ```
#[derive(Debug)]
pub struct PaymentCallback<P: Gateway>(pub <P as GatewayReceipt>::Receipt);

impl<P: Gateway> FromRequest for PaymentCallback<P> {
    type Error = PaymentRejection;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PaymentRejection>>>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        let slot = CallbackCookies::of(&req);
        Box::pin(async move {
            let result = match payments_of(&req) {
                Some(payments) => render::callback(&payments, Some(P::ID), &req, payload).await,
                None => {
                    if !NOT_REGISTERED_LOGGED.swap(true, Ordering::Relaxed) {
                        tracing::error!(
                            "PaymentCallback needs the payment configuration in the app \
                             data: `App::new().app_data(web::Data::new(payments))`"
                        );
                    }
                    CallbackResult::rejected(Rejection::Misconfigured(
                        "no web::Data<Payments> registered".to_owned(),
                    ))
                }
            };
            match result.into_receipt() {
                Ok((receipt, parts)) => {
                    slot.fill(parts);
                    Ok(PaymentCallback(receipt))
                }
                Err(unpaid) => {
                    slot.fill(unpaid.reply_parts());
                    Err(PaymentRejection(unpaid))
                }
            }
        })
    }
}

/// An extractor without a configuration is logged once.
static NOT_REGISTERED_LOGGED: AtomicBool = AtomicBool::new(false);

/// The configuration registered on the app: `web::Data<Payments>` or a plain `Payments`.
fn payments_of(req: &HttpRequest) -> Option<Payments> {
    req.app_data::<web::Data<Payments>>()
        .map(|data| data.get_ref().clone())
        .or_else(|| req.app_data::<Payments>().cloned())
}

/// Why [`PaymentCallback`] yielded no receipt: the payment failed, is pending, the
/// callback was refused, or the request must be re-posted from the shop's own origin
/// ([`Unpaid::not_paid`] says which).
///
/// As a [`ResponseError`] it answers with the library's page, its status
/// ([`Unpaid::http_status`]), the cookies to set and `Cache-Control: no-store`. Apps that
/// render failures themselves take `Result<PaymentCallback<P>, PaymentRejection>`:
///
/// ```
/// use actix_web::{HttpResponse, ResponseError};
/// use payment_actix::{PaymentCallback, PaymentRejection};
/// use payment_actix::payment_core::{NotPaid, adapter::Gateway};
///
/// async fn callback<P: Gateway>(
///     callback: Result<PaymentCallback<P>, PaymentRejection>,
/// ) -> HttpResponse {
///     let rejection = match callback {
///         Ok(PaymentCallback(receipt)) => {
///             return HttpResponse::Ok().body(format!("paid {}", receipt.order_id()));
///         }
///         Err(rejection) => rejection,
///     };
///     match rejection.not_paid() {
///         NotPaid::Pending(pending) => {
///             // store `pending` and retry it later with `Payments::retry`
///             HttpResponse::Accepted().body(format!("checking order {}", pending.order_id))
///         }
///         // The library's own answer for the rest; always for the re-post page, which
///         // recovers the state cookie a browser withholds on a cross-site POST.
///         _ => rejection.error_response(),
///     }
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PaymentRejection(pub Unpaid);

impl ResponseError for PaymentRejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        render::reply(self.0.reply())
    }
}

impl Deref for PaymentRejection {
    type Target = Unpaid;

    fn deref(&self) -> &Unpaid {
        &self.0
    }
}

/// The cookies a [`PaymentCallback`] (or a rejection of it) wants set on the response: the
/// removal of the used order state, and of any stale or forged state that came along.
///
/// Take it as a handler argument next to the `PaymentCallback` (in either order); by the
/// time the handler runs it holds the cookies, and [`attach`](Self::attach) adds them (and
/// `Cache-Control: no-store`, unless the response sets its own) to your response.
///
/// ```
/// use actix_web::{HttpResponse, Responder};
/// use payment_actix::{CallbackCookies, PaymentCallback, payment_core::adapter::Gateway};
///
/// async fn paid<P: Gateway>(
///     cookies: CallbackCookies,
///     PaymentCallback(receipt): PaymentCallback<P>,
/// ) -> impl Responder {
///     cookies.attach(
///         HttpResponse::SeeOther()
///             .insert_header(("Location", format!("/orders/{}", receipt.order_id())))
///             .finish(),
///     )
/// }
/// ```
#[derive(Clone, Default)]
pub struct CallbackCookies {
    slot: Arc<Mutex<ReplyParts>>,
}

impl CallbackCookies {
    /// The request's slot, shared by this extractor and `PaymentCallback` whichever runs
    /// first.
    fn of(req: &HttpRequest) -> CallbackCookies {
        if let Some(existing) = req.extensions().get::<CallbackCookies>() {
            return existing.clone();
        }
        let slot = CallbackCookies::default();
        req.extensions_mut().insert(slot.clone());
        slot
    }

    fn fill(&self, parts: ReplyParts) {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = parts;
    }

    fn parts(&self) -> ReplyParts {
        let parts = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        parts.clone()
    }

    /// The cookies, as filled by the `PaymentCallback` of the same request (none if there
    /// is none).
    pub fn cookies(&self) -> Vec<StateCookie> {
        self.parts().cookies().to_vec()
    }

    /// Wraps your response so that it also sets the cookies.
    pub fn attach<R: Responder>(&self, responder: R) -> WithCookies<R> {
        WithCookies {
            inner: responder,
            parts: self.parts(),
        }
    }
}

impl fmt::Debug for CallbackCookies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CallbackCookies")
            .field(&self.cookies())
            .finish()
    }
}

impl FromRequest for CallbackCookies {
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut dev::Payload) -> Self::Future {
        std::future::ready(Ok(CallbackCookies::of(req)))
    }
}

/// A response with the payment's `Set-Cookie` headers added; see
/// [`CallbackCookies::attach`].
#[derive(Debug)]
pub struct WithCookies<R> {
    inner: R,
    parts: ReplyParts,
}

impl<R: Responder> Responder for WithCookies<R> {
    type Body = R::Body;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse<Self::Body> {
        let mut response = self.inner.respond_to(req);
        render::append_parts(response.headers_mut(), &self.parts);
        response
    }
}
