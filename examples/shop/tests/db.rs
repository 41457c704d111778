//! The orders table's state machine: each transition happens once, the gateway reference
//! is unique, and "paid" comes only from a verified receipt that matches the order.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{TempDb, TestShop};
use payment_axum::payment_core::{
    CallbackRequest, GatewayId, HttpClient, HttpConfig, NotPaid, Order, Payments, PendingPayment,
    Receipt, Rial, SigningKey, outcome::Outcome,
};
use payment_sandbox::{Action, Call, CallbackMethod, Fault, FaultSpec};
use shop::{
    Config,
    db::{Db, DbError, PaidResult, Status},
};
use sqlx::Executor;

async fn db() -> (TempDb, Db) {
    let file = TempDb::new("db");
    let db = Db::connect(&file.url()).await.expect("database opens");
    (file, db)
}

#[tokio::test]
async fn migrations_create_the_tables_on_first_start_and_are_idempotent() {
    let (file, db) = db().await;
    db.create_order(
        "A1",
        "buyer-1",
        "tea",
        Rial::new(1_290_000),
        GatewayId::NovinPal,
    )
    .await
    .unwrap();
    db.close().await;
    let again = Db::connect(&file.url()).await.expect("reopens");
    assert_eq!(again.orders().await.unwrap().len(), 1);
}

#[tokio::test]
async fn each_transition_happens_once() {
    let (_file, db) = db().await;
    let o = db
        .create_order(
            "A1",
            "buyer-1",
            "tea",
            Rial::new(1_290_000),
            GatewayId::NovinPal,
        )
        .await
        .unwrap();
    assert_eq!(o.status, Status::Created);
    assert!(db.mark_awaiting("A1", "REF-1").await.unwrap());
    assert!(
        !db.mark_awaiting("A1", "REF-2").await.unwrap(),
        "started twice"
    );
    let o = db.order("A1").await.unwrap().unwrap();
    assert_eq!(o.status, Status::AwaitingPayment);
    assert_eq!(o.gateway_ref.as_deref(), Some("REF-1"));
    assert!(db.mark_failed("A1", "fa\nen").await.unwrap());
    assert!(
        !db.mark_failed("A1", "again").await.unwrap(),
        "failed twice"
    );
    assert!(
        !db.mark_awaiting("A1", "REF-3").await.unwrap(),
        "restarted after failing"
    );
    let o = db.order("A1").await.unwrap().unwrap();
    assert_eq!(o.status, Status::Failed);
    assert_eq!(o.failure_reason.as_deref(), Some("fa\nen"));
    assert_eq!(db.order("nope").await.unwrap(), None);
}

#[tokio::test]
async fn a_gateway_reference_belongs_to_one_order_only() {
    let (_file, db) = db().await;
    for id in ["A1", "A2"] {
        db.create_order(id, "buyer-1", "tea", Rial::new(1_290_000), GatewayId::IdPay)
            .await
            .unwrap();
    }
    assert!(db.mark_awaiting("A1", "SAME-REF").await.unwrap());
    let err = db.mark_awaiting("A2", "SAME-REF").await.unwrap_err();
    assert!(
        matches!(err, DbError::DuplicateReference(ref r) if r == "SAME-REF"),
        "{err}"
    );
    assert_eq!(
        db.order("A2").await.unwrap().unwrap().status,
        Status::Created
    );
    // The constraint holds below the code too.
    let raw = db
        .pool()
        .execute("UPDATE orders SET gateway_ref = 'SAME-REF' WHERE id = 'A2'")
        .await;
    assert!(raw.is_err(), "the database itself refuses a second holder");
}

#[tokio::test]
async fn settings_keep_the_first_value() {
    let (_file, db) = db().await;
    assert_eq!(db.setting("k").await.unwrap(), None);
    assert_eq!(db.setting_or_insert("k", "one").await.unwrap(), "one");
    assert_eq!(db.setting_or_insert("k", "two").await.unwrap(), "one");
}

/// A real receipt: a NovinPal payment through the library against the sandbox.
async fn paid_receipt(shop: &TestShop, id: &str, amount: Rial) -> Receipt {
    match callback(shop, id, amount, GatewayId::NovinPal, None).await {
        Ok(receipt) => receipt,
        other => panic!("expected paid, got {other:?}"),
    }
}

/// The shop's gateways against its sandbox, without its fulfilment hook, so that these
/// tests hand the receipts to the database themselves.
fn bare_payments(shop: &TestShop) -> Payments {
    let key = SigningKey::new(1, vec![9; 32]).unwrap();
    let http = HttpClient::new(HttpConfig::default().timeout(common::GATEWAY_TIMEOUT)).unwrap();
    shop::gateways::builder(
        &Config::sandbox("unused"),
        key,
        &shop.base,
        Some(&shop.sandbox_url),
        http,
    )
    .unwrap()
    .build()
    .unwrap()
}

async fn callback(
    shop: &TestShop,
    id: &str,
    amount: Rial,
    gateway: GatewayId,
    fault: Option<Fault>,
) -> Outcome {
    callback_with(&bare_payments(shop), shop, id, amount, gateway, fault).await
}

