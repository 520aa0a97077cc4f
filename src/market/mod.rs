//! Candle sources for the demo and the backtester.
//!
//! * [`synthetic`]: a built-in, deterministic, seeded market (several symbols, years of daily
//!   candles with trends, crashes and chop), so `bert demo` and `bert backtest` need no network
//!   and give the same result on every machine.
//! * [`csv`]: Binance's public kline dump files, for `bert backtest --data DIR`.
//!
//! Both produce the same [`MarketSeries`]: one symbol, its exchange filters and its closed daily
//! candles in time order.

pub mod csv;
pub mod synthetic;

use crate::domain::{Candle, Symbol, SymbolFilters};

pub use csv::{CsvError, load_dir};
pub use synthetic::SyntheticMarket;

/// The closed candles of one symbol, oldest first, with the filters orders on it must obey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarketSeries {
    pub symbol: Symbol,
    pub filters: SymbolFilters,
    /// Closed candles in strictly increasing `open_time` order.
    pub candles: Vec<Candle>,
}
