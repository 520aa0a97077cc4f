//! A deterministic synthetic market: six USDT pairs, daily candles, years of history.
//!
//! `bert demo` and `bert backtest` must run offline, finish in seconds and print the same numbers
//! on every machine, so the market is generated, not downloaded. It has to exercise everything
//! Edge70 and the risk rules care about:
//!
//! * **strong trends up**, so 60-day-high breakouts happen and some trades win big;
//! * **crashes** (a market-wide fall of roughly 25–50 % within days), so exchange stops trigger;
//! * **slow bear phases**, so the 22-day-low exit fires on grinding declines;
//! * **chop** (mean-reverting sideways phases), so some breakouts fail and lose.
//!
//! # Model
//!
//! A market factor follows a chain of regimes (chop → bull → crash → …, random durations and
//! strengths, with a guarantee that neither a bull nor a crash is absent for long). Each symbol's
//! daily return is `beta × market return + idiosyncratic noise`, plus rare symbol-only jumps, so
//! the symbols are correlated like real crypto pairs but not identical.
//!
//! # Exactness and determinism
//!
//! Prices never touch `f64`: the path is kept as an integer count of 10⁻⁸ quote units and moved
//! by integer basis-point returns; candles are rounded to the symbol's tick (open and close to
//! the nearest tick, highs up, lows down, so every candle stays sane) and converted to
//! [`Decimal`] at the tick's scale (all prices of one symbol share one scale, which also keeps
//! decimal comparisons on their fast path). Randomness comes from a small SplitMix64 generator
//! seeded from the caller's seed, so the same seed always yields the same market, on every
//! platform and compiler version. Generating 1100 days × 6 symbols takes well under a
//! millisecond in release builds.

/// Re-exported so `market::synthetic::MarketSeries` names the same type as `market::MarketSeries`.
pub use super::MarketSeries;
use crate::domain::{AssetCode, Candle, Decimal, Symbol, SymbolFilters, Timestamp};

/// The seed of the built-in market (`default_market`).
pub const DEFAULT_SEED: u64 = 70;
/// Days in the built-in market: a little over three years.
pub const DEFAULT_DAYS: usize = 1100;
/// 2023-01-01T00:00:00Z, the open of the first synthetic candle.
pub const DEFAULT_START: Timestamp = Timestamp(1_672_531_200_000);

/// Prices are tracked internally in units of 10⁻⁸ of the quote asset.
const PRICE_DECIMALS: u32 = 8;
/// One whole quote unit in internal price units.
const PRICE_ONE: i64 = 100_000_000;
/// Basis points per unit (100 %).
const BP: i64 = 10_000;

/// A generated market: daily candles for several symbols priced in one quote asset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntheticMarket {
    pub quote: AssetCode,
    pub series: Vec<MarketSeries>,
}

/// The fixed description of one synthetic symbol.
struct Spec {
    base: &'static str,
    /// Starting price in internal units (10⁻⁸ USDT).
    start_price: i64,
    /// The tick is 10^-tick_decimals (as on Binance for these pairs).
    tick_decimals: u32,
    /// The LOT_SIZE step is 10^-step_decimals.
    step_decimals: u32,
    /// Sensitivity to the market factor, in percent (100 = moves with the market).
    beta_pct: i64,
    /// Standard deviation of the symbol's own daily noise, in basis points.
    idio_vol_bp: i64,
    /// Typical daily traded value in whole USDT, for plausible volumes.
    daily_quote_volume: i64,
}

