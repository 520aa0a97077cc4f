//! Edge70: Donchian-channel breakouts on closed daily candles, as the original system ran it.
//!
//! The rules (seed-system reference, §4.4), per symbol and per closed daily candle:
//!
//! 1. Two rolling windows of **prior** closed candles: the highs of the last `long_lookback`
//!    (59) and the lows of the last `short_lookback` (21). "Prior" matters: 59 prior candles
//!    plus the new one is TradingView's 60-day high. The new candle enters both windows **after**
//!    it has been evaluated, always (whatever the outcome).
//! 2. Long trigger: `candle.high > max(prior highs)`, strictly, wicks included.
//! 3. Short trigger: `candle.low < min(prior lows)`, strictly, wicks included.
//! 4. A side whose window is not yet full does not trigger.
//! 5. Both triggers on the same candle (an outside bar that breaks both channels): no signal and
//!    the direction is left as it was. The original logged a warning and returned; Bert keeps that
//!    rule explicitly, because such a candle says nothing about the trend.
//! 6. Long trigger → direction `Long`; short trigger → `Short`; neither → unchanged.
//! 7. A signal is emitted only when the direction *changes*: from unknown to known it is a
//!    [`SignalKind::Possible`] signal ("check manually": we did not see the reversal happen, e.g.
//!    after a restart without history, so it may be mid-trend); from one side to the other it is a
//!    [`SignalKind::Flip`]. The same direction again emits nothing (no pyramiding, no re-entry).
//!
//! On spot, `Long` means "enter" and `Short` means "exit fully"; that mapping belongs to the
//! engine, not here. This module is pure: no I/O, no clock, no persistence. The caller persists
//! [`Edge70::direction`] (without the original's 25-hour expiry) and restores it with
//! [`Edge70::with_direction`], or rebuilds it from history with [`Edge70::warm_up`].
//!
//! The caller must feed each closed candle exactly once and in time order: the windows count
//! candles, not days, so a duplicate would shift them.

use super::window::{DecimalKey, RollingMax, RollingMin};
use crate::domain::{Candle, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The two lookbacks, counted in **prior** candles (one less than TradingView's high/low length,
/// which includes the current candle).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Edge70Params {
    /// Prior candles whose highest high a long breakout must exceed (59: the 60-day high).
    pub long_lookback: usize,
    /// Prior candles whose lowest low a short breakout must undercut (21: the 22-day low).
    pub short_lookback: usize,
}

impl Default for Edge70Params {
    /// The deployed configuration, `edge70-60`.
    fn default() -> Self {
        Edge70Params { long_lookback: 59, short_lookback: 21 }
    }
}

impl Edge70Params {
    /// The original's key slug for a parameter set, e.g. `59L21S`: persisted strategy state
    /// should be namespaced by it, so changing the lookbacks never reuses a stale direction.
    pub fn slug(&self) -> String {
        format!("{}L{}S", self.long_lookback, self.short_lookback)
    }

    /// How many candles of history fill both windows.
    pub fn required_history(&self) -> usize {
        self.long_lookback.max(self.short_lookback)
    }
}

/// The market direction Edge70 believes in. On spot, `Long` = be in the market, `Short` = be out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    Long,
    Short,
}

/// Why a signal was emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SignalKind {
    /// The previous direction was unknown: the breakout is real but we cannot tell whether it
    /// is a reversal, so a human should check before acting ("possible signal, check
    /// manually"). The original never traded these.
    Possible,
    /// The direction changed from one side to the other: the tradable signal.
    Flip,
}

/// A breakout that changed the direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge70Signal {
    pub direction: Direction,
    pub kind: SignalKind,
    /// The level that was broken: the prior highest high (long) or prior lowest low (short).
    pub level: Decimal,
    /// The signal price: the candle's close (the original's `signal_price`).
    pub price: Decimal,
    /// The candle's `close_time` (the last millisecond of the day). The original published
    /// `close_time + 1`; Bert keeps the candle's own timestamp and lets consumers add the
    /// millisecond if they want the next day's open.
    pub candle_close: Timestamp,
}

