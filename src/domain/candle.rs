//! OHLCV candles.

use super::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One closed candle. Only closed candles reach the strategy and the paper exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candle {
    pub open_time: Timestamp,
    pub close_time: Timestamp,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: Decimal,
}

impl Candle {
    /// True when the prices are consistent (low ≤ open, close ≤ high; all positive).
    pub fn is_sane(&self) -> bool {
        self.low > Decimal::ZERO
            && self.low <= self.high
            && self.open >= self.low
            && self.open <= self.high
            && self.close >= self.low
            && self.close <= self.high
            && self.open_time <= self.close_time
    }
}
