//! The same shop on PostgreSQL. These tests run when `SHOP_TEST_POSTGRES_URL` names a
//! server and a role that may create databases (e.g.
//! `postgres://shop:shop@127.0.0.1/shop`); each test makes a fresh database there.
//! `scripts/test` starts a private server and sets it; without it (a bare `cargo test`)
//! they only say that they were skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{Buyer, Options, TestShop, buy, orders_page_rows, simulated};
use payment_axum::payment_core::{GatewayId, Rial};
use payment_sandbox::{Action, Call, Fault, FaultSpec};
use shop::db::{Db, DbError, Status};

/// A fresh, empty database on the server named by `SHOP_TEST_POSTGRES_URL`.
async fn fresh_database(test: &str) -> Option<String> {
    payment_e2e::databases::fresh_postgres(test).await
}

#[tokio::test]
async fn the_state_machine_holds_on_postgres() {
    let Some(url) = fresh_database("the_state_machine_holds_on_postgres").await else {
        return;
    };
    let db = Db::connect(&url).await.expect("connects and migrates");
    for id in ["A1", "A2"] {
        db.create_order(id, "buyer-1", "tea", Rial::new(1_290_000), GatewayId::IdPay)
            .await
            .unwrap();
    }
    assert!(db.mark_awaiting("A1", "REF").await.unwrap());
    assert!(!db.mark_awaiting("A1", "REF-2").await.unwrap());
    assert!(matches!(
        db.mark_awaiting("A2", "REF").await,
        Err(DbError::DuplicateReference(_))
    ));
    assert!(db.mark_failed("A1", "fa\nen").await.unwrap());
    assert!(!db.mark_failed("A1", "again").await.unwrap());
    let a1 = db.order("A1").await.unwrap().unwrap();
    assert_eq!(a1.status, Status::Failed);
    assert_eq!(a1.amount, Rial::new(1_290_000));
    assert_eq!(db.order("A2").await.unwrap().unwrap().gateway_ref, None);
    assert_eq!(db.setting_or_insert("k", "one").await.unwrap(), "one");
    assert_eq!(db.setting_or_insert("k", "two").await.unwrap(), "one");
    db.close().await;
    // Migrations are idempotent.
    Db::connect(&url).await.expect("reopens");
}

#[tokio::test]
async fn every_gateway_pays_and_pending_completes_on_postgres() {
    let Some(url) = fresh_database("every_gateway_pays_and_pending_completes_on_postgres").await
    else {
        return;
    };
    let shop = TestShop::start_with(&url, Options::default()).await;
    let mut buyer = Buyer::new(&shop);
    for &gateway in GatewayId::ALL {
        let (id, back) = buy(&shop, &mut buyer, "tea", gateway, Action::Pay).await;
        assert_eq!(back.status, 303, "{gateway}: {}", back.body);
        assert_eq!(shop.order(&id).await.status, Status::Paid, "{gateway}");
        let list = buyer.get("/orders").await;
        assert_eq!(orders_page_rows(&list.body, &id, "paid"), 1);
    }
    buyer.checkout("saffron", GatewayId::CanPay).await;
    let order = shop.newest_order().await;
    let cb = shop.act(GatewayId::CanPay, &order.id, Action::Pay);
    let ms = u64::try_from(common::GATEWAY_TIMEOUT.as_millis()).unwrap() + 1500;
    shop.sandbox.set_fault(
        simulated(GatewayId::CanPay),
        Call::Verify,
        FaultSpec::new(Fault::Delay { ms }).times(1),
    );
    buyer.return_to_shop(&cb).await;
    assert_eq!(shop.order(&order.id).await.status, Status::Pending);
    buyer
        .post_form(&format!("/orders/{}/check", order.id), &[])
        .await;
    assert_eq!(shop.order(&order.id).await.status, Status::Paid);
}
