//! [`PaymentScope`]: the callback routes of every configured gateway account, with hooks.

use std::{future::Future, pin::Pin, sync::Arc};

use actix_web::{
    HttpRequest, HttpResponse, Responder, Scope,
    dev::{AppService, HttpServiceFactory},
    web,
};
use payment_core::{
    FailedPayment, Payments, PendingPayment, Receipt, Rejection,
    reply::{Answer, Hook, Hooks},
};

use crate::render;

type HookFuture = Pin<Box<dyn Future<Output = HttpResponse>>>;

/// The payment routes for actix-web: `GET` and `POST` `/callback/{account}` for every
/// configured gateway account, under the configured mount path, with a hook per outcome.
///
/// Each callback runs the core pipeline and becomes a response:
/// - **paid** → your [`on_paid`](Self::on_paid) hook with the verified [`Receipt`] (fulfil
///   the order there); **failed** → [`on_failed`](Self::on_failed); **pending** →
///   [`on_pending`](Self::on_pending) (store the [`PendingPayment`] and retry it with
///   [`Payments::retry`]); **rejected** → [`on_rejected`](Self::on_rejected).
/// - Without a hook, the answer is the outcome's status (200 paid, 402 failed, 202
///   pending, 400/403/404/409/410/500 rejected) and core's Persian/English page. With a
///   hook, the hook's response is the body and headers; if its status is `200 OK` (a plain
///   `String`, say) the outcome's status replaces it, any other status (a redirect, or one
///   you chose) is kept.
/// - Every answer carries the state cookies to set or remove, and `Cache-Control:
///   no-store` unless the hook set its own.
/// - A cross-site `POST` that came without its state cookie is answered with the
///   same-origin re-post page, never a hook: the browser then posts again from the shop's
///   origin and sends the `SameSite=Lax` cookie.
/// - A callback at another path than the configured callback paths is answered with 500
///   ([`Rejection::Misconfigured`]) and an error is logged once, because the callback URL
///   given to gateways would be wrong.
///
/// Hooks are async closures returning any [`Responder`]; they are `Send + Sync` so the
/// scope can be built once, outside `HttpServer::new`, and cloned into every worker (their
/// futures need not be `Send`). Capture what they need (a pool, a channel).
///
/// ```no_run
/// use actix_web::{App, HttpResponse, HttpServer, web};
/// use payment_actix::{PaymentScope, payment_core::Payments};
///
/// # async fn run(payments: Payments) -> std::io::Result<()> {
/// let payment_routes = PaymentScope::new(payments.clone())
///     .on_paid(|receipt| async move {
///         // mark receipt.order_id() paid (store receipt.gateway_ref() under a unique key)
///         HttpResponse::SeeOther()
///             .insert_header(("Location", format!("/orders/{}", receipt.order_id())))
///             .finish()
///     })
///     .on_pending(|pending| async move {
///         // store `pending` (it is Serialize) and call `Payments::retry` on it later
///         HttpResponse::Accepted().body(format!("order {} is being confirmed", pending.order_id))
///     });
///
/// HttpServer::new(move || {
///     App::new()
///         .app_data(web::Data::new(payments.clone()))
///         // mounted at `payments.mount_path()`; or, written out:
///         // .service(web::scope("/pay").configure(payment_routes.configure()))
///         .service(payment_routes.scope())
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct PaymentScope {
    payments: Arc<Payments>,
    hooks: Hooks<HttpRequest, HookFuture>,
}

/// An app's hook as the scope keeps it: its answer is made a response for the request.
fn boxed<T, F, Fut>(hook: F) -> Hook<T, HttpRequest, HookFuture>
where
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output: Responder> + 'static,
{
    Arc::new(move |value, request| {
        let future = hook(value);
        Box::pin(async move {
            let answer = future.await;
            answer.respond_to(&request).map_into_boxed_body()
        })
    })
}

impl PaymentScope {
    /// The routes for `payments` (a `Payments`, an `Arc<Payments>`, or
    /// `web::Data<Payments>::into_inner()`), with default pages for every outcome.
    pub fn new(payments: impl Into<Arc<Payments>>) -> Self {
        let payments = payments.into();
        Self {
            hooks: Hooks::for_payments(&payments),
            payments,
        }
    }

