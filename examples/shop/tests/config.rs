//! Configuration from the environment: embedded defaults, clear errors for a live shop
//! without a proper signing key, and GardeshPay's request format reaching its adapter.

// Tests fail by panicking: unwrapping and indexing say what broke.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::{
    collections::HashMap,
    process::Command,
    sync::{Arc, Mutex},
};

use axum::{Router, http::HeaderMap, routing::post};

use base64::{Engine, engine::general_purpose::STANDARD};
use payment_axum::payment_core::{
    Error, GardeshPayAmountUnit, GardeshPayEncoding, GardeshPayTokenPlacement, GatewayId,
    HttpClient, Order, Rial, gateways::idpay::IdPayVersion,
};
use shop::{Config, ConfigError, Mode, SandboxSetup};

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(|name| map.get(name).cloned())
}

fn key(len: usize) -> String {
    STANDARD.encode(vec![7u8; len])
}

const LIVE: [(&str, &str); 4] = [
    ("SHOP_MODE", "live"),
    ("SHOP_PUBLIC_URL", "https://shop.example"),
    ("NOVINPAL_API_KEY", "np-secret-key"),
    ("SHOP_ADMIN_PASSWORD", "admin-secret-pass"),
];

#[test]
fn no_configuration_means_sandbox_on_embedded_defaults() {
    let c = config(&[]).expect("defaults");
    assert_eq!(c.mode, Mode::Sandbox);
    assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
    assert_eq!(c.database_url, "sqlite://shop.db?mode=rwc");
    assert_eq!(c.public_url, None);
    assert!(
        c.signing_key.is_none(),
        "sandbox mode keeps its key in the database"
    );
    assert_eq!(
        c.sandbox,
        SandboxSetup::InProcess("127.0.0.1:8085".parse().unwrap())
    );
    assert!(c.gateways.is_empty());
}

#[test]
fn live_mode_without_a_signing_key_is_refused() {
    let err = config(&LIVE).unwrap_err();
    assert_eq!(err, ConfigError::MissingSigningKey);
    assert!(err.to_string().contains("SHOP_SIGNING_KEY"), "{err}");
}

#[test]
fn a_weak_signing_key_is_refused_in_every_mode() {
    let weak = key(16);
    let mut vars = LIVE.to_vec();
    vars.push(("SHOP_SIGNING_KEY", &weak));
    let err = config(&vars).unwrap_err();
    assert_eq!(err, ConfigError::WeakSigningKey(16));
    assert!(err.to_string().contains("SHOP_SIGNING_KEY"), "{err}");
    assert!(err.to_string().contains("16 bytes"), "{err}");
    // A key that is set must be strong in sandbox mode too.
    assert_eq!(
        config(&[("SHOP_SIGNING_KEY", &weak)]).unwrap_err(),
        ConfigError::WeakSigningKey(16)
    );
    let almost = key(31);
    assert_eq!(
        config(&[("SHOP_SIGNING_KEY", &almost)]).unwrap_err(),
        ConfigError::WeakSigningKey(31)
    );
}

#[test]
fn a_signing_key_that_is_not_base64_is_refused() {
    let mut vars = LIVE.to_vec();
    vars.push(("SHOP_SIGNING_KEY", "not base64 at all!!"));
    let err = config(&vars).unwrap_err();
    assert_eq!(err, ConfigError::SigningKeyNotBase64);
    assert!(err.to_string().contains("SHOP_SIGNING_KEY"));
}

#[test]
fn live_mode_needs_a_public_url_and_a_gateway() {
    let strong = key(32);
    let err = config(&[
        ("SHOP_MODE", "live"),
        ("SHOP_SIGNING_KEY", &strong),
        ("NOVINPAL_API_KEY", "k"),
    ])
    .unwrap_err();
    assert_eq!(err, ConfigError::MissingPublicUrl);
    assert!(err.to_string().contains("SHOP_PUBLIC_URL"));
    let err = config(&[
        ("SHOP_MODE", "live"),
        ("SHOP_SIGNING_KEY", &strong),
        ("SHOP_PUBLIC_URL", "https://shop.example"),
    ])
    .unwrap_err();
    assert_eq!(err, ConfigError::NoGateway);
}

