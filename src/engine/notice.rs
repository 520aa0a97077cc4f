//! What the engine tells people, as data. The chat surface renders a [`Notice`] into the chat's
//! language when it is delivered, so the outbox stores meaning, not text.

use crate::domain::{EntryReason, ExitReason, Symbol, Timestamp};
use crate::strategy::edge70::{Direction, SignalKind};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Why a command or a signal was not acted on. Each has its own localized sentence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    Paused,
    BreakerOpen,
    AlreadyInPosition {
        symbol: Symbol,
    },
    NoPosition {
        symbol: Symbol,
    },
    /// An entry or exit is already in flight for the symbol.
    Busy {
        symbol: Symbol,
    },
    UnknownSymbol {
        symbol: Symbol,
    },
    NoPrice {
        symbol: Symbol,
    },
    MaxOpenPositions {
        max: u32,
    },
    PortfolioRiskFull {
        max_pct: Decimal,
    },
    NoFreeBalance {
        asset: String,
    },
    BelowMinimum {
        value: Decimal,
        min: Decimal,
    },
    /// The exchange's filters refuse the order (their own words).
    Filters {
        detail: String,
    },
    NoPortfolio,
    /// After a restart, entries wait until reconciliation with the exchange has succeeded.
    NotReconciled,
    /// `/stop`: a sell stop must be below the current price (it would trigger at once).
    StopNotBelowPrice {
        symbol: Symbol,
        stop: Decimal,
        price: Decimal,
    },
    /// `/stop`: the position has no working stop on the exchange to move (one is being placed).
    NoStopToMove {
        symbol: Symbol,
    },
}

/// A stop move as the confirmation shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopPlan {
    pub symbol: Symbol,
    pub qty: Decimal,
    /// The stop's trigger now.
    pub old_stop: Decimal,
    /// The new trigger (the requested price rounded up to the tick, as the engine rounds
    /// stops) and its limit (the configured gap below, rounded down).
    pub stop_price: Decimal,
    pub limit_price: Decimal,
    /// The last price.
    pub price: Decimal,
    /// P&L if the new stop fills at its trigger, fees so far included.
    pub pnl_at_stop: Decimal,
}

/// How a stop move that did not happen left the position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MoveFailure {
    /// Nothing changed: the old stop still stands.
    OldStands,
    /// The exchange cancelled the old stop and refused the new one: the old one is being
    /// placed again.
    Restoring,
    /// The old stop was no longer on the exchange (filled or cancelled): Bert is asking what
    /// happened to it.
    OldGone,
}

/// What reconciliation with the exchange found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Finding {
    /// An order had changed on the exchange without Bert hearing of it (a missed report); Bert
    /// has applied it.
    OrderChanged { symbol: Symbol, client_id: String, status: String },
    /// An order with Bert's tag rests on the exchange, but Bert has no record of it.
    UnknownOrder { symbol: Symbol, client_id: String },
    /// The account holds less of an asset than Bert's open positions say.
    BalanceShort { symbol: Symbol, position: Decimal, held: Decimal },
}

/// Which limit decided the size of an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SizeBound {
    Risk,
    MaxPosition,
    FreeBalance,
    PortfolioRisk,
}

/// A sized entry, for the confirmation message and the "entry placed" alert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryPlan {
    pub symbol: Symbol,
    pub reference_price: Decimal,
    pub limit_price: Decimal,
    pub qty: Decimal,
    /// qty × limit price: the most quote the entry can spend.
    pub value: Decimal,
    /// The stop if the entry fills at the limit price.
    pub stop_price: Decimal,
    /// Quote lost if the stop is hit at `stop_price`.
    pub risk: Decimal,
    pub risk_pct: Decimal,
    pub portfolio: Decimal,
    pub bound: SizeBound,
}

