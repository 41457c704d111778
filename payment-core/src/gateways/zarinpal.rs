//! Zarinpal (zarinpal.com): the adapter and its code table.
//!
//! Follows Zarinpal's payment gateway documentation (API v4) and its official PHP SDK
//! (`ZarinPal/zarinpal-php-sdk`). Where they differ:
//!
//! - The documentation's examples call `api.zarinpal.com`; the SDK and the current
//!   documentation call `payment.zarinpal.com`, and `sandbox.zarinpal.com` for the
//!   sandbox. This adapter follows the SDK.
//! - The SDK's own test of `unVerified.json` reads a `list`; its answer type, its example
//!   and other clients read `authorities`. This adapter reads `authorities`.
//! - The error list's maximum amount (-41: 100,000,000 toman) is checked before any
//!   request; the documentation names no other maximum.

use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use super::{
    api::{Api, Body},
    checks::{check_amount, invalid},
    scalar::Scalar,
    wire::mask_card,
};
use crate::{
    CallbackRequest, CardNumber, ConfigError, Error, GatewayId, Order, Rial,
    adapter::{CallbackData, CallbackStatus, Created, Gateway, Inquiry, Reverse, Verified},
    error::{CallbackError, GatewayCode, Operation, OrderProblem},
    http::RawResponse,
    state::OrderState,
};

pub use super::zarinpal_codes::{ZarinpalCode, ZarinpalStatus};

const GW: GatewayId = GatewayId::Zarinpal;

/// Zarinpal's production host.
const BASE_URL: &str = "https://payment.zarinpal.com/";
/// Zarinpal's own sandbox.
const SANDBOX_URL: &str = "https://sandbox.zarinpal.com/";

/// `data.code` of a successful call.
const SUCCESS: i64 = 100;
/// `data.code` of a verify whose payment was verified before.
const VERIFIED_BEFORE: i64 = 101;

/// The least amount Zarinpal takes: 10,000 rial (1,000 toman).
const MIN_AMOUNT: u64 = 10_000;
/// The most: 100,000,000 toman (error -41).
const MAX_AMOUNT: u64 = 1_000_000_000;
/// The longest `description`, in characters (error -9).
const MAX_DESCRIPTION_CHARS: usize = 500;

