//! What the store's writes cost in SQLite, on this machine with nothing else running (the
//! load benchmark's `BENCH_STORE=sqlite` shows them under load): a guard's claim and
//! completion, a ledger insert and two steps, and what a paid payment costs with the
//! ledger as its guard (the insert at start, then the return's claim and the paid step).

// A benchmark whose setup or answer is wrong stops: unwrapping and panicking say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(missing_docs)]

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use criterion::{Criterion, criterion_group, criterion_main};
use payment_core::{
    GatewayId, ReplayGuard,
    ledger::{PaymentRecord, PaymentStatus, PaymentStore},
    replay::Claim,
    time::OffsetDateTime,
};
use payment_sqlx::SqlStore;

fn store(runtime: &tokio::runtime::Runtime, name: &str) -> SqlStore {
    let path = std::env::temp_dir().join(format!("payment-sqlx-bench-{name}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    runtime.block_on(async {
        let store = SqlStore::connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        store
    })
}

fn sqlite(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let store = store(&runtime, "guard");
    let next = AtomicU64::new(0);
    let lease = Duration::from_secs(60);
    let mut group = c.benchmark_group("sqlite");
    group.bench_function("claim_and_complete", |b| {
        b.to_async(&runtime).iter(|| async {
            let key = format!("novinpal:{}", next.fetch_add(1, Ordering::Relaxed));
            let Claim::Acquired(ticket) = store.claim(&key, lease).await.unwrap() else {
                panic!("a fresh key is free")
            };
            store.complete(&ticket, lease).await.unwrap();
        })
    });
    let ledger = store;
    let started = || {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let now = OffsetDateTime::now_utc();
        PaymentRecord {
            account: GatewayId::NovinPal.into(),
            order_id: format!("order-{n}").parse().unwrap(),
            amount: payment_core::Rial::new(120_000),
            gateway_ref: format!("{n}"),
            status: PaymentStatus::Started,
            created_at: now,
            updated_at: now,
            state: "v2.".repeat(60),
            state_name: "pay_novinpal_0a1b2c3d4e5f".into(),
            verify_reference: None,
        }
    };
    group.bench_function("insert_claim_and_paid", |b| {
        b.to_async(&runtime).iter(|| async {
            let record = started();
            ledger.insert(&record).await.unwrap();
            let returned = PaymentRecord {
                status: PaymentStatus::Returned,
                ..record.clone()
            };
            let Claim::Acquired(_) = ledger.claim_payment(&returned, lease).await.unwrap() else {
                panic!("a started payment is free")
            };
            ledger
                .transition(
                    &record.account,
                    &record.gateway_ref,
                    PaymentStatus::Paid,
                    record.updated_at,
                    None,
                )
                .await
                .unwrap();
        })
    });
    group.bench_function("insert_and_two_steps", |b| {
        b.to_async(&runtime).iter(|| async {
            let record = started();
            let now = record.updated_at;
            ledger.insert(&record).await.unwrap();
            let account = record.account.clone();
            ledger
                .transition(
                    &account,
                    &record.gateway_ref,
                    PaymentStatus::Returned,
                    now,
                    None,
                )
                .await
                .unwrap();
            ledger
                .transition(
                    &account,
                    &record.gateway_ref,
                    PaymentStatus::Paid,
                    now,
                    None,
                )
                .await
                .unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, sqlite);
criterion_main!(benches);
