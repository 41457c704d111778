//! The shop's configuration, from environment variables (see the README for each one).
//!
//! With nothing set the shop runs in **sandbox mode**: the payment sandbox is started
//! in-process and all seven gateways point at it, and the signing key is made once and kept
//! in the database. `SHOP_MODE=live` uses the gateways configured below and requires a
//! signing key of at least 32 bytes in `SHOP_SIGNING_KEY`.

use std::{fmt, net::SocketAddr, time::Duration};

use payment_axum::payment_core::{
    GardeshPayAmountUnit, GardeshPayEncoding, GardeshPayTokenPlacement, SigningKey,
    gateways::idpay::IdPayVersion,
};

use crate::server::ServerLimits;

/// The shortest signing key the payment library takes, in bytes.
const MIN_KEY_LEN: usize = 32;

/// The shortest admin password the shop takes.
pub const MIN_ADMIN_PASSWORD_LEN: usize = 12;

/// The default address the shop listens on.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// The default database: a SQLite file in the working directory, created if missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://shop.db?mode=rwc";
/// The default address of the in-process sandbox.
pub const DEFAULT_SANDBOX_ADDR: &str = "127.0.0.1:8085";
/// Verify and inquiry are sent twice at most, by default: one retry after a dropped
/// connection or a 502/503/504.
pub const DEFAULT_GATEWAY_ATTEMPTS: u32 = 2;
/// The default time the shop waits for a gateway's answer.
pub const DEFAULT_GATEWAY_TIMEOUT: Duration = Duration::from_secs(20);
/// How often the reconciler looks at open payments, by default.
pub const DEFAULT_RECONCILE_EVERY: Duration = Duration::from_secs(60);
/// How long after a payment's last step the reconciler leaves it to its buyer, by default.
pub const DEFAULT_RECONCILE_GRACE: Duration = Duration::from_secs(120);

/// Where the shop keeps its payment claims (`SHOP_REPLAY_GUARD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardStore {
    /// On the payment's row in the shop's ledger: survives restarts and is shared by
    /// every instance on that database (the default).
    Database,
    /// In the process's memory: lost on restart, right for one instance only.
    Memory,
}

/// Sandbox (the built-in simulator) or live (real gateways).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// All seven gateways against the payment sandbox; no real money moves.
    Sandbox,
    /// The gateways configured through environment variables.
    Live,
}

/// Where the sandbox runs in sandbox mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxSetup {
    /// Started inside the shop's process, listening on this address (if the port is
    /// taken, on a free one).
    InProcess(SocketAddr),
    /// Already running beside the shop (`cargo run -p payment-sandbox`) at this URL; its
    /// payments then survive a restart of the shop.
    External(String),
}

/// A credential: never shown in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The credential, for the adapter that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// IDPay: `IDPAY_API_KEY`, `IDPAY_BASE_URL`, `IDPAY_SANDBOX_HEADER`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdPaySettings {
    /// The `X-API-KEY`.
    pub api_key: Secret,
    /// The API base URL (default: IDPay's own).
    pub base_url: Option<String>,
    /// Send `X-SANDBOX: true` (IDPay's own test mode).
    pub sandbox_header: bool,
}

/// A gateway configured by one credential and an optional base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedSettings {
    /// The credential (NovinPal API key, Inopal gateway id, CanPay merchant).
    pub credential: Secret,
    /// The API base URL (default: the gateway's own).
    pub base_url: Option<String>,
}

