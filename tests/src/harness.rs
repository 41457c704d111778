//! One test environment: a gateway sandbox, a `Payments` configured for all seven gateways
//! against it, and an app (axum or actix, router or extractor) serving on loopback.

use std::{
    net::TcpListener,
    sync::{Arc, Mutex},
    time::Duration,
};

use payment_core::{
    CanPay, FailedPayment, GardeshPay, GatewayId, HttpClient, HttpConfig, IdPay, Inopal, KeyRing,
    NovinPal, Payments, PaymentsBuilder, PendingPayment, Receipt, Rejection, ReplayGuard,
    SigningKey, Zarinpal, Zibal, clock::ManualClock, ledger::PaymentStore,
};
use payment_sandbox::{RunningSandbox, Sandbox, SandboxConfig, SandboxGateway};

/// Every gateway, in the order the tests walk them.
pub const GATEWAYS: &[GatewayId] = GatewayId::ALL;

/// Where the apps mount the payment routes: not the root, and not the library's default.
pub const MOUNT: &str = "/shop/pay";

/// How long the adapters wait for a gateway before a verify counts as pending. Faults
/// that delay longer than this make a verify time out.
pub const GATEWAY_TIMEOUT: Duration = Duration::from_millis(1200);

/// The sandbox's name for a gateway.
pub fn sandbox_gateway(id: GatewayId) -> SandboxGateway {
    // The sandbox names its gateways as core does.
    id.as_str()
        .parse()
        .unwrap_or_else(|_| panic!("the sandbox does not simulate {id}"))
}

/// What the app's handlers saw: every hook call (router apps) or handler result
/// (extractor apps) is recorded here.
#[derive(Default)]
pub struct Log {
    pub paid: Mutex<Vec<Receipt>>,
    pub failed: Mutex<Vec<FailedPayment>>,
    pub pending: Mutex<Vec<PendingPayment>>,
    pub rejected: Mutex<Vec<Rejection>>,
}

impl Log {
    /// Records a fulfilment and returns the app's answer text.
    pub fn record_paid(&self, receipt: Receipt) -> String {
        let text = format!("paid {}", receipt.order_id());
        self.paid.lock().unwrap().push(receipt);
        text
    }
    pub fn record_failed(&self, failed: FailedPayment) -> String {
        let text = format!("failed {}", failed.order_id);
        self.failed.lock().unwrap().push(failed);
        text
    }
    pub fn record_pending(&self, pending: PendingPayment) -> String {
        let text = format!("pending {}", pending.order_id);
        self.pending.lock().unwrap().push(pending);
        text
    }
    pub fn record_rejected(&self, rejection: Rejection) -> String {
        let text = format!("rejected: {}", rejection.english());
        self.rejected.lock().unwrap().push(rejection);
        text
    }

    pub fn paid(&self) -> Vec<Receipt> {
        self.paid.lock().unwrap().clone()
    }
    pub fn paid_for(&self, order_id: &str) -> usize {
        self.paid
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.order_id().as_str() == order_id)
            .count()
    }
    pub fn failed(&self) -> Vec<FailedPayment> {
        self.failed.lock().unwrap().clone()
    }
    pub fn pending(&self) -> Vec<PendingPayment> {
        self.pending.lock().unwrap().clone()
    }
    pub fn rejected(&self) -> Vec<Rejection> {
        self.rejected.lock().unwrap().clone()
    }
}

/// Stops a served app when dropped.
pub type AppGuard = Box<dyn Send + Sync>;

/// An app under test. Every flavour serves the same contract on `listener`:
/// - `GET /shop/buy/{gateway}?order={id}&amount={rial}` starts a payment with the framework
///   crate's start helper;
/// - callbacks arrive at `/shop/pay/callback/{gateway}` and every outcome is recorded in
///   the [`Log`].
pub trait Flavor {
    const NAME: &'static str;
    fn serve(listener: TcpListener, payments: Arc<Payments>, log: Arc<Log>) -> AppGuard;
}

/// A running environment.
pub struct Env {
    pub sandbox: RunningSandbox,
    pub clock: ManualClock,
    pub payments: Arc<Payments>,
    pub log: Arc<Log>,
    /// `http://127.0.0.1:PORT`.
    pub app_base: String,
    _app: AppGuard,
}

/// Where an app's claims live.
#[derive(Clone)]
pub enum Claims {
    /// The default: an in-memory guard of its own.
    Memory,
    /// A replay guard, shared when the same one is given to several instances.
    Guard(Arc<dyn ReplayGuard>),
    /// A ledger, which is its own replay guard.
    Ledger(Arc<dyn PaymentStore>),
}

impl Env {
    pub async fn start<F: Flavor>() -> Env {
        Self::start_on::<F>("127.0.0.1").await
    }

    /// Like [`Env::start`], with the app's public URL on `host` (e.g. `localhost`, so that
    /// a browser sees the sandbox at `127.0.0.1` as another site).
    pub async fn start_on<F: Flavor>(host: &str) -> Env {
        Self::start_with::<F>(host, Claims::Memory).await
    }

    /// Like [`Env::start_on`], with the given replay guard instead of an in-memory one.
    pub async fn start_with<F: Flavor>(host: &str, claims: Claims) -> Env {
        Self::start_with_sandbox::<F>(host, claims, SandboxConfig::default()).await
    }

