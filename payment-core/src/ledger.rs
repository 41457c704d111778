//! The ledger of payments: every payment [`Payments::start`](crate::Payments::start)
//! creates is recorded before the buyer is sent to pay, and every step it takes after
//! that, so that a payment whose buyer never returns, or whose verify a dying process
//! left unfinished, is found again and settled by the
//! [`Reconciler`](crate::Reconciler).
//!
//! The state cookie stays the proof that binds a callback to its buyer; the ledger is what
//! survives a crash. [`MemoryPaymentStore`] keeps it in this process (tests, one
//! instance that may lose its ledger on restart); `payment-sqlx` keeps it in SQLite or
//! PostgreSQL. Any other [`PaymentStore`] must keep the contract its methods describe.

use std::{
    collections::HashMap,
    fmt,
    sync::{Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use time::OffsetDateTime;

use crate::{
    AccountId, OrderId, Rial, redact,
    replay::{BoxFuture, Claim, ClaimTicket},
};

/// Where a payment is in its life.
///
/// `Started` → `Returned` → `Paid` / `Failed` / `Pending`; `Pending` → `Paid` / `Failed`;
/// `Started` → `Pending` (a retry or the reconciler, without a return);
/// `Started`, `Returned` or `Pending` → `Expired` once the gateway's verify window has
/// passed. `Paid`, `Failed` and `Expired` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// Created at the gateway; the buyer was sent to pay.
    Started,
    /// The buyer came back with a callback that matched the signed state.
    Returned,
    /// Verify did not finish (the gateway timed out or was busy); to be verified again.
    Pending,
    /// Verified and fulfilled. Final.
    Paid,
    /// The gateway said no, for good. Final.
    Failed,
    /// Never confirmed within the gateway's verify window. Final.
    Expired,
}

impl PaymentStatus {
    /// Every status, in the order of a payment's life.
    pub const ALL: [PaymentStatus; 6] = [
        PaymentStatus::Started,
        PaymentStatus::Returned,
        PaymentStatus::Pending,
        PaymentStatus::Paid,
        PaymentStatus::Failed,
        PaymentStatus::Expired,
    ];

    /// The statuses a payment can still leave: what the reconciler looks at.
    pub const OPEN: [PaymentStatus; 3] = [
        PaymentStatus::Started,
        PaymentStatus::Returned,
        PaymentStatus::Pending,
    ];

    /// The name stored in a database column: `started`, `returned`, …
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Started => "started",
            PaymentStatus::Returned => "returned",
            PaymentStatus::Pending => "pending",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Expired => "expired",
        }
    }

    /// The status stored as `name`, if it is one.
    pub fn from_name(name: &str) -> Option<PaymentStatus> {
        PaymentStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the payment can no longer change.
    pub fn is_final(self) -> bool {
        !PaymentStatus::OPEN.contains(&self)
    }

    /// The statuses a payment may move to `self` from.
    pub fn allowed_from(self) -> &'static [PaymentStatus] {
        match self {
            PaymentStatus::Started => &[],
            // A second return (a reload, or a forged GardeshPay return before the real one)
            // updates the reference only the return carries: the latest one wins.
            PaymentStatus::Returned => &[PaymentStatus::Started, PaymentStatus::Returned],
            PaymentStatus::Pending => &[PaymentStatus::Started, PaymentStatus::Returned],
            PaymentStatus::Paid | PaymentStatus::Failed | PaymentStatus::Expired => {
                &PaymentStatus::OPEN
            }
        }
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One payment in the ledger. A payment is named by its account and the gateway's
/// reference from create ([`PaymentRecord::gateway_ref`]), unique within the account.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    /// The gateway account the payment was started at.
    pub account: AccountId,
    /// The app's order.
    pub order_id: OrderId,
    /// The amount verify is called with.
    pub amount: Rial,
    /// The gateway's reference from create (a bearer token at CanPay and GardeshPay).
    pub gateway_ref: String,
    /// Where the payment is.
    pub status: PaymentStatus,
    /// When it was started.
    pub created_at: OffsetDateTime,
    /// When its status last changed, or the reconciler last checked it.
    pub updated_at: OffsetDateTime,
    /// The signed order state, as in the buyer's cookie: the reconciler checks and
    /// verifies the payment from it, so a changed row cannot change what is verified.
    pub state: String,
    /// The cookie name the state is signed for.
    pub state_name: String,
    /// A reference only the buyer's return carries and verify needs (GardeshPay's
    /// tracking number), once the buyer has returned.
    pub verify_reference: Option<String>,
}

impl PaymentRecord {
    /// Whether the record is `account`'s payment with the reference `gateway_ref`.
    pub fn is(&self, account: &AccountId, gateway_ref: &str) -> bool {
        self.account == *account && self.gateway_ref == gateway_ref
    }
}

// The reference and the signed state carry the gateway's token, a bearer value at CanPay
// and GardeshPay.
impl fmt::Debug for PaymentRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentRecord")
            .field("account", &self.account)
            .field("order_id", &self.order_id)
            .field("amount", &self.amount)
            .field("gateway_ref", &redact::partial(&self.gateway_ref))
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field(
                "verify_reference",
                &self.verify_reference.as_deref().map(redact::partial),
            )
            .finish_non_exhaustive()
    }
}