/// Six pairs with very different price scales, so rounding, tick sizes and quantity steps are
/// exercised from five-digit prices down to sub-dollar ones.
const SPECS: [Spec; 6] = [
    Spec {
        base: "BTC",
        start_price: 30_000 * PRICE_ONE,
        tick_decimals: 2,
        step_decimals: 5,
        beta_pct: 100,
        idio_vol_bp: 80,
        daily_quote_volume: 600_000_000,
    },
    Spec {
        base: "ETH",
        start_price: 2_000 * PRICE_ONE,
        tick_decimals: 2,
        step_decimals: 4,
        beta_pct: 120,
        idio_vol_bp: 120,
        daily_quote_volume: 300_000_000,
    },
    Spec {
        base: "SOL",
        start_price: 50 * PRICE_ONE,
        tick_decimals: 2,
        step_decimals: 3,
        beta_pct: 150,
        idio_vol_bp: 220,
        daily_quote_volume: 80_000_000,
    },
    Spec {
        base: "BNB",
        start_price: 300 * PRICE_ONE,
        tick_decimals: 2,
        step_decimals: 3,
        beta_pct: 90,
        idio_vol_bp: 120,
        daily_quote_volume: 60_000_000,
    },
    Spec {
        base: "XRP",
        start_price: PRICE_ONE / 2,
        tick_decimals: 4,
        step_decimals: 1,
        beta_pct: 110,
        idio_vol_bp: 180,
        daily_quote_volume: 50_000_000,
    },
    Spec {
        base: "ADA",
        start_price: 4 * PRICE_ONE / 10,
        tick_decimals: 4,
        step_decimals: 1,
        beta_pct: 130,
        idio_vol_bp: 180,
        daily_quote_volume: 30_000_000,
    },
];

/// Builds an asset code from one of this module's literals.
fn asset(code: &'static str) -> AssetCode {
    // Invariant: only the literals in this file reach here ("USDT" and the `SPECS` bases), all
    // short upper-case ASCII; the `every_spec_is_a_valid_asset` test checks them.
    AssetCode::new(code).expect("built-in asset codes are valid")
}

impl SyntheticMarket {
    /// The built-in market: seed 70, 1100 daily candles per symbol from 2023-01-01.
    pub fn default_market() -> Self {
        Self::generate(DEFAULT_SEED, DEFAULT_DAYS)
    }

    /// `days` daily candles per symbol starting at 2023-01-01T00:00:00Z. The same seed always
    /// gives the same market.
    pub fn generate(seed: u64, days: usize) -> Self {
        Self::generate_from(seed, days, DEFAULT_START)
    }

    /// Like [`SyntheticMarket::generate`], with the first candle opening at `start` (which
    /// should be a UTC midnight, as Binance's daily candles are).
    pub fn generate_from(seed: u64, days: usize, start: Timestamp) -> Self {
        let quote = asset("USDT");
        let market = market_returns(seed, days);
        let series = SPECS
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                // Each symbol gets its own stream, derived from the seed and its position, so
                // adding a symbol never changes the others.
                let mut rng = SplitMix64::new(mix(seed, i as u64 + 1));
                generate_series(spec, quote, &market, start, &mut rng)
            })
            .collect();
        SyntheticMarket { quote, series }
    }

    /// The series of one symbol, if the market has it.
    pub fn get(&self, symbol: &Symbol) -> Option<&MarketSeries> {
        self.series.iter().find(|s| s.symbol == *symbol)
    }

    /// The symbols, in a stable order.
    pub fn symbols(&self) -> Vec<Symbol> {
        self.series.iter().map(|s| s.symbol).collect()
    }
}

/// The market regimes the factor moves through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Regime {
    /// Sideways: mean-reverting towards the level at which the phase started.
    Chop,
    /// Strong uptrend: positive drift (basis points per day).
    Bull,
    /// Fast collapse over a few days.
    Crash,
    /// Slow decline.
    Bear,
}

/// A regime with its parameters for the current phase.
struct Phase {
    regime: Regime,
    days_left: i64,
    /// Daily drift in basis points (ignored by `Chop`, which pulls towards `anchor`).
    drift_bp: i64,
    /// Daily volatility (standard deviation) in basis points.
    vol_bp: i64,
    /// Market index level at the start of the phase (the chop's centre).
    anchor: i64,
}

/// Longest stretch without a bull phase / a crash before one is forced, in days. Keeps every
/// seed's market (of a year or more) interesting, not just the default one.
const MAX_DAYS_WITHOUT_BULL: i64 = 300;
const MAX_DAYS_WITHOUT_CRASH: i64 = 360;

