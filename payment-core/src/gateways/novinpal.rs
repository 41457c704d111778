//! NovinPal (novinpal.ir): the adapter and its code table.
//!
//! Follows `novinpal-api-fa.txt`. Requests are sent as form data (the document says
//! requests and answers are exchanged as form data); answers are read as JSON, as in the
//! document's examples, and also as form data should the gateway ever answer that way.

use std::fmt;

use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::{
    ApiBase, LazyHttp, Scalar, base_url, check_amount, endpoint,
    wire::{message, optional},
};
use crate::{
    CallbackData, CallbackError, CallbackRequest, CallbackStatus, CardNumber, ConfigError, Created,
    Error, Gateway, GatewayCode, GatewayError, GatewayId, HttpClient, Operation, Order, OrderState,
    RawResponse, Redirect, Reverse, Rial, TransportError, Verified, codes::code_table,
    parse_amount,
};

code_table! {
    /// NovinPal's codes: verify `status` values (1, 0, -1, -2) and `errorCode`/callback
    /// `code` values (100–123). The ranges do not overlap.
    pub enum NovinPalCode {
        Paid = 1, false, "transaction succeeded", "تراکنش موفقیت آمیز بوده است";
        AwaitingPayment = 0, true, "awaiting payment", "در انتظار پرداخت";
        Failed = -1, false, "transaction failed", "تراکنش ناموفق بوده است";
        ServerErrorStatus = -2, true, "server error", "خطای سرور";
        Ok = 100, false, "request succeeded", "درخواست موفقیت آمیز بود";
        IpNotAllowed = 101, false, "merchant site IP not allowed", "آی پی سایت پذیرنده مجاز نیست";
        TerminalBlocked = 102, false, "terminal blocked", "ترمینال بلاک شده است";
        ReturnUrlNotMerchants = 103, false, "return URL does not belong to the merchant", "آدرس بازگشتی متعلق به سایت پذیرنده نیست";
        PspError = 104, true, "PSP error", "خطای PSP";
        TransactionNotFound = 105, false, "transaction not found", "تراکنش یافت نشد";
        WrongReference = 106, false, "wrong reference id", "شناسه مرجع اشتباه است";
        PspNotFound = 107, false, "PSP not found", "PSP یافت نشد";
        ServerError = 108, true, "server error", "خطای سرور";
        TransactionFailed = 109, false, "transaction failed", "تراکنش ناموفق بوده است";
        WrongAmount = 110, false, "wrong amount or below 10,000 rial", "مبلغ اشتباه وارد شده یا کمتر از 10000 ریال است";
        WrongApiKey = 111, false, "wrong API key", "کلید API اشتباه است";
        MerchantInactive = 112, false, "merchant inactive", "پذیرنده غیرفعال است";
        WrongOrderId = 113, false, "wrong order id", "شناسه سفارش اشتباه است";
        WrongMethod = 114, false, "wrong method", "متد ارسال شده اشتباه است";
        TerminalNotApproved = 115, false, "terminal not approved", "ترمینال تأیید نشده است";
        TerminalInactive = 116, false, "terminal inactive", "ترمینال غیرفعال است";
        TerminalRejected = 117, false, "terminal rejected", "ترمینال رد شده است";
        TerminalSuspended = 118, false, "terminal suspended", "ترمینال تعلیق شده است";
        NoTerminal = 119, false, "no terminal defined", "ترمینالی تعریف نشده است";
        AccountSuspended = 120, false, "merchant account suspended", "حساب کاربری پذیرنده به حالت تعلیق درآمده است";
        AccountNotApproved = 121, false, "merchant account not approved", "حساب کاربری پذیرنده تأیید نشده است";
        AccountNotFound = 122, false, "merchant account not found", "حساب کاربری پذیرنده یافت نشد";
        CardMismatch = 123, false, "card mismatch (paid with a card other than the one required)", "کارت نامعتبر است (عدم تطبیق کارت ارسالی با کارت پرداختی)";
    }
}

const GW: GatewayId = GatewayId::NovinPal;

