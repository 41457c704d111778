//! The SQLite settings the store is made for hold on every connection it makes, and the
//! store's own writing connection works beside the app's pool on the same file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use payment_core::{
    AccountId, Rial,
    ledger::{PaymentRecord, PaymentStatus, PaymentStore},
    time::OffsetDateTime,
};
use payment_sqlx::SqlStore;
use sqlx::Row;

/// A database file of its own for one test, removed with its log when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> TempFile {
        TempFile(
            std::env::temp_dir().join(format!("payment-sqlx-{name}-{}.db", std::process::id())),
        )
    }

    fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.0.display())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

fn payment(gateway_ref: &str) -> PaymentRecord {
    let now = OffsetDateTime::now_utc();
    PaymentRecord {
        account: "novinpal".parse::<AccountId>().unwrap(),
        order_id: format!("A-{gateway_ref}").parse().unwrap(),
        amount: Rial::new(250_000),
        gateway_ref: gateway_ref.to_owned(),
        status: PaymentStatus::Started,
        created_at: now,
        updated_at: now,
        state: "sealed-state".to_owned(),
        state_name: "pay_state".to_owned(),
        verify_reference: None,
    }
}

#[tokio::test]
async fn sqlite_runs_in_wal_with_synchronous_normal() {
    let file = TempFile::new("pragmas");
    let store = SqlStore::connect(&file.url()).await.unwrap();
    let journal: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    let synchronous: i64 = sqlx::query("PRAGMA synchronous")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(journal, "wal");
    // 1 is NORMAL (2 is FULL).
    assert_eq!(synchronous, 1);
}

#[tokio::test]
async fn an_in_memory_database_refuses_the_ledger_with_a_reason() {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    // At start, and again at any write.
    let err = store.migrate().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("an in-memory database cannot hold a ledger"),
        "{err}"
    );
    let err = store.insert(&payment("R-1")).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("an in-memory database cannot hold a ledger"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apps_own_writes_on_the_pool_go_on_beside_the_stores() {
    let file = TempFile::new("beside");
    let store = std::sync::Arc::new(SqlStore::connect(&file.url()).await.unwrap());
    store.migrate().await.unwrap();
    sqlx::query("CREATE TABLE orders (id INTEGER PRIMARY KEY, note TEXT NOT NULL)")
        .execute(store.pool())
        .await
        .unwrap();
    // Both write at once, each on its own connection to the file: every write lands.
    let ledger = {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 0..200 {
                store.insert(&payment(&format!("R-{n}"))).await.unwrap();
                let moved = store
                    .transition(
                        &"novinpal".parse().unwrap(),
                        &format!("R-{n}"),
                        PaymentStatus::Returned,
                        OffsetDateTime::now_utc(),
                        None,
                    )
                    .await
                    .unwrap();
                assert!(moved);
            }
        })
    };
    for n in 0..200_i64 {
        sqlx::query("INSERT INTO orders (id, note) VALUES ($1, 'paid')")
            .bind(n)
            .execute(store.pool())
            .await
            .unwrap();
    }
    ledger.await.unwrap();
    let orders: i64 = sqlx::query("SELECT COUNT(*) FROM orders")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
    let returned: i64 =
        sqlx::query("SELECT COUNT(*) FROM payment_ledger WHERE status = 'returned'")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0);
    assert_eq!((orders, returned), (200, 200));
}
