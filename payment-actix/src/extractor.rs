//! The [`PaymentCallback`] extractor and its [`PaymentRejection`].

use std::{
    fmt, future::Future, marker::PhantomData, ops::Deref, pin::Pin, sync::atomic::AtomicBool,
};

use actix_web::{
    FromRequest, HttpRequest, HttpResponse, Responder, ResponseError, dev, http::StatusCode,
};
use payment_core::{
    FailedPayment, Gateway, Outcome, PendingPayment, Receipt, Rejection, ResubmitForm, StateCookie,
};

use crate::glue;

static NOT_REGISTERED_LOGGED: AtomicBool = AtomicBool::new(false);
static MISMOUNTED_LOGGED: AtomicBool = AtomicBool::new(false);

/// A verified payment at gateway `P`: the extractor for a handler at that gateway's
/// callback path (`payments.callback_path(P::ID)`, e.g. `/pay/callback/novinpal`).
///
/// It reads the callback (the query of a `GET`, the form body of a `POST`, at most 64 KiB),
/// finds the signed order-state cookie it belongs to, verifies the payment with the
/// gateway for the **state's** amount, claims it once in the replay guard, and only then
/// yields the [`Receipt`]. Everything else is a [`PaymentRejection`], which answers for
/// itself (status and a Persian/English page); take `Result<PaymentCallback<P>,
/// PaymentRejection>` to render failures yourself.
///
/// The configuration comes from the app data: `web::Data<Payments>` (or a plain
/// `Payments`, which is cheap to clone). If neither is registered, or the handler is not at
/// the configured callback path, the rejection is [`Rejection::Misconfigured`] (500) and an
/// error is logged once.
///
/// Holding one means "paid, once": a replayed callback is refused with
/// [`Rejection::Replay`]. The used state cookie should be removed; the extractor cannot
/// touch the response, so [`PaymentCallback::with_cookies`] adds the removal to yours. A
/// left-over cookie is harmless (the replay guard refuses it, and it expires), but removing
/// it keeps the browser tidy.
///
/// This is a struct with a public `receipt` field rather than a one-field tuple because it
/// also carries the gateway type and the cookies; it dereferences to the [`Receipt`].
///
/// ```no_run
/// use actix_web::{App, HttpResponse, HttpServer, Responder, web};
/// use payment_actix::{PaymentCallback, payment_core::{NovinPal, Payments}};
///
/// async fn paid(cb: PaymentCallback<NovinPal>) -> impl Responder {
///     // Fulfil `cb.order_id()` here; `cb.gateway_ref()` is unique per payment.
///     let body = format!("paid order {} ({} rial)", cb.order_id(), cb.amount().get());
///     cb.with_cookies(HttpResponse::Ok().body(body))
/// }
///
/// # async fn run(payments: Payments) -> std::io::Result<()> {
/// let path = payments.callback_path(payment_actix::payment_core::GatewayId::NovinPal);
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
pub struct PaymentCallback<P: Gateway> {
    /// The verified payment.
    pub receipt: Receipt,
    cookies: Vec<StateCookie>,
    gateway: PhantomData<fn() -> P>,
}

impl<P: Gateway> PaymentCallback<P> {
    /// The verified payment.
    pub fn receipt(&self) -> &Receipt {
        &self.receipt
    }

    /// Takes the receipt (dropping the cookie removals).
    pub fn into_receipt(self) -> Receipt {
        self.receipt
    }

    /// The cookies to set on the response: the removal of the used order state (and of any
    /// stale state that came along).
    pub fn cookies(&self) -> &[StateCookie] {
        &self.cookies
    }

    /// Wraps your response so that it also sets [`cookies`](Self::cookies).
    ///
    /// ```
    /// # use actix_web::{HttpResponse, Responder};
    /// # use payment_actix::{PaymentCallback, payment_core::Gateway};
    /// async fn paid<P: Gateway>(cb: PaymentCallback<P>) -> impl Responder {
    ///     let order = cb.order_id().to_string();
    ///     cb.with_cookies(HttpResponse::SeeOther()
    ///         .insert_header(("Location", format!("/orders/{order}")))
    ///         .finish())
    /// }
    /// ```
    pub fn with_cookies<R: Responder>(&self, responder: R) -> WithCookies<R> {
        WithCookies::new(responder, self.cookies.clone())
    }

    /// Adds [`cookies`](Self::cookies) to a response as `Set-Cookie` headers.
    pub fn set_cookies<B>(&self, response: &mut HttpResponse<B>) {
        glue::add_cookies(response.headers_mut(), &self.cookies);
    }
}

impl<P: Gateway> Deref for PaymentCallback<P> {
    type Target = Receipt;

    fn deref(&self) -> &Receipt {
        &self.receipt
    }
}

impl<P: Gateway> fmt::Debug for PaymentCallback<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentCallback")
            .field("gateway", &P::ID)
            .field("receipt", &self.receipt)
            .field("cookies", &self.cookies)
            .finish()
    }
}

impl<P: Gateway> FromRequest for PaymentCallback<P> {
    type Error = PaymentRejection;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PaymentRejection>>>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let Some(payments) = glue::payments_from(&req) else {
                let rejection = glue::not_registered(&NOT_REGISTERED_LOGGED);
                return Err(PaymentRejection::new(
                    NotPaid::Rejected(rejection),
                    Vec::new(),
                ));
            };
            if !glue::path_is_configured(&payments, P::ID, req.path()) {
                let expected = payments.callback_path(P::ID);
                let rejection = glue::misconfigured(&MISMOUNTED_LOGGED, req.path(), &expected);
                return Err(PaymentRejection::new(
                    NotPaid::Rejected(rejection),
                    Vec::new(),
                ));
            }
            let result = glue::process(&payments, P::ID, &req, payload).await;
            match result.outcome {
                Outcome::Paid(receipt) => Ok(PaymentCallback {
                    receipt,
                    cookies: result.cookies,
                    gateway: PhantomData,
                }),
                other => Err(PaymentRejection::new(
                    NotPaid::from_outcome(other),
                    result.cookies,
                )),
            }
        })
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
///         Ok(cb) => HttpResponse::Ok().body(format!("paid {}", cb.order_id())),
///         Err(rejection) => match rejection.kind() {
///             NotPaid::Failed(failed) => {
///                 let mut page = HttpResponse::PaymentRequired()
///                     .body(format!("order {} was not paid", failed.order_id));
///                 rejection.set_cookies(&mut page);
///                 page
///             }
///             NotPaid::Pending(pending) => {
///                 // store `pending` and retry it later with `Payments::retry`
///                 rejection.error_response()
///             }
///             // the re-post page and refusals: the default answer
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
    pub fn with_cookies<R: Responder>(&self, responder: R) -> WithCookies<R> {
        WithCookies::new(responder, self.cookies.clone())
    }

    /// Adds [`cookies`](Self::cookies) to a response as `Set-Cookie` headers.
    pub fn set_cookies<B>(&self, response: &mut HttpResponse<B>) {
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
/// [`PaymentCallback::with_cookies`].
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
