//! The ledger and the reconciler through the public API, with a scripted gateway: a buyer
//! who never returns, a payment never paid, a fulfilment hook that fails, reconcilers and
//! returns racing, and a restart that keeps the ledger and the guard. Each scenario runs
//! twice: with the ledger as the replay guard (what an app gets when it sets no guard),
//! and with a replay guard beside the ledger.

// Tests fail by panicking: unwrapping, expecting and indexing say what broke.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

mod common;

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration as StdDuration,
};

use common::scripted::{Scripted, keys, paid, timeout};
use payment_core::{
    CallbackRequest, Error, GatewayId, MemoryReplayGuard, NotPaid, Order, OrderId, Payments,
    Receipt, ReconcileReport, Reconciler, Rejection, Rial,
    clock::ManualClock,
    error::{GatewayCode, GatewayError, Operation},
    gateways::novinpal::NovinPalCode,
    ledger::{MemoryPaymentStore, PaymentRecord, PaymentStatus, PaymentStore},
    outcome::PendingReason,
    time::Duration,
};

/// A shop with a ledger and a fulfilment hook that counts what it fulfils.
struct Shop {
    payments: Payments,
    gateway: Scripted,
    clock: ManualClock,
    ledger: Arc<MemoryPaymentStore>,
    fulfilled: Arc<Mutex<Vec<String>>>,
    failing_hook: Arc<AtomicBool>,
}

/// What a restarted process keeps: the ledger and the replay guard (a database), the
/// gateway and the time.
struct Kept {
    gateway: Scripted,
    clock: ManualClock,
    ledger: Arc<MemoryPaymentStore>,
    /// `None`: the ledger claims each payment itself.
    guard: Option<Arc<MemoryReplayGuard>>,
    fulfilled: Arc<Mutex<Vec<String>>>,
}

impl Kept {
    /// The ledger alone: it is the replay guard too.
    fn ledger_claims() -> Kept {
        Kept {
            gateway: Scripted::default(),
            clock: ManualClock::starting_now(),
            ledger: Arc::new(MemoryPaymentStore::new()),
            guard: None,
            fulfilled: Arc::default(),
        }
    }

    /// A replay guard beside the ledger.
    fn guard_claims() -> Kept {
        Kept {
            guard: Some(Arc::new(MemoryReplayGuard::new())),
            ..Kept::ledger_claims()
        }
    }

    /// A process: a new `Payments` over what was kept.
    fn process(&self) -> Shop {
        let fulfilled = self.fulfilled.clone();
        let failing_hook = Arc::new(AtomicBool::new(false));
        let failing = failing_hook.clone();
        let mut builder = Payments::builder("https://shop.example", keys(42))
            .gateway(self.gateway.clone())
            .clock(self.clock.clone())
            .ledger(self.ledger.clone());
        if let Some(guard) = &self.guard {
            builder = builder.shared_replay_guard(guard.clone());
        }
        let payments = builder
            .fulfil(move |receipt: Receipt| {
                let fulfilled = fulfilled.clone();
                let failing = failing.load(Ordering::SeqCst);
                async move {
                    if failing {
                        return Err("the shop's database is down");
                    }
                    fulfilled
                        .lock()
                        .unwrap()
                        .push(receipt.order_id().as_str().to_owned());
                    Ok(())
                }
            })
            .build()
            .unwrap();
        Shop {
            payments,
            gateway: self.gateway.clone(),
            clock: self.clock.clone(),
            ledger: self.ledger.clone(),
            fulfilled: self.fulfilled.clone(),
            failing_hook,
        }
    }
}

impl Shop {
    fn fulfilled(&self) -> Vec<String> {
        self.fulfilled.lock().unwrap().clone()
    }

    async fn start(&self, order_id: &str) -> (String, (String, String)) {
        let order = Order::new(order_id.parse().unwrap(), Rial::new(50_000));
        let started = self
            .payments
            .start(GatewayId::NovinPal, &order)
            .await
            .unwrap();
        let cookie = started.cookie();
        (
            started.gateway_ref().to_owned(),
            (cookie.name.clone(), cookie.value.clone()),
        )
    }