#[test]
fn live_mode_reads_every_gateway() {
    let strong = key(48);
    let c = config(&[
        ("SHOP_MODE", "live"),
        ("SHOP_SIGNING_KEY", &strong),
        ("SHOP_PUBLIC_URL", "https://shop.example/"),
        ("SHOP_ADDR", "0.0.0.0:9000"),
        ("DATABASE_URL", "postgres://shop@localhost/shop"),
        ("IDPAY_API_KEY", "idpay-secret"),
        ("IDPAY_BASE_URL", "http://127.0.0.1:9999/idpay"),
        ("IDPAY_SANDBOX_HEADER", "true"),
        ("NOVINPAL_API_KEY", "novinpal-secret"),
        ("INOPAL_GATEWAY_ID", "inopal-secret"),
        ("INOPAL_BASE_URL", "http://127.0.0.1:9999/inopal"),
        ("CANPAY_MERCHANT", "canpay-secret"),
        ("GARDESHPAY_TOKEN", "gardeshpay-secret"),
        ("GARDESHPAY_CREATE_URL", "http://127.0.0.1:9999/gardeshpay"),
        ("GARDESHPAY_VERIFY_URL", "http://127.0.0.1:9999/gardeshpay"),
        ("GARDESHPAY_ENCODING", "form"),
        ("GARDESHPAY_TOKEN_IN", "header"),
        ("GARDESHPAY_AMOUNT_UNIT", "toman"),
        ("ZARINPAL_MERCHANT_ID", "zarinpal-secret"),
        ("ZARINPAL_SANDBOX", "true"),
        ("ZIBAL_MERCHANT", "zibal-secret"),
        ("ZIBAL_BASE_URL", "http://127.0.0.1:9999/zibal"),
        ("SHOP_GATEWAY_TIMEOUT_SECS", "7.5"),
        ("SHOP_ADMIN_PASSWORD", "admin-secret-pass"),
        ("SHOP_HEADER_TIMEOUT_SECS", "3"),
        ("SHOP_REQUEST_TIMEOUT_SECS", "20"),
        ("SHOP_MAX_CONNECTIONS", "64"),
        ("SHOP_GATEWAY_ATTEMPTS", "1"),
    ])
    .expect("a full live configuration");
    assert_eq!(c.mode, Mode::Live);
    assert_eq!(c.public_url.as_deref(), Some("https://shop.example"));
    assert_eq!(c.addr.to_string(), "0.0.0.0:9000");
    assert_eq!(c.database_url, "postgres://shop@localhost/shop");
    assert_eq!(c.signing_key.as_ref().map(|k| k.len()), Some(48));
    assert_eq!(c.gateway_timeout.as_millis(), 7500);
    assert_eq!(
        c.admin_password.as_ref().map(|p| p.expose()),
        Some("admin-secret-pass")
    );
    assert_eq!(c.server.header_read_timeout.as_secs(), 3);
    assert_eq!(c.server.request_timeout.as_secs(), 20);
    assert_eq!(c.server.max_connections, 64);
    assert_eq!(c.gateway_attempts, 1);
    let g = &c.gateways;
    let idpay = g.idpay.as_ref().expect("idpay");
    assert_eq!(idpay.api_key.expose(), "idpay-secret");
    assert_eq!(
        idpay.base_url.as_deref(),
        Some("http://127.0.0.1:9999/idpay")
    );
    assert!(idpay.sandbox_header);
    assert_eq!(g.novinpal.as_ref().unwrap().base_url, None);
    assert_eq!(
        g.inopal.as_ref().unwrap().credential.expose(),
        "inopal-secret"
    );
    assert_eq!(
        g.canpay.as_ref().unwrap().credential.expose(),
        "canpay-secret"
    );
    let gardeshpay = g.gardeshpay.as_ref().expect("gardeshpay");
    assert_eq!(
        gardeshpay.token.as_ref().map(|t| t.expose()),
        Some("gardeshpay-secret")
    );
    assert_eq!(gardeshpay.encoding, GardeshPayEncoding::Form);
    assert_eq!(gardeshpay.token_placement, GardeshPayTokenPlacement::Header);
    assert_eq!(gardeshpay.amount_unit, GardeshPayAmountUnit::Toman);
    let zarinpal = g.zarinpal.as_ref().expect("zarinpal");
    assert_eq!(zarinpal.merchant_id.expose(), "zarinpal-secret");
    assert!(zarinpal.sandbox && zarinpal.base_url.is_none());
    let zibal = g.zibal.as_ref().expect("zibal");
    assert_eq!(zibal.credential.expose(), "zibal-secret");
    assert_eq!(
        zibal.base_url.as_deref(),
        Some("http://127.0.0.1:9999/zibal")
    );
    // No credential ever shows in Debug (logs, panics).
    let debug = format!("{c:?}");
    for secret in ["secret", &strong] {
        assert!(!debug.contains(secret), "{debug}");
    }
}

