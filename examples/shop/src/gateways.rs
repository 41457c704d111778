//! The payment service: the configured gateways, the signing key and the callback URLs.

use payment_axum::payment_core::{
    CanPay, ConfigError, GardeshPay, GatewayId, HttpClient, IdPay, Inopal, KeyRing, NovinPal,
    Payments, PaymentsBuilder, SigningKey, Zarinpal, Zibal,
};

use crate::{
    config::{Config, Mode},
    sandbox::base_url_for,
};

/// GardeshPay's documented create (getToken) origin, used when only
/// `GARDESHPAY_VERIFY_URL` is set.
pub const GARDESHPAY_CREATE_URL: &str = "https://ipg.gardeshpay.ir/";
/// GardeshPay's documented verify origin, used when only `GARDESHPAY_CREATE_URL` is set.
pub const GARDESHPAY_VERIFY_URL: &str = "https://ipg.gardeshpay.com/";

/// Where callbacks are mounted: `{public URL}/pay/callback/{gateway}`.
pub const MOUNT_PATH: &str = "/pay";

/// The payment service's gateways, signing key and callback URLs. In sandbox mode every
/// gateway points at the sandbox at `sandbox_url` with the sandbox's default credentials;
/// in live mode the gateways set in the configuration are used. IDPay speaks
/// `config.idpay_version` in both modes.
pub fn builder(
    config: &Config,
    key: SigningKey,
    public_url: &str,
    sandbox_url: Option<&str>,
    http: HttpClient,
) -> Result<PaymentsBuilder, ConfigError> {
    let mut builder = Payments::builder(public_url, KeyRing::new(key)).mount_path(MOUNT_PATH);
    match (config.mode, sandbox_url) {
        (Mode::Sandbox, Some(sandbox)) => {
            // Every gateway here is simulated; one that is not would fail as a bad URL.
            let base = |g| base_url_for(sandbox, g).unwrap_or_default();
            builder = builder
                .gateway(
                    IdPay::new(payment_sandbox::IDPAY_API_KEY)
                        .with_base_url(&base(GatewayId::IdPay))?
                        .with_version(config.idpay_version)
                        .with_http(http.clone()),
                )
                .gateway(
                    NovinPal::new(payment_sandbox::NOVINPAL_API_KEY)
                        .with_base_url(&base(GatewayId::NovinPal))?
                        .with_http(http.clone()),
                )
                .gateway(
                    Inopal::new(payment_sandbox::INOPAL_GATEWAY_ID)
                        .with_base_url(&base(GatewayId::Inopal))?
                        .with_http(http.clone()),
                )
                .gateway(
                    CanPay::new(payment_sandbox::CANPAY_MERCHANT)
                        .with_base_url(&base(GatewayId::CanPay))?
                        .with_http(http.clone()),
                )
                .gateway(
                    GardeshPay::new()
                        .with_base_urls(&base(GatewayId::GardeshPay), &base(GatewayId::GardeshPay))?
                        .with_http(http.clone()),
                )
                .gateway(
                    Zarinpal::new(payment_sandbox::ZARINPAL_MERCHANT_ID)
                        .with_base_url(&base(GatewayId::Zarinpal))?
                        .with_http(http.clone()),
                )
                .gateway(
                    Zibal::new(payment_sandbox::ZIBAL_MERCHANT)
                        .with_base_url(&base(GatewayId::Zibal))?
                        .with_http(http),
                );
        }
        _ => {
            let g = &config.gateways;
            if let Some(s) = &g.idpay {
                let mut idpay = IdPay::new(s.api_key.expose())
                    .with_sandbox(s.sandbox_header)
                    .with_version(config.idpay_version)
                    .with_http(http.clone());
                if let Some(url) = &s.base_url {
                    idpay = idpay.with_base_url(url)?;
                }
                builder = builder.gateway(idpay);
            }
            if let Some(s) = &g.novinpal {
                let mut novinpal = NovinPal::new(s.credential.expose()).with_http(http.clone());
                if let Some(url) = &s.base_url {
                    novinpal = novinpal.with_base_url(url)?;
                }
                builder = builder.gateway(novinpal);
            }
            if let Some(s) = &g.inopal {
                let mut inopal = Inopal::new(s.credential.expose()).with_http(http.clone());
                if let Some(url) = &s.base_url {
                    inopal = inopal.with_base_url(url)?;
                }
                builder = builder.gateway(inopal);
            }
            if let Some(s) = &g.canpay {
                let mut canpay = CanPay::new(s.credential.expose()).with_http(http.clone());
                if let Some(url) = &s.base_url {
                    canpay = canpay.with_base_url(url)?;
                }
                builder = builder.gateway(canpay);
            }
            if let Some(s) = &g.zarinpal {
                let mut zarinpal = Zarinpal::new(s.merchant_id.expose())
                    .with_sandbox(s.sandbox)
                    .with_http(http.clone());
                if let Some(url) = &s.base_url {
                    zarinpal = zarinpal.with_base_url(url)?;
                }
                builder = builder.gateway(zarinpal);
            }
            if let Some(s) = &g.zibal {
                let mut zibal = Zibal::new(s.credential.expose()).with_http(http.clone());
                if let Some(url) = &s.base_url {
                    zibal = zibal.with_base_url(url)?;
                }
                builder = builder.gateway(zibal);
            }
            if let Some(s) = &g.gardeshpay {
                let mut gardeshpay = GardeshPay::new()
                    .with_encoding(s.encoding)
                    .with_token_placement(s.token_placement)
                    .with_amount_unit(s.amount_unit)
                    .with_http(http);
                if let Some(token) = &s.token {
                    gardeshpay = gardeshpay.with_merchant_token(token.expose());
                }
                if s.create_url.is_some() || s.verify_url.is_some() {
                    // One URL given: the other keeps GardeshPay's documented default.
                    gardeshpay = gardeshpay.with_base_urls(
                        s.create_url.as_deref().unwrap_or(GARDESHPAY_CREATE_URL),
                        s.verify_url.as_deref().unwrap_or(GARDESHPAY_VERIFY_URL),
                    )?;
                }
                builder = builder.gateway(gardeshpay);
            }
        }
    }
    Ok(builder)
}
