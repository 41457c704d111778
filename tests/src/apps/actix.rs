//! The actix-web apps: one with `PaymentScope` and hooks, one with `PaymentCallback<P>` in
//! the app's own handlers. Each runs its own actix system on a thread of its own.

use std::{net::TcpListener, sync::Arc};

use actix_web::{App, HttpResponse, HttpServer, Responder, dev::ServerHandle, web};
use payment_actix::{
    CallbackCookies, PaymentCallback, PaymentRejection, PaymentScope,
    payment_core::{
        CanPay, GardeshPay, GatewayId, IdPay, Inopal, NotPaid, NovinPal, Order, OrderId, Payments,
        Rial, Zarinpal, Zibal, adapter::Gateway,
    },
    start,
};

use crate::harness::{AppGuard, Flavor, Log};

#[derive(serde::Deserialize)]
struct Buy {
    order: String,
    amount: u64,
    /// Which payment of the order this is, when the app counts them (no ledger).
    #[serde(default)]
    attempt: Option<u8>,
}

async fn buy(
    payments: web::Data<Payments>,
    gateway: web::Path<String>,
    q: web::Query<Buy>,
) -> HttpResponse {
    let (Ok(gateway), Ok(id)) = (gateway.parse::<GatewayId>(), q.order.parse::<OrderId>()) else {
        return HttpResponse::BadRequest().body("bad request");
    };
    match start(
        &payments,
        gateway,
        &q.attempt
            .into_iter()
            .fold(Order::new(id, Rial::new(q.amount)), Order::with_attempt),
    )
    .await
    {
        Ok(redirect) => redirect.into_response(),
        Err(e) => actix_web::ResponseError::error_response(&e),
    }
}

struct StopOnDrop(ServerHandle);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        // Sends the stop command now; the returned future only waits for it.
        drop(self.0.stop(false));
    }
}

/// Runs `factory`'s app on `listener` in a new actix system on its own thread.
fn serve<F, A>(listener: TcpListener, factory: F) -> AppGuard
where
    F: Fn() -> App<A> + Send + Clone + 'static,
    A: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(factory)
                .workers(2)
                .disable_signals()
                .listen(listener)
                .expect("listen")
                .run();
            tx.send(server.handle()).expect("handle");
            let _ = server.await;
        })
    });
    Box::new(StopOnDrop(rx.recv().expect("the actix server starts")))
}

/// `PaymentScope` with a hook per outcome, at the configured `/shop/pay`.
pub struct ActixScope;

impl Flavor for ActixScope {
    const NAME: &'static str = "actix-scope";

    fn serve(listener: TcpListener, payments: Arc<Payments>, log: Arc<Log>) -> AppGuard {
        let (l1, l2, l3, l4) = (log.clone(), log.clone(), log.clone(), log);
        let scope = PaymentScope::new(payments.clone())
            .on_paid(move |receipt| {
                let log = l1.clone();
                async move { log.record_paid(receipt) }
            })
            .on_failed(move |failed| {
                let log = l2.clone();
                async move { log.record_failed(failed) }
            })
            .on_pending(move |pending| {
                let log = l3.clone();
                async move { log.record_pending(pending) }
            })
            .on_rejected(move |rejection| {
                let log = l4.clone();
                async move { log.record_rejected(rejection) }
            });
        let payments = (*payments).clone();
        serve(listener, move || {
            App::new()
                .app_data(web::Data::new(payments.clone()))
                .route("/shop/buy/{gateway}", web::get().to(buy))
                .service(scope.scope())
        })
    }
}

/// The app's own callback handler, one route per gateway type.
async fn callback<P: Gateway>(
    request: actix_web::HttpRequest,
    log: web::Data<Arc<Log>>,
    cookies: CallbackCookies,
    result: Result<PaymentCallback<P>, PaymentRejection>,
) -> HttpResponse {
    match result {
        Ok(PaymentCallback(receipt)) => {
            let page = HttpResponse::Ok().body(log.record_paid(receipt));
            cookies.attach(page).respond_to(&request)
        }
        Err(rejection) => {
            match rejection.not_paid() {
                NotPaid::Failed(failed) => log.record_failed(failed.clone()),
                NotPaid::Pending(pending) => log.record_pending(pending.clone()),
                NotPaid::Rejected(refused) => log.record_rejected(refused.clone()),
                _ => String::new(),
            };
            actix_web::ResponseError::error_response(&rejection)
        }
    }
}

fn callback_route<P: Gateway>(config: &mut web::ServiceConfig, payments: &Payments) {
    config.route(
        &payments.callback_path(P::ID),
        web::route().to(callback::<P>),
    );
}

/// `PaymentCallback<P>` in the app's own handlers, at `/shop/pay/callback/{gateway}`.
pub struct ActixExtractor;

impl Flavor for ActixExtractor {
    const NAME: &'static str = "actix-extractor";

    fn serve(listener: TcpListener, payments: Arc<Payments>, log: Arc<Log>) -> AppGuard {
        let payments = (*payments).clone();
        serve(listener, move || {
            let routes = payments.clone();
            App::new()
                .app_data(web::Data::new(payments.clone()))
                .app_data(web::Data::new(log.clone()))
                .route("/shop/buy/{gateway}", web::get().to(buy))
                .configure(move |c| {
                    callback_route::<IdPay>(c, &routes);
                    callback_route::<NovinPal>(c, &routes);
                    callback_route::<Inopal>(c, &routes);
                    callback_route::<CanPay>(c, &routes);
                    callback_route::<GardeshPay>(c, &routes);
                    callback_route::<Zarinpal>(c, &routes);
                    callback_route::<Zibal>(c, &routes);
                })
        })
    }
}
