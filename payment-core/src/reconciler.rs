//! The reconciler: the background task that settles the payments whose buyer never came
//! back (a closed tab, a dropped connection) and those a dying process left unverified.

use std::{collections::BTreeMap, fmt, future::Future, sync::Arc, time::Duration as StdDuration};

use time::Duration;
use tracing::Instrument;

use crate::{
    ConfigError, GatewayId, Payments,
    ledger::{PaymentRecord, PaymentStatus, PaymentStore, StoreError},
    payments::Checked,
    replay::BoxFuture,
};

type ExpiredHook = Arc<dyn Fn(PaymentRecord) -> BoxFuture<'static, ()> + Send + Sync>;

/// Settles open payments from the ledger: every [`every`](Reconciler::every) it takes the
/// payments still started, returned or pending whose last step (or last check) is older
/// than the [`grace`](Reconciler::grace) period, verifies each again on the same path as a
/// buyer's return (the same replay guard claim, the same fulfilment hook, so a payment is
/// fulfilled once whichever path gets there first), and marks a payment the gateway never
/// confirmed [`Expired`](PaymentStatus::Expired) once its verify window has passed.
///
/// Several reconcilers (one per app instance) may run on one ledger and one shared replay
/// guard: the guard's claim decides which one verifies, and each ledger step happens once.
///
/// A payment's window closes at its start plus the state's life (the time the buyer has to
/// pay and return) plus the gateway's verify window: IDPay 10 minutes (its document:
/// verify within 10 minutes of the return, or the payment is refunded), CanPay 15 minutes
/// (refunded after 15 minutes unverified), Zibal 20 minutes (its documentation refunds a
/// lazy payment not verified within 20 minutes of being paid, and names no other window).
/// The other gateways document none (Zarinpal refunds an unverified payment "within the
/// set time" without naming it); 15 minutes is assumed. Set another with
/// [`verify_window`](Reconciler::verify_window).
///
/// A GardeshPay payment can be verified only with the tracking number its return carries:
/// one whose buyer never returned cannot be checked, and expires.
///
/// ```no_run
/// # async fn demo(payments: payment_core::Payments) -> Result<(), payment_core::ConfigError> {
/// use std::time::Duration;
/// use payment_core::Reconciler;
/// let task = Reconciler::new(&payments)?.every(Duration::from_secs(30)).spawn();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Reconciler {
    payments: Payments,
    ledger: Arc<dyn PaymentStore>,
    interval: StdDuration,
    grace: Duration,
    batch: usize,
    windows: BTreeMap<GatewayId, Duration>,
    on_expired: Option<ExpiredHook>,
}

/// What one pass of the reconciler did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Open payments looked at.
    pub checked: usize,
    /// Verified now and handed to the fulfilment hook.
    pub paid: usize,
    /// Found fulfilled already; the ledger now says so.
    pub paid_before: usize,
    /// Past their window, never confirmed: now expired.
    pub expired: usize,
    /// Still open (not paid yet, the gateway did not answer, or another instance is on it).
    pub still_open: usize,
    /// Records that could not be checked (their state does not open, their account is
    /// not configured). They are logged, and expire with their window.
    pub unusable: usize,
}

/// The verify window assumed for a gateway whose document names none.
const DEFAULT_WINDOW: Duration = Duration::minutes(15);

impl Reconciler {
    /// A reconciler for `payments`, which needs a ledger
    /// ([`PaymentsBuilder::ledger`](crate::PaymentsBuilder::ledger)) and a fulfilment hook
    /// ([`PaymentsBuilder::fulfil`](crate::PaymentsBuilder::fulfil)): without the hook, a
    /// payment it verified would reach no one.
    ///
    /// Defaults: a pass every minute, a grace of two minutes after a payment's last step,
    /// at most 100 payments a pass.
    pub fn new(payments: &Payments) -> Result<Self, ConfigError> {
        let ledger = payments
            .ledger()
            .cloned()
            .ok_or(ConfigError::Invalid("the reconciler needs a ledger"))?;
        if !payments.has_fulfil_hook() {
            return Err(ConfigError::Invalid(
                "the reconciler needs a fulfilment hook (PaymentsBuilder::fulfil)",
            ));
        }
        let windows = BTreeMap::from([
            (GatewayId::IdPay, Duration::minutes(10)),
            (GatewayId::CanPay, Duration::minutes(15)),
            (GatewayId::Zarinpal, Duration::minutes(15)),
            (GatewayId::Zibal, Duration::minutes(20)),
        ]);
        Ok(Self {
            payments: payments.clone(),
            ledger,
            interval: StdDuration::from_secs(60),
            grace: Duration::minutes(2),
            batch: 100,
            windows,
            on_expired: None,
        })
    }

