//! NovinPal (novinpal.ir): the adapter and its code table.
//!
//! Follows `novinpal-api-fa.txt`. Requests are sent as form data (the document says
//! requests and answers are exchanged as form data); answers are read as JSON, as in the
//! document's examples, and also as form data should the gateway ever answer that way.

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::{
    api::{Api, Body},
    checks::check_amount,
    scalar::Scalar,
    wire::{optional, optional_amount},
};
use crate::{
    CallbackRequest, CardNumber, Error, GatewayId, Order, Rial,
    adapter::{CallbackData, CallbackStatus, Created, Gateway, Reverse, Verified},
    error::{CallbackError, GatewayCode, Operation, TransportError},
    http::RawResponse,
    state::OrderState,
};

pub use super::novinpal_codes::NovinPalCode;

const GW: GatewayId = GatewayId::NovinPal;

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
/// [`GatewayError`](crate::error::GatewayError) with the transient code [`NovinPalCode::AwaitingPayment`] so the
/// pipeline reports the payment pending. `status: -1` is [`NovinPalCode::Failed`],
/// `status: -2` the transient [`NovinPalCode::ServerErrorStatus`].
///
/// ```
/// use payment_core::{CallbackRequest, NovinPal, Order, Rial};
/// use payment_core::adapter::{CallbackStatus, Gateway};
///
/// let novinpal = NovinPal::new("my-api-key");
/// // Documented limits are checked before any request: the minimum is 10,000 rial.
/// assert!(novinpal.check_order(&Order::new("A-1001".parse()?, Rial::new(5_000))).is_err());
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
/// use payment_core::{HttpClient, NovinPal, Order, Rial, adapter::Gateway, url::Url};
///
/// let novinpal = NovinPal::new(std::env::var("NOVINPAL_API_KEY").unwrap_or_default())
///     .with_http(HttpClient::with_defaults()?);
/// let order = Order::new("A-1001".parse().unwrap(), Rial::new(120_000));
/// let callback = Url::parse("https://shop.example/pay/callback/novinpal").unwrap();
/// let created = novinpal.create(&order, &callback).await?;
/// // Keep `created.gateway_ref` (the refId) and send the buyer to `created.redirect`.
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct NovinPal(Api);

impl NovinPal {
    /// An adapter with the merchant's API key, NovinPal's base URL
    /// (`https://api.novinpal.ir/`) and a default [`HttpClient`](crate::HttpClient).
    pub fn new(api_key: impl Into<String>) -> Self {
        Self(Api::new(GW, "NovinPal base URL", "https://api.novinpal.ir/").with_credential(api_key))
    }

    /// Sends `fields` (with `api_key` first) as form data and returns the raw answer.
    async fn call(
        &self,
        operation: Operation,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Result<RawResponse, Error> {
        let key = [("api_key", self.0.credential().unwrap_or_default())];
        let all: Vec<(&str, &str)> = key.iter().chain(fields).copied().collect();
        self.0.post(operation, path, Body::form(&all)).await
    }

    /// The refusal an answer with an `errorCode` (or a non-success `status`) stands for.
    fn refusal(
        &self,
        operation: Operation,
        raw: &RawResponse,
        answer: &Answer,
        code: i64,
    ) -> Error {
        let message = self.0.message(answer.error_description.as_ref());
        // NovinPal answers everything with HTTP 200; another status is kept.
        let code = GatewayCode::lookup(GW, code);
        self.0.refusal(operation, raw, code, message)
    }

    /// Decodes and maps a verify or reverse answer (the two share one shape).
    pub(crate) fn verified(
        &self,
        operation: Operation,
        state: &OrderState,
        raw: &RawResponse,
    ) -> Result<Verified, Error> {
        let mut answer = Answer::decode(raw, operation)?;
        let malformed = || self.0.malformed(operation, raw);
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
        let malformed = || self.0.malformed(Operation::Create, raw);
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
        let start = self.0.url(&format!("invoice/start/{ref_id}"))?;
        Ok(Created::redirect_to(ref_id, start))
    }
}

api_settings!(NovinPal.0, sandbox: "http://127.0.0.1:8085/novinpal", paths: "invoice/…");

impl Gateway for NovinPal {
    const ID: GatewayId = GW;

    /// The amount must be at least 10,000 rial. The document sets no other limit (no
    /// maximum, no order id length or character rule beyond [`OrderId`](crate::OrderId)'s,
    /// no format for `mobile`); a card number is always 16 digits ([`CardNumber`]).
    fn check_order(&self, order: &Order) -> Result<(), Error> {
        check_amount(GW, order, 10_000, None)?;
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
        let raw = self
            .call(Operation::Create, "invoice/request", &fields)
            .await?;
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
            "0" => CallbackStatus::failed(GW, code),
            _ => return Err(CallbackError::MalformedField("success").into()),
        };
        let mut data = CallbackData::new(GW, status);
        data.reference = Some(ref_id.to_owned());
        data.order_id = optional(request, "invoiceNumber").map(str::to_owned);
        data.amount = optional_amount(request, "amount")?;
        Ok(data)
    }

    /// `POST invoice/verify` with the state's `refId`. The callback is not used: NovinPal's
    /// verify takes no amount, and the answer's `amount` and `orderId` (required in a
    /// success) are reported for the pipeline to compare with the state.
    async fn verify(&self, state: &OrderState, _: &CallbackData) -> Result<Verified, Error> {
        let fields = [("ref_id", state.gateway_ref())];
        let raw = self
            .call(Operation::Verify, "invoice/verify", &fields)
            .await?;
        self.verified(Operation::Verify, state, &raw)
    }

    /// NovinPal's reverse: see [`Reverse::reverse`].
    fn refund(&self, state: &OrderState) -> impl Future<Output = Result<Verified, Error>> + Send {
        Reverse::reverse(self, state)
    }
}

impl Reverse for NovinPal {
    /// `POST invoice/reverse` with the state's `refId`: refunds a verified payment, at
    /// most 120 minutes after it was made. The answer has verify's shape; `Ok` means the
    /// refund was accepted.
    async fn reverse(&self, state: &OrderState) -> Result<Verified, Error> {
        let fields = [("ref_id", state.gateway_ref())];
        let raw = self
            .call(Operation::Reverse, "invoice/reverse", &fields)
            .await?;
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
