//! The [`PaymentCallback`] extractor, its [`PaymentRejection`], and [`CallbackCookies`].

use std::{
    fmt,
    future::Future,
    ops::Deref,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError, atomic::AtomicBool},
};

use actix_web::{
    FromRequest, HttpMessage, HttpRequest, HttpResponse, Responder, ResponseError, dev,
    http::StatusCode,
};
use payment_core::{
    FailedPayment, Gateway, Outcome, PendingPayment, Receipt, Rejection, ResubmitForm, StateCookie,
};

use crate::glue;

static NOT_REGISTERED_LOGGED: AtomicBool = AtomicBool::new(false);
static MISMOUNTED_LOGGED: AtomicBool = AtomicBool::new(false);
static NOT_CONFIGURED_LOGGED: AtomicBool = AtomicBool::new(false);

/// Names the type [`PaymentCallback`] holds. It is implemented for every [`Gateway`] and its
/// `Receipt` is always [`payment_core::Receipt`]; it exists only so that
/// `PaymentCallback<P>` can be a one-field tuple struct that is still generic over the
/// gateway, which lets handlers write `PaymentCallback(receipt): PaymentCallback<P>`.
pub trait CallbackGateway: Gateway {
    /// Always [`payment_core::Receipt`].
    type Receipt;
}

impl<G: Gateway> CallbackGateway for G {
    type Receipt = Receipt;
}

/// A verified payment at gateway `P`: the extractor for a handler at that gateway's
/// callback path ([`Payments::callback_path`](payment_core::Payments::callback_path), e.g.
/// `/pay/callback/novinpal`; route both `GET` and `POST` to it).
///
/// It reads the callback (the query of a `GET`, the form body of a `POST`, at most
/// [`MAX_CALLBACK_BODY`](crate::MAX_CALLBACK_BODY) bytes) and the `Cookie` header, then runs
/// the core pipeline: it finds the signed order state the callback belongs to, checks
/// signature, expiry, order and amount, claims the payment once in the replay guard,
/// verifies it with the gateway for the **state's** amount, and only then yields the
/// [`Receipt`]. Everything else is a [`PaymentRejection`], which answers for itself (status
/// and a Persian/English page); take `Result<PaymentCallback<P>, PaymentRejection>` to
/// render failures yourself.
///
/// **Configuration** comes from the app data: `web::Data<Payments>` (from an
/// `Arc<Payments>`: `web::Data::from(arc)`) or a plain `Payments` (cheap to clone). If none
/// is registered, the gateway is not configured, or the handler is not at the configured
/// callback path, the rejection is [`Rejection::Misconfigured`] (500) and an error is
/// logged once: a wrong route must not go unnoticed, since the gateway is sent to the
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
pub struct PaymentCallback<P: Gateway>(pub <P as CallbackGateway>::Receipt);

impl<P: Gateway> PaymentCallback<P> {
    /// The verified receipt.
    pub fn receipt(&self) -> &Receipt {
        &self.0
    }

    /// Takes the verified receipt.
    pub fn into_receipt(self) -> Receipt {
        self.0
    }
}

impl<P: Gateway> Deref for PaymentCallback<P> {
    type Target = Receipt;

    fn deref(&self) -> &Receipt {
        &self.0
    }
}

impl<P: Gateway> Clone for PaymentCallback<P> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<P: Gateway> fmt::Debug for PaymentCallback<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PaymentCallback").field(&self.0).finish()
    }
}

impl<P: Gateway> FromRequest for PaymentCallback<P> {
    type Error = PaymentRejection;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PaymentRejection>>>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        let slot = CallbackCookies::slot(&req);
        Box::pin(async move {
            let result = run::<P>(&req, payload).await;
            slot.fill(result.cookies.clone());
            match result.outcome {
                Outcome::Paid(receipt) => Ok(PaymentCallback(receipt)),
                other => Err(PaymentRejection::new(
                    NotPaid::from_outcome(other),
                    result.cookies,
                )),
            }
        })
    }
}

async fn run<P: Gateway>(req: &HttpRequest, payload: dev::Payload) -> payment_core::CallbackResult {
    let refuse = |rejection| payment_core::CallbackResult {
        outcome: Outcome::Rejected(rejection),
        cookies: Vec::new(),
    };
    let Some(payments) = glue::payments_from(req) else {
        return refuse(glue::not_registered(&NOT_REGISTERED_LOGGED));
    };
    if !payments.has_gateway(P::ID) {
        return refuse(glue::not_configured(&NOT_CONFIGURED_LOGGED, P::ID));
    }
    if !payments.is_callback_path(P::ID, req.path()) {
        let expected = payments.callback_path(P::ID);
        return refuse(glue::misconfigured(
            &MISMOUNTED_LOGGED,
            req.path(),
            &expected,
        ));
    }
    glue::process(&payments, P::ID, req, payload).await
}

