//! Databases for tests: a fresh SQLite file, and a fresh database on the test PostgreSQL
//! server that `scripts/test` starts (named by `SHOP_TEST_POSTGRES_URL`).

use std::{
    path::PathBuf,
    sync::atomic::{AtomicU32, Ordering},
};

use sqlx::{AnyConnection, Connection, Executor};

/// A fresh SQLite file path in the temp directory (removed by [`TempDb`]'s drop).
pub struct TempDb {
    pub path: PathBuf,
}

impl TempDb {
    pub fn new(name: &str) -> TempDb {
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "payment-test-{name}-{}-{}.db",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let db = TempDb { path };
        db.remove();
        db
    }

    pub fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.path.display())
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A fresh, empty database on the server named by `SHOP_TEST_POSTGRES_URL`, or `None`
/// (and a note that `test` was skipped) when it is not set, as in a bare `cargo test`.
pub async fn fresh_postgres(test: &str) -> Option<String> {
    let Ok(admin) = std::env::var("SHOP_TEST_POSTGRES_URL") else {
        eprintln!("{test}: skipped (SHOP_TEST_POSTGRES_URL is not set)");
        return None;
    };
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(&admin).await.expect("postgres");
    let mut suffix = [0u8; 6];
    getrandom::fill(&mut suffix).expect("random");
    let name = format!(
        "test_{}",
        suffix
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create database");
    let mut url = url::Url::parse(&admin).expect("url");
    url.set_path(&format!("/{name}"));
    Some(url.to_string())
}
