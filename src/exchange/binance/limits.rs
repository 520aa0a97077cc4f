//! Staying under Binance's rate limits, and stopping dead when told to.
//!
//! Three layers, cheapest first:
//!
//! 1. **Hard halt.** A 429 or 418 (REST `Retry-After` in seconds, WebSocket API `retryAfter` in
//!    epoch ms) halts *every* request until the time passes: limits are per IP, and hammering
//!    after a 429 earns a ban of up to three days. Requests during a halt fail at once with
//!    `RateLimited` without touching the network.
//! 2. **Local budget.** A governor (GCRA) per limit from `exchangeInfo.rateLimits`, sized so
//!    that any window of the limit's length holds at most `budget_pct` % of it (burst half the
//!    budget, refill the other half over the window; Binance's windows are fixed, so a full
//!    budget as burst plus a full refill could spend almost twice the budget in one window).
//!    A request waits up to `max_wait` for its cells, then fails `Unavailable`.
//! 3. **Server usage.** `X-MBX-USED-WEIGHT-*` and `X-MBX-ORDER-COUNT-*` from every answer count
//!    what *everyone* on this IP/account used. When they cross the budget, ordinary requests
//!    pause until the window rolls over.
//!
//! Protective requests (placing a stop or an exit, cancelling) bypass layers 2 and 3: a
//! position must not lose its protection to Bert's own caution. They still obey hard halts.

use super::filters::{RateLimit, RateLimitKind};
use crate::exchange::ExchangeError;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// What one request costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cost {
    /// Request weight (Binance's per-endpoint figure).
    pub weight: u32,
    /// Counts toward the order limits (places an order).
    pub order: bool,
    /// Protects an open position (stop, exit, cancel): never delayed by Bert's own budget.
    pub protective: bool,
}

impl Cost {
    pub const fn read(weight: u32) -> Cost {
        Cost { weight, order: false, protective: false }
    }
}

/// A snapshot for `/status` and `bert doctor`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RateUsage {
    /// Last `X-MBX-USED-WEIGHT-<window>` values seen, by window (`1M`).
    pub weight_used: Vec<(String, u32)>,
    /// Last `X-MBX-ORDER-COUNT-<window>` values seen, by window (`10S`, `1D`).
    pub orders_used: Vec<(String, u32)>,
    /// Epoch ms (local clock) until which every request is halted by a 429/418.
    pub halted_until_ms: Option<i64>,
    pub banned: bool,
}

struct Budget {
    limit: RateLimit,
    burst: u32,
    limiter: DefaultDirectRateLimiter,
}

struct Budgets {
    limits: Vec<RateLimit>,
    budgets: Vec<Budget>,
}

impl Budgets {
    fn new(limits: &[RateLimit], pct: u32) -> Budgets {
        let budgets = limits
            .iter()
            .filter_map(|l| {
                let budget = (u64::from(l.limit) * u64::from(pct) / 100).max(2);
                let burst = u32::try_from(budget / 2).unwrap_or(u32::MAX).max(1);
                let interval = Duration::from_millis(u64::try_from(l.interval_ms).ok()?.max(1));
                let quota = Quota::with_period(interval / burst)?.allow_burst(NonZeroU32::new(burst)?);
                Some(Budget { limit: *l, burst, limiter: RateLimiter::direct(quota) })
            })
            .collect();
        Budgets { limits: limits.to_vec(), budgets }
    }
}

#[derive(Default)]
struct Usage {
    weight: HashMap<String, u32>,
    orders: HashMap<String, u32>,
}

#[derive(Default)]
struct State {
    halt_until_ms: i64,
    banned: bool,
    /// Server usage crossed the budget: ordinary requests wait until these (local ms).
    weight_pause_until_ms: i64,
    order_pause_until_ms: i64,
    usage: Usage,
}

/// Shared by the REST client and the WebSocket connections (limits are per IP).
pub struct RateGuard {
    budget_pct: u32,
    max_wait: Duration,
    budgets: RwLock<Arc<Budgets>>,
    state: Mutex<State>,
}

impl std::fmt::Debug for RateGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateGuard").field("budget_pct", &self.budget_pct).field("usage", &self.usage()).finish()
    }
}

