//! The periodic performance report (`BERT_PERFORMANCE_EVERY`): open positions sorted by their
//! price change since the average entry, unrealized P&L, distance to the stop, and the portfolio
//! value with its change since the last report.
//!
//! The schedule lives in [`EngineMeta::performance`], so it is committed with the report it
//! caused and a restart neither repeats a report nor sends one early. The clock is the `now` of
//! [`Event::Tick`](super::Event::Tick): tests move time by hand.
//!
//! Rules:
//! * The first tick with a known portfolio only records a baseline (nothing to compare with).
//! * Each period the schedule fires once. It reports when a position is open, or when nothing
//!   is open but the portfolio *moved*: by at least [`MOVED_BPS`] basis points of the value at
//!   the last report and at least one cent. (A BNB balance kept for fees changes the value a
//!   little all the time; that alone is not news worth a message every period.)
//! * A skipped period keeps the last report's value as the reference, so a slow drift is
//!   reported once it adds up.

use super::{Category, Effects, Engine, Notice, Write};
use crate::domain::{Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Change of the portfolio (in basis points of the last reported value) that counts as a move
/// when nothing is open.
pub const MOVED_BPS: i64 = 10;

/// Where the report schedule stands (persisted in `EngineMeta`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerformanceMark {
    /// When the schedule last fired (a report sent or skipped), or the baseline was taken.
    pub at: Timestamp,
    /// The portfolio value at the last report sent (or at the baseline).
    pub portfolio: Decimal,
    /// When that value was taken.
    pub portfolio_at: Timestamp,
}

/// One open position in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerformanceLine {
    pub symbol: Symbol,
    pub qty: Decimal,
    pub avg_entry: Decimal,
    pub price: Option<Decimal>,
    /// Price change since the average entry, in % (2 dp).
    pub change_pct: Option<Decimal>,
    /// Unrealized P&L in the quote asset, fees so far included.
    pub pnl: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    /// How far the price is above the stop, in % of the price (2 dp; negative: below it).
    pub stop_distance_pct: Option<Decimal>,
}

/// The periodic report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerformanceReport {
    /// Sorted by `change_pct`, best first; positions without a price last.
    pub positions: Vec<PerformanceLine>,
    /// Sum of the positions' unrealized P&L (those with a price).
    pub unrealized: Decimal,
    pub portfolio: Decimal,
    /// The value at the previous report and when it was taken.
    pub previous: Decimal,
    pub previous_at: Timestamp,
    pub quote: String,
}

impl PerformanceReport {
    pub fn change(&self) -> Decimal {
        self.portfolio - self.previous
    }

    /// The change in % of the previous value (2 dp); 0 when there was nothing before.
    pub fn change_pct(&self) -> Decimal {
        if self.previous.is_zero() {
            Decimal::ZERO
        } else {
            (self.change() / self.previous * Decimal::ONE_HUNDRED).round_dp(2)
        }
    }
}

/// True when the portfolio went from `before` to `after` by enough to be worth a report.
pub fn moved(before: Decimal, after: Decimal) -> bool {
    let change = (after - before).abs();
    change >= Decimal::new(1, 2) && change * Decimal::from(10_000) >= before.abs() * Decimal::from(MOVED_BPS)
}

impl Engine {
    /// The report as it would be sent now (also for tests and views).
    pub fn performance_report(&self, previous: Decimal, previous_at: Timestamp) -> PerformanceReport {
        let mut positions: Vec<PerformanceLine> = self
            .positions
            .values()
            .filter(|p| p.qty > Decimal::ZERO)
            .map(|p| {
                let price = self.prices.get(&p.symbol.base).copied();
                let avg = p.avg_entry().unwrap_or_default();
                let stop_price = p.stop.as_ref().map(|s| s.stop_price);
                let pct = |num: Decimal, den: Decimal| {
                    (!den.is_zero()).then(|| (num / den * Decimal::ONE_HUNDRED).round_dp(2))
                };
                PerformanceLine {
                    symbol: p.symbol,
                    qty: p.qty,
                    avg_entry: avg,
                    price,
                    change_pct: price.and_then(|px| pct(px - avg, avg)),
                    pnl: price.map(|px| p.unrealized_pnl(px).round_dp(8)),
                    stop_price,
                    stop_distance_pct: price.zip(stop_price).and_then(|(px, stop)| pct(px - stop, px)),
                }
            })
            .collect();
        // Best first; no price (None) sorts last.
        positions.sort_by(|a, b| b.change_pct.cmp(&a.change_pct).then(a.symbol.pair().cmp(&b.symbol.pair())));
        PerformanceReport {
            unrealized: positions.iter().filter_map(|l| l.pnl).sum(),
            positions,
            portfolio: self.portfolio_value().round_dp(8),
            previous,
            previous_at,
            quote: self.settings.quote.to_string(),
        }
    }

    /// Called on every tick: fires the schedule when it is due (see the module docs).
    pub(super) fn check_performance(&mut self, now: Timestamp, fx: &mut Effects) {
        let Some(every) = self.settings.performance_every_ms.filter(|ms| *ms > 0) else { return };
        // Every tick (once a second) gets here: the common case returns before any work.
        if self.meta.performance.as_ref().is_some_and(|m| now.since(m.at) < every) {
            return;
        }
        if self.balances.is_empty() {
            return; // the portfolio is not known yet: nothing to report or compare
        }
        let portfolio = self.portfolio_value().round_dp(8);
        let Some(mark) = self.meta.performance.clone() else {
            self.meta.performance = Some(PerformanceMark { at: now, portfolio, portfolio_at: now });
            fx.writes.push(Write::Meta(self.meta.clone()));
            return;
        };
        let open = self.positions.values().any(|p| p.qty > Decimal::ZERO);
        let mut next = PerformanceMark { at: now, ..mark.clone() };
        if open || moved(mark.portfolio, portfolio) {
            let report = self.performance_report(mark.portfolio, mark.portfolio_at);
            fx.alert(Category::Performance, None, None, Notice::Performance(report));
            next.portfolio = portfolio;
            next.portfolio_at = now;
        }
        self.meta.performance = Some(next);
        fx.writes.push(Write::Meta(self.meta.clone()));
    }
}

#[cfg(test)]
mod tests;