/// The market factor's daily returns in basis points, one per day.
fn market_returns(seed: u64, days: usize) -> Vec<i64> {
    let mut rng = SplitMix64::new(mix(seed, 0));
    // An index level only used for the chop's mean reversion; starts at 1.0.
    let mut index = PRICE_ONE;
    let mut since_bull = 0i64;
    let mut since_crash = 0i64;
    // Start sideways, as if the history before day 0 had no trend.
    let mut phase = new_phase(Regime::Chop, index, &mut rng);
    let mut out = Vec::with_capacity(days);
    for _ in 0..days {
        if phase.days_left <= 0 {
            let next = if since_crash > MAX_DAYS_WITHOUT_CRASH {
                Regime::Crash
            } else if since_bull > MAX_DAYS_WITHOUT_BULL {
                Regime::Bull
            } else {
                next_regime(phase.regime, &mut rng)
            };
            phase = new_phase(next, index, &mut rng);
        }
        phase.days_left -= 1;
        match phase.regime {
            Regime::Bull => since_bull = 0,
            Regime::Crash => since_crash = 0,
            _ => {}
        }
        since_bull += 1;
        since_crash += 1;

        let drift = match phase.regime {
            // Pull back 1/12 of the deviation from the anchor per day: sideways with swings of
            // a few percent, enough for the odd breakout that then fails.
            Regime::Chop => -deviation_bp(index, phase.anchor) / 12,
            _ => phase.drift_bp,
        };
        let r = (drift + rng.normal_bp(phase.vol_bp)).clamp(-4_000, 4_000);
        index = apply_bp(index, r).max(PRICE_ONE / 1_000);
        out.push(r);
    }
    out
}

/// Relative distance of `value` from `anchor` in basis points.
fn deviation_bp(value: i64, anchor: i64) -> i64 {
    if anchor <= 0 {
        return 0;
    }
    let d = (i128::from(value) - i128::from(anchor)) * i128::from(BP) / i128::from(anchor);
    // Bounded by the index floor and the per-day return clamp in practice; saturate anyway.
    i64::try_from(d).unwrap_or(if d > 0 { i64::MAX } else { i64::MIN }).clamp(-BP * 100, BP * 100)
}

/// The regime chain's transitions (percent chances per row).
fn next_regime(current: Regime, rng: &mut SplitMix64) -> Regime {
    let roll = rng.below(100) as i64;
    let table: [(Regime, i64); 4] = match current {
        Regime::Chop => [(Regime::Bull, 45), (Regime::Bear, 20), (Regime::Crash, 15), (Regime::Chop, 20)],
        Regime::Bull => [(Regime::Chop, 40), (Regime::Crash, 30), (Regime::Bear, 15), (Regime::Bull, 15)],
        Regime::Crash => [(Regime::Chop, 50), (Regime::Bear, 25), (Regime::Bull, 25), (Regime::Crash, 0)],
        Regime::Bear => [(Regime::Chop, 40), (Regime::Bull, 40), (Regime::Crash, 20), (Regime::Bear, 0)],
    };
    let mut acc = 0;
    for (regime, pct) in table {
        acc += pct;
        if roll < acc {
            return regime;
        }
    }
    Regime::Chop
}

fn new_phase(regime: Regime, index: i64, rng: &mut SplitMix64) -> Phase {
    let (days_left, drift_bp, vol_bp) = match regime {
        Regime::Chop => (rng.range(30, 120), 0, rng.range(180, 260)),
        Regime::Bull => (rng.range(35, 110), rng.range(35, 110), rng.range(250, 330)),
        Regime::Crash => {
            // Choose the total fall (28–50 %) and spread it over 4–10 days. The 1.1 factor
            // roughly compensates for compounding, so the fall lands near the target.
            let total_bp = rng.range(2_800, 5_000);
            let days = rng.range(4, 10);
            (days, -(total_bp * 11 / 10) / days, rng.range(350, 500))
        }
        Regime::Bear => (rng.range(25, 80), -rng.range(20, 70), rng.range(220, 300)),
    };
    Phase { regime, days_left, drift_bp, vol_bp, anchor: index }
}

