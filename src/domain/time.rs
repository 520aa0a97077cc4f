//! Time as milliseconds since the Unix epoch (UTC), the unit Binance uses on the wire.

use serde::{Deserialize, Serialize};
use std::fmt;

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