/// The Zarinpal adapter (`payment.zarinpal.com`, API v4).
///
/// Every call is `POST pg/v4/payment/…` with a JSON body that starts with `merchant_id`
/// (a 36-character UUID; one of another shape is refused before any request as
/// `Error::Config(ConfigError::Invalid(_))`, see [`Zarinpal::check_merchant_id`]).
/// Amounts are rial, and every request says so with `currency: "IRR"`.
///
/// - create: `request.json` with `amount`, `currency`, `description` (the order's, or
///   `Order {id}` when it has none: Zarinpal requires one), `callback_url` and `metadata`
///   with `order_id` and, when the order has them, `mobile`, `email` and `card_pan` (the
///   only card the buyer may pay with). The answer's `data.authority` is the gateway
///   reference.
/// - redirect: `GET pg/StartPay/{authority}` on the same host.
/// - callback (`GET` query string): `Authority` and `Status` (`OK` or `NOK`).
/// - verify: `verify.json` with `authority` and `amount`, both from the order state.
///   Zarinpal compares the amount itself and refuses another one with
///   [`ZarinpalCode::AmountMismatch`]; `data.code` 100 is paid, 101 paid and verified
///   before ([`Verified::already_verified`]). `ref_id` and `card_pan` are reported.
/// - inquiry ([`Inquiry`], and [`Zarinpal::status`] for the typed status):
///   `inquiry.json` with `authority`.
/// - reverse ([`Reverse`], a refund within 30 minutes of the payment; Zarinpal needs the
///   server's IP set for the terminal): `reverse.json` with `authority`.
/// - the last paid payments not verified yet: [`Zarinpal::unverified`]
///   (`unVerified.json`).
///
/// Refusals (`{"data": [], "errors": {"code": -9, "message": …, "validations": …}}`,
/// whatever the HTTP status) become [`Error::Gateway`] with the typed [`ZarinpalCode`].
///
/// **Hosts.** [`Zarinpal::new`] talks to `https://payment.zarinpal.com/`;
/// [`Zarinpal::with_sandbox`]`(true)` to Zarinpal's own sandbox
/// (`https://sandbox.zarinpal.com/`, which takes any well-formed merchant_id and
/// simulates the payments), `with_sandbox(false)` back to production, and
/// [`Zarinpal::with_base_url`] to any other host (the local sandbox). Whichever of
/// `with_sandbox` and `with_base_url` is called last decides the host; the redirect
/// always goes to the host the calls go to.
///
/// ```
/// use payment_core::{CallbackRequest, Order, Rial, Zarinpal};
/// use payment_core::adapter::{CallbackStatus, Gateway};
///
/// let zarinpal = Zarinpal::new("1344b5d4-0048-11e8-94db-005056a205be").with_sandbox(true);
/// assert!(zarinpal.check_merchant_id().is_ok());
/// // Documented limits are checked before any request: the minimum is 10,000 rial.
/// assert!(zarinpal.check_order(&Order::new("A-1001".parse()?, Rial::new(9_999))).is_err());
/// // The buyer comes back with a GET callback.
/// let request = CallbackRequest::from_get(
///     "Authority=A0000000000000000000000000000wwOGYpd&Status=OK",
/// )?;
/// let callback = zarinpal.parse_callback(&request)?;
/// assert_eq!(callback.status, CallbackStatus::Paid);
/// assert_eq!(callback.reference.as_deref(), Some("A0000000000000000000000000000wwOGYpd"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Creating a payment (the [`Payments`](crate::Payments) pipeline normally does this), and
/// listing the paid payments still to verify:
///
/// ```no_run
/// # async fn demo() -> Result<(), payment_core::Error> {
/// use payment_core::{HttpClient, Order, Rial, Zarinpal, adapter::Gateway, url::Url};
///
/// let zarinpal = Zarinpal::new(std::env::var("ZARINPAL_MERCHANT_ID").unwrap_or_default())
///     .with_http(HttpClient::with_defaults()?);
/// let order = Order::new("A-1001".parse().unwrap(), Rial::new(120_000));
/// let callback = Url::parse("https://shop.example/pay/callback/zarinpal").unwrap();
/// let created = zarinpal.create(&order, &callback).await?;
/// // Keep `created.gateway_ref` (the authority) and send the buyer to `created.redirect`.
/// for payment in zarinpal.unverified().await? {
///     println!("{} paid {} and is not verified yet", payment.authority, payment.amount);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Zarinpal(Api);

impl Zarinpal {
    /// An adapter with the merchant_id from Zarinpal's panel, Zarinpal's production host
    /// (`https://payment.zarinpal.com/`) and a default [`HttpClient`](crate::HttpClient).
    pub fn new(merchant_id: impl Into<String>) -> Self {
        Self(Api::new(GW, "Zarinpal base URL", BASE_URL).with_credential(merchant_id))
    }

    /// Sends every call (and the buyer) to Zarinpal's own sandbox
    /// (`https://sandbox.zarinpal.com/`) with `true`, or to production
    /// (`https://payment.zarinpal.com/`) with `false`. This replaces a base URL given with
    /// [`with_base_url`](Self::with_base_url) before; one given after replaces it.
    pub fn with_sandbox(mut self, sandbox: bool) -> Self {
        self.0
            .set_default_base_url(if sandbox { SANDBOX_URL } else { BASE_URL });
        self
    }

