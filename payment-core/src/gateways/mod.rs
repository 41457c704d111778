//! The five gateway adapters, one module each, and the checks they share.

pub mod canpay;
pub mod gardeshpay;
pub mod idpay;
pub mod inopal;
pub mod novinpal;

use url::Url;

use crate::{ConfigError, GatewayId, InvalidOrder, Order, OrderProblem};

/// Checks `order`'s amount against an inclusive `[min, max]` range in rial.
pub(crate) fn check_amount(
    gateway: GatewayId,
    order: &Order,
    min: u64,
    max: Option<u64>,
) -> Result<(), InvalidOrder> {
    let amount = order.amount().get();
    let reason = if amount < min {
        OrderProblem::AmountTooLow { amount, min }
    } else if let Some(max) = max.filter(|max| amount > *max) {
        OrderProblem::AmountTooHigh { amount, max }
    } else {
        return Ok(());
    };
    Err(InvalidOrder { gateway, reason })
}

/// Checks the order id's length against a gateway's maximum.
pub(crate) fn check_order_id_len(
    gateway: GatewayId,
    order: &Order,
    max: usize,
) -> Result<(), InvalidOrder> {
    let len = order.id().as_str().len();
    if len > max {
        return Err(InvalidOrder {
            gateway,
            reason: OrderProblem::OrderIdTooLong { len, max },
        });
    }
    Ok(())
}

/// Parses a configured base URL and makes sure joining a path to it keeps its own path
/// (a trailing slash is added).
pub(crate) fn base_url(url: &str, what: &'static str) -> Result<Url, ConfigError> {
    let mut parsed = Url::parse(url).map_err(|_| ConfigError::InvalidUrl { what })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.cannot_be_a_base() {
        return Err(ConfigError::InvalidUrl { what });
    }
    if !parsed.path().ends_with('/') {
        let path = format!("{}/", parsed.path());
        parsed.set_path(&path);
    }
    Ok(parsed)
}

/// `base` joined with a relative `path` (no leading slash).
pub(crate) fn endpoint(base: &Url, path: &str) -> Url {
    // `base` always ends with '/', and `path` is one of our own constants, so joining
    // cannot fail; fall back to the base rather than panic.
    base.join(path.trim_start_matches('/'))
        .unwrap_or_else(|_| base.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_keep_their_path() {
        let base = base_url("http://127.0.0.1:8085/idpay", "idpay").unwrap();
        assert_eq!(
            endpoint(&base, "v1.1/payment/verify").as_str(),
            "http://127.0.0.1:8085/idpay/v1.1/payment/verify"
        );
        assert!(base_url("ftp://x", "x").is_err());
        assert!(base_url("not a url", "x").is_err());
    }
}
