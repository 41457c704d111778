//! Typed errors. Each kind tells the caller what to do next: a transport error may be
//! retried, a gateway refusal is final, an invalid order never left the server.
//!
//! No error text ever holds an API key, merchant code, token or full card number.

use std::fmt;

use crate::{AccountId, GatewayId};
pub use crate::{
    codec::StateError, codes::GatewayCode, ledger::StoreError, money::AmountOverflow,
    order::OrderIdError, replay::GuardError,
};

/// The gateway call an error happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Creating a payment (asking for a token / reference).
    Create,
    /// Verifying (confirming) a payment.
    Verify,
    /// Asking for a payment's status.
    Inquiry,
    /// Refunding a verified payment.
    Reverse,
}

impl Operation {
    /// The lowercase name, as in logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Verify => "verify",
            Operation::Inquiry => "inquiry",
            Operation::Reverse => "reverse",
        }
    }

    /// Whether sending the call twice is harmless. Create never is: it could start two
    /// payments.
    pub const fn is_repeatable(self) -> bool {
        matches!(self, Operation::Verify | Operation::Inquiry)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a gateway adapter or the payment pipeline can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The call did not complete: the result at the gateway is unknown.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The gateway answered and said no.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// The order breaks a documented limit of the gateway; nothing was sent.
    #[error(transparent)]
    InvalidOrder(#[from] InvalidOrder),
    /// A callback request is missing documented fields or holds malformed ones.
    #[error(transparent)]
    Callback(#[from] CallbackError),
    /// The gateway does not offer this operation.
    #[error("{gateway} does not support {operation}")]
    Unsupported {
        /// The gateway asked.
        gateway: GatewayId,
        /// What was asked of it.
        operation: Operation,
    },
    /// The library is configured wrongly (missing key, gateway not configured, bad URL).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The payment could not be recorded in the ledger, so the buyer was not sent to pay
    /// (a payment the ledger does not know could not be reconciled).
    #[error(transparent)]
    Ledger(#[from] StoreError),
}

impl Error {
    /// `true` when the outcome at the gateway is unknown or may change, so the same call
    /// should be tried again later (timeouts, connection failures, 5xx, malformed
    /// answers, and gateway codes that mean "server error").
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport(_) => true,
            Error::Gateway(e) => e.code.is_transient(),
            _ => false,
        }
    }
}

/// What went wrong on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No complete answer within the configured time.
    Timeout,
    /// The connection could not be made or was dropped.
    Connect,
    /// The gateway answered with an HTTP status its API does not use for answers
    /// (5xx, or an unexpected 4xx without a recognisable body).
    Status(u16),
    /// The body could not be decoded as any documented shape.
    Malformed(String),
    /// Anything else the HTTP client reported.
    Other,
}

/// A gateway call that did not produce a usable answer. Whether the gateway acted on it
/// is unknown: a verify that failed this way leaves the payment pending.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{gateway} {operation}: {}", describe_kind(kind))]
pub struct TransportError {
    /// The gateway called.
    pub gateway: GatewayId,
    /// The call.
    pub operation: Operation,
    /// What went wrong.
    pub kind: TransportErrorKind,
}

fn describe_kind(kind: &TransportErrorKind) -> String {
    match kind {
        TransportErrorKind::Timeout => "timed out".into(),
        TransportErrorKind::Connect => "connection failed".into(),
        TransportErrorKind::Status(s) => format!("unexpected HTTP status {s}"),
        TransportErrorKind::Malformed(what) => format!("malformed answer: {what}"),
        TransportErrorKind::Other => "HTTP client error".into(),
    }
}

/// The gateway answered and refused: its code, the documented meaning and its own text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{gateway} {operation} refused: {code}{}", http_status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
pub struct GatewayError {
    /// The gateway that refused.
    pub gateway: GatewayId,
    /// The call it refused.
    pub operation: Operation,
    /// Its result code.
    pub code: GatewayCode,
    /// The HTTP status of the answer, where it carries meaning.
    pub http_status: Option<u16>,
    /// The gateway's own message, as sent (it may be Persian). Never holds our secrets.
    pub message: Option<String>,
}

