//! The reconciler against the gateway sandbox, for every gateway, with the ledger and the
//! claims in SQLite: a buyer who pays and never comes back is settled paid, once; a
//! payment never paid expires without fulfilment.

#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(clippy::panic, clippy::indexing_slicing)]

use std::sync::{Arc, Mutex};

use payment_core::{
    GatewayId, Order, Payments, Receipt, Reconciler, Rial,
    clock::ManualClock,
    ledger::{PaymentStatus, PaymentStore},
    time::Duration,
};
use payment_e2e::{
    databases::{TempDb, fresh_postgres},
    harness::{Claims, payments_builder, sandbox_gateway},
    scenarios::{CHEAP, order_id},
};
use payment_sandbox::{Action, RunningSandbox, Sandbox, SandboxConfig};
use payment_sqlx::SqlStore;

/// An app process without a web server: the library, the sandbox, a SQLite ledger, and a
/// fulfilment hook that writes down what it fulfils.
struct App {
    sandbox: Arc<RunningSandbox>,
    payments: Payments,
    store: Arc<SqlStore>,
    clock: ManualClock,
    fulfilled: Arc<Mutex<Vec<Receipt>>>,
    _db: Option<TempDb>,
}

impl App {
    async fn start() -> App {
        let sandbox = Sandbox::spawn_on_loopback(SandboxConfig::default())
            .await
            .expect("sandbox");
        let db = TempDb::new("reconciler");
        let url = db.url();
        let mut app = App::on(
            Arc::new(sandbox),
            &url,
            ManualClock::starting_now(),
            Arc::default(),
        )
        .await;
        app._db = Some(db);
        app
    }

