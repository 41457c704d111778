//! [`PaymentRouter`]: the callback routes of every configured gateway, with hooks.

use std::{
    fmt,
    future::Future,
    sync::{Arc, atomic::AtomicBool},
};

use axum::{
    Router,
    extract::{Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use payment_core::{
    BoxFuture, CallbackResult, FailedPayment, GatewayId, Outcome, Payments, PendingPayment,
    Receipt, Rejection,
};

use crate::callback;

/// The largest callback body the router reads by default (64 KiB; gateways send a few
/// hundred bytes). A larger body is refused as a malformed callback (400).
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

type Hook<T> = Arc<dyn Fn(T) -> BoxFuture<'static, Response> + Send + Sync>;

fn hook<T, F, Fut, R>(f: F) -> Hook<T>
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoResponse,
{
    Arc::new(move |value| {
        let fut = f(value);
        Box::pin(async move { fut.await.into_response() })
    })
}

/// The callback routes of every configured gateway, ready to nest into any axum app.
///
/// It serves `GET` and `POST` `/callback/{gateway}` (relative to where it is mounted),
/// runs [`Payments::handle_callback`] and answers each [`Outcome`]:
///
/// | outcome | hook | default answer |
/// |---|---|---|
/// | `Paid(Receipt)` | [`on_paid`](Self::on_paid) | 200, receipt page |
/// | `Failed(FailedPayment)` | [`on_failed`](Self::on_failed) | 402, "payment not completed" |
/// | `Pending(PendingPayment)` | [`on_pending`](Self::on_pending) | 202, "being confirmed" |
/// | `Rejected(Rejection)` | [`on_rejected`](Self::on_rejected) | the rejection's status (400, 403, 404, 409, 410, 500) |
/// | `Resubmit(ResubmitForm)` | never | 200, the same-origin re-post page |
///
/// Default pages are plain HTML in Persian and English (`text/html; charset=utf-8`). A
/// hook's response is used as its body and headers; if its status is `200 OK` (a plain
/// `String` or `Html`, say) the outcome's status replaces it, any other status (a
/// redirect, or one you chose) is kept. The router adds the state cookies to set or
/// remove and `Cache-Control: no-store` to every answer. The re-post page recovers the state cookie a browser withholds on a cross-site
/// `POST` return (IDPay, CanPay, Inopal) and is never handed to a hook.
///
/// Hooks are async closures over the outcome's value; capture what they need (a database
/// pool, a channel) by cloning it into the closure.
///
/// **Where to mount it.** Callbacks are sent to
/// [`Payments::callback_url`] — the public base URL, then the configured
/// [`mount_path`](payment_core::PaymentsBuilder::mount_path), then
/// `/callback/{gateway}`. [`mount`](Self::mount) adds the routes at exactly that path
/// so you write it once. If you nest it yourself, use the same path: a callback that
/// arrives at any other path is answered with 500 ([`Rejection::Misconfigured`]) and an
/// error is logged once, so a wrong callback URL cannot go unnoticed. Both the full public
/// path and the path without the public base URL's own path (behind a proxy that strips
/// it) are accepted.
///
/// ```
/// use axum::{Router, extract::State, response::{IntoResponse, Redirect}, routing::get};
/// use payment_axum::PaymentRouter;
/// use payment_core::{FailedPayment, Payments, Receipt};
/// # use payment_axum::payment_core;
///
/// #[derive(Clone)]
/// struct Db; // your pool
/// impl Db {
///     async fn mark_paid(&self, _receipt: &Receipt) {}
/// }
///
/// fn app(payments: Payments, db: Db) -> Router {
///     let app = Router::new().route("/", get(|| async { "shop" }));
///     PaymentRouter::new(payments)
///         .on_paid(move |receipt: Receipt| {
///             let db = db.clone();
///             async move {
///                 db.mark_paid(&receipt).await;
///                 Redirect::to(&format!("/orders/{}", receipt.order_id()))
///             }
///         })
///         .on_failed(|failed: FailedPayment| async move {
///             format!("order {} was not paid", failed.order_id)
///         })
///         .mount(app)
/// }
/// ```
#[must_use = "a PaymentRouter does nothing until it is mounted"]
pub struct PaymentRouter {
    payments: Arc<Payments>,
    on_paid: Option<Hook<Receipt>>,
    on_failed: Option<Hook<FailedPayment>>,
    on_pending: Option<Hook<PendingPayment>>,
    on_rejected: Option<Hook<Rejection>>,
    body_limit: usize,
}

impl fmt::Debug for PaymentRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentRouter")
            .field("payments", &self.payments)
            .field("on_paid", &self.on_paid.is_some())
            .field("on_failed", &self.on_failed.is_some())
            .field("on_pending", &self.on_pending.is_some())
            .field("on_rejected", &self.on_rejected.is_some())
            .field("body_limit", &self.body_limit)
            .finish()
    }
}

impl PaymentRouter {
    /// A router for every gateway configured in `payments`, with the default answers.
    pub fn new(payments: impl Into<Arc<Payments>>) -> Self {
        Self {
            payments: payments.into(),
            on_paid: None,
            on_failed: None,
            on_pending: None,
            on_rejected: None,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// The payment service.
    pub fn payments(&self) -> &Arc<Payments> {
        &self.payments
    }

    /// Called with the verified [`Receipt`] of a paid order; fulfil the order here. It is
    /// called at most once per payment (the replay guard sees to that), but make
    /// fulfilment idempotent on [`Receipt::gateway_ref`] anyway if you run retries of
    /// pending payments elsewhere.
    pub fn on_paid<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(Receipt) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        self.on_paid = Some(hook(f));
        self
    }

    /// Called when the buyer cancelled or the gateway or bank declined.
    pub fn on_failed<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(FailedPayment) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        self.on_failed = Some(hook(f));
        self
    }

