//! The public data types: gateways, calls, buyer actions, transactions, faults.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One of the seven simulated gateways.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxGateway {
    /// IDPay, under `/idpay`.
    IdPay,
    /// NovinPal, under `/novinpal`.
    NovinPal,
    /// Inopal, under `/inopal`.
    Inopal,
    /// CanPay, under `/canpay`.
    CanPay,
    /// GardeshPay, under `/gardeshpay`.
    GardeshPay,
    /// Zarinpal, under `/zarinpal`.
    Zarinpal,
    /// Zibal, under `/zibal`.
    Zibal,
}

impl SandboxGateway {
    /// All seven gateways, in a stable order.
    pub const ALL: [SandboxGateway; 7] = [
        SandboxGateway::IdPay,
        SandboxGateway::NovinPal,
        SandboxGateway::Inopal,
        SandboxGateway::CanPay,
        SandboxGateway::GardeshPay,
        SandboxGateway::Zarinpal,
        SandboxGateway::Zibal,
    ];

    /// The lowercase name, also the path prefix without its slash (`"idpay"`).
    pub fn name(self) -> &'static str {
        match self {
            SandboxGateway::IdPay => "idpay",
            SandboxGateway::NovinPal => "novinpal",
            SandboxGateway::Inopal => "inopal",
            SandboxGateway::CanPay => "canpay",
            SandboxGateway::GardeshPay => "gardeshpay",
            SandboxGateway::Zarinpal => "zarinpal",
            SandboxGateway::Zibal => "zibal",
        }
    }

    /// The path prefix under which the gateway is served (`"/idpay"`).
    pub fn prefix(self) -> &'static str {
        match self {
            SandboxGateway::IdPay => "/idpay",
            SandboxGateway::NovinPal => "/novinpal",
            SandboxGateway::Inopal => "/inopal",
            SandboxGateway::CanPay => "/canpay",
            SandboxGateway::GardeshPay => "/gardeshpay",
            SandboxGateway::Zarinpal => "/zarinpal",
            SandboxGateway::Zibal => "/zibal",
        }
    }

    /// A human-readable name for pages.
    pub fn display_name(self) -> &'static str {
        match self {
            SandboxGateway::IdPay => "IDPay (آیدی پی)",
            SandboxGateway::NovinPal => "NovinPal (نوین پال)",
            SandboxGateway::Inopal => "Inopal (اینوپال)",
            SandboxGateway::CanPay => "CanPay (پرداخت یاری)",
            SandboxGateway::GardeshPay => "GardeshPay (گردش پی)",
            SandboxGateway::Zarinpal => "Zarinpal (زرین‌پال)",
            SandboxGateway::Zibal => "Zibal (زیبال)",
        }
    }
}

impl fmt::Display for SandboxGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SandboxGateway {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SandboxGateway::ALL
            .into_iter()
            .find(|g| g.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown gateway `{s}` (idpay, novinpal, inopal, canpay, gardeshpay, zarinpal, zibal)"
                )
            })
    }
}

/// A server-to-server call that faults can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Call {
    /// Creating a payment (token / request / getToken / request.json).
    Create,
    /// Verifying a payment (IDPay's v1 inquiry also counts as an inquiry, not a verify).
    Verify,
    /// An inquiry: IDPay's (v1 and v1.1), Zarinpal's `inquiry.json` and `unVerified.json`,
    /// Zibal's.
    Inquiry,
    /// A reverse: NovinPal's, Zarinpal's `reverse.json`.
    Reverse,
}

impl FromStr for Call {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "create" => Ok(Call::Create),
            "verify" => Ok(Call::Verify),
            "inquiry" => Ok(Call::Inquiry),
            "reverse" => Ok(Call::Reverse),
            _ => Err(format!(
                "unknown call `{s}` (create, verify, inquiry, reverse)"
            )),
        }
    }
}

/// What the buyer does on the payment page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Pays successfully.
    Pay,
    /// Cancels on the payment page.
    Cancel,
    /// Pays with a card that is not the one the merchant asked for (NovinPal `card_number`);
    /// on the other gateways the payment is declined, like [`Action::BankFail`] (Zibal
    /// reports it with its own status, 4 "invalid card number").
    WrongCard,
    /// The bank fails the payment.
    BankFail,
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pay" => Ok(Action::Pay),
            "cancel" => Ok(Action::Cancel),
            "wrong_card" => Ok(Action::WrongCard),
            "bank_fail" => Ok(Action::BankFail),
            _ => Err(format!(
                "unknown action `{s}` (pay, cancel, wrong_card, bank_fail)"
            )),
        }
    }
}

/// The life-cycle state of a simulated payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxnState {
    /// Created; the buyer has not acted yet.
    Created,
    /// Paid, not yet verified.
    Paid,
    /// The buyer cancelled.
    Cancelled,
    /// The bank failed the payment.
    Failed,
    /// The buyer paid with a card other than the required one (NovinPal).
    CardMismatch,
    /// Verified (confirmed) by the merchant.
    Verified,
    /// Reversed (refunded) after verification (NovinPal, Zarinpal).
    Reversed,
}

