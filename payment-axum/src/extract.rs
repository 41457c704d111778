//! The [`PaymentCallback`] extractor, its [`PaymentRejection`], and [`CallbackCookies`].

use std::{
    convert::Infallible,
    fmt,
    ops::Deref,
    sync::{Arc, Mutex, PoisonError, atomic::AtomicBool},
};

use axum::{
    extract::{FromRef, FromRequest, FromRequestParts, Request},
    http::request::Parts,
    response::{IntoResponse, IntoResponseParts, Response, ResponseParts},
};
use payment_core::{
    CallbackResult, FailedPayment, Gateway, Outcome, Payments, PendingPayment, Receipt, Rejection,
    ResubmitForm, StateCookie,
};

use crate::callback;

/// The largest callback body the extractor reads (64 KiB); a larger one is refused as
/// [`CallbackError::TooLarge`](payment_core::CallbackError::TooLarge).
pub const EXTRACTOR_BODY_LIMIT: usize = 64 * 1024;

/// Names the type [`PaymentCallback`] holds. It is implemented for every [`Gateway`] and
/// its `Receipt` is always [`payment_core::Receipt`]; it exists only so that
/// `PaymentCallback<P>` can be a one-field tuple struct that is still generic over the
/// gateway, which lets handlers write `PaymentCallback(receipt): PaymentCallback<P>`.
pub trait CallbackGateway: Gateway {
    /// Always [`payment_core::Receipt`].
    type Receipt;
}

impl<G: Gateway> CallbackGateway for G {
    type Receipt = Receipt;
}

/// An extractor for a handler on your own callback route: it runs the whole callback
/// pipeline for gateway `P` (state cookie, signature, expiry, order and amount checks,
/// replay guard, verify with the state's amount) and yields the verified [`Receipt`].
///
/// Anything but a verified payment is a [`PaymentRejection`], which renders itself (a
/// readable Persian and English page with the right status). Take
/// `Result<PaymentCallback<P>, PaymentRejection>` to render failures yourself.
///
/// **Configuration** comes from the router's state: [`Payments`] must be
/// [`FromRef`] of it (a `Router<Payments>` works as is; for your own state type implement
/// `FromRef<AppState> for Payments`, cloning it is cheap).
///
/// **The route** must be exactly the callback path given to gateways,
/// [`Payments::callback_path`] (e.g. `/pay/callback/novinpal`), with `GET` and `POST`; a
/// callback arriving at any other path is refused with [`Rejection::Misconfigured`] (500)
/// and an error is logged, so a wrong route cannot go unnoticed. Put the extractor last
/// among the handler's arguments (it reads the body).
///
/// **Cookies.** An extractor cannot set response headers, so the removal of the used
/// state cookie is not sent unless you ask for it: add a [`CallbackCookies`] argument
/// *before* this one and return it as a response part. A left-over state cookie is
/// harmless: it only reaches the callback routes, expires with the state (30 minutes by
/// default), and the replay guard refuses a second use of the payment it names.
///
/// ```
/// use axum::{Router, response::Html, routing::get};
/// use payment_axum::{CallbackCookies, PaymentCallback, payment_core::{Gateway, Payments}};
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
/// use payment_axum::{PaymentCallback, PaymentRejection, payment_core::Gateway};
///
/// async fn paid<P: Gateway>(cb: Result<PaymentCallback<P>, PaymentRejection>) -> Response {
///     match cb {
///         Ok(PaymentCallback(receipt)) => Html(format!("thanks for {}", receipt.order_id())).into_response(),
///         // Always answer a re-post with its own page: it recovers the state cookie a
///         // browser withholds on a cross-site POST.
///         Err(r @ PaymentRejection::Resubmit { .. }) => r.into_response(),
///         Err(PaymentRejection::Pending { payment, .. }) => {
///             // store `payment` and retry it later with `Payments::retry`
///             Html(format!("checking order {}", payment.order_id)).into_response()
///         }
///         Err(other) => (other.status(), Html("not paid")).into_response(),
///     }
/// }
/// ```
pub struct PaymentCallback<P: Gateway>(pub <P as CallbackGateway>::Receipt);

