//! # payment-core
//!
//! Take payments through Iranian internet payment gateways — IDPay, NovinPal, Inopal,
//! CanPay and GardeshPay — without losing a payment and without fulfilling one twice.
//!
//! - [`Gateway`] adapters speak each gateway's wire protocol.
//! - [`StateCodec`] signs the order state (gateway, order id, amount, reference, nonce,
//!   expiry) with HMAC-SHA256 into a cookie when a payment starts.
//! - [`Payments::handle_callback`] checks the returning buyer's callback against that
//!   state, claims the payment once in a [`ReplayGuard`], verifies it with the state's
//!   amount, and only then hands back a [`Receipt`].
//!
//! This crate has no web framework inside; `payment-axum` and `payment-actix` are the thin
//! glue for those frameworks.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod callback;
mod clock;
mod codec;
mod codes;
mod cookie;
mod error;
mod error_page;
#[doc(hidden)]
pub mod fuzzing;
mod gateway;
mod gateway_id;
pub mod gateways;
pub mod html;
mod http;
mod money;
mod order;
mod outcome;
mod payments;
mod random;
mod receipt;
mod redact;
mod replay;
#[cfg(feature = "redis")]
mod replay_redis;
mod state;

pub use callback::{
    CallbackData, CallbackMethod, CallbackRequest, CallbackStatus, MAX_CALLBACK_FIELD_LEN,
    MAX_CALLBACK_FIELDS, parse_amount,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use codec::{KeyRing, MAX_ENCODED_LEN, MIN_KEY_LEN, SigningKey, StateCodec, StateError};
pub use codes::{CodeInfo, GatewayCode};
pub use cookie::{SameSite, StateCookie};
pub use error::{
    CallbackError, ConfigError, Error, GatewayError, InvalidOrder, Operation, OrderProblem,
    TransportError, TransportErrorKind,
};
pub use gateway::{BoxFuture, Created, DynGateway, Gateway, Inquiry, Redirect, Reverse};
pub use gateway_id::{GatewayId, UnknownGateway};
pub use gateways::{canpay::*, gardeshpay::*, idpay::*, inopal::*, novinpal::*};
pub use http::{HttpClient, HttpConfig, RawResponse};
pub use money::{AmountOverflow, Rial, Toman};
pub use order::{CardNumber, MAX_ORDER_ID_LEN, Order, OrderId, OrderIdError};
pub use outcome::{
    CallbackResult, FailedPayment, FailureReason, Outcome, PendingPayment, PendingReason,
    Rejection, ResubmitForm,
};
pub use payments::{Payments, PaymentsBuilder, RESUBMIT_FIELD, StartedPayment};
pub use receipt::{Receipt, Verified};
pub use replay::{Claim, ClaimTicket, GuardError, MemoryReplayGuard, ReplayGuard};
#[cfg(feature = "redis")]
pub use replay_redis::RedisReplayGuard;
pub use state::{NONCE_LEN, OrderState};

/// Re-exported so users name one version of these crates.
pub use secrecy;
pub use time;
pub use url;
