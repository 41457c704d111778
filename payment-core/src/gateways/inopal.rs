//! Inopal (inopal.ir): the adapter and its code table.
//!
//! Follows `inopal-api-fa.txt`. Its `/api/pardakht/…` paths match PayStar's public API,
//! which also sends an HMAC `sign` field; the document has none, so neither does this
//! adapter.

use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use super::{
    api::{Api, Body},
    checks::{check_amount, check_order_id_len, invalid, json_body},
    scalar::Scalar,
    wire::{mask_card, optional, required_number},
};
use crate::{
    CallbackRequest, Error, GatewayId, Order, Rial,
    adapter::{CallbackData, CallbackStatus, Created, Gateway, Redirect, Verified},
    error::{GatewayCode, Operation, OrderProblem},
    http::RawResponse,
    state::OrderState,
};

pub use super::inopal_codes::InopalCode;

/// The Inopal adapter (`core.inopal.ir`).
///
/// - create: `POST api/pardakht/create` (JSON, `Authorization: Bearer {gateway id}`) with
///   `amount`, `order_id`, `callback` and, when the order has them, `name`, `phone`,
///   `mail`, `description`. The gateway reference is `ref_num`; the buyer pays
///   `payment_amount` (the amount plus the buyer's share of the fee), reported as
///   [`Created::payable_amount`].
/// - redirect: an auto-submitting `POST` form to `api/pardakht/payment` with `token`
///   ([`Redirect::PostForm`]).
/// - callback (`GET` or `POST`; the document does not say): `status`, `order_id`,
///   `ref_num`, and on success `card_number` and `tracking_code`.
/// - verify: `POST api/pardakht/verify` with `ref_num` and the original `amount` (from the
///   order state, never `payment_amount`, never the callback). `-16 retryVerification`
///   is a payment verified before: [`Verified::already_verified`]. The answer's `price`
///   must be the amount or the amount with the buyer's fee that create reported (kept in
///   the state, [`OrderState::payable_amount`]); the document does not say which it is,
///   and any other price is refused as an amount mismatch.
///
/// Quirks handled: the `401` answer for a bad gateway id or IP has `"status":
/// "unauthenticated"` (a string where every other answer has a number); it becomes a
/// [`GatewayError`](crate::error::GatewayError) with `http_status: Some(401)` and
/// `code: GatewayCode::Undocumented(401)` (no code in the table fits: `-5
/// incorrectTerminalId` does not cover a wrong IP). Failure answers carry `"data": []`
/// instead of an object.
///
/// ```
/// use payment_core::{CallbackRequest, Inopal, adapter::{CallbackStatus, Gateway}};
/// use payment_core::{error::GatewayCode, gateways::inopal::InopalCode};
///
/// let inopal = Inopal::new("my-gateway-id");
/// // A cancelled payment comes back with its typed code.
/// let request = CallbackRequest::from_post("", b"status=-12&order_id=12356&ref_num=eroxr")?;
/// let callback = inopal.parse_callback(&request)?;
/// let CallbackStatus::Failed { code, .. } = callback.status else { unreachable!() };
/// assert_eq!(code, Some(GatewayCode::Inopal(InopalCode::PaymentFailed)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Inopal(Api);

impl Inopal {
    /// An adapter with the gateway id shown in Inopal's panel, the default base URL
    /// (`https://core.inopal.ir/`) and a default [`HttpClient`](crate::HttpClient) (built
    /// on first use).
    pub fn new(gateway_id: impl Into<String>) -> Self {
        let api = Api::new(
            GatewayId::Inopal,
            "Inopal base URL",
            "https://core.inopal.ir/",
        );
        Self(api.with_credential(gateway_id))
    }

    /// Sends `body` as JSON with the gateway id as a bearer token.
    async fn call(
        &self,
        operation: Operation,
        path: &str,
        body: Value,
    ) -> Result<RawResponse, Error> {
        let gateway_id = self.0.credential().unwrap_or_default();
        self.0
            .post_with(operation, path, Body::Json(&body), |request| {
                request.bearer_auth(gateway_id)
            })
            .await
    }