impl TxnState {
    /// The snake_case name used in JSON.
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Created => "created",
            TxnState::Paid => "paid",
            TxnState::Cancelled => "cancelled",
            TxnState::Failed => "failed",
            TxnState::CardMismatch => "card_mismatch",
            TxnState::Verified => "verified",
            TxnState::Reversed => "reversed",
        }
    }
}

/// One simulated payment, as the admin view shows it. Times are unix seconds on the
/// sandbox clock.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Transaction {
    /// The gateway.
    pub gateway: SandboxGateway,
    /// The payment key used in the payment page URL: IDPay `id`, NovinPal `refId`, Inopal
    /// `token`, CanPay `token`, GardeshPay `token`, Zarinpal `authority`, Zibal `trackId`.
    pub key: String,
    /// The secondary reference: IDPay `track_id`, Inopal `ref_num`, GardeshPay
    /// `trackingNumber` (once the buyer returned); `None` elsewhere.
    pub reference: Option<String>,
    /// The merchant's order id (`invoice_id`, `invoiceNumber`, Zarinpal `metadata.order_id`,
    /// Zibal `orderId`); empty where the gateway makes it optional and none was sent.
    pub order_id: String,
    /// The amount in rial that the merchant asked for (a Zarinpal amount in toman, `IRT`,
    /// is recorded here times ten).
    pub amount: u64,
    /// What the buyer pays (Inopal adds its buyer fee; equal to `amount` elsewhere).
    pub payment_amount: u64,
    /// The merchant's callback URL.
    pub callback_url: String,
    /// The description, if any.
    pub description: Option<String>,
    /// The buyer's mobile number, if any.
    pub mobile: Option<String>,
    /// The buyer's email, if any (Zarinpal `metadata.email`).
    pub email: Option<String>,
    /// The buyer's national code, if any (Zibal `nationalCode`).
    pub national_code: Option<String>,
    /// The currency the merchant stated the amount in (Zarinpal `currency`: `IRR` or `IRT`);
    /// `None` where the gateway has no such field or none was sent (rial).
    pub currency: Option<String>,
    /// The `Referer` header of the create request, if any (Zarinpal's `unVerified.json`
    /// reports it).
    pub referer: Option<String>,
    /// The card the merchant required (NovinPal `card_number`, Zarinpal
    /// `metadata.card_pan`); for Zibal the `allowedCards`, joined with `,`.
    pub required_card: Option<String>,
    /// GardeshPay's `invoiceDate`, as sent.
    pub invoice_date: Option<String>,
    /// Whether IDPay's create carried `X-SANDBOX: true`.
    pub sandbox_header: bool,
    /// IDPay: the API version whose create path made the payment (`"v1"` or `"v1.1"`);
    /// its callback carries that version's statuses. `None` at the other gateways.
    pub idpay_version: Option<IdPayApi>,
    /// IDPay: every verify and inquiry answer about this payment, oldest first, as the
    /// sandbox made it (a fault may have replaced it on the wire). Empty at the other
    /// gateways.
    pub idpay_answers: Vec<IdPayAnswer>,
    /// The state.
    pub state: TxnState,
    /// What the buyer did on the payment page, once they acted.
    pub buyer_action: Option<Action>,
    /// The (fake) full card number the buyer used, once they acted with a card.
    pub card_number: Option<String>,
    /// The bank's reference for the payment, once paid.
    pub bank_reference: Option<String>,
    /// When the payment was created.
    pub created_at: i64,
    /// When the buyer came back from the payment page.
    pub returned_at: Option<i64>,
    /// When the buyer paid.
    pub paid_at: Option<i64>,
    /// When the first successful verify happened.
    pub verified_at: Option<i64>,
    /// When the payment was reversed.
    pub reversed_at: Option<i64>,
    /// Verify calls that reached this payment (IDPay v1 inquiries included).
    pub verify_calls: u32,
    /// Verify answers that told the merchant "paid" as if for the first time:
    /// `verifiedBefore:false`, IDPay `"100"`, Inopal `1`, Zarinpal `100`, Zibal `100`, and
    /// every CanPay success (CanPay cannot tell a repeat apart), every IDPay v1 inquiry
    /// answering `"100"`.
    pub successful_verifies: u32,
    /// Verify answers that said "already verified": `verifiedBefore:true`, IDPay `"101"`,
    /// Inopal `-16`, Zarinpal `101`, Zibal `201`.
    pub repeat_verifies: u32,
    /// Inquiry calls that reached this payment: IDPay v1.1, Zarinpal `inquiry.json`, Zibal
    /// `inquiry`.
    pub inquiry_calls: u32,
    /// Reverse calls that reached this payment: NovinPal, Zarinpal.
    pub reverse_calls: u32,
}

/// One of IDPay's API versions, as the sandbox serves them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IdPayApi {
    /// The document's API (`/idpay/v1/…`): create and inquiry; statuses 1 not paid,
    /// 2 failed, 3 error, 100 confirmed.
    #[serde(rename = "v1")]
    V1,
    /// IDPay's later API (`/idpay/v1.1/…`): create, verify and inquiry; statuses 1 … 8, 10,
    /// 100, 101, 200.
    #[serde(rename = "v1.1")]
    V1_1,
}

