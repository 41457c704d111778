//! Once-only fulfilment: a payment is claimed before verify and completed after, so that
//! no gateway reference is ever fulfilled twice, whatever the gateway says on a repeat.

use std::{
    collections::HashMap,
    fmt,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use crate::BoxFuture;

/// Proof that the holder won the claim on a key; needed to complete or release it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimTicket {
    key: String,
    token: u64,
}

impl ClaimTicket {
    /// A ticket for `key`; `token` tells this claim apart from later claims of the
    /// same key (for guards that store it, such as a Redis one).
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

enum Entry {
    InFlight { token: u64, until: Instant },
    Done { until: Instant },
}

/// A [`ReplayGuard`] in this process's memory. Correct for one instance; several
/// instances need a shared guard (such as the Redis one).
pub struct MemoryReplayGuard {
    entries: Mutex<HashMap<String, Entry>>,
    next_token: AtomicU64,
    ops: AtomicU64,
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

/// How many operations between sweeps of lapsed entries.
const SWEEP_EVERY: u64 = 1024;

impl MemoryReplayGuard {
    /// An empty guard.
    pub fn new() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            next_token: AtomicU64::new(1),
            ops: AtomicU64::new(0),
        }
    }

    /// How many keys are held (claimed or completed, lapsed ones included until swept).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding this lock cannot leave an entry half-written (every
        // update is one insert or remove), so a poisoned map is still consistent.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn claim_now(&self, key: &str, lease: Duration) -> Claim {
        let now = Instant::now();
        let mut entries = self.lock();
        if self.ops.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            entries.retain(|_, e| match e {
                Entry::InFlight { until, .. } | Entry::Done { until } => *until > now,
            });
        }
        match entries.get(key) {
            Some(Entry::Done { until }) if *until > now => Claim::Completed,
            Some(Entry::InFlight { until, .. }) if *until > now => Claim::InProgress,
            _ => {
                let token = self.next_token.fetch_add(1, Ordering::Relaxed);
                entries.insert(
                    key.to_owned(),
                    Entry::InFlight {
                        token,
                        until: now + lease,
                    },
                );
                Claim::Acquired(ClaimTicket::new(key, token))
            }
        }
    }

    fn complete_now(&self, ticket: &ClaimTicket, keep_for: Duration) {
        let until = Instant::now() + keep_for;
        self.lock()
            .insert(ticket.key.clone(), Entry::Done { until });
    }

    fn release_now(&self, ticket: &ClaimTicket) {
        let mut entries = self.lock();
        if matches!(entries.get(&ticket.key), Some(Entry::InFlight { token, .. }) if *token == ticket.token)
        {
            entries.remove(&ticket.key);
        }
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
