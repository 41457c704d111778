//! IDPay (idpay.ir): the adapter and its code table.
//!
//! **The default API version is v1.1, which the document does not describe.** The
//! document, `idpay-api-fa.txt`, describes API v1 (create and inquiry, no verify call);
//! v1.1 (with `v1.1/payment/verify` and its statuses `10`, `101`, …) is what the live
//! service spoke and what most public client code uses, so it is the default.
//! [`IdPay::with_version`]`(`[`IdPayVersion::V1`]`)` speaks the document's v1 instead. See
//! [`IdPayVersion`].

use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use super::{
    api::{Api, Body},
    checks::{check_amount, check_order_id_len, invalid, json_body},
    scalar::Scalar,
    wire::{optional, optional_amount, required_number},
};
use crate::{
    CallbackRequest, ConfigError, Error, GatewayId, Order, Rial,
    adapter::{CallbackData, CallbackStatus, Created, Gateway, Inquiry, Verified},
    error::{GatewayCode, Operation, OrderProblem},
    http::RawResponse,
    state::OrderState,
};

pub use super::idpay_codes::IdPayCode;

const GW: GatewayId = GatewayId::IdPay;
/// The header the API key goes in.
const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");
/// The header that sends a call to IDPay's sandbox.
const SANDBOX_HEADER: HeaderName = HeaderName::from_static("x-sandbox");

/// Transaction status: payment verified (v1: confirmed).
const VERIFIED: i64 = 100;
/// Transaction status (v1.1): payment verified before.
const ALREADY_VERIFIED: i64 = 101;
/// Transaction status (v1.1): paid out to the merchant (so verified before).
const PAID_OUT: i64 = 200;
/// Transaction status (v1.1): paid, awaiting verify — what a good callback carries.
const AWAITING_VERIFY: i64 = 10;

/// Which IDPay API version the adapter speaks. The default, [`IdPayVersion::V1_1`], is
/// **not described by the document**: it is what the live service spoke.
///
/// The document (`idpay-api-fa.txt`) describes v1, which has no verify call: a payment is
/// confirmed when `v1/payment/inquiry` answers status `100` for the same `id`, `order_id`
/// and amount. IDPay's later v1.1 adds `v1.1/payment/verify` (status `100` verified now,
/// `101` verified before) and makes verifying within 10 minutes of the buyer's return
/// mandatory, or the payment is refunded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IdPayVersion {
    /// The document's API: create `v1/payment`; verify and inquiry are both
    /// `v1/payment/inquiry`. An inquiry cannot tell a first confirmation from a repeat, so
    /// [`Verified::already_verified`] is always `false`; the replay guard makes sure the
    /// payment is fulfilled once.
    V1,
    /// IDPay's v1.1 (the default; not in the document, which describes v1 only — it is
    /// what the live service spoke): create `v1.1/payment`, verify `v1.1/payment/verify`,
    /// inquiry `v1.1/payment/inquiry`.
    #[default]
    V1_1,
}

impl IdPayVersion {
    fn create_path(self) -> &'static str {
        match self {
            IdPayVersion::V1 => "v1/payment",
            IdPayVersion::V1_1 => "v1.1/payment",
        }
    }

    fn verify_path(self) -> &'static str {
        match self {
            IdPayVersion::V1 => "v1/payment/inquiry",
            IdPayVersion::V1_1 => "v1.1/payment/verify",
        }
    }

    fn inquiry_path(self) -> &'static str {
        match self {
            IdPayVersion::V1 => "v1/payment/inquiry",
            IdPayVersion::V1_1 => "v1.1/payment/inquiry",
        }
    }

    /// The statuses a verify answer confirms, and those of them that mean "before".
    fn verify_statuses(self) -> (&'static [i64], &'static [i64]) {
        match self {
            IdPayVersion::V1 => (&[VERIFIED], &[]),
            IdPayVersion::V1_1 => (&[VERIFIED, ALREADY_VERIFIED], &[ALREADY_VERIFIED]),
        }
    }

    /// The statuses an inquiry answer confirms, and those of them that mean "before".
    fn inquiry_statuses(self) -> (&'static [i64], &'static [i64]) {
        match self {
            IdPayVersion::V1 => (&[VERIFIED], &[]),
            IdPayVersion::V1_1 => (
                &[VERIFIED, ALREADY_VERIFIED, PAID_OUT],
                &[VERIFIED, ALREADY_VERIFIED, PAID_OUT],
            ),
        }
    }
}