#[test]
fn idpay_version_is_v1_1_unless_v1_is_asked_for_in_either_mode() {
    assert_eq!(config(&[]).unwrap().idpay_version, IdPayVersion::V1_1);
    assert_eq!(
        config(&[("IDPAY_VERSION", "v1.1")]).unwrap().idpay_version,
        IdPayVersion::V1_1
    );
    assert_eq!(
        config(&[("IDPAY_VERSION", " v1 ")]).unwrap().idpay_version,
        IdPayVersion::V1,
        "sandbox mode honours it too"
    );
    let strong = key(32);
    let mut vars = LIVE.to_vec();
    vars.push(("SHOP_SIGNING_KEY", &strong));
    vars.push(("IDPAY_API_KEY", "idpay-secret"));
    vars.push(("IDPAY_VERSION", "v1"));
    assert_eq!(config(&vars).unwrap().idpay_version, IdPayVersion::V1);
    for bad in ["1", "V1", "v1.0", "v2"] {
        let err = config(&[("IDPAY_VERSION", bad)]).unwrap_err();
        assert!(err.to_string().starts_with("IDPAY_VERSION"), "{bad}: {err}");
        assert!(
            err.to_string().contains("\"v1\" nor \"v1.1\""),
            "{bad}: {err}"
        );
    }
}

#[test]
fn live_mode_needs_an_admin_password_of_some_length() {
    let strong = key(32);
    let mut vars: Vec<(&str, &str)> = LIVE[..3].to_vec();
    vars.push(("SHOP_SIGNING_KEY", &strong));
    let err = config(&vars).unwrap_err();
    assert_eq!(err, ConfigError::MissingAdminPassword);
    assert!(err.to_string().contains("SHOP_ADMIN_PASSWORD"), "{err}");
    vars.push(("SHOP_ADMIN_PASSWORD", "short"));
    let err = config(&vars).unwrap_err();
    assert!(err.to_string().starts_with("SHOP_ADMIN_PASSWORD"), "{err}");
    // Sandbox mode makes one at start when none is set.
    assert_eq!(config(&[]).unwrap().admin_password, None);
}

#[test]
fn gardeshpay_request_format_defaults_to_json_the_token_in_the_body_and_rial() {
    let mut vars = LIVE.to_vec();
    let strong = key(32);
    vars.push(("SHOP_SIGNING_KEY", &strong));
    vars.push(("GARDESHPAY_TOKEN", "gardeshpay-secret"));
    let c = config(&vars).unwrap();
    let gardeshpay = c.gateways.gardeshpay.expect("gardeshpay");
    assert_eq!(gardeshpay.encoding, GardeshPayEncoding::Json);
    assert_eq!(gardeshpay.token_placement, GardeshPayTokenPlacement::Body);
    assert_eq!(gardeshpay.amount_unit, GardeshPayAmountUnit::Rial);

    // Each value is read in any case, and the defaults' names are taken too.
    for (encoding, token_in, unit, expected) in [
        (
            "JSON",
            "Body",
            "RIAL",
            (
                GardeshPayEncoding::Json,
                GardeshPayTokenPlacement::Body,
                GardeshPayAmountUnit::Rial,
            ),
        ),
        (
            "Form",
            "HEADER",
            "Toman",
            (
                GardeshPayEncoding::Form,
                GardeshPayTokenPlacement::Header,
                GardeshPayAmountUnit::Toman,
            ),
        ),
    ] {
        let mut vars = vars.clone();
        vars.extend([
            ("GARDESHPAY_ENCODING", encoding),
            ("GARDESHPAY_TOKEN_IN", token_in),
            ("GARDESHPAY_AMOUNT_UNIT", unit),
        ]);
        let gardeshpay = config(&vars).unwrap().gateways.gardeshpay.unwrap();
        assert_eq!(
            (
                gardeshpay.encoding,
                gardeshpay.token_placement,
                gardeshpay.amount_unit
            ),
            expected
        );
    }
}

#[test]
fn a_bad_gardeshpay_request_format_says_what_would_do() {
    for (var, value, reason) in [
        (
            "GARDESHPAY_ENCODING",
            "xml",
            r#""xml" is neither "json" nor "form""#,
        ),
        (
            "GARDESHPAY_TOKEN_IN",
            "query",
            r#""query" is neither "body" nor "header""#,
        ),
        (
            "GARDESHPAY_AMOUNT_UNIT",
            "dinar",
            r#""dinar" is neither "rial" nor "toman""#,
        ),
    ] {
        assert_eq!(
            config(&[(var, value)]).unwrap_err(),
            ConfigError::Invalid {
                var,
                reason: reason.to_owned()
            }
        );
    }
}

