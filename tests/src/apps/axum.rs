//! The axum apps: one with `PaymentRouter` and hooks, one with `PaymentCallback<P>` in the
//! app's own handlers. Both nest the payment routes under `/shop/pay`.

use std::{net::TcpListener, sync::Arc};

use axum::{
    Router,
    extract::{FromRef, Path, Query, State},
    response::{IntoResponse, Response},
    routing::get,
};
use payment_axum::{
    CallbackCookies, PaymentCallback, PaymentRejection, PaymentRouter,
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

/// `GET /shop/buy/{gateway}?order=…&amount=…` (the amount would come from the shop's
/// own prices in a real app).
async fn buy(
    State(payments): State<Payments>,
    Path(gateway): Path<String>,
    Query(q): Query<Buy>,
) -> Response {
    let (Ok(gateway), Ok(id)) = (gateway.parse::<GatewayId>(), q.order.parse::<OrderId>()) else {
        return (axum::http::StatusCode::BAD_REQUEST, "bad request").into_response();
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
        Err(e) => e.into_response(),
    }
}

fn serve_router(listener: TcpListener, app: Router) -> AppGuard {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Box::new(AbortOnDrop(task))
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `PaymentRouter` with a hook per outcome, mounted at the configured `/shop/pay`.
pub struct AxumRouter;

impl Flavor for AxumRouter {
    const NAME: &'static str = "axum-router";

    fn serve(listener: TcpListener, payments: Arc<Payments>, log: Arc<Log>) -> AppGuard {
        let shop = Router::new()
            .route("/shop/buy/{gateway}", get(buy))
            .with_state((*payments).clone());
        let (l1, l2, l3, l4) = (log.clone(), log.clone(), log.clone(), log);
        let app = PaymentRouter::new(payments)
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
            })
            .mount(shop);
        serve_router(listener, app)
    }
}

#[derive(Clone)]
struct ExtractorState {
    payments: Payments,
    log: Arc<Log>,
}

impl FromRef<ExtractorState> for Payments {
    fn from_ref(state: &ExtractorState) -> Payments {
        state.payments.clone()
    }
}

/// The app's own callback handler, one route per gateway type.
async fn callback<P: Gateway>(
    State(state): State<ExtractorState>,
    cookies: CallbackCookies,
    result: Result<PaymentCallback<P>, PaymentRejection>,
) -> Response {
    match result {
        Ok(PaymentCallback(receipt)) => (cookies, state.log.record_paid(receipt)).into_response(),
        Err(rejection) => {
            match rejection.not_paid() {
                NotPaid::Failed(payment) => {
                    state.log.record_failed(payment.clone());
                }
                NotPaid::Pending(payment) => {
                    state.log.record_pending(payment.clone());
                }
                NotPaid::Rejected(refused) => {
                    state.log.record_rejected(refused.clone());
                }
                _ => {}
            }
            rejection.into_response()
        }
    }
}

fn callback_route<P: Gateway>(
    router: Router<ExtractorState>,
    payments: &Payments,
) -> Router<ExtractorState> {
    router.route(
        &payments.callback_path(P::ID),
        get(callback::<P>).post(callback::<P>),
    )
}

/// `PaymentCallback<P>` in the app's own handlers, at `/shop/pay/callback/{gateway}`.
pub struct AxumExtractor;

impl Flavor for AxumExtractor {
    const NAME: &'static str = "axum-extractor";

    fn serve(listener: TcpListener, payments: Arc<Payments>, log: Arc<Log>) -> AppGuard {
        let payments = (*payments).clone();
        let mut app = Router::new().route(
            "/shop/buy/{gateway}",
            get(|State(s): State<ExtractorState>, path, query| buy(State(s.payments), path, query)),
        );
        app = callback_route::<IdPay>(app, &payments);
        app = callback_route::<NovinPal>(app, &payments);
        app = callback_route::<Inopal>(app, &payments);
        app = callback_route::<CanPay>(app, &payments);
        app = callback_route::<GardeshPay>(app, &payments);
        app = callback_route::<Zarinpal>(app, &payments);
        app = callback_route::<Zibal>(app, &payments);
        serve_router(listener, app.with_state(ExtractorState { payments, log }))
    }
}