/// One symbol's candles over the market factor's returns.
fn generate_series(
    spec: &Spec,
    quote: AssetCode,
    market: &[i64],
    start: Timestamp,
    rng: &mut SplitMix64,
) -> MarketSeries {
    let tick = 10i64.pow(PRICE_DECIMALS - spec.tick_decimals);
    // Keep at least 100 ticks of resolution however deep a crash goes.
    let floor = tick * 100;
    let mut price = spec.start_price;
    let mut candles = Vec::with_capacity(market.len());
    for (day, &market_bp) in market.iter().enumerate() {
        let open_time = start.plus_millis(day as i64 * Timestamp::MS_PER_DAY);
        let mut r = market_bp * spec.beta_pct / 100 + rng.normal_bp(spec.idio_vol_bp);
        // Rare symbol-only news: a listing pump or an exploit dump (about once a year).
        if rng.below(365) == 0 {
            let size = rng.range(800, 2_000);
            r += if rng.below(2) == 0 { size } else { -size };
        }
        let r = r.clamp(-6_000, 6_000);
        let open = price;
        let close = apply_bp(open, r).max(floor);
        price = close;

        // Wicks beyond the body, scaled with the day's volatility.
        let wick_scale = spec.idio_vol_bp + market_bp.abs() / 2 + 60;
        let up_bp = rng.normal_bp(wick_scale / 2).abs() + rng.range(0, wick_scale / 4);
        let down_bp = rng.normal_bp(wick_scale / 2).abs() + rng.range(0, wick_scale / 4);
        let high = apply_bp(open.max(close), up_bp.min(3_000));
        let low = apply_bp(open.min(close), -down_bp.min(3_000));

        let open_t = round_ticks(open, tick).max(1);
        let close_t = round_ticks(close, tick).max(1);
        let high_t = ceil_ticks(high, tick).max(open_t).max(close_t);
        let low_t = floor_ticks(low, tick).max(1).min(open_t).min(close_t);

        // Plausible volume: busier on big moves, in base units rounded down to the step.
        let busy_pct = rng.range(70, 130) + r.abs() / 20;
        let quote_volume = i128::from(spec.daily_quote_volume) * i128::from(busy_pct) / 100;
        let steps = quote_volume * i128::from(PRICE_ONE) * 10i128.pow(spec.step_decimals) / i128::from(close.max(1));
        let volume = Decimal::new(i64::try_from(steps).unwrap_or(i64::MAX), spec.step_decimals);

        let price_of = |ticks: i64| Decimal::new(ticks, spec.tick_decimals);
        candles.push(Candle {
            open_time,
            close_time: open_time.plus_millis(Timestamp::MS_PER_DAY - 1),
            open: price_of(open_t),
            high: price_of(high_t),
            low: price_of(low_t),
            close: price_of(close_t),
            volume,
        });
    }
    let tick_size = Decimal::new(1, spec.tick_decimals);
    let step_size = Decimal::new(1, spec.step_decimals);
    MarketSeries {
        symbol: Symbol::new(asset(spec.base), quote),
        filters: SymbolFilters::typical(tick_size, step_size, Decimal::from(5)),
        candles,
    }
}

/// `value × (1 + bp / 10 000)`, truncated; `bp` ≥ −10 000 keeps it non-negative.
fn apply_bp(value: i64, bp: i64) -> i64 {
    let v = i128::from(value) * i128::from(BP + bp) / i128::from(BP);
    i64::try_from(v.max(0)).unwrap_or(i64::MAX)
}

/// Internal units → whole ticks, to the nearest (half up).
fn round_ticks(units: i64, tick: i64) -> i64 {
    (units + tick / 2) / tick
}