    /// Called when verify could not finish (timeout, 5xx): the buyer may have paid.
    /// Store the [`PendingPayment`] (it is `Serialize`) and pass it to
    /// [`Payments::retry`] later.
    pub fn on_pending<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(PendingPayment) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        self.on_pending = Some(hook(f));
        self
    }

    /// Called when a callback was refused (tampered, replayed, swapped, expired, missing
    /// state, unknown gateway, misconfigured mount). Nothing was fulfilled.
    pub fn on_rejected<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(Rejection) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoResponse,
    {
        self.on_rejected = Some(hook(f));
        self
    }

    /// The largest callback body read (default [`DEFAULT_BODY_LIMIT`]).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The routes, with their own state applied, for any app state `S`: nest them at
    /// [`Payments::mount_path`] (or use [`mount`](Self::mount), which does).
    ///
    /// ```
    /// # use payment_axum::{PaymentRouter, payment_core::Payments};
    /// # fn demo(payments: Payments) -> axum::Router {
    /// let app = axum::Router::new().nest("/pay", PaymentRouter::new(payments).into_router());
    /// # app }
    /// ```
    pub fn into_router<S>(self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        self.routes_at("")
    }

    /// The callback route at `{prefix}/callback/{gateway}`, with its state applied.
    fn routes_at<S>(self, prefix: &str) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let shared = Arc::new(Shared {
            payments: self.payments,
            on_paid: self.on_paid,
            on_failed: self.on_failed,
            on_pending: self.on_pending,
            on_rejected: self.on_rejected,
            body_limit: self.body_limit,
            misconfigured_logged: AtomicBool::new(false),
        });
        // One static route per configured gateway, so a callback carries no path
        // parameter to extract; any other name falls to the catch-all and is refused.
        let gateways: Vec<GatewayId> = shared.payments.gateways().collect();
        let mut router = Router::new().route(
            &format!("{prefix}/callback/{{gateway}}"),
            get(unknown_gateway).post(unknown_gateway),
        );
        for gateway in gateways {
            let handler = move |State(shared): State<Arc<Shared>>, req: Request| {
                // Read before the future is made, so that the future (boxed by axum) does
                // not carry the request; see `callback::Read`.
                let mut read = callback::read(
                    &shared.payments,
                    gateway,
                    req,
                    shared.body_limit,
                    &shared.misconfigured_logged,
                );
                async move {
                    let result = read.run(&shared.payments, gateway).await;
                    shared.respond(result).await
                }
            };
            router = router.route(
                &format!("{prefix}/callback/{}", gateway.as_str()),
                get(handler).post(handler),
            );
        }
        router.with_state(shared)
    }

    /// Adds the routes to `app` at the configured [`Payments::mount_path`] — the path the
    /// callback URLs sent to gateways are built from — so it is written in one place.
    ///
    /// ```
    /// # use payment_axum::{PaymentRouter, payment_core::Payments};
    /// # fn demo(payments: Payments) -> axum::Router {
    /// let app = axum::Router::new().route("/", axum::routing::get(|| async { "shop" }));
    /// let app = PaymentRouter::new(payments).mount(app);
    /// # app }
    /// ```
    pub fn mount<S>(self, app: Router<S>) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        // Merged at the full path rather than nested: the same routes, without a nested
        // router's second dispatch and URI rewrite on every callback.
        let path = self.payments.mount_path().to_owned();
        app.merge(self.routes_at(&path))
    }
}

impl<S> From<PaymentRouter> for Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    fn from(router: PaymentRouter) -> Self {
        router.into_router()
    }
}

struct Shared {
    payments: Arc<Payments>,
    on_paid: Option<Hook<Receipt>>,
    on_failed: Option<Hook<FailedPayment>>,
    on_pending: Option<Hook<PendingPayment>>,
    on_rejected: Option<Hook<Rejection>>,
    body_limit: usize,
    misconfigured_logged: AtomicBool,
}

/// A callback for a gateway that is not configured (or not spelled as callback URLs
/// spell it).
async fn unknown_gateway(State(shared): State<Arc<Shared>>) -> Response {
    shared
        .respond(callback::rejected(Rejection::UnknownGateway))
        .await
}

impl Shared {
    async fn respond(&self, result: CallbackResult) -> Response {
        let CallbackResult { outcome, cookies } = result;
        let status = outcome.http_status();
        let hooked = match outcome {
            Outcome::Paid(receipt) => match &self.on_paid {
                Some(hook) => Ok(hook(receipt).await),
                None => Err(Outcome::Paid(receipt)),
            },
            Outcome::Failed(failed) => match &self.on_failed {
                Some(hook) => Ok(hook(failed).await),
                None => Err(Outcome::Failed(failed)),
            },
            Outcome::Pending(pending) => match &self.on_pending {
                Some(hook) => Ok(hook(pending).await),
                None => Err(Outcome::Pending(pending)),
            },
            Outcome::Rejected(rejection) => match &self.on_rejected {
                Some(hook) => Ok(hook(rejection).await),
                None => Err(Outcome::Rejected(rejection)),
            },
            // Resubmit (and any outcome a later core adds) gets the library's own answer.
            other => Err(other),
        };
        let response = match hooked {
            Ok(mut response) => {
                // A hook that did not pick a status answers with the outcome's.
                if response.status() == StatusCode::OK {
                    *response.status_mut() =
                        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                }
                response
            }
            Err(outcome) => callback::default_response(&outcome),
        };
        callback::finish(response, &cookies)
    }
}