/// What a stand-in GardeshPay received: each getToken's headers and body.
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A stand-in GardeshPay on a loopback port that records each getToken and answers it.
async fn recording_gardeshpay() -> (String, Received) {
    let received = Received::default();
    let record = received.clone();
    let router = Router::new().route(
        "/provider/payment/getToken",
        post(move |headers: HeaderMap, body: String| async move {
            record.lock().unwrap().push((headers, body));
            axum::Json(serde_json::json!({
                "success": true,
                "data": {"url": "https://ipg.gardeshpay.ir/r", "token": "T-1"}
            }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, received)
}

/// The live shop's GardeshPay set to form data, the token in a header and toman: the
/// request the gateway gets.
#[tokio::test]
async fn the_gardeshpay_variables_reach_the_adapter() {
    let (url, received) = recording_gardeshpay().await;
    let strong = key(32);
    let mut vars: Vec<(&str, &str)> = LIVE[..2].to_vec();
    vars.extend([
        ("SHOP_ADMIN_PASSWORD", "admin-secret-pass"),
        ("SHOP_SIGNING_KEY", &strong),
        ("GARDESHPAY_CREATE_URL", &url),
        ("GARDESHPAY_VERIFY_URL", &url),
        ("GARDESHPAY_TOKEN", "gp-token"),
        ("GARDESHPAY_ENCODING", "form"),
        ("GARDESHPAY_TOKEN_IN", "header"),
        ("GARDESHPAY_AMOUNT_UNIT", "toman"),
    ]);
    let config = config(&vars).unwrap();
    let key = config.signing_key.clone().unwrap();
    let payments = shop::gateways::builder(
        &config,
        key,
        "https://shop.example",
        None,
        HttpClient::with_defaults().unwrap(),
    )
    .unwrap()
    .build()
    .unwrap();

    let order = Order::new("G-1".parse().unwrap(), Rial::new(120_000));
    payments.start(GatewayId::GardeshPay, &order).await.unwrap();
    {
        let received = received.lock().unwrap();
        let [(headers, body)] = received.as_slice() else {
            panic!("one getToken expected, got {}", received.len());
        };
        assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
        assert_eq!(headers["authorization"], "Bearer gp-token");
        // 120,000 rial is 12,000 toman; the token is in the header only.
        let fields: Vec<(String, String)> = serde_urlencoded::from_str(body).unwrap();
        let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["amount", "invoiceNumber", "invoiceDate", "callback"],
            "{body}"
        );
        assert_eq!(fields[0].1, "12000");
        assert_eq!(fields[1].1, "G-1");
        assert_eq!(fields[3].1, "https://shop.example/pay/callback/gardeshpay");
    }

    // A price that is no whole number of toman never leaves the shop.
    let odd = Order::new("G-2".parse().unwrap(), Rial::new(120_005));
    assert!(matches!(
        payments.start(GatewayId::GardeshPay, &odd).await,
        Err(Error::InvalidOrder(_))
    ));
    assert_eq!(received.lock().unwrap().len(), 1);
}

#[test]
fn any_gardeshpay_variable_turns_gardeshpay_on() {
    let strong = key(32);
    for (var, value) in [
        ("GARDESHPAY_ENCODING", "form"),
        ("GARDESHPAY_TOKEN_IN", "header"),
        ("GARDESHPAY_AMOUNT_UNIT", "toman"),
    ] {
        let mut vars: Vec<(&str, &str)> = LIVE
            .iter()
            .copied()
            .filter(|(k, _)| !k.starts_with("NOVINPAL"))
            .collect();
        vars.push(("SHOP_SIGNING_KEY", &strong));
        vars.push((var, value));
        let c = config(&vars).unwrap_or_else(|e| panic!("{var}: {e}"));
        assert_eq!(c.gateways.variables(), ["GARDESHPAY_*"], "{var}");
    }
}

#[test]
fn bad_values_name_their_variable() {
    for (var, value) in [
        ("SHOP_MODE", "production"),
        ("SHOP_ADDR", "localhost"),
        ("SHOP_PUBLIC_URL", "shop.example"),
        ("SHOP_GATEWAY_TIMEOUT_SECS", "soon"),
        ("SHOP_SANDBOX_URL", "ftp://127.0.0.1"),
        ("IDPAY_SANDBOX_HEADER", "maybe"),
        ("ZIBAL_BASE_URL", "not a url"),
        ("SHOP_HEADER_TIMEOUT_SECS", "forever"),
        ("SHOP_REQUEST_TIMEOUT_SECS", "0"),
        ("SHOP_MAX_CONNECTIONS", "many"),
        ("SHOP_GATEWAY_ATTEMPTS", "0"),
        ("GARDESHPAY_ENCODING", "xml"),
        ("GARDESHPAY_TOKEN_IN", "query"),
        ("GARDESHPAY_AMOUNT_UNIT", "dinar"),
        ("IDPAY_VERSION", "v2"),
    ] {
        let mut vars = vec![(var, value)];
        if var == "IDPAY_SANDBOX_HEADER" {
            vars.push(("IDPAY_API_KEY", "k"));
        }
        let err = config(&vars).unwrap_err();
        assert!(
            err.to_string().starts_with(var),
            "{var}={value} gave: {err}"
        );
    }
}

/// The binary itself: a live shop with a weak or missing key does not start, exits
/// non-zero and says which variable to fix.
#[test]
fn the_binary_refuses_to_start_live_without_a_strong_key() {
    let weak = key(8);
    for extra in [None, Some(("SHOP_SIGNING_KEY", weak.as_str()))] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shop"));
        cmd.env_clear().envs(LIVE).env("SHOP_ADDR", "127.0.0.1:0");
        if let Some((k, v)) = extra {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("the shop binary runs");
        assert!(!out.status.success(), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("SHOP_SIGNING_KEY"), "{stderr}");
    }
}

/// A database that cannot be reached stops the shop within seconds, naming DATABASE_URL
/// and never printing the password.
#[test]
fn the_binary_names_an_unreachable_database_quickly() {
    for url in [
        "postgres://shop:hunter2-secret@127.0.0.1:1/shop",
        "shop.db",
        "sqlite:///nonexistent-directory/shop.db",
    ] {
        let started = std::time::Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_shop"))
            .env_clear()
            .env("DATABASE_URL", url)
            .env("SHOP_ADDR", "127.0.0.1:0")
            .env("SHOP_SANDBOX_ADDR", "127.0.0.1:0")
            .output()
            .expect("the shop binary runs");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{url}"
        );
        assert!(!out.status.success(), "{url}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("DATABASE_URL"), "{url}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{url}: {stderr}");
        assert!(!stderr.contains("pool timed out"), "{url}: {stderr}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_shop"))
        .env_clear()
        .env("DATABASE_URL", "sqlite:///nonexistent-directory/shop.db")
        .env("SHOP_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("?mode=rwc"));
}

/// What the shop prints at start: where it listens, its public URL, its mode, the gateways
/// it takes, and a warning for gateway credentials that sandbox mode ignores.
#[test]
fn the_banner_tells_the_truth() {
    use std::io::{BufRead, BufReader};
    let dir = std::env::temp_dir().join(format!("shop-banner-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}/shop.db?mode=rwc", dir.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_shop"))
        .env_clear()
        .env("DATABASE_URL", &db)
        .env("SHOP_ADDR", "127.0.0.1:0")
        .env("SHOP_SANDBOX_ADDR", "127.0.0.1:0")
        .env("NOVINPAL_API_KEY", "a-real-key")
        .env("ZIBAL_MERCHANT", "a-real-merchant")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the shop binary runs");
    let stdout = child.stdout.take().unwrap();
    let mut banner = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = line.trim_start().starts_with("Warning");
        banner.push_str(&line);
        banner.push('\n');
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(banner.contains("listening on 127.0.0.1:"), "{banner}");
    assert!(banner.contains("Shop      http://localhost:"), "{banner}");
    assert!(banner.contains("Mode      sandbox"), "{banner}");
    let gateways = banner
        .lines()
        .find(|l| l.trim_start().starts_with("Gateways"))
        .unwrap_or_else(|| panic!("no gateways line: {banner}"));
    for gateway in payment_axum::payment_core::GatewayId::ALL {
        assert!(gateways.contains(gateway.display_name()), "{banner}");
    }
    assert!(banner.contains("password for this run"), "{banner}");
    let warning = banner.lines().last().unwrap();
    assert!(
        warning.contains("NOVINPAL_API_KEY")
            && warning.contains("ZIBAL_MERCHANT")
            && warning.contains("ignored"),
        "{banner}"
    );
    assert!(!banner.contains("a-real-key"), "{banner}");
}
