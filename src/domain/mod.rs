//! The trading domain: assets and symbols, money, orders and their transition table, fills,
//! positions, exchange filters and candles.
//!
//! Architecture invariant: this module does no I/O, knows no wire format and never uses `f64`
//! for money. Everything here is plain data plus pure functions, so it can be tested exhaustively
//! and shared by the engine, the store and the exchange adapters.

mod candle;
mod filters;
mod ids;
mod order;
mod position;
mod symbol;
mod time;

pub use candle::Candle;
pub use filters::{FilterError, SymbolFilters};
pub use ids::{ClientOrderId, PositionId};
pub use order::{Fill, Order, OrderKind, OrderReport, OrderRole, OrderStatus, Side};
pub use position::{ClosedTrade, EntryReason, ExitReason, Position, PositionStatus, StopInfo, StopMove};
pub use symbol::{AssetCode, Symbol, SymbolError};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};

/// Money and quantities are exact decimals everywhere.
pub use rust_decimal::Decimal;

/// A balance of one asset on the exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Balance {
    pub asset: AssetCode,
    pub free: Decimal,
    pub locked: Decimal,
}

impl Balance {
    pub fn total(&self) -> Decimal {
        self.free + self.locked
    }
}

/// One of our trades as the exchange lists it (`myTrades`): used to recover fills missed while
/// the user stream was down.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Trade {
    pub symbol: Symbol,
    /// The exchange's order id the trade belongs to.
    pub order_id: u64,
    pub side: Side,
    pub fill: Fill,
}
