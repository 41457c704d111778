//! Sandbox configuration.

use std::fmt;
use std::str::FromStr;

/// IDPay's default `X-API-KEY`: the key printed in IDPay's own document.
pub const IDPAY_API_KEY: &str = "6a7f99eb-7c20-4412-a972-6dfb7cd253a4";
/// NovinPal's default `api_key` (the document shows only `xxxxxxxxxxxxxxxxxxxx`).
pub const NOVINPAL_API_KEY: &str = "sandbox-novinpal-api-key";
/// Inopal's default gateway id, sent as `Authorization: Bearer {id}`.
pub const INOPAL_GATEWAY_ID: &str = "sandbox-inopal-gateway-id";
/// CanPay's default `merchant` code (the document shows `xxx-xxx-xxx-xxx`).
pub const CANPAY_MERCHANT: &str = "sbx-can-pay-0001";
/// GardeshPay's default merchant provider token: none, so `token` is not checked.
pub const GARDESHPAY_TOKEN: Option<&str> = None;
/// Zarinpal's default `merchant_id`, a 36-character UUID like a real one (the document shows
/// only `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`).
pub const ZARINPAL_MERCHANT_ID: &str = "5d8e2c1a-7b34-4f60-9a1e-3c2b8d6f0a47";
/// Zibal's default `merchant`: `zibal`, the test merchant of Zibal's own document.
pub const ZIBAL_MERCHANT: &str = "zibal";

/// The unit of GardeshPay's amounts (getToken's `amount`, verify's answer). The document
/// says only "integer", so the sandbox cannot tell from a request: it is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum GardeshPayAmountUnit {
    /// Rial (the default).
    #[default]
    Rial,
    /// Toman: getToken's `amount` is recorded times ten (transactions and payment pages
    /// are in rial), and verify answers the amount in toman again.
    Toman,
}

impl GardeshPayAmountUnit {
    /// The lowercase name, as the CLI flag takes it (`"rial"`, `"toman"`).
    pub fn name(self) -> &'static str {
        match self {
            GardeshPayAmountUnit::Rial => "rial",
            GardeshPayAmountUnit::Toman => "toman",
        }
    }

    /// Rial per unit: 1 or 10.
    pub(crate) fn rial_per_unit(self) -> u64 {
        match self {
            GardeshPayAmountUnit::Rial => 1,
            GardeshPayAmountUnit::Toman => 10,
        }
    }
}

impl fmt::Display for GardeshPayAmountUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for GardeshPayAmountUnit {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [GardeshPayAmountUnit::Rial, GardeshPayAmountUnit::Toman]
            .into_iter()
            .find(|u| u.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown amount unit `{s}` (rial, toman)"))
    }
}

