//! A faithful local simulator of seven Iranian internet payment gateways — IDPay, NovinPal,
//! Inopal, CanPay, GardeshPay, Zarinpal and Zibal — for developing, demonstrating and
//! testing shops.
//!
//! One server serves all seven, each under its own path prefix (`/idpay`, `/novinpal`,
//! `/inopal`, `/canpay`, `/gardeshpay`, `/zarinpal`, `/zibal`): point an adapter's base URL
//! at `{sandbox}/{prefix}` and it finds the gateway's documented paths there. Each gateway
//! also has a payment page with buttons for what a buyer can do (pay, cancel, pay with a
//! non-matching card, fail at the bank), an admin view of every transaction under
//! `/_admin`, fault injection (delay, HTTP status, malformed body, dropped connection) and a
//! clock that tests can move. The README describes every choice made where a gateway's
//! document is silent.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use payment_sandbox::{Action, SandboxGateway, Sandbox, SandboxConfig};
//!
//! let sandbox = Sandbox::spawn_on_loopback(SandboxConfig::default()).await?;
//! let novinpal_base = sandbox.base_url_for(SandboxGateway::NovinPal); // http://127.0.0.1:PORT/novinpal
//! // … create a payment through the adapter, then act as the buyer:
//! // let callback = sandbox.handle.act(SandboxGateway::NovinPal, &ref_id, Action::Pay)?;
//! # let _ = (novinpal_base, Action::Pay);
//! # Ok(()) }
//! ```

// Handlers return `Result<_, Response>` where the error is the gateway's rejection,
// answered as is; boxing it would only add noise.
#![allow(clippy::result_large_err)]

mod admin;
mod canpay;
mod config;
mod gardeshpay;
mod http;
mod idpay;
mod inopal;
mod json;
mod model;
mod novinpal;
mod store;
mod zarinpal;
mod zibal;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::routing::post;

pub use config::{
    CANPAY_MERCHANT, GARDESHPAY_TOKEN, GardeshPayAmountUnit, IDPAY_API_KEY, INOPAL_GATEWAY_ID,
    NOVINPAL_API_KEY, SandboxConfig, ZARINPAL_MERCHANT_ID, ZIBAL_MERCHANT,
};
pub use model::{
    ActError, Action, Call, CallbackInstruction, CallbackMethod, Fault, FaultSpec, IdPayAnswer,
    IdPayApi, SandboxGateway, Transaction, TxnState,
};

use crate::http::{ActForm, App, act_handler};
use crate::store::Store;

/// A sandbox: its state and its HTTP routes.
#[derive(Debug, Clone)]
pub struct Sandbox {
    store: App,
}

impl Sandbox {
    /// A fresh sandbox with no transactions.
    pub fn new(config: SandboxConfig) -> Self {
        Sandbox {
            store: Arc::new(Store::new(config)),
        }
    }

    /// A handle to inspect and steer the sandbox.
    pub fn handle(&self) -> SandboxHandle {
        SandboxHandle {
            store: self.store.clone(),
        }
    }

    /// All routes: the seven gateways, their payment pages and `/_admin`.
    pub fn router(&self) -> Router {
        let mut router = Router::new()
            .merge(idpay::routes())
            .merge(novinpal::routes())
            .merge(inopal::routes())
            .merge(canpay::routes())
            .merge(gardeshpay::routes())
            .merge(zarinpal::routes())
            .merge(zibal::routes())
            .merge(admin::routes());
        for gateway in SandboxGateway::ALL {
            router = router.route(
                &format!("{}/_sandbox/act/{{key}}", gateway.prefix()),
                post(
                    move |st: State<App>, key: Path<String>, h: HeaderMap, f: Form<ActForm>| {
                        act_handler(gateway, st, key, h, f)
                    },
                ),
            );
        }
        router.with_state(self.store.clone())
    }

    /// Serves a new sandbox on `127.0.0.1` on a free port, with its public URL set to that
    /// address. The server stops when the returned value is dropped.
    pub async fn spawn_on_loopback(config: SandboxConfig) -> std::io::Result<RunningSandbox> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let mut config = config;
        if config.public_url.is_none() {
            config.public_url = Some(base_url.clone());
        }
        let sandbox = Sandbox::new(config);
        let handle = sandbox.handle();
        let router = sandbox.router();
        let task = tokio::spawn(async move {
            // The only error `serve` reports is a failed accept loop; nothing to do then.
            let _ = axum::serve(listener, router).await;
        });
        Ok(RunningSandbox {
            base_url,
            addr,
            handle,
            task,
        })
    }
}

/// A sandbox served on a loopback port; stops when dropped.
#[derive(Debug)]
pub struct RunningSandbox {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base_url: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// A handle to inspect and steer the sandbox.
    pub handle: SandboxHandle,
    task: tokio::task::JoinHandle<()>,
}

impl RunningSandbox {
    /// The base URL to configure an adapter with: `{base_url}/{prefix}`.
    pub fn base_url_for(&self, gateway: SandboxGateway) -> String {
        format!("{}{}", self.base_url, gateway.prefix())
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Inspects and steers a sandbox in-process (the admin API does the same over HTTP).
#[derive(Debug, Clone)]
pub struct SandboxHandle {
    store: App,
}

impl SandboxHandle {
    /// A snapshot of every transaction, oldest first.
    pub fn transactions(&self) -> Vec<Transaction> {
        self.store.lock().txns.clone()
    }

    /// The transaction with this payment key (see [`Transaction::key`]).
    pub fn transaction(&self, gateway: SandboxGateway, key: &str) -> Option<Transaction> {
        self.store.lock().get_mut(gateway, key).cloned()
    }

    /// The first transaction of this gateway with this order id.
    pub fn find_by_order_id(&self, gateway: SandboxGateway, order_id: &str) -> Option<Transaction> {
        self.store
            .lock()
            .find_mut(gateway, |t| t.order_id == order_id)
            .cloned()
    }

    /// Moves the sandbox clock forward (whole seconds).
    pub fn advance_clock(&self, by: Duration) {
        self.store.advance_clock(by);
    }

    /// The sandbox clock, in unix seconds.
    pub fn now(&self) -> i64 {
        self.store.lock().now()
    }

    /// Sets a fault on a gateway's call (replacing any fault set there before).
    pub fn set_fault(&self, gateway: SandboxGateway, call: Call, fault: impl Into<FaultSpec>) {
        self.store.set_fault(gateway, call, fault.into());
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.store.clear_faults();
    }

    /// Does what the payment page's buttons do: records the buyer's action and returns how
    /// the browser would be sent back to the merchant.
    pub fn act(
        &self,
        gateway: SandboxGateway,
        payment_key: &str,
        action: Action,
    ) -> Result<CallbackInstruction, ActError> {
        self.store.act(gateway, payment_key, action)
    }
}