    /// Checks that the merchant_id has a UUID's shape: 36 characters, hex digits in
    /// groups of 8, 4, 4, 4 and 12 joined by `-` (either case: Zarinpal's SDK checks
    /// lower case, which is what its panel issues). Every call checks it first, so a
    /// wrong one never reaches Zarinpal; an app can check it at startup.
    pub fn check_merchant_id(&self) -> Result<(), ConfigError> {
        let id = self.0.credential().unwrap_or_default();
        let uuid = id.len() == 36
            && id.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_hexdigit(),
            });
        if uuid {
            Ok(())
        } else {
            Err(ConfigError::Invalid(
                "the Zarinpal merchant_id is not a 36-character UUID \
                 (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
            ))
        }
    }

    /// Sends `fields` with `merchant_id` as JSON to `pg/v4/payment/{path}`.
    async fn call(
        &self,
        operation: Operation,
        path: &str,
        fields: Map<String, Value>,
    ) -> Result<RawResponse, Error> {
        self.check_merchant_id()?;
        let mut body = Map::new();
        let merchant_id = self.0.credential().unwrap_or_default();
        body.insert("merchant_id".to_owned(), merchant_id.into());
        body.extend(fields);
        let path = format!("pg/v4/payment/{path}");
        self.0
            .post(operation, &path, Body::Json(&Value::Object(body)))
            .await
    }

    /// The `authority` field, from the order state.
    fn authority(state: &OrderState) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("authority".to_owned(), state.gateway_ref().into());
        fields
    }

    /// The refusal with `code`, and the gateway's text (its `message`, followed by its
    /// `validations` in parentheses).
    fn refusal(
        &self,
        operation: Operation,
        raw: &RawResponse,
        code: i64,
        message: Option<&Value>,
        validations: Option<&Value>,
    ) -> Error {
        let head = match message {
            Some(Value::String(s)) => s.trim(),
            _ => "",
        };
        let mut details = Vec::new();
        collect_texts(validations, &mut details);
        let text = match (head.is_empty(), details.is_empty()) {
            (_, true) => head.to_owned(),
            (true, false) => details.join("; "),
            (false, false) => format!("{head} ({})", details.join("; ")),
        };
        let text = self.0.message(Some(&Value::String(text)));
        self.0
            .refusal(operation, raw, GatewayCode::lookup(GW, code), text)
    }

    /// The `data` object of a success answer whose `data.code` is one of `accepted`, with
    /// that code, or the error the answer stands for.
    fn data(
        &self,
        operation: Operation,
        raw: &RawResponse,
        accepted: &[i64],
    ) -> Result<(i64, Map<String, Value>), Error> {
        let answer: Answer = raw.json(GW, operation)?;
        let malformed = || self.0.malformed(operation, raw);
        match &answer.errors {
            Value::Object(errors) if !errors.is_empty() => {
                let code = errors.get("code").and_then(int).ok_or_else(malformed)?;
                let (message, validations) = (errors.get("message"), errors.get("validations"));
                return Err(self.refusal(operation, raw, code, message, validations));
            }
            Value::Null | Value::Object(_) => {}
            Value::Array(errors) if errors.is_empty() => {}
            _ => return Err(malformed()),
        }
        let Value::Object(data) = answer.data else {
            return Err(malformed());
        };
        let code = data.get("code").and_then(int).ok_or_else(malformed)?;
        if !accepted.contains(&code) {
            return Err(self.refusal(operation, raw, code, data.get("message"), None));
        }
        if !(200..300).contains(&raw.status) {
            return Err(malformed());
        }
        Ok((code, data))
    }

    /// Decodes and maps a create answer.
    pub(crate) fn created(&self, raw: &RawResponse) -> Result<Created, Error> {
        let op = Operation::Create;
        let (_, data) = self.data(op, raw, &[SUCCESS])?;
        // Authorities are `A` or `S` and 35 letters or digits; anything outside a URL-safe
        // token would change the redirect.
        let authority = data
            .get("authority")
            .and_then(text)
            .filter(|a| a.bytes().all(|b| b.is_ascii_alphanumeric()))
            .ok_or_else(|| self.0.malformed(op, raw))?;
        let start = self.0.url(&format!("pg/StartPay/{authority}"))?;
        Ok(Created::redirect_to(authority, start))
    }

    /// Decodes and maps a verify answer.
    pub(crate) fn verified(&self, raw: &RawResponse) -> Result<Verified, Error> {
        let op = Operation::Verify;
        let (code, data) = self.data(op, raw, &[SUCCESS, VERIFIED_BEFORE])?;
        let mut verified = Verified::new();
        verified.already_verified = code == VERIFIED_BEFORE;
        verified.bank_reference = data.get("ref_id").and_then(text);
        verified.card_mask = data.get("card_pan").and_then(text).map(|c| mask_card(&c));
        // Verify sent the state's amount, which Zarinpal compares itself (-50 otherwise).
        // An order id or amount the answer carries anyway is reported for the pipeline to
        // compare too.
        verified.order_id = data.get("order_id").and_then(text);
        verified.amount = amount(&data).map_err(|()| self.0.malformed(op, raw))?;
        Ok(verified)
    }

    /// Decodes an inquiry answer into its status and `data`.
    fn inquired(
        &self,
        raw: &RawResponse,
    ) -> Result<(ZarinpalStatus, i64, Map<String, Value>), Error> {
        let op = Operation::Inquiry;
        let (code, data) = self.data(op, raw, &[SUCCESS])?;
        let status = data
            .get("status")
            .and_then(Value::as_str)
            .and_then(|s| ZarinpalStatus::from_name(s.trim()))
            .ok_or_else(|| self.0.malformed(op, raw))?;
        Ok((status, code, data))
    }

    /// Decodes and maps an inquiry answer: `VERIFIED` is `Ok`, any other status a refusal.
    pub(crate) fn inquiry_answer(&self, raw: &RawResponse) -> Result<Verified, Error> {
        let op = Operation::Inquiry;
        let (status, code, data) = self.inquired(raw)?;
        if status != ZarinpalStatus::Verified {
            let message = Value::String(status.as_str().to_owned());
            return Err(self.refusal(op, raw, code, Some(&message), None));
        }
        let mut verified = Verified::new();
        verified.already_verified = true;
        verified.order_id = data.get("order_id").and_then(text);
        verified.amount = amount(&data).map_err(|()| self.0.malformed(op, raw))?;
        Ok(verified)
    }

    /// Decodes and maps a reverse answer (`{"data": {"code": 100, "message":
    /// "Reversed"}}`).
    pub(crate) fn reversed(&self, raw: &RawResponse) -> Result<Verified, Error> {
        self.data(Operation::Reverse, raw, &[SUCCESS])?;
        Ok(Verified::new())
    }

    /// Decodes an `unVerified.json` answer.
    pub(crate) fn unverified_list(
        &self,
        raw: &RawResponse,
    ) -> Result<Vec<UnverifiedPayment>, Error> {
        let op = Operation::Inquiry;
        let (_, mut data) = self.data(op, raw, &[SUCCESS])?;
        let malformed = || self.0.malformed(op, raw);
        let items = match data.remove("authorities") {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(malformed()),
        };
        items
            .into_iter()
            .map(|item| {
                let Value::Object(item) = item else {
                    return Err(malformed());
                };
                let authority = item.get("authority").and_then(text).ok_or_else(malformed)?;
                let amount = amount(&item)
                    .map_err(|()| malformed())?
                    .ok_or_else(malformed)?;
                Ok(UnverifiedPayment {
                    authority,
                    amount,
                    callback_url: item.get("callback_url").and_then(text),
                    referer: item.get("referer").and_then(text),
                    date: item.get("date").and_then(text),
                })
            })
            .collect()
    }

    /// Zarinpal's inquiry about the state's payment, as its typed status (`VERIFIED`,
    /// `PAID`, `IN_BANK`, `FAILED` or `REVERSED`). Only reports: a `PAID` payment still
    /// needs [`Gateway::verify`].
    pub async fn status(&self, state: &OrderState) -> Result<ZarinpalStatus, Error> {
        let raw = self
            .call(Operation::Inquiry, "inquiry.json", Self::authority(state))
            .await?;
        Ok(self.inquired(&raw)?.0)
    }

    /// The last payments that were paid but not verified yet (`unVerified.json`), as
    /// Zarinpal lists them; verify each that belongs to an order of yours. Refusals are
    /// [`Error::Gateway`] under [`Operation::Inquiry`].
    pub async fn unverified(&self) -> Result<Vec<UnverifiedPayment>, Error> {
        let raw = self
            .call(Operation::Inquiry, "unVerified.json", Map::new())
            .await?;
        self.unverified_list(&raw)
    }
}

