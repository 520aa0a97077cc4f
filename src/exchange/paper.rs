//! The paper exchange: simulated fills over the current candle or price, emitting the same
//! domain events the Binance adapter does.
//!
//! Rules (the ones a careful backtest needs, and no more):
//! * LIMIT IOC and MARKET fill at "the touch" (the last price) moved against us by the
//!   configured slippage; an IOC whose limit is below that fills nothing and expires; an IOC can
//!   be limited to a maximum quantity per order (to simulate thin books), the remainder expires.
//! * STOP_LOSS_LIMIT sells rest. When a candle's low reaches the trigger, the stop triggers at
//!   the trigger (or at the open, if the candle gapped below it) and fills at that price less
//!   slippage, but never below its limit; if the price is already under the limit it waits until
//!   a candle's high comes back to the limit.
//! * Fees are the taker fee (0.1% by default), in the base asset for buys and the quote asset
//!   for sells, as on Binance without BNB discounts.
//! * Orders are checked against the symbol's filters and the balances, with Binance's error
//!   codes and messages, so the engine meets the same refusals it would live.
//!
//! [`PaperBook`] is synchronous (the backtest drives it directly, millions of candles a second)
//! and knows nothing of storage; [`PaperExchange`] wraps it for the async [`Exchange`] trait
//! used by `bert run` in paper mode.
//!
//! Durability: a simulated exchange is still an exchange, so in `bert run` its account (orders,
//! balances, trades, id counters: a [`PaperState`]) outlives a restart. The wrapper saves the
//! book through a [`PaperVault`] after every change and before the caller hears the answer or
//! the stream event, so an order it acknowledged is on disk first, as on a real exchange. Prices,
//! candles and filters are market data, read again at start.