/// The store could not be reached or answered nonsense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("payment store unavailable: {0}")]
pub struct StoreError(pub String);

/// Where the ledger lives. One per deployment: every app instance (and every reconciler)
/// shares it.
///
/// Unless the app sets a replay guard as well, the ledger is also what holds a payment
/// while one request verifies it (`claim_payment`, `release_payment`): the claim is a mark on the
/// payment's own record, so a return costs two writes, not four.
///
/// The contract, which every implementation must keep under concurrency:
/// - `insert`: adds a new record; a record with the same account and reference is an
///   error (references are unique within an account).
/// - `transition`: moves the record to `to` only if its status is one of
///   [`to.allowed_from()`](PaymentStatus::allowed_from), setting `updated_at` to `at` (and
///   `verify_reference`, when given); answers whether it moved. Of several concurrent
///   transitions of one record to a final status, exactly one answers `true`. A move to
///   a final status also lets go of any claim.
/// - `claim_payment(record, lease)`: `record` is the payment as its claimer sees it at
///   `record.updated_at`. A record whose status is final answers [`Claim::Completed`]; an
///   open one held by a claim that lasts past `record.updated_at` answers
///   [`Claim::InProgress`]; otherwise exactly one of several concurrent callers gets
///   [`Claim::Acquired`] and holds it until `record.updated_at + lease`. The acquired
///   record's `updated_at` becomes `record.updated_at`, a `Started` one moves to
///   `Returned` when `record.status` is `Returned` (the buyer's return), and
///   `verify_reference` is replaced when `record` carries one. A payment the store does
///   not hold (started before the app kept a ledger) is inserted as `record`, claimed.
/// - `release_payment(account, gateway_ref, ticket, to, at)`: if `ticket` still holds the
///   payment, lets go of it and, with `to`, moves it there as `transition` would;
///   answers whether the ticket held it. A stale ticket changes nothing.
/// - `checked`: sets `updated_at` to `at` if the record's status is open, leaving the
///   status as it is; answers whether it did. The reconciler marks each check with it, so
///   that an open payment is checked again only after another grace period.
/// - `open_before`: the records whose status is open and that were last updated before
///   `before`, oldest first, at most `limit`.
/// - `for_order`: every record of one order, oldest first.
pub trait PaymentStore: Send + Sync + 'static {
    /// Records a payment that was just started.
    fn insert<'a>(&'a self, record: &'a PaymentRecord) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Moves a payment to `to`, if its status allows it.
    fn transition<'a>(
        &'a self,
        account: &'a AccountId,
        gateway_ref: &'a str,
        to: PaymentStatus,
        at: OffsetDateTime,
        verify_reference: Option<&'a str>,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Notes that an open payment was checked at `at` and is still open.
    fn checked<'a>(
        &'a self,
        account: &'a AccountId,
        gateway_ref: &'a str,
        at: OffsetDateTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Open payments last updated before `before`, oldest first.
    fn open_before<'a>(
        &'a self,
        before: OffsetDateTime,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<PaymentRecord>, StoreError>>;

    /// Every payment of an order, oldest first.
    fn for_order<'a>(
        &'a self,
        order_id: &'a OrderId,
    ) -> BoxFuture<'a, Result<Vec<PaymentRecord>, StoreError>>;

    /// Holds an open payment for one verify, for at most `lease`.
    fn claim_payment<'a>(
        &'a self,
        record: &'a PaymentRecord,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, StoreError>>;

    /// Lets go of a claim, moving the payment to `to` when given.
    fn release_payment<'a>(
        &'a self,
        account: &'a AccountId,
        gateway_ref: &'a str,
        ticket: &'a ClaimTicket,
        to: Option<PaymentStatus>,
        at: OffsetDateTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;
}

/// The claim on one payment in a [`MemoryPaymentStore`].
struct Held {
    token: u64,
    until: OffsetDateTime,
}

/// A [`PaymentStore`] in this process's memory: right for tests and for one instance that
/// accepts losing its ledger on restart (then nothing reconciles the payments that were
/// open).
#[derive(Default)]
pub struct MemoryPaymentStore {
    records: Mutex<Records>,
}

type Key = (AccountId, String);

#[derive(Default)]
struct Records {
    payments: HashMap<Key, PaymentRecord>,
    claims: HashMap<Key, Held>,
    next_token: u64,
}

impl MemoryPaymentStore {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Records> {
        // A panic elsewhere while holding the lock leaves the map whole: each change is
        // one insert or one field update.
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sorted(mut records: Vec<PaymentRecord>) -> Vec<PaymentRecord> {
        records.sort_by(|a, b| (a.created_at, &a.gateway_ref).cmp(&(b.created_at, &b.gateway_ref)));
        records
    }
}

impl fmt::Debug for MemoryPaymentStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryPaymentStore")
            .field("payments", &self.lock().payments.len())
            .finish()
    }
}

