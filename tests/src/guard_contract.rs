//! The `ReplayGuard` contract, as one set of checks that every guard must pass: the
//! in-memory one and the Redis one run the very same code.

use std::{sync::Arc, time::Duration};

use payment_core::replay::{Claim, ReplayGuard};

const LEASE: Duration = Duration::from_secs(60);
const KEEP: Duration = Duration::from_secs(3600);

/// Runs every check against `guard`, using keys under `namespace` so that guards shared
/// between runs (Redis) start clean.
pub async fn check_contract(guard: Arc<dyn ReplayGuard>, namespace: &str) {
    concurrent_claims_exactly_one_wins(&guard, &format!("{namespace}:race")).await;
    completed_key_stays_completed(&guard, &format!("{namespace}:done")).await;
    release_frees_and_stale_tickets_do_nothing(&guard, &format!("{namespace}:rel")).await;
    lapsed_lease_frees_the_key(&guard, &format!("{namespace}:lapse")).await;
    keys_are_independent(&guard, namespace).await;
}

async fn concurrent_claims_exactly_one_wins(guard: &Arc<dyn ReplayGuard>, key: &str) {
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let guard = guard.clone();
        let key = key.to_owned();
        tasks.push(tokio::spawn(async move {
            guard.claim(&key, LEASE).await.unwrap()
        }));
    }
    let (mut acquired, mut in_progress) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Claim::Acquired(_) => acquired += 1,
            Claim::InProgress => in_progress += 1,
            Claim::Completed => panic!("nothing was completed"),
        }
    }
    assert_eq!((acquired, in_progress), (1, 63));
}

async fn completed_key_stays_completed(guard: &Arc<dyn ReplayGuard>, key: &str) {
    let Claim::Acquired(ticket) = guard.claim(key, LEASE).await.unwrap() else {
        panic!("first claim must win")
    };
    assert_eq!(guard.claim(key, LEASE).await.unwrap(), Claim::InProgress);
    guard.complete(&ticket, KEEP).await.unwrap();
    assert_eq!(guard.claim(key, LEASE).await.unwrap(), Claim::Completed);
    // A late release of the winning ticket cannot undo a completion.
    guard.release(&ticket).await.unwrap();
    assert_eq!(guard.claim(key, LEASE).await.unwrap(), Claim::Completed);
}

async fn release_frees_and_stale_tickets_do_nothing(guard: &Arc<dyn ReplayGuard>, key: &str) {
    let Claim::Acquired(first) = guard.claim(key, LEASE).await.unwrap() else {
        panic!("first claim must win")
    };
    guard.release(&first).await.unwrap();
    let Claim::Acquired(second) = guard.claim(key, LEASE).await.unwrap() else {
        panic!("a released key is free")
    };
    assert_ne!(first.token(), second.token());
    // The first ticket is stale: releasing it must not free the second claim.
    guard.release(&first).await.unwrap();
    assert_eq!(guard.claim(key, LEASE).await.unwrap(), Claim::InProgress);
}

async fn lapsed_lease_frees_the_key(guard: &Arc<dyn ReplayGuard>, key: &str) {
    assert!(matches!(
        guard.claim(key, Duration::from_millis(30)).await.unwrap(),
        Claim::Acquired(_)
    ));
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert!(matches!(
        guard.claim(key, LEASE).await.unwrap(),
        Claim::Acquired(_)
    ));
}

async fn keys_are_independent(guard: &Arc<dyn ReplayGuard>, namespace: &str) {
    for key in ["a", "b", "c"] {
        let key = format!("{namespace}:indep:{key}");
        assert!(matches!(
            guard.claim(&key, LEASE).await.unwrap(),
            Claim::Acquired(_)
        ));
    }
}
