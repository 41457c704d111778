//! The smallest axum shop: one product, NovinPal (a local sandbox), the payment router.
//! `cargo run -p axum-minimal`, then open <http://localhost:3000>.
use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use axum::{Router, extract::State, http::StatusCode, response::Html, routing::get};
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use payment_axum::{PaymentRouter, StartError, StartResponse, payment_core::*, start};
use payment_sandbox::{NOVINPAL_API_KEY, Sandbox, SandboxConfig, SandboxGateway};
use tower_http::timeout::TimeoutLayer;

const HOME: &str = r#"<form method="post"><button>Buy a mug (120,000 rial)</button></form>"#;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // `?` in main would print an error's Debug form; a sentence reads better.
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("axum-minimal: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // NovinPal's stand-in on 127.0.0.1: another site than localhost, as a real gateway is.
    let sandbox = Sandbox::spawn_on_loopback(SandboxConfig::default()).await?;
    let novinpal = NovinPal::new(NOVINPAL_API_KEY)
        .with_base_url(&sandbox.base_url_for(SandboxGateway::NovinPal))?;
    // Development only: in production load a fixed key of 32+ bytes from your secrets.
    let keys = KeyRing::new(SigningKey::generate(1)?);
    let payments = Payments::builder("http://localhost:3000", keys)
        .gateway(novinpal)
        .build()?;

    // The app you already have.
    let shop = Router::new()
        .route("/", get(|| async { Html(HOME) }).post(buy))
        .with_state(payments.clone());

    // Callbacks arrive at /pay/callback/{account}; the hook sees only verified receipts.
    let app = PaymentRouter::new(payments)
        .on_paid(|receipt: Receipt| async move {
            // Fulfil the order here.
            let (id, amount) = (receipt.order_id(), receipt.amount().grouped());
            let reference = receipt.bank_reference().unwrap_or("-");
            Html(format!(
                "<h1>Paid</h1><p>{id}: {amount} rial, reference {reference}</p>"
            ))
        })
        .mount(shop)
        // A request slower than 30 s (a slow body too) is answered 408.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!(
        "http://localhost:3000 (sandbox: {}/_admin)",
        sandbox.base_url
    );
    // hyper's HTTP/1 server, for its header-read timeout: a client that has not sent its
    // headers 10 s after connecting, or has sent nothing, is dropped. (`axum::serve` has
    // no such timeout.)
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // No descriptors left, say: wait rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        tokio::spawn(connection);
    }
}

/// The server decides the order and its amount, then sends the buyer to the gateway.
async fn buy(State(payments): State<Payments>) -> Result<StartResponse, StartError> {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = OrderId::from(NEXT.fetch_add(1, Ordering::Relaxed));
    let order = Order::new(id, Rial::new(120_000));
    start(&payments, GatewayId::NovinPal, &order).await
}
