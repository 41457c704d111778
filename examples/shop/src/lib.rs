//! # shop
//!
//! A small demo shop on axum and SQLite (or PostgreSQL) that takes payments through
//! IDPay, NovinPal, Inopal, CanPay and GardeshPay with `payment-axum`. With no
//! configuration it starts the payment sandbox in-process and configures all five
//! gateways against it, so `cargo run -p shop` gives a shop you can buy from in a browser.
//!
//! [`build_app`] builds the whole shop from a [`Config`]; `main.rs` only reads the
//! environment, binds the port and serves. Tests build it on an ephemeral port with a
//! temporary SQLite file.

pub mod catalog;
pub mod config;
pub mod db;
pub mod gateways;
pub mod pages;
pub mod routes;
pub mod sandbox;

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

/// The settings key under which sandbox mode keeps its generated signing key.
pub const SIGNING_KEY_SETTING: &str = "sandbox_signing_key";

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
    /// future is dropped or the listener fails.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        let Shop {
            router,
            sandbox,
            reconciler,
            ..
        } = self;
        // Aborted when serving ends, however it ends.
        let reconciling = AbortOnDrop(reconciler.spawn());
        let result = axum::serve(listener, router).await;
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
        .connect_timeout(config.gateway_timeout.min(Duration::from_secs(5)));
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
    let state = AppState {
        db,
        payments,
        mode: config.mode,
        sandbox_admin: sandbox_url
            .as_ref()
            .map(|url| Arc::from(format!("{url}/_admin"))),
    };
    Ok(Shop {
        router: routes::router(state.clone()),
        state,
        public_url,
        sandbox_url,
        sandbox,
        reconciler,
    })
}

/// Sandbox mode's signing key: made once and kept in the database, so payments in flight
/// survive a restart.
async fn sandbox_key(db: &Db) -> Result<SigningKey, StartupError> {
    let stored = match db.setting(SIGNING_KEY_SETTING).await? {
        Some(stored) => stored,
        None => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| {
                StartupError::Sandbox(std::io::Error::other(format!("no randomness: {e}")))
            })?;
            db.setting_or_insert(SIGNING_KEY_SETTING, &STANDARD.encode(bytes))
                .await?
        }
    };
    Ok(config::decode_key(&stored)?)
}
