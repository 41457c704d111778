//! Inopal (inopal.ir): the adapter and its code table.
//!
//! Follows `inopal-api-fa.txt`. Its `/api/pardakht/…` paths match PayStar's public API,
//! which also sends an HMAC `sign` field; the document has none, so neither does this
//! adapter.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use url::Url;

use super::{
    ApiBase, LazyHttp, Scalar, base_url, check_amount, check_order_id_len, endpoint,
    wire::{mask_card, message, optional},
};
use crate::{
    CallbackData, CallbackError, CallbackRequest, CallbackStatus, ConfigError, Created, Error,
    Gateway, GatewayCode, GatewayError, GatewayId, HttpClient, InvalidOrder, Operation, Order,
    OrderProblem, OrderState, RawResponse, Redirect, Rial, Verified, codes::code_table,
};

code_table! {
    /// Inopal's status codes, as the document's table lists them.
    pub enum InopalCode {
        Ok = 1, false, "Ok", "موفق";
        RequiredInputParametersNotSatisfied = -4, false, "requiredInputParametersNotSatisfied", "تمامی فیلدهای ضروری ارسال نشده است";
        IncorrectTerminalId = -5, false, "incorrectTerminalId", "شناسه ترمینال معتبر نیست";
        IncorrectAmount = -6, false, "incorrectAmount", "مبلغ معتبر نیست";
        LowAmount = -7, false, "lowAmount", "مبلغ کمتر از حداقل است";
        HighAmount = -8, false, "highAmount", "مبلغ بیشتر از حداکثر است";
        EmptyOrderId = -9, false, "emptyOrderId", "شناسه سفارش نمیتواند خالی باشد";
        ShortOrderId = -10, false, "shortOrderId", "طول شناسه سفارش کوتاه است";
        LongOrderId = -11, false, "longOrderId", "طول شناسه سفارش بلند است";
        PaymentFailed = -12, false, "paymentFailed", "تراکنش ناموفق";
        PaymentDataNotValid = -13, false, "paymentDataNotValid", "تراکنش شناسایی نشد";
        InactiveTerminal = -14, false, "inactiveTerminal", "ترمینال فعال نیست";
        InvalidCardNumber = -15, false, "invalidCardNumber", "شماره کارت معتبر نیست";
        RetryVerification = -16, false, "retryVerification", "تراکنش قبلا وریفای شده است";
        RetryToken = -17, false, "retryToken", "توکن تکراری است";
        InvalidCallbackAddress = -23, false, "invalidCallbackAddress", "آدرس برگشت معتبر نیست";
        ShopsInactive = -24, false, "shopsInactive", "فروشگاه فعال نیست";
        AmountExceededLimit = -25, false, "amountExeededLimit", "تراکنش بیشتر از سقف محدودیت می باشد";
        Error = -99, true, "error", "خطای سامانه";
    }
}

const CREATE_PATH: &str = "api/pardakht/create";
const PAYMENT_PATH: &str = "api/pardakht/payment";
const VERIFY_PATH: &str = "api/pardakht/verify";
/// The endpoints joined to the base URL when it is set.
const FIXED_PATHS: &[&str] = &[CREATE_PATH, PAYMENT_PATH, VERIFY_PATH];

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
///   is a payment verified before: [`Verified::already_verified`].
///
/// Quirks handled: the `401` answer for a bad gateway id or IP has `"status":
/// "unauthenticated"` (a string where every other answer has a number); it becomes a
/// [`GatewayError`] with `http_status: Some(401)` and
/// `code: GatewayCode::Undocumented(401)` (no code in the table fits: `-5
/// incorrectTerminalId` does not cover a wrong IP). Failure answers carry `"data": []`
/// instead of an object.
///
/// Construction never fails (the convention of every adapter in this crate): without
/// [`Inopal::with_http`], a default [`HttpClient`] is built on first use, and if that
/// fails (the TLS backend could not start) the call answers
/// `Error::Config(ConfigError::HttpClient)`.
///
/// ```
/// use payment_core::{Gateway, Inopal, Order, Rial};
///
/// let inopal = Inopal::new("my-gateway-id").with_base_url("http://127.0.0.1:8085/inopal")?;
/// // The gateway id never shows in Debug output.
/// assert!(!format!("{inopal:?}").contains("my-gateway-id"));
/// // Documented limits are checked before any request: Inopal's minimum is 1,000 rial.
/// let order = Order::new("A1001".parse().unwrap(), Rial::new(500));
/// assert!(inopal.check_order(&order).is_err());
/// # Ok::<(), payment_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Inopal {
    gateway_id: SecretString,
    // A `Result` so that `new` cannot fail; the default always parses.
    base_url: Result<ApiBase, ConfigError>,
    http: LazyHttp,
}