/// The Edge70 state of one symbol.
#[derive(Clone, Debug)]
pub struct Edge70 {
    params: Edge70Params,
    channels: Channels,
    direction: Option<Direction>,
}

/// The two rolling windows (highs for the long side, lows for the short side), keyed for speed.
///
/// `on_candle` is the inner loop of every backtest and parameter sweep, and comparing
/// `Decimal`s is several times slower than comparing integers. Prices of one symbol share one
/// scale in practice (Binance prints 8 decimals; the CSV loader and the synthetic market use the
/// tick's), so the windows normally hold each price's mantissa at a common scale as an `i64`:
/// exactly the same order, the cheapest comparison there is. A price with more decimals widens
/// the common scale (the stored keys are multiplied up, which preserves their order); a price
/// that does not fit an `i64` at the common scale switches the windows to [`DecimalKey`]s for
/// good. Either way every comparison is exact; only the speed differs.
#[derive(Clone, Debug)]
enum Channels {
    /// Keys are `mantissa × 10^(scale − price scale)`, i.e. the price × 10^scale, exactly.
    Fast { scale: u32, highs: RollingMax<i64>, lows: RollingMin<i64> },
    /// Any decimal at all.
    Exact { highs: RollingMax<DecimalKey>, lows: RollingMin<DecimalKey> },
}

/// `price × 10^scale` as an `i64`, when that is an exact integer that fits.
#[inline]
fn fast_key(price: Decimal, scale: u32) -> Option<i64> {
    let price_scale = price.scale();
    if price_scale == scale {
        return i64::try_from(price.mantissa()).ok();
    }
    let factor = 10i128.checked_pow(scale.checked_sub(price_scale)?)?;
    i64::try_from(price.mantissa().checked_mul(factor)?).ok()
}

/// The price a fast key stands for.
fn from_fast_key(key: i64, scale: u32) -> Decimal {
    // Invariant: `scale` is always the scale of some `Decimal` seen earlier (or 0), so it is
    // within `Decimal`'s 0..=28 and `Decimal::new` cannot panic.
    Decimal::new(key, scale)
}

/// The rule itself, on keys: the long side triggers when the high is strictly above the prior
/// highest high, the short side when the low is strictly below the prior lowest low, each only
/// with a full window; then both values join their windows.
#[inline]
fn evaluate_and_push_keys<K: Ord + Copy + Default>(
    highs: &mut RollingMax<K>,
    lows: &mut RollingMin<K>,
    high: K,
    low: K,
    to_decimal: impl Fn(K) -> Decimal,
) -> (Option<Decimal>, Option<Decimal>) {
    let long = if highs.is_full() { highs.get().filter(|level| high > *level) } else { None };
    let short = if lows.is_full() { lows.get().filter(|level| low < *level) } else { None };
    highs.push(high);
    lows.push(low);
    (long.map(&to_decimal), short.map(&to_decimal))
}

impl Channels {
    fn new(params: Edge70Params) -> Self {
        // Start at scale 0: the first price widens empty windows, which costs nothing.
        Channels::Fast {
            scale: 0,
            highs: RollingMax::new(params.long_lookback),
            lows: RollingMin::new(params.short_lookback),
        }
    }

    /// The prior highest high, when the long window is full.
    fn long_level(&self) -> Option<Decimal> {
        match self {
            Channels::Fast { scale, highs, .. } => {
                highs.is_full().then(|| highs.get()).flatten().map(|k| from_fast_key(k, *scale))
            }
            Channels::Exact { highs, .. } => highs.is_full().then(|| highs.get()).flatten().map(|k| k.0),
        }
    }

