//! CanPay (canpay.ir, «پرداخت یاری»): the adapter.
//!
//! Follows `canpay-api-fa.txt`. CanPay publishes no code table: its error codes are kept
//! as [`GatewayCode::Undocumented`].

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use url::Url;

use super::{
    ApiBase, LazyHttp, Scalar, base_url, check_amount, endpoint,
    wire::{mask_card, message, optional},
};
use crate::{
    CallbackData, CallbackRequest, CallbackStatus, ConfigError, Created, Error, Gateway,
    GatewayCode, GatewayError, GatewayId, HttpClient, InvalidOrder, Operation, Order, OrderProblem,
    OrderState, RawResponse, Redirect, Rial, Verified, parse_amount,
};

const API_PATH: &str = "/api/ipg/";
const TOKEN_PATH: &str = "api/ipg/token";
const VERIFY_PATH: &str = "api/ipg/verify";
/// The endpoints joined to the base URL when it is set.
const FIXED_PATHS: &[&str] = &[TOKEN_PATH, VERIFY_PATH];

/// The CanPay adapter (`canpay.ir/api/ipg/`).
///
/// - create: `POST api/ipg/token` (JSON) with `merchant`, `amount`, `callback_url`,
///   `invoice_id` (the order id) and `mobile` when the order has one. The gateway
///   reference is `data.token`; the buyer goes to `data.url` ([`Redirect::Get`]).
/// - callback (`POST`): `success`, `token`, `amount`, `invoice_id`; `success == 1` means
///   the buyer paid, anything else that the payment failed.
/// - verify: `POST api/ipg/verify` with `merchant` and `token` (the document's table calls
///   the second row `amount`, but describes it as the token and its example sends
///   `token`). The answer gives `data.card` and `data.reference`.
/// - errors: `{"status": false, "code": …, "message": …}` becomes a [`GatewayError`] with
///   [`GatewayCode::Undocumented`]`(code)` and, when the HTTP status is not 200, that
///   status.
///
/// **CanPay answers success every time the same token is verified again** («در هربار
/// ارسال اطلاعات درگاه پاسخ موفق … را ارسال می کند»), so a repeat cannot be told from a
/// first verify: this adapter always reports
/// [`already_verified: false`](Verified::already_verified), and fulfilling a payment at
/// most once is left entirely to the pipeline's [`ReplayGuard`](crate::ReplayGuard),
/// which claims the token before verify is called. A payment not verified within 15
/// minutes is refunded to the buyer by CanPay.
///
/// Construction never fails (the convention of every adapter in this crate): without
/// [`CanPay::with_http`], a default [`HttpClient`] is built on first use, and if that
/// fails the call answers `Error::Config(ConfigError::HttpClient)`.
///
/// ```
/// use payment_core::{CanPay, Gateway, Order, Rial};
///
/// let canpay = CanPay::new("xxx-xxx-xxx-xxx").with_base_url("http://127.0.0.1:8085/canpay")?;
/// // The merchant code never shows in Debug output.
/// assert!(!format!("{canpay:?}").contains("xxx-xxx"));
/// // The mobile number must look like the document's `09123456789`.
/// let order = Order::new("47".parse().unwrap(), Rial::new(10_000)).with_mobile("912345");
/// assert!(canpay.check_order(&order).is_err());
/// # Ok::<(), payment_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct CanPay {
    merchant: SecretString,
    // A `Result` so that `new` cannot fail; the default always parses.
    base_url: Result<ApiBase, ConfigError>,
    http: LazyHttp,
}