use super::{Exchange, ExchangeError, ExchangeEvent, ReplaceOutcome};
use crate::domain::{
    AssetCode, Balance, Candle, ClientOrderId, Fill, Order, OrderKind, OrderReport, OrderStatus, Side, Symbol,
    SymbolFilters, Timestamp, Trade,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Simulation parameters.
#[derive(Clone, Debug)]
pub struct PaperConfig {
    /// How far the fill price moves against the order, in percent.
    pub slippage_pct: Decimal,
    /// Taker fee in percent.
    pub fee_pct: Decimal,
}

impl Default for PaperConfig {
    fn default() -> Self {
        PaperConfig { slippage_pct: dec!(0.05), fee_pct: dec!(0.1) }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct PaperOrder {
    order: Order,
    exchange_id: u64,
    status: OrderStatus,
    cum_qty: Decimal,
    cum_quote: Decimal,
    /// For a triggered stop-limit that has not filled yet.
    triggered: bool,
}

/// The synchronous simulated exchange.
#[derive(Debug, Default)]
pub struct PaperBook {
    config: PaperConfig,
    balances: BTreeMap<AssetCode, Balance>,
    prices: HashMap<Symbol, Decimal>,
    filters: HashMap<Symbol, SymbolFilters>,
    candles: HashMap<Symbol, Vec<Candle>>,
    orders: HashMap<ClientOrderId, PaperOrder>,
    by_exchange_id: HashMap<u64, ClientOrderId>,
    /// Client ids of resting stops, per symbol.
    resting: HashMap<Symbol, Vec<ClientOrderId>>,
    trades: Vec<Trade>,
    events: Vec<ExchangeEvent>,
    /// Per-symbol cap on what one IOC can fill (thin book simulation).
    max_fill: HashMap<Symbol, Decimal>,
    next_order_id: u64,
    next_trade_id: u64,
    /// Bumped by every change to the account (see [`PaperBook::revision`]).
    revision: u64,
}

/// What of a [`PaperBook`] must survive a restart: the account, not the market. Opaque outside
/// this module; the store keeps it as one record.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PaperState {
    balances: Vec<Balance>,
    /// Every order ever placed (queries of old orders must still answer), by exchange id.
    orders: Vec<PaperOrder>,
    trades: Vec<Trade>,
    next_order_id: u64,
    next_trade_id: u64,
}

impl PaperState {
    /// Orders not yet final, for logs and tests.
    pub fn open_orders(&self) -> usize {
        self.orders.iter().filter(|o| !o.status.is_terminal()).count()
    }

    pub fn balances(&self) -> &[Balance] {
        &self.balances
    }
}

/// Where [`PaperExchange`] saves its book. `save` must be durable when it returns.
pub trait PaperVault: Send + Sync + 'static {
    fn save(&self, state: &PaperState) -> Result<(), String>;
}

fn rejected(code: i64, reason: &str) -> ExchangeError {
    ExchangeError::Rejected { code, reason: reason.to_string() }
}

impl PaperBook {
    pub fn new(config: PaperConfig) -> Self {
        PaperBook { config, next_order_id: 1, next_trade_id: 1, ..Default::default() }
    }

    /// A book holding `state` (from [`PaperBook::state`]), with no prices, candles or listed
    /// symbols yet.
    pub fn restore(config: PaperConfig, state: PaperState) -> Self {
        let mut book = PaperBook::new(config);
        book.next_order_id = state.next_order_id;
        book.next_trade_id = state.next_trade_id;
        book.trades = state.trades;
        book.balances = state.balances.into_iter().map(|b| (b.asset, b)).collect();
        for po in state.orders {
            let cid = po.order.client_id.clone();
            book.by_exchange_id.insert(po.exchange_id, cid.clone());
            // The state lists orders by exchange id, so stops trigger in placement order as before.
            if po.order.kind == OrderKind::StopLossLimit && !po.status.is_terminal() {
                book.resting.entry(po.order.symbol).or_default().push(cid.clone());
            }
            book.orders.insert(cid, po);
        }
        book
    }

    /// The account, to be saved and given back to [`PaperBook::restore`].
    pub fn state(&self) -> PaperState {
        let mut orders: Vec<PaperOrder> = self.orders.values().cloned().collect();
        orders.sort_by_key(|o| o.exchange_id);
        PaperState {
            balances: self.balances.values().copied().collect(),
            orders,
            trades: self.trades.clone(),
            next_order_id: self.next_order_id,
            next_trade_id: self.next_trade_id,
        }
    }

    /// Changes whenever the account (orders, balances, trades) changes; a price that moved
    /// nothing leaves it alone, so the wrapper saves only what changed.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn deposit(&mut self, asset: AssetCode, amount: Decimal) {
        self.revision += 1;
        let b = self.balances.entry(asset).or_insert(Balance { asset, free: Decimal::ZERO, locked: Decimal::ZERO });
        b.free += amount;
    }

    pub fn list_symbol(&mut self, symbol: Symbol, filters: SymbolFilters) {
        self.filters.insert(symbol, filters);
    }

    /// Limits what one IOC order on `symbol` can fill.
    pub fn set_max_fill(&mut self, symbol: Symbol, qty: Decimal) {
        self.max_fill.insert(symbol, qty);
    }

    pub fn price(&self, symbol: Symbol) -> Option<Decimal> {
        self.prices.get(&symbol).copied()
    }

    pub fn balances(&self) -> Vec<Balance> {
        self.balances.values().filter(|b| !b.total().is_zero()).copied().collect()
    }

    pub fn filters_of(&self, symbol: Symbol) -> Option<&SymbolFilters> {
        self.filters.get(&symbol)
    }

    /// Every order ever placed, for tests and invariants.
    pub fn order_count(&self) -> usize {
        self.orders.len()
    }

    /// User-stream events produced since the last call.
    pub fn drain_events(&mut self) -> Vec<ExchangeEvent> {
        std::mem::take(&mut self.events)
    }

    /// Takes the events without allocating a new buffer each time (the backtest's hot path).
    pub fn drain_events_into(&mut self, out: &mut Vec<ExchangeEvent>) {
        out.append(&mut self.events);
    }

    /// Sets the touch price (live market data in paper mode) and triggers resting stops.
    pub fn set_price(&mut self, symbol: Symbol, price: Decimal, now: Timestamp) {
        self.prices.insert(symbol, price);
        self.trigger_stops(symbol, price, price, price, now);
    }

    /// A candle from history (the warm-up at start): the touch becomes its close, and nothing
    /// triggers. Its range lies before the orders now resting (a restored stop may have been
    /// placed after that candle's low), so it must not fill them.
    pub fn seed_candle(&mut self, symbol: Symbol, candle: &Candle) {
        self.prices.insert(symbol, candle.close);
        self.candles.entry(symbol).or_default().push(*candle);
    }

    /// A closed candle: stops that its range reached trigger, then the touch becomes its close.
    pub fn on_candle(&mut self, symbol: Symbol, candle: &Candle, now: Timestamp) {
        self.trigger_stops(symbol, candle.open, candle.low, candle.high, now);
        self.prices.insert(symbol, candle.close);
        self.candles.entry(symbol).or_default().push(*candle);
    }

    fn trigger_stops(&mut self, symbol: Symbol, open: Decimal, low: Decimal, high: Decimal, now: Timestamp) {
        let Some(ids) = self.resting.get(&symbol) else { return };
        if ids.is_empty() {
            return;
        }
        let ids = ids.clone();
        let slip = self.config.slippage_pct;
        for cid in ids {
            let Some(po) = self.orders.get_mut(&cid) else { continue };
            let (Some(stop), Some(limit)) = (po.order.stop_price, po.order.price) else { continue };
            if !po.triggered && low <= stop {
                po.triggered = true;
            }
            if !po.triggered {
                continue;
            }
            // Triggered at the stop, or at the open when the candle gapped below it.
            let at = if open < stop { open } else { stop };
            let candidate = at - at * slip / Decimal::ONE_HUNDRED;
            let price = if candidate >= limit {
                candidate
            } else if high >= limit {
                limit
            } else {
                continue; // below the limit: the sell waits
            };
            let qty = po.order.quantity - po.cum_qty;
            self.fill(&cid, qty, price, now);
        }
    }

    fn balance_mut(&mut self, asset: AssetCode) -> &mut Balance {
        self.balances.entry(asset).or_insert(Balance { asset, free: Decimal::ZERO, locked: Decimal::ZERO })
    }

    fn report(&self, po: &PaperOrder, fill: Option<Fill>, now: Timestamp) -> OrderReport {
        OrderReport {
            symbol: po.order.symbol,
            client_id: po.order.client_id.clone(),
            exchange_id: Some(po.exchange_id),
            status: po.status,
            cum_qty: po.cum_qty,
            cum_quote: po.cum_quote,
            fill,
            reason: None,
            time: now,
        }
    }

    /// Executes `qty` of an order at `price`: balances, fee, trade record, stream events.
    fn fill(&mut self, cid: &ClientOrderId, qty: Decimal, price: Decimal, now: Timestamp) {
        let fee_pct = self.config.fee_pct;
        self.revision += 1;
        let trade_id = self.next_trade_id;
        self.next_trade_id += 1;
        let Some(po) = self.orders.get(cid) else { return };
        let (symbol, side, kind) = (po.order.symbol, po.order.side, po.order.kind);
        let value = qty * price;
        let (fee, fee_asset) = match side {
            Side::Buy => (qty * fee_pct / Decimal::ONE_HUNDRED, symbol.base),
            Side::Sell => (value * fee_pct / Decimal::ONE_HUNDRED, symbol.quote),
        };
        match side {
            Side::Buy => {
                self.balance_mut(symbol.quote).free -= value;
                self.balance_mut(symbol.base).free += qty - fee;
            }
            Side::Sell => {
                let base = self.balance_mut(symbol.base);
                if kind == OrderKind::StopLossLimit {
                    base.locked -= qty;
                } else {
                    base.free -= qty;
                }
                self.balance_mut(symbol.quote).free += value - fee;
            }
        }
        let fill = Fill { trade_id, price, qty, fee, fee_asset, time: now };
        let Some(po) = self.orders.get_mut(cid) else { return };
        po.cum_qty += qty;
        po.cum_quote += value;
        po.status = if po.cum_qty >= po.order.quantity { OrderStatus::Filled } else { OrderStatus::PartiallyFilled };
        if po.status == OrderStatus::Filled
            && let Some(list) = self.resting.get_mut(&symbol)
        {
            list.retain(|c| c != cid);
        }
        let order_id = po.exchange_id;
        let po = po.clone();
        self.trades.push(Trade { symbol, order_id, side, fill: fill.clone() });
        let report = self.report(&po, Some(fill), now);
        self.events.push(ExchangeEvent::Order(report));
        self.push_balances(symbol);
    }

    fn push_balances(&mut self, symbol: Symbol) {
        let changed = [symbol.base, symbol.quote].iter().filter_map(|a| self.balances.get(a).copied()).collect();
        self.events.push(ExchangeEvent::Balances(changed));
    }

    /// Places an order; the answer is the order's state after matching (like `RESULT`).
    pub fn place(&mut self, order: &Order, now: Timestamp) -> Result<OrderReport, ExchangeError> {
        let symbol = order.symbol;
        let filters = self.filters.get(&symbol).ok_or_else(|| rejected(-1121, "Invalid symbol."))?.clone();
        if self.orders.get(&order.client_id).is_some_and(|o| !o.status.is_terminal()) {
            // As on Binance: an earlier send of the same intent, to ask about.
            return Err(ExchangeError::duplicate_id("-2010 Duplicate order sent."));
        }
        let touch = self.prices.get(&symbol).copied().ok_or_else(|| rejected(-1121, "Invalid symbol."))?;
        let slip = touch * self.config.slippage_pct / Decimal::ONE_HUNDRED;
        let filter_err = |e: crate::domain::FilterError| rejected(-1013, &format!("Filter failure: {e}"));
        match order.kind {
            OrderKind::LimitIoc => {
                let limit = order.price.ok_or_else(|| rejected(-1102, "Mandatory parameter 'price' was not sent."))?;
                filters.check_limit(limit, order.quantity).map_err(filter_err)?;
            }
            OrderKind::Market => filters.check_market(order.quantity, touch).map_err(filter_err)?,
            OrderKind::StopLossLimit => {
                let (Some(stop), Some(limit)) = (order.stop_price, order.price) else {
                    return Err(rejected(-1102, "Mandatory parameter 'stopPrice' was not sent."));
                };
                filters.check_stop(stop, limit, order.quantity).map_err(filter_err)?;
                if stop >= touch {
                    return Err(rejected(-2010, "Order would trigger immediately."));
                }
            }
        }
        // Balance check, as the matching engine does before accepting.
        let needed = match order.side {
            Side::Buy => (symbol.quote, order.quantity * order.price.unwrap_or(touch + slip)),
            Side::Sell => (symbol.base, order.quantity),
        };
        let free = self.balances.get(&needed.0).map(|b| b.free).unwrap_or_default();
        if free < needed.1 {
            return Err(rejected(-2010, "Account has insufficient balance for requested action."));
        }

        let exchange_id = self.next_order_id;
        self.next_order_id += 1;
        self.revision += 1;
        let po = PaperOrder {
            order: order.clone(),
            exchange_id,
            status: OrderStatus::New,
            cum_qty: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            triggered: false,
        };
        self.by_exchange_id.insert(exchange_id, order.client_id.clone());
        self.events.push(ExchangeEvent::Order(self.report(&po, None, now)));
        self.orders.insert(order.client_id.clone(), po);
        let cid = &order.client_id;
        match order.kind {
            OrderKind::LimitIoc => {
                let price = touch + slip;
                let limit = order.price.unwrap_or_default();
                if price <= limit {
                    let cap = self.max_fill.get(&symbol).copied().unwrap_or(order.quantity);
                    let qty = order.quantity.min(cap);
                    if qty > Decimal::ZERO {
                        self.fill(cid, qty, price, now);
                    }
                }
                self.expire_rest(cid, now);
            }
            OrderKind::Market => {
                let price = match order.side {
                    Side::Buy => touch + slip,
                    Side::Sell => touch - slip,
                };
                self.fill(cid, order.quantity, price, now);
            }
            OrderKind::StopLossLimit => {
                let b = self.balance_mut(symbol.base);
                b.free -= order.quantity;
                b.locked += order.quantity;
                self.resting.entry(symbol).or_default().push(cid.clone());
                self.push_balances(symbol);
            }
        }
        let po = self.orders.get(cid).ok_or(ExchangeError::NotFound)?;
        Ok(self.report(po, None, now))
    }

    fn expire_rest(&mut self, cid: &ClientOrderId, now: Timestamp) {
        let Some(po) = self.orders.get_mut(cid) else { return };
        if po.status.is_terminal() {
            return;
        }
        po.status = OrderStatus::Expired;
        self.revision += 1;
        let po = po.clone();
        self.events.push(ExchangeEvent::Order(self.report(&po, None, now)));
    }

    pub fn cancel(
        &mut self,
        symbol: Symbol,
        cid: &ClientOrderId,
        now: Timestamp,
    ) -> Result<OrderReport, ExchangeError> {
        let Some(po) = self.orders.get_mut(cid).filter(|o| o.order.symbol == symbol) else {
            return Err(ExchangeError::NotFound);
        };
        if po.status.is_terminal() {
            return Err(ExchangeError::NotFound); // Binance: -2011 Unknown order sent.
        }
        po.status = OrderStatus::Canceled;
        self.revision += 1;
        let left = po.order.quantity - po.cum_qty;
        let (side, kind) = (po.order.side, po.order.kind);
        let po = po.clone();
        if side == Side::Sell && kind == OrderKind::StopLossLimit {
            let b = self.balance_mut(symbol.base);
            b.locked -= left;
            b.free += left;
        }
        if let Some(list) = self.resting.get_mut(&symbol) {
            list.retain(|c| c != cid);
        }
        let report = self.report(&po, None, now);
        self.events.push(ExchangeEvent::Order(report.clone()));
        self.push_balances(symbol);
        Ok(report)
    }

    /// Binance's `cancelReplace` in `STOP_ON_FAILURE` mode: the new order's parameters and
    /// filters are checked first (a refusal changes nothing), then the old order is cancelled
    /// (if that fails nothing else happens), then the new one is placed (if that fails the old
    /// one stays cancelled).
    pub fn replace_stop(
        &mut self,
        old: &ClientOrderId,
        new: &Order,
        now: Timestamp,
    ) -> Result<ReplaceOutcome, ExchangeError> {
        let filters = self.filters.get(&new.symbol).ok_or_else(|| rejected(-1121, "Invalid symbol."))?;
        if let (Some(stop), Some(limit)) = (new.stop_price, new.price) {
            filters
                .check_stop(stop, limit, new.quantity)
                .map_err(|e| rejected(-1013, &format!("Filter failure: {e}")))?;
        }
        let canceled = self.cancel(new.symbol, old, now)?;
        match self.place(new, now) {
            Ok(placed) => Ok(ReplaceOutcome::Replaced { canceled, placed }),
            Err(ExchangeError::Rejected { code, reason }) => {
                Ok(ReplaceOutcome::CanceledOnly { canceled: Some(canceled), code, reason })
            }
            Err(e) => Ok(ReplaceOutcome::CanceledOnly { canceled: Some(canceled), code: 0, reason: e.to_string() }),
        }
    }

    pub fn query(&self, symbol: Symbol, cid: &ClientOrderId, now: Timestamp) -> Result<OrderReport, ExchangeError> {
        self.orders
            .get(cid)
            .filter(|o| o.order.symbol == symbol)
            .map(|po| self.report(po, None, now))
            .ok_or(ExchangeError::NotFound)
    }

    pub fn open_orders(&self, symbol: Option<Symbol>, now: Timestamp) -> Vec<OrderReport> {
        self.orders
            .values()
            .filter(|o| !o.status.is_terminal() && symbol.is_none_or(|s| s == o.order.symbol))
            .map(|po| self.report(po, None, now))
            .collect()
    }

    pub fn trades(&self, symbol: Symbol, order_id: u64) -> Vec<Trade> {
        self.trades.iter().filter(|t| t.symbol == symbol && t.order_id == order_id).cloned().collect()
    }

    pub fn daily_candles(&self, symbol: Symbol, limit: usize) -> Vec<Candle> {
        let all = self.candles.get(&symbol).map(Vec::as_slice).unwrap_or(&[]);
        all[all.len().saturating_sub(limit)..].to_vec()
    }
}