    /// The prior lowest low, when the short window is full.
    fn short_level(&self) -> Option<Decimal> {
        match self {
            Channels::Fast { scale, lows, .. } => {
                lows.is_full().then(|| lows.get()).flatten().map(|k| from_fast_key(k, *scale))
            }
            Channels::Exact { lows, .. } => lows.is_full().then(|| lows.get()).flatten().map(|k| k.0),
        }
    }

    fn filled(&self) -> (usize, usize) {
        match self {
            Channels::Fast { highs, lows, .. } => (highs.len(), lows.len()),
            Channels::Exact { highs, lows } => (highs.len(), lows.len()),
        }
    }

    /// Evaluates a candle's high and low against the prior windows, then pushes them. Returns
    /// the broken long level and the broken short level.
    #[inline]
    fn evaluate_and_push(&mut self, high: Decimal, low: Decimal) -> (Option<Decimal>, Option<Decimal>) {
        if let Channels::Fast { scale, highs, lows } = self
            && let (Some(h), Some(l)) = (fast_key(high, *scale), fast_key(low, *scale))
        {
            return evaluate_and_push_keys(highs, lows, h, l, |k| from_fast_key(k, *scale));
        }
        self.evaluate_and_push_slow(high, low)
    }

    /// The rare case, kept out of line so the hot path stays small: a price with more decimals
    /// than seen so far (widen the fast keys), a price too large for them (switch to exact
    /// keys), or exact keys already.
    #[cold]
    #[inline(never)]
    fn evaluate_and_push_slow(&mut self, high: Decimal, low: Decimal) -> (Option<Decimal>, Option<Decimal>) {
        self.widen(high.scale().max(low.scale()));
        if let Channels::Fast { scale, highs, lows } = self
            && let (Some(h), Some(l)) = (fast_key(high, *scale), fast_key(low, *scale))
        {
            return evaluate_and_push_keys(highs, lows, h, l, |k| from_fast_key(k, *scale));
        }
        self.make_exact();
        match self {
            Channels::Exact { highs, lows } => {
                evaluate_and_push_keys(highs, lows, DecimalKey(high), DecimalKey(low), |k| k.0)
            }
            // Unreachable: `make_exact` always leaves exact channels.
            Channels::Fast { .. } => (None, None),
        }
    }

    /// Raises the common scale of fast keys to `new_scale` (no-op if not higher); falls back to
    /// exact keys if a stored key would overflow.
    fn widen(&mut self, new_scale: u32) {
        let Channels::Fast { scale, highs, lows } = self else { return };
        if new_scale <= *scale {
            return;
        }
        let Some(factor) = 10i64.checked_pow(new_scale - *scale) else {
            self.make_exact();
            return;
        };
        // Multiplying by a positive factor preserves the order, as `try_map` requires.
        match (highs.try_map(|k| k.checked_mul(factor)), lows.try_map(|k| k.checked_mul(factor))) {
            (Some(h), Some(l)) => *self = Channels::Fast { scale: new_scale, highs: h, lows: l },
            _ => self.make_exact(),
        }
    }

    /// Switches to exact decimal keys, keeping the windows' contents.
    fn make_exact(&mut self) {
        let Channels::Fast { scale, highs, lows } = self else { return };
        let scale = *scale;
        // Converting a key back to its decimal is exact and strictly increasing, so `try_map`
        // cannot fail here; the `else` keeps the windows empty rather than panicking.
        let to_decimal = |k: i64| Some(DecimalKey(from_fast_key(k, scale)));
        match (highs.try_map(to_decimal), lows.try_map(to_decimal)) {
            (Some(highs), Some(lows)) => *self = Channels::Exact { highs, lows },
            _ => {
                *self =
                    Channels::Exact { highs: RollingMax::new(highs.capacity()), lows: RollingMin::new(lows.capacity()) }
            }
        }
    }
}

impl Edge70 {
    /// A fresh instance: empty windows, unknown direction.
    pub fn new(params: Edge70Params) -> Self {
        Self::with_direction(params, None)
    }