/// The longest `desc` and `callback` IDPay take, in characters.
const MAX_FIELD_CHARS: usize = 255;
/// The length of `phone`: 11 digits, like `09382198592`.
const PHONE_LEN: usize = 11;

/// The IDPay adapter (`api.idpay.ir`).
///
/// It speaks API **v1.1 by default, a version the document does not describe** (the
/// document, `idpay-api-fa.txt`, is about v1; v1.1 is what the live service spoke). Choose
/// the document's v1 with [`IdPay::with_version`]`(`[`IdPayVersion::V1`]`)`.
///
/// Every call is `POST` with a JSON body and the API key in the `X-API-KEY` header (plus
/// `X-SANDBOX: true` with [`IdPay::with_sandbox`], IDPay's own test mode).
///
/// - create: `v1.1/payment` (or `v1/payment`, see [`IdPayVersion`]) with `order_id`,
///   `amount` (rial), `callback` and, when the order has them, `phone` and `desc`. The
///   answer (HTTP 201) has `id`, the gateway reference, and `link`, the payment page.
/// - redirect: `GET link`.
/// - callback (`POST` form; a `GET` variant carries only the first four): `status`,
///   `track_id`, `id`, `order_id`, `amount`, `card_no`, `date`. Status `10` (v1.1) or
///   `100` (v1) is [`CallbackStatus::Paid`].
/// - verify: v1.1 `v1.1/payment/verify` with `{id, order_id}` from the order state:
///   status `100` is paid, `101` paid and verified before
///   ([`Verified::already_verified`]); v1 `v1/payment/inquiry`: status `100` confirms.
/// - inquiry ([`Inquiry`]): v1.1 `v1.1/payment/inquiry`, which only reports; in v1 the
///   inquiry is the confirmation, the same call as verify.
///
/// Numbers arrive as numbers or as strings (`"100"`); both are read. Refusals
/// (`{"error_code": 32, "error_message": "…"}` with HTTP 400/403/405/406) become
/// [`Error::Gateway`] with the typed [`IdPayCode`] and the HTTP status.
///
/// IDPay's own documentation warns that a buyer can present one receipt for another
/// purchase: the `id` (and `track_id`) must be fulfilled at most once, which the
/// [`Payments`](crate::Payments) pipeline's replay guard enforces.
///
/// ```
/// use payment_core::{CallbackRequest, IdPay};
/// use payment_core::adapter::{CallbackStatus, Gateway};
/// use payment_core::gateways::idpay::IdPayVersion;
///
/// let idpay = IdPay::new("6a7f99eb-7c20-4412-a972-6dfb7cd253a4")
///     .with_base_url("http://127.0.0.1:8085/idpay")?
///     .with_version(IdPayVersion::V1_1)
///     .with_sandbox(true);
/// // The buyer comes back with a POST callback.
/// let request = CallbackRequest::from_post(
///     "",
///     b"status=10&track_id=10012&id=d2e353189823079e1e4181772cff5292&order_id=101\
///       &amount=10000&card_no=610433******1064&date=1533559373",
/// )?;
/// let callback = idpay.parse_callback(&request)?;
/// assert_eq!(callback.status, CallbackStatus::Paid);
/// assert_eq!(callback.reference.as_deref(), Some("d2e353189823079e1e4181772cff5292"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct IdPay {
    api: Api,
    sandbox: bool,
    version: IdPayVersion,
}

