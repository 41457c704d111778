//! Several app instances behind one public URL, sharing the signing key and their claims
//! (a Redis replay guard, the SQL store's guard, or the SQL ledger, which claims each
//! payment on its row; on PostgreSQL or SQLite): a payment is fulfilled once whichever
//! instance the callbacks reach.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;

use payment_core::{GatewayId, RedisReplayGuard};
use payment_e2e::{
    apps::axum::AxumRouter,
    buyer::{Buyer, act},
    databases::{TempDb, fresh_postgres},
    harness::{Claims, Env},
    redis_server::RedisServer,
    scenarios::{CHEAP, order_id, start},
};
use payment_sandbox::Action;
use payment_sqlx::SqlStore;

async fn redis_guard(redis: &RedisServer) -> Claims {
    Claims::Guard(Arc::new(
        RedisReplayGuard::connect(&redis.url).await.expect("redis"),
    ))
}

/// A connection of one instance to the shared SQL database.
async fn sql_store(url: &str) -> Arc<SqlStore> {
    let store = SqlStore::connect(url).await.expect("database");
    store.migrate().await.expect("migrate");
    Arc::new(store)
}

/// The SQL store as a replay guard alone.
async fn sql_guard(url: &str) -> Claims {
    Claims::Guard(sql_store(url).await)
}

/// The SQL store as the ledger, claiming payments on their rows.
async fn sql_ledger(url: &str) -> Claims {
    Claims::Ledger(sql_store(url).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_callback_replayed_to_the_other_instance_is_refused() {
    let redis = RedisServer::start().await;
    replayed_to_the_other_instance(redis_guard(&redis).await, redis_guard(&redis).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_callback_replayed_to_the_other_instance_is_refused_on_postgres() {
    let Some(url) = fresh_postgres("replayed_to_the_other_instance_on_postgres").await else {
        return;
    };
    replayed_to_the_other_instance(sql_guard(&url).await, sql_guard(&url).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_callback_replayed_to_the_other_instance_is_refused_by_the_postgres_ledger() {
    let Some(url) = fresh_postgres("replayed_to_the_other_instance_on_postgres_ledger").await
    else {
        return;
    };
    replayed_to_the_other_instance(sql_ledger(&url).await, sql_ledger(&url).await).await;
}

/// A restarted app on the same SQLite file is "the other instance" of the one before.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_callback_replayed_after_a_restart_is_refused_on_sqlite() {
    let db = TempDb::new("instances-restart");
    replayed_to_the_other_instance(sql_guard(&db.url()).await, sql_guard(&db.url()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_callback_replayed_after_a_restart_is_refused_by_the_sqlite_ledger() {
    let db = TempDb::new("instances-restart-ledger");
    replayed_to_the_other_instance(sql_ledger(&db.url()).await, sql_ledger(&db.url()).await).await;
}

async fn replayed_to_the_other_instance(first: Claims, second: Claims) {
    for &gateway in GatewayId::ALL {
        let env = Env::start_with::<AxumRouter>("127.0.0.1", first.clone()).await;
        let other = env.another_instance::<AxumRouter>(second.clone());
        let mut buyer = Buyer::new(&env);
        let order = order_id("inst");
        start(&env, &mut buyer, gateway, &order, CHEAP).await;
        let kept = buyer.jar.clone();
        let callback = act(&env, gateway, &order, Action::Pay);
        assert_eq!(buyer.return_to_shop(&callback).await.status, 200);
        // The same callback and cookie, now at the other instance.
        let mut replayer = Buyer::at(&other.base);
        let moved = replayer.retarget(&callback);
        let answer = replayer.return_with(&moved, &kept).await;
        assert_eq!(answer.status, 409, "{gateway}: {}", answer.body);
        assert_eq!(env.log.paid_for(&order), 1);
        assert!(other.log.paid().is_empty(), "{gateway}");
        // The replay never reached the gateway.
        assert_eq!(env.transaction(gateway, &order).successful_verifies, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_duplicates_across_both_instances_is_fulfilled_once() {
    let redis = RedisServer::start().await;
    burst_across_both_instances(redis_guard(&redis).await, redis_guard(&redis).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_duplicates_across_both_instances_is_fulfilled_once_on_postgres() {
    let Some(url) = fresh_postgres("burst_across_both_instances_on_postgres").await else {
        return;
    };
    burst_across_both_instances(sql_guard(&url).await, sql_guard(&url).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_duplicates_across_both_instances_is_fulfilled_once_by_the_postgres_ledger() {
    let Some(url) = fresh_postgres("burst_across_both_instances_on_postgres_ledger").await else {
        return;
    };
    burst_across_both_instances(sql_ledger(&url).await, sql_ledger(&url).await).await;
}

async fn burst_across_both_instances(first: Claims, second: Claims) {
    for &gateway in GatewayId::ALL {
        let env = Env::start_with::<AxumRouter>("127.0.0.1", first.clone()).await;
        let other = env.another_instance::<AxumRouter>(second.clone());
        let mut buyer = Buyer::new(&env);
        let order = order_id("burst");
        start(&env, &mut buyer, gateway, &order, CHEAP).await;
        let callback = act(&env, gateway, &order, Action::Pay);
        let mut tasks = Vec::new();
        for i in 0..16 {
            let base = if i % 2 == 0 {
                env.app_base.clone()
            } else {
                other.base.clone()
            };
            let jar = buyer.jar.clone();
            let callback = callback.clone();
            tasks.push(tokio::spawn(async move {
                let mut b = Buyer::at(&base);
                let moved = b.retarget(&callback);
                b.return_with(&moved, &jar).await.status
            }));
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{gateway}: {statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| [200, 409].contains(s)),
            "{gateway}: {statuses:?}"
        );
        assert_eq!(
            env.log.paid_for(&order) + other.log.paid_for(&order),
            1,
            "{gateway}"
        );
    }
}

/// Why the guard must be shared: with a guard per instance, the second instance verifies
/// again, the gateway says "verified before" (or, for CanPay, plain success), and the
/// payment is fulfilled twice. This pins the danger the Redis guard removes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn separate_in_memory_guards_would_fulfil_twice() {
    let gateway = GatewayId::NovinPal;
    let env = Env::start_with::<AxumRouter>("127.0.0.1", Claims::Memory).await;
    let other = env.another_instance::<AxumRouter>(Claims::Memory);
    let mut buyer = Buyer::new(&env);
    let order = order_id("unsafe");
    start(&env, &mut buyer, gateway, &order, CHEAP).await;
    let kept = buyer.jar.clone();
    let callback = act(&env, gateway, &order, Action::Pay);
    assert_eq!(buyer.return_to_shop(&callback).await.status, 200);
    let mut replayer = Buyer::at(&other.base);
    let moved = replayer.retarget(&callback);
    assert_eq!(replayer.return_with(&moved, &kept).await.status, 200);
    assert_eq!(env.log.paid_for(&order) + other.log.paid_for(&order), 2);
}
