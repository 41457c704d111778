//! IDPay (idpay.ir): the adapter and its code table.
//!
//! Follows `idpay-api-fa.txt` (API v1) and, for verify, IDPay's later v1.1 API, which the
//! document does not describe: see [`IdPayVersion`].

use std::fmt;

use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use url::Url;

use super::{
    ApiBase, LazyHttp, Scalar, base_url, check_amount, check_order_id_len, endpoint,
    wire::{message, optional},
};
use crate::{
    CallbackData, CallbackError, CallbackRequest, CallbackStatus, ConfigError, Created, Error,
    Gateway, GatewayCode, GatewayError, GatewayId, HttpClient, Inquiry, InvalidOrder, Operation,
    Order, OrderProblem, OrderState, RawResponse, Redirect, Rial, Verified, codes::code_table,
    parse_amount,
};

code_table! {
    /// IDPay's codes: the transaction statuses (v1 and v1.1) and the API error codes.
    /// The two ranges do not overlap. 53 and 54 come from IDPay v1.1, not the v1 document.
    pub enum IdPayCode {
        NotPaid = 1, false, "payment not made", "پرداخت انجام نشده است";
        PaymentFailed = 2, false, "payment failed", "پرداخت ناموفق بوده است";
        ErrorOccurred = 3, false, "an error occurred", "خطا رخ داده است";
        Blocked = 4, false, "blocked", "بلوکه شده";
        ReturnedToPayer = 5, false, "returned to payer", "برگشت به پرداخت کننده";
        SystemReversal = 6, false, "reversed by the system", "برگشت خورده سیستمی";
        CancelledByPayer = 7, false, "cancelled by payer", "انصراف از پرداخت";
        SentToGateway = 8, false, "sent to the payment gateway", "به درگاه پرداخت منتقل شد";
        AwaitingVerify = 10, false, "paid, awaiting verify", "در انتظار تایید پرداخت";
        UserBlocked = 11, false, "user is blocked", "کاربر مسدود شده است.";
        ApiKeyNotFound = 12, false, "API key not found", "API Key یافت نشد.";
        IpMismatch = 13, false, "request IP does not match the web service's IPs", "این IP با IP های ثبت شده در وب سرویس همخوانی ندارد.";
        WebServiceNotApproved = 14, false, "web service not approved", "وب سرویس تایید نشده است.";
        BankAccountNotApproved = 21, false, "bank account not approved", "حساب بانکی متصل به وب سرویس تایید نشده است.";
        IdEmpty = 31, false, "id must not be empty", "کد تراکنش id نباید خالی باشد.";
        OrderIdEmpty = 32, false, "order_id must not be empty", "شماره سفارش order_id نباید خالی باشد.";
        AmountEmpty = 33, false, "amount must not be empty", "مبلغ amount نباید خالی باشد.";
        AmountBelowMinimum = 34, false, "amount below minimum", "مبلغ amount باید بیشتر از حداقل مبلغ باشد.";
        AmountAboveMaximum = 35, false, "amount above maximum", "مبلغ amount باید کمتر از حداکثر مبلغ باشد.";
        AmountOverLimit = 36, false, "amount over the allowed limit", "مبلغ amount بیشتر از حد مجاز است.";
        CallbackEmpty = 37, false, "callback must not be empty", "آدرس بازگشت callback نباید خالی باشد.";
        CallbackDomainMismatch = 38, false, "callback domain does not match the web service", "دامنه آدرس بازگشت callback با آدرس ثبت شده در وب سرویس همخوانی ندارد.";
        TransactionNotCreated = 51, false, "transaction not created", "تراکنش ایجاد نشد.";
        InquiryNoResult = 52, false, "inquiry found nothing", "استعلام نتیجه ای نداشت.";
        VerifyNotPossible = 53, false, "payment cannot be verified", "تایید پرداخت امکان پذیر نیست.";
        VerifyWindowPassed = 54, false, "the verify window has passed", "مدت زمان تایید پرداخت سپری شده است.";
        Verified = 100, false, "payment verified", "پرداخت تایید شده است";
        AlreadyVerified = 101, false, "payment already verified", "پرداخت قبلا تایید شده است";
        PaidOut = 200, false, "paid out to the merchant", "به دریافت کننده واریز شد";
    }
}

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

/// Which IDPay API version the adapter speaks.
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
    /// IDPay's v1.1 (the default): create `v1.1/payment`, verify `v1.1/payment/verify`,
    /// inquiry `v1.1/payment/inquiry`.
    #[default]
    V1_1,
}