/// [`PaperBook`] behind the async [`Exchange`] trait (for `bert run` in paper mode).
pub struct PaperExchange {
    book: Mutex<PaperBook>,
    sink: Mutex<Option<mpsc::Sender<ExchangeEvent>>>,
    vault: Option<Arc<dyn PaperVault>>,
    /// One change at a time from mutation to saved: without it two calls could save their
    /// states in the opposite order and leave the older one on disk.
    turn: tokio::sync::Mutex<()>,
}

impl PaperExchange {
    /// A book that lives in memory only (tests, tools).
    pub fn new(book: PaperBook) -> Self {
        PaperExchange { book: Mutex::new(book), sink: Mutex::new(None), vault: None, turn: tokio::sync::Mutex::new(()) }
    }

    /// A book saved to `vault` after every change, before anyone hears of the change.
    pub fn persistent(book: PaperBook, vault: Arc<dyn PaperVault>) -> Self {
        PaperExchange { vault: Some(vault), ..PaperExchange::new(book) }
    }

    /// Runs `f` on the book, saves the book if `f` changed it, then forwards the stream events
    /// it produced. The std mutex is held only for the synchronous simulation step, never across
    /// an await. Returns `f`'s output and, if the change could not be saved, why.
    async fn with_book<T>(&self, f: impl FnOnce(&mut PaperBook) -> T) -> (T, Option<String>) {
        let turn = self.turn.lock().await;
        let (out, events, changed) = {
            let mut book = self.book.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let before = book.revision();
            let out = f(&mut book);
            let changed = (self.vault.is_some() && book.revision() != before).then(|| book.state());
            (out, book.drain_events(), changed)
        };
        let mut unsaved = None;
        if let (Some(vault), Some(state)) = (&self.vault, changed) {
            // The vault fsyncs: off the async workers.
            let vault = vault.clone();
            let saved = tokio::task::spawn_blocking(move || vault.save(&state))
                .await
                .unwrap_or_else(|e| Err(format!("the save task failed: {e}")));
            if let Err(e) = saved {
                tracing::error!(error = %e, "the paper exchange could not save its book");
                unsaved = Some(e);
            }
        }
        drop(turn);
        let sink = self.sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        if let Some(sink) = sink {
            for e in events {
                if sink.send(e).await.is_err() {
                    break;
                }
            }
        }
        (out, unsaved)
    }