impl fmt::Debug for CanPay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CanPay")
            .field(
                "base_url",
                &self.base_url.as_ref().map(|b| b.url().as_str()).ok(),
            )
            .field("merchant", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl CanPay {
    /// The default base URL, CanPay's origin. The document's `base_url` is
    /// `https://canpay.ir/api/ipg/`; this adapter joins `api/ipg/token` and
    /// `api/ipg/verify` to the origin, so that a sandbox mounted under a path
    /// (`http://127.0.0.1:8085/canpay`) serves the same paths.
    pub const DEFAULT_BASE_URL: &'static str = "https://canpay.ir/";
    /// The smallest amount: the document sets no limits, only a positive integer.
    pub const MIN_AMOUNT: Rial = Rial::new(1);

    /// An adapter with the merchant code CanPay assigned («کد پذیرندگی»), the default
    /// base URL ([`CanPay::DEFAULT_BASE_URL`], serving `api/ipg/…`) and a default
    /// [`HttpClient`] (built on first use).
    pub fn new(merchant: impl Into<String>) -> Self {
        Self {
            merchant: SecretString::from(merchant.into()),
            base_url: base_url(Self::DEFAULT_BASE_URL, "CanPay base URL")
                .map(|url| ApiBase::new(url, FIXED_PATHS)),
            http: LazyHttp::default(),
        }
    }

    /// Points the adapter at another origin (the sandbox: `http://127.0.0.1:8085/canpay`);
    /// `api/ipg/token` and `api/ipg/verify` are joined to it. A URL that already ends in
    /// `/api/ipg/` (the document's `base_url`) is taken as that origin plus `api/ipg/`.
    pub fn with_base_url(mut self, url: &str) -> Result<Self, ConfigError> {
        let mut base = base_url(url, "CanPay base URL")?;
        if let Some(origin) = base.path().strip_suffix(API_PATH) {
            let origin = format!("{origin}/");
            base.set_path(&origin);
        }
        self.base_url = Ok(ApiBase::new(base, FIXED_PATHS));
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

    /// Sends `body` and returns the raw answer.
    async fn call(
        &self,
        operation: Operation,
        url: &Url,
        body: Value,
        http: &HttpClient,
    ) -> Result<RawResponse, Error> {
        let raw = http
            .send(Self::ID, operation, |c| c.post(url.clone()).json(&body))
            .await?;
        Ok(raw)
    }

    /// The `data` object of a success answer, or the error the answer stands for.
    fn data(&self, operation: Operation, raw: &RawResponse) -> Result<Value, Error> {
        let answer: Answer = raw.json(Self::ID, operation)?;
        match answer.status.as_ref().and_then(Scalar::as_bool) {
            Some(true) if (200..300).contains(&raw.status) => Ok(answer.data),
            Some(false) => {
                // The documented error shape always has `code`; without one the HTTP
                // status stands in for it.
                let code = answer
                    .code
                    .as_ref()
                    .and_then(Scalar::as_i64)
                    .unwrap_or(i64::from(raw.status));
                let secret = Some(self.merchant.expose_secret());
                Err(Error::Gateway(GatewayError {
                    gateway: Self::ID,
                    operation,
                    code: GatewayCode::Undocumented(code),
                    http_status: (raw.status != 200).then_some(raw.status),
                    message: message(answer.message.as_ref(), secret)
                        .or_else(|| message(answer.error.as_ref(), secret)),
                }))
            }
            _ => Err(raw.unexpected(Self::ID, operation).into()),
        }
    }

    /// Decodes and maps a create (token) answer.
    pub(crate) fn created(&self, raw: &RawResponse) -> Result<Created, Error> {
        let op = Operation::Create;
        let data = self.data(op, raw)?;
        let malformed = || Error::from(raw.unexpected(Self::ID, op));
        let data: TokenData = serde_json::from_value(data).map_err(|_| malformed())?;
        let token = data.token.text().ok_or_else(malformed)?;
        let url = Url::parse(data.url.trim()).map_err(|_| malformed())?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(malformed());
        }
        Ok(Created {
            gateway_ref: token,
            redirect: Redirect::Get(url),
            payable_amount: None,
        })
    }

    /// Decodes and maps a verify answer.
    pub(crate) fn verified(&self, raw: &RawResponse) -> Result<Verified, Error> {
        let op = Operation::Verify;
        let data = self.data(op, raw)?;
        let data: VerifyData =
            serde_json::from_value(data).map_err(|_| raw.unexpected(Self::ID, op))?;
        let mut verified = Verified::new();
        // CanPay reports neither the order id nor the amount on verify, and says success
        // on every repeat: `already_verified` stays false (see the type's docs).
        verified.bank_reference = data.reference.and_then(|r| r.text());
        verified.card_mask = data.card.and_then(|c| c.text()).map(|c| mask_card(&c));
        Ok(verified)
    }
}

/// Every CanPay answer: `{"status": true, "data": {…}}` or
/// `{"status": false, "error": …, "code": …, "message": …, "description": ""}`.
#[derive(Deserialize)]
struct Answer {
    status: Option<Scalar>,
    #[serde(default)]
    data: Value,
    code: Option<Scalar>,
    message: Option<Value>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct TokenData {
    url: String,
    token: Scalar,
}

#[derive(Deserialize)]
struct VerifyData {
    card: Option<Scalar>,
    reference: Option<Scalar>,
}

impl Gateway for CanPay {
    const ID: GatewayId = GatewayId::CanPay;

    fn check_order(&self, order: &Order) -> Result<(), Error> {
        check_amount(Self::ID, order, Self::MIN_AMOUNT.get(), None)?;
        if let Some(mobile) = order.mobile()
            && !(mobile.len() == 11
                && mobile.starts_with("09")
                && mobile.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(InvalidOrder {
                gateway: Self::ID,
                reason: OrderProblem::Field {
                    field: "mobile",
                    rule: "11 digits starting with 09 (09123456789)",
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
        body.insert("merchant".into(), self.merchant.expose_secret().into());
        body.insert("amount".into(), order.amount().get().into());
        body.insert("callback_url".into(), callback_url.as_str().into());
        body.insert("invoice_id".into(), order.id().as_str().into());
        if let Some(mobile) = order.mobile() {
            body.insert("mobile".into(), mobile.into());
        }
        let op = Operation::Create;
        let raw = self
            .call(op, &endpoint(base, TOKEN_PATH), Value::Object(body), http)
            .await?;
        self.created(&raw)
    }

    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error> {
        let success = request.required("success")?;
        let token = request.required("token")?.to_owned();
        let status = if success == "1" {
            CallbackStatus::Paid
        } else {
            // The document defines no failure codes: anything but 1 is a failure.
            CallbackStatus::Failed {
                code: None,
                raw_code: None,
            }
        };
        // `success` and `token` are what the pipeline needs; `invoice_id` and `amount` are
        // taken when present (and an amount must then be a whole number).
        let mut data = CallbackData::new(Self::ID, status);
        data.reference = Some(token);
        data.order_id = optional(request, "invoice_id").map(str::to_owned);
        data.amount = optional(request, "amount")
            .map(|a| parse_amount(a, "amount"))
            .transpose()?;
        Ok(data)
    }

    async fn verify(
        &self,
        state: &OrderState,
        _callback: &CallbackData,
    ) -> Result<Verified, Error> {
        let (base, http) = self.setup()?;
        // The token from the signed state, never from the callback.
        let body = json!({
            "merchant": self.merchant.expose_secret(),
            "token": state.gateway_ref(),
        });
        let op = Operation::Verify;
        let raw = self
            .call(op, &endpoint(base, VERIFY_PATH), body, http)
            .await?;
        self.verified(&raw)
    }
}
