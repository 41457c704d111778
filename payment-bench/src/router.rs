//! The app a user of this library writes: `PaymentRouter` for callbacks and `start` for
//! the start endpoint, NovinPal pointed at the sandbox.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use axum::{Router, extract::State, routing::get};
use payment_axum::{
    PaymentRouter, StartError, StartResponse,
    payment_core::{
        GatewayId, HttpClient, KeyRing, NovinPal, Order, OrderId, Payments, Receipt, Rial,
        SigningKey,
    },
    start,
};

use payment_sqlx::SqlStore;

use crate::{AMOUNT, ServeArgs};

/// A fixed signing key: the benchmark needs no secret, only a realistic 32-byte key.
const KEY: &[u8; 32] = b"payment-bench signing key, 32 b!";

/// The app: `GET /buy` starts a payment, `/pay/callback/novinpal` takes the callbacks.
/// With a store, every start and callback also writes the ledger, which claims each payment on its row, and a
/// fulfilment hook (that does nothing) is called once per paid payment.
pub(crate) async fn app(serve: &ServeArgs) -> Result<Router, Box<dyn std::error::Error>> {
    let novinpal = NovinPal::new(payment_sandbox::NOVINPAL_API_KEY)
        .with_base_url(&serve.novinpal())?
        .with_http(HttpClient::with_defaults()?);
    let keys = KeyRing::new(SigningKey::new(1, KEY.to_vec())?);
    let mut builder = Payments::builder(&serve.public_url(), keys)
        .secure_cookies(false)
        .gateway(novinpal);
    if let Some(url) = &serve.store {
        let store = Arc::new(SqlStore::connect(url).await?);
        store.migrate().await?;
        builder = builder
            .ledger(store)
            .fulfil(|_: Receipt| async { Ok::<(), String>(()) });
    }
    let payments = builder.build()?;
    let shop = Router::new()
        .route("/buy", get(buy))
        .with_state(payments.clone());
    // The hook answers as briefly as the baseline does, so the two responses are the same
    // size; fulfilment itself (a database write) is the app's and is left out of both.
    Ok(PaymentRouter::new(payments)
        .on_paid(|receipt: Receipt| async move { format!("paid {}", receipt.order_id()) })
        .mount(shop))
}

/// Starts a payment for a new order: 302 to the gateway with the signed state cookie.
async fn buy(State(payments): State<Payments>) -> Result<StartResponse, StartError> {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    // Gateways take each order id once, and two router processes may share the sandbox
    // (`BENCH_STORE=sqlite`): the process id keeps their ids apart.
    let process = u64::from(std::process::id()) * 1_000_000_000;
    let id = OrderId::from(process + NEXT.fetch_add(1, Ordering::Relaxed));
    // A new order: its first payment, which spares the ledger counting earlier ones.
    let order = Order::new(id, Rial::new(AMOUNT)).with_attempt(1);
    start(&payments, GatewayId::NovinPal, &order).await
}
