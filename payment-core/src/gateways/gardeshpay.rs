//! GardeshPay (gardeshpay.ir, «گردش پی»): the adapter.
//!
//! Follows `gardeshpay-api-fa.txt`. GardeshPay publishes no code table: its error codes
//! are kept as [`GatewayCode::Undocumented`]. The document does not say how a request's
//! body is encoded, where the merchant's token goes, nor in which unit amounts are: each
//! is a setting of [`GardeshPay`] ([`GardeshPayEncoding`], [`GardeshPayTokenPlacement`],
//! [`GardeshPayAmountUnit`]).

use std::{fmt, sync::Arc};

use serde::Deserialize;
use serde_json::{Value, json};
use time::{UtcOffset, macros::format_description, macros::offset};
use url::Url;

use super::{
    api::{Api, Body},
    checks::{check_amount, invalid},
    scalar::Scalar,
    wire::{error_code, mask_card},
};
use crate::{
    CallbackRequest, ConfigError, Error, GatewayId, HttpClient, Order, Rial,
    adapter::{CallbackData, CallbackStatus, Created, Gateway, Verified},
    clock::{Clock, SystemClock},
    error::{CallbackError, GatewayCode, Operation, OrderProblem},
    http::RawResponse,
    state::OrderState,
};

/// Tehran's offset from UTC. Iran has not observed daylight saving time since 2022, so
/// the offset is fixed.
const TEHRAN: UtcOffset = offset!(+3:30);

/// How the body of getToken and verify is encoded. The document lists the fields but names
/// no content type, so either is a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GardeshPayEncoding {
    /// `application/json`, `amount` a JSON integer (the default; what public client code
    /// sends).
    #[default]
    Json,
    /// `application/x-www-form-urlencoded`, every value as text.
    Form,
}

/// Where the merchant token set with [`GardeshPay::with_merchant_token`] goes. The document
/// names no credential, so either is a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GardeshPayTokenPlacement {
    /// A `token` field in the body of getToken and verify, beside the documented fields
    /// (the default; what public client code sends).
    #[default]
    Body,
    /// An `Authorization: Bearer {token}` header on getToken and verify; the body then has
    /// only the documented fields. Neither the document nor public client code shows this
    /// header: it is a guess at the usual place for an API token.
    Header,
}

/// The unit of the amounts GardeshPay exchanges: getToken's `amount` and verify's answer.
/// The document says only "integer", so either is a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GardeshPayAmountUnit {
    /// Rial, as the order's [`Rial`] amount (the default; the unit of every other gateway
    /// here).
    #[default]
    Rial,
    /// Toman (ten rial): getToken sends the order's amount divided by ten, and an amount
    /// that is not a multiple of 10 rial is refused before anything is sent
    /// ([`OrderProblem::AmountNotWholeToman`]); verify's `amount` is read as toman and
    /// multiplied by ten.
    Toman,
}

impl GardeshPayAmountUnit {
    /// `rial` as this unit's number on the wire, if it is a whole one.
    fn write_wire(self, rial: Rial) -> Option<u64> {
        match self {
            GardeshPayAmountUnit::Rial => Some(rial.get()),
            GardeshPayAmountUnit::Toman => match rial.to_toman() {
                (toman, 0) => Some(toman.get()),
                _ => None,
            },
        }
    }

    /// A number in this unit from the wire, in rial (`None` if it does not fit).
    fn read_wire(self, amount: u64) -> Option<Rial> {
        match self {
            GardeshPayAmountUnit::Rial => Some(Rial::new(amount)),
            GardeshPayAmountUnit::Toman => amount.checked_mul(10).map(Rial::new),
        }
    }
}

