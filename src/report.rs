//! Trade statistics: win rate, P&L totals, best and worst trade, fees, maximum drawdown and a
//! per-month breakdown.
//!
//! Everything here is pure (no I/O, no clock) and exact: money stays in [`Decimal`] end to end.
//! Nothing is rounded for display except the two percentages, which are rounded to 2 decimal
//! places because they are ratios, not amounts; the renderer rounds the money.
//!
//! Conventions, chosen once so every screen agrees:
//!
//! * A **win** is a trade with `pnl > 0`; everything else, breakeven included, is a **loss**.
//!   P&L already has the fees taken out, so a trade that "broke even" on price lost its fees and
//!   really did cost money; a trade at exactly zero after fees gained nothing and is not a win.
//!   Hence `wins + losses == trades` always.
//! * Trades are bucketed and ordered by `closed_at`: a trade counts in the month it was realized.
//! * Months are `YYYY-MM` in UTC ([`Timestamp::month`]), listed oldest first.
//!
//! Sums saturate at `Decimal`'s limits (about ±7.9e28) instead of panicking: no real account
//! gets there, but a corrupt record must not take the bot down with it.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{ClosedTrade, Timestamp};

/// One sample of the account's value in the quote asset, e.g. from a periodic balance snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquityPoint {
    pub time: Timestamp,
    pub equity: Decimal,
}

/// Where the drawdown figures in [`Stats`] came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CurveSource {
    /// The equity samples passed to [`stats`].
    Equity,
    /// No equity samples were given, so the curve is the running sum of the trades' P&L starting
    /// at 0. The absolute drawdown is then exact for the realized P&L, but the percentage is of a
    /// peak *profit*, not of the account, so a renderer may prefer to hide it.
    CumulativePnl,
}

/// The trades and results of one calendar month (UTC), by close time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthStats {
    /// `YYYY-MM`.
    pub month: String,
    pub trades: usize,
    pub wins: usize,
    pub losses: usize,
    /// Sum of the month's P&L in the quote asset, fees included.
    pub pnl: Decimal,
}

/// Summary statistics over a list of closed trades and an equity curve.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub trades: usize,
    /// Trades with `pnl > 0`.
    pub wins: usize,
    /// Trades with `pnl <= 0` (see the module docs for why breakeven is a loss).
    pub losses: usize,
    /// `wins / trades × 100`, rounded to 2 dp; 0 when there are no trades.
    pub win_rate_pct: Decimal,
    /// Sum of every trade's P&L, fees included.
    pub total_pnl: Decimal,
    /// `total_pnl / trades`, unrounded; 0 when there are no trades.
    pub avg_pnl: Decimal,
    /// Sum of the winning trades' P&L (≥ 0).
    pub gross_profit: Decimal,
    /// Sum of the losing trades' P&L (≤ 0).
    pub gross_loss: Decimal,
    /// The trade with the highest P&L (the earliest closed one on a tie).
    pub best: Option<ClosedTrade>,
    /// The trade with the lowest P&L (the earliest closed one on a tie).
    pub worst: Option<ClosedTrade>,
    /// All fees, valued in the quote asset.
    pub total_fees: Decimal,
    /// The largest fall of the curve from a running peak, in the quote asset (≥ 0).
    pub max_drawdown: Decimal,
    /// The largest fall of the curve from a running peak as a percentage of that peak, rounded to
    /// 2 dp. Computed independently of `max_drawdown`: the deepest fall in money and the deepest
    /// fall in percent can happen at different times (a 300 fall from 1200 is 25 %, a later 350
    /// fall from 1500 only 23.33 %). Only peaks above zero count, since a percentage of a zero or
    /// negative peak means nothing.
    pub max_drawdown_pct: Decimal,
    /// Which curve the drawdown was measured on.
    pub curve: CurveSource,
    /// One entry per month that has at least one closed trade, oldest first.
    pub by_month: Vec<MonthStats>,
}