/// An order that a gateway's documented limits reject; caught before any request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{gateway} cannot take this order: {reason}")]
pub struct InvalidOrder {
    /// The gateway whose limits were checked.
    pub gateway: GatewayId,
    /// Which rule was broken.
    pub reason: OrderProblem,
}

/// Which documented limit an order breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OrderProblem {
    /// The amount is below the gateway's minimum.
    #[error("amount {amount} rial is below the minimum of {min} rial")]
    AmountTooLow {
        /// The order's amount in rial.
        amount: u64,
        /// The gateway's minimum in rial.
        min: u64,
    },
    /// The amount is above the gateway's maximum.
    #[error("amount {amount} rial is above the maximum of {max} rial")]
    AmountTooHigh {
        /// The order's amount in rial.
        amount: u64,
        /// The gateway's maximum in rial.
        max: u64,
    },
    /// The amount is not a whole number of toman, and the gateway is set to take amounts
    /// in toman (GardeshPay with
    /// [`GardeshPayAmountUnit::Toman`](crate::gateways::gardeshpay::GardeshPayAmountUnit::Toman)).
    #[error("amount {amount} rial is not a whole number of toman (a multiple of 10 rial)")]
    AmountNotWholeToman {
        /// The order's amount in rial.
        amount: u64,
    },
    /// The order id is longer than the gateway allows.
    #[error("order id is {len} characters; at most {max} are allowed")]
    OrderIdTooLong {
        /// The id's length.
        len: usize,
        /// The gateway's maximum.
        max: usize,
    },
    /// The order id has characters the gateway does not take.
    #[error("order id may hold only {allowed}")]
    OrderIdCharacters {
        /// What the gateway allows, in words.
        allowed: &'static str,
    },
    /// An optional field is present but malformed or too long.
    #[error("field `{field}` is invalid: {rule}")]
    Field {
        /// The gateway's field name.
        field: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The callback URL breaks the gateway's rules.
    #[error("callback URL is invalid: {0}")]
    CallbackUrl(&'static str),
}

/// A callback request that does not hold the gateway's documented fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// A required field is missing or empty.
    #[error("callback field `{0}` is missing")]
    MissingField(&'static str),
    /// A field does not parse (e.g. an amount that is not a number).
    #[error("callback field `{0}` is malformed")]
    MalformedField(&'static str),
    /// Too many fields, or a field too long: not a gateway's callback.
    #[error("callback request is too large")]
    TooLarge,
}

/// The library is configured wrongly; found at startup or on first use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No signing key was given.
    #[error("no signing key is configured")]
    MissingSigningKey,
    /// A signing key is shorter than 32 bytes.
    #[error("signing key {key_id} is {len} bytes; at least 32 are required")]
    WeakSigningKey {
        /// The key's id.
        key_id: u8,
        /// Its length in bytes.
        len: usize,
    },
    /// Two keys share an id.
    #[error("signing key id {0} is used twice")]
    DuplicateKeyId(u8),
    /// A URL in the configuration does not parse or has the wrong scheme.
    #[error("invalid URL for {what}")]
    InvalidUrl {
        /// Which setting.
        what: &'static str,
    },
    /// No account of this name is configured in this instance.
    #[error("gateway account {0} is not configured")]
    GatewayNotConfigured(AccountId),
    /// The HTTP client could not be built.
    #[error("HTTP client could not be built")]
    HttpClient,
    /// Another setting is invalid.
    #[error("invalid setting: {0}")]
    Invalid(&'static str),
}

/// The name is not one of the supported gateways, or not a valid account name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown gateway or account name")]
pub struct UnknownGateway;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_classification() {
        let t = Error::Transport(TransportError {
            gateway: GatewayId::CanPay,
            operation: Operation::Verify,
            kind: TransportErrorKind::Timeout,
        });
        assert!(t.is_transient());
        assert_eq!(t.to_string(), "canpay verify: timed out");
        let g = Error::Gateway(GatewayError {
            gateway: GatewayId::CanPay,
            operation: Operation::Verify,
            code: GatewayCode::Undocumented(7),
            http_status: Some(400),
            message: None,
        });
        assert!(!g.is_transient());
        assert_eq!(
            g.to_string(),
            "canpay verify refused: 7 (undocumented code) (HTTP 400)"
        );
    }
}
