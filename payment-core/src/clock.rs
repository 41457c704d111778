//! Time, injectable so that expiry can be tested without waiting.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
};

use time::{Duration, OffsetDateTime};

/// Where the library reads the current time from.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that stands still until moved; clones share the same time. For tests.
///
/// ```
/// use payment_core::clock::{Clock, ManualClock};
/// use payment_core::time::Duration;
/// let clock = ManualClock::starting_now();
/// let before = clock.now();
/// clock.advance(Duration::minutes(31));
/// assert_eq!(clock.now() - before, Duration::minutes(31));
/// ```
#[derive(Clone)]
pub struct ManualClock {
    unix_seconds: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock set to `at`, to whole seconds.
    pub fn at(at: OffsetDateTime) -> Self {
        Self {
            unix_seconds: Arc::new(AtomicI64::new(at.unix_timestamp())),
        }
    }

    /// A clock set to the current system time.
    pub fn starting_now() -> Self {
        Self::at(OffsetDateTime::now_utc())
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        self.unix_seconds
            .fetch_add(by.whole_seconds(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.unix_seconds.load(Ordering::SeqCst))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}