    async fn record(&self, order_id: &str) -> PaymentRecord {
        let records = self
            .ledger
            .for_order(&order_id.parse::<OrderId>().unwrap())
            .await
            .unwrap();
        assert_eq!(records.len(), 1, "{records:?}");
        records.into_iter().next().unwrap()
    }

    async fn status(&self, order_id: &str) -> PaymentStatus {
        self.record(order_id).await.status
    }

    /// The buyer's return, with the state cookie.
    async fn return_with(
        &self,
        reference: &str,
        cookie: &(String, String),
    ) -> Result<Receipt, NotPaid> {
        let request = CallbackRequest::from_get(&format!("ref={reference}&ok=1"))
            .unwrap()
            .with_cookie(cookie.0.clone(), cookie.1.clone());
        self.payments
            .handle_callback(GatewayId::NovinPal, &request)
            .await
            .outcome
    }

    fn reconciler(&self) -> Reconciler {
        Reconciler::new(&self.payments).unwrap()
    }

    async fn reconcile(&self) -> ReconcileReport {
        self.reconciler().run_once().await.unwrap()
    }
}

fn not_paid_yet() -> Result<payment_core::adapter::Verified, Error> {
    Err(Error::Gateway(GatewayError {
        gateway: GatewayId::NovinPal,
        operation: Operation::Verify,
        code: GatewayCode::NovinPal(NovinPalCode::Failed),
        http_status: Some(200),
        message: None,
    }))
}

async fn start_records_the_payment_before_the_buyer_is_sent(kept: Kept) {
    let shop = kept.process();
    let (reference, cookie) = shop.start("L-1").await;
    let record = shop.record("L-1").await;
    assert_eq!(record.status, PaymentStatus::Started);
    assert_eq!(record.gateway_ref, reference);
    assert_eq!(record.amount, Rial::new(50_000));
    assert_eq!(record.account, GatewayId::NovinPal.into());
    assert_eq!(record.created_at, shop.payments.now());
    // The record holds the same signed state the buyer's cookie does.
    assert_eq!((record.state_name.clone(), record.state.clone()), cookie);
    assert!(!format!("{record:?}").contains(&reference), "{record:?}");
}

async fn a_return_is_recorded_and_paid_once_through_the_hook(kept: Kept) {
    let shop = kept.process();
    let (reference, cookie) = shop.start("L-2").await;
    assert!(shop.return_with(&reference, &cookie).await.is_ok());
    assert_eq!(shop.status("L-2").await, PaymentStatus::Paid);
    assert_eq!(shop.fulfilled(), ["L-2"]);
    // A replay is refused and fulfils nothing more.
    assert!(matches!(
        shop.return_with(&reference, &cookie).await,
        Err(NotPaid::Rejected(Rejection::Replay))
    ));
    assert_eq!(shop.fulfilled(), ["L-2"]);
    // Nothing is left for the reconciler.
    shop.clock.advance(Duration::minutes(5));
    assert_eq!(shop.reconcile().await, ReconcileReport::default());
}

async fn a_buyer_who_never_returns_is_reconciled_to_paid_once(kept: Kept) {
    let shop = kept.process();
    shop.start("L-3").await;
    // Within the grace period the payment is left to its buyer.
    shop.clock.advance(Duration::minutes(1));
    assert_eq!(shop.reconcile().await.checked, 0);
    assert_eq!(shop.gateway.calls(), 0);
    // The buyer paid and closed the tab.
    shop.clock.advance(Duration::minutes(2));
    let report = shop.reconcile().await;
    assert_eq!(report.checked, 1);
    assert_eq!(report.paid, 1);
    assert_eq!(shop.fulfilled(), ["L-3"]);
    assert_eq!(shop.status("L-3").await, PaymentStatus::Paid);
    // Later passes leave it alone.
    shop.clock.advance(Duration::minutes(5));
    assert_eq!(shop.reconcile().await.checked, 0);
    assert_eq!(shop.gateway.calls(), 1);
}