    /// An app on the database at `url`, with the sandbox, clock and fulfilment log given
    /// (another instance of an app shares all three).
    async fn on(
        sandbox: Arc<RunningSandbox>,
        url: &str,
        clock: ManualClock,
        fulfilled: Arc<Mutex<Vec<Receipt>>>,
    ) -> App {
        let store = Arc::new(SqlStore::connect(url).await.expect("database"));
        store.migrate().await.expect("migrate");
        let log = fulfilled.clone();
        let payments = payments_builder(
            &sandbox,
            "http://127.0.0.1:9",
            clock.clone(),
            Claims::Ledger(store.clone()),
        )
        .fulfil(move |receipt: Receipt| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(receipt);
                Ok::<(), String>(())
            }
        })
        .build()
        .expect("payments");
        App {
            sandbox,
            payments,
            store,
            clock,
            fulfilled,
            _db: None,
        }
    }

    async fn start_payment(&self, gateway: GatewayId, order: &str) {
        let order = Order::new(order.parse().unwrap(), Rial::new(CHEAP));
        self.payments.start(gateway, &order).await.expect("starts");
    }

    /// The buyer on the gateway's page; the callback it would follow is dropped.
    fn buyer_acts_and_leaves(&self, gateway: GatewayId, order: &str, action: Action) {
        let key = self.transaction(gateway, order).key;
        self.sandbox
            .handle
            .act(sandbox_gateway(gateway), &key, action)
            .expect("the sandbox takes the action");
    }

    fn transaction(&self, gateway: GatewayId, order: &str) -> payment_sandbox::Transaction {
        self.sandbox
            .handle
            .find_by_order_id(sandbox_gateway(gateway), order)
            .expect("the sandbox has the payment")
    }

    async fn status(&self, order: &str) -> PaymentStatus {
        let records = self.store.for_order(&order.parse().unwrap()).await.unwrap();
        assert_eq!(records.len(), 1);
        records[0].status
    }

    fn fulfilled_orders(&self) -> Vec<String> {
        self.fulfilled
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.order_id().as_str().to_owned())
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_who_pays_and_never_returns_is_settled_paid_once_on_every_gateway() {
    let app = App::start().await;
    let reconciler = Reconciler::new(&app.payments).unwrap();
    let mut orders = Vec::new();
    for &gateway in GatewayId::ALL {
        let order = order_id("gone");
        app.start_payment(gateway, &order).await;
        app.buyer_acts_and_leaves(gateway, &order, Action::Pay);
        orders.push((gateway, order));
    }
    app.clock.advance(Duration::minutes(3));
    let report = reconciler.run_once().await.unwrap();
    // GardeshPay's verify needs the tracking number only the buyer's return carries, and
    // its document offers no inquiry: without the return it cannot be confirmed.
    let every = GatewayId::ALL.len();
    assert_eq!(report.checked, every, "{report:?}");
    assert_eq!(report.paid, every - 1, "{report:?}");
    for (gateway, order) in &orders {
        let txn = app.transaction(*gateway, order);
        if *gateway == GatewayId::GardeshPay {
            assert_eq!(app.status(order).await, PaymentStatus::Started);
            assert_eq!(txn.successful_verifies, 0);
        } else {
            assert_eq!(app.status(order).await, PaymentStatus::Paid, "{gateway}");
            assert_eq!(txn.successful_verifies, 1, "{gateway}");
        }
    }
    // A second pass and a third find nothing more to fulfil.
    app.clock.advance(Duration::minutes(3));
    reconciler.run_once().await.unwrap();
    app.clock.advance(Duration::minutes(3));
    reconciler.run_once().await.unwrap();
    let mut fulfilled = app.fulfilled_orders();
    fulfilled.sort();
    let mut expected: Vec<String> = orders
        .iter()
        .filter(|(g, _)| *g != GatewayId::GardeshPay)
        .map(|(_, o)| o.clone())
        .collect();
    expected.sort();
    assert_eq!(fulfilled, expected);
    for (gateway, order) in &orders {
        let verifies = app.transaction(*gateway, order).successful_verifies;
        assert!(verifies <= 1, "{gateway}: {verifies}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_never_paid_expires_without_fulfilment_on_every_gateway() {
    let app = App::start().await;
    let expired: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = expired.clone();
    let reconciler = Reconciler::new(&app.payments)
        .unwrap()
        .on_expired(move |record| {
            let seen = seen.clone();
            async move {
                seen.lock()
                    .unwrap()
                    .push(record.order_id.as_str().to_owned())
            }
        });
    let mut orders = Vec::new();
    for (i, &gateway) in GatewayId::ALL.iter().enumerate() {
        let order = order_id("unpaid");
        app.start_payment(gateway, &order).await;
        // Some buyers cancel on the page, some just leave it open.
        if i % 2 == 0 {
            app.buyer_acts_and_leaves(gateway, &order, Action::Cancel);
        }
        orders.push((gateway, order));
    }
    app.clock.advance(Duration::minutes(3));
    let report = reconciler.run_once().await.unwrap();
    let every = GatewayId::ALL.len();
    assert_eq!(
        (report.checked, report.still_open),
        (every, every),
        "{report:?}"
    );
    // Past every window: the state's 30 minutes and the longest verify window, Zibal's 20.
    app.clock.advance(Duration::minutes(60));
    let report = reconciler.run_once().await.unwrap();
    assert_eq!(report.expired, every, "{report:?}");
    for (gateway, order) in &orders {
        assert_eq!(app.status(order).await, PaymentStatus::Expired, "{gateway}");
        assert_eq!(app.transaction(*gateway, order).successful_verifies, 0);
    }
    assert!(app.fulfilled_orders().is_empty());
    let mut expired = expired.lock().unwrap().clone();
    expired.sort();
    let mut expected: Vec<String> = orders.into_iter().map(|(_, o)| o).collect();
    expected.sort();
    assert_eq!(expired, expected);
}

/// Two instances on one database, each running its reconciler at the same time: every
/// payment is verified and fulfilled once.
async fn racing_instances_fulfil_each_payment_once(url: &str) {
    let sandbox = Arc::new(
        Sandbox::spawn_on_loopback(SandboxConfig::default())
            .await
            .expect("sandbox"),
    );
    let clock = ManualClock::starting_now();
    let fulfilled: Arc<Mutex<Vec<Receipt>>> = Arc::default();
    let a = Arc::new(App::on(sandbox.clone(), url, clock.clone(), fulfilled.clone()).await);
    let b = Arc::new(App::on(sandbox, url, clock.clone(), fulfilled).await);
    let mut orders = Vec::new();
    for &gateway in GatewayId::ALL {
        // GardeshPay cannot be confirmed without the buyer's return (see above).
        if gateway == GatewayId::GardeshPay {
            continue;
        }
        for _ in 0..3 {
            let order = order_id("race");
            a.start_payment(gateway, &order).await;
            a.buyer_acts_and_leaves(gateway, &order, Action::Pay);
            orders.push((gateway, order));
        }
    }
    clock.advance(Duration::minutes(3));
    let mut tasks = Vec::new();
    for app in [a.clone(), b.clone(), a.clone(), b.clone()] {
        tasks.push(tokio::spawn(async move {
            Reconciler::new(&app.payments)
                .unwrap()
                .run_once()
                .await
                .unwrap()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // What one pass found in progress at the other is settled by a later pass.
    clock.advance(Duration::minutes(3));
    Reconciler::new(&b.payments)
        .unwrap()
        .run_once()
        .await
        .unwrap();
    let mut got = a.fulfilled_orders();
    got.sort();
    let mut expected: Vec<String> = orders.iter().map(|(_, o)| o.clone()).collect();
    expected.sort();
    assert_eq!(got, expected, "each payment exactly once");
    for (gateway, order) in &orders {
        let txn = a.transaction(*gateway, order);
        assert_eq!(txn.successful_verifies, 1, "{gateway}");
        assert_eq!(a.status(order).await, PaymentStatus::Paid);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_reconcilers_racing_on_one_sqlite_database_fulfil_each_payment_once() {
    let db = TempDb::new("reconciler-race");
    racing_instances_fulfil_each_payment_once(&db.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_reconcilers_racing_on_one_postgres_database_fulfil_each_payment_once() {
    let Some(url) = fresh_postgres("two_reconcilers_racing_on_postgres").await else {
        return;
    };
    racing_instances_fulfil_each_payment_once(&url).await;
}
