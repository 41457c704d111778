//! The `PaymentStore` contract, as one set of checks that every ledger must pass: the
//! in-memory one and the SQL one (SQLite and PostgreSQL) run the very same code.

use std::{sync::Arc, time::Duration};

use payment_core::{
    AccountId, GatewayId, OrderId, Rial,
    ledger::{PaymentRecord, PaymentStatus, PaymentStore},
    replay::{Claim, ClaimTicket},
    time::OffsetDateTime,
};

/// Runs every check against `store`, with references and order ids under `namespace`.
pub async fn check_contract(store: Arc<dyn PaymentStore>, namespace: &str) {
    a_record_reads_back_as_written(&store, namespace).await;
    transitions_follow_the_life_of_a_payment(&store, namespace).await;
    of_concurrent_final_transitions_exactly_one_wins(&store, namespace).await;
    open_payments_are_listed_oldest_first(&store, namespace).await;
    a_claim_holds_a_payment_until_released_or_lapsed(&store, namespace).await;
    a_claim_records_the_return_and_a_final_step_ends_it(&store, namespace).await;
    of_concurrent_claims_exactly_one_acquires(&store, namespace).await;
    a_payment_the_ledger_missed_is_inserted_claimed(&store, namespace).await;
}

const LEASE: Duration = Duration::from_secs(30);

/// `r` as a claimer at `when` sees it: returned by the buyer or not, with the reference
/// its return carried.
fn claimer(r: &PaymentRecord, when: i64, returned: bool, reference: Option<&str>) -> PaymentRecord {
    PaymentRecord {
        status: if returned {
            PaymentStatus::Returned
        } else {
            r.status
        },
        updated_at: at(when),
        verify_reference: reference.map(str::to_owned),
        ..r.clone()
    }
}

async fn claim(store: &Arc<dyn PaymentStore>, claimer: &PaymentRecord) -> Claim {
    store
        .claim_payment(claimer, LEASE)
        .await
        .expect("store answers")
}

async fn acquired(store: &Arc<dyn PaymentStore>, claimer: &PaymentRecord) -> ClaimTicket {
    match claim(store, claimer).await {
        Claim::Acquired(ticket) => ticket,
        other => panic!("not acquired: {other:?}"),
    }
}

async fn release(
    store: &Arc<dyn PaymentStore>,
    r: &PaymentRecord,
    ticket: &ClaimTicket,
    to: Option<PaymentStatus>,
    when: i64,
) -> bool {
    store
        .release_payment(&r.account, &r.gateway_ref, ticket, to, at(when))
        .await
        .expect("store answers")
}

async fn a_claim_holds_a_payment_until_released_or_lapsed(
    store: &Arc<dyn PaymentStore>,
    namespace: &str,
) {
    let r = record(namespace, "hold", "ref-hold", 0);
    store.insert(&r).await.expect("insert");
    let first = acquired(store, &claimer(&r, 10, false, None)).await;
    assert_eq!(
        claim(store, &claimer(&r, 11, false, None)).await,
        Claim::InProgress
    );
    // Released without a step: open again, as it was, and claimable.
    assert!(release(store, &r, &first, None, 12).await);
    assert!(
        !release(store, &r, &first, None, 13).await,
        "a stale ticket"
    );
    assert_eq!(only(store, &r).await.status, PaymentStatus::Started);
    let second = acquired(store, &claimer(&r, 14, false, None)).await;
    assert_ne!(first.token(), second.token());
    // A holder that died: its claim lapses with the lease, and its ticket is stale.
    let third = acquired(store, &claimer(&r, 14 + 30, false, None)).await;
    assert!(!release(store, &r, &second, Some(PaymentStatus::Failed), 45).await);
    assert_eq!(only(store, &r).await.status, PaymentStatus::Started);
    // Released to pending: open, and claimable again.
    assert!(release(store, &r, &third, Some(PaymentStatus::Pending), 46).await);
    let pending = only(store, &r).await;
    assert_eq!(pending.status, PaymentStatus::Pending);
    assert_eq!(pending.updated_at, at(46));
    let fourth = acquired(store, &claimer(&pending, 47, false, None)).await;
    assert!(release(store, &r, &fourth, Some(PaymentStatus::Failed), 48).await);
    assert_eq!(only(store, &r).await.status, PaymentStatus::Failed);
    assert_eq!(
        claim(store, &claimer(&r, 49, true, None)).await,
        Claim::Completed
    );
}

