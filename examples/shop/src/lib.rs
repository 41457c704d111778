//! # shop
//!
//! A small demo shop on axum and SQLite (or PostgreSQL) that takes payments through
//! IDPay, NovinPal, Inopal, CanPay, GardeshPay, Zarinpal and Zibal with `payment-axum`. With no
//! configuration it starts the payment sandbox in-process and configures all seven
//! gateways against it, so `cargo run -p shop` gives a shop you can buy from in a browser.
//!
//! [`build_app`] builds the whole shop from a [`Config`]; `main.rs` only reads the
//! environment, binds the port and serves. Tests build it on an ephemeral port with a
//! temporary SQLite file.

pub mod access;
pub mod catalog;
pub mod config;
pub mod db;
pub mod gateways;
pub mod pages;
pub mod routes;
pub mod sandbox;
pub mod server;

use std::{sync::Arc, time::Duration};

use axum::Router;
use base64::{Engine, engine::general_purpose::STANDARD};
use payment_axum::payment_core::{
    self, HttpClient, HttpConfig, MemoryReplayGuard, Payments, Reconciler, SigningKey,
    ledger::StoreError,
};
use payment_sqlx::SqlStore;

pub use config::{Config, ConfigError, GuardStore, Mode, SandboxSetup};
pub use db::{Db, DbError};
pub use routes::AppState;
pub use sandbox::InProcessSandbox;
pub use server::ServerLimits;

/// The settings key under which sandbox mode keeps its generated signing key.
pub const SIGNING_KEY_SETTING: &str = "sandbox_signing_key";

/// The settings key of the key that signs buyer session cookies, made on first start
/// and shared by every instance on the database.
pub const SESSION_KEY_SETTING: &str = "session_cookie_key";

