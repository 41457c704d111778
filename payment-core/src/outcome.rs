//! What a callback comes to, and the default page for each outcome.

use serde::{Deserialize, Serialize};

use crate::{
    CallbackData, CallbackError, GatewayError, GatewayId, Receipt, Rial, StateCookie,
    codec::StateError, html::escape,
};

/// The result of handling a callback. Only [`Outcome::Paid`] means the shop may fulfil.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Outcome {
    /// Verified and matched with the signed order state: fulfil the order.
    Paid(Receipt),
    /// The buyer cancelled, or the gateway or bank declined: the order is not paid.
    Failed(FailedPayment),
    /// Verify could not finish (timeout, 5xx, server error): the buyer may have paid.
    /// Keep the [`PendingPayment`] and retry it with
    /// [`Payments::retry`](crate::Payments::retry); nothing is fulfilled yet.
    Pending(PendingPayment),
    /// The callback was refused (forged, tampered, replayed, mismatched, expired or
    /// missing state). Nothing was fulfilled.
    Rejected(Rejection),
    /// A cross-site `POST` callback arrived without the state cookie, which browsers
    /// withhold on such requests; answer with this page, which re-posts the same fields
    /// from our own origin so that the cookie comes along.
    Resubmit(ResubmitForm),
}

impl Outcome {
    /// The HTTP status a default answer uses.
    pub fn http_status(&self) -> u16 {
        match self {
            Outcome::Paid(_) | Outcome::Resubmit(_) => 200,
            Outcome::Failed(_) => 402,
            Outcome::Pending(_) => 202,
            Outcome::Rejected(r) => r.http_status(),
        }
    }

    /// A short name for logs and metrics: `paid`, `failed`, `pending`, `rejected`,
    /// `resubmit`.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Paid(_) => "paid",
            Outcome::Failed(_) => "failed",
            Outcome::Pending(_) => "pending",
            Outcome::Rejected(_) => "rejected",
            Outcome::Resubmit(_) => "resubmit",
        }
    }

    /// The receipt, if paid.
    pub fn receipt(&self) -> Option<&Receipt> {
        match self {
            Outcome::Paid(r) => Some(r),
            _ => None,
        }
    }

    /// A plain, readable page in Persian and English for this outcome.
    pub fn default_page(&self) -> String {
        match self {
            Outcome::Paid(r) => {
                let mut rows = vec![
                    ("شماره سفارش / Order", escape(r.order_id().as_str())),
                    (
                        "مبلغ / Amount",
                        format!("{} ریال / rial", r.amount().grouped()),
                    ),
                    ("درگاه / Gateway", r.gateway().display_name().to_owned()),
                ];
                if let Some(reference) = r.bank_reference() {
                    rows.push(("کد پیگیری / Reference", escape(reference)));
                }
                if let Some(card) = r.card_mask() {
                    rows.push(("کارت / Card", escape(card)));
                }
                page("پرداخت موفق بود", "Payment successful", "", &rows)
            }
            Outcome::Failed(f) => page(
                "پرداخت انجام نشد",
                "Payment not completed",
                &format!(
                    "{} / {}",
                    escape(&f.reason.persian()),
                    escape(&f.reason.english())
                ),
                &[("شماره سفارش / Order", escape(&f.order_id))],
            ),
            Outcome::Pending(p) => page(
                "پرداخت در حال بررسی است",
                "Payment being confirmed",
                "اگر مبلغی از حساب شما کسر شده باشد، پس از تایید ثبت می‌شود یا ظرف ۷۲ ساعت بازمی‌گردد. \
                 / If money left your account, the order is confirmed shortly or the bank returns it.",
                &[("شماره سفارش / Order", escape(&p.order_id))],
            ),
            Outcome::Rejected(r) => page(
                "درخواست نامعتبر",
                "Request refused",
                &format!("{} / {}", escape(r.persian()), escape(r.english())),
                &[],
            ),
            Outcome::Resubmit(form) => form.page(),
        }
    }
}

fn page(title_fa: &str, title_en: &str, text: &str, rows: &[(&str, String)]) -> String {
    let rows: String = rows
        .iter()
        .map(|(k, v)| format!("<tr><th>{k}</th><td>{v}</td></tr>"))
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"fa\" dir=\"rtl\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title_fa} / {title_en}</title><style>body{{font-family:Tahoma,sans-serif;max-width:36rem;\
         margin:3rem auto;padding:0 1rem;line-height:1.7}}th{{text-align:start;padding-inline-end:1rem}}</style>\
         </head><body><h1>{title_fa}</h1><h2 lang=\"en\" dir=\"ltr\">{title_en}</h2><p>{text}</p>\
         <table>{rows}</table></body></html>\n"
    )
}

/// Why a payment failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureReason {
    /// The callback says the buyer cancelled or the bank declined (its code, if any).
    NotPaid {
        /// The gateway's code from the callback.
        code: Option<crate::GatewayCode>,
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
    /// The gateway.
    pub gateway: GatewayId,
    /// The shop's order id (from the signed state).
    pub order_id: String,
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
    /// Another request is verifying this payment right now.
    InProgress,
    /// The replay guard could not be reached, so verify was not attempted.
    GuardUnavailable,
}

/// A payment whose verify could not finish. Everything needed to verify it later is
/// inside; store it (it is `Serialize`) and pass it to
/// [`Payments::retry`](crate::Payments::retry) until it is paid or failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPayment {
    /// The gateway.
    pub gateway: GatewayId,
    /// The shop's order id.
    pub order_id: String,
    /// The amount the shop asked for.
    pub amount: Rial,
    /// Why it is pending.
    pub reason: PendingReason,
    /// The signed order state (checked again on retry).
    pub(crate) state: String,
    /// The cookie name the state is bound to.
    pub(crate) state_name: String,
    /// The parsed callback (boxed: it is the largest part, and every `Outcome` is as
    /// large as its largest variant).
    pub(crate) callback: Box<CallbackData>,
}

/// Why a callback was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The callback route names a gateway that is not configured.
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
    /// The callback could not be handled because of how the library is set up.
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
            Rejection::Misconfigured(_) => 500,
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
            Rejection::Misconfigured(_) => "تنظیمات پرداخت فروشگاه کامل نیست",
        }
    }
}

/// The same-origin re-post that recovers a cookie withheld on a cross-site `POST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResubmitForm {
    /// Where to post: a path on our own origin.
    pub action: String,
    /// The fields to post again, with the marker field added.
    pub fields: Vec<(String, String)>,
}

impl ResubmitForm {
    /// The auto-submitting page.
    pub fn page(&self) -> String {
        crate::html::auto_submit_page("POST", &self.action, &self.fields)
    }
}

/// What [`Payments::handle_callback`](crate::Payments::handle_callback) returns: the
/// outcome, and the cookies to set or remove on the response.
#[derive(Debug, Clone)]
pub struct CallbackResult {
    /// What happened.
    pub outcome: Outcome,
    /// Cookies to put on the response (removals of used or invalid states).
    pub cookies: Vec<StateCookie>,
}