/// The GardeshPay adapter (`ipg.gardeshpay.ir` / `ipg.gardeshpay.com`).
///
/// - create: `POST {create base}{prefix}provider/payment/getToken` with `amount`,
///   `invoiceNumber` (the order id), `invoiceDate`, `callback`, and `mobile` and `email`
///   when the order has them. The gateway reference is `data.token`; the buyer goes to
///   `GET {data.url}/{data.token}` ([`Redirect::Get`](crate::adapter::Redirect::Get)).
/// - callback (`GET`): only `trackingNumber` and `invoiceNumber`, on payment and on
///   cancel alike, so the status is [`CallbackStatus::Unknown`]; `trackingNumber` is the
///   [`verify_reference`](CallbackData::verify_reference) and there is no
///   [`reference`](CallbackData::reference) to match the state with (the pipeline then
///   matches the order id).
/// - verify: `POST {verify base}{prefix}provider/payment/verify` with `trackingNumber`. The
///   answer's `amount` and `data.invoiceNumber` are required, because verify sends no
///   amount: the pipeline compares both with the signed order state. `verifiedBefore`
///   becomes [`Verified::already_verified`].
/// - errors: `{"success": false, "code": …, "message": …, "errors": […]}` becomes a
///   [`GatewayError`](crate::error::GatewayError) with [`GatewayCode::Undocumented`]`(code)`, the message followed by
///   the `errors` in parentheses.
///
/// What is documented and what is a guess: the document gives the origins, the paths, the
/// method (`POST`), each request's field names and types, the callback's query and the
/// answers' fields. It does not say how the body is encoded, whether there is a credential
/// and where it goes, nor the unit of `amount`. Each of these three is a setting; the default
/// is the better-supported guess:
///
/// | | default (a guess) | the other choice (a guess too) |
/// |---|---|---|
/// | body encoding | JSON, `amount` a JSON integer | form data: [`GardeshPay::with_encoding`]`(`[`GardeshPayEncoding::Form`]`)` |
/// | merchant token | a `token` field in the body | `Authorization: Bearer {token}`: [`GardeshPay::with_token_placement`]`(`[`GardeshPayTokenPlacement::Header`]`)` |
/// | amount unit | rial | toman: [`GardeshPay::with_amount_unit`]`(`[`GardeshPayAmountUnit::Toman`]`)` |
///
/// The JSON body and the `token` field are what public client code sends. Neither the
/// document nor that code shows the header: it is only the usual place for an API token.
/// Rial is the unit of the other gateways here; the document names none. If a real account
/// refuses the defaults (a validation or token error for a well-formed request, or a price
/// ten times off on the payment page), switch one setting at a time.
///
/// Other choices where the document is silent:
/// - Credential: the document names none, so [`GardeshPay::new`] takes none; set the
///   merchant's provider token with [`GardeshPay::with_merchant_token`]. Without one,
///   nothing is sent in its place.
/// - Paths: the document's paths (no prefix) by default; public client code uses a `v1`
///   prefix: [`GardeshPay::with_path_prefix`]`("v1")`.
/// - `invoiceDate` (`YYYY-MM-DDTHH:mm:ss`, no offset) is the clock's time in Tehran
///   (UTC+03:30), the gateway's local time. Inject a clock with
///   [`GardeshPay::with_clock`].
/// - `callback` is sent always: the document's table marks it required (the English
///   digest lists it as optional; the document wins).
///
/// ```
/// use payment_core::{
///     GardeshPay, GardeshPayAmountUnit, GardeshPayEncoding, GardeshPayTokenPlacement,
/// };
///
/// let gardeshpay = GardeshPay::new()
///     .with_base_urls("http://127.0.0.1:8085/gardeshpay", "http://127.0.0.1:8085/gardeshpay")?
///     .with_path_prefix("v1")?
///     .with_merchant_token("provider-token");
/// // The merchant token never shows in Debug output.
/// assert!(!format!("{gardeshpay:?}").contains("provider-token"));
///
/// // Form data, the token in an `Authorization: Bearer` header, amounts in toman.
/// let other_guesses = gardeshpay
///     .with_encoding(GardeshPayEncoding::Form)
///     .with_token_placement(GardeshPayTokenPlacement::Header)
///     .with_amount_unit(GardeshPayAmountUnit::Toman);
/// assert!(!format!("{other_guesses:?}").contains("provider-token"));
/// # Ok::<(), payment_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct GardeshPay {
    create_api: Api,
    verify_api: Api,
    /// `""` or the prefix with a trailing slash (`"v1/"`).
    path_prefix: String,
    encoding: GardeshPayEncoding,
    token_placement: GardeshPayTokenPlacement,
    amount_unit: GardeshPayAmountUnit,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for GardeshPay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GardeshPay")
            .field("path_prefix", &self.path_prefix)
            .field("encoding", &self.encoding)
            .field("token_placement", &self.token_placement)
            .field("amount_unit", &self.amount_unit)
            .field("create_api", &self.create_api)
            .field("verify_api", &self.verify_api)
            .finish_non_exhaustive()
    }
}