    /// How often a pass runs (default: every minute).
    pub fn every(mut self, interval: StdDuration) -> Self {
        self.interval = interval.max(StdDuration::from_millis(10));
        self
    }

    /// How long after a payment's last step it is left to its buyer (default: two
    /// minutes).
    pub fn grace(mut self, grace: StdDuration) -> Self {
        self.grace = Duration::try_from(grace).unwrap_or(Duration::minutes(2));
        self
    }

    /// How long `gateway` keeps a paid payment verifiable after the buyer's time to pay
    /// (defaults in [`Reconciler`]'s description).
    pub fn verify_window(mut self, gateway: GatewayId, window: StdDuration) -> Self {
        self.windows.insert(
            gateway,
            Duration::try_from(window).unwrap_or(DEFAULT_WINDOW),
        );
        self
    }

    /// The most payments one pass looks at (default 100); the rest wait for the next.
    pub fn batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// What the app does when a payment expires (mark its order unpaid, offer another
    /// try). Called once per payment, by the reconciler that recorded the expiry.
    pub fn on_expired<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(PaymentRecord) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_expired = Some(Arc::new(move |record| Box::pin(hook(record))));
        self
    }

    /// When the window of a payment closes.
    fn deadline(&self, record: &PaymentRecord) -> time::OffsetDateTime {
        let window = self
            .windows
            .get(&record.account.gateway())
            .copied()
            .unwrap_or(DEFAULT_WINDOW);
        // A time read from the store may sit at the end of the calendar: no overflow.
        self.payments
            .state_ttl()
            .checked_add(window)
            .and_then(|span| record.created_at.checked_add(span))
            .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc())
    }

    /// One pass: checks the open payments that are due, now. Only a ledger that cannot
    /// be read is an error; a step that cannot be written is logged, and the next pass
    /// tries again.
    pub async fn run_once(&self) -> Result<ReconcileReport, StoreError> {
        let now = self.payments.now();
        let due = self
            .ledger
            .open_before(
                now.checked_sub(self.grace)
                    .unwrap_or(time::PrimitiveDateTime::MIN.assume_utc()),
                self.batch,
            )
            .await?;
        let mut report = ReconcileReport::default();
        for record in due {
            report.checked += 1;
            let span = tracing::info_span!(
                "payment_reconcile",
                account = %record.account,
                order_id = %record.order_id
            );
            match self
                .payments
                .check_again(&record)
                .instrument(span.clone())
                .await
            {
                Checked::Paid => {
                    tracing::info!(parent: &span, "payment reconciled: paid");
                    report.paid += 1;
                    continue;
                }
                Checked::PaidBefore => {
                    report.paid_before += 1;
                    continue;
                }
                Checked::Open(kind) => {
                    tracing::debug!(parent: &span, outcome = kind, "payment still open");
                }
                Checked::Unusable(why) => {
                    tracing::warn!(parent: &span, "a ledger record cannot be checked: {why}");
                    report.unusable += 1;
                }
            }
            let now = self.payments.now();
            if now < self.deadline(&record) {
                report.still_open += 1;
                // Checked again only after another grace period, so that an abandoned
                // payment costs the gateway one verify per grace period, not one per pass,
                // and the next pass reaches the payments behind it.
                if let Err(e) = self
                    .ledger
                    .checked(&record.account, &record.gateway_ref, now)
                    .await
                {
                    tracing::warn!(parent: &span, error = %e, "could not record a check");
                }
                continue;
            }
            let expired = self
                .ledger
                .transition(
                    &record.account,
                    &record.gateway_ref,
                    PaymentStatus::Expired,
                    now,
                    None,
                )
                .await;
            let expired = match expired {
                Ok(expired) => expired,
                Err(e) => {
                    // The next pass tries again; the payments after this one go on.
                    tracing::warn!(parent: &span, error = %e, "could not record an expiry");
                    continue;
                }
            };
            if expired {
                tracing::info!(parent: &span, "payment reconciled: expired");
                report.expired += 1;
                if let Some(hook) = &self.on_expired {
                    let mut record = record;
                    record.status = PaymentStatus::Expired;
                    hook(record).await;
                }
            }
        }
        Ok(report)
    }

    /// Runs a pass every [`every`](Reconciler::every) on the current tokio runtime, for
    /// as long as the returned task is not aborted. A ledger that cannot be read is
    /// logged, and the next pass tries again.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(self.interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match self.run_once().await {
                    Ok(report) if report.checked > 0 => {
                        tracing::debug!(?report, "reconciler pass");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "reconciler could not read the ledger"),
                }
            }
        })
    }
}

impl fmt::Debug for Reconciler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reconciler")
            .field("interval", &self.interval)
            .field("grace", &self.grace)
            .field("batch", &self.batch)
            .field("windows", &self.windows)
            .finish_non_exhaustive()
    }
}
