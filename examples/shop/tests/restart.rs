//! Restarting the shop mid-payment loses nothing: the signing key and the orders are in
//! the database, so a buyer returning to a new process completes the payment, and a
//! pending payment can still be checked.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{Buyer, Options, TempDb, TestShop, simulated};
use payment_axum::payment_core::GatewayId;
use payment_sandbox::{Action, Call, Fault, FaultSpec, Sandbox, SandboxConfig};
use shop::db::Status;

/// The sandbox runs beside the shop (as `cargo run -p payment-sandbox` would), so it
/// outlives the shop's process.
async fn external_sandbox() -> payment_sandbox::RunningSandbox {
    Sandbox::spawn_on_loopback(SandboxConfig::default())
        .await
        .expect("sandbox")
}

async fn restart(file: &TempDb, sandbox: &payment_sandbox::RunningSandbox, port: u16) -> TestShop {
    TestShop::start_with(
        &file.url(),
        Options {
            external_sandbox: Some((sandbox.base_url.clone(), sandbox.handle.clone())),
            port,
            ..Options::default()
        },
    )
    .await
}

#[tokio::test]
async fn an_order_awaiting_payment_completes_after_a_restart() {
    let sandbox = external_sandbox().await;
    let file = TempDb::new("restart-awaiting");
    for &gateway in GatewayId::ALL {
        let first = restart(&file, &sandbox, 0).await;
        let port = first.port;
        let mut buyer = Buyer::new(&first);
        buyer.checkout("saffron", gateway).await;
        let order = first.newest_order().await;
        assert_eq!(order.status, Status::AwaitingPayment);
        first.stop().await;

        // The buyer pays while the shop is down, and returns to the restarted shop.
        let cb = {
            let key = sandbox
                .handle
                .find_by_order_id(simulated(gateway), &order.id)
                .unwrap()
                .key;
            sandbox
                .handle
                .act(simulated(gateway), &key, Action::Pay)
                .unwrap()
        };
        let second = restart(&file, &sandbox, port).await;
        let back = buyer.return_to_shop(&cb).await;
        assert_eq!(back.status, 303, "{gateway}: {}", back.body);
        assert_eq!(
            second.order(&order.id).await.status,
            Status::Paid,
            "{gateway}"
        );
        second.stop().await;
    }
}

#[tokio::test]
async fn a_pending_order_is_completed_by_the_next_process() {
    let sandbox = external_sandbox().await;
    let file = TempDb::new("restart-pending");
    let first = restart(&file, &sandbox, 0).await;
    let mut buyer = Buyer::new(&first);
    buyer.checkout("tea", GatewayId::IdPay).await;
    let order = first.newest_order().await;
    let key = first.sandbox_key(GatewayId::IdPay, &order.id);
    let cb = sandbox
        .handle
        .act(simulated(GatewayId::IdPay), &key, Action::Pay)
        .unwrap();
    let ms = u64::try_from(common::GATEWAY_TIMEOUT.as_millis()).unwrap() + 1500;
    sandbox.handle.set_fault(
        simulated(GatewayId::IdPay),
        Call::Verify,
        FaultSpec::new(Fault::Delay { ms }).times(1),
    );
    buyer.return_to_shop(&cb).await;
    assert_eq!(first.order(&order.id).await.status, Status::Pending);
    let port = first.port;
    first.stop().await;

    let second = restart(&file, &sandbox, port).await;
    let checked = buyer
        .post_form(&format!("/orders/{}/check", order.id), &[])
        .await;
    assert_eq!(checked.status, 303);
    assert_eq!(second.order(&order.id).await.status, Status::Paid);
}
