//! Positions and closed trades, with P&L in the quote asset, fees included.
//!
//! P&L is cash-flow accounting, which needs no special case per fee asset:
//!
//! * a fee paid in the **quote** asset changes the quote that left or came back;
//! * a fee paid in the **base** asset shrinks the quantity held, so the sale brings back less;
//! * a fee paid in a **third** asset (BNB) is valued in the quote asset at the time of the fill
//!   and subtracted.
//!
//! `realized P&L = quote received from sells − quote spent on buys − third-asset fees`.

use super::{ClientOrderId, Fill, PositionId, Side, Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PositionStatus {
    /// The entry order is in flight.
    Opening,
    /// Holding, protected by (or about to be protected by) a stop.
    Open,
    /// An exit is in progress (stop being cancelled, or the exit sell in flight).
    Closing,
    /// Fully sold.
    Closed,
    /// The entry filled nothing.
    Failed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryReason {
    /// `/enter` from a trader.
    Manual { user: i64 },
    /// An Edge70 long signal with auto-trade on.
    Signal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExitReason {
    /// `/exit` from a trader.
    Manual { user: i64 },
    /// An Edge70 short signal.
    Signal,
    /// The exchange-side stop filled.
    StopHit,
    /// The stop could not be placed, so the position was sold at market.
    Unprotectable,
}

/// The protective stop currently guarding a position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopInfo {
    pub client_id: ClientOrderId,
    pub stop_price: Decimal,
    pub limit_price: Decimal,
    pub qty: Decimal,
}

/// A `/stop` move in flight: the stop being replaced and the orders the move created. While it
/// is set, the ends of these orders are the move's business (never "stop lost, protect again"),
/// and no other move or exit starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopMove {
    /// The stop being replaced, as it was.
    pub old: StopInfo,
    /// The replacing stop's client id (recorded as an intent before the request).
    pub new: StopInfo,
    /// Set when the exchange cancelled the old stop but refused the new one: the old stop is
    /// being placed again under this id.
    pub restore: Option<ClientOrderId>,
    /// The new stop is known not to exist but the old stop's fate is not known yet: its state
    /// is being asked for (an unknown cancel-replace outcome).
    pub checking_old: bool,
    /// The chat the move was asked from.
    pub chat: Option<i64>,
    pub since: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub id: PositionId,
    pub symbol: Symbol,
    pub status: PositionStatus,
    pub entry_reason: EntryReason,
    pub exit_reason: Option<ExitReason>,
    /// Base quantity held now: bought − base-asset fees − sold.
    pub qty: Decimal,
    /// Gross base bought and the quote paid for it at fill prices (for the average entry).
    pub bought_qty: Decimal,
    pub bought_value: Decimal,
    /// Gross base sold and the quote it fetched at fill prices (for the average exit).
    pub sold_qty: Decimal,
    pub sold_value: Decimal,
    /// Cash flows in the quote asset, fees included (see the module docs).
    pub quote_spent: Decimal,
    pub quote_received: Decimal,
    /// Fees paid in a third asset, valued in the quote asset at fill time.
    pub other_fees: Decimal,
    /// Every fee valued in the quote asset, for display.
    pub fees: Decimal,
    pub stop: Option<StopInfo>,
    /// Attempts so far per order role; the next order of a role uses attempt + 1 in its id.
    pub stop_attempts: u32,
    pub exit_attempts: u32,
    pub dump_attempts: u32,
    pub opened_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    /// The message id of the first alert about this position in each chat, so follow-ups can
    /// reply to it (filled in by the outbox worker).
    #[serde(default)]
    pub thread: Vec<(i64, i32)>,
    /// The chat a manual entry came from: its alerts go there too.
    #[serde(default)]
    pub origin_chat: Option<i64>,
    /// When protection (a new stop) should be tried again after everything failed.
    #[serde(default)]
    pub protect_retry_at: Option<Timestamp>,
    /// A stop move in flight (`/stop`).
    #[serde(default)]
    pub stop_move: Option<Box<StopMove>>,
    /// Stop orders created by moves (and restores), so they do not count as stops that keep
    /// disappearing.
    #[serde(default)]
    pub stop_moves: u32,
}

impl Position {
    pub fn new(id: PositionId, symbol: Symbol, reason: EntryReason, now: Timestamp) -> Self {
        Position {
            id,
            symbol,
            status: PositionStatus::Opening,
            entry_reason: reason,
            exit_reason: None,
            qty: Decimal::ZERO,
            bought_qty: Decimal::ZERO,
            bought_value: Decimal::ZERO,
            sold_qty: Decimal::ZERO,
            sold_value: Decimal::ZERO,
            quote_spent: Decimal::ZERO,
            quote_received: Decimal::ZERO,
            other_fees: Decimal::ZERO,
            fees: Decimal::ZERO,
            stop: None,
            stop_attempts: 0,
            exit_attempts: 0,
            dump_attempts: 0,
            opened_at: now,
            closed_at: None,
            thread: Vec::new(),
            origin_chat: None,
            protect_retry_at: None,
            stop_move: None,
            stop_moves: 0,
        }
    }

    /// Applies one fill. `fee_in_quote` is the fee valued in the quote asset (the engine converts
    /// third-asset fees with the price it knows at fill time).
    pub fn apply_fill(&mut self, side: Side, fill: &Fill, fee_in_quote: Decimal) {
        let value = fill.price * fill.qty;
        let fee_is_base = fill.fee_asset == self.symbol.base;
        let fee_is_quote = fill.fee_asset == self.symbol.quote;
        match side {
            Side::Buy => {
                self.bought_qty += fill.qty;
                self.bought_value += value;
                self.qty += fill.qty;
                self.quote_spent += value;
            }
            Side::Sell => {
                self.sold_qty += fill.qty;
                self.sold_value += value;
                self.qty -= fill.qty;
                self.quote_received += value;
            }
        }
        if fee_is_base {
            self.qty -= fill.fee;
        } else if fee_is_quote {
            match side {
                Side::Buy => self.quote_spent += fill.fee,
                Side::Sell => self.quote_received -= fill.fee,
            }
        } else {
            self.other_fees += fee_in_quote;
        }
        self.fees += fee_in_quote;
    }

    /// Average entry price over all buy fills (fees excluded: it is the price paid).
    pub fn avg_entry(&self) -> Option<Decimal> {
        (self.bought_qty > Decimal::ZERO).then(|| self.bought_value / self.bought_qty)
    }

    pub fn avg_exit(&self) -> Option<Decimal> {
        (self.sold_qty > Decimal::ZERO).then(|| self.sold_value / self.sold_qty)
    }

    /// Realized P&L in the quote asset, fees included (meaningful once closed).
    pub fn realized_pnl(&self) -> Decimal {
        self.quote_received - self.quote_spent - self.other_fees
    }

    /// P&L if the rest were sold at `price` now, fees so far included.
    pub fn unrealized_pnl(&self, price: Decimal) -> Decimal {
        self.qty * price + self.realized_pnl()
    }

    /// `pnl` as a percentage of the quote spent.
    pub fn pct_of_cost(&self, pnl: Decimal) -> Decimal {
        if self.quote_spent.is_zero() {
            Decimal::ZERO
        } else {
            (pnl / self.quote_spent * Decimal::ONE_HUNDRED).round_dp(2)
        }
    }

    pub fn is_live(&self) -> bool {
        matches!(self.status, PositionStatus::Opening | PositionStatus::Open | PositionStatus::Closing)
    }

    /// The record kept after the position closes.
    pub fn to_closed_trade(&self, now: Timestamp) -> ClosedTrade {
        let pnl = self.realized_pnl();
        ClosedTrade {
            position: self.id,
            symbol: self.symbol,
            entry_reason: self.entry_reason,
            exit_reason: self.exit_reason,
            opened_at: self.opened_at,
            closed_at: self.closed_at.unwrap_or(now),
            qty: self.bought_qty,
            avg_entry: self.avg_entry().unwrap_or_default(),
            avg_exit: self.avg_exit().unwrap_or_default(),
            cost: self.quote_spent,
            fees: self.fees,
            pnl,
            pnl_pct: self.pct_of_cost(pnl),
        }
    }
}

/// A finished round trip, kept for statistics and charts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedTrade {
    pub position: PositionId,
    pub symbol: Symbol,
    pub entry_reason: EntryReason,
    pub exit_reason: Option<ExitReason>,
    pub opened_at: Timestamp,
    pub closed_at: Timestamp,
    pub qty: Decimal,
    pub avg_entry: Decimal,
    pub avg_exit: Decimal,
    /// Quote spent, fees included.
    pub cost: Decimal,
    /// All fees valued in the quote asset.
    pub fees: Decimal,
    /// Realized P&L in the quote asset, fees included.
    pub pnl: Decimal,
    pub pnl_pct: Decimal,
}