impl IdPay {
    /// An adapter with the web service's API key, IDPay's base URL
    /// (`https://api.idpay.ir/`), API v1.1 (not the document's v1: see [`IdPayVersion`]),
    /// IDPay's test mode off and a default [`HttpClient`](crate::HttpClient).
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            api: Api::new(GW, "IDPay base URL", "https://api.idpay.ir/").with_credential(api_key),
            sandbox: false,
            version: IdPayVersion::default(),
        }
    }

    /// Turns IDPay's own test mode on or off (default off): with it on, every call sends
    /// `X-SANDBOX: true` and IDPay simulates the payments and skips its IP check.
    pub fn with_sandbox(mut self, sandbox: bool) -> Self {
        self.sandbox = sandbox;
        self
    }

    /// Chooses the API version: [`IdPayVersion::V1_1`] (the default, which the document
    /// does not describe) or [`IdPayVersion::V1`] (the document's).
    pub fn with_version(mut self, version: IdPayVersion) -> Self {
        self.version = version;
        self
    }

    /// Sends `body` as JSON with the key headers and returns the raw answer.
    async fn call(
        &self,
        operation: Operation,
        path: &str,
        body: &Value,
    ) -> Result<RawResponse, Error> {
        let key = self.api.credential().unwrap_or_default();
        let mut key = HeaderValue::from_str(key).map_err(|_| {
            ConfigError::Invalid("the IDPay API key is not a valid HTTP header value")
        })?;
        key.set_sensitive(true);
        self.api
            .post_with(operation, path, Body::Json(body), |request| {
                let request = request.header(API_KEY_HEADER, key.clone());
                if self.sandbox {
                    request.header(SANDBOX_HEADER, HeaderValue::from_static("true"))
                } else {
                    request
                }
            })
            .await
    }

    /// The refusal an `{"error_code", "error_message"}` answer stands for (or the
    /// malformed-answer error if its code is not a number); `None` for other answers.
    fn error_answer(
        &self,
        operation: Operation,
        raw: &RawResponse,
        answer: &Value,
    ) -> Option<Error> {
        let code = answer.get("error_code")?;
        Some(match scalar(code).as_ref().and_then(Scalar::as_i64) {
            Some(code) => self.refusal(operation, raw, code, answer.get("error_message")),
            None => self.api.malformed(operation, raw),
        })
    }

    fn refusal(
        &self,
        operation: Operation,
        raw: &RawResponse,
        code: i64,
        text: Option<&Value>,
    ) -> Error {
        // IDPay's refusals come with 400/403/405/406, which the error keeps.
        let text = self.api.message(text);
        self.api
            .refusal(operation, raw, GatewayCode::lookup(GW, code), text)
    }

    /// Decodes and maps a verify or inquiry answer about `state`: a status in
    /// `confirmed` is `Ok` (with `already_verified` for those in `repeated`), any other
    /// documented status a refusal with that code.
    fn payment_answer(
        &self,
        operation: Operation,
        state: &OrderState,
        raw: &RawResponse,
        confirmed: &[i64],
        repeated: &[i64],
    ) -> Result<Verified, Error> {
        let answer = raw.json::<Value>(GW, operation)?;
        if let Some(refusal) = self.error_answer(operation, raw, &answer) {
            return Err(refusal);
        }
        let malformed = || self.api.malformed(operation, raw);
        if !(200..300).contains(&raw.status) {
            return Err(malformed());
        }
        let answer: PaymentAnswer = serde_json::from_value(answer).map_err(|_| malformed())?;
        let status = answer
            .status
            .as_ref()
            .and_then(Scalar::as_i64)
            .ok_or_else(malformed)?;
        if !confirmed.contains(&status) {
            return Err(self.refusal(operation, raw, status, None));
        }
        answer
            .verified(state, repeated.contains(&status))
            .ok_or_else(malformed)
    }

    /// Verify or inquiry about the state's payment: both send its `id` and order id.
    async fn ask(&self, operation: Operation, state: &OrderState) -> Result<Verified, Error> {
        let body = json!({ "id": state.gateway_ref(), "order_id": state.invoice_id() });
        let path = match operation {
            Operation::Inquiry => self.version.inquiry_path(),
            _ => self.version.verify_path(),
        };
        let raw = self.call(operation, path, &body).await?;
        self.answered(operation, state, &raw)
    }

    /// Decodes and maps a verify (or, for [`Operation::Inquiry`], an inquiry) answer
    /// about `state`.
    pub(crate) fn answered(
        &self,
        operation: Operation,
        state: &OrderState,
        raw: &RawResponse,
    ) -> Result<Verified, Error> {
        let (confirmed, repeated) = match operation {
            Operation::Inquiry => self.version.inquiry_statuses(),
            _ => self.version.verify_statuses(),
        };
        self.payment_answer(operation, state, raw, confirmed, repeated)
    }

    /// Decodes and maps a create answer.
    pub(crate) fn created(&self, raw: &RawResponse) -> Result<Created, Error> {
        let operation = Operation::Create;
        let answer = raw.json::<Value>(GW, operation)?;
        if let Some(refusal) = self.error_answer(operation, raw, &answer) {
            return Err(refusal);
        }
        let malformed = || self.api.malformed(operation, raw);
        // The document's table says 201 Created; its example is headed "status 200". Both
        // are read as success when the body has the documented shape.
        if !matches!(raw.status, 200 | 201) {
            return Err(malformed());
        }
        let id = answer
            .get("id")
            .and_then(scalar)
            .and_then(Scalar::text)
            .ok_or_else(malformed)?;
        let link = answer
            .get("link")
            .and_then(Value::as_str)
            .and_then(|l| Url::parse(l.trim()).ok())
            .filter(|l| matches!(l.scheme(), "http" | "https"))
            .ok_or_else(malformed)?;
        Ok(Created::redirect_to(id, link))
    }
}

