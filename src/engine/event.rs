//! Everything that can happen to the engine. Each event is journaled with the state changes it
//! caused, in one transaction.

use crate::domain::{Candle, ClientOrderId, OrderReport, Symbol, SymbolFilters, Trade};
use crate::exchange::{ExchangeError, ExchangeEvent};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Who asked: a Telegram user in a chat (or the console, with its own ids).
///
/// Authorization happens at the chat surface before a command becomes an event; the engine
/// trusts `Command` events. That is an architecture invariant: nothing else creates them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    pub user: i64,
    pub chat: i64,
}

/// A chat command the engine handles (the chat surface answers `/help`, `/id` and `/lang`
/// itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Size an entry and show it without acting (the confirmation message).
    PreviewEnter(Symbol),
    /// Place the entry (confirmed, or confirmation off).
    Enter(Symbol),
    /// Show what an exit would do.
    PreviewExit(Symbol),
    Exit(Symbol),
    /// Show what moving the position's stop to `price` would place (the confirmation).
    PreviewMoveStop {
        symbol: Symbol,
        price: Decimal,
    },
    /// Move the position's exchange-side stop to `price` (`/stop`, confirmed).
    MoveStop {
        symbol: Symbol,
        price: Decimal,
    },
    List,
    Status,
    Balance,
    Pause,
    Resume,
}

impl Command {
    /// True for commands that change trading state (traders only).
    pub fn is_trade(&self) -> bool {
        matches!(
            self,
            Command::Enter(_)
                | Command::Exit(_)
                | Command::PreviewEnter(_)
                | Command::PreviewExit(_)
                | Command::PreviewMoveStop { .. }
                | Command::MoveStop { .. }
                | Command::Pause
                | Command::Resume
        )
    }
}

/// The engine's input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// An authorized chat command.
    Command { from: Requester, command: Command },
    /// The user data stream (execution reports, balances, up/down).
    Exchange(ExchangeEvent),
    /// The answer to a `Place` request.
    Placed { client_id: ClientOrderId, result: Result<OrderReport, ExchangeError> },
    /// The answer to a `Cancel` request.
    Canceled { client_id: ClientOrderId, result: Result<OrderReport, ExchangeError> },
    /// The answer to a `ReplaceStop` request.
    StopReplaced {
        old: ClientOrderId,
        new: ClientOrderId,
        /// Boxed: two order reports, far larger than every other event.
        result: Box<Result<crate::exchange::ReplaceOutcome, ExchangeError>>,
    },
    /// The answer to a `Query` request.
    Queried { client_id: ClientOrderId, result: Result<OrderReport, ExchangeError> },
    /// The answer to a `Trades` request (fills of one order, to recover missed reports).
    Trades { client_id: ClientOrderId, result: Result<Vec<Trade>, ExchangeError> },
    /// A closed daily candle: feeds Edge70 and updates the price.
    Candle { symbol: Symbol, candle: Candle },
    /// A last-price update (market stream). Not journaled unless it changes state.
    Price { symbol: Symbol, price: Decimal },
    /// Exchange filters, at start and on every refresh.
    Filters(Vec<(Symbol, SymbolFilters)>),
    /// Balances from a full account snapshot (start, reconciliation).
    Balances(Vec<crate::domain::Balance>),
    /// Reconciliation: the exchange's open orders and balances, after every local open order
    /// has been queried. The engine compares them with its own state and reports differences.
    Reconcile { open_orders: Vec<OrderReport>, balances: Vec<crate::domain::Balance> },
    /// Reconciliation finished; `ok` false when it could not complete. `halted` is the
    /// rate-limit halt that stopped it, if that is why (a halt is Bert keeping Binance's rule,
    /// not the exchange failing, so it does not open the circuit breaker).
    Reconciled {
        ok: bool,
        #[serde(default)]
        halted: Option<ExchangeError>,
    },
    /// The service is shutting down.
    Stopping,
    /// Timer: retries that are due, circuit-breaker timeouts.
    Tick,
    /// The process (re)started with restored state: ask the exchange about every open order.
    Started,
}

impl Event {
    /// Events journaled even when they change nothing: what people asked and what the exchange
    /// answered are the audit trail. Market data and timers are journaled only when they cause
    /// something.
    pub fn is_audited(&self) -> bool {
        !matches!(
            self,
            Event::Candle { .. } | Event::Price { .. } | Event::Tick | Event::Filters(_) | Event::Balances(_)
        ) && !matches!(self, Event::Exchange(ExchangeEvent::Balances(_)))
    }

    /// A short name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Command { .. } => "command",
            Event::Exchange(ExchangeEvent::Order(_)) => "order_report",
            Event::Exchange(ExchangeEvent::Balances(_)) => "balances_update",
            Event::Exchange(ExchangeEvent::StreamUp) => "stream_up",
            Event::Exchange(ExchangeEvent::StreamDown { .. }) => "stream_down",
            Event::Placed { .. } => "placed",
            Event::Canceled { .. } => "canceled",
            Event::StopReplaced { .. } => "stop_replaced",
            Event::Queried { .. } => "queried",
            Event::Trades { .. } => "trades",
            Event::Candle { .. } => "candle",
            Event::Price { .. } => "price",
            Event::Filters(_) => "filters",
            Event::Balances(_) => "balances",
            Event::Reconcile { .. } => "reconcile",
            Event::Reconciled { .. } => "reconciled",
            Event::Stopping => "stopping",
            Event::Tick => "tick",
            Event::Started => "started",
        }
    }
}
