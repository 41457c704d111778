//! Once-only fulfilment: a payment is claimed before verify and completed after, so that
//! no gateway reference is ever fulfilled twice, whatever the gateway says on a repeat.
//!
//! [`MemoryReplayGuard`] is the default, right for one app instance. Several instances
//! share one guard: the Redis one (`redis` feature), or any other implementation of
//! [`ReplayGuard`] that keeps the contract below.

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    pin::Pin,
    sync::{
        Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

/// A boxed, sendable future, as the methods of [`ReplayGuard`] return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Proof that the holder won the claim on a key; needed to complete or release it.
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimTicket {
    key: String,
    token: u64,
}

impl ClaimTicket {
    /// A ticket for `key`; `token` tells this claim apart from later claims of the
    /// same key.
    pub fn new(key: impl Into<String>, token: u64) -> Self {
        Self {
            key: key.into(),
            token,
        }
    }

    /// The claimed key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The claim's unique token.
    pub fn token(&self) -> u64 {
        self.token
    }
}

// A key is `account:reference`, and the reference is a bearer value at CanPay and
// GardeshPay (the token verifies the payment), so it is not printed in full.
impl fmt::Debug for ClaimTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = match self.key.split_once(':') {
            Some((account, reference)) => {
                format!("{account}:{}", crate::redact::partial(reference))
            }
            None => crate::redact::partial(&self.key),
        };
        f.debug_struct("ClaimTicket")
            .field("key", &key)
            .field("token", &self.token)
            .finish()
    }
}

/// The answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller holds the claim and may verify.
    Acquired(ClaimTicket),
    /// Another request holds a live claim and is verifying right now.
    InProgress,
    /// The key was fulfilled already.
    Completed,
}

/// The guard could not be reached or answered nonsense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("replay guard unavailable: {0}")]
pub struct GuardError(pub String);

/// Where claims live. One per deployment: every app instance must share it (the default
/// is in memory, which is right for a single instance only).
///
/// The contract, which every implementation must keep under concurrency:
/// - `claim(key, lease)`: if `key` is completed, `Completed`; if a claim on it is live
///   (acquired less than `lease` ago and neither completed nor released), `InProgress`;
///   otherwise exactly one caller gets `Acquired`.
/// - `complete(ticket, keep_for)`: marks the key completed for `keep_for`; it stays
///   `Completed` for at least that long.
/// - `release(ticket)`: drops the claim if the ticket still holds it, so a retry can
///   claim again. A stale ticket changes nothing.
pub trait ReplayGuard: Send + Sync + 'static {
    /// Claims `key` for at most `lease` (after which a crashed holder's claim lapses).
    fn claim<'a>(
        &'a self,
        key: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, GuardError>>;
    /// Marks the claimed key fulfilled, for `keep_for`.
    fn complete<'a>(
        &'a self,
        ticket: &'a ClaimTicket,
        keep_for: Duration,
    ) -> BoxFuture<'a, Result<(), GuardError>>;
    /// Gives the claim up (verify could not finish, or was refused).
    fn release<'a>(&'a self, ticket: &'a ClaimTicket) -> BoxFuture<'a, Result<(), GuardError>>;
}

/// A [`ReplayGuard`] in this process's memory: one map behind one lock. Correct for one
/// instance; several instances need a shared guard (such as the Redis one).
///
/// Entries whose lease or keep time has passed are swept out at most once a minute.
pub struct MemoryReplayGuard {
    entries: Mutex<Entries>,
    last_token: AtomicU64,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, Entry>,
    next_sweep: Option<Instant>,
}

struct Entry {
    /// When the entry lapses.
    until: Instant,
    /// The holder's token while a verify holds the claim; `None` once fulfilled.
    token: Option<u64>,
}

/// How often lapsed entries are dropped.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

impl MemoryReplayGuard {
    /// An empty guard.
    pub fn new() -> Self {
        Self {
            entries: Mutex::new(Entries::default()),
            last_token: AtomicU64::new(0),
        }
    }

    /// How many keys are held (claimed or completed, lapsed ones until swept).
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // Every update is one insert or remove, so a map whose lock was poisoned by a
        // panic elsewhere is still consistent.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn claim_now(&self, key: &str, lease: Duration) -> Claim {
        let now = Instant::now();
        let mut entries = self.lock();
        entries.sweep(now);
        match entries.map.get(key) {
            Some(entry) if entry.until > now && entry.token.is_none() => Claim::Completed,
            Some(entry) if entry.until > now => Claim::InProgress,
            _ => {
                let token = self.last_token.fetch_add(1, Ordering::Relaxed) + 1;
                let entry = Entry {
                    until: deadline(now, lease),
                    token: Some(token),
                };
                entries.map.insert(key.to_owned(), entry);
                Claim::Acquired(ClaimTicket::new(key, token))
            }
        }
    }

    fn complete_now(&self, ticket: &ClaimTicket, keep_for: Duration) {
        let entry = Entry {
            until: deadline(Instant::now(), keep_for),
            token: None,
        };
        self.lock().map.insert(ticket.key.clone(), entry);
    }

    fn release_now(&self, ticket: &ClaimTicket) {
        let mut entries = self.lock();
        if entries
            .map
            .get(&ticket.key)
            .is_some_and(|entry| entry.token == Some(ticket.token))
        {
            entries.map.remove(&ticket.key);
        }
    }
}

