//! Zibal (zibal.ir): the adapter and its code tables.
//!
//! Follows Zibal's IPG documentation (`help.zibal.ir/IPG/API`) and its own clients
//! (`zibalco/gateway-nodejs`, `zibalco/gateway-php-sample`). Where they differ:
//!
//! - The Node client posts to `request` and `verify` without the `v1/` of the
//!   documentation and the PHP sample; this adapter follows the documentation
//!   (`v1/request`, `v1/verify`, `v1/inquiry`).
//! - The clients list fewer result codes (100, 102 … 106, 113, 201 … 203) than the
//!   documentation (also 107 … 112, 114 … 116) and fewer statuses (up to 12; the
//!   documentation adds 15, 16, 18 and 21). [`ZibalCode`] and [`ZibalStatus`] hold the
//!   documentation's tables.
//! - Code 105 reads "amount must be more than 1,000 rial", while Zibal's own PHP sample
//!   requests exactly 1,000: the minimum checked here is 1,000 rial, inclusive.

use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use super::{
    api::{Api, Body},
    checks::check_amount,
    scalar::Scalar,
    wire::{mask_card, optional},
};
use crate::{
    CallbackRequest, CardNumber, Error, GatewayId, Order, Rial,
    adapter::{CallbackData, CallbackStatus, Created, Gateway, Inquiry, Verified},
    error::{CallbackError, GatewayCode, Operation},
    http::RawResponse,
    state::OrderState,
};

pub use super::zibal_codes::{ZibalCode, ZibalStatus};

const GW: GatewayId = GatewayId::Zibal;

/// The merchant of Zibal's test account: every feature, no real money.
pub const SANDBOX_MERCHANT: &str = "zibal";

/// `result` of a successful call.
const SUCCESS: i64 = 100;
/// `result` of a verify whose payment was verified before.
const VERIFIED_BEFORE: i64 = 201;
/// `result` of a verify whose payment was not made (the `status` says why).
const NOT_PAID: i64 = 202;
/// `status`: paid and verified.
const PAID_VERIFIED: i64 = 1;
/// `status`: paid, not verified yet.
const PAID_NOT_VERIFIED: i64 = 2;

/// The least amount Zibal takes, in rial (see the module's notes on code 105).
const MIN_AMOUNT: u64 = 1_000;

/// The Zibal adapter (`gateway.zibal.ir`).
///
/// Every call is `POST v1/…` with a JSON body that starts with `merchant`; amounts are
/// rial. [`Zibal::sandbox`] uses Zibal's test merchant, `zibal`, on the same host.
///
/// - create: `v1/request` with `amount`, `callbackUrl`, `orderId` (the order id) and,
///   when the order has them, `description`, `mobile` and `allowedCards` (the one card the
///   buyer may pay with). The answer's `trackId` (a number) is the gateway reference.
///   `nationalCode` is not sent: an [`Order`] carries none.
/// - redirect: `GET start/{trackId}`.
/// - callback (`GET` query string): `success` (1 or 0), `trackId`, `orderId` and `status`
///   ([`ZibalStatus`]).
/// - verify: `v1/verify` with the state's `trackId`. `result` 100 is paid (the answer's
///   `amount` is required then: verify sends none, so it is what the pipeline compares
///   with the state; `orderId` too, where the answer carries it), 201 paid and verified
///   before ([`Verified::already_verified`]). 202 is a payment not made: its refusal
///   carries the answer's `status` (e.g. [`ZibalStatus::CancelledByUser`], or the
///   transient [`ZibalStatus::AwaitingPayment`]) where there is one.
/// - inquiry ([`Inquiry`]): `v1/inquiry` with the state's `trackId`.
///
/// Zibal has no refund call: the adapter has no [`Reverse`](crate::adapter::Reverse).
/// Refusals (`{"result": 102, "message": …}`) become [`Error::Gateway`] with the typed
/// [`ZibalCode`].
///
/// ```
/// use payment_core::{CallbackRequest, Order, Rial, Zibal};
/// use payment_core::adapter::{CallbackStatus, Gateway};
///
/// let zibal = Zibal::sandbox();
/// assert!(zibal.check_order(&Order::new("A-1001".parse()?, Rial::new(999))).is_err());
/// // The buyer comes back with a GET callback.
/// let request = CallbackRequest::from_get("trackId=9900&success=1&status=2&orderId=A-1001")?;
/// let callback = zibal.parse_callback(&request)?;
/// assert_eq!(callback.status, CallbackStatus::Paid);
/// assert_eq!(callback.reference.as_deref(), Some("9900"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Creating a payment (the [`Payments`](crate::Payments) pipeline normally does this):
///
/// ```no_run
/// # async fn demo() -> Result<(), payment_core::Error> {
/// use payment_core::{HttpClient, Order, Rial, Zibal, adapter::Gateway, url::Url};
///
/// let zibal = Zibal::new(std::env::var("ZIBAL_MERCHANT").unwrap_or_default())
///     .with_http(HttpClient::with_defaults()?);
/// let order = Order::new("A-1001".parse().unwrap(), Rial::new(120_000));
/// let callback = Url::parse("https://shop.example/pay/callback/zibal").unwrap();
/// let created = zibal.create(&order, &callback).await?;
/// // Keep `created.gateway_ref` (the trackId) and send the buyer to `created.redirect`.
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Zibal(Api);

