//! [`PaymentScope`]: the callback routes of every configured gateway, with outcome hooks.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use actix_web::{
    HttpRequest, HttpResponse, Responder, Scope,
    dev::{AppService, HttpServiceFactory},
    http::StatusCode,
    web,
};
use payment_core::{
    CallbackResult, FailedPayment, GatewayId, Outcome, Payments, PendingPayment, Receipt, Rejection,
};

use crate::glue;

type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;
type Hook<T> = Arc<dyn Fn(T, HttpRequest) -> LocalFuture<HttpResponse> + Send + Sync>;

fn hook<T, F, Fut, R>(f: F) -> Hook<T>
where
    T: 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + 'static,
    R: Responder + 'static,
{
    Arc::new(move |value, req| {
        let fut = f(value);
        Box::pin(async move { fut.await.respond_to(&req).map_into_boxed_body() })
    })
}

#[derive(Clone, Default)]
struct Hooks {
    paid: Option<Hook<Receipt>>,
    failed: Option<Hook<FailedPayment>>,
    pending: Option<Hook<PendingPayment>>,
    rejected: Option<Hook<Rejection>>,
}

/// The payment routes for actix-web: `GET` and `POST` `/callback/{gateway}` for every
/// configured gateway, under the configured mount path, with a hook per outcome.
///
/// Each callback runs the core pipeline and becomes a response:
/// - **paid** → your [`on_paid`](Self::on_paid) hook with the verified [`Receipt`] (fulfil
///   the order there); **failed** → [`on_failed`](Self::on_failed); **pending** →
///   [`on_pending`](Self::on_pending) (store the [`PendingPayment`] and retry it with
///   [`Payments::retry`]); **rejected** → [`on_rejected`](Self::on_rejected).
/// - Without a hook, the answer is the outcome's status (200 paid, 402 failed, 202 pending,
///   400/403/404/409/410/500 rejected) and the core's Persian/English page. With a hook, the
///   hook's response is the body and headers; if its status is `200 OK` (a plain `String`,
///   say) the outcome's status replaces it, any other status (a redirect, or one you chose)
///   is kept.
/// - Every answer carries the pipeline's `Set-Cookie` headers (the removal of the used
///   order state), hook responses included, and `Cache-Control: no-store` unless the hook
///   set its own.
/// - A cross-site `POST` that came without its state cookie is answered with the
///   same-origin re-post page, never a hook: the browser then posts again from our origin
///   and sends the `SameSite=Lax` cookie.
/// - The path a callback arrived at is checked against
///   [`Payments::callback_path`] (with or without the public base URL's path): routes
///   mounted under another prefix answer 500 [`Rejection::Misconfigured`] and log an error
///   once, because the callback URL given to gateways would be wrong.
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
#[derive(Clone)]
pub struct PaymentScope {
    payments: Arc<Payments>,
    hooks: Hooks,
    mismount_logged: Arc<AtomicBool>,
    unhandled_paid_logged: Arc<AtomicBool>,
}

impl fmt::Debug for PaymentScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentScope")
            .field("payments", &self.payments)
            .field("on_paid", &self.hooks.paid.is_some())
            .field("on_failed", &self.hooks.failed.is_some())
            .field("on_pending", &self.hooks.pending.is_some())
            .field("on_rejected", &self.hooks.rejected.is_some())
            .finish()
    }
}

