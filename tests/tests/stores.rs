//! The SQL store (payment-sqlx) on SQLite and PostgreSQL keeps the replay guard's and the
//! ledger's contracts, checked by the same code as the in-memory ones; and a restart, or
//! a second instance on the same database, never verifies a completed payment again.

// Tests fail by panicking: unwrapping, expecting and indexing say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use payment_core::{ReplayGuard, ledger::MemoryPaymentStore, replay::Claim};
use payment_e2e::{
    databases::{TempDb, fresh_postgres},
    guard_contract, ledger_contract,
};
use payment_sqlx::SqlStore;

async fn sqlite(db: &TempDb) -> Arc<SqlStore> {
    let store = SqlStore::connect(&db.url()).await.expect("sqlite");
    store.migrate().await.expect("migrate");
    // Migrations are idempotent.
    store.migrate().await.expect("migrate again");
    Arc::new(store)
}

async fn postgres(url: &str) -> Arc<SqlStore> {
    let store = SqlStore::connect(url).await.expect("postgres");
    store.migrate().await.expect("migrate");
    store.migrate().await.expect("migrate again");
    Arc::new(store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_ledger_keeps_the_contract() {
    ledger_contract::check_contract(Arc::new(MemoryPaymentStore::new()), "mem").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_store_keeps_both_contracts() {
    let db = TempDb::new("sqlite-contracts");
    let store = sqlite(&db).await;
    ledger_contract::check_contract(store.clone(), "sqlite").await;
    guard_contract::check_contract(store, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_store_keeps_both_contracts() {
    let Some(url) = fresh_postgres("postgres_store_keeps_both_contracts").await else {
        return;
    };
    let store = postgres(&url).await;
    ledger_contract::check_contract(store.clone(), "pg").await;
    guard_contract::check_contract(store, "pg").await;
}

/// What a second connection (a restarted process, another instance) sees of a claim.
async fn claims_survive_another_connection(first: Arc<SqlStore>, second: Arc<SqlStore>) {
    let lease = std::time::Duration::from_secs(60);
    let Claim::Acquired(ticket) = first.claim("novinpal:R-1", lease).await.unwrap() else {
        panic!("first claim wins")
    };
    assert_eq!(
        second.claim("novinpal:R-1", lease).await.unwrap(),
        Claim::InProgress
    );
    first.complete(&ticket, lease).await.unwrap();
    drop(first);
    assert_eq!(
        second.claim("novinpal:R-1", lease).await.unwrap(),
        Claim::Completed
    );
}

#[tokio::test]
async fn sqlite_claims_survive_a_restart() {
    let db = TempDb::new("sqlite-restart");
    claims_survive_another_connection(sqlite(&db).await, sqlite(&db).await).await;
}

#[tokio::test]
async fn postgres_claims_are_shared_by_two_instances() {
    let Some(url) = fresh_postgres("postgres_claims_are_shared_by_two_instances").await else {
        return;
    };
    claims_survive_another_connection(postgres(&url).await, postgres(&url).await).await;
}

#[tokio::test]
async fn an_unreachable_database_is_an_error_without_the_password() {
    let err = SqlStore::connect("postgres://shop:s3cret-pw@127.0.0.1:1/shop")
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("s3cret-pw"), "{err}");
}

/// Writes that arrive together share a transaction on SQLite: one that fails (a duplicate
/// reference) is refused alone, and the others are committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_write_among_concurrent_ones_fails_alone_on_sqlite() {
    use payment_core::{
        GatewayId, Rial,
        ledger::{PaymentRecord, PaymentStatus, PaymentStore},
        time::OffsetDateTime,
    };
    let db = TempDb::new("sqlite-batch");
    let store = sqlite(&db).await;
    let record = |i: usize, reference: String| PaymentRecord {
        account: GatewayId::NovinPal.into(),
        order_id: format!("batch-{i}").parse().unwrap(),
        amount: Rial::new(50_000),
        gateway_ref: reference,
        status: PaymentStatus::Started,
        created_at: OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap(),
        updated_at: OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap(),
        state: "v2.state".to_owned(),
        state_name: "pay_novinpal_000000000000".to_owned(),
        verify_reference: None,
    };
    let mut tasks = Vec::new();
    for i in 0..40 {
        // Orders 0 and 1 name the same reference.
        let reference = if i == 1 {
            "ref-0".to_owned()
        } else {
            format!("ref-{i}")
        };
        let (store, record) = (store.clone(), record(i, reference));
        tasks.push(tokio::spawn(
            async move { store.insert(&record).await.is_ok() },
        ));
    }
    let mut inserted = 0;
    for task in tasks {
        inserted += usize::from(task.await.unwrap());
    }
    assert_eq!(inserted, 39);
    for i in (0..40).filter(|i| *i != 0 && *i != 1) {
        let found = store
            .for_order(&format!("batch-{i}").parse().unwrap())
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "batch-{i}");
    }
    let first = store.for_order(&"batch-0".parse().unwrap()).await.unwrap();
    let second = store.for_order(&"batch-1".parse().unwrap()).await.unwrap();
    assert_eq!(first.len() + second.len(), 1, "one of the two holds ref-0");
}