impl Entries {
    /// Drops lapsed entries, at most once every [`SWEEP_EVERY`].
    fn sweep(&mut self, now: Instant) {
        if self.next_sweep.is_some_and(|at| at > now) {
            return;
        }
        self.map.retain(|_, entry| entry.until > now);
        self.next_sweep = Some(now + SWEEP_EVERY);
    }
}

/// `now + duration`, or as far as an `Instant` goes (a `Duration::MAX` lease never lapses).
fn deadline(now: Instant, duration: Duration) -> Instant {
    now.checked_add(duration)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

impl Default for MemoryReplayGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryReplayGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryReplayGuard")
            .field("entries", &self.len())
            .finish()
    }
}

impl ReplayGuard for MemoryReplayGuard {
    fn claim<'a>(
        &'a self,
        key: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<Claim, GuardError>> {
        let claim = self.claim_now(key, lease);
        Box::pin(async move { Ok(claim) })
    }

    fn complete<'a>(
        &'a self,
        ticket: &'a ClaimTicket,
        keep_for: Duration,
    ) -> BoxFuture<'a, Result<(), GuardError>> {
        self.complete_now(ticket, keep_for);
        Box::pin(async { Ok(()) })
    }

    fn release<'a>(&'a self, ticket: &'a ClaimTicket) -> BoxFuture<'a, Result<(), GuardError>> {
        self.release_now(ticket);
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(60);

    fn acquire(guard: &MemoryReplayGuard, key: &str, lease: Duration) -> ClaimTicket {
        match guard.claim_now(key, lease) {
            Claim::Acquired(ticket) => ticket,
            other => panic!("{key} was not free: {other:?}"),
        }
    }

    #[test]
    fn claims_complete_release_and_lapse() {
        let guard = MemoryReplayGuard::new();
        let ticket = acquire(&guard, "novinpal:1", LONG);
        assert_eq!(guard.claim_now("novinpal:1", LONG), Claim::InProgress);
        guard.release_now(&ticket);
        assert!(guard.is_empty());
        let ticket = acquire(&guard, "novinpal:1", LONG);
        guard.complete_now(&ticket, LONG);
        assert_eq!(guard.claim_now("novinpal:1", LONG), Claim::Completed);
        // A stale ticket releases nothing.
        guard.release_now(&ticket);
        assert_eq!(guard.claim_now("novinpal:1", LONG), Claim::Completed);
        // A lapsed claim can be taken again.
        acquire(&guard, "novinpal:2", Duration::ZERO);
        acquire(&guard, "novinpal:2", LONG);
        assert_eq!(guard.len(), 2);
    }

    #[test]
    fn lapsed_entries_are_swept() {
        let guard = MemoryReplayGuard::new();
        for i in 0..10 {
            acquire(&guard, &format!("short:{i}"), Duration::from_millis(1));
        }
        let kept = acquire(&guard, "kept", LONG);
        guard.complete_now(&kept, LONG);
        std::thread::sleep(Duration::from_millis(5));
        // The first claim swept (nothing had lapsed yet); the next sweep is a minute on.
        assert_eq!(guard.len(), 11);
        guard.lock().next_sweep = None;
        assert_eq!(guard.claim_now("kept", LONG), Claim::Completed);
        assert_eq!(guard.len(), 1);
    }

    #[test]
    fn deadlines_saturate_instead_of_overflowing() {
        let guard = MemoryReplayGuard::new();
        let ticket = acquire(&guard, "novinpal:1", Duration::MAX);
        assert_eq!(
            guard.claim_now("novinpal:1", Duration::MAX),
            Claim::InProgress
        );
        guard.complete_now(&ticket, Duration::MAX);
        assert_eq!(
            guard.claim_now("novinpal:1", Duration::ZERO),
            Claim::Completed
        );
    }

    #[test]
    fn a_ticket_rebuilt_from_key_and_token_is_the_same_claim() {
        let guard = MemoryReplayGuard::new();
        let ticket = acquire(&guard, "novinpal:1", LONG);
        let rebuilt = ClaimTicket::new(ticket.key(), ticket.token());
        assert_eq!(rebuilt, ticket);
        guard.release_now(&ClaimTicket::new("novinpal:1", ticket.token() + 1));
        assert_eq!(guard.claim_now("novinpal:1", LONG), Claim::InProgress);
        guard.release_now(&rebuilt);
        acquire(&guard, "novinpal:1", LONG);
    }

    #[test]
    fn a_ticket_does_not_print_its_reference_whole() {
        let token = "SNHQA1TYFGSFARZUM5B7C9D1E3";
        let ticket = ClaimTicket::new(format!("canpay:{token}"), 7);
        let printed = format!("{ticket:?}");
        assert!(!printed.contains(token), "{printed}");
        assert!(printed.contains("canpay:SNHQ…"), "{printed}");
        assert!(printed.contains("token: 7"), "{printed}");
        let printed = format!("{:?}", ClaimTicket::new(token, 7));
        assert!(!printed.contains(token), "{printed}");
    }
}