async fn callback_with(
    payments: &Payments,
    shop: &TestShop,
    id: &str,
    amount: Rial,
    gateway: GatewayId,
    fault: Option<Fault>,
) -> Outcome {
    shop.db
        .create_order(id, "buyer-1", "tea", amount, gateway)
        .await
        .unwrap();
    let started = payments
        .start(gateway, &Order::new(id.parse().unwrap(), amount))
        .await
        .expect("payment starts");
    assert!(
        shop.db
            .mark_awaiting(id, started.gateway_ref())
            .await
            .unwrap()
    );
    let cb = shop.act(gateway, id, Action::Pay);
    assert_eq!(cb.method, CallbackMethod::Get);
    let query = cb.url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let request = CallbackRequest::from_get(query)
        .unwrap()
        .with_cookie(&started.cookie().name, &started.cookie().value);
    if let Some(fault) = fault {
        shop.sandbox.set_fault(
            common::simulated(gateway),
            Call::Verify,
            FaultSpec::new(fault).times(1),
        );
    }
    payments.handle_callback(gateway, &request).await.outcome
}

#[tokio::test]
async fn paid_only_from_a_receipt_that_matches_the_order() {
    let file = TempDb::new("db-receipt");
    let shop = TestShop::start(&file).await;
    let receipt = paid_receipt(&shop, "R1", Rial::new(1_290_000)).await;
    assert_eq!(receipt.order_id().as_str(), "R1");

    // The stored amount differs from the verified one: not paid.
    shop.db
        .pool()
        .execute("UPDATE orders SET amount_rial = amount_rial + 10 WHERE id = 'R1'")
        .await
        .unwrap();
    assert_eq!(
        shop.db.mark_paid(&receipt).await.unwrap(),
        PaidResult::NoMatchingOrder
    );
    assert_eq!(shop.order("R1").await.status, Status::AwaitingPayment);
    shop.db
        .pool()
        .execute("UPDATE orders SET amount_rial = amount_rial - 10 WHERE id = 'R1'")
        .await
        .unwrap();

    // Another order cannot take this receipt, even one with the same product and amount.
    shop.db
        .create_order(
            "R2",
            "buyer-1",
            "tea",
            Rial::new(1_290_000),
            GatewayId::NovinPal,
        )
        .await
        .unwrap();
    assert!(shop.db.mark_awaiting("R2", "OTHER-REF").await.unwrap());

    assert_eq!(
        shop.db.mark_paid(&receipt).await.unwrap(),
        PaidResult::NowPaid
    );
    assert_eq!(
        shop.db.mark_paid(&receipt).await.unwrap(),
        PaidResult::AlreadyPaid
    );
    let paid = shop.order("R1").await;
    assert_eq!(paid.status, Status::Paid);
    assert_eq!(paid.gateway_ref.as_deref(), Some(receipt.gateway_ref()));
    assert_eq!(paid.bank_reference.as_deref(), receipt.bank_reference());
    assert_eq!(paid.card_mask.as_deref(), receipt.card_mask());
    assert!(paid.paid_at.is_some());
    assert_eq!(shop.order("R2").await.status, Status::AwaitingPayment);
    // Paid is final.
    assert!(!shop.db.mark_failed("R1", "late cancel").await.unwrap());
    assert_eq!(shop.order("R1").await.status, Status::Paid);
}

#[tokio::test]
async fn a_receipt_for_a_failed_order_does_not_revive_it() {
    let file = TempDb::new("db-failed");
    let shop = TestShop::start(&file).await;
    let receipt = paid_receipt(&shop, "F1", Rial::new(2_600_000)).await;
    assert!(
        shop.db
            .mark_failed("F1", "cancelled\ncancelled")
            .await
            .unwrap()
    );
    assert_eq!(
        shop.db.mark_paid(&receipt).await.unwrap(),
        PaidResult::NoMatchingOrder
    );
    assert_eq!(shop.order("F1").await.status, Status::Failed);
}

#[tokio::test]
async fn a_pending_payment_is_kept_and_completes_later() {
    let file = TempDb::new("db-pending");
    let shop = TestShop::start(&file).await;
    let slow = Fault::Delay {
        ms: u64::try_from(common::GATEWAY_TIMEOUT.as_millis()).unwrap() + 1500,
    };
    let payments = bare_payments(&shop);
    let pending: PendingPayment = match callback_with(
        &payments,
        &shop,
        "P1",
        Rial::new(4_850_000),
        GatewayId::NovinPal,
        Some(slow),
    )
    .await
    {
        Err(NotPaid::Pending(p)) => p,
        other => panic!("expected pending, got {other:?}"),
    };
    assert!(shop.db.mark_pending(&pending).await.unwrap());
    assert!(
        !shop.db.mark_pending(&pending).await.unwrap(),
        "pending twice"
    );
    let row = shop.order("P1").await;
    assert_eq!(row.status, Status::Pending);
    assert_eq!(row.pending_payment().as_ref(), Some(&pending));

    let receipt = match payments.retry(&row.pending_payment().unwrap()).await {
        Ok(r) => r,
        other => panic!("expected paid on retry, got {other:?}"),
    };
    assert_eq!(
        shop.db.mark_paid(&receipt).await.unwrap(),
        PaidResult::NowPaid
    );
    let row = shop.order("P1").await;
    assert_eq!(row.status, Status::Paid);
    assert_eq!(row.pending_json, None);
}