    /// The answer's numeric `status`, or the refusal for the `401` shape whose status is a
    /// string (`"unauthenticated"`).
    fn status(
        &self,
        operation: Operation,
        raw: &RawResponse,
        answer: &Answer,
    ) -> Result<i64, Error> {
        match answer.status.as_ref().and_then(Scalar::as_i64) {
            Some(status) => Ok(status),
            None if raw.status == 401 && matches!(answer.status, Some(Scalar::Str(_))) => {
                Err(self.refusal(operation, raw, GatewayCode::Undocumented(401), answer))
            }
            None => Err(self.0.malformed(operation, raw)),
        }
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

    /// Decodes and maps a create answer.
    pub(crate) fn created(&self, raw: &RawResponse) -> Result<Created, Error> {
        let op = Operation::Create;
        let answer: Answer = raw.json(Self::ID, op)?;
        let status = self.status(op, raw, &answer)?;
        if status != SUCCESS {
            let code = GatewayCode::lookup(Self::ID, status);
            return Err(self.refusal(op, raw, code, &answer));
        }
        let malformed = || self.0.malformed(op, raw);
        if !(200..300).contains(&raw.status) {
            return Err(malformed());
        }
        let data: CreateData = serde_json::from_value(answer.data).map_err(|_| malformed())?;
        let token = data.token.text().ok_or_else(malformed)?;
        let ref_num = data.ref_num.text().ok_or_else(malformed)?;
        let payable_amount = match data.payment_amount {
            None => None,
            Some(amount) => Some(Rial::new(amount.as_u64().ok_or_else(malformed)?)),
        };
        Ok(Created {
            gateway_ref: ref_num,
            redirect: Redirect::PostForm {
                action: self.0.url("api/pardakht/payment")?,
                fields: vec![("token".to_owned(), token)],
            },
            payable_amount,
        })
    }

    /// Decodes and maps a verify answer for `state`.
    pub(crate) fn verified(
        &self,
        state: &OrderState,
        callback: &CallbackData,
        raw: &RawResponse,
    ) -> Result<Verified, Error> {
        let ref_num = state.gateway_ref();
        let op = Operation::Verify;
        let answer: Answer = raw.json(Self::ID, op)?;
        let status = self.status(op, raw, &answer)?;
        let malformed = || self.0.malformed(op, raw);
        let mut verified = Verified::new();
        // Verify reports only `ref_num` and `price`; the bank's reference and the card
        // come from the callback.
        verified.bank_reference = callback.tracking_code.clone();
        verified.card_mask = callback.card_mask.clone();
        match status {
            SUCCESS if (200..300).contains(&raw.status) => {
                let data: VerifyData =
                    serde_json::from_value(answer.data).map_err(|_| malformed())?;
                // An answer about another payment confirms nothing about this one.
                if data
                    .ref_num
                    .and_then(|r| r.text())
                    .is_some_and(|r| r != ref_num)
                {
                    return Err(malformed());
                }
                // The document calls `price` "the transaction amount" without saying
                // whether the buyer's fee is in it: the amount, or the amount with the fee
                // create reported, both confirm this payment; anything else is reported
                // as it is, for the pipeline to refuse.
                verified.amount = match data.price {
                    None => None,
                    Some(price) => {
                        let price = Rial::new(price.as_u64().ok_or_else(malformed)?);
                        Some(if price == state.payable_amount() {
                            state.amount()
                        } else {
                            price
                        })
                    }
                };
                Ok(verified)
            }
            SUCCESS => Err(malformed()),
            RETRY_VERIFICATION => {
                verified.already_verified = true;
                Ok(verified)
            }
            code => {
                let code = GatewayCode::lookup(Self::ID, code);
                Err(self.refusal(op, raw, code, &answer))
            }
        }
    }
}

impl Gateway for Inopal {
    const ID: GatewayId = GatewayId::Inopal;

    /// The amount must be 1,000 … 500,000,000 rial and the order id at most 128 ASCII
    /// letters and digits.
    fn check_order(&self, order: &Order) -> Result<(), Error> {
        check_amount(Self::ID, order, 1_000, Some(500_000_000))?;
        check_order_id_len(Self::ID, order, 128)?;
        // "شامل حروف و اعداد": letters and digits. `OrderId` also allows '-' and '_'.
        if !order
            .id()
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
        {
            let allowed = "ASCII letters and digits";
            return Err(invalid(
                Self::ID,
                OrderProblem::OrderIdCharacters { allowed },
            ));
        }
        Ok(())
    }

    async fn create(&self, order: &Order, callback_url: &Url) -> Result<Created, Error> {
        self.check_order(order)?;
        let optional = [
            ("name", order.payer_name()),
            ("phone", order.mobile()),
            ("mail", order.email()),
            ("description", order.description()),
        ];
        let body = json_body(
            json!({
                "amount": order.amount().get(),
                "order_id": order.id().as_str(),
                "callback": callback_url.as_str(),
            }),
            &optional,
        );
        let raw = self
            .call(Operation::Create, "api/pardakht/create", body)
            .await?;
        self.created(&raw)
    }

    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error> {
        let status = required_number(request, "status")?;
        let order_id = request.required("order_id")?.to_owned();
        let ref_num = request.required("ref_num")?.to_owned();
        let status = if status == SUCCESS {
            CallbackStatus::Paid
        } else {
            CallbackStatus::failed(Self::ID, Some(status))
        };
        let mut data = CallbackData::new(Self::ID, status);
        data.order_id = Some(order_id);
        data.reference = Some(ref_num);
        data.tracking_code = optional(request, "tracking_code").map(str::to_owned);
        data.card_mask = optional(request, "card_number").map(mask_card);
        Ok(data)
    }

    async fn verify(&self, state: &OrderState, callback: &CallbackData) -> Result<Verified, Error> {
        let ref_num = state.gateway_ref();
        // The original amount from the signed state: not `payment_amount`, not the callback.
        let body = json!({ "ref_num": ref_num, "amount": state.amount().get() });
        let raw = self
            .call(Operation::Verify, "api/pardakht/verify", body)
            .await?;
        self.verified(state, callback, &raw)
    }
}

/// Every Inopal answer: `data` is an object on success and `[]` on failure.
#[derive(Deserialize)]
struct Answer {
    status: Option<Scalar>,
    message: Option<Value>,
    #[serde(default)]
    data: Value,
}

#[derive(Deserialize)]
struct CreateData {
    token: Scalar,
    ref_num: Scalar,
    payment_amount: Option<Scalar>,
}

#[derive(Deserialize)]
struct VerifyData {
    ref_num: Option<Scalar>,
    price: Option<Scalar>,
}

/// `status` of a successful call.
const SUCCESS: i64 = 1;
/// `-16 retryVerification`: the payment was verified before.
const RETRY_VERIFICATION: i64 = -16;

api_settings!(Inopal.0, sandbox: "http://127.0.0.1:8085/inopal", paths: "api/pardakht/…");