fn floor_ticks(units: i64, tick: i64) -> i64 {
    units.div_euclid(tick)
}

fn ceil_ticks(units: i64, tick: i64) -> i64 {
    (units + tick - 1).div_euclid(tick)
}

/// Derives independent stream seeds from one seed (SplitMix64's finaliser over seed + stream).
fn mix(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64 (Steele, Lea & Flood, 2014): tiny, fast, statistically good enough for a
/// synthetic market, and identical on every platform (unlike `std`'s hasher-based randomness).
#[derive(Clone, Debug)]
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0), by multiply-high (no modulo bias worth mentioning).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        // `hi - lo + 1` is positive and small here (all callers use modest bounds).
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// Roughly normal noise with standard deviation `sigma_bp`, in basis points: the sum of four
    /// 16-bit uniforms (Irwin–Hall), with a fat tail (one day in 40 is three times as wild),
    /// because crypto returns are not Gaussian.
    fn normal_bp(&mut self, sigma_bp: i64) -> i64 {
        let x = self.next_u64();
        let sum: i64 = (0..4).map(|i| ((x >> (16 * i)) & 0xFFFF) as i64).sum();
        // Mean 4 × 32767.5; standard deviation 65536 × sqrt(4 / 12) ≈ 37837.
        let centred = sum - 131_070;
        let z = centred * sigma_bp / 37_837;
        if self.below(40) == 0 { z * 3 } else { z }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::{Direction, Edge70, Edge70Params};
    use rust_decimal_macros::dec;

    #[test]
    fn every_spec_is_a_valid_asset() {
        assert!(AssetCode::new("USDT").is_ok());
        for spec in &SPECS {
            assert!(AssetCode::new(spec.base).is_ok(), "{}", spec.base);
        }
    }

    #[test]
    fn same_seed_same_market_other_seed_other_market() {
        let a = SyntheticMarket::generate(7, 400);
        assert_eq!(a, SyntheticMarket::generate(7, 400));
        assert_ne!(a, SyntheticMarket::generate(8, 400));
        // A shorter market is a prefix of a longer one with the same seed.
        let short = SyntheticMarket::generate(7, 100);
        for (s, l) in short.series.iter().zip(&a.series) {
            assert_eq!(s.candles[..], l.candles[..100]);
        }
    }

    #[test]
    fn default_market_shape() {
        let m = SyntheticMarket::default_market();
        assert_eq!(m.quote.as_str(), "USDT");
        let pairs: Vec<String> = m.series.iter().map(|s| s.symbol.pair()).collect();
        assert_eq!(pairs, ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT"]);
        for s in &m.series {
            assert_eq!(s.candles.len(), DEFAULT_DAYS);
            assert_eq!(s.candles[0].open_time, DEFAULT_START);
            assert_eq!(DEFAULT_START.to_string(), "2023-01-01 00:00:00Z");
            assert_eq!(s.filters.min_notional, dec!(5));
            assert_eq!(m.get(&s.symbol).map(|x| x.symbol), Some(s.symbol));
        }
        // Price scales as specified: the first open is the starting price.
        let first_opens: Vec<Decimal> = m.series.iter().map(|s| s.candles[0].open).collect();
        assert_eq!(first_opens, [dec!(30000), dec!(2000), dec!(50), dec!(300), dec!(0.5), dec!(0.4)]);
    }

    #[test]
    fn candles_are_sane_on_grid_and_contiguous() {
        for seed in [DEFAULT_SEED, 0, 1, 2, 3, u64::MAX] {
            let m = SyntheticMarket::generate(seed, DEFAULT_DAYS);
            for s in &m.series {
                let f = &s.filters;
                for (i, c) in s.candles.iter().enumerate() {
                    assert!(c.is_sane(), "{seed} {} day {i}: {c:?}", s.symbol);
                    for p in [c.open, c.high, c.low, c.close] {
                        assert!(p >= f.tick_size && (p % f.tick_size).is_zero(), "{} {p}", s.symbol);
                        assert_eq!(p.scale(), f.tick_size.scale(), "one scale per symbol");
                    }
                    assert!(c.volume > Decimal::ZERO && (c.volume % f.step_size).is_zero());
                    assert_eq!(c.close_time.since(c.open_time), Timestamp::MS_PER_DAY - 1);
                    if i > 0 {
                        let prev = &s.candles[i - 1];
                        assert_eq!(c.open_time.since(prev.open_time), Timestamp::MS_PER_DAY);
                        // Crypto trades around the clock: each day opens at the last close.
                        assert_eq!(c.open, prev.close);
                    }
                }
            }
        }
    }

    /// True when some candle's high exceeds the highest high of the 59 candles before it.
    fn has_60_day_breakout(candles: &[Candle]) -> bool {
        (59..candles.len()).any(|i| candles[i - 59..i].iter().all(|p| candles[i].high > p.high))
    }

    /// The deepest peak-to-trough fall of the closes, in percent.
    fn max_drawdown_pct(candles: &[Candle]) -> Decimal {
        let mut peak = Decimal::ZERO;
        let mut worst = Decimal::ZERO;
        for c in candles {
            peak = peak.max(c.close);
            worst = worst.max((peak - c.close) / peak * dec!(100));
        }
        worst
    }

    #[test]
    fn regimes_are_present_for_every_symbol_and_many_seeds() {
        for seed in (0..24).chain([DEFAULT_SEED]) {
            let m = SyntheticMarket::generate(seed, DEFAULT_DAYS);
            for s in &m.series {
                assert!(has_60_day_breakout(&s.candles), "seed {seed} {}: no breakout", s.symbol);
                let dd = max_drawdown_pct(&s.candles);
                assert!(dd >= dec!(25), "seed {seed} {}: max drawdown only {dd}%", s.symbol);
            }
        }
    }

    /// Edge70 over the built-in market finds big winners, losers (failed breakouts in chop) and
    /// trades a 15 % stop would have closed (crashes).
    #[test]
    fn default_market_gives_edge70_winners_losers_and_stops() {
        let m = SyntheticMarket::default_market();
        let (mut big_wins, mut losses, mut stopped) = (0, 0, 0);
        for s in &m.series {
            let mut edge = Edge70::new(Edge70Params::default());
            let mut entry: Option<Decimal> = None;
            let mut lowest_since_entry = Decimal::MAX;
            for c in &s.candles {
                if entry.is_some() {
                    lowest_since_entry = lowest_since_entry.min(c.low);
                }
                match edge.on_candle(c).map(|sig| sig.direction) {
                    Some(Direction::Long) => {
                        entry = Some(c.close);
                        lowest_since_entry = Decimal::MAX;
                    }
                    Some(Direction::Short) => {
                        if let Some(e) = entry.take() {
                            if c.close >= e * dec!(1.3) {
                                big_wins += 1;
                            }
                            if c.close < e {
                                losses += 1;
                            }
                            if lowest_since_entry <= e * dec!(0.85) {
                                stopped += 1;
                            }
                        }
                    }
                    None => {}
                }
            }
        }
        assert!(big_wins >= 3, "big wins {big_wins}");
        assert!(losses >= 6, "losses {losses}");
        assert!(stopped >= 1, "stopped {stopped}");
    }

    #[test]
    fn zero_days_is_an_empty_market() {
        let m = SyntheticMarket::generate(1, 0);
        assert_eq!(m.series.len(), 6);
        assert!(m.series.iter().all(|s| s.candles.is_empty()));
    }

    #[test]
    fn rounding_helpers() {
        assert_eq!(round_ticks(149, 100), 1);
        assert_eq!(round_ticks(150, 100), 2);
        assert_eq!(floor_ticks(199, 100), 1);
        assert_eq!(ceil_ticks(101, 100), 2);
        assert_eq!(ceil_ticks(100, 100), 1);
        assert_eq!(apply_bp(10_000, -10_000), 0);
        assert_eq!(apply_bp(10_000, 250), 10_250);
    }
}
