//! GardeshPay (gardeshpay.ir, «گردش پی»): the adapter.
//!
//! Follows `gardeshpay-api-fa.txt`. GardeshPay publishes no code table: its error codes
//! are kept as [`GatewayCode::Undocumented`].

use std::{fmt, sync::Arc};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value};
use time::{UtcOffset, macros::format_description, macros::offset};
use url::Url;

use super::{
    ApiBase, LazyHttp, Scalar, base_url, check_amount, endpoint,
    wire::{mask_card, message},
};
use crate::{
    CallbackData, CallbackError, CallbackRequest, CallbackStatus, Clock, ConfigError, Created,
    Error, Gateway, GatewayCode, GatewayError, GatewayId, HttpClient, Operation, Order, OrderState,
    RawResponse, Redirect, Rial, SystemClock, Verified,
};

const CREATE_PATH: &str = "provider/payment/getToken";
const VERIFY_PATH: &str = "provider/payment/verify";

/// Tehran's offset from UTC. Iran has not observed daylight saving time since 2022, so
/// the offset is fixed.
const TEHRAN: UtcOffset = offset!(+3:30);

/// The GardeshPay adapter (`ipg.gardeshpay.ir` / `ipg.gardeshpay.com`).
///
/// - create: `POST {create base}{prefix}provider/payment/getToken` (JSON) with `amount`,
///   `invoiceNumber` (the order id), `invoiceDate`, `callback`, and `mobile` and `email`
///   when the order has them. The gateway reference is `data.token`; the buyer goes to
///   `GET {data.url}/{data.token}` ([`Redirect::Get`]).
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
///   [`GatewayError`] with [`GatewayCode::Undocumented`]`(code)`, the message followed by
///   the `errors` in parentheses.
///
/// Choices where the document is silent:
/// - Credential: the document names none, so [`GardeshPay::new`] takes none. Public client
///   code sends the merchant's provider token as a `token` field in the JSON body of
///   getToken and verify; set one with [`GardeshPay::with_merchant_token`].
/// - Paths: the document's paths (no prefix) by default; public client code uses a `v1`
///   prefix: [`GardeshPay::with_path_prefix`]`("v1")`.
/// - `invoiceDate` (`YYYY-MM-DDTHH:mm:ss`, no offset) is the clock's time in Tehran
///   (UTC+03:30), the gateway's local time. Inject a clock with
///   [`GardeshPay::with_clock`].
/// - `callback` is sent always: the document's table marks it required (the English
///   digest lists it as optional; the document wins).
///
/// Construction never fails (the convention of every adapter in this crate): without
/// [`GardeshPay::with_http`], a default [`HttpClient`] is built on first use, and if that
/// fails the call answers `Error::Config(ConfigError::HttpClient)`.
///
/// ```
/// use payment_core::GardeshPay;
///
/// let gardeshpay = GardeshPay::new()
///     .with_base_urls("http://127.0.0.1:8085/gardeshpay", "http://127.0.0.1:8085/gardeshpay")?
///     .with_path_prefix("v1")?
///     .with_merchant_token("provider-token");
/// // The merchant token never shows in Debug output.
/// assert!(!format!("{gardeshpay:?}").contains("provider-token"));
/// # Ok::<(), payment_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct GardeshPay {
    merchant_token: Option<SecretString>,
    // `Result`s so that `new` cannot fail; the defaults always parse.
    create_base: Result<ApiBase, ConfigError>,
    verify_base: Result<ApiBase, ConfigError>,
    /// `""` or the prefix with a trailing slash (`"v1/"`).
    path_prefix: String,
    clock: Arc<dyn Clock>,
    http: LazyHttp,
}

impl fmt::Debug for GardeshPay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GardeshPay")
            .field(
                "create_base_url",
                &self.create_base.as_ref().map(|b| b.url().as_str()).ok(),
            )
            .field(
                "verify_base_url",
                &self.verify_base.as_ref().map(|b| b.url().as_str()).ok(),
            )
            .field("path_prefix", &self.path_prefix)
            .field(
                "merchant_token",
                &self.merchant_token.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}

impl Default for GardeshPay {
    fn default() -> Self {
        Self::new()
    }
}

