//! The SQLite settings the store is made for hold on every connection it makes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use payment_sqlx::SqlStore;
use sqlx::Row;

#[tokio::test]
async fn sqlite_runs_in_wal_with_synchronous_normal() {
    let path = std::env::temp_dir().join(format!("payment-sqlx-pragmas-{}.db", std::process::id()));
    let store = SqlStore::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
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
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