/// The endpoints of both versions, joined to the base URL when it is set.
const FIXED_PATHS: &[&str] = &[
    "v1/payment",
    "v1/payment/inquiry",
    "v1.1/payment",
    "v1.1/payment/verify",
    "v1.1/payment/inquiry",
];

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

/// The IDPay adapter (`api.idpay.ir`).
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
/// Construction never fails: `new` keeps the default base URL and an [`HttpClient`] with
/// default timeouts built on first use; if that client cannot be built (the TLS backend
/// could not start), every call answers `Error::Config(ConfigError::HttpClient)` unless
/// [`IdPay::with_http`] gave a client.
///
/// ```
/// use payment_core::{CallbackRequest, CallbackStatus, Gateway, IdPay, IdPayVersion, Order, Rial};
///
/// let idpay = IdPay::new("6a7f99eb-7c20-4412-a972-6dfb7cd253a4")
///     .with_base_url("http://127.0.0.1:8085/idpay")?
///     .with_version(IdPayVersion::V1_1)
///     .with_sandbox(true);
/// // The API key never shows in Debug output.
/// assert!(!format!("{idpay:?}").contains("6a7f99eb"));
/// // Documented limits are checked before any request: order ids have at most 50
/// // characters.
/// let order = Order::new("A".repeat(51).parse()?, Rial::new(120_000));
/// assert!(idpay.check_order(&order).is_err());
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
///
/// Creating a payment (the [`Payments`](crate::Payments) pipeline normally does this):
///
/// ```no_run
/// # async fn demo() -> Result<(), payment_core::Error> {
/// use payment_core::{Gateway, HttpClient, IdPay, Order, Rial, url::Url};
///
/// let idpay = IdPay::new(std::env::var("IDPAY_API_KEY").unwrap_or_default())
///     .with_http(HttpClient::with_defaults()?);
/// let order = Order::new("A-1001".parse().unwrap(), Rial::new(120_000))
///     .with_mobile("09382198592");
/// let callback = Url::parse("https://shop.example/pay/callback/idpay").unwrap();
/// let created = idpay.create(&order, &callback).await?;
/// // Keep `created.gateway_ref` (the id) and send the buyer to `created.redirect`.
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct IdPay {
    api_key: SecretString,
    // A `Result` so that `new` cannot fail; the default URL always parses.
    base_url: Result<ApiBase, ConfigError>,
    http: LazyHttp,
    sandbox: bool,
    version: IdPayVersion,
}