impl fmt::Debug for Inopal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inopal")
            .field(
                "base_url",
                &self.base_url.as_ref().map(|b| b.url().as_str()).ok(),
            )
            .field("gateway_id", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl Inopal {
    /// The documented base URL, the API's origin; `api/pardakht/…` paths are joined to it.
    ///
    /// The document gives the verify address as `http://core.inopal.ir/api/pardakht/verify`
    /// (plain http) while create and the payment page are `https`; this adapter sends
    /// verify over `https` too, so the gateway id never crosses the network in clear text.
    pub const DEFAULT_BASE_URL: &'static str = "https://core.inopal.ir/";
    /// The smallest amount Inopal takes: 1,000 rial.
    pub const MIN_AMOUNT: Rial = Rial::new(1_000);
    /// The largest amount Inopal takes: 500,000,000 rial.
    pub const MAX_AMOUNT: Rial = Rial::new(500_000_000);
    /// The longest order id Inopal takes (ASCII letters and digits only).
    pub const MAX_ORDER_ID_LEN: usize = 128;

    /// An adapter with the gateway id shown in Inopal's panel, the default base URL
    /// ([`Inopal::DEFAULT_BASE_URL`]) and a default [`HttpClient`] (built on first use).
    pub fn new(gateway_id: impl Into<String>) -> Self {
        Self {
            gateway_id: SecretString::from(gateway_id.into()),
            base_url: base_url(Self::DEFAULT_BASE_URL, "Inopal base URL")
                .map(|url| ApiBase::new(url, FIXED_PATHS)),
            http: LazyHttp::default(),
        }
    }

    /// Points the adapter at another origin (the sandbox: `http://127.0.0.1:8085/inopal`).
    /// `api/pardakht/…` is joined to it; a path in `url` is kept.
    pub fn with_base_url(mut self, url: &str) -> Result<Self, ConfigError> {
        self.base_url = Ok(ApiBase::new(base_url(url, "Inopal base URL")?, FIXED_PATHS));
        Ok(self)
    }

    /// Uses this HTTP client (share one across adapters; it holds the timeouts).
    pub fn with_http(mut self, http: HttpClient) -> Self {
        self.http = LazyHttp::given(http);
        self
    }

    fn setup(&self) -> Result<(&ApiBase, &HttpClient), ConfigError> {
        Ok((
            self.base_url.as_ref().map_err(Clone::clone)?,
            self.http.get()?,
        ))
    }

    async fn call(
        &self,
        operation: Operation,
        url: &Url,
        body: Value,
        http: &HttpClient,
    ) -> Result<RawResponse, Error> {
        let raw = http
            .send(Self::ID, operation, |c| {
                c.post(url.clone())
                    .bearer_auth(self.gateway_id.expose_secret())
                    .json(&body)
            })
            .await?;
        Ok(raw)
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
            None => Err(raw.unexpected(Self::ID, operation).into()),
        }
    }

    fn refusal(
        &self,
        operation: Operation,
        raw: &RawResponse,
        code: GatewayCode,
        answer: &Answer,
    ) -> Error {
        Error::Gateway(GatewayError {
            gateway: Self::ID,
            operation,
            code,
            http_status: (raw.status != 200).then_some(raw.status),
            message: message(
                answer.message.as_ref(),
                Some(self.gateway_id.expose_secret()),
            ),
        })
    }

    /// Decodes and maps a create answer.
    pub(crate) fn created(&self, raw: &RawResponse) -> Result<Created, Error> {
        let base = self.base_url.as_ref().map_err(Clone::clone)?;
        let op = Operation::Create;
        let answer: Answer = raw.json(Self::ID, op)?;
        let status = self.status(op, raw, &answer)?;
        if status != SUCCESS {
            let code = GatewayCode::lookup(Self::ID, status);
            return Err(self.refusal(op, raw, code, &answer));
        }
        let malformed = || Error::from(raw.unexpected(Self::ID, op));
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
                action: endpoint(base, PAYMENT_PATH).into_owned(),
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
        let malformed = || Error::from(raw.unexpected(Self::ID, op));
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
                verified.amount = match data.price {
                    None => None,
                    Some(price) => Some(Rial::new(price.as_u64().ok_or_else(malformed)?)),
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

impl Gateway for Inopal {
    const ID: GatewayId = GatewayId::Inopal;

    fn check_order(&self, order: &Order) -> Result<(), Error> {
        check_amount(
            Self::ID,
            order,
            Self::MIN_AMOUNT.get(),
            Some(Self::MAX_AMOUNT.get()),
        )?;
        check_order_id_len(Self::ID, order, Self::MAX_ORDER_ID_LEN)?;
        // "شامل حروف و اعداد": letters and digits. `OrderId` also allows '-' and '_'.
        if !order
            .id()
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
        {
            return Err(InvalidOrder {
                gateway: Self::ID,
                reason: OrderProblem::OrderIdCharacters {
                    allowed: "ASCII letters and digits",
                },
            }
            .into());
        }
        Ok(())
    }

    async fn create(&self, order: &Order, callback_url: &Url) -> Result<Created, Error> {
        self.check_order(order)?;
        let (base, http) = self.setup()?;
        let mut body = Map::new();
        body.insert("amount".into(), order.amount().get().into());
        body.insert("order_id".into(), order.id().as_str().into());
        body.insert("callback".into(), callback_url.as_str().into());
        let optional_fields = [
            ("name", order.payer_name()),
            ("phone", order.mobile()),
            ("mail", order.email()),
            ("description", order.description()),
        ];
        for (field, value) in optional_fields {
            if let Some(value) = value {
                body.insert(field.into(), value.into());
            }
        }
        let raw = self
            .call(
                Operation::Create,
                &endpoint(base, CREATE_PATH),
                Value::Object(body),
                http,
            )
            .await?;
        self.created(&raw)
    }

    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error> {
        let status: i64 = request
            .required("status")?
            .parse()
            .map_err(|_| CallbackError::MalformedField("status"))?;
        let order_id = request.required("order_id")?.to_owned();
        let ref_num = request.required("ref_num")?.to_owned();
        let status = if status == SUCCESS {
            CallbackStatus::Paid
        } else {
            CallbackStatus::Failed {
                code: Some(GatewayCode::lookup(Self::ID, status)),
                raw_code: Some(status),
            }
        };
        let mut data = CallbackData::new(Self::ID, status);
        data.order_id = Some(order_id);
        data.reference = Some(ref_num);
        data.tracking_code = optional(request, "tracking_code").map(str::to_owned);
        data.card_mask = optional(request, "card_number").map(mask_card);
        Ok(data)
    }

    async fn verify(&self, state: &OrderState, callback: &CallbackData) -> Result<Verified, Error> {
        let (base, http) = self.setup()?;
        let ref_num = state.gateway_ref();
        // The original amount from the signed state: not `payment_amount`, not the callback.
        let body = json!({ "ref_num": ref_num, "amount": state.amount().get() });
        let raw = self
            .call(Operation::Verify, &endpoint(base, VERIFY_PATH), body, http)
            .await?;
        self.verified(state, callback, &raw)
    }
}