const REQUEST_PATH: &str = "invoice/request";
const START_PATH: &str = "invoice/start/";
const VERIFY_PATH: &str = "invoice/verify";
const REVERSE_PATH: &str = "invoice/reverse";
/// The endpoints joined to the base URL when it is set.
const FIXED_PATHS: &[&str] = &[REQUEST_PATH, VERIFY_PATH, REVERSE_PATH];

/// `status` of a successful call.
const SUCCESS: i64 = 1;

/// The NovinPal adapter (`api.novinpal.ir`).
///
/// - create: `POST invoice/request`, form data `api_key`, `amount` (rial), `return_url`,
///   `order_id` and, when the order has them, `description`, `mobile` and `card_number`
///   (the full number: the gateway then takes only that card, error 123 otherwise). The
///   answer's `refId` is the gateway reference.
/// - redirect: `GET invoice/start/{refId}`.
/// - callback (`GET` query string): `success` (1 or 0), `refId`, `code` (100 paid, 109
///   failed, …), `invoiceNumber` (our order id) and `amount`.
/// - verify: `POST invoice/verify`, form data `api_key` and `ref_id` (the state's
///   reference). `status: 1` is paid, with `verifiedBefore: true` for a payment verified
///   before ([`Verified::already_verified`]).
/// - reverse ([`Reverse`], a refund within 120 minutes of a verified payment):
///   `POST invoice/reverse`, same fields and same answer as verify.
///
/// How answers map: `status: 0` means both "rejected" and "awaiting payment" at NovinPal.
/// With an `errorCode` it is a refusal ([`Error::Gateway`] with that code, e.g.
/// [`NovinPalCode::WrongApiKey`]); without one it is a payment not made yet, a
/// [`GatewayError`] with the transient code [`NovinPalCode::AwaitingPayment`] so the
/// pipeline reports the payment pending. `status: -1` is [`NovinPalCode::Failed`],
/// `status: -2` the transient [`NovinPalCode::ServerErrorStatus`].
///
/// Construction never fails: `new` keeps the default base URL and an [`HttpClient`] with
/// default timeouts built on first use; if that client cannot be built (the TLS backend
/// could not start), every call answers `Error::Config(ConfigError::HttpClient)` unless
/// [`NovinPal::with_http`] gave a client.
///
/// ```
/// use payment_core::{CallbackRequest, CallbackStatus, Gateway, NovinPal, Order, Rial};
///
/// let novinpal = NovinPal::new("my-api-key").with_base_url("http://127.0.0.1:8085/novinpal")?;
/// // The API key never shows in Debug output.
/// assert!(!format!("{novinpal:?}").contains("my-api-key"));
/// // Documented limits are checked before any request: the minimum is 10,000 rial.
/// let order = Order::new("A-1001".parse()?, Rial::new(5_000));
/// assert!(novinpal.check_order(&order).is_err());
/// // The buyer comes back with a GET callback.
/// let request = CallbackRequest::from_get(
///     "refId=447515262&success=1&code=100&invoiceNumber=A-1001&amount=120000",
/// )?;
/// let callback = novinpal.parse_callback(&request)?;
/// assert_eq!(callback.status, CallbackStatus::Paid);
/// assert_eq!(callback.reference.as_deref(), Some("447515262"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Creating a payment (the [`Payments`](crate::Payments) pipeline normally does this):
///
/// ```no_run
/// # async fn demo() -> Result<(), payment_core::Error> {
/// use payment_core::{Gateway, HttpClient, NovinPal, Order, Rial, url::Url};
///
/// let novinpal = NovinPal::new(std::env::var("NOVINPAL_API_KEY").unwrap_or_default())
///     .with_http(HttpClient::with_defaults()?);
/// let order = Order::new("A-1001".parse().unwrap(), Rial::new(120_000));
/// let callback = Url::parse("https://shop.example/pay/callback/novinpal").unwrap();
/// let created = novinpal.create(&order, &callback).await?;
/// // Keep `created.gateway_ref` (the refId) and send the buyer to `created.redirect`.
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct NovinPal {
    api_key: SecretString,
    // A `Result` so that `new` cannot fail; the default URL always parses.
    base_url: Result<ApiBase, ConfigError>,
    http: LazyHttp,
}