impl fmt::Debug for IdPay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdPay")
            .field(
                "base_url",
                &self.base_url.as_ref().map(|b| b.url().as_str()).ok(),
            )
            .field("version", &self.version)
            .field("sandbox", &self.sandbox)
            .field("api_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl IdPay {
    /// The documented base URL; `v1/…` and `v1.1/…` paths are joined to it.
    pub const DEFAULT_BASE_URL: &'static str = "https://api.idpay.ir/";
    /// The smallest amount IDPay takes: 10,000 rial.
    pub const MIN_AMOUNT: Rial = Rial::new(10_000);
    /// The largest amount IDPay takes: 500,000,000 rial.
    pub const MAX_AMOUNT: Rial = Rial::new(500_000_000);
    /// The longest `order_id` IDPay takes, in characters.
    pub const MAX_ORDER_ID_LEN: usize = 50;
    /// The longest `desc` and `callback` IDPay take, in characters.
    pub const MAX_FIELD_CHARS: usize = 255;
    /// The length of `phone`: 11 digits, like `09382198592`.
    pub const PHONE_LEN: usize = 11;

    /// An adapter with the web service's API key, the default base URL
    /// ([`IdPay::DEFAULT_BASE_URL`]), API v1.1, IDPay's test mode off and a default
    /// [`HttpClient`].
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            api_key: SecretString::from(api_key.into()),
            base_url: base_url(Self::DEFAULT_BASE_URL, "IDPay base URL")
                .map(|url| ApiBase::new(url, FIXED_PATHS)),
            http: LazyHttp::default(),
            sandbox: false,
            version: IdPayVersion::default(),
        }
    }

    /// Points the adapter at another base URL (the sandbox: `http://127.0.0.1:8085/idpay`).
    /// `v1/…` and `v1.1/…` are joined to it; a path in `url` is kept.
    pub fn with_base_url(mut self, url: &str) -> Result<Self, ConfigError> {
        self.base_url = Ok(ApiBase::new(base_url(url, "IDPay base URL")?, FIXED_PATHS));
        Ok(self)
    }

    /// Uses this HTTP client (share one across adapters; it holds the timeouts).
    pub fn with_http(mut self, http: HttpClient) -> Self {
        self.http = LazyHttp::given(http);
        self
    }

    /// Turns IDPay's own test mode on or off (default off): with it on, every call sends
    /// `X-SANDBOX: true` and IDPay simulates the payments and skips its IP check.
    pub fn with_sandbox(mut self, sandbox: bool) -> Self {
        self.sandbox = sandbox;
        self
    }

    /// Chooses the API version (default [`IdPayVersion::V1_1`]).
    pub fn with_version(mut self, version: IdPayVersion) -> Self {
        self.version = version;
        self
    }

    fn base(&self) -> Result<&ApiBase, Error> {
        self.base_url.as_ref().map_err(|e| Error::Config(e.clone()))
    }

    /// Sends `body` as JSON with the key headers and returns the raw answer.
    async fn call(
        &self,
        operation: Operation,
        path: &str,
        body: &Value,
    ) -> Result<RawResponse, Error> {
        let url = endpoint(self.base()?, path);
        let mut key = HeaderValue::from_str(self.api_key.expose_secret()).map_err(|_| {
            ConfigError::Invalid("the IDPay API key is not a valid HTTP header value")
        })?;
        key.set_sensitive(true);
        let raw = self
            .http
            .get()?
            .send(GW, operation, |c| {
                let request = c
                    .post(url.as_ref().clone())
                    .header(API_KEY_HEADER, key.clone());
                let request = if self.sandbox {
                    request.header(SANDBOX_HEADER, HeaderValue::from_static("true"))
                } else {
                    request
                };
                request.json(body)
            })
            .await?;
        Ok(raw)
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
            None => raw.unexpected(GW, operation).into(),
        })
    }

    fn refusal(
        &self,
        operation: Operation,
        raw: &RawResponse,
        code: i64,
        text: Option<&Value>,
    ) -> Error {
        Error::Gateway(GatewayError {
            gateway: GW,
            operation,
            code: GatewayCode::lookup(GW, code),
            // IDPay's refusals come with 400/403/405/406: worth keeping.
            http_status: (raw.status != 200).then_some(raw.status),
            message: message(text, Some(self.api_key.expose_secret())),
        })
    }

    /// Asks about the state's payment at `path` (verify or an inquiry) and maps the answer:
    /// a status in `confirmed` is `Ok` (with `already_verified` for those in `repeated`),
    /// any other documented status a refusal with that code.
    async fn payment_call(
        &self,
        operation: Operation,
        path: &str,
        state: &OrderState,
        confirmed: &[i64],
        repeated: &[i64],
    ) -> Result<Verified, Error> {
        let body = json!({ "id": state.gateway_ref(), "order_id": state.order_id().as_str() });
        let raw = self.call(operation, path, &body).await?;
        self.payment_answer(operation, state, &raw, confirmed, repeated)
    }

    /// Decodes and maps a verify or inquiry answer about `state` (see
    /// [`IdPay::payment_call`]).
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
        let malformed = || Error::from(raw.unexpected(GW, operation));
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

    /// Decodes and maps a verify answer about `state`.
    pub(crate) fn verified(
        &self,
        state: &OrderState,
        raw: &RawResponse,
    ) -> Result<Verified, Error> {
        let (confirmed, repeated) = self.version.verify_statuses();
        self.payment_answer(Operation::Verify, state, raw, confirmed, repeated)
    }

    /// Decodes and maps an inquiry answer about `state`.
    pub(crate) fn inquired(
        &self,
        state: &OrderState,
        raw: &RawResponse,
    ) -> Result<Verified, Error> {
        let (confirmed, repeated) = self.version.inquiry_statuses();
        self.payment_answer(Operation::Inquiry, state, raw, confirmed, repeated)
    }

    /// Decodes and maps a create answer.
    pub(crate) fn created(&self, raw: &RawResponse) -> Result<Created, Error> {
        let operation = Operation::Create;
        let answer = raw.json::<Value>(GW, operation)?;
        if let Some(refusal) = self.error_answer(operation, raw, &answer) {
            return Err(refusal);
        }
        let malformed = || Error::from(raw.unexpected(GW, operation));
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
        Ok(Created {
            gateway_ref: id,
            redirect: Redirect::Get(link),
            payable_amount: None,
        })
    }
}

impl Gateway for IdPay {
    const ID: GatewayId = GW;