impl Zibal {
    /// An adapter with the merchant from Zibal's panel, Zibal's host
    /// (`https://gateway.zibal.ir/`) and a default [`HttpClient`](crate::HttpClient).
    pub fn new(merchant: impl Into<String>) -> Self {
        Self(Api::new(GW, "Zibal base URL", "https://gateway.zibal.ir/").with_credential(merchant))
    }

    /// An adapter with Zibal's test merchant ([`SANDBOX_MERCHANT`], `zibal`) on Zibal's
    /// own host: Zibal simulates the payments.
    pub fn sandbox() -> Self {
        Self::new(SANDBOX_MERCHANT)
    }

    /// Sends `fields` with `merchant` as JSON to `path`.
    async fn call(
        &self,
        operation: Operation,
        path: &str,
        fields: Map<String, Value>,
    ) -> Result<RawResponse, Error> {
        let mut body = Map::new();
        let merchant = self.0.credential().unwrap_or_default();
        body.insert("merchant".to_owned(), merchant.into());
        body.extend(fields);
        self.0
            .post(operation, path, Body::Json(&Value::Object(body)))
            .await
    }

    /// The `trackId` field: the state's reference, as the number Zibal sent.
    fn track_id(state: &OrderState) -> Map<String, Value> {
        let reference = state.gateway_ref();
        let value = match reference.parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => Value::from(reference),
        };
        let mut fields = Map::new();
        fields.insert("trackId".to_owned(), value);
        fields
    }

    fn refusal(
        &self,
        operation: Operation,
        raw: &RawResponse,
        code: GatewayCode,
        answer: &Answer,
    ) -> Error {
        let text = self.0.message(answer.message.as_ref());
        self.0.refusal(operation, raw, code, text)
    }

    /// A success answer whose `result` is one of `accepted`, with that result, or the
    /// error the answer stands for.
    fn answer(
        &self,
        operation: Operation,
        raw: &RawResponse,
        accepted: &[i64],
    ) -> Result<(i64, Answer), Error> {
        let answer: Answer = raw.json(GW, operation)?;
        let malformed = || self.0.malformed(operation, raw);
        let result = answer
            .result
            .as_ref()
            .and_then(Scalar::as_i64)
            .ok_or_else(malformed)?;
        if !accepted.contains(&result) {
            let status = status(&answer).map_err(|()| malformed())?;
            let code = match (result, status) {
                // "Not paid or failed: see the status table": the status is the reason.
                (NOT_PAID, Some(status))
                    if status != PAID_VERIFIED && status != PAID_NOT_VERIFIED =>
                {
                    match ZibalStatus::from_code(status) {
                        Some(status) => GatewayCode::ZibalStatus(status),
                        None => GatewayCode::lookup(GW, result),
                    }
                }
                _ => GatewayCode::lookup(GW, result),
            };
            return Err(self.refusal(operation, raw, code, &answer));
        }
        if !(200..300).contains(&raw.status) {
            return Err(malformed());
        }
        Ok((result, answer))
    }

    /// Decodes and maps a create answer.
    pub(crate) fn created(&self, raw: &RawResponse) -> Result<Created, Error> {
        let op = Operation::Create;
        let (_, answer) = self.answer(op, raw, &[SUCCESS])?;
        // The documented trackIds are numbers; anything else could change the redirect.
        let track_id = answer
            .track_id
            .and_then(Scalar::text)
            .filter(|t| t.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| self.0.malformed(op, raw))?;
        let start = self.0.url(&format!("start/{track_id}"))?;
        Ok(Created::redirect_to(track_id, start))
    }

    /// Decodes and maps a verify answer.
    pub(crate) fn verified(&self, raw: &RawResponse) -> Result<Verified, Error> {
        let op = Operation::Verify;
        let (result, answer) = self.answer(op, raw, &[SUCCESS, VERIFIED_BEFORE])?;
        let malformed = || self.0.malformed(op, raw);
        let before = result == VERIFIED_BEFORE;
        let mut verified = answer.report().ok_or_else(malformed)?;
        // A first verify must report what was paid: it is all the pipeline can compare
        // with the state. A repeat may come without it.
        if !before && verified.amount.is_none() {
            return Err(malformed());
        }
        verified.already_verified = before;
        Ok(verified)
    }

    /// Decodes and maps an inquiry answer: status 1 (paid, verified) is `Ok`, any other
    /// status a refusal with it.
    pub(crate) fn inquiry_answer(&self, raw: &RawResponse) -> Result<Verified, Error> {
        let op = Operation::Inquiry;
        let (_, answer) = self.answer(op, raw, &[SUCCESS])?;
        let malformed = || self.0.malformed(op, raw);
        let status = status(&answer)
            .map_err(|()| malformed())?
            .ok_or_else(malformed)?;
        if status != PAID_VERIFIED {
            let code = GatewayCode::lookup(GW, status);
            return Err(self.refusal(op, raw, code, &answer));
        }
        let mut verified = answer.report().ok_or_else(malformed)?;
        if verified.amount.is_none() {
            return Err(malformed());
        }
        verified.already_verified = true;
        Ok(verified)
    }
}

