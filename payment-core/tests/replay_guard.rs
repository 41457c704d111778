//! The in-memory replay guard keeps the `ReplayGuard` contract under concurrency.

use std::{sync::Arc, time::Duration};

use payment_core::{Claim, MemoryReplayGuard, ReplayGuard};

const LEASE: Duration = Duration::from_secs(60);
const KEEP: Duration = Duration::from_secs(3600);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_claims_exactly_one_wins() {
    let guard = Arc::new(MemoryReplayGuard::new());
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let guard = guard.clone();
        tasks.push(tokio::spawn(async move {
            guard.claim("novinpal:447515262", LEASE).await.unwrap()
        }));
    }
    let mut acquired = 0;
    let mut in_progress = 0;
    for t in tasks {
        match t.await.unwrap() {
            Claim::Acquired(_) => acquired += 1,
            Claim::InProgress => in_progress += 1,
            Claim::Completed => panic!("nothing was completed"),
        }
    }
    assert_eq!((acquired, in_progress), (1, 63));
}

#[tokio::test]
async fn completed_key_stays_completed() {
    let guard = MemoryReplayGuard::new();
    let Claim::Acquired(ticket) = guard.claim("k", LEASE).await.unwrap() else {
        panic!("first claim must win")
    };
    guard.complete(&ticket, KEEP).await.unwrap();
    assert_eq!(guard.claim("k", LEASE).await.unwrap(), Claim::Completed);
    // A late release of the winning ticket cannot undo a completion.
    guard.release(&ticket).await.unwrap();
    assert_eq!(guard.claim("k", LEASE).await.unwrap(), Claim::Completed);
}

#[tokio::test]
async fn released_key_can_be_claimed_again_and_stale_tickets_do_nothing() {
    let guard = MemoryReplayGuard::new();
    let Claim::Acquired(first) = guard.claim("k", LEASE).await.unwrap() else {
        panic!()
    };
    guard.release(&first).await.unwrap();
    let Claim::Acquired(second) = guard.claim("k", LEASE).await.unwrap() else {
        panic!("a released key is free")
    };
    assert_ne!(first.token(), second.token());
    // The first ticket is stale: releasing it must not free the second claim.
    guard.release(&first).await.unwrap();
    assert_eq!(guard.claim("k", LEASE).await.unwrap(), Claim::InProgress);
}

#[tokio::test]
async fn lapsed_lease_frees_the_key() {
    let guard = MemoryReplayGuard::new();
    assert!(matches!(
        guard.claim("k", Duration::from_millis(20)).await.unwrap(),
        Claim::Acquired(_)
    ));
    tokio::time::sleep(Duration::from_millis(40)).await;
    assert!(matches!(
        guard.claim("k", LEASE).await.unwrap(),
        Claim::Acquired(_)
    ));
}

#[tokio::test]
async fn keys_are_independent() {
    let guard = MemoryReplayGuard::new();
    assert!(matches!(guard.claim("a", LEASE).await.unwrap(), Claim::Acquired(_)));
    assert!(matches!(guard.claim("b", LEASE).await.unwrap(), Claim::Acquired(_)));
    assert_eq!(guard.len(), 2);
}