impl GardeshPay {
    /// The documented create origin (`https://ipg.gardeshpay.ir/provider/payment/getToken`).
    pub const DEFAULT_CREATE_BASE_URL: &'static str = "https://ipg.gardeshpay.ir/";
    /// The documented verify origin: `.com`, where create is on `.ir`
    /// (`https://ipg.gardeshpay.com/provider/payment/verify`).
    pub const DEFAULT_VERIFY_BASE_URL: &'static str = "https://ipg.gardeshpay.com/";
    /// The smallest amount: the document sets no limits, only a positive integer.
    pub const MIN_AMOUNT: Rial = Rial::new(1);

    /// An adapter with the documented base URLs
    /// ([`GardeshPay::DEFAULT_CREATE_BASE_URL`], [`GardeshPay::DEFAULT_VERIFY_BASE_URL`]),
    /// no path prefix, no merchant token, the system clock and a default [`HttpClient`]
    /// (built on first use).
    pub fn new() -> Self {
        Self {
            merchant_token: None,
            create_base: base_url(Self::DEFAULT_CREATE_BASE_URL, "GardeshPay create base URL")
                .map(|url| ApiBase::new(url, &[])),
            verify_base: base_url(Self::DEFAULT_VERIFY_BASE_URL, "GardeshPay verify base URL")
                .map(|url| ApiBase::new(url, &[])),
            path_prefix: String::new(),
            clock: Arc::new(SystemClock),
            http: LazyHttp::default(),
        }
        .with_endpoints_joined()
    }

    /// Uses one origin for create and verify (the sandbox:
    /// `http://127.0.0.1:8085/gardeshpay`).
    pub fn with_base_url(self, url: &str) -> Result<Self, ConfigError> {
        self.with_base_urls(url, url)
    }

    /// Uses these origins for create (`getToken`) and verify. `provider/payment/…` (after
    /// the path prefix) is joined to them; a path in a URL is kept.
    pub fn with_base_urls(mut self, create: &str, verify: &str) -> Result<Self, ConfigError> {
        let create = base_url(create, "GardeshPay create base URL")?;
        let verify = base_url(verify, "GardeshPay verify base URL")?;
        self.create_base = Ok(ApiBase::new(create, &[]));
        self.verify_base = Ok(ApiBase::new(verify, &[]));
        Ok(self.with_endpoints_joined())
    }

