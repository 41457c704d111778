//! Once-only fulfilment: a payment is claimed before verify and completed after, so that
//! no gateway reference is ever fulfilled twice, whatever the gateway says on a repeat.

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    hash::{BuildHasher, Hash, Hasher, RandomState},
    pin::Pin,
    sync::{
        Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use compact_str::CompactString;

use crate::BoxFuture;

/// Proof that the holder won the claim on a key; needed to complete or release it.
#[derive(Clone)]
pub struct ClaimTicket {
    // Inline up to 24 bytes, as the keys of most gateways are (`novinpal:` and a 9-digit
    // reference): a ticket is held across verify, and what is held across that call is
    // often freed by another worker than the one that allocated it (BENCHMARKS.md).
    key: CompactString,
    token: u64,
    /// The in-memory guard that issued this ticket keeps the key's digest here, so that
    /// completing or releasing it does not hash the key again.
    issued_by: Option<IssuedDigest>,
}

/// A key's digest as computed by one [`MemoryReplayGuard`] (each has its own seeds).
#[derive(Clone, Copy)]
struct IssuedDigest {
    guard: u64,
    digest: Digest,
}

impl ClaimTicket {
    /// A ticket for `key`; `token` tells this claim apart from later claims of the
    /// same key (for guards that store it, such as a Redis one).
    pub fn new(key: impl AsRef<str>, token: u64) -> Self {
        Self {
            key: CompactString::new(key),
            token,
            issued_by: None,
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

// Two tickets are the same claim when key and token agree; the cached digest is only a
// shortcut of the guard that issued one.
impl PartialEq for ClaimTicket {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.token == other.token
    }
}

impl Eq for ClaimTicket {}

// A key is `gateway:reference`, and the reference is a bearer value at CanPay and
// GardeshPay (the token verifies the payment), so it is not printed in full.
impl fmt::Debug for ClaimTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = match self.key.split_once(':') {
            Some((gateway, reference)) => {
                format!("{gateway}:{}", crate::redact::partial(reference))
            }
            None => crate::redact::partial(&self.key),
        };
        f.debug_struct("ClaimTicket")
            .field("key", &key)
            .field("token", &self.token)
            .finish_non_exhaustive()
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

/// One key's state in the in-memory guard: 16 bytes, so that a slot of the table (the
/// key's digest and this) is 32 bytes instead of 48, and a busy guard's table touches
/// fewer cache lines and pages.
#[derive(Clone, Copy)]
struct Slot {
    /// When the entry lapses, in nanoseconds since the guard's epoch.
    until: u64,
    /// The claim's token while a verify holds it; [`COMPLETED`] once fulfilled.
    token: u64,
}

/// The token of a completed key (claims' tokens start at 1).
const COMPLETED: u64 = 0;

/// A [`ReplayGuard`] in this process's memory. Correct for one instance; several
/// instances need a shared guard (such as the Redis one).
///
/// Keys are spread over sixteen tables, each behind its own lock: two callbacks rarely
/// wait for each other, and when a table grows, only its own entries (a sixteenth of
/// them) are moved while that one lock is held. Each held key takes a 32-byte slot.
pub struct MemoryReplayGuard {
    shards: [Shard; SHARDS],
    /// Tells this guard's tickets from another guard's (see [`IssuedDigest`]).
    id: u64,
    /// What deadlines are measured from.
    epoch: Instant,
    /// The two hash keys of [`Digest`]s. std seeds a thread's first key from the OS and
    /// derives each later one by adding one, so the two differ; SipHash's outputs under
    /// different keys are unrelated.
    seeds: (RandomState, RandomState),
}

/// How many tables the in-memory guard's keys are spread over.
const SHARDS: usize = 16;

/// One table and its lock, on a cache line of its own so that two cores working on two
/// shards do not contend for one line.
#[repr(align(64))]
#[derive(Default)]
struct Shard(Mutex<Entries>);

/// A key as the in-memory guard holds it: a 128-bit keyed hash instead of the string.
///
/// Completed keys are held for days, so a busy guard holds hundreds of thousands: a
/// fixed-size digest needs no allocation per payment, about a third of the memory, and a
/// lookup that reads one table slot instead of following a pointer to a string. Two of
/// `n` held keys share a digest with probability about n²/2¹²⁹ (10⁻²⁷ for a million), and
/// the seeds are secret, so no one can choose keys that collide.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Digest(u64, u64);

impl Digest {
    /// The shard that holds this key: from the half the table's hasher does not use, so
    /// that the keys of one shard still spread over all of its table.
    fn shard(self) -> usize {
        // The top bits of a uniformly random u64; SHARDS is a power of two.
        (self.1 >> (u64::BITS - SHARDS.trailing_zeros())) as usize
    }
}

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

/// How many operations on a shard between its sweeps of lapsed entries.
const SWEEP_EVERY: u64 = 1024;

/// One shard's claims, and the earliest instant at which one of them lapses.
///
/// Completed keys are kept for days, so a busy guard holds hundreds of thousands of them;
/// walking all of them every [`SWEEP_EVERY`] operations cost more than the rest of a
/// callback's own work and evicted everything else from the CPU caches. A sweep now runs
/// only once something can have lapsed.
#[derive(Default)]
struct Entries {
    map: HashMap<Digest, Slot, BuildDigestHasher>,
    /// No entry lapses before this (nanoseconds since the epoch); `None` when there are
    /// no entries.
    next_lapse: Option<u64>,
    /// Operations on this shard, to space its sweeps.
    ops: u64,
    /// The last claim token handed out in this shard (a key always maps to the same
    /// shard, so tokens tell claims of one key apart).
    last_token: u64,
}

impl Entries {
    /// Sets `key`'s entry.
    fn set(&mut self, key: Digest, slot: Slot) {
        self.next_lapse = Some(self.next_lapse.map_or(slot.until, |t| t.min(slot.until)));
        self.map.insert(key, slot);
    }

    /// Counts an operation and drops lapsed entries, at most every [`SWEEP_EVERY`]
    /// operations and only when one can have lapsed.
    fn sweep(&mut self, now: u64) {
        self.ops = self.ops.wrapping_add(1);
        if !self.ops.is_multiple_of(SWEEP_EVERY) || self.next_lapse.is_none_or(|t| t > now) {
            return;
        }
        let mut next: Option<u64> = None;
        self.map.retain(|_, slot| {
            let keep = slot.until > now;
            if keep {
                next = Some(next.map_or(slot.until, |t| t.min(slot.until)));
            }
            keep
        });
        self.next_lapse = next;
    }
}

impl MemoryReplayGuard {
    /// An empty guard.
    pub fn new() -> Self {
        // Process-unique, so no two guards' cached digests are taken for each other.
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Self {
            shards: Default::default(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            epoch: Instant::now(),
            seeds: (RandomState::new(), RandomState::new()),
        }
    }

    /// How many keys are held (claimed or completed, lapsed ones included until swept).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).map.len()).sum()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn digest(&self, key: &str) -> Digest {
        Digest(self.seeds.0.hash_one(key), self.seeds.1.hash_one(key))
    }

    /// The digest of a ticket's key: the one cached when this guard issued it, else
    /// computed.
    fn ticket_digest(&self, ticket: &ClaimTicket) -> Digest {
        match ticket.issued_by {
            Some(issued) if issued.guard == self.id => issued.digest,
            _ => self.digest(&ticket.key),
        }
    }

    fn shard(&self, digest: Digest) -> MutexGuard<'_, Entries> {
        // `shard()` is below SHARDS; `get` keeps this free of panics all the same.
        lock(self.shards.get(digest.shard()).unwrap_or(&self.shards[0]))
    }

    /// Now, in nanoseconds since the epoch (584 years fit in a u64).
    fn now(&self) -> u64 {
        nanos(self.epoch.elapsed())
    }

    fn claim_now(&self, key: &str, lease: Duration) -> Claim {
        // Hashed before the lock is taken, so the lock is held for the lookup only.
        let digest = self.digest(key);
        let now = self.now();
        let mut entries = self.shard(digest);
        entries.sweep(now);
        match entries.map.get(&digest) {
            Some(slot) if slot.until > now && slot.token == COMPLETED => Claim::Completed,
            Some(slot) if slot.until > now => Claim::InProgress,
            _ => {
                // Never COMPLETED, even after 2⁶⁴ claims of one shard.
                let token = entries.last_token.wrapping_add(1).max(1);
                entries.last_token = token;
                let until = now.saturating_add(nanos(lease));
                entries.set(digest, Slot { until, token });
                let mut ticket = ClaimTicket::new(key, token);
                ticket.issued_by = Some(IssuedDigest {
                    guard: self.id,
                    digest,
                });
                Claim::Acquired(ticket)
            }
        }
    }

    fn complete_now(&self, ticket: &ClaimTicket, keep_for: Duration) {
        let digest = self.ticket_digest(ticket);
        let until = self.now().saturating_add(nanos(keep_for));
        self.shard(digest).set(
            digest,
            Slot {
                until,
                token: COMPLETED,
            },
        );
    }

    fn release_now(&self, ticket: &ClaimTicket) {
        let digest = self.ticket_digest(ticket);
        let mut entries = self.shard(digest);
        if matches!(entries.map.get(&digest), Some(slot) if slot.token == ticket.token && slot.token != COMPLETED)
        {
            entries.map.remove(&digest);
        }
    }
}

fn lock(shard: &Shard) -> MutexGuard<'_, Entries> {
    // A panic while holding this lock cannot leave an entry half-written (every update is
    // one insert or remove), so a poisoned map is still consistent.
    shard.0.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A duration in whole nanoseconds, saturating (a `Duration::MAX` lease never lapses).
fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
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

    /// Claims `key` in a guard where nothing holds it yet.
    fn acquire(guard: &MemoryReplayGuard, key: &str, lease: Duration) -> ClaimTicket {
        match claim(guard, key, lease) {
            Claim::Acquired(ticket) => ticket,
            other => panic!("{key} was not free: {other:?}"),
        }
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

    /// `n` keys (named `{prefix}{i}`) that the guard keeps in the same shard.
    fn keys_of_one_shard(guard: &MemoryReplayGuard, prefix: &str, n: usize) -> Vec<String> {
        (0..)
            .map(|i| format!("{prefix}{i}"))
            .filter(|k| guard.digest(k).shard() == 0)
            .take(n)
            .collect()
    }

    #[test]
    fn sweeps_run_only_once_something_lapsed() {
        let guard = MemoryReplayGuard::new();
        let keep = Duration::from_secs(3600);
        let keys = keys_of_one_shard(&guard, "k", SWEEP_EVERY as usize);
        for key in &keys {
            if let Claim::Acquired(ticket) = claim(&guard, key, keep) {
                guard.complete_now(&ticket, keep);
            }
        }
        // Nothing has lapsed: every key is still held, and the sweep was skipped.
        assert_eq!(guard.len(), keys.len());
        let now = guard.now();
        assert!(lock(&guard.shards[0]).next_lapse.is_some_and(|t| t > now));

        // Short leases that lapse: the shard's next sweep drops them and keeps the rest.
        for key in keys_of_one_shard(&guard, "short", 10) {
            let _ = claim(&guard, &key, Duration::from_millis(1));
        }
        assert_eq!(guard.len(), keys.len() + 10);
        std::thread::sleep(Duration::from_millis(5));
        for key in &keys {
            let _ = claim(&guard, key, keep);
        }
        assert_eq!(guard.len(), keys.len());
        // The earliest lapse left is a completed key's.
        let later = guard.now() + nanos(Duration::from_secs(3000));
        assert!(lock(&guard.shards[0]).next_lapse.is_some_and(|t| t > later));
    }

    #[test]
    fn keys_spread_over_every_shard_and_slots_stay_compact() {
        let guard = MemoryReplayGuard::new();
        let mut per_shard = [0usize; SHARDS];
        for i in 0..16_000 {
            per_shard[guard.digest(&format!("novinpal:{i}")).shard()] += 1;
        }
        // 1,000 expected per shard; a shard outside 800..1200 would mean a biased choice.
        assert!(
            per_shard.iter().all(|n| (800..1200).contains(n)),
            "{per_shard:?}"
        );
        assert_eq!(std::mem::size_of::<(Digest, Slot)>(), 32);
        assert_eq!(std::mem::align_of::<Shard>(), 64);
    }

    #[test]
    fn deadlines_saturate_instead_of_overflowing() {
        let guard = MemoryReplayGuard::new();
        let ticket = acquire(&guard, "novinpal:1", Duration::MAX);
        assert_eq!(
            claim(&guard, "novinpal:1", Duration::MAX),
            Claim::InProgress
        );
        guard.complete_now(&ticket, Duration::MAX);
        assert_eq!(
            claim(&guard, "novinpal:1", Duration::ZERO),
            Claim::Completed
        );
    }

    #[test]
    fn keys_short_and_long_are_claimed_alike() {
        // A ticket holds keys of 24 bytes and fewer inline, longer ones on the heap.
        let guard = MemoryReplayGuard::new();
        let keep = Duration::from_secs(60);
        for len in [1, 24, 25, 300] {
            let key = "k".repeat(len);
            let ticket = acquire(&guard, &key, keep);
            assert_eq!(ticket.key(), key);
            assert_eq!(ticket, ClaimTicket::new(&key, ticket.token()));
            assert_eq!(ticket, ClaimTicket::new(key.clone(), ticket.token()));
            assert_eq!(claim(&guard, &key, keep), Claim::InProgress);
            guard.complete_now(&ticket, keep);
            assert_eq!(claim(&guard, &key, keep), Claim::Completed);
        }
        // A key one byte longer is another key.
        assert!(matches!(
            claim(&guard, &"k".repeat(301), keep),
            Claim::Acquired(_)
        ));
    }

    #[test]
    fn a_ticket_with_the_completed_token_releases_nothing() {
        let guard = MemoryReplayGuard::new();
        let keep = Duration::from_secs(60);
        let ticket = acquire(&guard, "novinpal:1", keep);
        assert_ne!(ticket.token(), COMPLETED);
        guard.complete_now(&ticket, keep);
        guard.release_now(&ClaimTicket::new("novinpal:1", COMPLETED));
        assert_eq!(claim(&guard, "novinpal:1", keep), Claim::Completed);
    }

    #[test]
    fn a_ticket_is_found_by_the_guard_that_issued_it_and_by_key_elsewhere() {
        let (first, second) = (MemoryReplayGuard::new(), MemoryReplayGuard::new());
        let keep = Duration::from_secs(60);
        let ticket = acquire(&first, "novinpal:1", keep);
        // The second guard holds nothing of the first's claim.
        let _second_claim = acquire(&second, "novinpal:1", keep);
        // The first guard's ticket carries its digest, which the second guard must not
        // use: its own seeds give the key another digest.
        second.complete_now(&ticket, keep);
        assert_eq!(claim(&second, "novinpal:1", keep), Claim::Completed);
        assert_eq!(claim(&first, "novinpal:1", keep), Claim::InProgress);
        // A ticket rebuilt from key and token (as a store would) completes by key.
        first.complete_now(&ClaimTicket::new(ticket.key(), ticket.token()), keep);
        assert_eq!(claim(&first, "novinpal:1", keep), Claim::Completed);
        assert_eq!(ticket, ClaimTicket::new("novinpal:1", ticket.token()));
        assert!(!format!("{ticket:?}").contains("digest"));
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