/// How the sandbox behaves: credentials, Inopal's buyer fee, GardeshPay's amount unit, the
/// public base URL.
///
/// ```
/// use payment_sandbox::{GardeshPayAmountUnit, SandboxConfig};
/// let config = SandboxConfig::default()
///     .public_url("http://127.0.0.1:8085")
///     .inopal_fee(500)
///     .gardeshpay_token(Some("merchant-token"))
///     .gardeshpay_amount_unit(GardeshPayAmountUnit::Toman);
/// assert_eq!(config.inopal_buyer_fee, 500);
/// assert_eq!(config.gardeshpay_amount_unit, GardeshPayAmountUnit::Toman);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SandboxConfig {
    /// IDPay's `X-API-KEY`.
    pub idpay_api_key: String,
    /// NovinPal's `api_key`.
    pub novinpal_api_key: String,
    /// Inopal's gateway id (Bearer token).
    pub inopal_gateway_id: String,
    /// CanPay's `merchant`.
    pub canpay_merchant: String,
    /// GardeshPay's merchant token (a `token` field or an `Authorization: Bearer`
    /// header); `None` = not checked.
    pub gardeshpay_token: Option<String>,
    /// The unit of GardeshPay's amounts (default rial).
    pub gardeshpay_amount_unit: GardeshPayAmountUnit,
    /// Zarinpal's `merchant_id`.
    pub zarinpal_merchant_id: String,
    /// Zibal's `merchant`.
    pub zibal_merchant: String,
    /// Inopal's buyer fee share in rial, added to `payment_amount`.
    pub inopal_buyer_fee: u64,
    /// Whether Inopal's verify answers `price` with the buyer's fee in it. The document
    /// calls `price` "the transaction amount" and does not say; `false` (the default)
    /// answers the order's amount.
    pub inopal_price_includes_fee: bool,
    /// The base URL used in links the sandbox hands out (payment pages), without a
    /// trailing slash. `None` = taken from each request's `Host` header.
    pub public_url: Option<String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            idpay_api_key: IDPAY_API_KEY.to_owned(),
            novinpal_api_key: NOVINPAL_API_KEY.to_owned(),
            inopal_gateway_id: INOPAL_GATEWAY_ID.to_owned(),
            canpay_merchant: CANPAY_MERCHANT.to_owned(),
            gardeshpay_token: GARDESHPAY_TOKEN.map(str::to_owned),
            gardeshpay_amount_unit: GardeshPayAmountUnit::default(),
            zarinpal_merchant_id: ZARINPAL_MERCHANT_ID.to_owned(),
            zibal_merchant: ZIBAL_MERCHANT.to_owned(),
            inopal_buyer_fee: 0,
            inopal_price_includes_fee: false,
            public_url: None,
        }
    }
}

impl SandboxConfig {
    /// The default configuration (the documented default credentials, no fee).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets IDPay's API key.
    pub fn idpay_api_key(mut self, key: impl Into<String>) -> Self {
        self.idpay_api_key = key.into();
        self
    }

    /// Sets NovinPal's API key.
    pub fn novinpal_api_key(mut self, key: impl Into<String>) -> Self {
        self.novinpal_api_key = key.into();
        self
    }

    /// Sets Inopal's gateway id.
    pub fn inopal_gateway_id(mut self, id: impl Into<String>) -> Self {
        self.inopal_gateway_id = id.into();
        self
    }

    /// Sets CanPay's merchant code.
    pub fn canpay_merchant(mut self, merchant: impl Into<String>) -> Self {
        self.canpay_merchant = merchant.into();
        self
    }

    /// Sets (or with `None` disables) GardeshPay's merchant token check.
    pub fn gardeshpay_token(mut self, token: Option<impl Into<String>>) -> Self {
        self.gardeshpay_token = token.map(Into::into);
        self
    }

    /// Sets the unit GardeshPay's amounts are read and answered in.
    pub fn gardeshpay_amount_unit(mut self, unit: GardeshPayAmountUnit) -> Self {
        self.gardeshpay_amount_unit = unit;
        self
    }

    /// Sets Zarinpal's merchant id.
    pub fn zarinpal_merchant_id(mut self, id: impl Into<String>) -> Self {
        self.zarinpal_merchant_id = id.into();
        self
    }

    /// Sets Zibal's merchant.
    pub fn zibal_merchant(mut self, merchant: impl Into<String>) -> Self {
        self.zibal_merchant = merchant.into();
        self
    }

    /// Sets Inopal's buyer fee in rial.
    pub fn inopal_fee(mut self, fee: u64) -> Self {
        self.inopal_buyer_fee = fee;
        self
    }

    /// Makes Inopal's verify answer `price` with the buyer's fee in it (`payment_amount`),
    /// the other reading of the document.
    pub fn inopal_price_includes_fee(mut self, includes: bool) -> Self {
        self.inopal_price_includes_fee = includes;
        self
    }

    /// Sets the public base URL used in payment links.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        let url: String = url.into();
        self.public_url = Some(url.trim_end_matches('/').to_owned());
        self
    }
}
