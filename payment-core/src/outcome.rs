//! What a callback comes to: a [`Receipt`], or why not ([`NotPaid`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{
    AccountId, OrderId, Receipt, Rial,
    callback::CallbackData,
    error::{CallbackError, GatewayCode, GatewayError, StateError},
};

/// Why a callback, or a retry of a pending payment, yielded no receipt. Nothing was
/// fulfilled.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum NotPaid {
    /// The buyer cancelled, or the gateway or bank declined: the order is not paid.
    Failed(FailedPayment),
    /// Verify could not finish (timeout, 5xx, server error): the buyer may have paid.
    /// Keep the [`PendingPayment`] and retry it with
    /// [`Payments::retry`](crate::Payments::retry).
    Pending(PendingPayment),
    /// The callback was refused (forged, tampered, replayed, mismatched, expired or
    /// missing state, misconfigured route).
    Rejected(Rejection),
    /// A cross-site `POST` callback arrived without the state cookie, which browsers
    /// withhold on such requests: the answer is a page that posts the same fields again
    /// from the shop's own origin, so that the cookie comes along. Always answer it with
    /// the library's own page.
    Resubmit(ResubmitForm),
}

impl NotPaid {
    /// The HTTP status of the default answer: 402 failed, 202 pending, 200 for the
    /// re-post page, and the rejection's own (400, 403, 404, 409, 410, 500).
    pub fn http_status(&self) -> u16 {
        match self {
            NotPaid::Failed(_) => 402,
            NotPaid::Pending(_) => 202,
            NotPaid::Rejected(r) => r.http_status(),
            NotPaid::Resubmit(_) => 200,
        }
    }

    /// A short name for logs and metrics: `failed`, `pending`, `rejected`, `resubmit`.
    pub fn kind(&self) -> &'static str {
        match self {
            NotPaid::Failed(_) => "failed",
            NotPaid::Pending(_) => "pending",
            NotPaid::Rejected(_) => "rejected",
            NotPaid::Resubmit(_) => "resubmit",
        }
    }
}

impl fmt::Display for NotPaid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotPaid::Failed(failed) => write!(
                f,
                "payment for order {} failed: {}",
                failed.order_id,
                failed.reason.english()
            ),
            NotPaid::Pending(pending) => {
                write!(f, "payment for order {} is pending", pending.order_id)
            }
            NotPaid::Rejected(rejection) => {
                write!(f, "payment callback refused: {}", rejection.english())
            }
            NotPaid::Resubmit(_) => {
                f.write_str("payment callback must be re-posted from the shop's origin")
            }
        }
    }
}

/// Why a payment failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureReason {
    /// The callback says the buyer cancelled or the bank declined (its code, if any).
    NotPaid {
        /// The gateway's code from the callback.
        code: Option<GatewayCode>,
    },
    /// Verify was refused with a final answer.
    Declined(GatewayError),
}

impl FailureReason {
    /// The reason in English, for the buyer.
    pub fn english(&self) -> String {
        match self {
            FailureReason::NotPaid { code: Some(c) } => {
                format!("the payment was cancelled or declined ({})", c.english())
            }
            FailureReason::NotPaid { code: None } => {
                "the payment was cancelled or declined".to_owned()
            }
            FailureReason::Declined(e) => format!("the gateway declined it ({})", e.code.english()),
        }
    }

    /// The reason in Persian, for the buyer.
    pub fn persian(&self) -> String {
        match self {
            FailureReason::NotPaid { code: Some(c) } => {
                format!("پرداخت لغو یا رد شد ({})", c.persian())
            }
            FailureReason::NotPaid { code: None } => "پرداخت لغو یا رد شد".to_owned(),
            FailureReason::Declined(e) => format!("درگاه پرداخت را نپذیرفت ({})", e.code.persian()),
        }
    }
}

/// A payment that did not go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedPayment {
    /// The gateway account.
    pub account: AccountId,
    /// The shop's order id (from the signed state).
    pub order_id: OrderId,
    /// The amount the shop asked for.
    pub amount: Rial,
    /// Why.
    pub reason: FailureReason,
}

/// Why a payment is pending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum PendingReason {
    /// Verify did not complete (timeout, connection, 5xx, malformed answer).
    Transport(String),
    /// The gateway answered with a code that may change (server error, awaiting payment).
    GatewayBusy(i64),
    /// The replay guard could not be reached, so verify was not attempted, or the
    /// fulfilment could not be recorded.
    GuardUnavailable,
    /// Verified, but the app's fulfilment hook failed (its error is logged).
    Fulfilment,
}