    /// Called with the verified [`Receipt`] of every paid callback, once per payment, for
    /// the buyer's answer. With a fulfilment hook on the builder
    /// ([`PaymentsBuilder::fulfil`](payment_core::PaymentsBuilder::fulfil)) the order is
    /// fulfilled already when this runs (as it is when the reconciler or a retry
    /// verifies the payment without the buyer); without one, fulfil the order here.
    /// Without either, the buyer sees the default "paid" page and a warning is logged,
    /// since nothing fulfils the order.
    ///
    /// ```
    /// # use payment_actix::{PaymentScope, payment_core::Payments};
    /// # fn f(payments: Payments) -> PaymentScope {
    /// PaymentScope::new(payments).on_paid(|receipt| async move {
    ///     format!("paid {} ({} rial)", receipt.order_id(), receipt.amount().get())
    /// })
    /// # }
    /// ```
    pub fn on_paid<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Receipt) -> Fut + Send + Sync + 'static,
        Fut: Future<Output: Responder> + 'static,
    {
        self.hooks.set_paid(boxed(hook));
        self
    }

    /// Called when the buyer cancelled or the payment was declined.
    ///
    /// ```
    /// # use actix_web::HttpResponse;
    /// # use payment_actix::{PaymentScope, payment_core::Payments};
    /// # fn f(payments: Payments) -> PaymentScope {
    /// PaymentScope::new(payments).on_failed(|failed| async move {
    ///     HttpResponse::PaymentRequired().body(format!("order {}: {}", failed.order_id, failed.reason.english()))
    /// })
    /// # }
    /// ```
    pub fn on_failed<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(FailedPayment) -> Fut + Send + Sync + 'static,
        Fut: Future<Output: Responder> + 'static,
    {
        self.hooks.set_failed(boxed(hook));
        self
    }

    /// Called when verify could not finish (timeout, 5xx): the buyer may have paid. Store
    /// the [`PendingPayment`] and pass it to [`Payments::retry`] later.
    pub fn on_pending<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(PendingPayment) -> Fut + Send + Sync + 'static,
        Fut: Future<Output: Responder> + 'static,
    {
        self.hooks.set_pending(boxed(hook));
        self
    }

    /// Called when a callback was refused (tampered, replayed, mismatched, expired or
    /// missing state, unknown gateway, misconfigured mount).
    pub fn on_rejected<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Rejection) -> Fut + Send + Sync + 'static,
        Fut: Future<Output: Responder> + 'static,
    {
        self.hooks.set_rejected(boxed(hook));
        self
    }

    /// The routes, for a scope or app you mount yourself at [`Payments::mount_path`] (or
    /// under the public base URL's path plus it):
    /// `web::scope("/pay").configure(payment_scope.configure())`.
    ///
    /// ```
    /// # use actix_web::{App, web};
    /// # use payment_actix::{PaymentScope, payment_core::Payments};
    /// # fn f(payments: Payments) {
    /// // payments.mount_path() == "/shop/pay"
    /// let routes = PaymentScope::new(payments);
    /// let app = App::new().service(web::scope("/shop").service(web::scope("/pay").configure(routes.configure())));
    /// # }
    /// ```
    pub fn configure(&self) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
        let scope = self.clone();
        move |config: &mut web::ServiceConfig| {
            let handler = move |request: HttpRequest, body: web::Payload| {
                let scope = scope.clone();
                async move { scope.callback(request, body).await }
            };
            config.service(
                web::resource("/callback/{account}")
                    .route(web::get().to(handler.clone()))
                    .route(web::post().to(handler)),
            );
        }
    }

    /// The routes in a scope at [`Payments::mount_path`], so the path is written once:
    /// `App::new().service(payment_scope.scope())`. `App::new().service(payment_scope)`
    /// does the same.
    pub fn scope(&self) -> Scope {
        web::scope(self.payments.mount_path()).configure(self.configure())
    }

    async fn callback(&self, request: HttpRequest, body: web::Payload) -> HttpResponse {
        let result = render::callback(&self.payments, None, &request, body.into_inner()).await;
        match self.hooks.answer(result, request) {
            Answer::App(future, parts) => render::dress(future.await, &parts),
            Answer::Library(reply) => render::reply(reply),
        }
    }
}

impl HttpServiceFactory for PaymentScope {
    fn register(self, config: &mut AppService) {
        self.scope().register(config);
    }
}