    /// An instance whose direction was persisted earlier. The windows still start empty and
    /// must be refilled (by [`Edge70::warm_up`] or live candles) before anything can trigger.
    pub fn with_direction(params: Edge70Params, direction: Option<Direction>) -> Self {
        Edge70 { params, channels: Channels::new(params), direction }
    }

    pub fn params(&self) -> Edge70Params {
        self.params
    }

    /// The current direction; `None` until a breakout has been seen (or one was restored).
    pub fn direction(&self) -> Option<Direction> {
        self.direction
    }

    /// The high the next candle must exceed to trigger long (the highest high of the prior
    /// `long_lookback` candles); `None` while that window is not full.
    pub fn long_level(&self) -> Option<Decimal> {
        self.channels.long_level()
    }

    /// The low the next candle must undercut to trigger short (the lowest low of the prior
    /// `short_lookback` candles); `None` while that window is not full.
    pub fn short_level(&self) -> Option<Decimal> {
        self.channels.short_level()
    }

    /// How many more candles are needed before both sides can trigger.
    pub fn candles_missing(&self) -> usize {
        let (highs, lows) = self.channels.filled();
        // Window lengths never exceed their capacities, the lookbacks.
        let long = self.params.long_lookback.saturating_sub(highs);
        let short = self.params.short_lookback.saturating_sub(lows);
        long.max(short)
    }

    /// Ingests one closed candle and returns the signal it produces, if any (rules in the
    /// module docs).
    #[inline]
    pub fn on_candle(&mut self, candle: &Candle) -> Option<Edge70Signal> {
        // Evaluated against the prior candles only, then the candle joins the windows,
        // whatever the outcome.
        let (long, short) = self.channels.evaluate_and_push(candle.high, candle.low);
        let (direction, level) = match (long, short) {
            (Some(level), None) => (Direction::Long, level),
            (None, Some(level)) => (Direction::Short, level),
            // Neither side broke out: the direction carries over. Both broke out: the candle is
            // ambiguous and the direction is deliberately left untouched (rule 5).
            (None, None) | (Some(_), Some(_)) => return None,
        };
        let previous = self.direction.replace(direction);
        let kind = match previous {
            None => SignalKind::Possible,
            Some(p) if p != direction => SignalKind::Flip,
            Some(_) => return None,
        };
        Some(Edge70Signal { direction, kind, level, price: candle.close, candle_close: candle.close_time })
    }