impl Default for GardeshPay {
    fn default() -> Self {
        Self::new()
    }
}

impl GardeshPay {
    /// An adapter with the documented base URLs (`https://ipg.gardeshpay.ir/` for create,
    /// `https://ipg.gardeshpay.com/` for verify),
    /// no path prefix, no merchant token, JSON bodies, the token (once set) in the body,
    /// amounts in rial, the system clock and a default [`HttpClient`] (built on first use).
    pub fn new() -> Self {
        let api = |what, url| Api::new(GatewayId::GardeshPay, what, url);
        Self {
            create_api: api("GardeshPay create base URL", "https://ipg.gardeshpay.ir/"),
            verify_api: api("GardeshPay verify base URL", "https://ipg.gardeshpay.com/"),
            path_prefix: String::new(),
            encoding: GardeshPayEncoding::default(),
            token_placement: GardeshPayTokenPlacement::default(),
            amount_unit: GardeshPayAmountUnit::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Uses one origin for create and verify (the sandbox:
    /// `http://127.0.0.1:8085/gardeshpay`).
    pub fn with_base_url(self, url: &str) -> Result<Self, ConfigError> {
        self.with_base_urls(url, url)
    }

    /// Uses these origins for create (`getToken`) and verify. `provider/payment/…` (after
    /// the path prefix) is joined to them; a path in a URL is kept.
    pub fn with_base_urls(mut self, create: &str, verify: &str) -> Result<Self, ConfigError> {
        self.create_api.set_base_url(create)?;
        self.verify_api.set_base_url(verify)?;
        Ok(self)
    }

    /// A path prefix before `provider/payment/…`, such as `"v1"` (what public client code
    /// uses); `""` for none (the default, as in the document). Segments may hold ASCII
    /// letters, digits, `-`, `_` and `.`, separated by `/`.
    pub fn with_path_prefix(mut self, prefix: &str) -> Result<Self, ConfigError> {
        let prefix = prefix.trim().trim_matches('/');
        if prefix.is_empty() {
            self.path_prefix = String::new();
            return Ok(self);
        }
        let valid = prefix.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        });
        if !valid {
            return Err(ConfigError::Invalid(
                "GardeshPay path prefix may hold only ASCII letters, digits, '-', '_', '.' and '/'",
            ));
        }
        self.path_prefix = format!("{prefix}/");
        Ok(self)
    }

    /// Sends this merchant (provider) token with getToken and verify: as the `token`
    /// field of the body by default, or as a header (see
    /// [`with_token_placement`](Self::with_token_placement)).
    pub fn with_merchant_token(mut self, token: impl Into<String>) -> Self {
        let token = token.into();
        self.create_api.set_credential(token.clone());
        self.verify_api.set_credential(token);
        self
    }

    /// Encodes the body of getToken and verify this way (default: JSON). A guess either
    /// way: the document names no content type.
    pub fn with_encoding(mut self, encoding: GardeshPayEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Sends the merchant token here (default: a `token` field in the body). A guess
    /// either way: the document names no credential.
    pub fn with_token_placement(mut self, placement: GardeshPayTokenPlacement) -> Self {
        self.token_placement = placement;
        self
    }

    /// Sends and reads amounts in this unit (default: rial). A guess either way: the
    /// document says only "integer".
    pub fn with_amount_unit(mut self, unit: GardeshPayAmountUnit) -> Self {
        self.amount_unit = unit;
        self
    }

    /// Reads the time for `invoiceDate` from this clock (default: the system clock).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Uses this HTTP client (share one across adapters; it holds the timeouts).
    pub fn with_http(mut self, http: HttpClient) -> Self {
        self.create_api.set_http(http.clone());
        self.verify_api.set_http(http);
        self
    }

    /// The order's amount as getToken's `amount`, in the configured unit; an amount that
    /// is no whole number of toman is refused.
    fn wire_amount(&self, order: &Order) -> Result<u64, Error> {
        let amount = order.amount();
        self.amount_unit.write_wire(amount).ok_or_else(|| {
            let reason = OrderProblem::AmountNotWholeToman {
                amount: amount.get(),
            };
            invalid(Self::ID, reason)
        })
    }

    /// `invoiceDate`: now, in Tehran time, as `YYYY-MM-DDTHH:mm:ss`.
    fn invoice_date(&self) -> Result<String, Error> {
        self.clock
            .now()
            .to_offset(TEHRAN)
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]"
            ))
            .map_err(|_| {
                Error::Config(ConfigError::Invalid(
                    "the clock's time cannot be written as a GardeshPay invoiceDate",
                ))
            })
    }

    /// Sends `fields`, encoded as configured, with the merchant token (when one is set)
    /// where it is configured to go, and returns the raw answer.
    async fn call(
        &self,
        operation: Operation,
        api: &Api,
        path: &str,
        mut fields: Vec<(&'static str, Value)>,
    ) -> Result<RawResponse, Error> {
        let token = api.credential();
        if let (Some(token), GardeshPayTokenPlacement::Body) = (token, self.token_placement) {
            fields.push(("token", token.into()));
        }
        let path = format!("{}{path}", self.path_prefix);
        let json;
        let body = match self.encoding {
            GardeshPayEncoding::Json => {
                json = Value::Object(
                    fields
                        .into_iter()
                        .map(|(name, value)| (name.to_owned(), value))
                        .collect(),
                );
                Body::Json(&json)
            }
            GardeshPayEncoding::Form => {
                let texts: Vec<(&str, String)> = fields
                    .iter()
                    .map(|(name, value)| match value {
                        Value::String(s) => (*name, s.clone()),
                        other => (*name, other.to_string()),
                    })
                    .collect();
                let pairs: Vec<(&str, &str)> = texts
                    .iter()
                    .map(|(name, value)| (*name, value.as_str()))
                    .collect();
                Body::form(&pairs)
            }
        };
        match (token, self.token_placement) {
            (Some(token), GardeshPayTokenPlacement::Header) => {
                api.post_with(operation, &path, body, |request| request.bearer_auth(token))
                    .await
            }
            _ => api.post(operation, &path, body).await,
        }
    }

    /// A success answer, or the error the answer stands for.
    fn answer(&self, operation: Operation, raw: &RawResponse) -> Result<Answer, Error> {
        let api = self.api_of(operation);
        let answer: Answer = raw.json(Self::ID, operation)?;
        match answer.success.as_ref().and_then(Scalar::as_bool) {
            Some(true) if (200..300).contains(&raw.status) => Ok(answer),
            Some(false) => {
                let code = error_code(answer.code.as_ref(), raw);
                let text = self.error_text(&answer);
                Err(api.refusal(operation, raw, GatewayCode::Undocumented(code), text))
            }
            _ => Err(api.malformed(operation, raw)),
        }
    }

    /// The API a call goes to: verify has an origin of its own.
    fn api_of(&self, operation: Operation) -> &Api {
        match operation {
            Operation::Verify => &self.verify_api,
            _ => &self.create_api,
        }
    }

    /// `message`, followed by the `errors` list in parentheses.
    fn error_text(&self, answer: &Answer) -> Option<String> {
        let errors: Vec<String> = match &answer.errors {
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => s.trim().to_owned(),
                    other => other.to_string(),
                })
                .filter(|s| !s.is_empty())
                .collect(),
            _ => Vec::new(),
        };
        let head = match &answer.message {
            Some(Value::String(s)) => s.trim(),
            _ => "",
        };
        let text = match (head.is_empty(), errors.is_empty()) {
            (_, true) => head.to_owned(),
            (true, false) => errors.join("; "),
            (false, false) => format!("{head} ({})", errors.join("; ")),
        };
        self.create_api.message(Some(&Value::String(text)))
    }

    /// Decodes and maps a create (getToken) answer.
    pub(crate) fn created(&self, raw: &RawResponse) -> Result<Created, Error> {
        let op = Operation::Create;
        let answer = self.answer(op, raw)?;
        let malformed = || self.create_api.malformed(op, raw);
        let data: TokenData = serde_json::from_value(answer.data).map_err(|_| malformed())?;
        let token = data.token.text().ok_or_else(malformed)?;
        // `{url}/{token}`: the token becomes one more path segment (escaped if need be).
        let mut redirect = Url::parse(data.url.trim()).map_err(|_| malformed())?;
        if !matches!(redirect.scheme(), "http" | "https") {
            return Err(malformed());
        }
        redirect
            .path_segments_mut()
            .map_err(|()| malformed())?
            .pop_if_empty()
            .push(&token);
        Ok(Created::redirect_to(token, redirect))
    }

    /// Decodes and maps a verify answer.
    pub(crate) fn verified(&self, raw: &RawResponse) -> Result<Verified, Error> {
        let op = Operation::Verify;
        let answer = self.answer(op, raw)?;
        let malformed = || self.verify_api.malformed(op, raw);
        let data: VerifyData = serde_json::from_value(answer.data).map_err(|_| malformed())?;
        let amount = answer
            .amount
            .or(data.amount)
            .and_then(|a| a.as_u64())
            .and_then(|a| self.amount_unit.read_wire(a))
            .ok_or_else(malformed)?;
        let order_id = data
            .invoice_number
            .and_then(|n| n.text())
            .ok_or_else(malformed)?;
        let already_verified = match answer.verified_before.or(data.verified_before) {
            None => false,
            Some(v) => v.as_bool().ok_or_else(malformed)?,
        };
        let mut verified = Verified::new();
        verified.order_id = Some(order_id);
        verified.amount = Some(amount);
        verified.bank_reference = data.ref_number.and_then(|r| r.text());
        verified.card_mask = data
            .card_number
            .and_then(|c| c.text())
            .map(|c| mask_card(&c));
        verified.already_verified = already_verified;
        Ok(verified)
    }
}