impl IdPayApi {
    /// `"v1"` or `"v1.1"`, as in the path.
    pub fn name(self) -> &'static str {
        match self {
            IdPayApi::V1 => "v1",
            IdPayApi::V1_1 => "v1.1",
        }
    }
}

/// One answer of IDPay's verify or inquiry about a payment, as the sandbox made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdPayAnswer {
    /// The path that was called, e.g. `/idpay/v1/payment/inquiry`.
    pub path: String,
    /// The HTTP status of the answer.
    pub http_status: u16,
    /// The body's `status` (`"100"`, `"101"`, `"1"`, …) when the answer reports the
    /// payment; `None` for a refusal.
    pub status: Option<String>,
    /// The body's `error_code` (53, 54) for a refusal; `None` otherwise.
    pub error_code: Option<u64>,
}

/// How the browser goes back to the merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallbackMethod {
    /// A `GET` (303 redirect) with the fields in the query string.
    #[serde(rename = "GET")]
    Get,
    /// A cross-site `POST` form with the fields in the body.
    #[serde(rename = "POST")]
    Post,
}

/// Where and how the payment page sends the buyer back, with the exact fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackInstruction {
    /// `GET` or `POST`.
    pub method: CallbackMethod,
    /// For `GET`, the full URL including the query; for `POST`, the form's action.
    pub url: String,
    /// The fields, in order (for `GET`, the query pairs).
    pub fields: Vec<(String, String)>,
}

impl CallbackInstruction {
    /// The value of the first field with this name.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a buyer action was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ActError {
    /// No payment with this key at this gateway.
    UnknownPayment,
    /// The buyer already acted on this payment; it is now in this state.
    AlreadyActed(TxnState),
}

impl fmt::Display for ActError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActError::UnknownPayment => f.write_str("unknown payment"),
            ActError::AlreadyActed(state) => {
                write!(
                    f,
                    "the buyer already acted on this payment (now {})",
                    state.name()
                )
            }
        }
    }
}

impl std::error::Error for ActError {}

/// A fault to inject into a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Process the call, then wait this long before answering.
    Delay {
        /// Milliseconds.
        ms: u64,
    },
    /// Answer with this HTTP status and a small HTML error page.
    Status {
        /// The status code (e.g. 502).
        code: u16,
    },
    /// Answer 200 with a body that is not valid JSON.
    Malformed,
    /// Close the connection without any response.
    Drop,
}

/// A fault with its options, as set through the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSpec {
    /// The fault.
    pub fault: Fault,
    /// Apply it this many times, then clear it; `None` = until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// For `status`, `malformed` and `drop`: process the call first (so a verify takes
    /// effect) and only then replace the answer. Default `false`: the call is not processed.
    /// A `delay` always processes the call first.
    #[serde(default)]
    pub after: bool,
}

impl FaultSpec {
    /// A fault that applies until cleared and does not process the call.
    pub fn new(fault: Fault) -> Self {
        FaultSpec {
            fault,
            times: None,
            after: false,
        }
    }

    /// Apply the fault only `n` times.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Process the call before replacing its answer.
    pub fn after(mut self, after: bool) -> Self {
        self.after = after;
        self
    }
}

impl From<Fault> for FaultSpec {
    fn from(fault: Fault) -> Self {
        FaultSpec::new(fault)
    }
}

impl FromStr for Fault {
    type Err = String;

    /// Parses `delay:MS`, `status:CODE`, `malformed` or `drop`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, arg) = match s.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (s, None),
        };
        match (kind, arg) {
            ("delay", Some(ms)) => ms
                .parse()
                .map(|ms| Fault::Delay { ms })
                .map_err(|_| format!("bad delay `{ms}`")),
            ("status", Some(code)) => match code.parse::<u16>() {
                Ok(code) if (100..=599).contains(&code) => Ok(Fault::Status { code }),
                _ => Err(format!("bad status `{code}`")),
            },
            ("malformed", None) => Ok(Fault::Malformed),
            ("drop", None) => Ok(Fault::Drop),
            _ => Err(format!(
                "bad fault `{s}` (delay:MS, status:CODE, malformed, drop)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_from_cli_spelling() {
        assert_eq!("delay:3000".parse(), Ok(Fault::Delay { ms: 3000 }));
        assert_eq!("status:502".parse(), Ok(Fault::Status { code: 502 }));
        assert_eq!("malformed".parse(), Ok(Fault::Malformed));
        assert_eq!("drop".parse(), Ok(Fault::Drop));
        assert!("status:42".parse::<Fault>().is_err());
        assert!("delay".parse::<Fault>().is_err());
        assert!("drop:1".parse::<Fault>().is_err());
    }

    #[test]
    fn names_round_trip() {
        for g in SandboxGateway::ALL {
            assert_eq!(g.name().parse::<SandboxGateway>(), Ok(g));
            assert_eq!(g.prefix(), format!("/{}", g.name()));
        }
        assert_eq!("verify".parse(), Ok(Call::Verify));
        assert_eq!("wrong_card".parse(), Ok(Action::WrongCard));
    }
}