    /// [`Self::with_book`] for a request: a change that could not be saved is an unknown
    /// outcome (it happened here, but would not survive a restart), resolved by a query.
    async fn request<T>(&self, f: impl FnOnce(&mut PaperBook) -> Result<T, ExchangeError>) -> Result<T, ExchangeError> {
        match self.with_book(f).await {
            (Ok(_), Some(e)) => Err(ExchangeError::Unknown { reason: format!("the paper book was not saved: {e}") }),
            (out, _) => out,
        }
    }

    /// Reads the book (no change, nothing to save).
    async fn read<T>(&self, f: impl FnOnce(&mut PaperBook) -> T) -> T {
        self.with_book(f).await.0
    }

    pub async fn set_price(&self, symbol: Symbol, price: Decimal) {
        self.with_book(|b| b.set_price(symbol, price, Timestamp::now())).await;
    }

    pub async fn on_candle(&self, symbol: Symbol, candle: Candle) {
        self.with_book(|b| b.on_candle(symbol, &candle, Timestamp::now())).await;
    }

    /// A history candle at start ([`PaperBook::seed_candle`]): sets the touch, fills nothing.
    pub async fn seed_candle(&self, symbol: Symbol, candle: Candle) {
        self.with_book(|b| b.seed_candle(symbol, &candle)).await;
    }
}

