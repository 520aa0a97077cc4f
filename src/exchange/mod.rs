//! The exchange seam: one trait in domain types, implemented by the paper exchange (simulated
//! fills) and the Binance adapter.
//!
//! Architecture invariant: nothing outside an implementation of [`Exchange`] sees a wire type.
//! Implementations convert Binance JSON (or simulated state) into [`OrderReport`], [`Trade`],
//! [`Balance`], [`SymbolFilters`] and [`Candle`] at the boundary.

pub mod binance;
pub mod paper;

use crate::domain::{Balance, Candle, ClientOrderId, Order, OrderReport, Symbol, SymbolFilters, Trade};
use std::future::Future;
use tokio::sync::mpsc;

/// How a request to the exchange can fail. The split that matters for money is between
/// outcomes that are *known* (rejected: nothing happened) and *unknown* (it may have happened):
/// an unknown outcome is resolved by asking the exchange about the client order id, never by
/// sending the request again.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum ExchangeError {
    /// The exchange refused the request; nothing was executed. `reason` is the exchange's text,
    /// shown to the user.
    #[error("rejected by the exchange ({code}): {reason}")]
    Rejected { code: i64, reason: String },
    /// The request may or may not have been executed (timeout, 5xx, `-1006`, `-1007`, dropped
    /// connection after sending).
    #[error("outcome unknown: {reason}")]
    Unknown { reason: String },
    /// The order does not exist (query `-2013`, cancel `-2011` of an order that is gone).
    #[error("order not found")]
    NotFound,
    /// 429 or 418: every request is halted until `retry_after_ms` (epoch ms) passes. Requests
    /// refused locally during such a halt (never sent) fail with this too.
    #[error("rate limited until {retry_after_ms} (banned: {banned})")]
    RateLimited { retry_after_ms: i64, banned: bool },
    /// The request was not sent (connection refused, Bert's own request budget spent, circuit
    /// open). Safe to retry later.
    #[error("exchange unavailable: {reason}")]
    Unavailable { reason: String },
    /// The exchange answered something Bert could not understand.
    #[error("unexpected answer from the exchange: {reason}")]
    Decode { reason: String },
}

impl ExchangeError {
    /// True when the request may have been executed, so its fate must be queried.
    pub fn is_unknown_outcome(&self) -> bool {
        matches!(self, ExchangeError::Unknown { .. } | ExchangeError::Decode { .. })
    }

    /// The exchange refused a placement because an open order already has its client id
    /// (`answer`: the exchange's code and message). Ids come from the intent, so that order is
    /// ours, from an earlier send whose answer was lost: not a rejection of the intent, but an
    /// outcome to ask about.
    pub fn duplicate_id(answer: &str) -> Self {
        ExchangeError::Unknown { reason: format!("{answer}: an order with this id already exists") }
    }
}

/// What a stop move ([`Exchange::replace_stop`]) did when the exchange answered.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReplaceOutcome {
    /// The old order is cancelled and the new one placed.
    Replaced { canceled: OrderReport, placed: OrderReport },
    /// The old order is cancelled but the exchange refused the new one (`code`, `reason` in its
    /// words): the position the old order protected has no exchange-side protection now.
    CanceledOnly { canceled: Option<OrderReport>, code: i64, reason: String },
}

/// Something the exchange tells Bert without being asked: the user data stream.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ExchangeEvent {
    /// An execution report, converted.
    Order(OrderReport),
    /// Balances that changed (`outboundAccountPosition`).
    Balances(Vec<Balance>),
    /// The user stream is subscribed (again): reconcile now.
    StreamUp,
    /// The user stream dropped; the reason is for the log and the alert.
    StreamDown { reason: String },
}

/// The operations Bert needs from an exchange, in domain types.
pub trait Exchange: Send + Sync + 'static {
    /// Places `order` with its client order id. `Ok` carries the exchange's first report on it.
    fn place(&self, order: &Order) -> impl Future<Output = Result<OrderReport, ExchangeError>> + Send;

    /// Cancels by client order id. `Err(NotFound)` when the order is gone (e.g. already filled).
    fn cancel(
        &self,
        symbol: Symbol,
        client_id: &ClientOrderId,
    ) -> impl Future<Output = Result<OrderReport, ExchangeError>> + Send;

    /// Asks for an order by client order id. `Err(NotFound)` when the exchange does not know it
    /// (which shortly after placement can still mean "not visible yet").
    fn query(
        &self,
        symbol: Symbol,
        client_id: &ClientOrderId,
    ) -> impl Future<Output = Result<OrderReport, ExchangeError>> + Send;

    /// Moves a resting stop in one request: cancels `old` and places `new`, never the new one
    /// without the cancel (Binance `cancelReplace` in `STOP_ON_FAILURE` mode).
    ///
    /// * `Ok(Replaced)`: done. `Ok(CanceledOnly)`: the old order is gone and the new one was
    ///   refused, so the position has no stop until another is placed.
    /// * `Err(NotFound)`: the old order is gone (filled or cancelled); nothing was placed.
    /// * `Err(Rejected)`: nothing happened; the old order still stands.
    /// * `Err(Unknown)`: either may have happened; ask about both ids.
    fn replace_stop(
        &self,
        old: &ClientOrderId,
        new: &Order,
    ) -> impl Future<Output = Result<ReplaceOutcome, ExchangeError>> + Send;

    /// Orders resting on the book for `symbol` (all symbols when `None`).
    fn open_orders(
        &self,
        symbol: Option<Symbol>,
    ) -> impl Future<Output = Result<Vec<OrderReport>, ExchangeError>> + Send;

    /// Our trades on `symbol` for one exchange order id.
    fn trades(&self, symbol: Symbol, order_id: u64) -> impl Future<Output = Result<Vec<Trade>, ExchangeError>> + Send;

    /// Every non-zero balance.
    fn balances(&self) -> impl Future<Output = Result<Vec<Balance>, ExchangeError>> + Send;

    /// Filters of the given symbols; unknown symbols are left out of the answer.
    fn filters(
        &self,
        symbols: &[Symbol],
    ) -> impl Future<Output = Result<Vec<(Symbol, SymbolFilters)>, ExchangeError>> + Send;

    /// The last `limit` closed daily candles of `symbol`, oldest first.
    fn daily_candles(
        &self,
        symbol: Symbol,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Candle>, ExchangeError>> + Send;

    /// Starts delivering user-stream events into `sink`. Implementations that keep a connection
    /// spawn a task that reconnects on its own and reports `StreamDown`/`StreamUp` as it goes.
    fn start_user_stream(
        &self,
        sink: mpsc::Sender<ExchangeEvent>,
    ) -> impl Future<Output = Result<(), ExchangeError>> + Send;
}
