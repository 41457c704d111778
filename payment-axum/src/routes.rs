//! [`PaymentRouter`]: the callback routes of every configured gateway account, with hooks.

use std::{future::Future, pin::Pin, sync::Arc};

use axum::{
    Router,
    extract::{Request, State},
    response::{IntoResponse, Response},
    routing::get,
};
use payment_core::{
    FailedPayment, Payments, PendingPayment, Receipt, Rejection,
    reply::{Answer, Hook, Hooks},
};

use crate::render;

type HookFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

/// The callback routes of every configured gateway account, ready to add to any axum app.
///
/// It serves `GET` and `POST` `{mount path}/callback/{account}`, runs the core pipeline and
/// answers each outcome:
///
/// | outcome | hook | default answer |
/// |---|---|---|
/// | paid ([`Receipt`]) | [`on_paid`](Self::on_paid) | 200, receipt page |
/// | failed ([`FailedPayment`]) | [`on_failed`](Self::on_failed) | 402, "payment not completed" |
/// | pending ([`PendingPayment`]) | [`on_pending`](Self::on_pending) | 202, "being confirmed" |
/// | refused ([`Rejection`]) | [`on_rejected`](Self::on_rejected) | the rejection's status (400, 403, 404, 409, 410, 500) |
/// | re-post ([`ResubmitForm`](payment_core::outcome::ResubmitForm)) | never | 200, the same-origin re-post page |
///
/// Default pages are plain HTML in Persian and English. A hook's response is used as its
/// body and headers; if its status is `200 OK` (a plain `String` or `Html`, say) the
/// outcome's status replaces it, any other status (a redirect, or one you chose) is kept.
/// Every answer carries the state cookies to set or remove and `Cache-Control: no-store`
/// (unless the hook set its own cache policy). The re-post page recovers the state cookie
/// a browser withholds on a cross-site `POST` return (IDPay, CanPay, Inopal).
///
/// Hooks are async closures over the outcome's value; capture what they need (a database
/// pool, a channel) by cloning it into the closure.
///
/// **Where it is mounted.** Callbacks are sent to
/// [`Payments::callback_url`]: the public base URL, the configured
/// [`mount_path`](payment_core::PaymentsBuilder::mount_path), then `/callback/{account}`.
/// [`mount`](Self::mount) adds the routes at exactly that path, so it is written once. A
/// callback at any other path is answered with 500
/// ([`Rejection::Misconfigured`]) and an error is logged once, so a wrong mount cannot go
/// unnoticed.
///
/// ```
/// use axum::{Router, response::Redirect, routing::get};
/// use payment_axum::PaymentRouter;
/// use payment_axum::payment_core::{FailedPayment, Payments, Receipt};
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
#[derive(Debug)]
pub struct PaymentRouter {
    payments: Arc<Payments>,
    hooks: Hooks<(), HookFuture>,
}

/// An app's hook as the router keeps it.
fn boxed<T, F, Fut>(hook: F) -> Hook<T, (), HookFuture>
where
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output: IntoResponse> + Send + 'static,
{
    Arc::new(move |value, ()| {
        let future = hook(value);
        Box::pin(async move { future.await.into_response() })
    })
}

impl PaymentRouter {
    /// The routes of every account configured in `payments`, with the default answers.
    pub fn new(payments: impl Into<Arc<Payments>>) -> Self {
        let payments = payments.into();
        let hooks = Hooks::for_payments(&payments);
        Self { payments, hooks }
    }

    /// Called with the verified [`Receipt`] of a paid order, for the buyer's answer. It is
    /// called once per payment (the replay guard sees to that).
    ///
    /// With a fulfilment hook on the builder
    /// ([`PaymentsBuilder::fulfil`](payment_core::PaymentsBuilder::fulfil)) the order is
    /// fulfilled already when this runs, as it is when the reconciler or a retry verifies
    /// the payment without the buyer: render the answer here. Without one, fulfil the
    /// order here, and store [`Receipt::gateway_ref`] under a unique key so that
    /// fulfilment stays idempotent whatever else retries the payment.
    pub fn on_paid<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Receipt) -> Fut + Send + Sync + 'static,
        Fut: Future<Output: IntoResponse> + Send + 'static,
    {
        self.hooks.set_paid(boxed(hook));
        self
    }

    /// Called when the buyer cancelled or the gateway or bank declined.
    pub fn on_failed<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(FailedPayment) -> Fut + Send + Sync + 'static,
        Fut: Future<Output: IntoResponse> + Send + 'static,
    {
        self.hooks.set_failed(boxed(hook));
        self
    }

    /// Called when verify could not finish (timeout, 5xx): the buyer may have paid.
    /// Store the [`PendingPayment`] (it is `Serialize`) and pass it to
    /// [`Payments::retry`] later.
    pub fn on_pending<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(PendingPayment) -> Fut + Send + Sync + 'static,
        Fut: Future<Output: IntoResponse> + Send + 'static,
    {
        self.hooks.set_pending(boxed(hook));
        self
    }

    /// Called when a callback was refused (tampered, replayed, swapped, expired, missing
    /// state, unknown gateway, misconfigured mount). Nothing was fulfilled.
    pub fn on_rejected<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Rejection) -> Fut + Send + Sync + 'static,
        Fut: Future<Output: IntoResponse> + Send + 'static,
    {
        self.hooks.set_rejected(boxed(hook));
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

    /// Adds the routes to `app` at the configured [`Payments::mount_path`], the path the
    /// callback URLs given to gateways are built from, so it is written in one place.
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
        // Merged at the full path rather than nested: a mount path of "" (the root) is
        // one `nest` refuses.
        let path = self.payments.mount_path().to_owned();
        app.merge(self.routes_at(&path))
    }

    fn routes_at<S>(self, prefix: &str) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let route = format!("{prefix}/callback/{{account}}");
        Router::new()
            .route(&route, get(callback).post(callback))
            .with_state(Arc::new(self))
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

async fn callback(State(router): State<Arc<PaymentRouter>>, request: Request) -> Response {
    let result = render::callback(&router.payments, None, request).await;
    match router.hooks.answer(result, ()) {
        Answer::App(future, parts) => render::dress(future.await, &parts),
        Answer::Library(reply) => render::reply(reply),
    }
}