    /// Like [`Env::start_with`], against a sandbox configured with `config`.
    pub async fn start_with_sandbox<F: Flavor>(
        host: &str,
        claims: Claims,
        config: SandboxConfig,
    ) -> Env {
        let sandbox = Sandbox::spawn_on_loopback(config)
            .await
            .expect("sandbox starts");
        let listener = TcpListener::bind("127.0.0.1:0").expect("app port");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let app_base = format!("http://{host}:{port}");
        let clock = ManualClock::starting_now();
        let payments = Arc::new(payments_for(&sandbox, &app_base, clock.clone(), claims));
        let log = Arc::new(Log::default());
        let app = F::serve(listener, payments.clone(), log.clone());
        Env {
            sandbox,
            clock,
            payments,
            log,
            app_base,
            _app: app,
        }
    }

    /// Another instance of the same app (same signing key, same public URL, same sandbox
    /// and clock) on a port of its own, as behind a load balancer; with `claims` on a
    /// shared store, the two instances share their claims.
    pub fn another_instance<F: Flavor>(&self, claims: Claims) -> Instance {
        let listener = TcpListener::bind("127.0.0.1:0").expect("app port");
        listener.set_nonblocking(true).expect("nonblocking");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let payments = Arc::new(payments_for(
            &self.sandbox,
            &self.app_base,
            self.clock.clone(),
            claims,
        ));
        let log = Arc::new(Log::default());
        let app = F::serve(listener, payments.clone(), log.clone());
        Instance {
            base,
            payments,
            log,
            _app: app,
        }
    }

    /// The sandbox's record of the payment for `order_id`.
    pub fn transaction(&self, gateway: GatewayId, order_id: &str) -> payment_sandbox::Transaction {
        self.sandbox
            .handle
            .find_by_order_id(sandbox_gateway(gateway), order_id)
            .unwrap_or_else(|| panic!("the sandbox has no {gateway} payment for {order_id}"))
    }
}

/// A second app instance (see [`Env::another_instance`]).
pub struct Instance {
    /// Where this instance listens (its public URL is the first instance's).
    pub base: String,
    pub payments: Arc<Payments>,
    pub log: Arc<Log>,
    _app: AppGuard,
}

/// All seven adapters pointed at the sandbox, with a short timeout so that delay faults
/// turn into pending outcomes quickly.
pub fn payments_for(
    sandbox: &RunningSandbox,
    app_base: &str,
    clock: ManualClock,
    claims: Claims,
) -> Payments {
    payments_builder(sandbox, app_base, clock, claims)
        .build()
        .expect("payments")
}

/// [`payments_for`]'s configuration, before it is built, for tests that add to it.
pub fn payments_builder(
    sandbox: &RunningSandbox,
    app_base: &str,
    clock: ManualClock,
    claims: Claims,
) -> PaymentsBuilder {
    let http = HttpClient::new(HttpConfig::default().timeout(GATEWAY_TIMEOUT)).expect("client");
    let base = |g| sandbox.base_url_for(sandbox_gateway(g));
    let key = SigningKey::new(1, b"an end-to-end test key of 32+ bytes!".to_vec()).expect("key");
    let builder = Payments::builder(app_base, KeyRing::new(key));
    let builder = match claims {
        Claims::Memory => builder,
        Claims::Guard(guard) => builder.shared_replay_guard(guard),
        Claims::Ledger(ledger) => builder.ledger(ledger),
    };
    builder
        .mount_path(MOUNT)
        .clock(clock)
        .secure_cookies(false)
        .gateway(
            IdPay::new(payment_sandbox::IDPAY_API_KEY)
                .with_base_url(&base(GatewayId::IdPay))
                .expect("idpay url")
                .with_http(http.clone()),
        )
        .gateway(
            NovinPal::new(payment_sandbox::NOVINPAL_API_KEY)
                .with_base_url(&base(GatewayId::NovinPal))
                .expect("novinpal url")
                .with_http(http.clone()),
        )
        .gateway(
            Inopal::new(payment_sandbox::INOPAL_GATEWAY_ID)
                .with_base_url(&base(GatewayId::Inopal))
                .expect("inopal url")
                .with_http(http.clone()),
        )
        .gateway(
            CanPay::new(payment_sandbox::CANPAY_MERCHANT)
                .with_base_url(&base(GatewayId::CanPay))
                .expect("canpay url")
                .with_http(http.clone()),
        )
        .gateway(
            GardeshPay::new()
                .with_base_urls(&base(GatewayId::GardeshPay), &base(GatewayId::GardeshPay))
                .expect("gardeshpay urls")
                .with_http(http.clone()),
        )
        .gateway(
            Zarinpal::new(payment_sandbox::ZARINPAL_MERCHANT_ID)
                .with_base_url(&base(GatewayId::Zarinpal))
                .expect("zarinpal url")
                .with_http(http.clone()),
        )
        .gateway(
            Zibal::new(payment_sandbox::ZIBAL_MERCHANT)
                .with_base_url(&base(GatewayId::Zibal))
                .expect("zibal url")
                .with_http(http),
        )
}