/// Computes the statistics of `trades`, measuring the drawdown on `equity`.
///
/// `trades` may come in any order. `equity` may too: it is sorted by time (stably, so samples
/// with the same time keep their order). When `equity` is empty the drawdown is measured on the
/// trades' cumulative P&L instead, ordered by `closed_at` and starting from 0 (see
/// [`CurveSource::CumulativePnl`] and [`cumulative_pnl_curve`]).
pub fn stats(trades: &[ClosedTrade], equity: &[EquityPoint]) -> Stats {
    let ordered = by_close_time(trades);

    let mut wins = 0usize;
    let mut total_pnl = Decimal::ZERO;
    let mut gross_profit = Decimal::ZERO;
    let mut gross_loss = Decimal::ZERO;
    let mut total_fees = Decimal::ZERO;
    let mut best: Option<&ClosedTrade> = None;
    let mut worst: Option<&ClosedTrade> = None;
    let mut months: BTreeMap<String, MonthStats> = BTreeMap::new();

    for t in &ordered {
        let win = is_win(t);
        total_pnl = total_pnl.saturating_add(t.pnl);
        total_fees = total_fees.saturating_add(t.fees);
        if win {
            wins += 1;
            gross_profit = gross_profit.saturating_add(t.pnl);
        } else {
            gross_loss = gross_loss.saturating_add(t.pnl);
        }
        // Strict comparisons keep the earliest trade on a tie (trades are in close order).
        if best.is_none_or(|b| t.pnl > b.pnl) {
            best = Some(t);
        }
        if worst.is_none_or(|w| t.pnl < w.pnl) {
            worst = Some(t);
        }
        let key = t.closed_at.month();
        let month = months.entry(key.clone()).or_insert_with(|| MonthStats {
            month: key,
            trades: 0,
            wins: 0,
            losses: 0,
            pnl: Decimal::ZERO,
        });
        month.trades += 1;
        if win {
            month.wins += 1;
        } else {
            month.losses += 1;
        }
        month.pnl = month.pnl.saturating_add(t.pnl);
    }

    let n = ordered.len();
    let (win_rate_pct, avg_pnl) = if n == 0 {
        (Decimal::ZERO, Decimal::ZERO)
    } else {
        let count = Decimal::from(n);
        ((Decimal::from(wins) * Decimal::ONE_HUNDRED / count).round_dp(2), total_pnl / count)
    };

    let (curve, source) = if equity.is_empty() {
        (cumulative_pnl_curve(Decimal::ZERO, trades), CurveSource::CumulativePnl)
    } else {
        let mut sorted = equity.to_vec();
        sorted.sort_by_key(|p| p.time);
        (sorted, CurveSource::Equity)
    };
    let dd = drawdown(&curve);

    Stats {
        trades: n,
        wins,
        losses: n - wins,
        win_rate_pct,
        total_pnl,
        avg_pnl,
        gross_profit,
        gross_loss,
        best: best.cloned(),
        worst: worst.cloned(),
        total_fees,
        max_drawdown: dd.amount,
        max_drawdown_pct: dd.pct,
        curve: source,
        by_month: months.into_values().collect(),
    }
}

/// Whether a trade counts as a win: strictly positive P&L after fees.
pub fn is_win(trade: &ClosedTrade) -> bool {
    trade.pnl > Decimal::ZERO
}

/// The equity curve implied by the trades alone: `start`, then `start` plus the running sum of
/// P&L after each trade, in `closed_at` order.
///
/// The first point is at the earliest `opened_at` (so a chart starts where trading started); each
/// later point is at a trade's `closed_at`. Returns an empty curve for no trades. Useful when no
/// balance snapshots exist, e.g. for a backtest or a fresh database.
pub fn cumulative_pnl_curve(start: Decimal, trades: &[ClosedTrade]) -> Vec<EquityPoint> {
    let ordered = by_close_time(trades);
    let Some(first_open) = ordered.iter().map(|t| t.opened_at).min() else {
        return Vec::new();
    };
    let mut curve = Vec::with_capacity(ordered.len() + 1);
    curve.push(EquityPoint { time: first_open, equity: start });
    let mut equity = start;
    for t in ordered {
        equity = equity.saturating_add(t.pnl);
        curve.push(EquityPoint { time: t.closed_at, equity });
    }
    curve
}

/// Trades sorted by close time; the position id breaks ties so the order never depends on how
/// the caller happened to list them.
fn by_close_time(trades: &[ClosedTrade]) -> Vec<&ClosedTrade> {
    let mut ordered: Vec<&ClosedTrade> = trades.iter().collect();
    ordered.sort_by_key(|t| (t.closed_at, t.position));
    ordered
}

struct Drawdown {
    amount: Decimal,
    pct: Decimal,
}