impl Exchange for PaperExchange {
    async fn place(&self, order: &Order) -> Result<OrderReport, ExchangeError> {
        self.request(|b| b.place(order, Timestamp::now())).await
    }

    async fn cancel(&self, symbol: Symbol, client_id: &ClientOrderId) -> Result<OrderReport, ExchangeError> {
        self.request(|b| b.cancel(symbol, client_id, Timestamp::now())).await
    }

    async fn replace_stop(&self, old: &ClientOrderId, new: &Order) -> Result<ReplaceOutcome, ExchangeError> {
        self.request(|b| b.replace_stop(old, new, Timestamp::now())).await
    }

    async fn query(&self, symbol: Symbol, client_id: &ClientOrderId) -> Result<OrderReport, ExchangeError> {
        self.read(|b| b.query(symbol, client_id, Timestamp::now())).await
    }

    async fn open_orders(&self, symbol: Option<Symbol>) -> Result<Vec<OrderReport>, ExchangeError> {
        Ok(self.read(|b| b.open_orders(symbol, Timestamp::now())).await)
    }

    async fn trades(&self, symbol: Symbol, order_id: u64) -> Result<Vec<Trade>, ExchangeError> {
        Ok(self.read(|b| b.trades(symbol, order_id)).await)
    }

    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError> {
        Ok(self.read(|b| b.balances()).await)
    }