async fn a_payment_never_paid_stays_open_in_its_window_then_expires_without_fulfilment(kept: Kept) {
    let shop = kept.process();
    let expired = Arc::new(Mutex::new(Vec::new()));
    let seen = expired.clone();
    let reconciler = shop.reconciler().on_expired(move |record: PaymentRecord| {
        let seen = seen.clone();
        async move { seen.lock().unwrap().push(record) }
    });
    shop.start("L-4").await;
    for _ in 0..20 {
        shop.gateway.then(not_paid_yet());
    }
    shop.clock.advance(Duration::minutes(3));
    let report = reconciler.run_once().await.unwrap();
    assert_eq!((report.checked, report.still_open), (1, 1), "{report:?}");
    assert_eq!(shop.status("L-4").await, PaymentStatus::Started);
    // Checked again only once another grace period has passed since the last check.
    shop.clock.advance(Duration::minutes(1));
    assert_eq!(reconciler.run_once().await.unwrap().checked, 0);
    assert_eq!(shop.gateway.calls(), 1);
    shop.clock.advance(Duration::minutes(2));
    assert_eq!(reconciler.run_once().await.unwrap().still_open, 1);
    assert_eq!(shop.gateway.calls(), 2);
    // NovinPal documents no verify window: the state's 30 minutes and 15 more, from the
    // start. The first pass after that, a grace period after the last check, closes it.
    shop.clock.advance(Duration::minutes(38));
    assert_eq!(reconciler.run_once().await.unwrap().still_open, 1);
    shop.clock.advance(Duration::minutes(3));
    let report = reconciler.run_once().await.unwrap();
    assert_eq!(report.expired, 1, "{report:?}");
    assert_eq!(shop.status("L-4").await, PaymentStatus::Expired);
    assert!(shop.fulfilled().is_empty());
    let expired = expired.lock().unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].order_id.as_str(), "L-4");
    assert_eq!(expired[0].status, PaymentStatus::Expired);
}

async fn a_pending_return_is_finished_by_the_reconciler(kept: Kept) {
    let shop = kept.process();
    let (reference, cookie) = shop.start("L-5").await;
    shop.gateway.then(Err(timeout()));
    assert!(matches!(
        shop.return_with(&reference, &cookie).await,
        Err(NotPaid::Pending(_))
    ));
    assert_eq!(shop.status("L-5").await, PaymentStatus::Pending);
    shop.clock.advance(Duration::minutes(3));
    let mut again = paid("L-5", 50_000);
    again.already_verified = true;
    shop.gateway.then(Ok(again));
    assert_eq!(shop.reconcile().await.paid, 1);
    assert_eq!(shop.fulfilled(), ["L-5"]);
    // The buyer's reload afterwards is a replay.
    assert!(matches!(
        shop.return_with(&reference, &cookie).await,
        Err(NotPaid::Rejected(Rejection::Replay))
    ));
    assert_eq!(shop.fulfilled(), ["L-5"]);
}

async fn a_failing_hook_leaves_the_payment_pending_and_the_reconciler_fulfils_it_later(kept: Kept) {
    let shop = kept.process();
    let (reference, cookie) = shop.start("L-6").await;
    shop.failing_hook.store(true, Ordering::SeqCst);
    let outcome = shop.return_with(&reference, &cookie).await;
    let Err(NotPaid::Pending(pending)) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(pending.reason, PendingReason::Fulfilment);
    assert_eq!(shop.status("L-6").await, PaymentStatus::Pending);
    assert!(shop.fulfilled().is_empty());
    shop.failing_hook.store(false, Ordering::SeqCst);
    shop.clock.advance(Duration::minutes(3));
    assert_eq!(shop.reconcile().await.paid, 1);
    assert_eq!(shop.fulfilled(), ["L-6"]);
    assert_eq!(shop.status("L-6").await, PaymentStatus::Paid);
}