impl PaymentStore for MemoryPaymentStore {
    fn insert<'a>(&'a self, record: &'a PaymentRecord) -> BoxFuture<'a, Result<(), StoreError>> {
        let key = (record.account.clone(), record.gateway_ref.clone());
        let result = match self.lock().payments.entry(key) {
            std::collections::hash_map::Entry::Occupied(_) => Err(StoreError(format!(
                "a payment of {} with this reference is recorded already",
                record.account
            ))),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(record.clone());
                Ok(())
            }
        };
        Box::pin(std::future::ready(result))
    }

    fn transition<'a>(
        &'a self,
        account: &'a AccountId,
        gateway_ref: &'a str,
        to: PaymentStatus,
        at: OffsetDateTime,
        verify_reference: Option<&'a str>,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let moved = self.lock().transition(
            &(account.clone(), gateway_ref.to_owned()),
            to,
            at,
            verify_reference,
        );
        Box::pin(std::future::ready(Ok(moved)))
    }

    fn checked<'a>(
        &'a self,
        account: &'a AccountId,
        gateway_ref: &'a str,
        at: OffsetDateTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let mut records = self.lock();
        let touched = match records
            .payments
            .get_mut(&(account.clone(), gateway_ref.to_owned()))
        {
            Some(record) if !record.status.is_final() => {
                record.updated_at = at;
                true
            }
            _ => false,
        };
        Box::pin(std::future::ready(Ok(touched)))
    }

    fn open_before<'a>(
        &'a self,
        before: OffsetDateTime,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<PaymentRecord>, StoreError>> {
        let open = self
            .lock()
            .payments
            .values()
            .filter(|r| !r.status.is_final() && r.updated_at < before)
            .cloned()
            .collect();
        let mut open = Self::sorted(open);
        open.truncate(limit);
        Box::pin(std::future::ready(Ok(open)))
    }

    fn for_order<'a>(
        &'a self,
        order_id: &'a OrderId,
    ) -> BoxFuture<'a, Result<Vec<PaymentRecord>, StoreError>> {
        let records = self
            .lock()
            .payments
            .values()
            .filter(|r| r.order_id == *order_id)
            .cloned()
            .collect();
        Box::pin(std::future::ready(Ok(Self::sorted(records))))
    }

    fn claim_payment<'a>(
        &'a self,
        record: &'a PaymentRecord,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        Box::pin(std::future::ready(Ok(self.lock().claim(record, lease))))
    }

    fn release_payment<'a>(
        &'a self,
        account: &'a AccountId,
        gateway_ref: &'a str,
        ticket: &'a ClaimTicket,
        to: Option<PaymentStatus>,
        at: OffsetDateTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let key = (account.clone(), gateway_ref.to_owned());
        let mut records = self.lock();
        let held = records
            .claims
            .get(&key)
            .is_some_and(|held| held.token == ticket.token());
        if held {
            records.claims.remove(&key);
            if let Some(to) = to {
                records.transition(&key, to, at, None);
            }
        }
        Box::pin(std::future::ready(Ok(held)))
    }
}

impl Records {
    fn transition(
        &mut self,
        key: &Key,
        to: PaymentStatus,
        at: OffsetDateTime,
        verify_reference: Option<&str>,
    ) -> bool {
        let Some(record) = self.payments.get_mut(key) else {
            return false;
        };
        if !to.allowed_from().contains(&record.status) {
            return false;
        }
        record.status = to;
        record.updated_at = at;
        if let Some(reference) = verify_reference {
            record.verify_reference = Some(reference.to_owned());
        }
        if to.is_final() {
            self.claims.remove(key);
        }
        true
    }

    fn claim(&mut self, claimer: &PaymentRecord, lease: Duration) -> Claim {
        let key = (claimer.account.clone(), claimer.gateway_ref.clone());
        let at = claimer.updated_at;
        let record = self
            .payments
            .entry(key.clone())
            .or_insert_with(|| claimer.clone());
        if record.status.is_final() {
            return Claim::Completed;
        }
        if self.claims.get(&key).is_some_and(|held| held.until > at) {
            return Claim::InProgress;
        }
        record.updated_at = at;
        if claimer.status == PaymentStatus::Returned && record.status == PaymentStatus::Started {
            record.status = PaymentStatus::Returned;
        }
        if claimer.verify_reference.is_some() {
            record
                .verify_reference
                .clone_from(&claimer.verify_reference);
        }
        self.next_token = self.next_token.wrapping_add(1);
        let until = time::Duration::try_from(lease)
            .ok()
            .and_then(|lease| at.checked_add(lease))
            .unwrap_or(OffsetDateTime::new_utc(
                time::Date::MAX,
                time::Time::MIDNIGHT,
            ));
        self.claims.insert(
            key,
            Held {
                token: self.next_token,
                until,
            },
        );
        Claim::Acquired(ClaimTicket::new(
            format!("{}:{}", claimer.account, claimer.gateway_ref),
            self.next_token,
        ))
    }
}
