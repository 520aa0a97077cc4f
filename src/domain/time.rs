//! Time as milliseconds since the Unix epoch (UTC), the unit Binance uses on the wire.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};

/// A point in time: milliseconds since 1970-01-01T00:00:00Z.
///
/// Time is injected everywhere (the engine takes `now` as an argument), so tests and backtests
/// never read the wall clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const MS_PER_SECOND: i64 = 1_000;
    pub const MS_PER_MINUTE: i64 = 60_000;
    pub const MS_PER_HOUR: i64 = 3_600_000;
    pub const MS_PER_DAY: i64 = 86_400_000;

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn plus_millis(self, ms: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }

    /// Milliseconds from `earlier` to `self` (negative if `earlier` is later).
    pub fn since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// Whole days from `earlier` to `self`, rounded down.
    pub fn days_since(self, earlier: Timestamp) -> i64 {
        self.since(earlier).div_euclid(Self::MS_PER_DAY)
    }

    /// The current wall-clock time. Only the application edge calls this; the engine never does.
    pub fn now() -> Timestamp {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Timestamp(ms)
    }

    /// `YYYY-MM-DD` in UTC.
    pub fn date(self) -> String {
        match chrono::DateTime::from_timestamp_millis(self.0) {
            Some(t) => t.format("%Y-%m-%d").to_string(),
            None => format!("@{}", self.0),
        }
    }

    /// `YYYY-MM` in UTC, the bucket used for monthly statistics.
    pub fn month(self) -> String {
        match chrono::DateTime::from_timestamp_millis(self.0) {
            Some(t) => t.format("%Y-%m").to_string(),
            None => format!("@{}", self.0),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match chrono::DateTime::from_timestamp_millis(self.0) {
            Some(t) => write!(f, "{}", t.format("%Y-%m-%d %H:%M:%SZ")),
            None => write!(f, "@{}", self.0),
        }
    }
}

/// Where the service reads "now" from. Injected (the driver, the bot, the Binance adapter take
/// one) so tests control time instead of sleeping on the wall clock.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    fn now(&self) -> Timestamp;
}

/// A clock that moves only when told. Tests inject it wherever the service takes a [`Clock`],
/// so schedules, expiries, halts and timeouts are tested without waiting on wall-clock time.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        ManualClock(AtomicI64::new(start.millis()))
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn set(&self, at: Timestamp) {
        self.0.store(at.millis(), Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    /// 2023-11-14 22:13:20 UTC: a fixed, recent-looking instant.
    fn default() -> Self {
        ManualClock::new(Timestamp(1_700_000_000_000))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// The wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}