async fn a_claim_records_the_return_and_a_final_step_ends_it(
    store: &Arc<dyn PaymentStore>,
    namespace: &str,
) {
    let r = record(namespace, "return", "ref-return", 0);
    store.insert(&r).await.expect("insert");
    // A forged return's reference is recorded, then the real one replaces it.
    let forged = acquired(store, &claimer(&r, 5, true, Some("forged"))).await;
    let seen = only(store, &r).await;
    assert_eq!(seen.status, PaymentStatus::Returned);
    assert_eq!(seen.updated_at, at(5));
    assert_eq!(seen.verify_reference.as_deref(), Some("forged"));
    assert!(release(store, &r, &forged, None, 6).await);
    let real = acquired(store, &claimer(&r, 7, true, Some("TRK-7"))).await;
    assert_eq!(
        only(store, &r).await.verify_reference.as_deref(),
        Some("TRK-7")
    );
    // A claim without a reference keeps the recorded one.
    assert!(release(store, &r, &real, None, 8).await);
    let again = acquired(store, &claimer(&r, 9, false, None)).await;
    assert_eq!(
        only(store, &r).await.verify_reference.as_deref(),
        Some("TRK-7")
    );
    assert!(move_to(store, &r, PaymentStatus::Paid, 10, None).await);
    assert!(!release(store, &r, &again, Some(PaymentStatus::Pending), 11).await);
    let paid = only(store, &r).await;
    assert_eq!(paid.status, PaymentStatus::Paid);
    assert_eq!(paid.updated_at, at(10));
    assert_eq!(
        claim(store, &claimer(&r, 12, true, None)).await,
        Claim::Completed
    );
}

async fn of_concurrent_claims_exactly_one_acquires(store: &Arc<dyn PaymentStore>, namespace: &str) {
    let r = record(namespace, "claim-race", "ref-claim-race", 0);
    store.insert(&r).await.expect("insert");
    let claims = (0..16).map(|_| {
        let store = store.clone();
        let claimer = claimer(&r, 3, true, None);
        tokio::spawn(async move { claim(&store, &claimer).await })
    });
    let mut acquired = 0;
    for claim in claims {
        match claim.await.expect("task") {
            Claim::Acquired(_) => acquired += 1,
            Claim::InProgress => {}
            Claim::Completed => panic!("an open payment read as completed"),
        }
    }
    assert_eq!(acquired, 1);
}

async fn a_payment_the_ledger_missed_is_inserted_claimed(
    store: &Arc<dyn PaymentStore>,
    namespace: &str,
) {
    let r = record(namespace, "missed", "ref-missed", 0);
    let ticket = acquired(store, &claimer(&r, 4, true, Some("TRK-4"))).await;
    let seen = only(store, &r).await;
    assert_eq!(seen.status, PaymentStatus::Returned);
    assert_eq!(seen.verify_reference.as_deref(), Some("TRK-4"));
    assert_eq!(seen.amount, r.amount);
    assert_eq!(
        claim(store, &claimer(&r, 5, true, None)).await,
        Claim::InProgress
    );
    assert!(release(store, &r, &ticket, Some(PaymentStatus::Failed), 6).await);
    assert_eq!(only(store, &r).await.status, PaymentStatus::Failed);
}

/// A whole second, so that every store keeps it exactly.
fn at(seconds_from_base: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_780_000_000 + seconds_from_base).expect("time")
}

fn record(namespace: &str, order: &str, reference: &str, created: i64) -> PaymentRecord {
    PaymentRecord {
        account: AccountId::from(GatewayId::NovinPal),
        order_id: format!("{namespace}-{order}").parse().expect("order id"),
        amount: Rial::new(1_250_000),
        gateway_ref: format!("{namespace}-{reference}"),
        status: PaymentStatus::Started,
        created_at: at(created),
        updated_at: at(created),
        state: "v2.signed-state".to_owned(),
        state_name: "pay_novinpal_0a1b2c3d4e5f".to_owned(),
        verify_reference: None,
    }
}

async fn move_to(
    store: &Arc<dyn PaymentStore>,
    r: &PaymentRecord,
    to: PaymentStatus,
    when: i64,
    verify_reference: Option<&str>,
) -> bool {
    store
        .transition(&r.account, &r.gateway_ref, to, at(when), verify_reference)
        .await
        .expect("store answers")
}