api_settings!(Zibal.0, sandbox: "http://127.0.0.1:8085/zibal", paths: "v1/…` and `start/…");

impl Gateway for Zibal {
    const ID: GatewayId = GW;

    /// The amount must be at least 1,000 rial (code 105; see the module's notes). Zibal
    /// documents no maximum (113 is the merchant's own transaction limit), and no rule for
    /// the order id, the description or the mobile number.
    fn check_order(&self, order: &Order) -> Result<(), Error> {
        check_amount(GW, order, MIN_AMOUNT, None)?;
        Ok(())
    }

    async fn create(&self, order: &Order, callback_url: &Url) -> Result<Created, Error> {
        self.check_order(order)?;
        let mut fields = Map::new();
        fields.insert("amount".to_owned(), order.amount().get().into());
        fields.insert("callbackUrl".to_owned(), callback_url.as_str().into());
        fields.insert("orderId".to_owned(), order.id().as_str().into());
        let description = order.description().filter(|d| !d.trim().is_empty());
        for (name, value) in [("description", description), ("mobile", order.mobile())] {
            if let Some(value) = value {
                fields.insert(name.to_owned(), value.into());
            }
        }
        // The only place the full card number is exposed: the request to Zibal.
        if let Some(card) = order.card_number() {
            let cards = vec![Value::from(CardNumber::expose(card))];
            fields.insert("allowedCards".to_owned(), Value::Array(cards));
        }
        let raw = self.call(Operation::Create, "v1/request", fields).await?;
        self.created(&raw)
    }