api_settings!(Zarinpal.0, sandbox: "http://127.0.0.1:8085/zarinpal", paths: "pg/v4/payment/…` and `pg/StartPay/…");

/// A paid payment that was not verified yet, as `unVerified.json` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnverifiedPayment {
    /// The payment's authority (the gateway reference from create).
    pub authority: String,
    /// The amount paid, in rial.
    pub amount: Rial,
    /// The callback URL the payment was created with.
    pub callback_url: Option<String>,
    /// The page the buyer came from.
    pub referer: Option<String>,
    /// When the payment was created, as Zarinpal formats it (`2020-06-27 10:22:02`).
    pub date: Option<String>,
}

impl Gateway for Zarinpal {
    const ID: GatewayId = GW;

    /// The amount must be 10,000 … 1,000,000,000 rial (1,000 … 100,000,000 toman: the
    /// documented minimum, and the maximum of error -41), the description at most 500
    /// characters, and the mobile number 11 digits starting with `09` (the official
    /// SDK's rule). The documentation sets no order id rule beyond
    /// [`OrderId`](crate::OrderId)'s.
    fn check_order(&self, order: &Order) -> Result<(), Error> {
        check_amount(GW, order, MIN_AMOUNT, Some(MAX_AMOUNT))?;
        let field = |field, rule| invalid(GW, OrderProblem::Field { field, rule });
        if order
            .description()
            .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
        {
            return Err(field("description", "at most 500 characters"));
        }
        if let Some(mobile) = order.mobile()
            && !(mobile.len() == 11
                && mobile.starts_with("09")
                && mobile.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(field("mobile", "11 digits starting with 09 (09121234567)"));
        }
        Ok(())
    }