async fn racing_reconcilers_and_a_late_return_fulfil_each_payment_once(kept: Kept) {
    let (a, b) = (kept.process(), kept.process());
    let mut returns = Vec::new();
    for i in 0..20 {
        returns.push(a.start(&format!("R-{i}")).await);
    }
    kept.clock.advance(Duration::minutes(3));
    let a = Arc::new(a);
    let b = Arc::new(b);
    let mut tasks = Vec::new();
    for shop in [a.clone(), b.clone(), a.clone(), b.clone()] {
        tasks.push(tokio::spawn(async move {
            shop.reconcile().await;
        }));
    }
    // The buyers come back while the reconcilers run.
    for (reference, cookie) in &returns {
        let shop = b.clone();
        let (reference, cookie) = (reference.clone(), cookie.clone());
        tasks.push(tokio::spawn(async move {
            shop.return_with(&reference, &cookie).await.ok();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Whatever the guard refused as in progress is settled by a later pass.
    kept.clock.advance(Duration::minutes(3));
    a.reconcile().await;
    let mut fulfilled = a.fulfilled();
    fulfilled.sort();
    let mut expected: Vec<String> = (0..20).map(|i| format!("R-{i}")).collect();
    expected.sort();
    assert_eq!(fulfilled, expected, "each payment exactly once");
    for i in 0..20 {
        assert_eq!(a.status(&format!("R-{i}")).await, PaymentStatus::Paid);
    }
}

async fn after_a_restart_a_saved_return_is_refused_and_an_unfinished_verify_is_reconciled(
    kept: Kept,
) {
    let before = kept.process();
    let (paid_ref, paid_cookie) = before.start("K-1").await;
    assert!(before.return_with(&paid_ref, &paid_cookie).await.is_ok());
    // The process dies while a second payment's verify is in flight: the ledger says
    // returned, nothing was fulfilled.
    let (_, _) = before.start("K-2").await;
    let record = before.record("K-2").await;
    assert!(
        before
            .ledger
            .transition(
                &record.account,
                &record.gateway_ref,
                PaymentStatus::Returned,
                before.payments.now(),
                None,
            )
            .await
            .unwrap()
    );
    drop(before);

    let after = kept.process();
    assert!(matches!(
        after.return_with(&paid_ref, &paid_cookie).await,
        Err(NotPaid::Rejected(Rejection::Replay))
    ));
    kept.clock.advance(Duration::minutes(3));
    let report = after.reconcile().await;
    assert_eq!(report.paid, 1, "{report:?}");
    assert_eq!(after.fulfilled(), ["K-1", "K-2"]);
    assert_eq!(kept.gateway.calls(), 2);
}

#[tokio::test]
async fn a_reconciler_needs_a_ledger_and_a_hook() {
    let without_ledger = Payments::builder("https://shop.example", keys(1))
        .gateway(Scripted::default())
        .fulfil(|_: Receipt| async { Ok::<(), String>(()) })
        .build()
        .unwrap();
    assert!(Reconciler::new(&without_ledger).is_err());
    let without_hook = Payments::builder("https://shop.example", keys(1))
        .gateway(Scripted::default())
        .ledger(Arc::new(MemoryPaymentStore::new()))
        .build()
        .unwrap();
    assert!(Reconciler::new(&without_hook).is_err());
}

async fn a_spawned_reconciler_settles_on_its_own(kept: Kept) {
    let shop = kept.process();
    shop.start("S-1").await;
    shop.clock.advance(Duration::minutes(3));
    let task = shop
        .reconciler()
        .every(StdDuration::from_millis(20))
        .spawn();
    let calls = AtomicUsize::new(0);
    while shop.fulfilled().is_empty() && calls.fetch_add(1, Ordering::SeqCst) < 250 {
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    task.abort();
    assert_eq!(shop.fulfilled(), ["S-1"]);
}

/// Runs each scenario with the ledger claiming payments and with a guard beside it.
macro_rules! with_either_claims {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            use super::Kept;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn ledger_claims() {
                super::$scenario(Kept::ledger_claims()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn guard_claims() {
                super::$scenario(Kept::guard_claims()).await;
            }
        }
    )*};
}

with_either_claims!(
    start_records_the_payment_before_the_buyer_is_sent,
    a_return_is_recorded_and_paid_once_through_the_hook,
    a_buyer_who_never_returns_is_reconciled_to_paid_once,
    a_payment_never_paid_stays_open_in_its_window_then_expires_without_fulfilment,
    a_pending_return_is_finished_by_the_reconciler,
    a_failing_hook_leaves_the_payment_pending_and_the_reconciler_fulfils_it_later,
    racing_reconcilers_and_a_late_return_fulfil_each_payment_once,
    after_a_restart_a_saved_return_is_refused_and_an_unfinished_verify_is_reconciled,
    a_spawned_reconciler_settles_on_its_own,
);