/// `bytes` random bytes, base64url-encoded.
pub fn random_token(bytes: usize) -> Result<String, getrandom::Error> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// Why the shop could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The environment holds a configuration that cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The payment service rejected its configuration (a gateway URL, say).
    #[error("payment configuration: {0}")]
    Payments(#[from] payment_core::ConfigError),
    /// The in-process sandbox could not start.
    #[error("the payment sandbox could not start: {0}")]
    Sandbox(std::io::Error),
    /// The payment ledger's tables could not be created.
    #[error("the payment ledger could not be set up: {0}")]
    Ledger(#[from] StoreError),
    /// The host gave no randomness for a key or a password.
    #[error("the system's random number source failed: {0}")]
    NoRandomness(getrandom::Error),
}

impl From<getrandom::Error> for StartupError {
    fn from(e: getrandom::Error) -> Self {
        StartupError::NoRandomness(e)
    }
}

/// A built shop, ready to serve.
#[derive(Debug)]
pub struct Shop {
    /// Every route of the shop.
    pub router: Router,
    /// The shared state (database, payments).
    pub state: AppState,
    /// The origin buyers reach the shop at, e.g. `http://localhost:8080`.
    pub public_url: String,
    /// The sandbox's URL in sandbox mode, e.g. `http://127.0.0.1:8085`.
    pub sandbox_url: Option<String>,
    /// The in-process sandbox, when the shop started one; it stops with the shop.
    pub sandbox: Option<InProcessSandbox>,
    /// Settles the payments whose buyer never came back; [`Shop::serve`] runs it.
    pub reconciler: Reconciler,
    /// How patient the server is with slow clients.
    pub limits: ServerLimits,
    /// The admin password sandbox mode made, to print at start (none when configured).
    pub generated_admin_password: Option<String>,
}

impl Shop {
    /// The payment service.
    pub fn payments(&self) -> &Payments {
        &self.state.payments
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// Serves the shop on `listener`, with the reconciler running beside it, until the
    /// future is dropped.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        self.serve_until(listener, std::future::pending()).await
    }

    /// Serves the shop until `shutdown` completes, then finishes the requests in flight.
    pub async fn serve_until(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        let Shop {
            router,
            sandbox,
            reconciler,
            limits,
            ..
        } = self;
        // Aborted when serving ends, however it ends.
        let reconciling = AbortOnDrop(reconciler.spawn());
        let result = server::serve(listener, router, limits, shutdown).await;
        drop(reconciling);
        drop(sandbox);
        result
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Builds the shop: opens (and migrates) the database, finds the signing key, starts the
/// sandbox in sandbox mode, configures the gateways and returns the routes.
///
/// The public URL defaults to `http://localhost:{port of config.addr}`.
pub async fn build_app(config: Config) -> Result<Shop, StartupError> {
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://localhost:{}", config.addr.port()));
    let db = Db::connect(&config.database_url).await?;
    let key = match (&config.signing_key, config.mode) {
        (Some(key), _) => key.clone(),
        (None, Mode::Live) => return Err(ConfigError::MissingSigningKey.into()),
        (None, Mode::Sandbox) => sandbox_key(&db).await?,
    };
    let (sandbox, sandbox_url) = match (config.mode, &config.sandbox) {
        (Mode::Sandbox, SandboxSetup::InProcess(addr)) => {
            let sb = sandbox::start(*addr).await.map_err(StartupError::Sandbox)?;
            let url = sb.base_url.clone();
            (Some(sb), Some(url))
        }
        (Mode::Sandbox, SandboxSetup::External(url)) => (None, Some(url.clone())),
        (Mode::Live, _) => (None, None),
    };
    let http_config = HttpConfig::default()
        .timeout(config.gateway_timeout)
        .connect_timeout(config.gateway_timeout.min(Duration::from_secs(5)))
        .repeat_attempts(config.gateway_attempts);
    // A claim outlives its verify (and the inquiry after a refusal), and lapses soon after:
    // a process that died holding one leaves the payment to the reconciler that quickly.
    let verify_lease = http_config.worst_case() * 2 + Duration::from_secs(5);
    let http = HttpClient::new(http_config)?;
    // The ledger lives in the shop's database and, unless asked otherwise, claims each
    // payment on its own row.
    let store = Arc::new(SqlStore::from_pool(db.pool().clone()));
    store.migrate().await?;
    let mut builder = gateways::builder(&config, key, &public_url, sandbox_url.as_deref(), http)?;
    if config.replay_guard == GuardStore::Memory {
        builder = builder.replay_guard(MemoryReplayGuard::new());
    }
    let fulfil_db = db.clone();
    let payments = builder
        .ledger(store)
        .verify_lease(verify_lease)
        .fulfil(move |receipt| routes::fulfil(fulfil_db.clone(), receipt))
        .build()?;
    let expire_db = db.clone();
    let reconciler = Reconciler::new(&payments)?
        .every(config.reconcile_every)
        .grace(config.reconcile_grace)
        .on_expired(move |record| routes::expired(expire_db.clone(), record));
    let (admin_password, generated_admin_password) = match &config.admin_password {
        Some(password) => (password.expose().to_owned(), None),
        None => {
            let made = random_token(18)?;
            (made.clone(), Some(made))
        }
    };
    let access = access::Access::new(&session_key(&db).await?, admin_password, &public_url)
        .ok_or_else(|| DbError::Corrupt("the session cookie key is too short".to_owned()))?;
    let https = access.https();
    let state = AppState {
        db,
        payments,
        mode: config.mode,
        sandbox_admin: sandbox_url
            .as_ref()
            .map(|url| Arc::from(format!("{url}/_admin"))),
        access,
        refusals: Arc::default(),
    };
    Ok(Shop {
        router: server::harden(routes::router(state.clone()), &config.server, https),
        state,
        public_url,
        sandbox_url,
        sandbox,
        reconciler,
        limits: config.server,
        generated_admin_password,
    })
}

/// The key that signs buyer session cookies: made once and kept in the database, so
/// sessions survive restarts and every instance accepts them.
async fn session_key(db: &Db) -> Result<Vec<u8>, StartupError> {
    let made = random_token(64)?;
    let stored = db.setting_or_insert(SESSION_KEY_SETTING, &made).await?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(stored)
        .map_err(|_| DbError::Corrupt("the session cookie key is not base64".to_owned()).into())
}

/// Sandbox mode's signing key: made once and kept in the database, so payments in flight
/// survive a restart.
async fn sandbox_key(db: &Db) -> Result<SigningKey, StartupError> {
    let stored = match db.setting(SIGNING_KEY_SETTING).await? {
        Some(stored) => stored,
        None => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes)?;
            db.setting_or_insert(SIGNING_KEY_SETTING, &STANDARD.encode(bytes))
                .await?
        }
    };
    Ok(config::decode_key(&stored)?)
}