impl PaymentScope {
    /// The routes for `payments` (a `Payments`, an `Arc<Payments>`, or
    /// `web::Data<Payments>::into_inner()`), with default pages for every outcome.
    pub fn new(payments: impl Into<Arc<Payments>>) -> Self {
        Self {
            payments: payments.into(),
            hooks: Hooks::default(),
            mismount_logged: Arc::new(AtomicBool::new(false)),
            unhandled_paid_logged: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The configuration in use.
    pub fn payments(&self) -> &Arc<Payments> {
        &self.payments
    }

    /// Called with the verified [`Receipt`] of every paid callback, once per payment:
    /// fulfil the order here. Without it the buyer sees the default "paid" page and a
    /// warning is logged, since nothing fulfils the order.
    ///
    /// ```
    /// # use payment_actix::{PaymentScope, payment_core::Payments};
    /// # fn f(payments: Payments) -> PaymentScope {
    /// PaymentScope::new(payments).on_paid(|receipt| async move {
    ///     format!("paid {} ({} rial)", receipt.order_id(), receipt.amount().get())
    /// })
    /// # }
    /// ```
    pub fn on_paid<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(Receipt) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + 'static,
        R: Responder + 'static,
    {
        self.hooks.paid = Some(hook(f));
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
    pub fn on_failed<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(FailedPayment) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + 'static,
        R: Responder + 'static,
    {
        self.hooks.failed = Some(hook(f));
        self
    }

    /// Called when verify could not finish (timeout, 5xx): the buyer may have paid. Store
    /// the [`PendingPayment`] and pass it to [`Payments::retry`] later.
    ///
    /// ```
    /// # use actix_web::HttpResponse;
    /// # use payment_actix::{PaymentScope, payment_core::Payments};
    /// # fn f(payments: Payments) -> PaymentScope {
    /// let retry_with = payments.clone();
    /// PaymentScope::new(payments).on_pending(move |pending| {
    ///     let payments = retry_with.clone();
    ///     async move {
    ///         // usually: store it, and retry from a background job
    ///         let _later = payments.retry(&pending).await;
    ///         HttpResponse::Accepted().body("being confirmed")
    ///     }
    /// })
    /// # }
    /// ```
    pub fn on_pending<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(PendingPayment) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + 'static,
        R: Responder + 'static,
    {
        self.hooks.pending = Some(hook(f));
        self
    }

    /// Called when a callback was refused (tampered, replayed, mismatched, expired or
    /// missing state, unknown gateway, misconfigured mount).
    ///
    /// ```
    /// # use actix_web::{HttpResponse, http::StatusCode};
    /// # use payment_actix::{PaymentScope, payment_core::Payments};
    /// # fn f(payments: Payments) -> PaymentScope {
    /// PaymentScope::new(payments).on_rejected(|rejection| async move {
    ///     let status = StatusCode::from_u16(rejection.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    ///     HttpResponse::build(status).body(rejection.english())
    /// })
    /// # }
    /// ```
    pub fn on_rejected<F, Fut, R>(mut self, f: F) -> Self
    where
        F: Fn(Rejection) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + 'static,
        R: Responder + 'static,
    {
        self.hooks.rejected = Some(hook(f));
        self
    }

    /// The routes, for a scope or app you mount yourself at
    /// [`Payments::mount_path`] (or under the public base URL's path plus it):
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
        move |cfg: &mut web::ServiceConfig| {
            let get = scope.clone();
            let post = scope;
            cfg.service(
                web::resource("/callback/{gateway}")
                    .route(web::get().to(move |req: HttpRequest, body: web::Payload| {
                        let scope = get.clone();
                        async move { scope.handle(req, body).await }
                    }))
                    .route(web::post().to(move |req: HttpRequest, body: web::Payload| {
                        let scope = post.clone();
                        async move { scope.handle(req, body).await }
                    })),
            );
        }
    }

    /// The routes in a scope at [`Payments::mount_path`], so the path is written once:
    /// `App::new().service(payment_scope.scope())`. `App::new().service(payment_scope)`
    /// does the same.
    pub fn scope(&self) -> Scope {
        web::scope(self.payments.mount_path()).configure(self.configure())
    }

    async fn handle(&self, req: HttpRequest, body: web::Payload) -> HttpResponse {
        let path = req.path().to_owned();
        let prefix = path
            .rfind("/callback/")
            .map_or("", |i| path.get(..i).unwrap_or(""));
        if !glue::prefix_is_configured(&self.payments, prefix) {
            let expected = format!("{}/callback/{{gateway}}", self.payments.mount_path());
            let rejection = glue::misconfigured(&self.mismount_logged, &path, &expected);
            return self.respond(rejected(rejection), req).await;
        }
        let segment = req.match_info().get("gateway").unwrap_or_default();
        let Some(gateway) = GatewayId::ALL.into_iter().find(|g| g.as_str() == segment) else {
            return self.respond(rejected(Rejection::UnknownGateway), req).await;
        };
        let result = glue::process(&self.payments, gateway, &req, body.into_inner()).await;
        self.respond(result, req).await
    }

    async fn respond(&self, result: CallbackResult, req: HttpRequest) -> HttpResponse {
        let CallbackResult { outcome, cookies } = result;
        let status = glue::status(outcome.http_status());
        let hooks = &self.hooks;
        let hooked = match outcome {
            Outcome::Paid(receipt) => match &hooks.paid {
                Some(f) => Ok(f(receipt, req).await),
                None => {
                    if !self.unhandled_paid_logged.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            "a payment was verified but PaymentScope has no on_paid hook: \
                             nothing fulfils the order"
                        );
                    }
                    Err(Outcome::Paid(receipt))
                }
            },
            Outcome::Failed(failed) => match &hooks.failed {
                Some(f) => Ok(f(failed, req).await),
                None => Err(Outcome::Failed(failed)),
            },
            Outcome::Pending(pending) => match &hooks.pending {
                Some(f) => Ok(f(pending, req).await),
                None => Err(Outcome::Pending(pending)),
            },
            Outcome::Rejected(rejection) => match &hooks.rejected {
                Some(f) => Ok(f(rejection, req).await),
                None => Err(Outcome::Rejected(rejection)),
            },
            // The re-post page, and anything a later core adds: the library's own answer.
            other => Err(other),
        };
        match hooked {
            Ok(mut response) => {
                // A hook that did not pick a status answers with the outcome's.
                if response.status() == StatusCode::OK {
                    *response.status_mut() = status;
                }
                glue::no_store(response.headers_mut());
                glue::add_cookies(response.headers_mut(), &cookies);
                response
            }
            Err(outcome) => glue::default_response(&outcome, &cookies),
        }
    }
}

fn rejected(rejection: Rejection) -> CallbackResult {
    CallbackResult {
        outcome: Outcome::Rejected(rejection),
        cookies: Vec::new(),
    }
}

impl HttpServiceFactory for PaymentScope {
    fn register(self, config: &mut AppService) {
        self.scope().register(config);
    }
}