impl RateGuard {
    /// `budget_pct`: share of each limit Bert allows itself (e.g. 80). `max_wait`: how long an
    /// ordinary request may wait for budget before failing `Unavailable`.
    pub fn new(budget_pct: u32, max_wait: Duration) -> RateGuard {
        let budget_pct = budget_pct.clamp(1, 100);
        RateGuard {
            budget_pct,
            max_wait,
            budgets: RwLock::new(Arc::new(Budgets::new(&RateLimit::defaults(), budget_pct))),
            state: Mutex::new(State::default()),
        }
    }

    /// Installs the limits read from `exchangeInfo` (a no-op when unchanged, so the budgets
    /// already spent are kept).
    pub fn install(&self, limits: &[RateLimit]) {
        if limits.is_empty() {
            return;
        }
        let unchanged = self.budgets.read().map(|b| b.limits == limits).unwrap_or(false);
        if !unchanged && let Ok(mut b) = self.budgets.write() {
            *b = Arc::new(Budgets::new(limits, self.budget_pct));
        }
    }

    pub fn limits(&self) -> Vec<RateLimit> {
        self.budgets.read().map(|b| b.limits.clone()).unwrap_or_default()
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        // A poisoned lock only means another thread panicked mid-update of plain numbers; the
        // numbers are still usable.
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Fails at once if a hard halt is in force. The error is `RateLimited` with the halt's
    /// end, as the 429/418 answer that started it was: the request was not sent, and the
    /// engine must not count Bert keeping Binance's rule as the exchange failing.
    pub fn check_halt(&self, now_ms: i64) -> Result<(), ExchangeError> {
        self.with_state(|s| {
            if now_ms < s.halt_until_ms {
                return Err(ExchangeError::RateLimited { retry_after_ms: s.halt_until_ms, banned: s.banned });
            }
            Ok(())
        })
    }

    /// Milliseconds until the hard halt ends (0 when none).
    pub fn halt_remaining_ms(&self, now_ms: i64) -> i64 {
        self.with_state(|s| (s.halt_until_ms - now_ms).max(0))
    }

    /// Halts every request until `until_ms` (local epoch ms).
    pub fn halt(&self, until_ms: i64, banned: bool) {
        self.with_state(|s| {
            if until_ms > s.halt_until_ms {
                s.halt_until_ms = until_ms;
                s.banned = banned;
            }
        });
        tracing::warn!(until_ms, banned, "Binance rate limit: all requests halted");
    }

    /// Waits for the budget of one request, or explains why it may not be sent now.
    pub async fn acquire(&self, cost: Cost, now_ms: i64) -> Result<(), ExchangeError> {
        self.check_halt(now_ms)?;
        if !cost.protective {
            self.with_state(|s| {
                if now_ms < s.weight_pause_until_ms || (cost.order && now_ms < s.order_pause_until_ms) {
                    return Err(ExchangeError::Unavailable {
                        reason: "Binance usage on this IP is near the limit; waiting for the window to roll over"
                            .into(),
                    });
                }
                Ok(())
            })?;
        }
        let budgets = self
            .budgets
            .read()
            .map(|b| Arc::clone(&b))
            .map_err(|_| ExchangeError::Unavailable { reason: "rate budget unavailable".into() })?;
        for b in &budgets.budgets {
            let n = match b.limit.kind {
                RateLimitKind::RequestWeight => cost.weight,
                RateLimitKind::RawRequests => 1,
                RateLimitKind::Orders if cost.order => 1,
                RateLimitKind::Orders => 0,
            };
            let Some(n) = NonZeroU32::new(n.min(b.burst)) else { continue };
            if cost.protective {
                // Spend what is there, never wait.
                let _ = b.limiter.check_n(n);
                continue;
            }
            match tokio::time::timeout(self.max_wait, b.limiter.until_n_ready(n)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => {
                    return Err(ExchangeError::Unavailable {
                        reason: format!(
                            "Bert's own request budget ({}% of Binance's limit) is spent for now",
                            self.budget_pct
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// Reads the usage headers of an answer. `server_now_ms` places the fixed windows.
    pub fn observe<'a>(&self, headers: impl IntoIterator<Item = (&'a str, &'a str)>, now_ms: i64, server_now_ms: i64) {
        let limits = self.limits();
        let pct = u64::from(self.budget_pct);
        self.with_state(|s| {
            for (name, value) in headers {
                let name = name.to_ascii_lowercase();
                let (kind, suffix) = if let Some(sfx) = name.strip_prefix("x-mbx-used-weight-") {
                    (RateLimitKind::RequestWeight, sfx)
                } else if let Some(sfx) = name.strip_prefix("x-mbx-order-count-") {
                    (RateLimitKind::Orders, sfx)
                } else {
                    continue;
                };
                let Ok(used) = value.trim().parse::<u32>() else { continue };
                let suffix = suffix.to_ascii_uppercase();
                let limit = limits.iter().find(|l| l.kind == kind && l.header_suffix() == suffix);
                if let Some(l) = limit
                    && u64::from(used) * 100 >= u64::from(l.limit) * pct
                {
                    let window_left = l.interval_ms - server_now_ms.rem_euclid(l.interval_ms.max(1));
                    let until = now_ms + window_left;
                    let slot = match kind {
                        RateLimitKind::Orders => &mut s.order_pause_until_ms,
                        _ => &mut s.weight_pause_until_ms,
                    };
                    *slot = (*slot).max(until);
                    tracing::warn!(window = %suffix, used, limit = l.limit, "Binance usage near the limit; pausing ordinary requests");
                }
                let map = match kind {
                    RateLimitKind::Orders => &mut s.usage.orders,
                    _ => &mut s.usage.weight,
                };
                map.insert(suffix, used);
            }
        });
    }

    pub fn usage(&self) -> RateUsage {
        self.with_state(|s| {
            let mut weight_used: Vec<_> = s.usage.weight.iter().map(|(k, v)| (k.clone(), *v)).collect();
            let mut orders_used: Vec<_> = s.usage.orders.iter().map(|(k, v)| (k.clone(), *v)).collect();
            weight_used.sort();
            orders_used.sort();
            RateUsage {
                weight_used,
                orders_used,
                halted_until_ms: (s.halt_until_ms > 0).then_some(s.halt_until_ms),
                banned: s.banned,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(weight: u32, orders: u32) -> Vec<RateLimit> {
        vec![
            RateLimit { kind: RateLimitKind::RequestWeight, interval_ms: 60_000, limit: weight },
            RateLimit { kind: RateLimitKind::Orders, interval_ms: 10_000, limit: orders },
        ]
    }

    #[tokio::test]
    async fn budget_is_a_share_of_the_limit_and_never_exceeded() {
        let g = RateGuard::new(80, Duration::from_millis(20));
        g.install(&limits(100, 1000));
        // 80 % of 100 = 80 per minute; at most half of it at once.
        let mut spent = 0;
        while g.acquire(Cost::read(4), 0).await.is_ok() {
            spent += 4;
            assert!(spent <= 80);
        }
        assert_eq!(spent, 40);
        // Protective requests still go.
        assert!(g.acquire(Cost { weight: 1, order: true, protective: true }, 0).await.is_ok());
    }

    #[tokio::test]
    async fn halts_stop_everything_including_protective() {
        let g = RateGuard::new(80, Duration::from_millis(20));
        g.halt(1_000, false);
        for cost in [Cost::read(1), Cost { weight: 1, order: true, protective: true }] {
            assert_eq!(
                g.acquire(cost, 999).await,
                Err(ExchangeError::RateLimited { retry_after_ms: 1_000, banned: false })
            );
            assert!(g.acquire(cost, 1_000).await.is_ok());
        }
        // A shorter halt never shortens a longer one.
        g.halt(5_000, true);
        g.halt(2_000, false);
        assert_eq!(g.halt_remaining_ms(0), 5_000);
        assert!(g.usage().banned);
    }

    #[tokio::test]
    async fn server_usage_headers_pause_ordinary_requests_until_the_window_rolls() {
        let g = RateGuard::new(80, Duration::from_millis(20));
        g.install(&limits(6000, 50));
        g.observe([("X-MBX-USED-WEIGHT-1M", "100"), ("x-mbx-order-count-10s", "3")], 0, 0);
        assert!(g.acquire(Cost::read(1), 0).await.is_ok());
        // Someone else on this IP used 4,900 of 6,000; 15 s into the minute.
        g.observe([("x-mbx-used-weight-1m", "4900")], 1_000, 15_000);
        assert!(g.acquire(Cost::read(1), 1_000).await.is_err());
        assert!(g.acquire(Cost { weight: 1, order: true, protective: true }, 1_000).await.is_ok());
        assert!(g.acquire(Cost::read(1), 1_000 + 45_000).await.is_ok());
        let u = g.usage();
        assert_eq!(u.weight_used, vec![("1M".to_string(), 4900)]);
        assert_eq!(u.orders_used, vec![("10S".to_string(), 3)]);
    }
}