    /// Replays history silently: refills the windows and rebuilds the direction without
    /// returning any signal, as the original's `MarketDirectionInitialiser` did with 200 days.
    /// Typically called at start with the history up to the last closed candle, on an instance
    /// created by [`Edge70::new`] (or [`Edge70::with_direction`], in which case history may
    /// override the restored direction).
    pub fn warm_up(&mut self, candles: &[Candle]) {
        for candle in candles {
            // Signals from history are stale by definition; only the state matters.
            let _ = self.on_candle(candle);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    const DAY: i64 = Timestamp::MS_PER_DAY;

    /// A daily candle on day `day` (from the epoch); open = close for brevity.
    fn candle(day: i64, high: Decimal, low: Decimal, close: Decimal) -> Candle {
        Candle {
            open_time: Timestamp(day * DAY),
            close_time: Timestamp(day * DAY + DAY - 1),
            open: close,
            high,
            low,
            close,
            volume: dec!(1),
        }
    }

    fn small() -> Edge70Params {
        Edge70Params { long_lookback: 3, short_lookback: 2 }
    }

    fn signal(direction: Direction, kind: SignalKind, level: Decimal, price: Decimal, day: i64) -> Edge70Signal {
        Edge70Signal { direction, kind, level, price, candle_close: Timestamp(day * DAY + DAY - 1) }
    }

    /// One hand-computed series (long 3, short 2) walking through every rule. The comment on
    /// each day is the arithmetic.
    #[test]
    fn hand_computed_series() {
        use Direction::*;
        use SignalKind::*;
        let days: Vec<(Candle, Option<Edge70Signal>, Option<Direction>)> = vec![
            // Windows filling: nothing can trigger even though highs rise every day.
            (candle(0, dec!(10), dec!(8), dec!(9)), None, None),
            (candle(1, dec!(11), dec!(9), dec!(10)), None, None),
            // Short window [8, 9] is full: 10 < 8 is false.
            (candle(2, dec!(12), dec!(10), dec!(11)), None, None),
            // Long level max(10, 11, 12) = 12 < 13: long; direction unknown → Possible.
            (
                candle(3, dec!(13), dec!(11), dec!(12.5)),
                Some(signal(Long, Possible, dec!(12), dec!(12.5), 3)),
                Some(Long),
            ),
            // Long level max(11, 12, 13) = 13 < 14: long again → nothing.
            (candle(4, dec!(14), dec!(12), dec!(13)), None, Some(Long)),
            // Long level 14 not broken; short level min(11, 12) = 11 > 10: flip to short.
            (
                candle(5, dec!(13.5), dec!(10), dec!(10.5)),
                Some(signal(Short, Flip, dec!(11), dec!(10.5), 5)),
                Some(Short),
            ),
            // Long level max(13, 14, 13.5) = 14 < 14.5 and short level min(12, 10) = 10 > 9:
            // both → nothing, direction stays short.
            (candle(6, dec!(14.5), dec!(9), dec!(14)), None, Some(Short)),
            // Long level max(14, 13.5, 14.5) = 14.5: an equal high is not a breakout.
            (candle(7, dec!(14.5), dec!(13), dec!(14.2)), None, Some(Short)),
            // Long level max(13.5, 14.5, 14.5) = 14.5 < 15: long. Short level min(9, 13) = 9:
            // an equal low is not a breakout. Flip to long.
            (candle(8, dec!(15), dec!(9), dec!(14.9)), Some(signal(Long, Flip, dec!(14.5), dec!(14.9), 8)), Some(Long)),
        ];
        let mut edge = Edge70::new(small());
        for (i, (c, expected, direction)) in days.iter().enumerate() {
            assert_eq!(edge.on_candle(c), *expected, "day {i}");
            assert_eq!(edge.direction(), *direction, "day {i}");
        }
        // Levels for day 9: highs of days 6..=8, lows of days 7..=8.
        assert_eq!(edge.long_level(), Some(dec!(15)));
        assert_eq!(edge.short_level(), Some(dec!(9)));
    }

    #[test]
    fn insufficient_history_never_triggers() {
        let mut edge = Edge70::new(small());
        assert_eq!(edge.candles_missing(), 3);
        assert_eq!(edge.long_level(), None);
        // Three strictly rising, then falling candles: with fewer than 3 prior highs / 2 prior
        // lows no side may trigger.
        assert_eq!(edge.on_candle(&candle(0, dec!(5), dec!(4), dec!(4.5))), None);
        assert_eq!(edge.on_candle(&candle(1, dec!(6), dec!(3), dec!(5.5))), None);
        assert_eq!(edge.short_level(), Some(dec!(3)));
        assert_eq!(edge.long_level(), None);
        assert_eq!(edge.candles_missing(), 1);
        // The short window is full now (lows 4, 3), the long one is not: a high of 100 is
        // ignored, a low of 2 < 3 triggers.
        let s = edge.on_candle(&candle(2, dec!(100), dec!(2), dec!(50)));
        assert_eq!(s.map(|s| (s.direction, s.kind, s.level)), Some((Direction::Short, SignalKind::Possible, dec!(3))));
        assert_eq!(edge.candles_missing(), 0);
    }

    #[test]
    fn default_params_use_59_and_21_prior_candles() {
        let p = Edge70Params::default();
        assert_eq!((p.long_lookback, p.short_lookback), (59, 21));
        assert_eq!(p.slug(), "59L21S");
        assert_eq!(p.required_history(), 59);

        let flat = |day| candle(day, dec!(100), dec!(90), dec!(95));
        // 58 prior candles: a higher high does not trigger yet.
        let mut early = Edge70::new(p);
        early.warm_up(&(0..58).map(flat).collect::<Vec<_>>());
        assert_eq!(early.on_candle(&candle(58, dec!(100.01), dec!(95), dec!(100))), None);
        // 59 prior candles: it does.
        let mut edge = Edge70::new(p);
        edge.warm_up(&(0..59).map(flat).collect::<Vec<_>>());
        assert_eq!(edge.long_level(), Some(dec!(100)));
        let s = edge.on_candle(&candle(59, dec!(100.01), dec!(95), dec!(100)));
        assert_eq!(s, Some(signal(Direction::Long, SignalKind::Possible, dec!(100), dec!(100), 59)));
        // The short side looks at 21 prior lows only: a low under the lows of days 38..=58.
        let mut short = Edge70::new(p);
        let mut history: Vec<Candle> = (0..38).map(|d| candle(d, dec!(100), dec!(50), dec!(95))).collect();
        history.extend((38..59).map(flat));
        short.warm_up(&history);
        assert_eq!(short.short_level(), Some(dec!(90)));
        let s = short.on_candle(&candle(59, dec!(95), dec!(89.99), dec!(92)));
        assert_eq!(s.map(|s| (s.direction, s.level)), Some((Direction::Short, dec!(90))));
    }

    #[test]
    fn flip_long_and_flip_short() {
        let mut edge = Edge70::with_direction(small(), Some(Direction::Short));
        edge.warm_up(&[
            candle(0, dec!(10), dec!(9), dec!(9.5)),
            candle(1, dec!(10), dec!(9), dec!(9.5)),
            candle(2, dec!(10), dec!(9), dec!(9.5)),
        ]);
        assert_eq!(edge.direction(), Some(Direction::Short));
        let long = edge.on_candle(&candle(3, dec!(11), dec!(9.5), dec!(10.8)));
        assert_eq!(long, Some(signal(Direction::Long, SignalKind::Flip, dec!(10), dec!(10.8), 3)));
        // Short level: min(9, 9.5) = 9.
        let short = edge.on_candle(&candle(4, dec!(10.5), dec!(8), dec!(8.2)));
        assert_eq!(short, Some(signal(Direction::Short, SignalKind::Flip, dec!(9), dec!(8.2), 4)));
    }

    #[test]
    fn same_direction_again_is_silent() {
        let mut edge = Edge70::with_direction(small(), Some(Direction::Long));
        edge.warm_up(&[
            candle(0, dec!(10), dec!(9), dec!(9.5)),
            candle(1, dec!(11), dec!(10), dec!(10.5)),
            candle(2, dec!(12), dec!(11), dec!(11.5)),
        ]);
        for day in 3..10 {
            let high = Decimal::from(10 + day);
            assert_eq!(edge.on_candle(&candle(day, high, high - dec!(1), high)), None, "day {day}");
        }
        assert_eq!(edge.direction(), Some(Direction::Long));
    }

    #[test]
    fn both_directions_on_one_candle_change_nothing_but_the_windows() {
        for before in [None, Some(Direction::Long), Some(Direction::Short)] {
            let mut edge = Edge70::with_direction(small(), before);
            edge.warm_up(&[
                candle(0, dec!(10), dec!(9), dec!(9.5)),
                candle(1, dec!(10), dec!(9), dec!(9.5)),
                candle(2, dec!(10), dec!(9), dec!(9.5)),
            ]);
            assert_eq!(edge.on_candle(&candle(3, dec!(12), dec!(7), dec!(11))), None);
            assert_eq!(edge.direction(), before);
            // The outside bar still entered both windows.
            assert_eq!(edge.long_level(), Some(dec!(12)));
            assert_eq!(edge.short_level(), Some(dec!(7)));
        }
    }

    #[test]
    fn equal_high_or_low_is_not_a_breakout() {
        let mut edge = Edge70::new(small());
        edge.warm_up(&[
            candle(0, dec!(10), dec!(9), dec!(9.5)),
            candle(1, dec!(10.00), dec!(9.000), dec!(9.5)),
            candle(2, dec!(10), dec!(9), dec!(9.5)),
        ]);
        // Different scales, same value: still equal.
        assert_eq!(edge.on_candle(&candle(3, dec!(10.0000), dec!(9.00), dec!(9.5))), None);
        assert_eq!(edge.direction(), None);
        assert!(edge.on_candle(&candle(4, dec!(10.00000001), dec!(9.5), dec!(10))).is_some());
    }

    #[test]
    fn unknown_direction_gives_a_possible_signal_once() {
        let mut edge = Edge70::new(small());
        edge.warm_up(&[
            candle(0, dec!(10), dec!(9), dec!(9.5)),
            candle(1, dec!(10), dec!(9), dec!(9.5)),
            candle(2, dec!(10), dec!(9), dec!(9.5)),
        ]);
        let first = edge.on_candle(&candle(3, dec!(8.9), dec!(8), dec!(8.5)));
        assert_eq!(first, Some(signal(Direction::Short, SignalKind::Possible, dec!(9), dec!(8.5), 3)));
        assert_eq!(edge.on_candle(&candle(4, dec!(8), dec!(7), dec!(7.5))), None);
        assert_eq!(edge.direction(), Some(Direction::Short));
    }

    #[test]
    fn warm_up_rebuilds_the_direction_silently() {
        let history = [
            candle(0, dec!(10), dec!(9), dec!(9.5)),
            candle(1, dec!(10), dec!(9), dec!(9.5)),
            candle(2, dec!(10), dec!(9), dec!(9.5)),
            // Long breakout (would be Possible live).
            candle(3, dec!(11), dec!(9.5), dec!(10.5)),
            // Short breakout under min(9, 9.5) (would be a Flip live).
            candle(4, dec!(10), dec!(8.5), dec!(8.7)),
        ];
        let mut warmed = Edge70::new(small());
        warmed.warm_up(&history);
        assert_eq!(warmed.direction(), Some(Direction::Short));

        // Same state as a live instance fed the same candles one by one.
        let mut live = Edge70::new(small());
        let live_signals: Vec<_> = history.iter().filter_map(|c| live.on_candle(c)).collect();
        assert_eq!(live_signals.len(), 2);
        assert_eq!(live.direction(), warmed.direction());
        assert_eq!(live.long_level(), warmed.long_level());
        assert_eq!(live.short_level(), warmed.short_level());
        let next = candle(5, dec!(12), dec!(10), dec!(11.5));
        assert_eq!(warmed.on_candle(&next), live.on_candle(&next));
    }

    #[test]
    fn zero_lookback_side_never_triggers() {
        let mut edge = Edge70::new(Edge70Params { long_lookback: 0, short_lookback: 1 });
        assert_eq!(edge.on_candle(&candle(0, dec!(10), dec!(9), dec!(9.5))), None);
        assert_eq!(edge.on_candle(&candle(1, dec!(99), dec!(9.5), dec!(9.5))), None);
        assert!(edge.on_candle(&candle(2, dec!(9.4), dec!(9), dec!(9.1))).is_some());
    }

    #[test]
    fn mixed_scales_and_huge_prices_stay_exact() {
        let mut edge = Edge70::new(small());
        // Scale 0, then 2 (the windows widen), then a price that does not fit the fast keys.
        edge.warm_up(&[
            candle(0, dec!(10), dec!(9), dec!(9)),
            candle(1, dec!(10.25), dec!(9.5), dec!(10)),
            candle(2, dec!(10.5), dec!(9.75), dec!(10)),
        ]);
        assert_eq!(edge.long_level(), Some(dec!(10.5)));
        assert_eq!(edge.short_level(), Some(dec!(9.5)));
        let s = edge.on_candle(&candle(3, dec!(10.500000000000000001), dec!(10), dec!(10.5)));
        assert_eq!(s.map(|s| s.level), Some(dec!(10.5)));
        assert!(matches!(edge.channels, Channels::Exact { .. }));
        assert_eq!(edge.long_level(), Some(dec!(10.500000000000000001)));
        let huge = dec!(79228162514264337593543950335);
        assert_eq!(edge.on_candle(&candle(4, huge, dec!(10), dec!(10))), None);
        assert_eq!(edge.long_level(), Some(huge));
        let s = edge.on_candle(&candle(5, dec!(11), dec!(9.6), dec!(9.7)));
        assert_eq!(s.map(|s| (s.direction, s.level)), Some((Direction::Short, dec!(10))));
    }

    #[test]
    fn direction_serializes_for_persistence() {
        let json = serde_json::to_string(&Direction::Long).unwrap();
        assert_eq!(serde_json::from_str::<Direction>(&json).unwrap(), Direction::Long);
    }

    /// The rules restated as directly as possible, by scanning slices.
    fn naive(params: Edge70Params, candles: &[Candle]) -> Vec<Option<Edge70Signal>> {
        let mut direction = None;
        let mut out = Vec::new();
        for (i, c) in candles.iter().enumerate() {
            let long = (params.long_lookback > 0 && i >= params.long_lookback)
                .then(|| candles[i - params.long_lookback..i].iter().map(|p| p.high).max())
                .flatten()
                .filter(|l| c.high > *l);
            let short = (params.short_lookback > 0 && i >= params.short_lookback)
                .then(|| candles[i - params.short_lookback..i].iter().map(|p| p.low).min())
                .flatten()
                .filter(|l| c.low < *l);
            let new = match (long, short) {
                (Some(l), None) => Some((Direction::Long, l)),
                (None, Some(l)) => Some((Direction::Short, l)),
                _ => None,
            };
            let mut signal = None;
            if let Some((d, level)) = new {
                let kind = match direction {
                    None => Some(SignalKind::Possible),
                    Some(p) if p != d => Some(SignalKind::Flip),
                    _ => None,
                };
                signal = kind.map(|kind| Edge70Signal {
                    direction: d,
                    kind,
                    level,
                    price: c.close,
                    candle_close: c.close_time,
                });
                direction = Some(d);
            }
            out.push(signal);
        }
        out
    }

    proptest! {
        #[test]
        fn matches_a_naive_restatement(
            moves in prop::collection::vec((-30i64..30, 0i64..20, 0i64..20, 0u32..3, 0u32..3), 0..250),
            long in 0usize..12,
            short in 0usize..12,
            magnitude in prop::sample::select(vec![0u32, 14, 17]),
        ) {
            // Prices with varying scales (the same values written with 1 to 3 decimals), and
            // sometimes so large that they cannot stay on the fast integer keys: every path
            // through the channels must agree with the naive scan.
            let params = Edge70Params { long_lookback: long, short_lookback: short };
            let big = Decimal::from(10i64.pow(magnitude));
            let price = |tenths: i64, extra: u32| {
                let mut d = Decimal::new(tenths, 1) * big;
                d.rescale(d.scale() + extra);
                d
            };
            let mut mid = 1_000i64;
            let candles: Vec<Candle> = moves
                .iter()
                .enumerate()
                .map(|(day, &(step, up, down, hs, ls))| {
                    mid = (mid + step).max(100);
                    candle(day as i64, price(mid + up, hs), price(mid - down, ls), price(mid, 0))
                })
                .collect();
            let mut edge = Edge70::new(params);
            let fast: Vec<_> = candles.iter().map(|c| edge.on_candle(c)).collect();
            prop_assert_eq!(fast, naive(params, &candles));
        }
    }
}