/// The cookies a [`PaymentCallback`] (or a rejection of it) wants set on the response: the
/// removal of the used order state, and of any stale or forged state that came along.
///
/// Take it as a handler argument next to the `PaymentCallback` (in either order); by the
/// time the handler runs it holds the cookies, and [`attach`](Self::attach) adds them to
/// your response. (A [`PaymentRejection`] carries its cookies itself.)
///
/// ```
/// use actix_web::{HttpResponse, Responder};
/// use payment_actix::{CallbackCookies, PaymentCallback, payment_core::Gateway};
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
    slot: Arc<Mutex<Vec<StateCookie>>>,
}

impl CallbackCookies {
    /// The request's slot, shared by this extractor and `PaymentCallback` whichever runs
    /// first.
    fn slot(req: &HttpRequest) -> CallbackCookies {
        if let Some(existing) = req.extensions().get::<CallbackCookies>() {
            return existing.clone();
        }
        let slot = CallbackCookies::default();
        req.extensions_mut().insert(slot.clone());
        slot
    }

    fn fill(&self, cookies: Vec<StateCookie>) {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = cookies;
    }

    /// The cookies, as filled by the `PaymentCallback` of the same request (empty if there
    /// is none).
    pub fn cookies(&self) -> Vec<StateCookie> {
        self.slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Wraps your response so that it also sets the cookies.
    pub fn attach<R: Responder>(&self, responder: R) -> WithCookies<R> {
        WithCookies::new(responder, self.cookies())
    }

    /// Adds the cookies to a response as `Set-Cookie` headers.
    pub fn set_on<B>(&self, response: &mut HttpResponse<B>) {
        glue::add_cookies(response.headers_mut(), &self.cookies());
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
        std::future::ready(Ok(CallbackCookies::slot(req)))
    }
}

/// Why a callback did not yield a receipt: everything but "paid".
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum NotPaid {
    /// The buyer cancelled or the bank or gateway declined: the order is not paid.
    Failed(FailedPayment),
    /// Verify could not finish: the buyer may have paid. Store the [`PendingPayment`] and
    /// pass it to [`Payments::retry`](payment_core::Payments::retry) later.
    Pending(PendingPayment),
    /// The callback was refused (forged, tampered, replayed, mismatched, expired or missing
    /// state, or a misconfigured app).
    Rejected(Rejection),
    /// A cross-site `POST` came without its state cookie (browsers withhold `SameSite=Lax`
    /// cookies on those): the answer is a page that posts the same fields again from our
    /// own origin, so the cookie comes along. Always answer it with the rejection's own
    /// response.
    Resubmit(ResubmitForm),
}

impl NotPaid {
    fn from_outcome(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Failed(f) => NotPaid::Failed(f),
            Outcome::Pending(p) => NotPaid::Pending(p),
            Outcome::Rejected(r) => NotPaid::Rejected(r),
            Outcome::Resubmit(form) => NotPaid::Resubmit(form),
            other => NotPaid::Rejected(Rejection::Misconfigured(format!(
                "unexpected callback outcome `{}`",
                other.kind()
            ))),
        }
    }

    /// The same as a core [`Outcome`].
    pub fn into_outcome(self) -> Outcome {
        match self {
            NotPaid::Failed(f) => Outcome::Failed(f),
            NotPaid::Pending(p) => Outcome::Pending(p),
            NotPaid::Rejected(r) => Outcome::Rejected(r),
            NotPaid::Resubmit(form) => Outcome::Resubmit(form),
        }
    }
}

/// A callback that did not yield a receipt, with the cookies to set on the answer.
///
/// As a [`ResponseError`] it answers with the outcome's status (402 failed, 202 pending,
/// 400/403/404/409/410/500 rejected, 200 for the re-post page), the core's Persian/English
/// page (`text/html`, `Cache-Control: no-store`) and the `Set-Cookie` headers. Apps that
/// render failures themselves take `Result<PaymentCallback<P>, PaymentRejection>`:
///
/// ```
/// use actix_web::{HttpResponse, ResponseError};
/// use payment_actix::{NotPaid, PaymentCallback, PaymentRejection, payment_core::Gateway};
///
/// async fn callback<P: Gateway>(
///     cb: Result<PaymentCallback<P>, PaymentRejection>,
/// ) -> HttpResponse {
///     match cb {
///         Ok(PaymentCallback(receipt)) => {
///             HttpResponse::Ok().body(format!("paid {}", receipt.order_id()))
///         }
///         Err(rejection) => match rejection.kind() {
///             NotPaid::Failed(failed) => {
///                 let mut page = HttpResponse::PaymentRequired()
///                     .body(format!("order {} was not paid", failed.order_id));
///                 rejection.set_on(&mut page);
///                 page
///             }
///             NotPaid::Pending(pending) => {
///                 // store `pending` and retry it later with `Payments::retry`
///                 HttpResponse::Accepted().body(format!("checking order {}", pending.order_id))
///             }
///             // Always answer the re-post with its own page: it recovers the state cookie
///             // a browser withholds on a cross-site POST. Refusals: the default answer.
///             _ => rejection.error_response(),
///         },
///     }
/// }
/// ```
pub struct PaymentRejection {
    kind: NotPaid,
    cookies: Vec<StateCookie>,
}

