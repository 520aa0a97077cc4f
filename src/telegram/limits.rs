//! Rate limits for everything Bert posts into chats, with governor.
//!
//! Telegram's published limits (Bot FAQ): about one message per second in a chat, 20 messages a
//! minute in a group, about 30 messages a second overall. Telegram tolerates short bursts, but
//! a bot that relies on that meets 429s exactly when it matters (an alert storm), so every
//! limit here is **smooth**: a quota with burst 1, i.e. a minimum interval between two
//! messages, never "20 at once, then silence".
//!
//! * A group's messages are spaced by the *larger* of the per-chat and per-group intervals
//!   (with burst 1 the stricter interval implies the other).
//! * The limiters are generic over their clock (governor's `Clock` with `Duration` readings):
//!   production reads tokio's monotonic clock, the unit tests a [`ManualClock`] they advance
//!   by hand, so the limit logic is tested exactly, without sleeping.
//! * The worker asks for a permit only when it will send at once, and checks the chat's
//!   readiness (known exactly: only the worker takes permits) before the global permit, so a
//!   global permit is practically never taken for a message that then cannot go.
//! * State is in memory: after a restart the windows start empty. The worst case is one
//!   message per chat sooner than a second after the last one before the restart, which
//!   Telegram's burst tolerance absorbs (and a 429 would be honoured anyway).

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::HashMapStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// The minimum interval between two messages: per chat, per group chat, and overall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutboxLimits {
    pub per_chat: Duration,
    pub per_group: Duration,
    pub global: Duration,
}

impl OutboxLimits {
    /// Telegram's limits: 1 message/s per chat, 20/min per group, 30/s overall.
    pub const TELEGRAM: OutboxLimits = OutboxLimits {
        per_chat: Duration::from_secs(1),
        per_group: Duration::from_secs(3),
        // Rounded up, so 30 messages never fit in one second.
        global: Duration::from_nanos(1_000_000_000_u64.div_ceil(30)),
    };

    /// Every limit `factor` times faster (tests and benchmarks run the real logic against a
    /// fake enforcing the same scaled limits). A factor of 0 is treated as 1.
    pub fn scaled(self, factor: u32) -> OutboxLimits {
        let f = u128::from(factor.max(1));
        // Rounded up: a scaled limit is never looser than the exact fraction.
        let div = |d: Duration| Duration::from_nanos(u64::try_from(d.as_nanos().div_ceil(f)).unwrap_or(u64::MAX));
        OutboxLimits { per_chat: div(self.per_chat), per_group: div(self.per_group), global: div(self.global) }
    }

    /// The interval that applies to one chat (groups have negative ids).
    pub fn interval_for(&self, chat: i64) -> Duration {
        if is_group(chat) { self.per_chat.max(self.per_group) } else { self.per_chat }
    }
}

impl Default for OutboxLimits {
    fn default() -> Self {
        OutboxLimits::TELEGRAM
    }
}

/// Groups, supergroups and channels have negative ids; users (private chats) positive ones.
pub fn is_group(chat: i64) -> bool {
    chat < 0
}

/// governor's clock in production: time since the limiter was made, on tokio's clock.
#[derive(Clone, Debug)]
pub struct TokioClock {
    origin: Instant,
}

impl TokioClock {
    pub fn new() -> Self {
        TokioClock { origin: Instant::now() }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock::new()
    }
}

impl Clock for TokioClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }
}

/// A clock that moves only when told to: deterministic tests of the limits.
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

/// The clocks a [`Limiter`] can run on: readings are durations since an origin.
pub trait LimitClock: Clock<Instant = Duration> + Clone + Send + Sync + 'static {}
impl<T: Clock<Instant = Duration> + Clone + Send + Sync + 'static> LimitClock for T {}

type Direct<C> = RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<Duration>>;
type Keyed<C> = RateLimiter<i64, HashMapStateStore<i64>, C, NoOpMiddleware<Duration>>;

/// A quota of one cell per `interval` with burst 1. A zero interval (an absurd scale) is
/// treated as one nanosecond.
fn smooth(interval: Duration) -> Quota {
    let interval = interval.max(Duration::from_nanos(1));
    // `with_period` is `None` only for a zero period, excluded above.
    Quota::with_period(interval).unwrap_or_else(|| Quota::per_second(std::num::NonZeroU32::MIN))
}

/// Why a chat cannot send now, and how long it must wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocked {
    /// This chat (or group) must wait.
    Chat(Duration),
    /// Every chat must wait: the overall limit.
    Global(Duration),
}