impl Gateway for GardeshPay {
    const ID: GatewayId = GatewayId::GardeshPay;

    /// The document sets no limits, only a positive integer amount; in toman (see
    /// [`GardeshPayAmountUnit`]) the amount must also be a multiple of 10 rial.
    fn check_order(&self, order: &Order) -> Result<(), Error> {
        check_amount(Self::ID, order, 1, None)?;
        self.wire_amount(order)?;
        Ok(())
    }

    async fn create(&self, order: &Order, callback_url: &Url) -> Result<Created, Error> {
        self.check_order(order)?;
        let amount = self.wire_amount(order)?;
        let date = self.invoice_date()?;
        let mut fields = vec![
            ("amount", json!(amount)),
            ("invoiceNumber", json!(order.id().as_str())),
            ("invoiceDate", json!(date)),
        ];
        for (name, value) in [("mobile", order.mobile()), ("email", order.email())] {
            if let Some(value) = value {
                fields.push((name, json!(value)));
            }
        }
        fields.push(("callback", json!(callback_url.as_str())));
        let op = Operation::Create;
        let path = "provider/payment/getToken";
        let raw = self.call(op, &self.create_api, path, fields).await?;
        self.created(&raw)
    }

    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error> {
        let tracking_number = request.required("trackingNumber")?.to_owned();
        let invoice_number = request.required("invoiceNumber")?.to_owned();
        // The callback comes on payment and on cancel alike: only verify can tell.
        let mut data = CallbackData::new(Self::ID, CallbackStatus::Unknown);
        data.order_id = Some(invoice_number);
        data.verify_reference = Some(tracking_number);
        Ok(data)
    }