/// GardeshPay: `GARDESHPAY_TOKEN`, `GARDESHPAY_CREATE_URL`, `GARDESHPAY_VERIFY_URL`,
/// `GARDESHPAY_ENCODING`, `GARDESHPAY_TOKEN_IN`, `GARDESHPAY_AMOUNT_UNIT`.
///
/// GardeshPay's document names no content type, no credential and no amount unit: the
/// last three choose among the guesses (see `payment_core::GardeshPay`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GardeshPaySettings {
    /// The merchant token, where the account has one.
    pub token: Option<Secret>,
    /// The create (getToken) base URL (default: GardeshPay's own).
    pub create_url: Option<String>,
    /// The verify base URL (default: GardeshPay's own).
    pub verify_url: Option<String>,
    /// How request bodies are encoded (`GARDESHPAY_ENCODING`: `json`, the default, or
    /// `form`).
    pub encoding: GardeshPayEncoding,
    /// Where the token goes (`GARDESHPAY_TOKEN_IN`: `body`, the default, or `header` for
    /// `Authorization: Bearer`).
    pub token_placement: GardeshPayTokenPlacement,
    /// The unit of amounts sent and read (`GARDESHPAY_AMOUNT_UNIT`: `rial`, the default,
    /// or `toman`).
    pub amount_unit: GardeshPayAmountUnit,
}

/// Zarinpal: `ZARINPAL_MERCHANT_ID`, `ZARINPAL_BASE_URL`, `ZARINPAL_SANDBOX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZarinpalSettings {
    /// The merchant id (a UUID).
    pub merchant_id: Secret,
    /// The API base URL (default: Zarinpal's own, or its sandbox host).
    pub base_url: Option<String>,
    /// Use Zarinpal's own sandbox host (`sandbox.zarinpal.com`).
    pub sandbox: bool,
}

/// The real gateways configured for live mode; a gateway is on when its credential is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewaySettings {
    /// IDPay.
    pub idpay: Option<IdPaySettings>,
    /// NovinPal (`NOVINPAL_API_KEY`, `NOVINPAL_BASE_URL`).
    pub novinpal: Option<KeyedSettings>,
    /// Inopal (`INOPAL_GATEWAY_ID`, `INOPAL_BASE_URL`).
    pub inopal: Option<KeyedSettings>,
    /// CanPay (`CANPAY_MERCHANT`, `CANPAY_BASE_URL`).
    pub canpay: Option<KeyedSettings>,
    /// GardeshPay (on when any `GARDESHPAY_*` variable is set).
    pub gardeshpay: Option<GardeshPaySettings>,
    /// Zarinpal (`ZARINPAL_MERCHANT_ID`, `ZARINPAL_BASE_URL`, `ZARINPAL_SANDBOX`).
    pub zarinpal: Option<ZarinpalSettings>,
    /// Zibal (`ZIBAL_MERCHANT`, `ZIBAL_BASE_URL`; the merchant `zibal` is Zibal's test mode).
    pub zibal: Option<KeyedSettings>,
}

