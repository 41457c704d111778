//! # payment-axum
//!
//! [axum] 0.8 glue for [`payment_core`]: take payments through IDPay, NovinPal, Inopal,
//! CanPay and GardeshPay in an existing axum app. Every rule about which callback to
//! trust, and what to answer, lives in `payment-core`; this crate moves requests in and
//! renders core's answers.
//!
//! - [`PaymentRouter`]: the callback routes of every configured gateway account, to add
//!   to any app (with or without its own state), with hooks that receive the verified
//!   [`Receipt`](payment_core::Receipt) or the typed failure.
//! - [`PaymentCallback<P>`]: an extractor for apps that want their own callback route:
//!   `async fn paid(PaymentCallback(receipt): PaymentCallback<NovinPal>)`.
//! - [`start`]: from any handler, create the payment and answer with the redirect to the
//!   gateway and the signed state cookie.
//!
//! `payment_core` is re-exported, so one dependency is enough.
//!
//! ```no_run
//! use axum::{Router, extract::{Path, State}, response::{IntoResponse, Response}, routing::post};
//! use payment_axum::{PaymentRouter, payment_core::*, start};
//!
//! async fn pay(State(payments): State<Payments>, Path(id): Path<String>) -> Response {
//!     let Ok(id) = id.parse::<OrderId>() else { return "no such order".into_response() };
//!     let order = Order::new(id, Rial::new(120_000)); // priced on the server
//!     match start(&payments, GatewayId::NovinPal, &order).await {
//!         Ok(redirect) => redirect.into_response(), // 302 + Set-Cookie
//!         Err(e) => e.into_response(),              // readable page, 422/502/504/500
//!     }
//! }
//!
//! async fn serve(payments: Payments) -> std::io::Result<()> {
//!     let app = Router::new()
//!         .route("/orders/{id}/pay", post(pay))
//!         .with_state(payments.clone());
//!     // Callbacks: {public base URL}{mount path}/callback/{account}, e.g. /pay/callback/novinpal
//!     let app = PaymentRouter::new(payments)
//!         .on_paid(|receipt: Receipt| async move {
//!             // Fulfil here: the receipt exists only for a verified, matching payment.
//!             format!("order {} paid, reference {:?}", receipt.order_id(), receipt.bank_reference())
//!         })
//!         .mount(app);
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     axum::serve(listener, app).await
//! }
//! ```
//!
//! ## Cross-site POST returns
//!
//! IDPay, CanPay and Inopal send the buyer back with a cross-site `POST`, on which
//! browsers withhold `SameSite=Lax` cookies such as the state cookie. The callback routes
//! (and [`PaymentCallback`]) answer such a cookieless `POST` once with a same-origin page
//! that posts the same fields again — now a same-site request, so the cookie comes along.
//! This works with the default cookie settings on plain-http development origins too.
//! Your app's own session cookie is withheld on that first `POST` as well; rely on the
//! receipt, not on the session, inside payment hooks.
mod extractor;
mod render;
mod routes;
mod start;

pub use extractor::{CallbackCookies, PaymentCallback, PaymentRejection};
pub use payment_core;
pub use routes::PaymentRouter;
pub use start::{StartError, StartResponse, start};
