//! Both replay guards keep the same contract, checked by the same code.

use std::sync::Arc;

use payment_core::{MemoryReplayGuard, RedisReplayGuard};
use payment_e2e::{guard_contract::check_contract, redis_server::RedisServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_guard_keeps_the_contract() {
    check_contract(Arc::new(MemoryReplayGuard::new()), "mem").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_guard_keeps_the_contract() {
    let redis = RedisServer::start().await;
    let guard = RedisReplayGuard::connect(&redis.url).await.unwrap();
    check_contract(Arc::new(guard), "redis").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_redis_guards_on_one_server_share_claims() {
    let redis = RedisServer::start().await;
    let a = RedisReplayGuard::connect(&redis.url).await.unwrap();
    let b = RedisReplayGuard::connect(&redis.url).await.unwrap();
    let lease = std::time::Duration::from_secs(60);
    let payment_core::replay::Claim::Acquired(ticket) = a.claim("k", lease).await.unwrap() else {
        panic!("first claim wins")
    };
    use payment_core::ReplayGuard as _;
    assert_eq!(
        b.claim("k", lease).await.unwrap(),
        payment_core::replay::Claim::InProgress
    );
    a.complete(&ticket, lease).await.unwrap();
    assert_eq!(
        b.claim("k", lease).await.unwrap(),
        payment_core::replay::Claim::Completed
    );
    // Another prefix is another namespace.
    let c = b.with_prefix("other:");
    assert!(matches!(
        c.claim("k", lease).await.unwrap(),
        payment_core::replay::Claim::Acquired(_)
    ));
}

#[tokio::test]
async fn unreachable_redis_is_a_guard_error_not_a_panic() {
    let err = RedisReplayGuard::connect("redis://127.0.0.1:1/")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");
}