    async fn filters(&self, symbols: &[Symbol]) -> Result<Vec<(Symbol, SymbolFilters)>, ExchangeError> {
        Ok(self.read(|b| symbols.iter().filter_map(|s| b.filters_of(*s).map(|f| (*s, f.clone()))).collect()).await)
    }

    async fn daily_candles(&self, symbol: Symbol, limit: usize) -> Result<Vec<Candle>, ExchangeError> {
        Ok(self.read(|b| b.daily_candles(symbol, limit)).await)
    }

    async fn start_user_stream(&self, sink: mpsc::Sender<ExchangeEvent>) -> Result<(), ExchangeError> {
        *self.sink.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(sink.clone());
        // A simulated stream never drops; say it is up so the engine's view is the same as live.
        let _ = sink.send(ExchangeEvent::StreamUp).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OrderRole, PositionId};

    fn usdt() -> AssetCode {
        AssetCode::new("USDT").unwrap()
    }
    fn btc() -> Symbol {
        Symbol::parse("BTC", usdt()).unwrap()
    }

    fn book() -> PaperBook {
        let mut b = PaperBook::new(PaperConfig { slippage_pct: dec!(0), fee_pct: dec!(0.1) });
        b.list_symbol(btc(), SymbolFilters::typical(dec!(0.01), dec!(0.001), dec!(5)));
        b.deposit(usdt(), dec!(10000));
        b.set_price(btc(), dec!(100), Timestamp(0));
        b
    }

    fn order(
        role: OrderRole,
        kind: OrderKind,
        side: Side,
        qty: Decimal,
        price: Option<Decimal>,
        stop: Option<Decimal>,
    ) -> Order {
        let mut o = Order::intent(
            ClientOrderId::derive("t", PositionId(1), role, 1),
            PositionId(1),
            btc(),
            side,
            kind,
            role,
            qty,
            Timestamp(0),
        );
        o.price = price;
        o.stop_price = stop;
        o
    }

    /// A second send of an intent whose order rests is the earlier send landing, not a
    /// rejection: the engine must ask, never take it as "refused" (that would dump the position
    /// while its stop still rests).
    #[test]
    fn a_duplicate_id_of_a_resting_order_is_an_unknown_outcome() {
        let mut b = book();
        b.deposit(btc().base, dec!(1));
        let stop =
            order(OrderRole::Stop, OrderKind::StopLossLimit, Side::Sell, dec!(1), Some(dec!(89)), Some(dec!(90)));
        assert_eq!(b.place(&stop, Timestamp(1)).unwrap().status, OrderStatus::New);
        let again = b.place(&stop, Timestamp(2)).unwrap_err();
        assert!(again.is_unknown_outcome(), "{again:?}");
        assert_eq!(b.query(btc(), &stop.client_id, Timestamp(3)).unwrap().status, OrderStatus::New);
    }