impl<P: Gateway> PaymentCallback<P> {
    /// The verified receipt.
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

/// Logs a misconfigured extractor route once per process.
static EXTRACTOR_MISCONFIGURED_LOGGED: AtomicBool = AtomicBool::new(false);

impl<S, P> FromRequest<S> for PaymentCallback<P>
where
    S: Send + Sync,
    P: Gateway,
    Payments: FromRef<S>,
{
    type Rejection = PaymentRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let payments = Payments::from_ref(state);
        let slot = req.extensions().get::<CallbackCookies>().cloned();
        let result = if payments.has_gateway(P::ID) {
            callback::read(
                &payments,
                P::ID,
                req,
                EXTRACTOR_BODY_LIMIT,
                &EXTRACTOR_MISCONFIGURED_LOGGED,
            )
            .run(&payments, P::ID)
            .await
        } else {
            tracing::error!(gateway = %P::ID, "PaymentCallback used for a gateway that is not configured");
            callback::rejected(Rejection::Misconfigured(format!(
                "gateway {} is not configured",
                P::ID
            )))
        };
        if let Some(slot) = slot {
            slot.set(result.cookies.clone());
        }
        PaymentRejection::split(result).map(|(receipt, _)| PaymentCallback(receipt))
    }
}

/// Why [`PaymentCallback`] yielded no receipt: the payment failed, is pending, the
/// callback was refused, or the request must be re-posted from the shop's own origin.
///
/// It renders itself ([`IntoResponse`]): the outcome's Persian and English page, its
/// status ([`PaymentRejection::status`]), the cookies to set, and
/// `Cache-Control: no-store`. If you render it yourself, answer
/// [`PaymentRejection::Resubmit`] with its own response anyway (see there).
///
/// It also serves code that calls the pipeline directly:
///
/// ```
/// use payment_axum::{PaymentRejection, payment_core::{CallbackRequest, GatewayId, Payments}};
///
/// async fn check(payments: &Payments, query: &str, cookie_header: &str) {
///     let Ok(request) = CallbackRequest::from_get(query) else { return };
///     let request = request.with_cookie_header(cookie_header);
///     let result = payments.handle_callback(GatewayId::NovinPal, &request, None).await;
///     match PaymentRejection::split(result) {
///         Ok((receipt, _cookies)) => println!("paid: {}", receipt.order_id()),
///         Err(rejection) => println!("{rejection} ({})", rejection.status()),
///     }
/// }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum PaymentRejection {
    /// The buyer cancelled, or the gateway or bank declined; the order is not paid.
    Failed {
        /// What failed.
        payment: FailedPayment,
        /// Cookies to set (removal of the used state).
        cookies: Vec<StateCookie>,
    },
    /// Verify could not finish (timeout, 5xx); the buyer may have paid. Store `payment`
    /// and pass it to [`Payments::retry`] later; nothing is fulfilled yet.
    Pending {
        /// What to retry.
        payment: PendingPayment,
        /// Cookies to set (usually none: the state stays valid).
        cookies: Vec<StateCookie>,
    },
    /// The callback was refused (forged, tampered, replayed, mismatched, expired, no
    /// state, or a misconfigured route). Nothing was fulfilled.
    Rejected {
        /// Why.
        rejection: Rejection,
        /// Cookies to set (removal of invalid states).
        cookies: Vec<StateCookie>,
    },
    /// A cross-site `POST` callback came without the state cookie, which browsers
    /// withhold on such requests. Its response is a same-origin page that posts the same
    /// fields again, now with the cookie. **Always answer it with
    /// [`IntoResponse::into_response`]**, or `POST` gateways (IDPay, CanPay, Inopal) will
    /// fail in real browsers.
    Resubmit {
        /// The re-post.
        form: ResubmitForm,
        /// Cookies to set.
        cookies: Vec<StateCookie>,
    },
}

