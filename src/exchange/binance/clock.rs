//! The server-time offset every signed request's `timestamp` is built from.
//!
//! Binance rejects a request whose `timestamp` is more than 1 s ahead of its clock or older than
//! `recvWindow` (`-1021`). A host clock a few seconds off would make every order fail, so the
//! adapter measures `serverTime − local midpoint` from `GET /api/v3/time`, keeps it, and measures
//! again whenever Binance answers `-1021`.

use crate::domain::{Clock, Timestamp};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// Local clock plus the measured offset to Binance's clock.
///
/// The local clock is injected: everything in the adapter that reads the time (signed
/// timestamps, rate-limit halts, their ends) reads it here, so tests can let a halt pass
/// without waiting for it.
#[derive(Debug)]
pub struct ServerClock {
    local: Arc<dyn Clock>,
    offset_ms: AtomicI64,
    synced: AtomicBool,
}

impl ServerClock {
    pub fn new(local: Arc<dyn Clock>) -> Self {
        ServerClock { local, offset_ms: AtomicI64::new(0), synced: AtomicBool::new(false) }
    }

    /// The local clock (epoch ms), for everything that is not sent to Binance.
    pub fn local_now(&self) -> Timestamp {
        self.local.now()
    }

    /// Binance's time as we best know it.
    pub fn now(&self) -> Timestamp {
        self.local_now().plus_millis(self.offset_ms.load(Ordering::Relaxed))
    }

    /// `server − local`, in milliseconds (positive: the server is ahead).
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Whether an offset was ever measured.
    pub fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Relaxed)
    }

    /// Records a measurement: the server said `server_time` for a request sent at local `sent`
    /// and answered at local `received`. The midpoint halves the round-trip error.
    pub fn observe(&self, server_time: Timestamp, sent: Timestamp, received: Timestamp) -> i64 {
        let midpoint = sent.millis() + received.since(sent) / 2;
        let offset = server_time.millis() - midpoint;
        self.offset_ms.store(offset, Ordering::Relaxed);
        self.synced.store(true, Ordering::Relaxed);
        offset
    }

    /// Converts a server timestamp (e.g. a WebSocket `retryAfter`) to the local clock.
    pub fn to_local(&self, server: Timestamp) -> Timestamp {
        server.plus_millis(-self.offset_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_uses_the_round_trip_midpoint() {
        let local = Arc::new(crate::domain::ManualClock::new(Timestamp(20_000)));
        let c = ServerClock::new(local.clone());
        assert!(!c.is_synced());
        // Sent at 1000, answered at 1100: midpoint 1050; server said 6050 → offset 5000.
        assert_eq!(c.observe(Timestamp(6050), Timestamp(1000), Timestamp(1100)), 5000);
        assert!(c.is_synced());
        assert_eq!(c.offset_ms(), 5000);
        assert_eq!(c.to_local(Timestamp(10_000)), Timestamp(5000));
        assert_eq!(c.now(), Timestamp(25_000), "the injected local clock plus the offset");
        local.advance(1_000);
        assert_eq!(c.now(), Timestamp(26_000));
    }
}
