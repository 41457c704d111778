//! Once-only fulfilment: a payment is claimed before verify and completed after, so that
//! no gateway reference is ever fulfilled twice, whatever the gateway says on a repeat.

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    hash::{BuildHasher, Hash, Hasher, RandomState},
    pin::Pin,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
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

#[derive(Clone, Copy)]
enum Entry {
    InFlight { token: u64, until: Instant },
    Done { until: Instant },
}

/// A [`ReplayGuard`] in this process's memory. Correct for one instance; several
/// instances need a shared guard (such as the Redis one).
pub struct MemoryReplayGuard {
    entries: Mutex<Entries>,
    next_token: AtomicU64,
    ops: AtomicU64,
    /// The two hash keys of [`Digest`]s. std seeds a thread's first key from the OS and
    /// derives each later one by adding one, so the two differ; SipHash's outputs under
    /// different keys are unrelated.
    seeds: (RandomState, RandomState),
}

/// A key as the in-memory guard holds it: a 128-bit keyed hash instead of the string.
///
/// Completed keys are held for days, so a busy guard holds hundreds of thousands: a
/// fixed-size digest needs no allocation per payment, about a third of the memory, and a
/// lookup that reads one table slot instead of following a pointer to a string. Two of
/// `n` held keys share a digest with probability about n²/2¹²⁹ (10⁻²⁷ for a million), and
/// the seeds are secret, so no one can choose keys that collide.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Digest(u64, u64);

impl Hash for Digest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0);
    }
}

/// The table's hasher: a [`Digest`] is already uniformly random, so its first half is
/// used as it is rather than hashed again.
#[derive(Clone, Copy, Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used (by `Digest`); fold anything else in.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[derive(Clone, Copy, Default)]
struct BuildDigestHasher;

impl BuildHasher for BuildDigestHasher {
    type Hasher = DigestHasher;

    fn build_hasher(&self) -> DigestHasher {
        DigestHasher::default()
    }
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

/// The claims, and the earliest instant at which one of them lapses.
///
/// Completed keys are kept for days, so a busy guard holds hundreds of thousands of them;
/// walking all of them every [`SWEEP_EVERY`] operations cost more than the rest of a
/// callback's own work and evicted everything else from the CPU caches. A sweep now runs
/// only once something can have lapsed.
#[derive(Default)]
struct Entries {
    map: HashMap<Digest, Entry, BuildDigestHasher>,
    /// No entry lapses before this; `None` when there are no entries.
    next_lapse: Option<Instant>,
}

impl Entries {
    /// Sets `key`'s entry.
    fn set(&mut self, key: Digest, entry: Entry) {
        let until = match entry {
            Entry::InFlight { until, .. } | Entry::Done { until } => until,
        };
        self.next_lapse = Some(self.next_lapse.map_or(until, |t| t.min(until)));
        self.map.insert(key, entry);
    }

    /// Drops lapsed entries, at most every [`SWEEP_EVERY`] operations and only when one
    /// can have lapsed.
    fn sweep(&mut self, op: u64, now: Instant) {
        if op % SWEEP_EVERY != SWEEP_EVERY - 1 || self.next_lapse.is_none_or(|t| t > now) {
            return;
        }
        let mut next: Option<Instant> = None;
        self.map.retain(|_, e| {
            let until = match e {
                Entry::InFlight { until, .. } | Entry::Done { until } => *until,
            };
            let keep = until > now;
            if keep {
                next = Some(next.map_or(until, |t| t.min(until)));
            }
            keep
        });
        self.next_lapse = next;
    }
}

impl MemoryReplayGuard {
    /// An empty guard.
    pub fn new() -> Self {
        Self {
            entries: Mutex::new(Entries::default()),
            next_token: AtomicU64::new(1),
            ops: AtomicU64::new(0),
            seeds: (RandomState::new(), RandomState::new()),
        }
    }

    /// How many keys are held (claimed or completed, lapsed ones included until swept).
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding this lock cannot leave an entry half-written (every
        // update is one insert or remove), so a poisoned map is still consistent.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn digest(&self, key: &str) -> Digest {
        Digest(self.seeds.0.hash_one(key), self.seeds.1.hash_one(key))
    }

    fn claim_now(&self, key: &str, lease: Duration) -> Claim {
        // Hashed before the lock is taken, so the lock is held for the lookup only.
        let digest = self.digest(key);
        let now = Instant::now();
        let mut entries = self.lock();
        entries.sweep(self.ops.fetch_add(1, Ordering::Relaxed), now);
        match entries.map.get(&digest) {
            Some(Entry::Done { until }) if *until > now => Claim::Completed,
            Some(Entry::InFlight { until, .. }) if *until > now => Claim::InProgress,
            _ => {
                let token = self.next_token.fetch_add(1, Ordering::Relaxed);
                let until = now + lease;
                entries.set(digest, Entry::InFlight { token, until });
                Claim::Acquired(ClaimTicket::new(key, token))
            }
        }
    }