/// The outbox's limiters (see the module docs).
pub struct Limiter<C: LimitClock = TokioClock> {
    limits: OutboxLimits,
    clock: C,
    global: Direct<C>,
    private: Keyed<C>,
    groups: Keyed<C>,
    /// When (clock reading) each chat's next permit is available, as far as the worker knows
    /// (exact, since only the worker takes permits). Lets it skip a chat without touching any
    /// limiter.
    ready: HashMap<i64, Duration>,
    /// Global permits taken for a message that then could not go (should stay 0).
    pub wasted: u64,
}

impl Limiter<TokioClock> {
    pub fn new(limits: OutboxLimits) -> Self {
        Limiter::with_clock(limits, TokioClock::new())
    }
}

impl<C: LimitClock> Limiter<C> {
    pub fn with_clock(limits: OutboxLimits, clock: C) -> Self {
        Limiter {
            limits,
            global: RateLimiter::direct_with_clock(smooth(limits.global), clock.clone()),
            private: RateLimiter::hashmap_with_clock(smooth(limits.per_chat), clock.clone()),
            groups: RateLimiter::hashmap_with_clock(smooth(limits.interval_for(-1)), clock.clone()),
            clock,
            ready: HashMap::new(),
            wasted: 0,
        }
    }

    pub fn limits(&self) -> OutboxLimits {
        self.limits
    }

    /// How long `chat` must still wait as far as its own limit goes (`None`: it may send).
    pub fn chat_wait(&self, chat: i64) -> Option<Duration> {
        let now = self.clock.now();
        self.ready.get(&chat).filter(|t| **t > now).map(|t| *t - now)
    }

    /// Takes a permit for one message to `chat`, or says how long it must wait.
    pub fn acquire(&mut self, chat: i64) -> Result<(), Blocked> {
        if let Some(wait) = self.chat_wait(chat) {
            return Err(Blocked::Chat(wait));
        }
        if let Err(not_until) = self.global.check() {
            return Err(Blocked::Global(not_until.wait_time_from(self.clock.now())));
        }
        let keyed = if is_group(chat) { &self.groups } else { &self.private };
        let now = self.clock.now();
        match keyed.check_key(&chat) {
            Ok(()) => {
                self.ready.insert(chat, now + self.limits.interval_for(chat));
                Ok(())
            }
            Err(not_until) => {
                self.wasted += 1;
                let wait = not_until.wait_time_from(now);
                self.ready.insert(chat, now + wait);
                Err(Blocked::Chat(wait))
            }
        }
    }

    /// Makes `chat` wait at least `wait` from now, on top of its quota. The worker calls it
    /// with "interval after the request actually left": a permit is taken when a step starts,
    /// and local delays before the request (a slow disk read while building the message) must
    /// not shrink the gap Telegram sees between two messages.
    pub fn defer(&mut self, chat: i64, wait: Duration) {
        let at = self.clock.now() + wait;
        let ready = self.ready.entry(chat).or_insert(at);
        *ready = (*ready).max(at);
    }

    /// Forgets chats whose limits have long expired (memory stays bounded by active chats).
    pub fn prune(&mut self) {
        let now = self.clock.now();
        self.ready.retain(|_, t| *t > now);
        self.private.retain_recent();
        self.groups.retain_recent();
    }
}

/// A per-key limiter for incoming commands (key: the sender's user id, or the chat id for
/// messages without a user): a burst, then one command per `per`.
pub struct CommandLimiter<C: LimitClock = TokioClock> {
    limiter: Keyed<C>,
}

impl CommandLimiter<TokioClock> {
    pub fn new(burst: u32, per: Duration) -> Self {
        CommandLimiter::with_clock(burst, per, TokioClock::new())
    }
}

impl<C: LimitClock> CommandLimiter<C> {
    pub fn with_clock(burst: u32, per: Duration, clock: C) -> Self {
        let burst = std::num::NonZeroU32::new(burst).unwrap_or(std::num::NonZeroU32::MIN);
        let quota = smooth(per).allow_burst(burst);
        CommandLimiter { limiter: RateLimiter::hashmap_with_clock(quota, clock) }
    }

    /// True if `key` may run one more command now.
    pub fn allow(&self, key: i64) -> bool {
        self.limiter.check_key(&key).is_ok()
    }

