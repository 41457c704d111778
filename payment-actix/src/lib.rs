//! # payment-actix
//!
//! actix-web 4 glue for [`payment_core`]: take payments through IDPay, NovinPal, Inopal,
//! CanPay and GardeshPay without losing one and without fulfilling one twice. Every rule
//! about which callback to trust, and what to answer, lives in `payment-core`; this crate
//! moves requests in and renders core's answers.
//!
//! What you add to an existing app:
//!
//! 1. **Start a payment** from any handler with [`start`]: it creates the payment at the
//!    gateway and answers with a redirect (or an auto-submitting form) and the signed
//!    order-state cookie.
//! 2. **Receive the callback**, either
//!    - with the [`PaymentCallback<P>`] extractor in your own handler at
//!      `payments.callback_path(P::ID)`, which yields a verified
//!      [`Receipt`](payment_core::Receipt) or a
//!      [`PaymentRejection`] that answers for itself, or
//!    - with [`PaymentScope`], which mounts the callback routes of every configured
//!      gateway account at the configured mount path and calls your hook per outcome.
//!
//! The cross-site `POST` return of IDPay, CanPay and Inopal (browsers withhold
//! `SameSite=Lax` cookies on it) is handled by the core pipeline: such a callback without
//! its cookie is answered with a same-origin page that posts it again, now with the cookie.
//!
//! ```no_run
//! use actix_web::{App, HttpResponse, HttpServer, Responder, get, web};
//! use payment_actix::{
//!     PaymentScope, start,
//!     payment_core::{GatewayId, KeyRing, NovinPal, Order, Payments, Rial, SigningKey},
//! };
//!
//! #[get("/buy/{order}")]
//! async fn buy(payments: web::Data<Payments>, order: web::Path<String>) -> impl Responder {
//!     let id = order.into_inner().parse().map_err(actix_web::error::ErrorBadRequest)?;
//!     // The amount comes from the server, never from the buyer.
//!     let order = Order::new(id, Rial::new(120_000));
//!     start(&payments, GatewayId::NovinPal, &order).await.map_err(actix_web::Error::from)
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let key = SigningKey::from_base64(1, &std::env::var("PAYMENT_KEY")?)?;
//!     let payments = Payments::builder("https://shop.example", KeyRing::new(key))
//!         .gateway(NovinPal::new("my-api-key"))
//!         .build()?;
//!     let routes = PaymentScope::new(payments.clone()).on_paid(|receipt| async move {
//!         // Fulfil receipt.order_id() here, once.
//!         HttpResponse::Ok().body(format!("paid {}", receipt.order_id()))
//!     });
//!     HttpServer::new(move || {
//!         App::new()
//!             .app_data(web::Data::new(payments.clone()))
//!             .service(buy)
//!             .service(routes.scope()) // callbacks at /pay/callback/{account}
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await?;
//!     Ok(())
//! }
//! ```
//!
//! actix-web 4 uses its own versions of the `http` and `cookie` crates, so the headers core
//! decides on are written as text rather than converted. A host app's own `SameSite=Strict` session cookie is withheld on
//! the return from the gateway (a cross-site navigation): do not rely on the session in
//! the callback; the signed order state is what identifies the payment.
mod extractor;
mod render;
mod routes;
mod start;

pub use extractor::{CallbackCookies, PaymentCallback, PaymentRejection, WithCookies};
/// The core crate, re-exported so an app needs one dependency and one version of it.
pub use payment_core;
pub use routes::PaymentScope;
pub use start::{StartError, StartResponse, start};