/// One open position as `/list` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionView {
    pub symbol: Symbol,
    pub qty: Decimal,
    pub avg_entry: Decimal,
    pub price: Option<Decimal>,
    pub pnl: Option<Decimal>,
    pub pnl_pct: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub opened_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusView {
    pub paused: bool,
    pub breaker: Option<super::BreakerReason>,
    pub stream_up: bool,
    pub open_positions: usize,
    pub open_orders: usize,
    pub symbols: usize,
    pub auto_trade: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceLine {
    pub asset: String,
    pub total: Decimal,
    pub value: Option<Decimal>,
}

/// Everything the engine can say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Notice {
    Refused(Refusal),
    EntryPreview(EntryPlan),
    ExitPreview {
        symbol: Symbol,
        qty: Decimal,
        price: Option<Decimal>,
        pnl: Option<Decimal>,
    },
    Positions(Vec<PositionView>),
    Status(StatusView),
    Balances {
        lines: Vec<BalanceLine>,
        portfolio: Decimal,
        quote: String,
    },
    Paused,
    Resumed,
    EntryPlaced {
        plan: EntryPlan,
        reason: EntryReason,
    },
    EntryFill {
        symbol: Symbol,
        qty: Decimal,
        price: Decimal,
        avg_price: Decimal,
        filled: Decimal,
        ordered: Decimal,
        fee: Decimal,
        fee_asset: String,
    },
    EntryFailed {
        symbol: Symbol,
        reason: Option<String>,
    },
    StopPlaced {
        symbol: Symbol,
        qty: Decimal,
        stop_price: Decimal,
        limit_price: Decimal,
    },
    /// The exchange refused the stop: the position is being sold at market instead.
    StopRefused {
        symbol: Symbol,
        reason: Option<String>,
    },
    /// The stop was cancelled or expired outside Bert; a new one is being placed.
    StopLost {
        symbol: Symbol,
        reason: Option<String>,
    },
    /// The exchange no longer knows a stop Bert saw resting (a query answered "not found" well
    /// after its placement); a new one is being placed.
    StopVanished {
        symbol: Symbol,
    },
    /// The stop ended on the exchange but what it sold cannot be read yet. Bert places no new
    /// stop and no sell until it knows (it may have sold everything): a person should look.
    StopFillsPending {
        symbol: Symbol,
    },
    StopFill {
        symbol: Symbol,
        qty: Decimal,
        price: Decimal,
        /// The fill's fee as charged (absent in rows queued before fees were shown).
        #[serde(default)]
        fee: Decimal,
        #[serde(default)]
        fee_asset: String,
    },
    ExitPlaced {
        symbol: Symbol,
        qty: Decimal,
        reason: ExitReason,
    },
    ExitFill {
        symbol: Symbol,
        qty: Decimal,
        price: Decimal,
        /// The fill's fee as charged (absent in rows queued before fees were shown).
        #[serde(default)]
        fee: Decimal,
        #[serde(default)]
        fee_asset: String,
    },
    /// A market sell did not complete; the position is protected by a new stop.
    ExitFailed {
        symbol: Symbol,
        reason: Option<String>,
    },
    /// Neither a stop nor a market sell could be placed: act now.
    Unprotected {
        symbol: Symbol,
        reason: Option<String>,
    },
    PositionClosed {
        symbol: Symbol,
        reason: Option<ExitReason>,
        qty: Decimal,
        avg_entry: Decimal,
        avg_exit: Decimal,
        pnl: Decimal,
        pnl_pct: Decimal,
        fees: Decimal,
        days: i64,
    },
    Signal {
        symbol: Symbol,
        direction: Direction,
        kind: SignalKind,
        level: Decimal,
        price: Decimal,
        candle_close: Timestamp,
        auto_trade: bool,
    },
    /// An order's outcome is unknown; Bert is asking the exchange (never re-sending).
    OrderOutcomeUnknown {
        symbol: Symbol,
        client_id: String,
    },
    BreakerOpened {
        reason: super::BreakerReason,
    },
    BreakerClosed,
    /// Binance answered 429 (or 418: banned): Bert sends nothing until `until`. Stops already on
    /// the exchange keep working.
    RateLimitHalt {
        until: Timestamp,
        banned: bool,
    },
    Reconciliation(Finding),
    /// The service started (after a restart: with the positions it restored).
    Started {
        open_positions: usize,
    },
    /// The service is shutting down; stops stay on the exchange.
    Stopping,
    /// `/stop` confirmation.
    MoveStopPreview(StopPlan),
    /// The stop was moved on the exchange.
    StopMoved {
        symbol: Symbol,
        qty: Decimal,
        old_stop: Decimal,
        stop_price: Decimal,
        limit_price: Decimal,
    },
    /// A stop move did not happen (`reason` in the exchange's words).
    StopMoveFailed {
        symbol: Symbol,
        old_stop: Decimal,
        outcome: MoveFailure,
        reason: Option<String>,
    },
    /// After a failed move, the old stop is on the exchange again.
    StopRestored {
        symbol: Symbol,
        qty: Decimal,
        stop_price: Decimal,
        limit_price: Decimal,
    },
    /// A portfolio warning was raised or cleared.
    Portfolio(super::warnings::PortfolioNotice),
    /// The periodic performance report of open positions and the portfolio.
    Performance(super::PerformanceReport),
}

impl Notice {
    /// Alerts about a position left without its protection, that a person may have to act on
    /// now. They reach every alert chat even if it muted warnings: muting is for noise, and
    /// these are never noise.
    pub fn demands_action(&self) -> bool {
        matches!(
            self,
            Notice::Unprotected { .. }
                | Notice::StopRefused { .. }
                | Notice::StopLost { .. }
                | Notice::StopVanished { .. }
                | Notice::StopFillsPending { .. }
                | Notice::ExitFailed { .. }
        )
    }
}