    /// A path prefix before `provider/payment/…`, such as `"v1"` (what public client code
    /// uses); `""` for none (the default, as in the document). Segments may hold ASCII
    /// letters, digits, `-`, `_` and `.`, separated by `/`.
    pub fn with_path_prefix(mut self, prefix: &str) -> Result<Self, ConfigError> {
        let prefix = prefix.trim().trim_matches('/');
        if prefix.is_empty() {
            self.path_prefix = String::new();
            return Ok(self.with_endpoints_joined());
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
        Ok(self.with_endpoints_joined())
    }

    /// Joins the endpoints (after the path prefix) to the base URLs once, here, instead
    /// of on every call.
    fn with_endpoints_joined(mut self) -> Self {
        let prefixed = |path: &str| format!("{}{path}", self.path_prefix);
        let (create, verify) = (prefixed(CREATE_PATH), prefixed(VERIFY_PATH));
        if let Ok(base) = &mut self.create_base {
            *base = ApiBase::new(base.url().clone(), &[&create]);
        }
        if let Ok(base) = &mut self.verify_base {
            *base = ApiBase::new(base.url().clone(), &[&verify]);
        }
        self
    }

    /// Sends this merchant (provider) token as the `token` field of getToken and verify.
    pub fn with_merchant_token(mut self, token: impl Into<String>) -> Self {
        self.merchant_token = Some(SecretString::from(token.into()));
        self
    }

    /// Reads the time for `invoiceDate` from this clock (default: the system clock).
    pub fn with_clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Uses this HTTP client (share one across adapters; it holds the timeouts).
    pub fn with_http(mut self, http: HttpClient) -> Self {
        self.http = LazyHttp::given(http);
        self
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

    /// Sends `body` (with the merchant token added when one is set) and returns the raw
    /// answer.
    async fn call(
        &self,
        operation: Operation,
        base: &Result<ApiBase, ConfigError>,
        path: &str,
        mut body: Map<String, Value>,
    ) -> Result<RawResponse, Error> {
        let base = base.as_ref().map_err(Clone::clone)?;
        let url = endpoint(base, &format!("{}{path}", self.path_prefix));
        let http = self.http.get()?;
        if let Some(token) = &self.merchant_token {
            body.insert("token".into(), token.expose_secret().into());
        }
        let body = Value::Object(body);
        let raw = http
            .send(Self::ID, operation, |c| {
                c.post(url.as_ref().clone()).json(&body)
            })
            .await?;
        Ok(raw)
    }

    /// A success answer, or the error the answer stands for.
    fn answer(&self, operation: Operation, raw: &RawResponse) -> Result<Answer, Error> {
        let answer: Answer = raw.json(Self::ID, operation)?;
        match answer.success.as_ref().and_then(Scalar::as_bool) {
            Some(true) if (200..300).contains(&raw.status) => Ok(answer),
            Some(false) => {
                // The documented error shape always has `code`; without one the HTTP
                // status stands in for it.
                let code = answer
                    .code
                    .as_ref()
                    .and_then(Scalar::as_i64)
                    .unwrap_or(i64::from(raw.status));
                Err(Error::Gateway(GatewayError {
                    gateway: Self::ID,
                    operation,
                    code: GatewayCode::Undocumented(code),
                    http_status: (raw.status != 200).then_some(raw.status),
                    message: self.error_text(&answer),
                }))
            }
            _ => Err(raw.unexpected(Self::ID, operation).into()),
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
        let secret = self.merchant_token.as_ref().map(|t| t.expose_secret());
        message(Some(&Value::String(text)), secret)
    }

    /// Decodes and maps a create (getToken) answer.
    pub(crate) fn created(&self, raw: &RawResponse) -> Result<Created, Error> {
        let op = Operation::Create;
        let answer = self.answer(op, raw)?;
        let malformed = || Error::from(raw.unexpected(Self::ID, op));
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
        Ok(Created {
            gateway_ref: token,
            redirect: Redirect::Get(redirect),
            payable_amount: None,
        })
    }

    /// Decodes and maps a verify answer.
    pub(crate) fn verified(&self, raw: &RawResponse) -> Result<Verified, Error> {
        let op = Operation::Verify;
        let answer = self.answer(op, raw)?;
        let malformed = || Error::from(raw.unexpected(Self::ID, op));
        let data: VerifyData = serde_json::from_value(answer.data).map_err(|_| malformed())?;
        let amount = answer
            .amount
            .or(data.amount)
            .and_then(|a| a.as_u64())
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
        verified.amount = Some(Rial::new(amount));
        verified.bank_reference = data.ref_number.and_then(|r| r.text());
        verified.card_mask = data
            .card_number
            .and_then(|c| c.text())
            .map(|c| mask_card(&c));
        verified.already_verified = already_verified;
        Ok(verified)
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

impl Gateway for GardeshPay {
    const ID: GatewayId = GatewayId::GardeshPay;

    fn check_order(&self, order: &Order) -> Result<(), Error> {
        check_amount(Self::ID, order, Self::MIN_AMOUNT.get(), None)?;
        Ok(())
    }

    async fn create(&self, order: &Order, callback_url: &Url) -> Result<Created, Error> {
        self.check_order(order)?;
        let mut body = Map::new();
        body.insert("amount".into(), order.amount().get().into());
        body.insert("invoiceNumber".into(), order.id().as_str().into());
        body.insert("invoiceDate".into(), self.invoice_date()?.into());
        if let Some(mobile) = order.mobile() {
            body.insert("mobile".into(), mobile.into());
        }
        if let Some(email) = order.email() {
            body.insert("email".into(), email.into());
        }
        body.insert("callback".into(), callback_url.as_str().into());
        let op = Operation::Create;
        let raw = self.call(op, &self.create_base, CREATE_PATH, body).await?;
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
        let mut body = Map::new();
        body.insert("trackingNumber".into(), tracking_number.into());
        let op = Operation::Verify;
        let raw = self.call(op, &self.verify_base, VERIFY_PATH, body).await?;
        self.verified(&raw)
    }
}