impl GatewaySettings {
    /// The variable that turned each configured gateway on, e.g. `NOVINPAL_API_KEY`.
    pub fn variables(&self) -> Vec<&'static str> {
        [
            (self.idpay.is_some(), "IDPAY_API_KEY"),
            (self.novinpal.is_some(), "NOVINPAL_API_KEY"),
            (self.inopal.is_some(), "INOPAL_GATEWAY_ID"),
            (self.canpay.is_some(), "CANPAY_MERCHANT"),
            (self.gardeshpay.is_some(), "GARDESHPAY_*"),
            (self.zarinpal.is_some(), "ZARINPAL_MERCHANT_ID"),
            (self.zibal.is_some(), "ZIBAL_MERCHANT"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }

    /// Whether no gateway is configured.
    pub fn is_empty(&self) -> bool {
        self.idpay.is_none()
            && self.novinpal.is_none()
            && self.inopal.is_none()
            && self.canpay.is_none()
            && self.gardeshpay.is_none()
            && self.zarinpal.is_none()
            && self.zibal.is_none()
    }
}

/// Everything the shop needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (`SHOP_ADDR`, default `127.0.0.1:8080`).
    pub addr: SocketAddr,
    /// The origin buyers reach the shop at (`SHOP_PUBLIC_URL`); in sandbox mode it
    /// defaults to `http://localhost:{port}`.
    pub public_url: Option<String>,
    /// `DATABASE_URL` (default `sqlite://shop.db?mode=rwc`).
    pub database_url: String,
    /// `SHOP_MODE`.
    pub mode: Mode,
    /// `SHOP_SIGNING_KEY`, decoded; in sandbox mode it may be absent (one is kept in the
    /// database).
    pub signing_key: Option<SigningKey>,
    /// The real gateways (live mode).
    pub gateways: GatewaySettings,
    /// The IDPay API version the adapter speaks, in both modes (`IDPAY_VERSION`: `v1.1`,
    /// the default, which IDPay's document does not describe, or `v1`, the document's).
    pub idpay_version: IdPayVersion,
    /// Where the sandbox runs (sandbox mode): `SHOP_SANDBOX_URL` or `SHOP_SANDBOX_ADDR`.
    pub sandbox: SandboxSetup,
    /// How long to wait for a gateway's answer (`SHOP_GATEWAY_TIMEOUT_SECS`, default 20).
    pub gateway_timeout: Duration,
    /// How many times verify and inquiry are sent when the connection fails or the
    /// gateway answers 502/503/504 (`SHOP_GATEWAY_ATTEMPTS`, 1 to 5, default 2: one retry).
    pub gateway_attempts: u32,
    /// How often the reconciler runs (`SHOP_RECONCILE_EVERY_SECS`, default 60).
    pub reconcile_every: Duration,
    /// How long a payment is left to its buyer before the reconciler checks it
    /// (`SHOP_RECONCILE_GRACE_SECS`, default 120).
    pub reconcile_grace: Duration,
    /// Where payment claims live (`SHOP_REPLAY_GUARD`: `database`, the default, or
    /// `memory`).
    pub replay_guard: GuardStore,
    /// How patient the server is with slow clients (`SHOP_HEADER_TIMEOUT_SECS`, default
    /// 10; `SHOP_REQUEST_TIMEOUT_SECS`, default 60; `SHOP_MAX_CONNECTIONS`, default 1024).
    pub server: ServerLimits,
    /// The password of the all-orders view at `/admin` (`SHOP_ADMIN_PASSWORD`). Live
    /// mode requires one; sandbox mode makes one at start and prints it.
    pub admin_password: Option<Secret>,
}

/// A configuration that cannot work. Each message names the variable to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Live mode without `SHOP_SIGNING_KEY`.
    #[error(
        "SHOP_SIGNING_KEY is not set: live mode needs a secret signing key of at least {MIN_KEY_LEN} random bytes, base64-encoded (make one with `openssl rand -base64 32`)"
    )]
    MissingSigningKey,
    /// `SHOP_SIGNING_KEY` decodes to fewer than 32 bytes.
    #[error(
        "SHOP_SIGNING_KEY is too weak: it decodes to {0} bytes, at least {MIN_KEY_LEN} are required (make one with `openssl rand -base64 32`)"
    )]
    WeakSigningKey(usize),
    /// `SHOP_SIGNING_KEY` is not base64.
    #[error("SHOP_SIGNING_KEY is not valid base64 (make one with `openssl rand -base64 32`)")]
    SigningKeyNotBase64,
    /// Live mode without `SHOP_PUBLIC_URL`.
    #[error(
        "SHOP_PUBLIC_URL is not set: live mode needs the shop's public origin (e.g. https://shop.example), which gateways send buyers back to"
    )]
    MissingPublicUrl,
    /// Live mode without `SHOP_ADMIN_PASSWORD`.
    #[error(
        "SHOP_ADMIN_PASSWORD is not set: live mode needs a password (at least {MIN_ADMIN_PASSWORD_LEN} characters) for the all-orders view at /admin"
    )]
    MissingAdminPassword,
    /// Live mode with no gateway.
    #[error(
        "no gateway is configured for live mode: set at least one of IDPAY_API_KEY, NOVINPAL_API_KEY, INOPAL_GATEWAY_ID, CANPAY_MERCHANT or GARDESHPAY_CREATE_URL"
    )]
    NoGateway,
    /// A variable has a value that does not fit.
    #[error("{var} is invalid: {reason}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// What is wrong, and what would be right.
        reason: String,
    },
}