api_settings!(IdPay.api, sandbox: "http://127.0.0.1:8085/idpay", paths: "v1/…` and `v1.1/…");

impl Gateway for IdPay {
    const ID: GatewayId = GW;

    /// The amount must be 10,000 … 500,000,000 rial, the order id at most 50 characters,
    /// the description (`desc`) at most 255 characters and the mobile number (`phone`)
    /// 11 digits. `create` also checks that the callback URL has at most 255 characters.
    fn check_order(&self, order: &Order) -> Result<(), Error> {
        check_amount(GW, order, 10_000, Some(500_000_000))?;
        check_order_id_len(GW, order, 50)?;
        let field = |field, rule| invalid(GW, OrderProblem::Field { field, rule });
        if let Some(phone) = order.mobile()
            && !(phone.len() == PHONE_LEN && phone.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(field("phone", "11 digits, like 09382198592"));
        }
        if order
            .description()
            .is_some_and(|d| d.chars().count() > MAX_FIELD_CHARS)
        {
            return Err(field("desc", "at most 255 characters"));
        }
        Ok(())
    }

    async fn create(&self, order: &Order, callback_url: &Url) -> Result<Created, Error> {
        self.check_order(order)?;
        if callback_url.as_str().chars().count() > MAX_FIELD_CHARS {
            let reason = OrderProblem::CallbackUrl("longer than 255 characters");
            return Err(invalid(GW, reason));
        }
        let required = json!({
            "order_id": order.id().as_str(),
            "amount": order.amount().get(),
            "callback": callback_url.as_str(),
        });
        let desc = order.description().filter(|d| !d.is_empty());
        let body = json_body(required, &[("phone", order.mobile()), ("desc", desc)]);
        let path = self.version.create_path();
        let raw = self.call(Operation::Create, path, &body).await?;
        self.created(&raw)
    }

    /// Reads `status`, `id` and `order_id` (required), and `track_id`, `amount` and
    /// `card_no` when present (the `GET` variant has none of the last two). Status `10`
    /// (v1.1 "paid, awaiting verify"), `100`, `101` and `200` are
    /// [`CallbackStatus::Paid`]; `1` … `8` are [`CallbackStatus::Failed`] with the code;
    /// any other number is [`CallbackStatus::Unknown`], left to verify.
    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error> {
        let status = match required_number(request, "status")? {
            AWAITING_VERIFY | VERIFIED | ALREADY_VERIFIED | PAID_OUT => CallbackStatus::Paid,
            code @ 1..=8 => CallbackStatus::failed(GW, Some(code)),
            _ => CallbackStatus::Unknown,
        };
        let mut data = CallbackData::new(GW, status);
        data.reference = Some(request.required("id")?.to_owned());
        data.order_id = Some(request.required("order_id")?.to_owned());
        data.tracking_code = optional(request, "track_id").map(str::to_owned);
        data.amount = optional_amount(request, "amount")?;
        data.card_mask = optional(request, "card_no").map(str::to_owned);
        Ok(data)
    }

    /// v1.1: `POST v1.1/payment/verify` with the state's `id` and order id; `100` is paid,
    /// `101` paid and verified before. v1: `POST v1/payment/inquiry`; `100` confirms.
    /// Any other status is a refusal with that code (e.g. `53`/`54` from v1.1 as
    /// `error_code`, or status `1` "not paid" from v1). The answer's `order_id` and
    /// `amount` (`payment.amount` in v1.1) are reported for the pipeline to compare with
    /// the state; an answer about another `id` is malformed. The callback is not used.
    async fn verify(&self, state: &OrderState, _: &CallbackData) -> Result<Verified, Error> {
        self.ask(Operation::Verify, state).await
    }

