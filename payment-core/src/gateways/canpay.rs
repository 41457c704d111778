//! CanPay (canpay.ir, «پرداخت یاری»): the adapter.
//!
//! Follows `canpay-api-fa.txt`. CanPay publishes no code table: its error codes are kept
//! as [`GatewayCode::Undocumented`].

use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use super::{
    api::{Api, Body},
    checks::{check_amount, invalid, json_body},
    scalar::Scalar,
    wire::{error_code, mask_card, optional, optional_amount},
};
use crate::{
    CallbackRequest, ConfigError, Error, GatewayId, HttpClient, Order,
    adapter::{CallbackData, CallbackStatus, Created, Gateway, Verified},
    error::{GatewayCode, Operation, OrderProblem},
    http::RawResponse,
    state::OrderState,
};

/// The CanPay adapter (`canpay.ir/api/ipg/`).
///
/// - create: `POST api/ipg/token` (JSON) with `merchant`, `amount`, `callback_url`,
///   `invoice_id` (the order id) and `mobile` when the order has one. The gateway
///   reference is `data.token`; the buyer goes to `data.url` ([`Redirect::Get`](crate::adapter::Redirect::Get)).
/// - callback (`POST`): `success`, `token`, `amount`, `invoice_id`; `success == 1` means
///   the buyer paid, anything else that the payment failed.
/// - verify: `POST api/ipg/verify` with `merchant` and `token` (the document's table calls
///   the second row `amount`, but describes it as the token and its example sends
///   `token`). The answer gives `data.card` and `data.reference`.
/// - errors: `{"status": false, "code": …, "message": …}` becomes a [`GatewayError`](crate::error::GatewayError) with
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
/// ```
/// use payment_core::{CanPay, Order, Rial, adapter::Gateway};
///
/// // The document's `base_url` form is taken as CanPay's origin.
/// let canpay = CanPay::new("xxx-xxx-xxx-xxx").with_base_url("https://canpay.ir/api/ipg/")?;
/// // The mobile number must look like the document's `09123456789`.
/// let order = Order::new("47".parse().unwrap(), Rial::new(10_000)).with_mobile("912345");
/// assert!(canpay.check_order(&order).is_err());
/// # Ok::<(), payment_core::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct CanPay(Api);

impl CanPay {
    /// An adapter with the merchant code CanPay assigned («کد پذیرندگی»), CanPay's origin
    /// (`https://canpay.ir/`, serving `api/ipg/…`) and a default
    /// [`HttpClient`] (built on first use).
    pub fn new(merchant: impl Into<String>) -> Self {
        let merchant = merchant.into();
        Self(
            Api::new(GatewayId::CanPay, "CanPay base URL", "https://canpay.ir/")
                .with_credential(merchant),
        )
    }

    /// Points the adapter at another origin (the sandbox: `http://127.0.0.1:8085/canpay`);
    /// `api/ipg/token` and `api/ipg/verify` are joined to it. A URL that already ends in
    /// `/api/ipg/` (the document's `base_url`) is taken as that origin plus `api/ipg/`.
    pub fn with_base_url(mut self, url: &str) -> Result<Self, ConfigError> {
        self.0.set_base_url(url)?;
        let origin = self
            .0
            .base_url()
            .and_then(|base| base.strip_suffix("/api/ipg/"))
            .map(|origin| format!("{origin}/"));
        if let Some(origin) = origin {
            self.0.set_base_url(&origin)?;
        }
        Ok(self)
    }

    /// Uses this HTTP client (share one across adapters; it holds the timeouts).
    pub fn with_http(mut self, http: HttpClient) -> Self {
        self.0.set_http(http);
        self
    }

    fn merchant(&self) -> &str {
        self.0.credential().unwrap_or_default()
    }