impl ClosedTrade {
    pub fn days_held(&self) -> i64 {
        self.closed_at.days_since(self.opened_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AssetCode;
    use rust_decimal_macros::dec;

    fn pos() -> Position {
        let sym = Symbol::parse("BTC", AssetCode::new("USDT").unwrap()).unwrap();
        Position::new(PositionId(1), sym, EntryReason::Signal, Timestamp(0))
    }

    fn fill(id: u64, price: Decimal, qty: Decimal, fee: Decimal, asset: &str) -> Fill {
        Fill { trade_id: id, price, qty, fee, fee_asset: AssetCode::new(asset).unwrap(), time: Timestamp(0) }
    }

    /// Two partial buys at different prices with the fee in the base asset (Binance's default
    /// for buys), one sell with the fee in the quote asset. Worked by hand:
    /// bought 0.6 @ 100 + 0.4 @ 110 = 60 + 44 = 104 spent; avg 104 / 1.0 = 104.
    /// base fees 0.0006 + 0.0004 = 0.001, so 0.999 held. Sold 0.999 @ 120 = 119.88, fee 0.11988
    /// USDT: received 119.76012. P&L = 119.76012 − 104 = 15.76012.
    #[test]
    fn pnl_with_base_and_quote_fees() {
        let mut p = pos();
        p.apply_fill(Side::Buy, &fill(1, dec!(100), dec!(0.6), dec!(0.0006), "BTC"), dec!(0.06));
        p.apply_fill(Side::Buy, &fill(2, dec!(110), dec!(0.4), dec!(0.0004), "BTC"), dec!(0.044));
        assert_eq!(p.qty, dec!(0.999));
        assert_eq!(p.avg_entry(), Some(dec!(104)));
        p.apply_fill(Side::Sell, &fill(3, dec!(120), dec!(0.999), dec!(0.11988), "USDT"), dec!(0.11988));
        assert_eq!(p.qty, dec!(0));
        assert_eq!(p.realized_pnl(), dec!(15.76012));
        assert_eq!(p.fees, dec!(0.22388));
        assert_eq!(p.pct_of_cost(p.realized_pnl()), dec!(15.15));
    }

    /// Fees in BNB: quantities are untouched, the fee's quote value is subtracted.
    /// Bought 2 @ 50 = 100, fee 0.01 BNB @ 300 = 3; sold 2 @ 45 = 90, fee 0.01 BNB @ 310 = 3.1.
    /// P&L = 90 − 100 − 6.1 = −16.1.
    #[test]
    fn pnl_with_bnb_fees() {
        let mut p = pos();
        p.apply_fill(Side::Buy, &fill(1, dec!(50), dec!(2), dec!(0.01), "BNB"), dec!(3));
        p.apply_fill(Side::Sell, &fill(2, dec!(45), dec!(2), dec!(0.01), "BNB"), dec!(3.1));
        assert_eq!(p.qty, dec!(0));
        assert_eq!(p.realized_pnl(), dec!(-16.1));
        let t = p.to_closed_trade(Timestamp(3 * Timestamp::MS_PER_DAY + 5));
        assert_eq!(t.pnl, dec!(-16.1));
        assert_eq!(t.pnl_pct, dec!(-16.10));
        assert_eq!(t.days_held(), 3);
        assert_eq!(t.avg_exit, dec!(45));
    }

    /// Partial buys and partial sells at several prices, every fee in BNB at the BNB price of
    /// its fill. By hand:
    /// buys 0.3 @ 100 = 30 (fee 0.0001 BNB @ 300 = 0.03) and 0.7 @ 102 = 71.4 (0.0002 @ 300 =
    /// 0.06): spent 101.4, average 101.4 / 1.0 = 101.4, quantity untouched (1.0).
    /// sells 0.5 @ 110 = 55 (0.0002 @ 310 = 0.062) and 0.5 @ 108 = 54 (0.0002 @ 305 = 0.061):
    /// received 109, average exit 109.
    /// BNB fees 0.03 + 0.06 + 0.062 + 0.061 = 0.213. P&L = 109 − 101.4 − 0.213 = 7.387,
    /// 7.387 / 101.4 = 7.285 % → 7.29 %.
    /// Halfway (0.5 left, price 109): 0.5 × 109 + (55 − 101.4 − 0.152) = 54.5 − 46.552 = 7.948.
    #[test]
    fn pnl_with_partial_fills_at_several_prices_and_bnb_fees() {
        let mut p = pos();
        p.apply_fill(Side::Buy, &fill(1, dec!(100), dec!(0.3), dec!(0.0001), "BNB"), dec!(0.03));
        p.apply_fill(Side::Buy, &fill(2, dec!(102), dec!(0.7), dec!(0.0002), "BNB"), dec!(0.06));
        assert_eq!(p.qty, dec!(1.0));
        assert_eq!(p.avg_entry(), Some(dec!(101.4)));
        p.apply_fill(Side::Sell, &fill(3, dec!(110), dec!(0.5), dec!(0.0002), "BNB"), dec!(0.062));
        assert_eq!(p.qty, dec!(0.5));
        assert_eq!(p.unrealized_pnl(dec!(109)), dec!(7.948));
        p.apply_fill(Side::Sell, &fill(4, dec!(108), dec!(0.5), dec!(0.0002), "BNB"), dec!(0.061));
        assert_eq!(p.qty, dec!(0));
        assert_eq!(p.realized_pnl(), dec!(7.387));
        assert_eq!(p.fees, dec!(0.213));
        let t = p.to_closed_trade(Timestamp(36 * 3_600_000));
        assert_eq!((t.pnl, t.pnl_pct, t.fees), (dec!(7.387), dec!(7.29), dec!(0.213)));
        assert_eq!((t.avg_entry, t.avg_exit, t.qty, t.cost), (dec!(101.4), dec!(109), dec!(1.0), dec!(101.4)));
        assert_eq!(t.days_held(), 1);
    }

    /// Base-asset fees on two buys at different prices, quote fees on two sells at different
    /// prices, closing at a loss. By hand:
    /// buys 0.5 @ 200 = 100 and 0.5 @ 210 = 105, fees 0.0005 BTC each: spent 205, average 205,
    /// held 0.999. Fees in quote at fill prices: 0.1 and 0.105.
    /// sells 0.4 @ 220 = 88 (fee 0.088 USDT) and 0.599 @ 190 = 113.81 (fee 0.11381 USDT):
    /// received 87.912 + 113.69619 = 201.60819. P&L = 201.60819 − 205 = −3.39181,
    /// −3.39181 / 205 = −1.6546 % → −1.65 %. Fees 0.1 + 0.105 + 0.088 + 0.11381 = 0.40681.
    /// Average exit 201.81 / 0.999 = 202.0120…
    #[test]
    fn pnl_with_base_fees_on_buys_and_quote_fees_on_partial_sells() {
        let mut p = pos();
        p.apply_fill(Side::Buy, &fill(1, dec!(200), dec!(0.5), dec!(0.0005), "BTC"), dec!(0.1));
        p.apply_fill(Side::Buy, &fill(2, dec!(210), dec!(0.5), dec!(0.0005), "BTC"), dec!(0.105));
        assert_eq!((p.qty, p.avg_entry()), (dec!(0.999), Some(dec!(205))));
        p.apply_fill(Side::Sell, &fill(3, dec!(220), dec!(0.4), dec!(0.088), "USDT"), dec!(0.088));
        p.apply_fill(Side::Sell, &fill(4, dec!(190), dec!(0.599), dec!(0.11381), "USDT"), dec!(0.11381));
        assert_eq!(p.qty, dec!(0));
        assert_eq!(p.realized_pnl(), dec!(-3.39181));
        assert_eq!(p.fees, dec!(0.40681));
        assert_eq!(p.pct_of_cost(p.realized_pnl()), dec!(-1.65));
        assert_eq!(p.avg_exit().map(|a| a.round_dp(6)), Some(dec!(202.012012)));
    }

    #[test]
    fn unrealized_counts_fees_paid_so_far() {
        let mut p = pos();
        p.apply_fill(Side::Buy, &fill(1, dec!(100), dec!(1), dec!(0.1), "USDT"), dec!(0.1));
        assert_eq!(p.unrealized_pnl(dec!(110)), dec!(9.9));
    }
}