    async fn create(&self, order: &Order, callback_url: &Url) -> Result<Created, Error> {
        self.check_order(order)?;
        let description = match order.description().map(str::trim) {
            Some(d) if !d.is_empty() => d.to_owned(),
            _ => format!("Order {}", order.id()),
        };
        let mut metadata = Map::new();
        metadata.insert("order_id".to_owned(), order.id().as_str().into());
        let optional = [
            ("mobile", order.mobile()),
            ("email", order.email()),
            // The only place the full card number is exposed: the request to Zarinpal.
            ("card_pan", order.card_number().map(CardNumber::expose)),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                metadata.insert(name.to_owned(), value.into());
            }
        }
        let mut fields = Map::new();
        fields.insert("amount".to_owned(), order.amount().get().into());
        fields.insert("currency".to_owned(), "IRR".into());
        fields.insert("description".to_owned(), description.into());
        fields.insert("callback_url".to_owned(), callback_url.as_str().into());
        fields.insert("metadata".to_owned(), Value::Object(metadata));
        let raw = self.call(Operation::Create, "request.json", fields).await?;
        self.created(&raw)
    }

    /// Reads `Authority` and `Status` (both required). `OK` is [`CallbackStatus::Paid`],
    /// `NOK` [`CallbackStatus::Failed`] (without a code: Zarinpal sends none); any other
    /// value is malformed.
    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error> {
        let authority = request.required("Authority")?;
        let status = match request.required("Status")? {
            "OK" => CallbackStatus::Paid,
            "NOK" => CallbackStatus::failed(GW, None),
            _ => return Err(CallbackError::MalformedField("Status").into()),
        };
        let mut data = CallbackData::new(GW, status);
        data.reference = Some(authority.to_owned());
        Ok(data)
    }

    /// `verify.json` with the state's authority and amount; the callback is not used.
    /// 100 is paid, 101 paid and verified before; any other code is a refusal with it.
    async fn verify(&self, state: &OrderState, _: &CallbackData) -> Result<Verified, Error> {
        let mut fields = Self::authority(state);
        fields.insert("amount".to_owned(), state.amount().get().into());
        let raw = self.call(Operation::Verify, "verify.json", fields).await?;
        self.verified(&raw)
    }

    /// Zarinpal's inquiry: see [`Inquiry::inquiry`].
    fn confirmed_status(
        &self,
        state: &OrderState,
    ) -> impl Future<Output = Result<Verified, Error>> + Send {
        Inquiry::inquiry(self, state)
    }

    /// Zarinpal's reverse: see [`Reverse::reverse`].
    fn refund(&self, state: &OrderState) -> impl Future<Output = Result<Verified, Error>> + Send {
        Reverse::reverse(self, state)
    }
}

