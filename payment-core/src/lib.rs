//! # payment-core
//!
//! Take payments through Iranian internet payment gateways — IDPay, NovinPal, Inopal,
//! CanPay, GardeshPay, Zarinpal and Zibal — without losing a payment and without
//! fulfilling one twice.
//!
//! - [`Payments`] is the service an app configures once ([`Payments::builder`]) and
//!   shares: it starts payments ([`Payments::start`]) and turns the returning buyer's
//!   callback into a verified [`Receipt`] ([`Payments::handle_callback`]).
//! - When a payment starts, the order state (gateway account, order id, amount, the
//!   gateway's reference, a nonce, expiry) is signed with HMAC-SHA256 into a cookie
//!   ([`state`]). The callback is checked against that state, the payment is claimed
//!   once in a [`ReplayGuard`], verify is called with the state's amount, and only then
//!   does the app hear of it.
//! - The gateway adapters ([`gateways`]) speak each gateway's wire protocol; [`adapter`]
//!   holds what calling one directly needs.
//!
//! This crate has no web framework inside; `payment-axum` and `payment-actix` render
//! what it decides ([`reply`]).
mod callback;
pub mod clock;
mod codec;
mod codes;
mod cookie;
pub mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod gateway;
mod gateway_id;
pub mod gateways;
mod http;
pub mod ledger;
mod money;
mod order;
pub mod outcome;
mod pages;
mod payments;
mod random;
mod receipt;
mod reconciler;
mod redact;
pub mod replay;
#[cfg(feature = "redis")]
mod replay_redis;
pub mod reply;
pub mod state;

/// What a gateway adapter is made of: the [`Gateway`](adapter::Gateway) trait, its
/// optional capabilities, and the types its methods take and give. [`Payments`] calls
/// adapters for an app; reach for this module to call one directly (an inquiry, a
/// refund), or to write a stand-in gateway for an app's tests.
pub mod adapter {
    pub use crate::{
        callback::{CallbackData, CallbackMethod, CallbackStatus, parse_amount},
        gateway::{Created, Gateway, GatewayReceipt, Inquiry, Redirect, Reverse},
        receipt::Verified,
    };
}

pub use callback::CallbackRequest;
pub use codec::{KeyRing, SigningKey};
pub use error::{ConfigError, Error};
pub use gateway_id::{AccountId, GatewayId};
pub use gateways::{
    CanPay, GardeshPay, GardeshPayAmountUnit, GardeshPayEncoding, GardeshPayTokenPlacement, IdPay,
    Inopal, NovinPal, Zarinpal, Zibal,
};
pub use http::{HttpClient, HttpConfig};
pub use money::{Rial, Toman};
pub use order::{CardNumber, Order, OrderId};
pub use outcome::{FailedPayment, NotPaid, PendingPayment, Rejection};
pub use payments::{Payments, PaymentsBuilder, RefundError, StartedPayment};
pub use receipt::Receipt;
pub use reconciler::{ReconcileReport, Reconciler};
pub use replay::{MemoryReplayGuard, ReplayGuard};
#[cfg(feature = "redis")]
pub use replay_redis::RedisReplayGuard;

/// Re-exported so users name one version of these crates.
pub use time;
pub use url;
