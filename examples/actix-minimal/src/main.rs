//! A minimal actix-web shop that takes payments through NovinPal, here against the gateway
//! sandbox running in the same process. Run it, open <http://localhost:8080/buy> and press
//! "pay" on the sandbox's payment page.
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::{App, HttpResponse, HttpServer, Responder, get, web};
use payment_actix::{CallbackCookies, PaymentCallback, payment_core::*, start};
use payment_sandbox::{NOVINPAL_API_KEY, Sandbox, SandboxConfig, SandboxGateway};

static NEXT_ORDER: AtomicU64 = AtomicU64::new(1);

/// Starts the payment of a new order. The amount is decided here, on the server.
#[get("/buy")]
async fn buy(payments: web::Data<Payments>) -> impl Responder {
    let id = OrderId::from(NEXT_ORDER.fetch_add(1, Ordering::Relaxed));
    let order = Order::new(id, Rial::new(120_000));
    start(&payments, GatewayId::NovinPal, &order).await
}

/// The callback. The handler only runs for a verified payment, once; a cancelled, refused
/// or pending payment is answered by the extractor's rejection with its own page.
async fn paid(
    cookies: CallbackCookies,
    PaymentCallback(receipt): PaymentCallback<NovinPal>,
) -> impl Responder {
    let (order, rial) = (receipt.order_id(), receipt.amount().get());
    cookies.attach(HttpResponse::Ok().body(format!("Paid order {order}: {rial} rial")))
}

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    // `?` in main would print an error's Debug form; a sentence reads better.
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("actix-minimal: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::spawn_on_loopback(SandboxConfig::default()).await?;
    let novinpal = NovinPal::new(NOVINPAL_API_KEY)
        .with_base_url(&sandbox.base_url_for(SandboxGateway::NovinPal))?;
    // Development only: in production load a fixed key of 32+ bytes from your secrets.
    let keys = KeyRing::new(SigningKey::generate(1)?);
    let payments = Payments::builder("http://localhost:8080", keys)
        .gateway(novinpal)
        .build()?;
    let callback = payments.callback_path(GatewayId::NovinPal); // /pay/callback/novinpal
    println!(
        "shop: http://localhost:8080/buy  (sandbox: {})",
        sandbox.base_url
    );
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(payments.clone()))
            .service(buy)
            .route(&callback, web::get().to(paid))
            .route(&callback, web::post().to(paid))
    })
    // A client has 10 s to send a request's head and 5 s to hang up after the answer;
    // at most 1,024 connections per worker.
    .client_request_timeout(std::time::Duration::from_secs(10))
    .client_disconnect_timeout(std::time::Duration::from_secs(5))
    .max_connections(1024)
    .bind(("127.0.0.1", 8080))?
    .run()
    .await?;
    Ok(())
}