    /// IDPay's inquiry: see [`Inquiry::inquiry`].
    fn confirmed_status(
        &self,
        state: &OrderState,
    ) -> impl Future<Output = Result<Verified, Error>> + Send {
        Inquiry::inquiry(self, state)
    }
}

impl Inquiry for IdPay {
    /// v1.1: `POST v1.1/payment/inquiry`; `100`, `101` and `200` (verified, verified
    /// before, paid out) are `Ok` with [`Verified::already_verified`] set, since an
    /// inquiry never verifies: a payment still at `10` must be verified with
    /// [`Gateway::verify`] and comes back as a refusal with
    /// [`IdPayCode::AwaitingVerify`]. v1: the same call as verify.
    ///
    /// Compare the reported `order_id` and `amount` with the state before trusting an
    /// `Ok` outside the [`Payments`](crate::Payments) pipeline.
    async fn inquiry(&self, state: &OrderState) -> Result<Verified, Error> {
        self.ask(Operation::Inquiry, state).await
    }
}

/// A JSON value read as a [`Scalar`], if it is one.
fn scalar(value: &Value) -> Option<Scalar> {
    Scalar::deserialize(value).ok()
}

/// An inquiry or verify answer (v1 and v1.1). The document's table types `status`,
/// `track_id` and `amount` as integers while its example sends strings (`"10000"`), so
/// both are read; fields not known yet may be `""`.
#[derive(Debug, Deserialize)]
struct PaymentAnswer {
    status: Option<Scalar>,
    track_id: Option<Scalar>,
    id: Option<Scalar>,
    order_id: Option<Scalar>,
    amount: Option<Scalar>,
    card_no: Option<Scalar>,
    date: Option<Scalar>,
    /// v1.1 only; kept loose, so an empty `[]` does not make the answer unreadable.
    payment: Option<Value>,
}

/// The `payment` object of a v1.1 answer.
#[derive(Debug, Default, Deserialize)]
struct PaymentPart {
    track_id: Option<Scalar>,
    amount: Option<Scalar>,
    card_no: Option<Scalar>,
    date: Option<Scalar>,
}

impl PaymentAnswer {
    /// What the answer reports, or `None` if it is about another payment or lacks the
    /// order id or a readable amount.
    fn verified(mut self, state: &OrderState, already_verified: bool) -> Option<Verified> {
        let text = |v: &mut Option<Scalar>| v.take().and_then(Scalar::text);
        // An answer about another payment confirms nothing about this one.
        if self
            .id
            .as_ref()
            .is_some_and(|id| id.names_other_than(state.gateway_ref()))
        {
            return None;
        }
        let amount = |v: &mut Option<Scalar>| match text(v) {
            None => Some(None),
            Some(a) => a.parse::<u64>().ok().map(Some),
        };
        let mut payment = match &self.payment {
            Some(p @ Value::Object(_)) => Some(PaymentPart::deserialize(p).ok()?),
            _ => None,
        };
        let paid = match &mut payment {
            Some(p) => amount(&mut p.amount)?,
            None => None,
        };
        let mut verified = Verified::new();
        verified.order_id = Some(text(&mut self.order_id)?);
        // What was paid (v1.1 `payment.amount`), else the amount registered at create.
        verified.amount = Some(Rial::new(paid.or(amount(&mut self.amount)?)?));
        verified.already_verified = already_verified;
        match payment {
            Some(mut p) => {
                // v1.1: `payment.track_id` is the bank's reference, the top-level one
                // IDPay's own tracking code.
                verified.bank_reference =
                    text(&mut p.track_id).or_else(|| text(&mut self.track_id));
                verified.card_mask = text(&mut p.card_no);
                verified.paid_at = text(&mut p.date);
            }
            None => {
                verified.bank_reference = text(&mut self.track_id);
                verified.card_mask = text(&mut self.card_no);
                verified.paid_at = text(&mut self.date);
            }
        }
        Some(verified)
    }
}