impl Config {
    /// Sandbox mode with every default, on `database_url`; what `cargo run -p shop` uses
    /// when nothing is set (with `DATABASE_URL` = `sqlite://shop.db?mode=rwc`).
    pub fn sandbox(database_url: impl Into<String>) -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            database_url: database_url.into(),
            mode: Mode::Sandbox,
            signing_key: None,
            gateways: GatewaySettings::default(),
            idpay_version: IdPayVersion::default(),
            sandbox: SandboxSetup::InProcess(SocketAddr::from(([127, 0, 0, 1], 8085))),
            gateway_timeout: DEFAULT_GATEWAY_TIMEOUT,
            gateway_attempts: DEFAULT_GATEWAY_ATTEMPTS,
            reconcile_every: DEFAULT_RECONCILE_EVERY,
            reconcile_grace: DEFAULT_RECONCILE_GRACE,
            replay_guard: GuardStore::Database,
            server: ServerLimits::default(),
            admin_password: None,
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup` (tests pass a map). Empty values count as
    /// unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mode = match var("SHOP_MODE").as_deref() {
            None | Some("sandbox") => Mode::Sandbox,
            Some("live") => Mode::Live,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "SHOP_MODE",
                    reason: format!("{other:?} is neither \"sandbox\" nor \"live\""),
                });
            }
        };
        let addr = parse_addr(
            "SHOP_ADDR",
            var("SHOP_ADDR").as_deref().unwrap_or(DEFAULT_ADDR),
        )?;
        let public_url = var("SHOP_PUBLIC_URL")
            .map(|url| check_url("SHOP_PUBLIC_URL", url))
            .transpose()?
            .map(|url| url.trim_end_matches('/').to_owned());
        let database_url = var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let signing_key = match var("SHOP_SIGNING_KEY") {
            Some(encoded) => Some(decode_key(&encoded)?),
            None if mode == Mode::Live => return Err(ConfigError::MissingSigningKey),
            None => None,
        };
        let seconds = |name: &'static str, default: Duration, max: f64| match var(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0 && *s <= max)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| ConfigError::Invalid {
                    var: name,
                    reason: format!("{v:?} is not a number of seconds between 0 and {max}"),
                }),
        };
        let gateway_timeout = seconds("SHOP_GATEWAY_TIMEOUT_SECS", DEFAULT_GATEWAY_TIMEOUT, 300.0)?;
        let gateway_attempts = match var("SHOP_GATEWAY_ATTEMPTS") {
            None => DEFAULT_GATEWAY_ATTEMPTS,
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=5).contains(n))
                .ok_or_else(|| ConfigError::Invalid {
                    var: "SHOP_GATEWAY_ATTEMPTS",
                    reason: format!("{v:?} is not a whole number from 1 to 5"),
                })?,
        };
        let reconcile_every =
            seconds("SHOP_RECONCILE_EVERY_SECS", DEFAULT_RECONCILE_EVERY, 3600.0)?;
        let reconcile_grace =
            seconds("SHOP_RECONCILE_GRACE_SECS", DEFAULT_RECONCILE_GRACE, 3600.0)?;
        let defaults = ServerLimits::default();
        let server = ServerLimits {
            header_read_timeout: seconds(
                "SHOP_HEADER_TIMEOUT_SECS",
                defaults.header_read_timeout,
                300.0,
            )?,
            request_timeout: seconds(
                "SHOP_REQUEST_TIMEOUT_SECS",
                defaults.request_timeout,
                3600.0,
            )?,
            max_connections: match var("SHOP_MAX_CONNECTIONS") {
                None => defaults.max_connections,
                Some(v) => v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=1_000_000).contains(n))
                    .ok_or_else(|| ConfigError::Invalid {
                        var: "SHOP_MAX_CONNECTIONS",
                        reason: format!("{v:?} is not a whole number between 1 and 1000000"),
                    })?,
            },
            ..defaults
        };
        let admin_password = var("SHOP_ADMIN_PASSWORD").map(Secret::new);
        if admin_password
            .as_ref()
            .is_some_and(|p| p.expose().len() < MIN_ADMIN_PASSWORD_LEN)
        {
            return Err(ConfigError::Invalid {
                var: "SHOP_ADMIN_PASSWORD",
                reason: format!("it must be at least {MIN_ADMIN_PASSWORD_LEN} characters long"),
            });
        }
        let replay_guard = match var("SHOP_REPLAY_GUARD").as_deref() {
            None | Some("database") => GuardStore::Database,
            Some("memory") => GuardStore::Memory,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "SHOP_REPLAY_GUARD",
                    reason: format!("{other:?} is neither \"database\" nor \"memory\""),
                });
            }
        };
        let sandbox = match var("SHOP_SANDBOX_URL") {
            Some(url) => SandboxSetup::External(
                check_url("SHOP_SANDBOX_URL", url)?
                    .trim_end_matches('/')
                    .to_owned(),
            ),
            None => SandboxSetup::InProcess(parse_addr(
                "SHOP_SANDBOX_ADDR",
                var("SHOP_SANDBOX_ADDR")
                    .as_deref()
                    .unwrap_or(DEFAULT_SANDBOX_ADDR),
            )?),
        };
        let idpay_version = parse_idpay_version(var("IDPAY_VERSION").as_deref())?;
        let url = |name: &'static str| var(name).map(|u| check_url(name, u)).transpose();
        let gateways = GatewaySettings {
            idpay: match var("IDPAY_API_KEY") {
                Some(key) => Some(IdPaySettings {
                    api_key: Secret::new(key),
                    base_url: url("IDPAY_BASE_URL")?,
                    sandbox_header: parse_bool(
                        "IDPAY_SANDBOX_HEADER",
                        var("IDPAY_SANDBOX_HEADER").as_deref(),
                    )?,
                }),
                None => None,
            },
            novinpal: keyed(var("NOVINPAL_API_KEY"), url("NOVINPAL_BASE_URL")?),
            inopal: keyed(var("INOPAL_GATEWAY_ID"), url("INOPAL_BASE_URL")?),
            canpay: keyed(var("CANPAY_MERCHANT"), url("CANPAY_BASE_URL")?),
            zarinpal: match var("ZARINPAL_MERCHANT_ID") {
                Some(id) => Some(ZarinpalSettings {
                    merchant_id: Secret::new(id),
                    base_url: url("ZARINPAL_BASE_URL")?,
                    sandbox: parse_bool("ZARINPAL_SANDBOX", var("ZARINPAL_SANDBOX").as_deref())?,
                }),
                None => None,
            },
            zibal: keyed(var("ZIBAL_MERCHANT"), url("ZIBAL_BASE_URL")?),
            gardeshpay: {
                let token = var("GARDESHPAY_TOKEN").map(Secret::new);
                let create_url = url("GARDESHPAY_CREATE_URL")?;
                let verify_url = url("GARDESHPAY_VERIFY_URL")?;
                let encoding = var("GARDESHPAY_ENCODING");
                let token_in = var("GARDESHPAY_TOKEN_IN");
                let amount_unit = var("GARDESHPAY_AMOUNT_UNIT");
                let settings = GardeshPaySettings {
                    encoding: parse_either(
                        "GARDESHPAY_ENCODING",
                        encoding.as_deref(),
                        [
                            ("json", GardeshPayEncoding::Json),
                            ("form", GardeshPayEncoding::Form),
                        ],
                    )?,
                    token_placement: parse_either(
                        "GARDESHPAY_TOKEN_IN",
                        token_in.as_deref(),
                        [
                            ("body", GardeshPayTokenPlacement::Body),
                            ("header", GardeshPayTokenPlacement::Header),
                        ],
                    )?,
                    amount_unit: parse_either(
                        "GARDESHPAY_AMOUNT_UNIT",
                        amount_unit.as_deref(),
                        [
                            ("rial", GardeshPayAmountUnit::Rial),
                            ("toman", GardeshPayAmountUnit::Toman),
                        ],
                    )?,
                    token,
                    create_url,
                    verify_url,
                };
                // GardeshPay has no required credential: any of its variables turns it on.
                let any = settings.token.is_some()
                    || settings.create_url.is_some()
                    || settings.verify_url.is_some()
                    || encoding.is_some()
                    || token_in.is_some()
                    || amount_unit.is_some();
                any.then_some(settings)
            },
        };
        if mode == Mode::Live {
            if public_url.is_none() {
                return Err(ConfigError::MissingPublicUrl);
            }
            if gateways.is_empty() {
                return Err(ConfigError::NoGateway);
            }
            if admin_password.is_none() {
                return Err(ConfigError::MissingAdminPassword);
            }
        }
        Ok(Config {
            addr,
            public_url,
            database_url,
            mode,
            signing_key,
            gateways,
            idpay_version,
            sandbox,
            gateway_timeout,
            gateway_attempts,
            reconcile_every,
            reconcile_grace,
            replay_guard,
            server,
            admin_password,
        })
    }
}

fn keyed(credential: Option<String>, base_url: Option<String>) -> Option<KeyedSettings> {
    credential.map(|c| KeyedSettings {
        credential: Secret::new(c),
        base_url,
    })
}

fn parse_addr(var: &'static str, value: &str) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|_| ConfigError::Invalid {
        var,
        reason: format!("{value:?} is not an address like {DEFAULT_ADDR}"),
    })
}

fn parse_bool(var: &'static str, value: Option<&str>) -> Result<bool, ConfigError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("0" | "false" | "no" | "off") => Ok(false),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some(other) => Err(ConfigError::Invalid {
            var,
            reason: format!("{other:?} is not true or false"),
        }),
    }
}

/// One of two named choices, by name in any case; `T`'s default when unset.
fn parse_either<T: Copy + Default>(
    var: &'static str,
    value: Option<&str>,
    [(a, choice_a), (b, choice_b)]: [(&str, T); 2],
) -> Result<T, ConfigError> {
    match value {
        None => Ok(T::default()),
        Some(v) if v.eq_ignore_ascii_case(a) => Ok(choice_a),
        Some(v) if v.eq_ignore_ascii_case(b) => Ok(choice_b),
        Some(other) => Err(ConfigError::Invalid {
            var,
            reason: format!("{other:?} is neither {a:?} nor {b:?}"),
        }),
    }
}

/// `IDPAY_VERSION`: `v1.1` (the default) or `v1`.
fn parse_idpay_version(value: Option<&str>) -> Result<IdPayVersion, ConfigError> {
    match value {
        None | Some("v1.1") => Ok(IdPayVersion::V1_1),
        Some("v1") => Ok(IdPayVersion::V1),
        Some(other) => Err(ConfigError::Invalid {
            var: "IDPAY_VERSION",
            reason: format!("{other:?} is neither \"v1\" nor \"v1.1\""),
        }),
    }
}

fn check_url(var: &'static str, value: String) -> Result<String, ConfigError> {
    let ok = payment_axum::payment_core::url::Url::parse(&value)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if ok {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            var,
            reason: format!("{value:?} is not an http(s) URL"),
        })
    }
}

/// Decodes `SHOP_SIGNING_KEY`: base64 (standard or URL-safe, padding optional) of at
/// least 32 bytes.
pub fn decode_key(encoded: &str) -> Result<SigningKey, ConfigError> {
    use base64::{
        Engine,
        engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD},
    };
    let trimmed = encoded.trim().trim_end_matches('=');
    let bytes = STANDARD_NO_PAD
        .decode(trimmed)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed))
        .map_err(|_| ConfigError::SigningKeyNotBase64)?;
    if bytes.len() < MIN_KEY_LEN {
        return Err(ConfigError::WeakSigningKey(bytes.len()));
    }
    let len = bytes.len();
    SigningKey::new(1, bytes).map_err(|_| ConfigError::WeakSigningKey(len))
}
