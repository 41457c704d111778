//! The shop's process is killed (SIGKILL) while a verify is in flight at the sandbox;
//! after a restart on the same database, the reconciler settles the payment paid exactly
//! once, without the buyer coming back, and the sandbox saw one successful verify.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::{Buyer, TempDb, simulated};
use payment_axum::payment_core::{GatewayId, ledger::PaymentStatus};
use payment_sandbox::{Action, Call, Fault, FaultSpec, Sandbox, SandboxConfig};
use shop::db::{Db, Status};

/// A shop process, killed with SIGKILL when dropped (also when a check fails).
struct ShopProcess(Child);

impl ShopProcess {
    fn kill(&mut self) {
        self.0.kill().expect("SIGKILL");
        self.0.wait().expect("the process ends");
    }
}

impl Drop for ShopProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The shop's own binary on `port`, against the sandbox at `sandbox_url`, with a
/// reconciler that looks every 200 ms at payments quiet for a second.
fn spawn_shop(db: &TempDb, sandbox_url: &str, port: u16) -> ShopProcess {
    let child = Command::new(env!("CARGO_BIN_EXE_shop"))
        .env("DATABASE_URL", db.url())
        .env("SHOP_ADDR", format!("127.0.0.1:{port}"))
        .env("SHOP_PUBLIC_URL", format!("http://localhost:{port}"))
        .env("SHOP_SANDBOX_URL", sandbox_url)
        .env("SHOP_RECONCILE_EVERY_SECS", "0.2")
        .env("SHOP_RECONCILE_GRACE_SECS", "1")
        // The dead process's claim lapses about ten seconds after the kill.
        .env("SHOP_GATEWAY_TIMEOUT_SECS", "2")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the shop starts");
    ShopProcess(child)
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_killed_during_verify_settles_the_payment_after_a_restart() {
    // The sandbox runs beside the shop, so it outlives the shop's process.
    let sandbox = Sandbox::spawn_on_loopback(SandboxConfig::default())
        .await
        .expect("sandbox");
    for gateway in [GatewayId::NovinPal, GatewayId::GardeshPay] {
        let db = TempDb::new("killed");
        let port = free_port();
        let base = format!("http://localhost:{port}");
        let mut first = spawn_shop(&db, &sandbox.base_url, port);
        let mut buyer = Buyer::at(&base);
        wait_until("the shop to listen", async || {
            reqwest::get(format!("{base}/")).await.is_ok()
        })
        .await;
        let answer = buyer.checkout("saffron", gateway).await;
        assert_eq!(answer.status, 302, "{gateway}: {}", answer.body);
        let orders = Db::connect(&db.url()).await.unwrap();
        let order = orders.orders().await.unwrap().remove(0);
        let txn = sandbox
            .handle
            .find_by_order_id(simulated(gateway), &order.id)
            .unwrap();
        let callback = sandbox
            .handle
            .act(simulated(gateway), &txn.key, Action::Pay)
            .unwrap();
        // The gateway confirms, then takes longer to answer than the shop waits.
        sandbox.handle.set_fault(
            simulated(gateway),
            Call::Verify,
            FaultSpec::new(Fault::Delay { ms: 5_000 }).times(1),
        );
        let returning = tokio::spawn(async move { buyer.return_to_shop(&callback).await });
        wait_until("the verify to reach the gateway", async || {
            sandbox
                .handle
                .find_by_order_id(simulated(gateway), &order.id)
                .is_some_and(|t| t.successful_verifies == 1)
        })
        .await;
        first.kill();
        returning.abort();
        assert_eq!(
            orders.order(&order.id).await.unwrap().unwrap().status,
            Status::AwaitingPayment,
            "{gateway}: the dead process recorded nothing"
        );

        // Restarted on the same database; the buyer never comes back.
        let mut second = spawn_shop(&db, &sandbox.base_url, port);
        let ledger = payment_sqlx::SqlStore::from_pool(orders.pool().clone());
        let order_id = order.id.parse().unwrap();
        // The order is marked paid by the fulfilment hook, then the ledger records the
        // payment paid: wait for both before stopping the shop.
        wait_until("the reconciler to settle the order", async || {
            let paid = orders
                .order(&order.id)
                .await
                .unwrap()
                .is_some_and(|o| o.status == Status::Paid);
            let records =
                payment_axum::payment_core::ledger::PaymentStore::for_order(&ledger, &order_id)
                    .await
                    .unwrap();
            paid && records.iter().any(|r| r.status == PaymentStatus::Paid)
        })
        .await;
        second.kill();
        let txn = sandbox
            .handle
            .find_by_order_id(simulated(gateway), &order.id)
            .unwrap();
        assert_eq!(txn.successful_verifies, 1, "{gateway}: {txn:?}");
        let records =
            payment_axum::payment_core::ledger::PaymentStore::for_order(&ledger, &order_id)
                .await
                .unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].status, PaymentStatus::Paid);
        orders.close().await;
    }
}