/// Largest peak-to-trough fall of a time-ordered curve, in money and (separately) in percent of
/// the running peak. A curve that never falls has a drawdown of zero.
fn drawdown(curve: &[EquityPoint]) -> Drawdown {
    let mut amount = Decimal::ZERO;
    let mut pct = Decimal::ZERO;
    let mut peak: Option<Decimal> = None;
    for p in curve {
        let top = match peak {
            Some(top) if top >= p.equity => top,
            _ => {
                peak = Some(p.equity);
                continue;
            }
        };
        let fall = top.saturating_sub(p.equity);
        if fall > amount {
            amount = fall;
        }
        if top > Decimal::ZERO {
            // Dividing first cannot overflow where `fall × 100` could (near Decimal::MAX).
            let fall_pct = fall.checked_div(top).unwrap_or(Decimal::MAX).saturating_mul(Decimal::ONE_HUNDRED);
            if fall_pct > pct {
                pct = fall_pct;
            }
        }
    }
    Drawdown { amount, pct: pct.round_dp(2) }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::{AssetCode, EntryReason, ExitReason, PositionId, Symbol};
    use rust_decimal_macros::dec;

    /// Milliseconds of `YYYY-MM-DD 12:00 UTC`, so tests read as dates. Shared with the chart's
    /// and the `/performance` view's tests.
    pub(crate) fn day(y: i32, m: u32, d: u32) -> Timestamp {
        let date = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        Timestamp(date.and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp_millis())
    }

    /// A closed trade of one unit at 100 with the given result (`pnl_pct` equal to `pnl`).
    pub(crate) fn trade(
        id: u64,
        base: &str,
        opened: Timestamp,
        closed: Timestamp,
        pnl: Decimal,
        fees: Decimal,
    ) -> ClosedTrade {
        let symbol = Symbol::parse(base, AssetCode::new("USDT").unwrap()).unwrap();
        ClosedTrade {
            position: PositionId(id),
            symbol,
            entry_reason: EntryReason::Signal,
            exit_reason: Some(ExitReason::Signal),
            opened_at: opened,
            closed_at: closed,
            qty: dec!(1),
            avg_entry: dec!(100),
            avg_exit: dec!(100),
            cost: dec!(100),
            fees,
            pnl,
            pnl_pct: pnl,
        }
    }

    /// Six trades across the 2023/2024 year boundary, deliberately listed out of close order.
    ///
    /// | id | symbol | closed     | pnl    | fees | win? |
    /// |----|--------|------------|--------|------|------|
    /// | 1  | BTC    | 2023-11-20 | +50    | 1.0  | win  |
    /// | 2  | ETH    | 2023-12-05 | −20    | 0.5  | loss |
    /// | 3  | BTC    | 2023-12-28 | +30.5  | 0.8  | win  |
    /// | 4  | SOL    | 2024-01-03 | 0      | 0.4  | loss (breakeven after fees) |
    /// | 5  | ETH    | 2024-01-15 | −45.25 | 0.6  | loss |
    /// | 6  | BTC    | 2024-02-01 | +50    | 1.2  | win (ties #1 for best) |
    ///
    /// By hand: 3 wins, 3 losses, win rate 50.00 %. Total = 50 − 20 + 30.5 + 0 − 45.25 + 50 =
    /// 65.25; average 65.25 / 6 = 10.875. Gross profit 130.5, gross loss −65.25. Fees 4.5.
    /// Best is #1 (earliest of the two +50), worst #5.
    /// Months: 2023-11 {1 trade, 1 win, +50}, 2023-12 {2, 1 win, 1 loss, +10.5},
    /// 2024-01 {2, 0 wins, 2 losses, −45.25}, 2024-02 {1, 1 win, +50}.
    /// Cumulative P&L from 0: 0, 50, 30, 60.5, 60.5, 15.25, 65.25 → peak 60.5, trough 15.25,
    /// drawdown 45.25 (the first fall, 50 → 30, is only 20). In percent the first fall is
    /// 20 / 50 = 40 %, the second 45.25 / 60.5 = 74.79 %, so 74.79.
    fn sample() -> Vec<ClosedTrade> {
        vec![
            trade(4, "SOL", day(2023, 12, 30), day(2024, 1, 3), dec!(0), dec!(0.4)),
            trade(1, "BTC", day(2023, 11, 1), day(2023, 11, 20), dec!(50), dec!(1.0)),
            trade(6, "BTC", day(2024, 1, 20), day(2024, 2, 1), dec!(50), dec!(1.2)),
            trade(3, "BTC", day(2023, 12, 10), day(2023, 12, 28), dec!(30.5), dec!(0.8)),
            trade(2, "ETH", day(2023, 11, 25), day(2023, 12, 5), dec!(-20), dec!(0.5)),
            trade(5, "ETH", day(2024, 1, 4), day(2024, 1, 15), dec!(-45.25), dec!(0.6)),
        ]
    }

    #[test]
    fn counts_totals_and_extremes_by_hand() {
        let s = stats(&sample(), &[]);
        assert_eq!(s.trades, 6);
        assert_eq!(s.wins, 3);
        assert_eq!(s.losses, 3);
        assert_eq!(s.win_rate_pct, dec!(50.00));
        assert_eq!(s.total_pnl, dec!(65.25));
        assert_eq!(s.avg_pnl, dec!(10.875));
        assert_eq!(s.gross_profit, dec!(130.5));
        assert_eq!(s.gross_loss, dec!(-65.25));
        assert_eq!(s.total_fees, dec!(4.5));
        assert_eq!(s.best.as_ref().map(|t| t.position), Some(PositionId(1)));
        assert_eq!(s.best.as_ref().map(|t| t.pnl), Some(dec!(50)));
        assert_eq!(s.worst.as_ref().map(|t| t.position), Some(PositionId(5)));
        assert_eq!(s.worst.as_ref().map(|t| t.symbol.pair()), Some("ETHUSDT".to_string()));
    }

    #[test]
    fn breakeven_after_fees_is_a_loss() {
        let t = trade(1, "BTC", day(2024, 1, 1), day(2024, 1, 2), dec!(0), dec!(0.2));
        assert!(!is_win(&t));
        let s = stats(&[t], &[]);
        assert_eq!((s.wins, s.losses), (0, 1));
        assert_eq!(s.win_rate_pct, dec!(0));
    }

    #[test]
    fn months_are_bucketed_across_the_year_boundary() {
        let s = stats(&sample(), &[]);
        let got: Vec<(&str, usize, usize, usize, Decimal)> =
            s.by_month.iter().map(|m| (m.month.as_str(), m.trades, m.wins, m.losses, m.pnl)).collect();
        assert_eq!(
            got,
            vec![
                ("2023-11", 1, 1, 0, dec!(50)),
                ("2023-12", 2, 1, 1, dec!(10.5)),
                ("2024-01", 2, 0, 2, dec!(-45.25)),
                ("2024-02", 1, 1, 0, dec!(50)),
            ]
        );
    }

    /// A trade opened in one month and closed in the next counts where it closed, and a close
    /// at 23:59:59.999 on 31 December is still December (UTC).
    #[test]
    fn month_is_the_close_month_in_utc() {
        let new_year = Timestamp(day(2024, 1, 1).millis() - 12 * Timestamp::MS_PER_HOUR);
        let t = trade(1, "BTC", day(2023, 11, 30), new_year.plus_millis(-1), dec!(5), dec!(0));
        let u = trade(2, "BTC", day(2023, 12, 30), new_year, dec!(-1), dec!(0));
        let s = stats(&[u, t], &[]);
        let months: Vec<&str> = s.by_month.iter().map(|m| m.month.as_str()).collect();
        assert_eq!(months, vec!["2023-12", "2024-01"]);
    }

    #[test]
    fn drawdown_from_cumulative_pnl_by_hand() {
        let s = stats(&sample(), &[]);
        assert_eq!(s.curve, CurveSource::CumulativePnl);
        assert_eq!(s.max_drawdown, dec!(45.25));
        // 45.25 / 60.5 × 100 = 74.793388… → 74.79
        assert_eq!(s.max_drawdown_pct, dec!(74.79));
    }

    #[test]
    fn cumulative_curve_starts_at_first_open_and_steps_at_each_close() {
        let curve = cumulative_pnl_curve(dec!(1000), &sample());
        let equity: Vec<Decimal> = curve.iter().map(|p| p.equity).collect();
        assert_eq!(
            equity,
            vec![dec!(1000), dec!(1050), dec!(1030), dec!(1060.5), dec!(1060.5), dec!(1015.25), dec!(1065.25)]
        );
        assert_eq!(curve[0].time, day(2023, 11, 1));
        assert_eq!(curve[6].time, day(2024, 2, 1));
        assert!(cumulative_pnl_curve(dec!(1000), &[]).is_empty());
    }

    /// Two peaks: 1000 → 1200 → 900 (falls 300 = 25 % of 1200) → 1500 → 1150 (falls 350 =
    /// 23.33 % of 1500) → 1600. The deepest fall in money is the second, in percent the first.
    /// Listed out of order to check the curve is sorted by time first.
    #[test]
    fn drawdown_on_a_two_peak_equity_curve() {
        let pts = [
            (day(2024, 1, 1), dec!(1000)),
            (day(2024, 1, 2), dec!(1200)),
            (day(2024, 1, 3), dec!(1000)),
            (day(2024, 1, 4), dec!(900)),
            (day(2024, 1, 5), dec!(1500)),
            (day(2024, 1, 6), dec!(1150)),
            (day(2024, 1, 7), dec!(1600)),
        ];
        let mut curve: Vec<EquityPoint> = pts.iter().map(|&(time, equity)| EquityPoint { time, equity }).collect();
        curve.reverse();
        let s = stats(&sample(), &curve);
        assert_eq!(s.curve, CurveSource::Equity);
        assert_eq!(s.max_drawdown, dec!(350));
        assert_eq!(s.max_drawdown_pct, dec!(25.00));
        // The trade figures do not depend on the curve.
        assert_eq!(s.total_pnl, dec!(65.25));
    }

    #[test]
    fn rising_curve_has_no_drawdown() {
        let curve: Vec<EquityPoint> =
            (1..=5).map(|i| EquityPoint { time: day(2024, 3, i), equity: Decimal::from(i * 10) }).collect();
        let s = stats(&[], &curve);
        assert_eq!(s.max_drawdown, dec!(0));
        assert_eq!(s.max_drawdown_pct, dec!(0));
    }

    /// Cumulative P&L that starts with a loss falls from the 0 starting peak: the money figure
    /// counts it, the percentage (of a zero peak) cannot.
    #[test]
    fn losing_start_counts_in_money_not_in_percent() {
        let trades = [
            trade(1, "BTC", day(2024, 1, 1), day(2024, 1, 2), dec!(-10), dec!(0.1)),
            trade(2, "BTC", day(2024, 1, 3), day(2024, 1, 4), dec!(4), dec!(0.1)),
        ];
        let s = stats(&trades, &[]);
        assert_eq!(s.max_drawdown, dec!(10));
        assert_eq!(s.max_drawdown_pct, dec!(0));
    }

    #[test]
    fn empty_input_is_all_zero() {
        let s = stats(&[], &[]);
        assert_eq!(s.trades, 0);
        assert_eq!((s.wins, s.losses), (0, 0));
        assert_eq!(s.win_rate_pct, dec!(0));
        assert_eq!(s.total_pnl, dec!(0));
        assert_eq!(s.avg_pnl, dec!(0));
        assert_eq!(s.total_fees, dec!(0));
        assert!(s.best.is_none() && s.worst.is_none());
        assert_eq!(s.max_drawdown, dec!(0));
        assert_eq!(s.max_drawdown_pct, dec!(0));
        assert!(s.by_month.is_empty());
    }

    /// Win rate is rounded to 2 dp; the average is kept exact for the renderer to round.
    #[test]
    fn win_rate_rounds_average_does_not() {
        let trades = [
            trade(1, "BTC", day(2024, 1, 1), day(2024, 1, 2), dec!(10), dec!(0)),
            trade(2, "BTC", day(2024, 1, 3), day(2024, 1, 4), dec!(-5), dec!(0)),
            trade(3, "BTC", day(2024, 1, 5), day(2024, 1, 6), dec!(-4), dec!(0)),
        ];
        let s = stats(&trades, &[]);
        assert_eq!(s.win_rate_pct, dec!(33.33));
        assert_eq!(s.total_pnl, dec!(1));
        assert_eq!(s.avg_pnl, dec!(1) / dec!(3));
        assert!(s.avg_pnl.scale() > 2, "average was rounded: {}", s.avg_pnl);
    }

    #[test]
    fn absurd_amounts_saturate_instead_of_panicking() {
        let trades = [
            trade(1, "BTC", day(2024, 1, 1), day(2024, 1, 2), Decimal::MAX, Decimal::MAX),
            trade(2, "BTC", day(2024, 1, 3), day(2024, 1, 4), Decimal::MAX, Decimal::MAX),
            trade(3, "BTC", day(2024, 1, 5), day(2024, 1, 6), Decimal::MIN, dec!(0)),
        ];
        let s = stats(&trades, &[]);
        assert_eq!(s.gross_profit, Decimal::MAX);
        assert_eq!(s.total_fees, Decimal::MAX);
        let curve = [
            EquityPoint { time: day(2024, 1, 1), equity: Decimal::MAX },
            EquityPoint { time: day(2024, 1, 2), equity: Decimal::MIN },
        ];
        let s = stats(&trades, &curve);
        assert_eq!(s.max_drawdown, Decimal::MAX);
        // The fall saturates at Decimal::MAX, which is 100 % of that peak.
        assert_eq!(s.max_drawdown_pct, dec!(100));
    }

    #[test]
    fn stats_round_trip_through_json() {
        let s = stats(&sample(), &[]);
        let json = serde_json::to_string(&s).unwrap();
        let back: Stats = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }
}