impl PaymentRejection {
    /// Splits a pipeline result into the receipt (with the cookies to set) or a rejection.
    ///
    /// Useful with [`Payments::handle_callback`] in your own code.
    // Once per request, and matched on by users: not worth boxing.
    #[allow(clippy::result_large_err)]
    pub fn split(result: CallbackResult) -> Result<(Receipt, Vec<StateCookie>), Self> {
        let CallbackResult { outcome, cookies } = result;
        Err(match outcome {
            Outcome::Paid(receipt) => return Ok((receipt, cookies)),
            Outcome::Failed(payment) => Self::Failed { payment, cookies },
            Outcome::Pending(payment) => Self::Pending { payment, cookies },
            Outcome::Rejected(rejection) => Self::Rejected { rejection, cookies },
            Outcome::Resubmit(form) => Self::Resubmit { form, cookies },
            other => Self::Rejected {
                rejection: Rejection::Misconfigured(format!(
                    "payment-axum does not know the outcome `{}`",
                    other.kind()
                )),
                cookies,
            },
        })
    }

    /// The HTTP status of the default response: 402 failed, 202 pending, 200 re-post,
    /// and the rejection's own status (400, 403, 404, 409, 410 or 500).
    pub fn status(&self) -> axum::http::StatusCode {
        let code = match self {
            Self::Failed { .. } => 402,
            Self::Pending { .. } => 202,
            Self::Rejected { rejection, .. } => rejection.http_status(),
            Self::Resubmit { .. } => 200,
        };
        axum::http::StatusCode::from_u16(code)
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The cookies this response should set.
    pub fn cookies(&self) -> &[StateCookie] {
        match self {
            Self::Failed { cookies, .. }
            | Self::Pending { cookies, .. }
            | Self::Rejected { cookies, .. }
            | Self::Resubmit { cookies, .. } => cookies,
        }
    }

    /// Whether this is the same-origin re-post (which must be answered with its own
    /// response).
    pub fn is_resubmit(&self) -> bool {
        matches!(self, Self::Resubmit { .. })
    }

    /// Back to the pipeline's [`Outcome`].
    pub fn into_outcome(self) -> Outcome {
        match self {
            Self::Failed { payment, .. } => Outcome::Failed(payment),
            Self::Pending { payment, .. } => Outcome::Pending(payment),
            Self::Rejected { rejection, .. } => Outcome::Rejected(rejection),
            Self::Resubmit { form, .. } => Outcome::Resubmit(form),
        }
    }
}

impl fmt::Display for PaymentRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed { payment, .. } => write!(
                f,
                "payment for order {} failed: {}",
                payment.order_id,
                payment.reason.english()
            ),
            Self::Pending { payment, .. } => {
                write!(f, "payment for order {} is pending", payment.order_id)
            }
            Self::Rejected { rejection, .. } => {
                write!(f, "payment callback refused: {}", rejection.english())
            }
            Self::Resubmit { .. } => {
                f.write_str("payment callback must be re-posted from the shop's origin")
            }
        }
    }
}

impl std::error::Error for PaymentRejection {}

impl IntoResponse for PaymentRejection {
    fn into_response(self) -> Response {
        let cookies = self.cookies().to_vec();
        let outcome = self.into_outcome();
        callback::finish(callback::default_response(&outcome), &cookies)
    }
}

/// The state cookies a [`PaymentCallback`] in the same handler wants set or removed,
/// as a response part.
///
/// Take it as an argument *before* the `PaymentCallback` (extractors run in order), and
/// return it as the first element of a response tuple. It is filled whatever the outcome,
/// so it also works with `Result<PaymentCallback<P>, PaymentRejection>`.
///
/// ```
/// use axum::response::IntoResponse;
/// use payment_axum::{CallbackCookies, PaymentCallback, payment_core::Gateway};
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
    slot: Arc<Mutex<Vec<StateCookie>>>,
}

impl CallbackCookies {
    fn set(&self, cookies: Vec<StateCookie>) {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = cookies;
    }

    /// The cookies, as filled by the `PaymentCallback` of the same request (empty before
    /// it ran).
    pub fn cookies(&self) -> Vec<StateCookie> {
        self.slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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
    type Error = Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Infallible> {
        callback::append_cookies(res.headers_mut(), &self.cookies());
        Ok(res)
    }
}