    #[test]
    fn ioc_fills_at_touch_with_base_fee_and_reports_like_binance() {
        let mut b = book();
        let o = order(OrderRole::Entry, OrderKind::LimitIoc, Side::Buy, dec!(2), Some(dec!(100.5)), None);
        let r = b.place(&o, Timestamp(1)).unwrap();
        assert_eq!(r.status, OrderStatus::Filled);
        assert_eq!(r.cum_qty, dec!(2));
        let events = b.drain_events();
        let statuses: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                ExchangeEvent::Order(r) => Some(r.status),
                _ => None,
            })
            .collect();
        assert_eq!(statuses, vec![OrderStatus::New, OrderStatus::Filled]);
        let bal: HashMap<_, _> = b.balances().into_iter().map(|b| (b.asset.to_string(), b.free)).collect();
        assert_eq!(bal["BTC"], dec!(1.998));
        assert_eq!(bal["USDT"], dec!(9800));
    }

    #[test]
    fn ioc_partial_then_expired_and_zero_fill_expired() {
        let mut b = book();
        b.set_max_fill(btc(), dec!(0.5));
        let o = order(OrderRole::Entry, OrderKind::LimitIoc, Side::Buy, dec!(2), Some(dec!(101)), None);
        let r = b.place(&o, Timestamp(1)).unwrap();
        assert_eq!((r.status, r.cum_qty), (OrderStatus::Expired, dec!(0.5)));
        let mut low = order(OrderRole::Entry, OrderKind::LimitIoc, Side::Buy, dec!(1), Some(dec!(99)), None);
        low.client_id = ClientOrderId::derive("t", PositionId(2), OrderRole::Entry, 1);
        let r = b.place(&low, Timestamp(1)).unwrap();
        assert_eq!((r.status, r.cum_qty), (OrderStatus::Expired, dec!(0)));
    }

    #[test]
    fn stop_rests_triggers_on_the_low_and_fills_at_limit_or_better() {
        let mut b = book();
        b.deposit(btc().base, dec!(1));
        let stop =
            order(OrderRole::Stop, OrderKind::StopLossLimit, Side::Sell, dec!(1), Some(dec!(72)), Some(dec!(90)));
        assert_eq!(b.place(&stop, Timestamp(1)).unwrap().status, OrderStatus::New);
        let candle = |o: Decimal, h: Decimal, l: Decimal, c: Decimal| Candle {
            open_time: Timestamp(0),
            close_time: Timestamp(1),
            open: o,
            high: h,
            low: l,
            close: c,
            volume: dec!(1),
        };
        b.on_candle(btc(), &candle(dec!(100), dec!(101), dec!(91), dec!(95)), Timestamp(2));
        assert_eq!(b.query(btc(), &stop.client_id, Timestamp(2)).unwrap().status, OrderStatus::New);
        // Gap down: opens at 85, below the 90 trigger; fills at the open.
        b.on_candle(btc(), &candle(dec!(85), dec!(86), dec!(80), dec!(82)), Timestamp(3));
        let r = b.query(btc(), &stop.client_id, Timestamp(3)).unwrap();
        assert_eq!((r.status, r.cum_quote), (OrderStatus::Filled, dec!(85)));
    }

    #[test]
    fn refusals_use_binance_codes() {
        let mut b = book();
        let stop =
            order(OrderRole::Stop, OrderKind::StopLossLimit, Side::Sell, dec!(1), Some(dec!(80)), Some(dec!(100)));
        b.deposit(btc().base, dec!(1));
        assert_eq!(
            b.place(&stop, Timestamp(1)),
            Err(ExchangeError::Rejected { code: -2010, reason: "Order would trigger immediately.".into() })
        );
        let big = order(OrderRole::Entry, OrderKind::LimitIoc, Side::Buy, dec!(1000), Some(dec!(100)), None);
        assert!(matches!(b.place(&big, Timestamp(1)), Err(ExchangeError::Rejected { code: -2010, .. })));
        let tiny = order(OrderRole::Entry, OrderKind::LimitIoc, Side::Buy, dec!(0.001), Some(dec!(100)), None);
        assert!(matches!(b.place(&tiny, Timestamp(1)), Err(ExchangeError::Rejected { code: -1013, .. })));
        assert_eq!(b.cancel(btc(), &stop.client_id, Timestamp(1)), Err(ExchangeError::NotFound));
    }

    /// Moving a stop: one operation replaces it; a new stop above the market cancels the old
    /// one and is refused (as Binance does); a new stop off the tick grid changes nothing.
    #[test]
    fn replace_stop_moves_or_reports_what_happened() {
        let mut b = book();
        b.deposit(btc().base, dec!(1));
        let old = order(OrderRole::Stop, OrderKind::StopLossLimit, Side::Sell, dec!(1), Some(dec!(72)), Some(dec!(90)));
        b.place(&old, Timestamp(1)).unwrap();
        let mut new = old.clone();
        new.client_id = ClientOrderId::derive("t", PositionId(1), OrderRole::Stop, 2);
        (new.stop_price, new.price) = (Some(dec!(95)), Some(dec!(76)));
        let ReplaceOutcome::Replaced { canceled, placed } = b.replace_stop(&old.client_id, &new, Timestamp(2)).unwrap()
        else {
            panic!("not replaced")
        };
        assert_eq!((canceled.status, placed.status), (OrderStatus::Canceled, OrderStatus::New));
        assert_eq!(b.open_orders(None, Timestamp(2)).len(), 1);
        // The old one is gone: NotFound, nothing placed.
        let mut again = new.clone();
        again.client_id = ClientOrderId::derive("t", PositionId(1), OrderRole::Stop, 3);
        assert_eq!(b.replace_stop(&old.client_id, &again, Timestamp(3)), Err(ExchangeError::NotFound));
        // Off the grid: refused before anything happens.
        again.stop_price = Some(dec!(95.005));
        assert!(matches!(
            b.replace_stop(&new.client_id, &again, Timestamp(3)),
            Err(ExchangeError::Rejected { code: -1013, .. })
        ));
        assert_eq!(b.open_orders(None, Timestamp(3)).len(), 1);
        // Above the market: the old one is cancelled, the new one refused.
        (again.stop_price, again.price) = (Some(dec!(120)), Some(dec!(96)));
        let out = b.replace_stop(&new.client_id, &again, Timestamp(4)).unwrap();
        assert!(matches!(out, ReplaceOutcome::CanceledOnly { code: -2010, .. }), "{out:?}");
        assert!(b.open_orders(None, Timestamp(4)).is_empty());
    }

    /// Records every save; fails them while `fail` is set.
    #[derive(Default)]
    struct Recorder {
        saved: Mutex<Vec<PaperState>>,
        fail: std::sync::atomic::AtomicBool,
    }

    impl PaperVault for Recorder {
        fn save(&self, state: &PaperState) -> Result<(), String> {
            if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
                return Err("disk full".into());
            }
            self.saved.lock().unwrap().push(state.clone());
            Ok(())
        }
    }

    /// The wrapper saves every change before the caller or the stream hears of it, saves
    /// nothing for a price that changed nothing, and calls a change it could not save an
    /// unknown outcome.
    #[tokio::test]
    async fn persistent_exchange_saves_each_change_before_answering() {
        let vault = Arc::new(Recorder::default());
        let mut b = book();
        b.deposit(btc().base, dec!(1));
        let ex = PaperExchange::persistent(b, vault.clone());
        let (tx, mut rx) = mpsc::channel(64);
        ex.start_user_stream(tx).await.unwrap();
        assert_eq!(rx.recv().await, Some(ExchangeEvent::StreamUp));
        let saves = || vault.saved.lock().unwrap().clone();

        let stop =
            order(OrderRole::Stop, OrderKind::StopLossLimit, Side::Sell, dec!(1), Some(dec!(72)), Some(dec!(90)));
        assert_eq!(ex.place(&stop).await.unwrap().status, OrderStatus::New);
        assert_eq!(saves().len(), 1, "saved before the answer");
        assert_eq!(saves()[0].open_orders(), 1);
        assert!(rx.try_recv().is_ok(), "the stream hears of it after the save");

        // A price above the stop changes nothing: nothing to save. Reads save nothing either.
        ex.set_price(btc(), dec!(95)).await;
        ex.query(btc(), &stop.client_id).await.unwrap();
        ex.balances().await.unwrap();
        assert_eq!(saves().len(), 1);
        // A refused order changes nothing.
        let mut again = stop.clone();
        again.client_id = ClientOrderId::derive("t", PositionId(2), OrderRole::Stop, 1);
        assert!(matches!(ex.place(&again).await, Err(ExchangeError::Rejected { .. })));
        assert_eq!(saves().len(), 1);

        // The price falls through the stop: the fill is saved.
        ex.set_price(btc(), dec!(89)).await;
        assert_eq!(saves().len(), 2);
        assert_eq!(saves()[1].open_orders(), 0);

        // A change that cannot be saved is reported as an unknown outcome.
        vault.fail.store(true, std::sync::atomic::Ordering::SeqCst);
        let buy = order(OrderRole::Entry, OrderKind::LimitIoc, Side::Buy, dec!(1), Some(dec!(90)), None);
        let mut buy = buy;
        buy.client_id = ClientOrderId::derive("t", PositionId(3), OrderRole::Entry, 1);
        assert!(matches!(ex.place(&buy).await, Err(ExchangeError::Unknown { .. })));
    }

    #[test]
    fn cancel_unlocks_and_second_cancel_is_not_found() {
        let mut b = book();
        b.deposit(btc().base, dec!(1));
        let stop =
            order(OrderRole::Stop, OrderKind::StopLossLimit, Side::Sell, dec!(1), Some(dec!(72)), Some(dec!(90)));
        b.place(&stop, Timestamp(1)).unwrap();
        assert_eq!(b.cancel(btc(), &stop.client_id, Timestamp(2)).unwrap().status, OrderStatus::Canceled);
        assert_eq!(b.cancel(btc(), &stop.client_id, Timestamp(3)), Err(ExchangeError::NotFound));
        let btc_bal = b.balances().into_iter().find(|x| x.asset == btc().base).unwrap();
        assert_eq!((btc_bal.free, btc_bal.locked), (dec!(1), dec!(0)));
    }
}