    /// Reads `success` and `trackId` (both required), and `orderId` and `status` when
    /// present. `success=1` is [`CallbackStatus::Paid`], `success=0`
    /// [`CallbackStatus::Failed`] with the status ([`ZibalStatus`]); any other value, or
    /// a status that is not a whole number, is malformed.
    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error> {
        let success = request.required("success")?;
        let track_id = request.required("trackId")?;
        let status = match optional(request, "status") {
            None => None,
            Some(s) => Some(
                s.parse::<i64>()
                    .map_err(|_| CallbackError::MalformedField("status"))?,
            ),
        };
        let status = match success {
            "1" => CallbackStatus::Paid,
            "0" => CallbackStatus::failed(GW, status),
            _ => return Err(CallbackError::MalformedField("success").into()),
        };
        let mut data = CallbackData::new(GW, status);
        data.reference = Some(track_id.to_owned());
        data.order_id = optional(request, "orderId").map(str::to_owned);
        Ok(data)
    }

    /// `v1/verify` with the state's `trackId`; the callback is not used. The answer's
    /// `amount` (required with result 100) and `orderId` are reported for the pipeline to
    /// compare with the state, which refuses a payment of another amount.
    async fn verify(&self, state: &OrderState, _: &CallbackData) -> Result<Verified, Error> {
        let raw = self
            .call(Operation::Verify, "v1/verify", Self::track_id(state))
            .await?;
        self.verified(&raw)
    }

    /// Zibal's inquiry: see [`Inquiry::inquiry`].
    fn confirmed_status(
        &self,
        state: &OrderState,
    ) -> impl Future<Output = Result<Verified, Error>> + Send {
        Inquiry::inquiry(self, state)
    }
}

impl Inquiry for Zibal {
    /// `v1/inquiry` with the state's `trackId`. Status 1 (paid, verified) is `Ok` with
    /// [`Verified::already_verified`] set and the answer's `amount` (required) and
    /// `orderId`; any other status is a refusal with it as a
    /// [`GatewayCode::ZibalStatus`]: 2 ([`ZibalStatus::PaidNotVerified`]) must still be
    /// verified with [`Gateway::verify`].
    ///
    /// Compare the reported `orderId` and `amount` with the state before trusting an `Ok`
    /// outside the [`Payments`](crate::Payments) pipeline.
    async fn inquiry(&self, state: &OrderState) -> Result<Verified, Error> {
        let raw = self
            .call(Operation::Inquiry, "v1/inquiry", Self::track_id(state))
            .await?;
        self.inquiry_answer(&raw)
    }
}

/// Every field a Zibal answer carries; numbers may come as strings.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    result: Option<Scalar>,
    message: Option<Value>,
    track_id: Option<Scalar>,
    status: Option<Scalar>,
    amount: Option<Scalar>,
    order_id: Option<Scalar>,
    ref_number: Option<Scalar>,
    card_number: Option<Scalar>,
    paid_at: Option<Scalar>,
}

impl Answer {
    /// What a verify or inquiry answer reports, or `None` if its amount is not whole
    /// rial.
    fn report(self) -> Option<Verified> {
        let mut verified = Verified::new();
        verified.amount = match self.amount {
            None => None,
            Some(amount) => Some(Rial::new(amount.as_u64()?)),
        };
        verified.order_id = self.order_id.and_then(Scalar::text);
        verified.bank_reference = self.ref_number.and_then(Scalar::text);
        verified.card_mask = self
            .card_number
            .and_then(Scalar::text)
            .map(|c| mask_card(&c));
        verified.paid_at = self.paid_at.and_then(Scalar::text);
        Some(verified)
    }
}

/// The answer's `status`: `Ok(None)` when absent, an error when not a whole number.
fn status(answer: &Answer) -> Result<Option<i64>, ()> {
    match &answer.status {
        None => Ok(None),
        Some(status) => status.as_i64().map(Some).ok_or(()),
    }
}