    fn complete_now(&self, ticket: &ClaimTicket, keep_for: Duration) {
        let digest = self.digest(&ticket.key);
        let until = Instant::now() + keep_for;
        self.lock().set(digest, Entry::Done { until });
    }

    fn release_now(&self, ticket: &ClaimTicket) {
        let digest = self.digest(&ticket.key);
        let mut entries = self.lock();
        if matches!(entries.map.get(&digest), Some(Entry::InFlight { token, .. }) if *token == ticket.token)
        {
            entries.map.remove(&digest);
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
        Box::pin(Done)
    }

    fn release<'a>(&'a self, ticket: &'a ClaimTicket) -> BoxFuture<'a, Result<(), GuardError>> {
        self.release_now(ticket);
        Box::pin(Done)
    }
}

/// An answer that is ready at once and carries nothing: boxing it allocates nothing (an
/// `async` block, even an empty one, has a state to store).
struct Done;

impl Future for Done {
    type Output = Result<(), GuardError>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(guard: &MemoryReplayGuard, key: &str, lease: Duration) -> Claim {
        guard.claim_now(key, lease)
    }

    #[test]
    fn claims_complete_release_and_lapse() {
        let guard = MemoryReplayGuard::new();
        let long = Duration::from_secs(60);
        let Claim::Acquired(ticket) = claim(&guard, "novinpal:1", long) else {
            panic!("first claim")
        };
        assert_eq!(claim(&guard, "novinpal:1", long), Claim::InProgress);
        guard.release_now(&ticket);
        assert!(guard.is_empty());
        let Claim::Acquired(ticket) = claim(&guard, "novinpal:1", long) else {
            panic!("claim after release")
        };
        guard.complete_now(&ticket, long);
        assert_eq!(claim(&guard, "novinpal:1", long), Claim::Completed);
        // A stale ticket releases nothing.
        guard.release_now(&ticket);
        assert_eq!(claim(&guard, "novinpal:1", long), Claim::Completed);
        // A lapsed claim can be taken again.
        let Claim::Acquired(_) = claim(&guard, "novinpal:2", Duration::ZERO) else {
            panic!("claim")
        };
        assert!(matches!(
            claim(&guard, "novinpal:2", long),
            Claim::Acquired(_)
        ));
        assert_eq!(guard.len(), 2);
    }

    #[test]
    fn keys_are_told_apart_by_their_digests() {
        let guard = MemoryReplayGuard::new();
        let keep = Duration::from_secs(60);
        // Keys that differ in one character, or only by a prefix, are different payments.
        let keys: Vec<String> = (0..20_000)
            .map(|i| format!("novinpal:{i}"))
            .chain(["novinpal:", "idpay:1", "novinpal:1 "].map(String::from))
            .collect();
        for key in &keys {
            let Claim::Acquired(ticket) = claim(&guard, key, keep) else {
                panic!("{key} was taken by another key")
            };
            guard.complete_now(&ticket, keep);
        }
        assert_eq!(guard.len(), keys.len());
        for key in &keys {
            assert_eq!(claim(&guard, key, keep), Claim::Completed, "{key}");
        }
        // Another guard has other seeds: the same key, another digest.
        assert_ne!(
            guard.digest("novinpal:1").0,
            MemoryReplayGuard::new().digest("novinpal:1").0
        );
    }

    #[test]
    fn sweeps_run_only_once_something_lapsed() {
        let guard = MemoryReplayGuard::new();
        let keep = Duration::from_secs(3600);
        for i in 0..SWEEP_EVERY {
            if let Claim::Acquired(ticket) = claim(&guard, &format!("k{i}"), keep) {
                guard.complete_now(&ticket, keep);
            }
        }
        // Nothing has lapsed: every key is still held, and the sweep was skipped.
        assert_eq!(guard.len(), SWEEP_EVERY as usize);
        assert!(guard.lock().next_lapse.is_some_and(|t| t > Instant::now()));

        // Short leases that lapse: the next sweep drops them and keeps the rest.
        for i in 0..10 {
            let _ = claim(&guard, &format!("short{i}"), Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(5));
        for i in 0..SWEEP_EVERY {
            let _ = claim(&guard, &format!("k{i}"), keep);
        }
        assert_eq!(guard.len(), SWEEP_EVERY as usize);
        // The earliest lapse left is a completed key's.
        assert!(
            guard
                .lock()
                .next_lapse
                .is_some_and(|t| t > Instant::now() + Duration::from_secs(3000))
        );
    }
}