impl Inquiry for Zarinpal {
    /// `inquiry.json` with the state's authority. `VERIFIED` is `Ok` with
    /// [`Verified::already_verified`] set, since an inquiry never verifies. Any other
    /// status (`PAID`: still to be verified; `IN_BANK`, `FAILED`, `REVERSED`) is a
    /// refusal that carries the answer's own code (100, the inquiry itself succeeded) and
    /// the status as its message; [`Zarinpal::status`] gives it typed.
    async fn inquiry(&self, state: &OrderState) -> Result<Verified, Error> {
        let raw = self
            .call(Operation::Inquiry, "inquiry.json", Self::authority(state))
            .await?;
        self.inquiry_answer(&raw)
    }
}

impl Reverse for Zarinpal {
    /// `reverse.json` with the state's authority: refunds a paid payment to the buyer, at
    /// most 30 minutes after it was made, without a fee. `Ok` (an empty [`Verified`])
    /// means Zarinpal answered `Reversed`; -60 … -63 say why it could not.
    async fn reverse(&self, state: &OrderState) -> Result<Verified, Error> {
        let raw = self
            .call(Operation::Reverse, "reverse.json", Self::authority(state))
            .await?;
        self.reversed(&raw)
    }
}

/// Every Zarinpal answer: `data` is an object on success and `[]` on failure, `errors`
/// the other way round.
#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    data: Value,
    #[serde(default)]
    errors: Value,
}

/// A JSON value as a whole number (from a number or a string of digits).
fn int(value: &Value) -> Option<i64> {
    Scalar::deserialize(value).ok()?.as_i64()
}

/// A JSON value as text (numbers in decimal); `None` for an empty string or another type.
fn text(value: &Value) -> Option<String> {
    Scalar::deserialize(value).ok()?.text()
}

/// The `amount` of an answer: `Ok(None)` when absent, an error when not whole rial.
fn amount(data: &Map<String, Value>) -> Result<Option<Rial>, ()> {
    match data.get("amount") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => Scalar::deserialize(value)
            .ok()
            .and_then(|a| a.as_u64())
            .map(|a| Some(Rial::new(a)))
            .ok_or(()),
    }
}

/// The strings inside `value` (a list of `{field: text}` objects, an object or a list of
/// strings), as `field: text`.
fn collect_texts(value: Option<&Value>, into: &mut Vec<String>) {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => into.push(s.trim().to_owned()),
        Some(Value::Array(items)) => items.iter().for_each(|i| collect_texts(Some(i), into)),
        Some(Value::Object(fields)) => {
            for (name, value) in fields {
                let mut inner = Vec::new();
                collect_texts(Some(value), &mut inner);
                into.extend(inner.into_iter().map(|t| format!("{name}: {t}")));
            }
        }
        _ => {}
    }
}
