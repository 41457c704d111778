//! The gateway adapters, one module each, and what they share.
//!
//! Construction never fails, the convention of every adapter here: `new` keeps the
//! gateway's documented base URL, and without `with_http` a default
//! [`HttpClient`](crate::HttpClient) is built on first use; if that fails (the TLS backend
//! could not start), the call answers `Error::Config(ConfigError::HttpClient)`. A base URL
//! given with `with_base_url` that does not parse is refused there.

/// `with_base_url` and `with_http`, the two settings of every adapter whose API has one
/// base URL, written once for the adapter's `Api` field. `sandbox` is where the local
/// sandbox serves the gateway and `paths` what is joined to the base URL, for the docs.
macro_rules! api_settings {
    ($adapter:ident . $api:tt, sandbox: $sandbox:literal, paths: $paths:literal) => {
        impl $adapter {
            #[doc = concat!(
                        "Points the adapter at another base URL (the sandbox: `", $sandbox, "`); `",
                        $paths, "` is joined to it, and a path in `url` is kept."
                    )]
            pub fn with_base_url(mut self, url: &str) -> Result<Self, crate::ConfigError> {
                self.$api.set_base_url(url)?;
                Ok(self)
            }

            /// Uses this HTTP client (share one across adapters; it holds the timeouts).
            pub fn with_http(mut self, http: crate::HttpClient) -> Self {
                self.$api.set_http(http);
                self
            }
        }
    };
}

pub mod canpay;
pub mod gardeshpay;
pub mod idpay;
pub mod inopal;
pub mod novinpal;
pub mod zarinpal;
pub mod zibal;

mod api;
mod checks;
mod idpay_codes;
mod inopal_codes;
mod novinpal_codes;
mod scalar;
mod wire;
mod zarinpal_codes;
mod zibal_codes;

pub use canpay::CanPay;
pub use gardeshpay::{
    GardeshPay, GardeshPayAmountUnit, GardeshPayEncoding, GardeshPayTokenPlacement,
};
pub use idpay::IdPay;
pub use inopal::Inopal;
pub use novinpal::NovinPal;
pub use zarinpal::Zarinpal;
pub use zibal::Zibal;