async fn only(store: &Arc<dyn PaymentStore>, r: &PaymentRecord) -> PaymentRecord {
    let mut found = store.for_order(&r.order_id).await.expect("store answers");
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

async fn a_record_reads_back_as_written(store: &Arc<dyn PaymentStore>, namespace: &str) {
    let mut written = record(namespace, "read", "ref-read", 0);
    written.amount = Rial::new(u64::from(u32::MAX) * 3);
    store.insert(&written).await.expect("insert");
    assert_eq!(only(store, &written).await, written);
    // References are unique within an account.
    let mut again = record(namespace, "read-2", "ref-read", 1);
    again.order_id = format!("{namespace}-other").parse().expect("order id");
    again.state = "v2.another-signed-state".to_owned();
    assert!(store.insert(&again).await.is_err());
    // The refused one changed nothing of the first, its signed state included.
    assert_eq!(only(store, &written).await, written);
    let unknown = record(namespace, "none", "ref-none", 0);
    assert!(!move_to(store, &unknown, PaymentStatus::Paid, 5, None).await);
    assert!(
        store
            .for_order(&unknown.order_id)
            .await
            .expect("store answers")
            .is_empty()
    );
    // Settled, so that it is not listed among the open payments below.
    assert!(move_to(store, &written, PaymentStatus::Failed, 2, None).await);
}

async fn transitions_follow_the_life_of_a_payment(store: &Arc<dyn PaymentStore>, namespace: &str) {
    let r = record(namespace, "life", "ref-life", 0);
    store.insert(&r).await.expect("insert");
    assert!(!move_to(store, &r, PaymentStatus::Started, 1, None).await);
    assert!(move_to(store, &r, PaymentStatus::Returned, 2, Some("forged")).await);
    // A second return updates the reference only a return carries.
    assert!(move_to(store, &r, PaymentStatus::Returned, 3, Some("TRK-1")).await);
    assert!(move_to(store, &r, PaymentStatus::Pending, 4, None).await);
    // A check leaves the status and marks the time.
    assert!(
        store
            .checked(&r.account, &r.gateway_ref, at(4))
            .await
            .expect("store answers")
    );
    let pending = only(store, &r).await;
    assert_eq!(pending.status, PaymentStatus::Pending);
    assert_eq!(pending.updated_at, at(4));
    assert_eq!(pending.created_at, at(0));
    assert_eq!(pending.verify_reference.as_deref(), Some("TRK-1"));
    assert!(!move_to(store, &r, PaymentStatus::Returned, 5, Some("late")).await);
    assert!(move_to(store, &r, PaymentStatus::Paid, 6, None).await);
    for to in PaymentStatus::ALL {
        assert!(
            !move_to(store, &r, to, 7, None).await,
            "paid is final, yet it moved to {to}"
        );
    }
    assert!(
        !store
            .checked(&r.account, &r.gateway_ref, at(8))
            .await
            .expect("store answers"),
        "a paid payment is not checked"
    );
    let paid = only(store, &r).await;
    assert_eq!((paid.status, paid.updated_at), (PaymentStatus::Paid, at(6)));
    assert_eq!(paid.verify_reference.as_deref(), Some("TRK-1"));
}

async fn of_concurrent_final_transitions_exactly_one_wins(
    store: &Arc<dyn PaymentStore>,
    namespace: &str,
) {
    let r = record(namespace, "race", "ref-race", 0);
    store.insert(&r).await.expect("insert");
    let finals = [
        PaymentStatus::Paid,
        PaymentStatus::Failed,
        PaymentStatus::Expired,
    ];
    let mut tasks = Vec::new();
    for i in 0..30 {
        let (store, r) = (store.clone(), r.clone());
        let to = finals[i % 3];
        tasks.push(tokio::spawn(async move {
            store
                .transition(&r.account, &r.gateway_ref, to, at(10), None)
                .await
                .expect("store answers")
                .then_some(to)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        if let Some(to) = task.await.expect("task") {
            winners.push(to);
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert_eq!(only(store, &r).await.status, winners[0]);
}

async fn open_payments_are_listed_oldest_first(store: &Arc<dyn PaymentStore>, namespace: &str) {
    // Far from the other checks' times, so that their records are not listed here.
    let base = 1_000_000;
    let records: Vec<PaymentRecord> = (0..5)
        .map(|i| {
            record(
                namespace,
                &format!("open-{i}"),
                &format!("ref-open-{i}"),
                base + i,
            )
        })
        .collect();
    // Inserted out of order.
    for i in [3, 0, 4, 1, 2] {
        store.insert(&records[i]).await.expect("insert");
    }
    assert!(move_to(store, &records[1], PaymentStatus::Paid, base + 10, None).await);
    assert!(move_to(store, &records[2], PaymentStatus::Pending, base + 10, None).await);
    assert!(move_to(store, &records[3], PaymentStatus::Returned, base + 3, None).await);
    let listed = |before: i64, limit: usize| {
        let store = store.clone();
        async move {
            store
                .open_before(at(before), limit)
                .await
                .expect("store answers")
                .into_iter()
                .filter(|r| {
                    r.order_id
                        .as_str()
                        .starts_with(&format!("{namespace}-open"))
                })
                .map(|r| r.order_id)
                .collect::<Vec<OrderId>>()
        }
    };
    let ids = |indexes: &[usize]| -> Vec<OrderId> {
        indexes
            .iter()
            .map(|&i| records[i].order_id.clone())
            .collect()
    };
    // Open and last updated before the time: 0 (started), 3 (returned at +3), 4.
    assert_eq!(listed(base + 5, 100).await, ids(&[0, 3, 4]));
    // 2 is pending since +10; 1 is paid, so never listed.
    assert_eq!(listed(base + 11, 100).await, ids(&[0, 2, 3, 4]));
    assert_eq!(listed(base + 3, 100).await, ids(&[0]));
    // Every open payment of the store is one of these, so the limit is theirs.
    assert_eq!(listed(base + 11, 2).await, ids(&[0, 2]));
    // A check moves a payment's time on: 0, checked at +20, waits behind the others.
    assert!(
        store
            .checked(&records[0].account, &records[0].gateway_ref, at(base + 20))
            .await
            .expect("store answers")
    );
    assert_eq!(listed(base + 11, 100).await, ids(&[2, 3, 4]));
    assert_eq!(listed(base + 21, 100).await, ids(&[0, 2, 3, 4]));
}