    /// The `data` object of a success answer, or the error the answer stands for.
    fn data(&self, operation: Operation, raw: &RawResponse) -> Result<Value, Error> {
        let answer: Answer = raw.json(Self::ID, operation)?;
        match answer.status.as_ref().and_then(Scalar::as_bool) {
            Some(true) if (200..300).contains(&raw.status) => Ok(answer.data),
            Some(false) => {
                let code = error_code(answer.code.as_ref(), raw);
                let text = self
                    .0
                    .message(answer.message.as_ref())
                    .or_else(|| self.0.message(answer.error.as_ref()));
                Err(self
                    .0
                    .refusal(operation, raw, GatewayCode::Undocumented(code), text))
            }
            _ => Err(self.0.malformed(operation, raw)),
        }
    }

    /// Decodes and maps a create (token) answer.
    pub(crate) fn created(&self, raw: &RawResponse) -> Result<Created, Error> {
        let op = Operation::Create;
        let data = self.data(op, raw)?;
        let malformed = || self.0.malformed(op, raw);
        let data: TokenData = serde_json::from_value(data).map_err(|_| malformed())?;
        let token = data.token.text().ok_or_else(malformed)?;
        let url = Url::parse(data.url.trim()).map_err(|_| malformed())?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(malformed());
        }
        Ok(Created::redirect_to(token, url))
    }

    /// Decodes and maps a verify answer.
    pub(crate) fn verified(&self, raw: &RawResponse) -> Result<Verified, Error> {
        let op = Operation::Verify;
        let data = self.data(op, raw)?;
        let data: VerifyData =
            serde_json::from_value(data).map_err(|_| self.0.malformed(op, raw))?;
        let mut verified = Verified::new();
        // CanPay reports neither the order id nor the amount on verify, and says success
        // on every repeat: `already_verified` stays false (see the type's docs).
        verified.bank_reference = data.reference.and_then(|r| r.text());
        verified.card_mask = data.card.and_then(|c| c.text()).map(|c| mask_card(&c));
        Ok(verified)
    }
}

impl Gateway for CanPay {
    const ID: GatewayId = GatewayId::CanPay;

    /// The document sets no amount limits, only a positive integer, and wants `mobile`
    /// like `09123456789`.
    fn check_order(&self, order: &Order) -> Result<(), Error> {
        check_amount(Self::ID, order, 1, None)?;
        if let Some(mobile) = order.mobile()
            && !(mobile.len() == 11
                && mobile.starts_with("09")
                && mobile.bytes().all(|b| b.is_ascii_digit()))
        {
            let rule = "11 digits starting with 09 (09123456789)";
            let reason = OrderProblem::Field {
                field: "mobile",
                rule,
            };
            return Err(invalid(Self::ID, reason));
        }
        Ok(())
    }

    async fn create(&self, order: &Order, callback_url: &Url) -> Result<Created, Error> {
        self.check_order(order)?;
        let required = json!({
            "merchant": self.merchant(),
            "amount": order.amount().get(),
            "callback_url": callback_url.as_str(),
            "invoice_id": order.id().as_str(),
        });
        let body = json_body(required, &[("mobile", order.mobile())]);
        let op = Operation::Create;
        let raw = self.0.post(op, "api/ipg/token", Body::Json(&body));
        self.created(&raw.await?)
    }

    fn parse_callback(&self, request: &CallbackRequest) -> Result<CallbackData, Error> {
        let success = request.required("success")?;
        let token = request.required("token")?.to_owned();
        let status = if success == "1" {
            CallbackStatus::Paid
        } else {
            // The document defines no failure codes: anything but 1 is a failure.
            CallbackStatus::failed(Self::ID, None)
        };
        // `success` and `token` are what the pipeline needs; `invoice_id` and `amount` are
        // taken when present (and an amount must then be a whole number).
        let mut data = CallbackData::new(Self::ID, status);
        data.reference = Some(token);
        data.order_id = optional(request, "invoice_id").map(str::to_owned);
        data.amount = optional_amount(request, "amount")?;
        Ok(data)
    }

    async fn verify(&self, state: &OrderState, _: &CallbackData) -> Result<Verified, Error> {
        // The token from the signed state, never from the callback.
        let body = json!({
            "merchant": self.merchant(),
            "token": state.gateway_ref(),
        });
        let raw = self
            .0
            .post(Operation::Verify, "api/ipg/verify", Body::Json(&body));
        let raw = raw.await?;
        self.verified(&raw)
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
