//! The adapter's settings, with Binance-appropriate defaults.

use super::sign::Secret;
use super::urls::{BinanceMode, BinanceUrls};
use crate::domain::{Clock, SystemClock};
use std::sync::Arc;
use std::time::Duration;

/// Everything [`BinanceExchange`](super::BinanceExchange) needs. Build it with
/// [`BinanceConfig::new`] and adjust fields; the defaults follow Binance's documented rules.
#[derive(Clone, Debug)]
pub struct BinanceConfig {
    pub mode: BinanceMode,
    pub urls: BinanceUrls,
    /// Sent as `X-MBX-APIKEY` / `apiKey`. Printed as `***`.
    pub api_key: Secret,
    /// The HMAC key. Printed as `***`.
    pub api_secret: Secret,
    /// `recvWindow` in ms. Binance recommends ≤ 5,000 (a late request is refused instead of
    /// executing at a stale price); the maximum is 60,000.
    pub recv_window_ms: u32,
    /// Whole-request timeout. Longer than Binance's own 10 s backend timeout, so Binance
    /// usually answers `-1007` first; either way the outcome is treated as unknown.
    pub request_timeout: Duration,
    /// Time to establish a connection. A connect failure means nothing was sent.
    pub connect_timeout: Duration,
    /// Share (%) of each Binance rate limit Bert allows itself.
    pub budget_pct: u32,
    /// How long an ordinary request may wait for local budget before failing `Unavailable`.
    pub max_budget_wait: Duration,
    pub user_stream: StreamConfig,
    pub market_stream: StreamConfig,
    /// The local clock (the wall clock in production; tests inject a manual one).
    pub clock: Arc<dyn Clock>,
}

/// Connection-keeping rules for a WebSocket (user data or market stream).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamConfig {
    /// No frame and no ping for this long means the connection is dead (Binance pings every
    /// 20 s).
    pub silence_timeout: Duration,
    /// Reconnect delays: `initial`, doubling, capped at `max` (plus up to 25 % jitter).
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// A connection that lived this long resets the backoff.
    pub stable_after: Duration,
    /// Binance closes connections at 24 h; a fresh one is opened (and subscribed) before the
    /// old one is closed, so no event falls in a gap.
    pub rotate_after: Duration,
    /// Time allowed for connecting and for the subscribe answer.
    pub open_timeout: Duration,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            silence_timeout: Duration::from_secs(60),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(8),
            stable_after: Duration::from_secs(60),
            rotate_after: Duration::from_secs(23 * 3600),
            open_timeout: Duration::from_secs(10),
        }
    }
}

impl BinanceConfig {
    /// Defaults for `mode`, with its standard URLs.
    pub fn new(mode: BinanceMode, api_key: Secret, api_secret: Secret) -> Self {
        BinanceConfig {
            mode,
            urls: mode.default_urls(),
            api_key,
            api_secret,
            recv_window_ms: 5_000,
            request_timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            budget_pct: 80,
            max_budget_wait: Duration::from_secs(5),
            user_stream: StreamConfig::default(),
            market_stream: StreamConfig::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Whether credentials are present (public market data works without them).
    pub fn has_credentials(&self) -> bool {
        !self.api_key.is_empty() && !self.api_secret.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_credentials() {
        let c = BinanceConfig::new(BinanceMode::Live, Secret::new("my-key-123"), Secret::new("my-secret-456"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("my-key-123") && !shown.contains("my-secret-456"), "{shown}");
        assert!(c.has_credentials());
        assert_eq!(c.recv_window_ms, 5_000);
    }
}