/// A payment whose verify could not finish. Everything needed to verify it later is
/// inside; store it (it is `Serialize`) and pass it to
/// [`Payments::retry`](crate::Payments::retry) until it is paid or failed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPayment {
    /// The gateway account.
    pub account: AccountId,
    /// The shop's order id.
    pub order_id: OrderId,
    /// The amount the shop asked for.
    pub amount: Rial,
    /// Why it is pending.
    pub reason: PendingReason,
    /// The signed order state (checked again on retry).
    pub(crate) state: String,
    /// The cookie name the state is bound to.
    pub(crate) state_name: String,
    /// The parsed callback.
    pub(crate) callback: CallbackData,
}

// The signed state and the callback (which may carry a bearer token) stay out of logs.
impl fmt::Debug for PendingPayment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingPayment")
            .field("account", &self.account)
            .field("order_id", &self.order_id)
            .field("amount", &self.amount)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

/// Why a callback was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The callback route names a gateway account that is not configured.
    UnknownGateway,
    /// The callback lacks the gateway's documented fields or is oversized.
    MalformedCallback(CallbackError),
    /// No order state came with the callback (the cookie was not sent, or the payment was
    /// started in another browser).
    MissingState,
    /// An order state came but its signature, format or key is wrong.
    TamperedState(StateError),
    /// The state is valid but past its expiry.
    ExpiredState,
    /// Valid states came, but none is for the order or payment the callback names.
    ForeignState,
    /// The callback's order id differs from the state's.
    OrderMismatch,
    /// The callback's or the gateway's amount differs from the state's.
    AmountMismatch,
    /// The gateway's verified order id differs from the state's.
    VerifiedOrderMismatch,
    /// This payment was fulfilled already.
    Replay,
    /// Another request is handling this payment right now; try again shortly.
    InProgress,
    /// The gateway did not confirm the payment this callback names, and the signed order
    /// state does not bind that reference (GardeshPay's callback carries only a tracking
    /// number the state cannot know). Anyone who knows an order id can send such a
    /// callback, so the refusal is not final: the order state stays usable, and the
    /// buyer's real return can still pay it.
    UnconfirmedPayment,
    /// The callback could not be handled because of how the library is set up (routes
    /// mounted elsewhere than the callback URLs say, an extractor for a gateway that is
    /// not configured).
    Misconfigured(String),
}

impl Rejection {
    /// The HTTP status a default answer uses.
    pub fn http_status(&self) -> u16 {
        match self {
            Rejection::UnknownGateway => 404,
            Rejection::MalformedCallback(_) | Rejection::MissingState => 400,
            Rejection::TamperedState(_)
            | Rejection::ForeignState
            | Rejection::OrderMismatch
            | Rejection::AmountMismatch
            | Rejection::VerifiedOrderMismatch => 403,
            Rejection::ExpiredState => 410,
            Rejection::Replay | Rejection::InProgress => 409,
            Rejection::UnconfirmedPayment => 402,
            Rejection::Misconfigured(_) => 500,
        }
    }

    /// Whether an operator should look at this refusal: a forged or altered state or
    /// callback, an amount or order the gateway contradicts, or a setup error. The others
    /// (a lost cookie, a reload, a replay, a late return) are a normal day's traffic, to
    /// be counted rather than alarmed on.
    ///
    /// ```
    /// use payment_core::Rejection;
    /// assert!(Rejection::AmountMismatch.needs_attention());
    /// assert!(!Rejection::Replay.needs_attention());
    /// ```
    pub fn needs_attention(&self) -> bool {
        match self {
            Rejection::TamperedState(_)
            | Rejection::OrderMismatch
            | Rejection::AmountMismatch
            | Rejection::VerifiedOrderMismatch
            | Rejection::Misconfigured(_) => true,
            Rejection::UnknownGateway
            | Rejection::MalformedCallback(_)
            | Rejection::MissingState
            | Rejection::ExpiredState
            | Rejection::ForeignState
            | Rejection::Replay
            | Rejection::InProgress
            | Rejection::UnconfirmedPayment => false,
        }
    }