impl PaymentRejection {
    /// A rejection from its parts (the extractor builds these; apps rarely need to).
    pub fn new(kind: NotPaid, cookies: Vec<StateCookie>) -> Self {
        Self { kind, cookies }
    }

    /// What happened.
    pub fn kind(&self) -> &NotPaid {
        &self.kind
    }

    /// Takes what happened.
    pub fn into_kind(self) -> NotPaid {
        self.kind
    }

    /// The cookies to set on the answer (removals of used or invalid order states).
    pub fn cookies(&self) -> &[StateCookie] {
        &self.cookies
    }

    /// The failed payment, if that is what happened.
    pub fn failed(&self) -> Option<&FailedPayment> {
        match &self.kind {
            NotPaid::Failed(f) => Some(f),
            _ => None,
        }
    }

    /// The pending payment, if that is what happened.
    pub fn pending(&self) -> Option<&PendingPayment> {
        match &self.kind {
            NotPaid::Pending(p) => Some(p),
            _ => None,
        }
    }

    /// The refusal, if the callback was refused.
    pub fn rejection(&self) -> Option<&Rejection> {
        match &self.kind {
            NotPaid::Rejected(r) => Some(r),
            _ => None,
        }
    }

    /// Whether the answer must be the same-origin re-post page.
    pub fn is_resubmit(&self) -> bool {
        matches!(self.kind, NotPaid::Resubmit(_))
    }

    /// The status of the default answer.
    pub fn status(&self) -> StatusCode {
        glue::status(self.outcome().http_status())
    }

    /// The default page: Persian and English, or the re-post page.
    pub fn default_page(&self) -> String {
        self.outcome().default_page()
    }

    /// Wraps your response so that it also sets [`cookies`](Self::cookies).
    pub fn attach<R: Responder>(&self, responder: R) -> WithCookies<R> {
        WithCookies::new(responder, self.cookies.clone())
    }

    /// Adds [`cookies`](Self::cookies) to a response as `Set-Cookie` headers.
    pub fn set_on<B>(&self, response: &mut HttpResponse<B>) {
        glue::add_cookies(response.headers_mut(), &self.cookies);
    }

    fn outcome(&self) -> Outcome {
        self.kind.clone().into_outcome()
    }
}

impl fmt::Debug for PaymentRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The pending payment holds the signed state; the kind is what matters here.
        let kind = match &self.kind {
            NotPaid::Failed(failed) => format!("Failed({:?})", failed.reason),
            NotPaid::Pending(pending) => format!("Pending({:?})", pending.reason),
            NotPaid::Rejected(rejection) => format!("Rejected({rejection:?})"),
            NotPaid::Resubmit(form) => format!("Resubmit({})", form.action),
        };
        f.debug_struct("PaymentRejection")
            .field("kind", &kind)
            .field("cookies", &self.cookies)
            .finish()
    }
}

impl fmt::Display for PaymentRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            NotPaid::Failed(failed) => {
                write!(
                    f,
                    "payment for order {} failed: {}",
                    failed.order_id,
                    failed.reason.english()
                )
            }
            NotPaid::Pending(pending) => {
                write!(f, "payment for order {} is pending", pending.order_id)
            }
            NotPaid::Rejected(rejection) => {
                write!(f, "payment callback refused: {}", rejection.english())
            }
            NotPaid::Resubmit(_) => {
                f.write_str("payment callback must be re-posted from our own origin")
            }
        }
    }
}

impl std::error::Error for PaymentRejection {}

impl ResponseError for PaymentRejection {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        glue::default_response(&self.outcome(), &self.cookies)
    }
}

/// A response with the payment's `Set-Cookie` headers added; see
/// [`CallbackCookies::attach`] and [`PaymentRejection::attach`].
#[derive(Debug)]
pub struct WithCookies<R> {
    inner: R,
    cookies: Vec<StateCookie>,
}

impl<R> WithCookies<R> {
    fn new(inner: R, cookies: Vec<StateCookie>) -> Self {
        Self { inner, cookies }
    }
}

impl<R: Responder> Responder for WithCookies<R> {
    type Body = R::Body;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse<Self::Body> {
        let mut response = self.inner.respond_to(req);
        glue::add_cookies(response.headers_mut(), &self.cookies);
        response
    }
}