    async fn verify(
        &self,
        _state: &OrderState,
        callback: &CallbackData,
    ) -> Result<Verified, Error> {
        // The tracking number exists only from the callback on; the state's token is not
        // what verify takes. The answer's amount and invoice number are compared with the
        // state by the pipeline.
        let tracking_number = callback
            .verify_reference
            .as_deref()
            .ok_or(CallbackError::MissingField("trackingNumber"))?;
        let fields = vec![("trackingNumber", json!(tracking_number))];
        let op = Operation::Verify;
        let raw = self
            .call(op, &self.verify_api, "provider/payment/verify", fields)
            .await?;
        self.verified(&raw)
    }
}

/// Every GardeshPay answer. Success: `success`, `data`, `message` (and on verify
/// `amount` and `verifiedBefore`, which the document lists beside `data`, not inside it);
/// failure: `success`, `code`, `message`, `errors`.
#[derive(Deserialize)]
struct Answer {
    success: Option<Scalar>,
    #[serde(default)]
    data: Value,
    code: Option<Scalar>,
    message: Option<Value>,
    errors: Option<Value>,
    amount: Option<Scalar>,
    #[serde(rename = "verifiedBefore")]
    verified_before: Option<Scalar>,
}

#[derive(Deserialize)]
struct TokenData {
    url: String,
    token: Scalar,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyData {
    card_number: Option<Scalar>,
    ref_number: Option<Scalar>,
    invoice_number: Option<Scalar>,
    // Also read here, in case the gateway nests them in `data`.
    amount: Option<Scalar>,
    verified_before: Option<Scalar>,
}