    /// A short stable name for logs and counters (`"replay"`, `"missing_state"`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Rejection::UnknownGateway => "unknown_gateway",
            Rejection::MalformedCallback(_) => "malformed_callback",
            Rejection::MissingState => "missing_state",
            Rejection::TamperedState(_) => "tampered_state",
            Rejection::ExpiredState => "expired_state",
            Rejection::ForeignState => "foreign_state",
            Rejection::OrderMismatch => "order_mismatch",
            Rejection::AmountMismatch => "amount_mismatch",
            Rejection::VerifiedOrderMismatch => "verified_order_mismatch",
            Rejection::Replay => "replay",
            Rejection::InProgress => "in_progress",
            Rejection::UnconfirmedPayment => "unconfirmed_payment",
            Rejection::Misconfigured(_) => "misconfigured",
        }
    }

    /// The reason in English.
    pub fn english(&self) -> &'static str {
        match self {
            Rejection::UnknownGateway => "unknown payment gateway",
            Rejection::MalformedCallback(_) => "the gateway's answer is incomplete or malformed",
            Rejection::MissingState => {
                "this payment was not started in this browser, or its session was lost; please start the payment again"
            }
            Rejection::TamperedState(_) => "the payment session is invalid",
            Rejection::ExpiredState => {
                "the payment session has expired; please start the payment again"
            }
            Rejection::ForeignState => {
                "this answer does not belong to the payment started in this browser"
            }
            Rejection::OrderMismatch => "the order in the gateway's answer does not match",
            Rejection::AmountMismatch => "the amount in the gateway's answer does not match",
            Rejection::VerifiedOrderMismatch => "the gateway confirmed a different order",
            Rejection::Replay => "this payment has already been processed",
            Rejection::InProgress => {
                "this payment is being processed; please wait a moment and refresh"
            }
            Rejection::UnconfirmedPayment => {
                "the gateway has not confirmed this payment; if you paid, return from the gateway's page again"
            }
            Rejection::Misconfigured(_) => "the shop's payment settings are incomplete",
        }
    }

    /// The reason in Persian.
    pub fn persian(&self) -> &'static str {
        match self {
            Rejection::UnknownGateway => "درگاه پرداخت ناشناخته است",
            Rejection::MalformedCallback(_) => "پاسخ درگاه ناقص یا نامعتبر است",
            Rejection::MissingState => {
                "این پرداخت در این مرورگر آغاز نشده یا نشست آن از دست رفته است؛ لطفا دوباره پرداخت کنید"
            }
            Rejection::TamperedState(_) => "نشست پرداخت نامعتبر است",
            Rejection::ExpiredState => "مهلت نشست پرداخت تمام شده است؛ لطفا دوباره پرداخت کنید",
            Rejection::ForeignState => "این پاسخ متعلق به پرداختی که در این مرورگر آغاز شده نیست",
            Rejection::OrderMismatch => "شماره سفارش در پاسخ درگاه مطابقت ندارد",
            Rejection::AmountMismatch => "مبلغ در پاسخ درگاه مطابقت ندارد",
            Rejection::VerifiedOrderMismatch => "درگاه سفارش دیگری را تایید کرد",
            Rejection::Replay => "این پرداخت قبلا پردازش شده است",
            Rejection::InProgress => "این پرداخت در حال پردازش است؛ لحظه‌ای بعد صفحه را تازه کنید",
            Rejection::UnconfirmedPayment => {
                "درگاه این پرداخت را تایید نکرده است؛ اگر پرداخت کرده‌اید، دوباره از صفحه درگاه بازگردید"
            }
            Rejection::Misconfigured(_) => "تنظیمات پرداخت فروشگاه کامل نیست",
        }
    }
}

/// The same-origin re-post that recovers a cookie withheld on a cross-site `POST`.
#[derive(Clone, PartialEq, Eq)]
pub struct ResubmitForm {
    /// Where to post: a path on the shop's own origin.
    pub action: String,
    /// The fields to post again, with the marker field added.
    pub fields: Vec<(String, String)>,
}

// The fields are the gateway's callback, which may carry a bearer token.
impl fmt::Debug for ResubmitForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.fields.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ResubmitForm")
            .field("action", &self.action)
            .field("fields", &names)
            .finish()
    }
}

/// The outcome of a receipt-or-not: `Ok` only for a verified payment that matched the
/// signed order state.
pub type Outcome = Result<Receipt, NotPaid>;

/// A short name for an outcome, for logs and metrics: `paid`, or [`NotPaid::kind`].
pub(crate) fn kind(outcome: &Outcome) -> &'static str {
    match outcome {
        Ok(_) => "paid",
        Err(not_paid) => not_paid.kind(),
    }
}