    /// The amount must be 10,000 … 500,000,000 rial, the order id at most 50 characters,
    /// the description (`desc`) at most 255 characters and the mobile number (`phone`)
    /// 11 digits. `create` also checks that the callback URL has at most 255 characters.
    fn check_order(&self, order: &Order) -> Result<(), Error> {
        check_amount(
            GW,
            order,
            Self::MIN_AMOUNT.get(),
            Some(Self::MAX_AMOUNT.get()),
        )?;
        check_order_id_len(GW, order, Self::MAX_ORDER_ID_LEN)?;
        let invalid = |field, rule| InvalidOrder {
            gateway: GW,
            reason: OrderProblem::Field { field, rule },
        };
        if let Some(phone) = order.mobile()
            && !(phone.len() == Self::PHONE_LEN && phone.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid("phone", "11 digits, like 09382198592").into());
        }
        if order
            .description()
            .is_some_and(|d| d.chars().count() > Self::MAX_FIELD_CHARS)
        {
            return Err(invalid("desc", "at most 255 characters").into());
        }
        Ok(())
    }

    async fn create(&self, order: &Order, callback_url: &Url) -> Result<Created, Error> {
        self.check_order(order)?;
        if callback_url.as_str().chars().count() > Self::MAX_FIELD_CHARS {
            return Err(InvalidOrder {
                gateway: GW,
                reason: OrderProblem::CallbackUrl("longer than 255 characters"),
            }
            .into());
        }
        let mut body = Map::new();
        body.insert("order_id".into(), order.id().as_str().into());
        body.insert("amount".into(), order.amount().get().into());
        if let Some(phone) = order.mobile() {
            body.insert("phone".into(), phone.into());
        }
        if let Some(desc) = order.description().filter(|d| !d.is_empty()) {
            body.insert("desc".into(), desc.into());
        }
        body.insert("callback".into(), callback_url.as_str().into());
        let operation = Operation::Create;
        let raw = self
            .call(operation, self.version.create_path(), &Value::Object(body))
            .await?;
        self.created(&raw)
    }

    /// Reads `status`, `id` and `order_id` (required), and `track_id`, `amount` and
    /// `card_no` when present (the `GET` variant has none of the last two). Status `10`
    /// (v1.1 "paid, awaiting verify"), `100`, `101` and `200` are
    /// [`CallbackStatus::Paid`]; `1` … `8` are [`CallbackStatus::Failed`] with the code;
    /// any other number is [`CallbackStatus::Unknown`], left to verify.
    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error> {
        let status: i64 = request
            .required("status")?
            .parse()
            .map_err(|_| CallbackError::MalformedField("status"))?;
        let id = request.required("id")?.to_owned();
        let order_id = request.required("order_id")?.to_owned();
        let status = match status {
            AWAITING_VERIFY | VERIFIED | ALREADY_VERIFIED | PAID_OUT => CallbackStatus::Paid,
            1..=8 => CallbackStatus::Failed {
                code: Some(GatewayCode::lookup(GW, status)),
                raw_code: Some(status),
            },
            _ => CallbackStatus::Unknown,
        };
        let mut data = CallbackData::new(GW, status);
        data.reference = Some(id);
        data.order_id = Some(order_id);
        data.tracking_code = optional(request, "track_id").map(str::to_owned);
        data.amount = optional(request, "amount")
            .map(|a| parse_amount(a, "amount"))
            .transpose()?;
        data.card_mask = optional(request, "card_no").map(str::to_owned);
        Ok(data)
    }

    /// v1.1: `POST v1.1/payment/verify` with the state's `id` and order id; `100` is paid,
    /// `101` paid and verified before. v1: `POST v1/payment/inquiry`; `100` confirms.
    /// Any other status is a refusal with that code (e.g. `53`/`54` from v1.1 as
    /// `error_code`, or status `1` "not paid" from v1). The answer's `order_id` and
    /// `amount` (`payment.amount` in v1.1) are reported for the pipeline to compare with
    /// the state; an answer about another `id` is malformed. The callback is not used.
    async fn verify(
        &self,
        state: &OrderState,
        _callback: &CallbackData,
    ) -> Result<Verified, Error> {
        let (confirmed, repeated) = self.version.verify_statuses();
        self.payment_call(
            Operation::Verify,
            self.version.verify_path(),
            state,
            confirmed,
            repeated,
        )
        .await
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
        let (confirmed, repeated) = self.version.inquiry_statuses();
        self.payment_call(
            Operation::Inquiry,
            self.version.inquiry_path(),
            state,
            confirmed,
            repeated,
        )
        .await
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