impl fmt::Debug for NovinPal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NovinPal")
            .field(
                "base_url",
                &self.base_url.as_ref().map(|b| b.url().as_str()).ok(),
            )
            .field("api_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl NovinPal {
    /// The documented base URL; `invoice/…` paths are joined to it.
    pub const DEFAULT_BASE_URL: &'static str = "https://api.novinpal.ir/";
    /// The smallest amount NovinPal takes: 10,000 rial (error 110 below it). The
    /// document gives no maximum.
    pub const MIN_AMOUNT: Rial = Rial::new(10_000);

    /// An adapter with the merchant's API key, the default base URL
    /// ([`NovinPal::DEFAULT_BASE_URL`]) and a default [`HttpClient`].
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            api_key: SecretString::from(api_key.into()),
            base_url: base_url(Self::DEFAULT_BASE_URL, "NovinPal base URL")
                .map(|url| ApiBase::new(url, FIXED_PATHS)),
            http: LazyHttp::default(),
        }
    }

    /// Points the adapter at another base URL (the sandbox:
    /// `http://127.0.0.1:8085/novinpal`). `invoice/…` is joined to it; a path in `url` is
    /// kept.
    pub fn with_base_url(mut self, url: &str) -> Result<Self, ConfigError> {
        self.base_url = Ok(ApiBase::new(
            base_url(url, "NovinPal base URL")?,
            FIXED_PATHS,
        ));
        Ok(self)
    }

    /// Uses this HTTP client (share one across adapters; it holds the timeouts).
    pub fn with_http(mut self, http: HttpClient) -> Self {
        self.http = LazyHttp::given(http);
        self
    }

    fn base(&self) -> Result<&ApiBase, Error> {
        self.base_url.as_ref().map_err(|e| Error::Config(e.clone()))
    }

    fn http(&self) -> Result<&HttpClient, Error> {
        Ok(self.http.get()?)
    }

    /// Sends `fields` (with `api_key` first) as form data and returns the raw answer.
    async fn call(
        &self,
        operation: Operation,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Result<RawResponse, Error> {
        let url = endpoint(self.base()?, path);
        // Encoded once, here, rather than by every attempt; each attempt shares it.
        let form = Bytes::from(
            url::form_urlencoded::Serializer::new(String::with_capacity(128))
                .append_pair("api_key", self.api_key.expose_secret())
                .extend_pairs(fields)
                .finish(),
        );
        let raw = self
            .http()?
            .send(GW, operation, |c| {
                c.post(url.as_ref().clone())
                    .header(
                        CONTENT_TYPE,
                        HeaderValue::from_static("application/x-www-form-urlencoded"),
                    )
                    .body(form.clone())
            })
            .await?;
        Ok(raw)
    }

    /// The refusal an answer with an `errorCode` (or a non-success `status`) stands for.
    fn refusal(
        &self,
        operation: Operation,
        raw: &RawResponse,
        answer: &Answer,
        code: i64,
    ) -> Error {
        let message = message(
            answer.error_description.as_ref(),
            Some(self.api_key.expose_secret()),
        );
        Error::Gateway(GatewayError {
            gateway: GW,
            operation,
            code: GatewayCode::lookup(GW, code),
            // NovinPal answers everything with HTTP 200; another status is worth keeping.
            http_status: (raw.status != 200).then_some(raw.status),
            message,
        })
    }

    /// Decodes and maps a verify or reverse answer (the two share one shape).
    pub(crate) fn verified(
        &self,
        operation: Operation,
        state: &OrderState,
        raw: &RawResponse,
    ) -> Result<Verified, Error> {
        let mut answer = Answer::decode(raw, operation)?;
        let malformed = || Error::from(raw.unexpected(GW, operation));
        let status = answer
            .status
            .as_ref()
            .map(|s| s.as_i64().ok_or_else(malformed));
        let status = status.transpose()?;
        if status != Some(SUCCESS)
            && let Some(code) = &answer.error_code
        {
            let code = code.as_i64().ok_or_else(malformed)?;
            return Err(self.refusal(operation, raw, &answer, code));
        }
        match status {
            Some(SUCCESS) if (200..300).contains(&raw.status) => {}
            // 0 awaiting payment (no errorCode), -1 failed, -2 server error.
            Some(code @ -2..=0) => return Err(self.refusal(operation, raw, &answer, code)),
            _ => return Err(malformed()),
        }
        let text = |v: &mut Option<Scalar>| v.take().and_then(Scalar::text);
        // An answer about another payment confirms nothing about this one.
        if answer
            .ref_id
            .as_ref()
            .is_some_and(|r| r.names_other_than(state.gateway_ref()))
        {
            return Err(malformed());
        }
        let mut verified = Verified::new();
        // The verify call carries no amount: what the answer reports is all the pipeline
        // can compare with the state, so a success without it is not the documented one.
        verified.order_id = Some(text(&mut answer.order_id).ok_or_else(malformed)?);
        let amount = answer.amount.as_ref().and_then(Scalar::as_u64);
        verified.amount = Some(Rial::new(amount.ok_or_else(malformed)?));
        verified.bank_reference = text(&mut answer.ref_number);
        verified.card_mask = text(&mut answer.card_number);
        verified.paid_at = text(&mut answer.paid_at);
        verified.already_verified = match &answer.verified_before {
            None => false,
            Some(v) => v.as_bool().ok_or_else(malformed)?,
        };
        Ok(verified)
    }

    /// Decodes and maps a create answer.
    pub(crate) fn created(&self, raw: &RawResponse) -> Result<Created, Error> {
        let answer = Answer::decode(raw, Operation::Create)?;
        let malformed = || Error::from(raw.unexpected(GW, Operation::Create));
        let status = answer
            .status
            .as_ref()
            .map(|s| s.as_i64().ok_or_else(malformed));
        let status = status.transpose()?;
        if status != Some(SUCCESS) {
            return match &answer.error_code {
                Some(code) => {
                    let code = code.as_i64().ok_or_else(malformed)?;
                    Err(self.refusal(Operation::Create, raw, &answer, code))
                }
                None => Err(malformed()),
            };
        }
        if !(200..300).contains(&raw.status) {
            return Err(malformed());
        }
        // The document's refIds are digits; anything outside a URL-safe token is not one.
        let ref_id = answer
            .ref_id
            .and_then(Scalar::text)
            .filter(|r| {
                r.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .ok_or_else(malformed)?;
        let start = endpoint(self.base()?, &format!("{START_PATH}{ref_id}")).into_owned();
        Ok(Created {
            gateway_ref: ref_id,
            redirect: Redirect::Get(start),
            payable_amount: None,
        })
    }
}

impl Gateway for NovinPal {
    const ID: GatewayId = GW;

    /// The amount must be at least 10,000 rial. The document sets no other limit (no
    /// maximum, no order id length or character rule beyond [`OrderId`](crate::OrderId)'s,
    /// no format for `mobile`); a card number is always 16 digits ([`CardNumber`]).
    fn check_order(&self, order: &Order) -> Result<(), Error> {
        check_amount(GW, order, Self::MIN_AMOUNT.get(), None)?;
        Ok(())
    }

    async fn create(&self, order: &Order, callback_url: &Url) -> Result<Created, Error> {
        self.check_order(order)?;
        let amount = order.amount().get().to_string();
        let mut fields = vec![
            ("amount", amount.as_str()),
            ("return_url", callback_url.as_str()),
            ("order_id", order.id().as_str()),
        ];
        let optional = [
            ("description", order.description()),
            ("mobile", order.mobile()),
            // The only place the full card number is exposed: the form sent to NovinPal.
            ("card_number", order.card_number().map(CardNumber::expose)),
        ];
        fields.extend(optional.into_iter().filter_map(|(k, v)| Some((k, v?))));
        let raw = self.call(Operation::Create, REQUEST_PATH, &fields).await?;
        self.created(&raw)
    }

    /// Reads `success`, `refId` (both required), and `code`, `invoiceNumber`, `amount`
    /// when present. `success=1` is [`CallbackStatus::Paid`], `success=0`
    /// [`CallbackStatus::Failed`] with `code`; any other value is malformed.
    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error> {
        let success = request.required("success")?;
        let ref_id = request.required("refId")?;
        let code = match optional(request, "code") {
            None => None,
            Some(c) => Some(
                c.parse::<i64>()
                    .map_err(|_| CallbackError::MalformedField("code"))?,
            ),
        };
        let status = match success {
            "1" => CallbackStatus::Paid,
            "0" => CallbackStatus::Failed {
                code: code.map(|c| GatewayCode::lookup(GW, c)),
                raw_code: code,
            },
            _ => return Err(CallbackError::MalformedField("success").into()),
        };
        let mut data = CallbackData::new(GW, status);
        data.reference = Some(ref_id.to_owned());
        data.order_id = optional(request, "invoiceNumber").map(str::to_owned);
        data.amount = optional(request, "amount")
            .map(|a| parse_amount(a, "amount"))
            .transpose()?;
        Ok(data)
    }

    /// `POST invoice/verify` with the state's `refId`. The callback is not used: NovinPal's
    /// verify takes no amount, and the answer's `amount` and `orderId` (required in a
    /// success) are reported for the pipeline to compare with the state.
    async fn verify(
        &self,
        state: &OrderState,
        _callback: &CallbackData,
    ) -> Result<Verified, Error> {
        let fields = [("ref_id", state.gateway_ref())];
        let raw = self.call(Operation::Verify, VERIFY_PATH, &fields).await?;
        self.verified(Operation::Verify, state, &raw)
    }
}

impl Reverse for NovinPal {
    /// `POST invoice/reverse` with the state's `refId`: refunds a verified payment, at
    /// most 120 minutes after it was made. The answer has verify's shape; `Ok` means the
    /// refund was accepted.
    async fn reverse(&self, state: &OrderState) -> Result<Verified, Error> {
        let fields = [("ref_id", state.gateway_ref())];
        let raw = self.call(Operation::Reverse, REVERSE_PATH, &fields).await?;
        self.verified(Operation::Reverse, state, &raw)
    }
}

/// Every field any NovinPal answer carries; numbers may come as strings.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    status: Option<Scalar>,
    error_code: Option<Scalar>,
    error_description: Option<Value>,
    ref_id: Option<Scalar>,
    paid_at: Option<Scalar>,
    card_number: Option<Scalar>,
    amount: Option<Scalar>,
    ref_number: Option<Scalar>,
    order_id: Option<Scalar>,
    verified_before: Option<Scalar>,
}

impl Answer {
    /// Reads an answer as JSON; failing that, as JSON with the trailing commas of the
    /// document's examples (`{"refId":"447515262","status":1,}`), or as form data.
    fn decode(raw: &RawResponse, operation: Operation) -> Result<Self, TransportError> {
        let error = match raw.json::<Self>(GW, operation) {
            Ok(answer) => return Ok(answer),
            Err(error) => error,
        };
        let body = std::str::from_utf8(&raw.body).map_err(|_| error.clone())?;
        let trimmed = body.trim_start();
        let lenient = if trimmed.starts_with('{') {
            serde_json::from_str(&strip_trailing_commas(trimmed)).ok()
        } else if trimmed.contains('=') {
            serde_urlencoded::from_str::<Self>(trimmed.trim_end())
                .ok()
                .filter(|a| a.status.is_some())
        } else {
            None
        };
        lenient.ok_or(error)
    }
}

/// `json` without commas that directly precede `}` or `]` (outside strings).
fn strip_trailing_commas(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for (i, c) in json.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if c == ',' {
            let rest = json.get(i + 1..).unwrap_or_default().trim_start();
            if rest.starts_with('}') || rest.starts_with(']') {
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_commas_go_but_commas_in_strings_stay() {
        assert_eq!(strip_trailing_commas("{\"a\": 1,\n}"), "{\"a\": 1\n}");
        assert_eq!(
            strip_trailing_commas("{\"a\": \"x,}\", \"b\": [1, 2, ], }"),
            "{\"a\": \"x,}\", \"b\": [1, 2 ] }"
        );
        assert_eq!(
            strip_trailing_commas(r#"{"a": "q\",}",}"#),
            r#"{"a": "q\",}"}"#
        );
    }
}