    pub fn prune(&self) {
        self.limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> (Limiter<ManualClock>, ManualClock) {
        let clock = ManualClock::default();
        (Limiter::with_clock(OutboxLimits::TELEGRAM, clock.clone()), clock)
    }

    /// Sends to `chats` in turn for `span`, waiting exactly as told; returns the send times.
    fn drive(l: &mut Limiter<ManualClock>, clock: &ManualClock, chats: &[i64], span: Duration) -> Vec<(i64, Duration)> {
        let mut sent = Vec::new();
        let mut i = 0;
        while clock.now() < span {
            let chat = chats[i % chats.len()];
            match l.acquire(chat) {
                Ok(()) => {
                    sent.push((chat, clock.now()));
                    i += 1;
                }
                Err(Blocked::Global(w)) => clock.advance(w),
                Err(Blocked::Chat(w)) => {
                    // Try the other chats first; advance only when every chat waits.
                    let all_wait = chats.iter().all(|c| l.chat_wait(*c).is_some());
                    if all_wait {
                        let min = chats.iter().filter_map(|c| l.chat_wait(*c)).min().unwrap_or(w);
                        clock.advance(min);
                    }
                    i += 1;
                }
            }
        }
        sent
    }

    #[test]
    fn private_chats_are_spaced_by_the_per_chat_interval() {
        let (mut l, clock) = limiter();
        assert_eq!(l.acquire(1), Ok(()));
        // No burst: the second message must wait a whole second.
        assert_eq!(l.acquire(1), Err(Blocked::Chat(Duration::from_secs(1))));
        // Another chat is not affected beyond the global spacing.
        assert!(matches!(l.acquire(2), Err(Blocked::Global(_))));
        clock.advance(OutboxLimits::TELEGRAM.global);
        assert_eq!(l.acquire(2), Ok(()));
        clock.advance(Duration::from_millis(966));
        assert!(l.acquire(1).is_err());
        clock.advance(Duration::from_millis(1));
        assert_eq!(l.acquire(1), Ok(()));
        assert_eq!(l.wasted, 0);
    }

    #[test]
    fn groups_get_twenty_a_minute_smoothly() {
        let (mut l, clock) = limiter();
        let sent = drive(&mut l, &clock, &[-42], Duration::from_secs(60));
        assert_eq!(sent.len(), 20, "{sent:?}");
        for pair in sent.windows(2) {
            assert_eq!(pair[1].1 - pair[0].1, Duration::from_secs(3));
        }
    }

    #[test]
    fn the_global_limit_spaces_all_chats() {
        let (mut l, clock) = limiter();
        let chats: Vec<i64> = (1..=100).collect();
        let sent = drive(&mut l, &clock, &chats, Duration::from_secs(1));
        assert_eq!(sent.len(), 30);
        for pair in sent.windows(2) {
            assert!(pair[1].1 - pair[0].1 >= OutboxLimits::TELEGRAM.global);
        }
        assert_eq!(l.wasted, 0);
    }

    #[test]
    fn mixed_load_never_exceeds_any_limit() {
        let (mut l, clock) = limiter();
        let chats = [1, 2, 3, -10, -20];
        let sent = drive(&mut l, &clock, &chats, Duration::from_secs(120));
        for chat in chats {
            let times: Vec<Duration> = sent.iter().filter(|(c, _)| *c == chat).map(|(_, t)| *t).collect();
            let gap = OutboxLimits::TELEGRAM.interval_for(chat);
            assert!(times.windows(2).all(|w| w[1] - w[0] >= gap), "{chat}");
            // Each chat got its full share: 120 s / interval.
            assert_eq!(times.len() as u128, 120_000 / gap.as_millis(), "{chat}");
        }
        assert_eq!(l.wasted, 0);
    }

    #[test]
    fn scaled_limits() {
        let limits = OutboxLimits::TELEGRAM.scaled(100);
        assert_eq!(limits.per_chat, Duration::from_millis(10));
        assert_eq!(limits.interval_for(-5), Duration::from_millis(30));
        assert_eq!(OutboxLimits::TELEGRAM.scaled(0), OutboxLimits::TELEGRAM);
    }

    #[test]
    fn command_limiter_allows_a_burst_then_throttles() {
        let clock = ManualClock::default();
        let l = CommandLimiter::with_clock(3, Duration::from_secs(2), clock.clone());
        assert!((0..3).all(|_| l.allow(7)));
        assert!(!l.allow(7));
        assert!(l.allow(8), "other users are not affected");
        clock.advance(Duration::from_secs(2));
        assert!(l.allow(7));
        assert!(!l.allow(7));
    }
}
