//! The engine: Bert's trading logic as a synchronous state machine.
//!
//! `Engine::process(event, now) -> Effects` updates the in-memory state and returns what must
//! happen: rows to persist, messages to queue, requests to send. It does no I/O, never awaits and
//! never reads the clock, so every rule can be tested event by event and a backtest is the same
//! code run in a loop.
//!
//! Architecture invariants kept here:
//! * **Intent before action.** Every order exists as a `PendingNew` row (with its deterministic
//!   client order id) in the same effects that carry its `Place` request; the driver commits the
//!   rows before it sends anything.
//! * **Unknown outcomes are asked, never re-sent.** A timeout or 5xx marks the order
//!   `unknown_since` and queries it by client id. Only a request that provably never left (`Unavailable`,
//!   rate-limit halt) is sent again with the same id.
//! * **Fills apply once**, keyed by `(symbol, trade id)`; order status follows the domain's
//!   transition table, so duplicated and reordered reports converge.
//! * **A position is never left unprotected on purpose**: after every entry a stop; if the stop
//!   is refused, a market sell; if that fails too, an alert and a retry.

mod effects;
mod event;
mod move_stop;
mod notice;
mod performance;
mod risk;
mod settings;
mod warnings;

pub use effects::{Audience, Category, Effects, EngineMeta, Outgoing, Request, Write};
pub use event::{Command, Event, Requester};
pub use notice::{
    BalanceLine, EntryPlan, Finding, MoveFailure, Notice, PositionView, Refusal, SizeBound, StatusView, StopPlan,
};
pub use performance::{MOVED_BPS, PerformanceLine, PerformanceMark, PerformanceReport, moved};
pub use risk::{Account, size_entry, stop_limit, stop_trigger};
pub use settings::{SettingError, Settings};
pub use warnings::{PortfolioNotice, UnexplainedBalance, WarningState};

use crate::domain::{
    AssetCode, Balance, Candle, ClientOrderId, EntryReason, ExitReason, Fill, Order, OrderKind, OrderReport, OrderRole,
    OrderStatus, Position, PositionId, PositionStatus, Side, StopInfo, Symbol, SymbolFilters, Timestamp, Trade,
};
use crate::exchange::{ExchangeError, ExchangeEvent};
use crate::strategy::edge70::{Direction, Edge70, Edge70Params, Edge70Signal, SignalKind};
use rust_decimal::Decimal;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The reason recorded on a stop the exchange no longer knew (see `on_stop_vanished`); it is
/// kept with the order in the store and picks the alert when the stop is settled.
const STOP_VANISHED: &str = "the exchange no longer knows this order";

/// Why new entries are blocked by the circuit breaker (exits and stops keep working).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BreakerReason {
    /// The user data stream has been down longer than allowed.
    StreamDown,
    /// Several exchange requests failed in a row.
    RequestFailures { count: u32 },
    /// Reconciliation with the exchange could not complete.
    Reconciliation,
}

/// The state the store hands back at start.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub meta: EngineMeta,
    /// Live positions (opening, open, closing).
    pub positions: Vec<Position>,
    /// Orders of live positions.
    pub orders: Vec<Order>,
    pub fills_seen: Vec<(Symbol, u64)>,
    pub directions: Vec<(Symbol, Direction)>,
}

/// Bert's trading state and rules.
pub struct Engine {
    settings: Settings,
    /// Instance tag in every client order id (chosen once per database).
    tag: String,
    meta: EngineMeta,
    positions: BTreeMap<PositionId, Position>,
    by_symbol: HashMap<Symbol, PositionId>,
    orders: HashMap<ClientOrderId, Order>,
    by_exchange_id: HashMap<(Symbol, u64), ClientOrderId>,
    fills_seen: HashSet<(Symbol, u64)>,
    balances: BTreeMap<AssetCode, Balance>,
    /// Last price of each base asset in the quote asset.
    prices: HashMap<AssetCode, Decimal>,
    filters: HashMap<Symbol, SymbolFilters>,
    strategies: HashMap<Symbol, Edge70>,
    /// Open time of the last candle each strategy saw: a candle delivered twice (stream
    /// rotation, backfill overlap) must not count twice.
    last_candle: HashMap<Symbol, Timestamp>,
    stream_up: bool,
    stream_down_since: Option<Timestamp>,
    failures: u32,
    /// The end of the last rate-limit halt people were told about, so one halt is one alert
    /// however many requests it refuses.
    halt_told_until: i64,
    /// False from a restart (`Started`) until reconciliation with the exchange succeeds: until
    /// then Bert's picture of the account may be stale, so no new entries.
    reconciled: bool,
}

impl Engine {
    /// A fresh engine with no history.
    pub fn new(settings: Settings, tag: &str) -> Self {
        Self::restore(settings, tag, Snapshot::default())
    }

    /// Rebuilds the engine from persisted state. Follow with `Event::Started` so every open
    /// order is checked with the exchange.
    pub fn restore(settings: Settings, tag: &str, snapshot: Snapshot) -> Self {
        let mut engine = Engine {
            settings,
            tag: tag.to_string(),
            meta: snapshot.meta,
            positions: BTreeMap::new(),
            by_symbol: HashMap::default(),
            orders: HashMap::default(),
            by_exchange_id: HashMap::default(),
            fills_seen: snapshot.fills_seen.into_iter().collect(),
            balances: BTreeMap::new(),
            prices: HashMap::default(),
            filters: HashMap::default(),
            strategies: HashMap::default(),
            last_candle: HashMap::default(),
            stream_up: true,
            stream_down_since: None,
            failures: 0,
            halt_told_until: 0,
            reconciled: true,
        };
        for p in snapshot.positions.into_iter().filter(Position::is_live) {
            engine.by_symbol.insert(p.symbol, p.id);
            engine.positions.insert(p.id, p);
        }
        for o in snapshot.orders {
            if let Some(id) = o.exchange_id {
                engine.by_exchange_id.insert((o.symbol, id), o.client_id.clone());
            }
            engine.orders.insert(o.client_id.clone(), o);
        }
        for (symbol, direction) in snapshot.directions {
            engine.strategies.insert(symbol, Edge70::with_direction(Edge70Params::default(), Some(direction)));
        }
        engine
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Replays candle history silently into the symbol's strategy (no signals, no trades), as
    /// at start-up. A persisted direction is kept unless the history itself decides one.
    pub fn warm_up(&mut self, symbol: Symbol, candles: &[Candle]) {
        let after = self.last_candle.get(&symbol).copied();
        let fresh: Vec<Candle> = candles.iter().filter(|c| after.is_none_or(|t| c.open_time > t)).copied().collect();
        let strategy = self.strategies.entry(symbol).or_insert_with(|| Edge70::new(Edge70Params::default()));
        strategy.warm_up(&fresh);
        if let Some(last) = fresh.last() {
            self.prices.insert(symbol.base, last.close);
            self.last_candle.insert(symbol, last.open_time);
        }
    }

    /// Live positions, for views and tests.
    pub fn positions(&self) -> impl Iterator<Item = &Position> {
        self.positions.values()
    }

    pub fn position(&self, symbol: Symbol) -> Option<&Position> {
        self.by_symbol.get(&symbol).and_then(|id| self.positions.get(id))
    }

    pub fn order(&self, client_id: &ClientOrderId) -> Option<&Order> {
        self.orders.get(client_id)
    }

    pub fn open_orders(&self) -> impl Iterator<Item = &Order> {
        self.orders.values().filter(|o| o.is_open())
    }

    pub fn is_paused(&self) -> bool {
        self.meta.paused
    }

    pub fn breaker(&self) -> Option<&BreakerReason> {
        self.meta.breaker.as_ref()
    }

    pub fn price(&self, symbol: Symbol) -> Option<Decimal> {
        self.prices.get(&symbol.base).copied()
    }

    pub fn direction(&self, symbol: Symbol) -> Option<Direction> {
        self.strategies.get(&symbol).and_then(Edge70::direction)
    }

    /// Portfolio value in the quote asset: every balance valued at the last known price.
    /// Assets without a known price are left out (they cannot be valued).
    pub fn portfolio_value(&self) -> Decimal {
        self.balances
            .values()
            .map(|b| {
                if b.asset == self.settings.quote {
                    b.total()
                } else {
                    self.prices.get(&b.asset).map(|p| b.total() * p).unwrap_or_default()
                }
            })
            .sum()
    }

    /// Handles one event. See the module docs for the guarantees.
    pub fn process(&mut self, event: &Event, now: Timestamp) -> Effects {
        let mut fx = Effects::default();
        match event {
            Event::Command { from, command } => self.on_command(*from, command, now, &mut fx),
            Event::Exchange(ExchangeEvent::Order(report)) => self.on_report(report, now, &mut fx),
            Event::Exchange(ExchangeEvent::Balances(bs)) | Event::Balances(bs) => {
                for b in bs {
                    self.balances.insert(b.asset, *b);
                }
            }
            Event::Exchange(ExchangeEvent::StreamUp) => {
                self.stream_up = true;
                self.stream_down_since = None;
            }
            Event::Exchange(ExchangeEvent::StreamDown { .. }) => {
                self.stream_up = false;
                self.stream_down_since.get_or_insert(now);
                self.check_breaker(now, &mut fx);
            }
            Event::Placed { client_id, result } => self.on_placed(client_id, result, now, &mut fx),
            Event::Canceled { client_id, result } => self.on_canceled(client_id, result, now, &mut fx),
            Event::StopReplaced { old, new, result } => self.on_stop_replaced(old, new, result, now, &mut fx),
            Event::Queried { client_id, result } => self.on_queried(client_id, result, now, &mut fx),
            Event::Trades { client_id, result } => self.on_trades(client_id, result, now, &mut fx),
            Event::Candle { symbol, candle } => self.on_candle(*symbol, candle, now, &mut fx),
            Event::Price { symbol, price } => {
                self.prices.insert(symbol.base, *price);
            }
            Event::Filters(list) => {
                for (symbol, f) in list {
                    self.filters.insert(*symbol, f.clone());
                }
            }
            Event::Reconcile { open_orders, balances } => self.on_reconcile(open_orders, balances, &mut fx),
            Event::Reconciled { ok, halted } => self.on_reconciled(*ok, halted.as_ref(), now, &mut fx),
            Event::Stopping => fx.alert(Category::Warnings, None, None, Notice::Stopping),
            Event::Tick => self.on_tick(now, &mut fx),
            Event::Started => self.on_started(now, &mut fx),
        }
        fx
    }

    // ----- commands -------------------------------------------------------------------------

    fn on_command(&mut self, from: Requester, command: &Command, now: Timestamp, fx: &mut Effects) {
        match command {
            Command::PreviewEnter(symbol) => match self.check_entry(*symbol) {
                Ok(plan) => fx.reply(from.chat, Notice::EntryPreview(plan)),
                Err(r) => fx.reply(from.chat, Notice::Refused(r)),
            },
            Command::Enter(symbol) => {
                if let Err(r) = self.enter(*symbol, EntryReason::Manual { user: from.user }, Some(from.chat), now, fx) {
                    fx.reply(from.chat, Notice::Refused(r));
                }
            }
            Command::PreviewExit(symbol) => match self.check_exit(*symbol) {
                Ok(pos) => {
                    let price = self.prices.get(&symbol.base).copied();
                    let notice = Notice::ExitPreview {
                        symbol: *symbol,
                        qty: pos.qty,
                        price,
                        pnl: price.map(|p| pos.unrealized_pnl(p).round_dp(8)),
                    };
                    fx.reply(from.chat, notice);
                }
                Err(r) => fx.reply(from.chat, Notice::Refused(r)),
            },
            Command::Exit(symbol) => {
                if let Err(r) = self.exit(*symbol, ExitReason::Manual { user: from.user }, Some(from.chat), now, fx) {
                    fx.reply(from.chat, Notice::Refused(r));
                }
            }
            Command::PreviewMoveStop { symbol, price } => match self.check_move_stop(*symbol, *price) {
                Ok(plan) => fx.reply(from.chat, Notice::MoveStopPreview(plan)),
                Err(r) => fx.reply(from.chat, Notice::Refused(r)),
            },
            Command::MoveStop { symbol, price } => {
                if let Err(r) = self.move_stop(*symbol, *price, Some(from.chat), now, fx) {
                    fx.reply(from.chat, Notice::Refused(r));
                }
            }
            Command::List => fx.reply(from.chat, Notice::Positions(self.position_views())),
            Command::Status => fx.reply(from.chat, Notice::Status(self.status_view())),
            Command::Balance => {
                let lines = self
                    .balances
                    .values()
                    .filter(|b| !b.total().is_zero())
                    .map(|b| BalanceLine {
                        asset: b.asset.to_string(),
                        total: b.total(),
                        value: if b.asset == self.settings.quote {
                            Some(b.total())
                        } else {
                            self.prices.get(&b.asset).map(|p| (b.total() * p).round_dp(8))
                        },
                    })
                    .collect();
                let notice = Notice::Balances {
                    lines,
                    portfolio: self.portfolio_value().round_dp(8),
                    quote: self.settings.quote.to_string(),
                };
                fx.reply(from.chat, notice);
            }
            Command::Pause | Command::Resume => {
                let pause = matches!(command, Command::Pause);
                if self.meta.paused != pause {
                    self.meta.paused = pause;
                    fx.writes.push(Write::Meta(self.meta.clone()));
                }
                let notice = if pause { Notice::Paused } else { Notice::Resumed };
                fx.alert(Category::Warnings, None, Some(from.chat), notice);
            }
        }
    }

    pub fn position_views(&self) -> Vec<PositionView> {
        let mut views: Vec<PositionView> = self
            .positions
            .values()
            .filter(|p| p.qty > Decimal::ZERO)
            .map(|p| {
                let price = self.prices.get(&p.symbol.base).copied();
                let avg = p.avg_entry().unwrap_or_default();
                PositionView {
                    symbol: p.symbol,
                    qty: p.qty,
                    avg_entry: avg,
                    price,
                    pnl: price.map(|px| p.unrealized_pnl(px).round_dp(8)),
                    pnl_pct: price.map(|px| p.pct_of_cost(p.unrealized_pnl(px))),
                    stop_price: p.stop.as_ref().map(|s| s.stop_price),
                    opened_at: p.opened_at,
                }
            })
            .collect();
        views.sort_by_key(|v| std::cmp::Reverse(v.pnl_pct));
        views
    }

    pub fn status_view(&self) -> StatusView {
        StatusView {
            paused: self.meta.paused,
            breaker: self.meta.breaker.clone(),
            stream_up: self.stream_up,
            open_positions: self.positions.len(),
            open_orders: self.open_orders().count(),
            symbols: self.strategies.len(),
            auto_trade: self.settings.auto_trade,
        }
    }

    fn account(&self) -> Account {
        let free_quote = self.balances.get(&self.settings.quote).map(|b| b.free).unwrap_or_default();
        Account {
            portfolio: self.portfolio_value(),
            free_quote,
            open_positions: self.positions.len() as u32,
            open_risk: self.open_risk(),
        }
    }

    /// Quote at risk across live positions: to the stop where there is one, else the planned
    /// stop distance on the position (or on the entry still in flight).
    fn open_risk(&self) -> Decimal {
        let stop_frac = self.settings.stop_pct / Decimal::ONE_HUNDRED;
        self.positions
            .values()
            .map(|p| match (&p.stop, p.avg_entry()) {
                (Some(stop), Some(avg)) => p.qty * (avg - stop.stop_price).max(Decimal::ZERO),
                (None, Some(avg)) => p.qty * avg * stop_frac,
                _ => self
                    .orders
                    .values()
                    .filter(|o| o.position == p.id && o.role == OrderRole::Entry && o.is_open())
                    .map(|o| o.quantity * o.price.unwrap_or_default() * stop_frac)
                    .sum(),
            })
            .sum()
    }

    fn check_entry(&self, symbol: Symbol) -> Result<EntryPlan, Refusal> {
        if self.meta.paused {
            return Err(Refusal::Paused);
        }
        if self.meta.breaker.is_some() {
            return Err(Refusal::BreakerOpen);
        }
        if !self.reconciled {
            return Err(Refusal::NotReconciled);
        }
        if let Some(pos) = self.position(symbol) {
            return Err(if pos.status == PositionStatus::Open {
                Refusal::AlreadyInPosition { symbol }
            } else {
                Refusal::Busy { symbol }
            });
        }
        let filters = self.filters.get(&symbol).ok_or(Refusal::UnknownSymbol { symbol })?;
        let price = self.prices.get(&symbol.base).copied().ok_or(Refusal::NoPrice { symbol })?;
        size_entry(&self.settings, symbol, filters, price, &self.account())
    }

    fn check_exit(&self, symbol: Symbol) -> Result<&Position, Refusal> {
        match self.position(symbol) {
            None => Err(Refusal::NoPosition { symbol }),
            // A stop move in flight finishes first: the exit must cancel the stop that stands.
            // So does a stop that ended on the exchange while its fills are being fetched: it
            // may have sold everything already.
            Some(p) if p.status != PositionStatus::Open || p.stop_move.is_some() || self.stop_unsettled(p.id) => {
                Err(Refusal::Busy { symbol })
            }
            Some(p) => Ok(p),
        }
    }

    // ----- entry ----------------------------------------------------------------------------

    fn enter(
        &mut self,
        symbol: Symbol,
        reason: EntryReason,
        chat: Option<i64>,
        now: Timestamp,
        fx: &mut Effects,
    ) -> Result<(), Refusal> {
        let plan = self.check_entry(symbol)?;
        self.meta.next_position += 1;
        let id = PositionId(self.meta.next_position);
        fx.writes.push(Write::Meta(self.meta.clone()));
        let mut pos = Position::new(id, symbol, reason, now);
        pos.origin_chat = chat;
        let order = self.new_order(&pos, OrderRole::Entry, 1, OrderKind::LimitIoc, Side::Buy, plan.qty, now, |o| {
            o.price = Some(plan.limit_price);
        });
        self.by_symbol.insert(symbol, id);
        fx.writes.push(Write::Position(pos.clone()));
        self.positions.insert(id, pos);
        fx.alert(Category::Fills, Some(id), chat, Notice::EntryPlaced { plan, reason });
        self.submit(order, fx);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn new_order(
        &self,
        pos: &Position,
        role: OrderRole,
        attempt: u32,
        kind: OrderKind,
        side: Side,
        quantity: Decimal,
        now: Timestamp,
        customize: impl FnOnce(&mut Order),
    ) -> Order {
        let id = ClientOrderId::derive(&self.tag, pos.id, role, attempt);
        let mut order = Order::intent(id, pos.id, pos.symbol, side, kind, role, quantity, now);
        customize(&mut order);
        order
    }

    /// Records the intent and asks for the request in the same effects.
    fn submit(&mut self, order: Order, fx: &mut Effects) {
        fx.writes.push(Write::Order(order.clone()));
        fx.requests.push(Request::Place(Box::new(order.clone())));
        self.orders.insert(order.client_id.clone(), order);
    }

    // ----- exit -----------------------------------------------------------------------------

    fn exit(
        &mut self,
        symbol: Symbol,
        reason: ExitReason,
        chat: Option<i64>,
        now: Timestamp,
        fx: &mut Effects,
    ) -> Result<(), Refusal> {
        let id = self.check_exit(symbol)?.id;
        let Some(pos) = self.positions.get_mut(&id) else { return Err(Refusal::NoPosition { symbol }) };
        pos.status = PositionStatus::Closing;
        pos.exit_reason = Some(reason);
        if pos.origin_chat.is_none() {
            pos.origin_chat = chat;
        }
        fx.writes.push(Write::Position(pos.clone()));
        // Cancel the stop first; the exit sell goes out when the cancel is confirmed, so the
        // stop and the exit can never both sell the same coins.
        let stop = self.live_stop(id).map(|o| o.client_id.clone());
        match stop {
            Some(cid) => self.request_cancel(&cid, now, fx),
            None => self.place_exit(id, now, fx),
        }
        Ok(())
    }

    /// The position's stop order if it is still working on the exchange (or about to be).
    fn live_stop(&self, id: PositionId) -> Option<&Order> {
        // After a stop move the replaced stop can look open until its cancel is confirmed: the
        // position's current stop comes first.
        let current = self.positions.get(&id).and_then(|p| p.stop.as_ref()).map(|s| &s.client_id);
        let mut open = self.orders.values().filter(|o| o.position == id && o.role == OrderRole::Stop && o.is_open());
        let first = open.next()?;
        if current.is_none_or(|c| *c == first.client_id) {
            return Some(first);
        }
        Some(open.find(|o| current == Some(&o.client_id)).unwrap_or(first))
    }

    /// Whether a stop of the position ended on the exchange but its outcome is not acted on
    /// yet (its fills are still being fetched). Such a position is not "bare": the stop may have
    /// sold everything, and a new stop (or the market sell when the price is below it) would
    /// sell the same coins twice. Settling the stop decides what follows.
    fn stop_unsettled(&self, id: PositionId) -> bool {
        self.orders.values().any(|o| o.position == id && o.role == OrderRole::Stop && !o.is_open() && !o.settled)
    }

    /// A stop that ended a while ago with trades Bert still cannot read leaves its position
    /// waiting (see [`Engine::stop_unsettled`]): nothing protects or sells it meanwhile, so a
    /// person is told, once.
    fn tell_stuck_stops(&mut self, now: Timestamp, fx: &mut Effects) {
        let grace = self.settings.query_grace_ms;
        let stuck: Vec<ClientOrderId> = self
            .orders
            .values()
            .filter(|o| o.role == OrderRole::Stop && !o.is_open() && !o.settled && !o.pending_told)
            .filter(|o| now.since(o.updated_at) >= grace)
            .map(|o| o.client_id.clone())
            .collect();
        for cid in stuck {
            let Some(order) = self.orders.get_mut(&cid) else { continue };
            order.pending_told = true;
            fx.writes.push(Write::Order(order.clone()));
            let (id, symbol) = (order.position, order.symbol);
            let chat = self.positions.get(&id).and_then(|p| p.origin_chat);
            fx.alert(Category::Warnings, Some(id), chat, Notice::StopFillsPending { symbol });
        }
    }

    /// Whether the position needs a new stop: none is working, and none ended with an outcome
    /// still to settle.
    fn lacks_stop(&self, id: PositionId) -> bool {
        self.live_stop(id).is_none() && !self.stop_unsettled(id)
    }

    fn request_cancel(&mut self, cid: &ClientOrderId, now: Timestamp, fx: &mut Effects) {
        let Some(order) = self.orders.get_mut(cid) else { return };
        order.cancel_requested = true;
        order.retry_at = Some(now.plus_millis(self.settings.retry_ms));
        fx.writes.push(Write::Order(order.clone()));
        if order.status == OrderStatus::PendingNew && order.unknown_since.is_none() && order.exchange_id.is_none() {
            // Never acknowledged: the outcome of its placement decides; a cancel follows on
            // the next retry if it turns out to exist.
            fx.requests.push(Request::Query { symbol: order.symbol, client_id: cid.clone() });
        } else {
            fx.requests.push(Request::Cancel { symbol: order.symbol, client_id: cid.clone() });
        }
    }

    /// Market-sells what the position holds (an exit, or the dump after a refused stop).
    fn place_exit(&mut self, id: PositionId, now: Timestamp, fx: &mut Effects) {
        let Some(pos) = self.positions.get(&id) else { return };
        let role = if pos.exit_reason == Some(ExitReason::Unprotectable) { OrderRole::Dump } else { OrderRole::Exit };
        let Some(filters) = self.filters.get(&pos.symbol) else {
            fx.alert(
                Category::Warnings,
                Some(id),
                pos.origin_chat,
                Notice::Unprotected { symbol: pos.symbol, reason: Some("no exchange filters for the symbol".into()) },
            );
            return;
        };
        let qty = filters.floor_market_qty(pos.qty);
        let price = self.prices.get(&pos.symbol.base).copied().unwrap_or_default();
        if filters.check_market(qty, price).is_err() {
            // What is left cannot be sold (below the exchange's minimums): it is dust.
            self.close_position(id, now, fx);
            return;
        }
        let attempt = match role {
            OrderRole::Dump => pos.dump_attempts + 1,
            _ => pos.exit_attempts + 1,
        };
        let order = self.new_order(pos, role, attempt, OrderKind::Market, Side::Sell, qty, now, |_| {});
        let (symbol, reason, chat) = (pos.symbol, pos.exit_reason.unwrap_or(ExitReason::Signal), pos.origin_chat);
        if let Some(pos) = self.positions.get_mut(&id) {
            pos.status = PositionStatus::Closing;
            match role {
                OrderRole::Dump => pos.dump_attempts = attempt,
                _ => pos.exit_attempts = attempt,
            }
            fx.writes.push(Write::Position(pos.clone()));
        }
        fx.alert(Category::Fills, Some(id), chat, Notice::ExitPlaced { symbol, qty, reason });
        self.submit(order, fx);
    }

    // ----- protection -----------------------------------------------------------------------

    /// Places a stop for everything the position holds. If the stop cannot be valid (filters,
    /// or the price is already below the trigger), sells at market instead.
    fn protect(&mut self, id: PositionId, now: Timestamp, fx: &mut Effects) {
        let Some(pos) = self.positions.get(&id) else { return };
        let Some(filters) = self.filters.get(&pos.symbol) else {
            fx.alert(
                Category::Warnings,
                Some(id),
                pos.origin_chat,
                Notice::Unprotected { symbol: pos.symbol, reason: Some("no exchange filters for the symbol".into()) },
            );
            return;
        };
        let Some(avg) = pos.avg_entry() else { return };
        let qty = filters.floor_qty(pos.qty);
        let trigger = stop_trigger(&self.settings, filters, avg);
        let limit = stop_limit(&self.settings, filters, trigger);
        let price = self.prices.get(&pos.symbol.base).copied();
        let problem = match filters.check_stop(trigger, limit, qty) {
            Err(e) => Some(e.to_string()),
            // A sell stop at or above the market would trigger at once (Binance refuses it).
            Ok(()) if price.is_some_and(|p| p <= trigger) => Some("the price is already below the stop".to_string()),
            Ok(()) => None,
        };
        if let Some(reason) = problem {
            let (symbol, chat) = (pos.symbol, pos.origin_chat);
            fx.alert(Category::Warnings, Some(id), chat, Notice::StopRefused { symbol, reason: Some(reason) });
            self.dump(id, now, fx);
            return;
        }
        let attempt = pos.stop_attempts + 1;
        let order =
            self.new_order(pos, OrderRole::Stop, attempt, OrderKind::StopLossLimit, Side::Sell, qty, now, |o| {
                o.price = Some(limit);
                o.stop_price = Some(trigger);
            });
        if let Some(pos) = self.positions.get_mut(&id) {
            pos.stop_attempts = attempt;
            pos.stop =
                Some(StopInfo { client_id: order.client_id.clone(), stop_price: trigger, limit_price: limit, qty });
            pos.protect_retry_at = None;
            fx.writes.push(Write::Position(pos.clone()));
        }
        self.submit(order, fx);
    }

    /// The emergency market sell for a position that cannot carry a stop.
    fn dump(&mut self, id: PositionId, now: Timestamp, fx: &mut Effects) {
        if let Some(pos) = self.positions.get_mut(&id) {
            pos.exit_reason = Some(ExitReason::Unprotectable);
            pos.stop = None;
        }
        self.place_exit(id, now, fx);
    }

    // ----- exchange answers -----------------------------------------------------------------

    fn resolve(&self, report: &OrderReport) -> Option<ClientOrderId> {
        if self.orders.contains_key(&report.client_id) {
            return Some(report.client_id.clone());
        }
        report.exchange_id.and_then(|id| self.by_exchange_id.get(&(report.symbol, id)).cloned())
    }

    fn on_report(&mut self, report: &OrderReport, now: Timestamp, fx: &mut Effects) {
        let Some(cid) = self.resolve(report) else {
            // Not ours (a manual order on the exchange) or of a position already closed.
            tracing::debug!(client_id = %report.client_id, symbol = %report.symbol, "report for an order Bert does not track");
            return;
        };
        if let Some(fill) = &report.fill {
            self.apply_fill(&cid, fill, now, fx);
        }
        let Some(order) = self.orders.get_mut(&cid) else { return };
        let was = order.status;
        if order.apply(report) {
            if order.status != was && !(order.cancel_requested && order.is_open()) {
                // The follow-up that was scheduled (a query) has its answer.
                order.retry_at = None;
            }
            if let Some(id) = order.exchange_id {
                self.by_exchange_id.insert((order.symbol, id), cid.clone());
            }
            fx.writes.push(Write::Order(order.clone()));
            tracing::info!(client_id = %cid, status = order.status.wire_name(), executed = %order.executed_qty, "order update");
        }
        let pid = order.position;
        let moving = self.in_stop_move(pid, &cid);
        let Some(order) = self.orders.get(&cid) else { return };
        if order.role == OrderRole::Stop
            && was == OrderStatus::PendingNew
            && matches!(order.status, OrderStatus::New)
            && !moving
        {
            let notice = Notice::StopPlaced {
                symbol: order.symbol,
                qty: order.quantity,
                stop_price: order.stop_price.unwrap_or_default(),
                limit_price: order.price.unwrap_or_default(),
            };
            let pos = self.positions.get(&order.position);
            fx.alert(Category::Fills, Some(order.position), pos.and_then(|p| p.origin_chat), notice);
        }
        self.after_order_update(&cid, now, fx);
        if moving {
            self.advance_move(pid, now, fx);
        }
    }

    fn fee_in_quote(&self, symbol: Symbol, fill: &Fill) -> Decimal {
        if fill.fee_asset == symbol.quote {
            fill.fee
        } else if fill.fee_asset == symbol.base {
            fill.fee * fill.price
        } else if let Some(p) = self.prices.get(&fill.fee_asset) {
            fill.fee * p
        } else {
            tracing::warn!(asset = %fill.fee_asset, "fee asset has no known price; fee valued at 0");
            Decimal::ZERO
        }
    }

    fn apply_fill(&mut self, cid: &ClientOrderId, fill: &Fill, _now: Timestamp, fx: &mut Effects) {
        let Some(order) = self.orders.get(cid) else { return };
        let symbol = order.symbol;
        if !self.fills_seen.insert((symbol, fill.trade_id)) {
            return; // already applied: a duplicate report
        }
        fx.writes.push(Write::FillSeen { symbol, trade_id: fill.trade_id });
        self.note_fill_for_warnings(fill, _now, fx);
        let fee_q = self.fee_in_quote(symbol, fill);
        let Some(order) = self.orders.get_mut(cid) else { return };
        order.applied_qty += fill.qty;
        let (role, side, pid, filled, ordered) =
            (order.role, order.side, order.position, order.applied_qty, order.quantity);
        fx.writes.push(Write::Order(order.clone()));
        let Some(pos) = self.positions.get_mut(&pid) else { return };
        pos.apply_fill(side, fill, fee_q);
        fx.writes.push(Write::Position(pos.clone()));
        tracing::info!(client_id = %cid, trade_id = fill.trade_id, qty = %fill.qty, price = %fill.price, "fill applied");
        let notice = match role {
            OrderRole::Entry => Notice::EntryFill {
                symbol,
                qty: fill.qty,
                price: fill.price,
                avg_price: pos.avg_entry().unwrap_or(fill.price),
                filled,
                ordered,
                fee: fill.fee,
                fee_asset: fill.fee_asset.to_string(),
            },
            OrderRole::Stop => Notice::StopFill {
                symbol,
                qty: fill.qty,
                price: fill.price,
                fee: fill.fee,
                fee_asset: fill.fee_asset.to_string(),
            },
            OrderRole::Exit | OrderRole::Dump => Notice::ExitFill {
                symbol,
                qty: fill.qty,
                price: fill.price,
                fee: fill.fee,
                fee_asset: fill.fee_asset.to_string(),
            },
        };
        fx.alert(Category::Fills, Some(pid), pos.origin_chat, notice);
    }

    /// Acts on an order that reached its final state, once, after all its fills are applied.
    fn after_order_update(&mut self, cid: &ClientOrderId, now: Timestamp, fx: &mut Effects) {
        let retry = self.settings.retry_ms;
        let Some(order) = self.orders.get_mut(cid) else { return };
        if order.settled {
            return;
        }
        if order.applied_qty < order.executed_qty {
            // Trade reports were missed (disconnect, reordering, or a terminal report that
            // overtook them):
            // fetch the order's trades; they come back through the same de-duplicated path.
            if order.retry_at.is_none_or(|t| t <= now) {
                order.retry_at = Some(now.plus_millis(retry));
                let request = match order.exchange_id {
                    Some(order_id) => Request::Trades { symbol: order.symbol, client_id: cid.clone(), order_id },
                    None => Request::Query { symbol: order.symbol, client_id: cid.clone() },
                };
                fx.requests.push(request);
            }
            return;
        }
        if !order.status.is_terminal() {
            return;
        }
        order.settled = true;
        order.retry_at = None;
        fx.writes.push(Write::Order(order.clone()));
        let order = order.clone();
        self.settle(&order, now, fx);
    }

    fn settle(&mut self, order: &Order, now: Timestamp, fx: &mut Effects) {
        let id = order.position;
        let dust = self.is_dust(id);
        let Some(pos) = self.positions.get_mut(&id) else { return };
        let chat = pos.origin_chat;
        let (symbol, reason) = (order.symbol, order.reason.clone());
        match order.role {
            OrderRole::Entry if pos.qty > Decimal::ZERO => {
                pos.status = PositionStatus::Open;
                fx.writes.push(Write::Position(pos.clone()));
                self.protect(id, now, fx);
            }
            OrderRole::Entry => {
                pos.status = PositionStatus::Failed;
                pos.closed_at = Some(now);
                fx.writes.push(Write::Position(pos.clone()));
                fx.alert(Category::Fills, Some(id), chat, Notice::EntryFailed { symbol, reason });
                self.forget_position(id);
            }
            OrderRole::Stop if dust => {
                if order.executed_qty > Decimal::ZERO && pos.exit_reason.is_none() {
                    pos.exit_reason = Some(ExitReason::StopHit);
                }
                self.close_position(id, now, fx);
            }
            OrderRole::Stop
                if pos.stop_move.as_ref().is_some_and(|m| m.involves(&order.client_id))
                    || (pos.stop.as_ref().is_some_and(|s| s.client_id != order.client_id)
                        && order.executed_qty.is_zero()) =>
            {
                // A stop move's order, or a stop that a move replaced: the move decides what
                // follows (`move_stop.rs`), never "stop lost, protect again".
                tracing::debug!(client_id = %order.client_id, "replaced stop ended");
            }
            OrderRole::Stop if pos.status == PositionStatus::Closing && order.cancel_requested => {
                // The cancel for an exit went through: sell what is held.
                self.place_exit(id, now, fx);
            }
            OrderRole::Stop
                if order.status == OrderStatus::Rejected || pos.stop_attempts.saturating_sub(pos.stop_moves) >= 3 =>
            {
                // Refused by the exchange, or stops keep disappearing: do not loop; sell.
                fx.alert(Category::Warnings, Some(id), chat, Notice::StopRefused { symbol, reason });
                self.dump(id, now, fx);
            }
            OrderRole::Stop => {
                // Cancelled or expired outside Bert, or partly filled and then gone, or unknown
                // to the exchange: protect what is left with a new stop.
                let notice = if reason.as_deref() == Some(STOP_VANISHED) {
                    Notice::StopVanished { symbol }
                } else {
                    Notice::StopLost { symbol, reason }
                };
                fx.alert(Category::Warnings, Some(id), chat, notice);
                self.protect(id, now, fx);
            }
            OrderRole::Exit | OrderRole::Dump if dust => self.close_position(id, now, fx),
            OrderRole::Exit => {
                // The market sell did not complete: protect the rest again and say so.
                pos.status = PositionStatus::Open;
                pos.exit_reason = None;
                fx.writes.push(Write::Position(pos.clone()));
                fx.alert(Category::Warnings, Some(id), chat, Notice::ExitFailed { symbol, reason });
                self.protect(id, now, fx);
            }
            OrderRole::Dump => {
                // The emergency sell failed too: nothing protects the position. Tell people now
                // and try again later.
                pos.status = PositionStatus::Open;
                pos.protect_retry_at = Some(now.plus_millis(self.settings.query_grace_ms));
                fx.writes.push(Write::Position(pos.clone()));
                fx.alert(Category::Warnings, Some(id), chat, Notice::Unprotected { symbol, reason });
            }
        }
    }

    /// True when what the position holds can no longer be sold (nothing, or below the
    /// exchange's minimum quantity or order value).
    fn is_dust(&self, id: PositionId) -> bool {
        let Some(pos) = self.positions.get(&id) else { return true };
        if pos.qty <= Decimal::ZERO {
            return true;
        }
        let Some(filters) = self.filters.get(&pos.symbol) else { return false };
        let qty = filters.floor_market_qty(pos.qty);
        let price = self.prices.get(&pos.symbol.base).copied().or(pos.avg_entry()).unwrap_or_default();
        filters.check_market(qty, price).is_err()
    }

    fn close_position(&mut self, id: PositionId, now: Timestamp, fx: &mut Effects) {
        let Some(pos) = self.positions.get_mut(&id) else { return };
        pos.status = PositionStatus::Closed;
        pos.closed_at = Some(now);
        pos.stop = None;
        fx.writes.push(Write::Position(pos.clone()));
        let trade = pos.to_closed_trade(now);
        fx.alert(
            Category::Fills,
            Some(id),
            pos.origin_chat,
            Notice::PositionClosed {
                symbol: trade.symbol,
                reason: trade.exit_reason,
                qty: trade.qty,
                avg_entry: trade.avg_entry,
                avg_exit: trade.avg_exit,
                pnl: trade.pnl,
                pnl_pct: trade.pnl_pct,
                fees: trade.fees,
                days: trade.days_held(),
            },
        );
        fx.writes.push(Write::ClosedTrade(trade));
        self.forget_position(id);
    }

    /// Drops a finished position and its (terminal) orders from memory; the store keeps them.
    /// Orders still open on the exchange are kept so their reports are still understood.
    fn forget_position(&mut self, id: PositionId) {
        if let Some(pos) = self.positions.remove(&id)
            && self.by_symbol.get(&pos.symbol) == Some(&id)
        {
            self.by_symbol.remove(&pos.symbol);
        }
        let gone: Vec<ClientOrderId> =
            self.orders.values().filter(|o| o.position == id && !o.is_open()).map(|o| o.client_id.clone()).collect();
        for cid in gone {
            if let Some(o) = self.orders.remove(&cid)
                && let Some(x) = o.exchange_id
            {
                self.by_exchange_id.remove(&(o.symbol, x));
            }
        }
    }

    /// Counts a failed request towards the breaker. A rate-limit halt is not the exchange
    /// failing: it is Binance's rule, which the adapter keeps by refusing to send until the
    /// halt ends (protective orders are retried then), so it counts neither way.
    fn note_failure(&mut self, error: &ExchangeError, now: Timestamp, fx: &mut Effects) {
        if let ExchangeError::RateLimited { retry_after_ms, banned } = *error {
            if retry_after_ms > self.halt_told_until {
                self.halt_told_until = retry_after_ms;
                let until = Timestamp(retry_after_ms);
                fx.alert(Category::Warnings, None, None, Notice::RateLimitHalt { until, banned });
            }
            return;
        }
        self.failures += 1;
        self.check_breaker(now, fx);
    }

    fn on_placed(
        &mut self,
        cid: &ClientOrderId,
        result: &Result<OrderReport, ExchangeError>,
        now: Timestamp,
        fx: &mut Effects,
    ) {
        match result {
            Ok(report) => {
                self.failures = 0;
                self.on_report(report, now, fx);
            }
            Err(ExchangeError::Rejected { code, reason }) => {
                self.failures = 0;
                self.reject(cid, format!("{reason} ({code})"), now, fx);
            }
            Err(e @ (ExchangeError::Unavailable { .. } | ExchangeError::RateLimited { .. })) => {
                // Provably not sent. An entry is dropped (its price is stale by the time the
                // exchange is back); protective orders are sent again, same id, when due.
                self.note_failure(e, now, fx);
                let retry_at = match e {
                    ExchangeError::RateLimited { retry_after_ms, .. } => Timestamp(*retry_after_ms),
                    _ => now.plus_millis(self.settings.retry_ms),
                };
                let Some(order) = self.orders.get_mut(cid) else { return };
                if order.role == OrderRole::Entry {
                    self.reject(cid, e.to_string(), now, fx);
                } else {
                    // Provably not sent, whatever a query said while it was in flight.
                    order.unknown_since = None;
                    order.retry_at = Some(retry_at);
                }
            }
            Err(ExchangeError::NotFound) => self.reject(cid, "not found".into(), now, fx),
            Err(e) => {
                // Unknown outcome: ask, never re-send.
                self.note_failure(e, now, fx);
                let Some(order) = self.orders.get_mut(cid) else { return };
                if order.status != OrderStatus::PendingNew {
                    return; // a report already told us
                }
                order.unknown_since = Some(now);
                order.retry_at = Some(now.plus_millis(self.settings.retry_ms));
                fx.writes.push(Write::Order(order.clone()));
                tracing::warn!(client_id = %cid, error = %e, "order outcome unknown; querying");
                fx.requests.push(Request::Query { symbol: order.symbol, client_id: cid.clone() });
                let notice = Notice::OrderOutcomeUnknown { symbol: order.symbol, client_id: cid.to_string() };
                fx.alert(Category::Warnings, Some(order.position), None, notice);
            }
        }
    }

    /// A query answered "not found" for an order the exchange had acknowledged. For the stop
    /// that protects an open position, once well past its placement (shortly after, "not
    /// found" can mean "not visible yet"), that means the position has no protection: the stop
    /// is taken as gone, the user told, and a new stop placed through the usual path (which
    /// sells at market if stops keep disappearing). Anything else is left to the next pass.
    ///
    /// Why this is safe live: if the old stop did rest after all, it holds the coins, so the
    /// exchange refuses the new stop (and the market sell behind it) for want of free balance;
    /// no coins are sold twice.
    fn on_stop_vanished(&mut self, cid: &ClientOrderId, now: Timestamp, fx: &mut Effects) {
        let Some(order) = self.orders.get(cid) else { return };
        let protects = self
            .positions
            .get(&order.position)
            .is_some_and(|p| p.status == PositionStatus::Open && p.stop.as_ref().is_some_and(|s| &s.client_id == cid));
        let settled_in = now.since(order.created_at.max(order.updated_at));
        if order.role != OrderRole::Stop
            || !order.is_open()
            || order.cancel_requested
            || !protects
            || self.in_stop_move(order.position, cid)
            || settled_in < self.settings.query_grace_ms
        {
            return;
        }
        tracing::warn!(client_id = %cid, "the exchange does not know the resting stop; protecting again");
        let report = OrderReport {
            symbol: order.symbol,
            client_id: cid.clone(),
            exchange_id: order.exchange_id,
            status: OrderStatus::Expired,
            cum_qty: order.executed_qty,
            cum_quote: order.executed_quote,
            fill: None,
            reason: Some(STOP_VANISHED.to_string()),
            time: now,
        };
        self.on_report(&report, now, fx);
    }

    /// The order is known not to exist on the exchange.
    fn reject(&mut self, cid: &ClientOrderId, reason: String, now: Timestamp, fx: &mut Effects) {
        let Some(order) = self.orders.get(cid) else { return };
        let report = OrderReport {
            symbol: order.symbol,
            client_id: cid.clone(),
            exchange_id: None,
            status: OrderStatus::Rejected,
            cum_qty: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            fill: None,
            reason: Some(reason),
            time: now,
        };
        self.on_report(&report, now, fx);
    }

    fn on_canceled(
        &mut self,
        cid: &ClientOrderId,
        result: &Result<OrderReport, ExchangeError>,
        now: Timestamp,
        fx: &mut Effects,
    ) {
        match result {
            Ok(report) => {
                self.failures = 0;
                self.on_report(report, now, fx);
            }
            Err(ExchangeError::NotFound) => {
                // Gone already (most often: the stop filled). Its fate decides what follows.
                let Some(order) = self.orders.get_mut(cid) else { return };
                order.retry_at = Some(now.plus_millis(self.settings.retry_ms));
                fx.requests.push(Request::Query { symbol: order.symbol, client_id: cid.clone() });
            }
            Err(e) => {
                // The cancel is retried when due (cancelling twice is harmless).
                tracing::warn!(client_id = %cid, error = %e, "cancel failed; will retry");
                self.note_failure(e, now, fx);
            }
        }
    }

    fn on_queried(
        &mut self,
        cid: &ClientOrderId,
        result: &Result<OrderReport, ExchangeError>,
        now: Timestamp,
        fx: &mut Effects,
    ) {
        match result {
            Ok(report) => {
                self.failures = 0;
                let before = self.orders.get(cid).map(|o| o.status);
                self.on_report(report, now, fx);
                if let (Some(was), Some(o)) =
                    (before, self.orders.get(cid).or_else(|| self.orders.get(&report.client_id)))
                    && was != OrderStatus::PendingNew
                    && was != o.status
                    && !o.cancel_requested
                {
                    // The stream never told us: a missed report, caught by asking.
                    let finding = Finding::OrderChanged {
                        symbol: o.symbol,
                        client_id: cid.to_string(),
                        status: o.status.wire_name().to_string(),
                    };
                    fx.alert(Category::Warnings, Some(o.position), None, Notice::Reconciliation(finding));
                }
                // A cancel that was waiting for the order to show up can go now.
                if let Some(o) = self.orders.get(cid)
                    && o.cancel_requested
                    && o.is_open()
                    && o.status != OrderStatus::PendingNew
                {
                    fx.requests.push(Request::Cancel { symbol: o.symbol, client_id: cid.clone() });
                }
            }
            Err(ExchangeError::NotFound) => {
                let (grace, retry) = (self.settings.query_grace_ms, self.settings.retry_ms);
                let moving = self.orders.get(cid).is_some_and(|o| self.in_stop_move(o.position, cid));
                let Some(order) = self.orders.get_mut(cid) else { return };
                if order.status != OrderStatus::PendingNew {
                    self.on_stop_vanished(cid, now, fx);
                    return;
                }
                if now.since(order.resent_at.unwrap_or(order.created_at)) < grace {
                    // Shortly after placement "not found" can mean "not visible yet", or that
                    // the placement is still in flight (a reconciliation pass asked meanwhile).
                    // Either way the order may yet execute: from now on it is only queried,
                    // never re-sent by the retry timer (a second send of a filled IOC entry
                    // with the same id would buy twice).
                    if order.unknown_since.is_none() {
                        order.unknown_since = Some(now);
                        fx.writes.push(Write::Order(order.clone()));
                    }
                    order.retry_at = Some(now.plus_millis(retry));
                } else if moving {
                    // A stop move's order that never reached the exchange: sending it now could
                    // leave two stops. The move finds out what happened to the old stop.
                    let pid = order.position;
                    self.reject_quietly(cid, "the order never reached the exchange", now, fx);
                    self.advance_move(pid, now, fx);
                } else if order.role == OrderRole::Entry {
                    // The entry never reached the exchange. It is not sent again: its price is
                    // stale by now, and the user decides whether to try again.
                    self.reject(cid, "the order never reached the exchange".into(), now, fx);
                } else {
                    // A protective order or an exit that provably does not exist: sending the
                    // same intent with the same id cannot create a second order. This send's
                    // outcome is unknown until answered, and its grace starts now.
                    order.unknown_since = Some(now);
                    order.resent_at = Some(now);
                    order.retry_at = Some(now.plus_millis(retry));
                    fx.writes.push(Write::Order(order.clone()));
                    fx.requests.push(Request::Place(Box::new(order.clone())));
                }
            }
            Err(e) => {
                tracing::warn!(client_id = %cid, error = %e, "query failed; will retry");
                self.note_failure(e, now, fx);
                if let Some(order) = self.orders.get_mut(cid) {
                    order.retry_at = Some(now.plus_millis(self.settings.retry_ms));
                }
            }
        }
    }

    fn on_trades(
        &mut self,
        cid: &ClientOrderId,
        result: &Result<Vec<Trade>, ExchangeError>,
        now: Timestamp,
        fx: &mut Effects,
    ) {
        match result {
            Ok(trades) => {
                let Some(order) = self.orders.get(cid) else { return };
                let (symbol, exchange_id) = (order.symbol, order.exchange_id);
                for t in trades.iter().filter(|t| t.symbol == symbol && Some(t.order_id) == exchange_id) {
                    self.apply_fill(cid, &t.fill, now, fx);
                }
                if let Some(order) = self.orders.get_mut(cid) {
                    order.retry_at = None;
                }
                self.after_order_update(cid, now, fx);
            }
            Err(e) => {
                tracing::warn!(client_id = %cid, error = %e, "trade fetch failed; will retry");
                self.note_failure(e, now, fx);
            }
        }
    }

    // ----- strategy -------------------------------------------------------------------------

    fn on_candle(&mut self, symbol: Symbol, candle: &Candle, now: Timestamp, fx: &mut Effects) {
        if self.last_candle.get(&symbol).is_some_and(|t| candle.open_time <= *t) {
            return; // seen already (or older than what the strategy has): not a new day
        }
        self.last_candle.insert(symbol, candle.open_time);
        self.prices.insert(symbol.base, candle.close);
        let strategy = self.strategies.entry(symbol).or_insert_with(|| Edge70::new(Edge70Params::default()));
        let Some(signal) = strategy.on_candle(candle) else { return };
        fx.writes.push(Write::Direction { symbol, direction: Some(signal.direction) });
        self.on_signal(symbol, &signal, now, fx);
    }

    fn on_signal(&mut self, symbol: Symbol, signal: &Edge70Signal, now: Timestamp, fx: &mut Effects) {
        let auto = self.settings.auto_trade && signal.kind == SignalKind::Flip;
        fx.alert(
            Category::Signals,
            None,
            None,
            Notice::Signal {
                symbol,
                direction: signal.direction,
                kind: signal.kind,
                level: signal.level,
                price: signal.price,
                candle_close: signal.candle_close,
                auto_trade: auto,
            },
        );
        if !auto {
            return;
        }
        match signal.direction {
            Direction::Long => {
                if let Err(r) = self.enter(symbol, EntryReason::Signal, None, now, fx) {
                    // Holding already is the normal case for a repeated breakout: stay quiet.
                    if !matches!(r, Refusal::AlreadyInPosition { .. } | Refusal::Busy { .. }) {
                        fx.alert(Category::Signals, None, None, Notice::Refused(r));
                    }
                }
            }
            Direction::Short => {
                if self.position(symbol).is_some_and(|p| p.status == PositionStatus::Open) {
                    let _ = self.exit(symbol, ExitReason::Signal, None, now, fx);
                }
            }
        }
    }

    // ----- timers and recovery --------------------------------------------------------------

    fn check_breaker(&mut self, now: Timestamp, fx: &mut Effects) {
        if self.meta.breaker.is_some() {
            return;
        }
        let reason = if self.failures >= self.settings.failures_breaker {
            Some(BreakerReason::RequestFailures { count: self.failures })
        } else if self.stream_down_since.is_some_and(|t| now.since(t) >= self.settings.stream_down_breaker_ms) {
            Some(BreakerReason::StreamDown)
        } else {
            None
        };
        if let Some(reason) = reason {
            self.meta.breaker = Some(reason.clone());
            fx.writes.push(Write::Meta(self.meta.clone()));
            fx.alert(Category::Warnings, None, None, Notice::BreakerOpened { reason });
        }
    }

    /// Compares the exchange's open orders and balances with Bert's state. Differences are
    /// reported, not "fixed" by guessing: an unknown order or a missing balance needs a human.
    /// (Order states were already brought up to date by the queries that precede this event.)
    fn on_reconcile(&mut self, open_orders: &[OrderReport], balances: &[Balance], fx: &mut Effects) {
        for b in balances {
            self.balances.insert(b.asset, *b);
        }
        let ours = format!("b{}-", self.tag.chars().filter(|c| c.is_ascii_alphanumeric()).take(6).collect::<String>());
        for r in open_orders {
            if r.client_id.as_str().starts_with(&ours) && self.resolve(r).is_none() {
                let finding = Finding::UnknownOrder { symbol: r.symbol, client_id: r.client_id.to_string() };
                fx.alert(Category::Warnings, None, None, Notice::Reconciliation(finding));
            }
        }
        let mut held_by_positions: BTreeMap<Symbol, Decimal> = BTreeMap::new();
        for p in self.positions.values().filter(|p| p.qty > Decimal::ZERO) {
            *held_by_positions.entry(p.symbol).or_default() += p.qty;
        }
        for (symbol, position) in held_by_positions {
            let held = balances.iter().find(|b| b.asset == symbol.base).map(Balance::total).unwrap_or_default();
            // Below one step of the lot size is rounding dust, not a difference.
            let tolerance = self.filters.get(&symbol).map(|f| f.step_size).unwrap_or_default();
            if held + tolerance < position {
                let finding = Finding::BalanceShort { symbol, position, held };
                fx.alert(Category::Warnings, None, None, Notice::Reconciliation(finding));
            }
        }
    }

    fn on_reconciled(&mut self, ok: bool, halted: Option<&ExchangeError>, now: Timestamp, fx: &mut Effects) {
        if !ok {
            if let Some(halt @ ExchangeError::RateLimited { .. }) = halted {
                // Binance's rate limit stopped the pass: tell the user about the halt (once),
                // keep entries blocked if they were, and try again after it. Not a breaker:
                // nothing is wrong with the exchange or with what we know of it.
                self.note_failure(halt, now, fx);
                return;
            }
            if self.meta.breaker.is_none() {
                self.meta.breaker = Some(BreakerReason::Reconciliation);
                fx.writes.push(Write::Meta(self.meta.clone()));
                fx.alert(
                    Category::Warnings,
                    None,
                    None,
                    Notice::BreakerOpened { reason: BreakerReason::Reconciliation },
                );
            }
            return;
        }
        self.failures = 0;
        self.reconciled = true;
        if self.stream_up && self.meta.breaker.is_some() {
            self.meta.breaker = None;
            fx.writes.push(Write::Meta(self.meta.clone()));
            fx.alert(Category::Warnings, None, None, Notice::BreakerClosed);
        }
    }

    fn on_tick(&mut self, now: Timestamp, fx: &mut Effects) {
        self.check_breaker(now, fx);
        self.tick_moves(now, fx);
        self.tick_warnings(now, fx);
        self.check_performance(now, fx);
        let retry = self.settings.retry_ms;
        let due: Vec<ClientOrderId> = self
            .orders
            .values()
            .filter(|o| o.retry_at.is_some_and(|t| t <= now))
            .map(|o| o.client_id.clone())
            .collect();
        for cid in due {
            let Some(order) = self.orders.get_mut(&cid) else { continue };
            order.retry_at = Some(now.plus_millis(retry));
            let request = if order.status == OrderStatus::PendingNew {
                if order.unknown_since.is_some() || order.cancel_requested {
                    Request::Query { symbol: order.symbol, client_id: cid.clone() }
                } else {
                    // Provably never sent: same intent, same id. Until this send is answered
                    // its outcome is unknown: the next due time asks rather than sends again
                    // (an exit that filled meanwhile would be accepted a second time under the
                    // same id, Binance refusing only ids of *open* orders).
                    order.unknown_since = Some(now);
                    order.resent_at = Some(now);
                    fx.writes.push(Write::Order(order.clone()));
                    Request::Place(Box::new(order.clone()))
                }
            } else if order.is_open() && order.cancel_requested {
                Request::Cancel { symbol: order.symbol, client_id: cid.clone() }
            } else if order.is_open() {
                order.retry_at = None;
                continue;
            } else {
                self.after_order_update(&cid, now, fx);
                continue;
            };
            fx.requests.push(request);
        }
        self.tell_stuck_stops(now, fx);
        let unprotected: Vec<PositionId> = self
            .positions
            .values()
            .filter(|p| p.status == PositionStatus::Open && p.protect_retry_at.is_some_and(|t| t <= now))
            .map(|p| p.id)
            .collect();
        for id in unprotected {
            if self.lacks_stop(id) {
                if let Some(p) = self.positions.get_mut(&id) {
                    p.stop_attempts = 0;
                    p.exit_reason = None;
                }
                self.protect(id, now, fx);
            }
        }
    }

    /// After a restart: every order that was not final is asked about (never re-sent), orders
    /// that were final but not acted on are acted on, and open positions without a working
    /// stop get one.
    fn on_started(&mut self, now: Timestamp, fx: &mut Effects) {
        self.reconciled = false;
        fx.alert(Category::Warnings, None, None, Notice::Started { open_positions: self.positions.len() });
        let open: Vec<ClientOrderId> =
            self.orders.values().filter(|o| o.is_open()).map(|o| o.client_id.clone()).collect();
        for cid in open {
            let Some(order) = self.orders.get_mut(&cid) else { continue };
            if order.status == OrderStatus::PendingNew && order.unknown_since.is_none() {
                // The request may or may not have left before the crash.
                order.unknown_since = Some(now);
                fx.writes.push(Write::Order(order.clone()));
            }
            order.retry_at = Some(now.plus_millis(self.settings.retry_ms));
            fx.requests.push(Request::Query { symbol: order.symbol, client_id: cid.clone() });
        }
        let unsettled: Vec<ClientOrderId> =
            self.orders.values().filter(|o| !o.is_open() && !o.settled).map(|o| o.client_id.clone()).collect();
        for cid in unsettled {
            // Whatever was asked before the restart went unanswered: ask again now.
            if let Some(o) = self.orders.get_mut(&cid) {
                o.retry_at = None;
            }
            self.after_order_update(&cid, now, fx);
        }
        let bare: Vec<PositionId> = self
            .positions
            .values()
            .filter(|p| p.status == PositionStatus::Open && p.qty > Decimal::ZERO)
            .map(|p| p.id)
            .filter(|id| self.lacks_stop(*id))
            .collect();
        for id in bare {
            self.protect(id, now, fx);
        }
    }
}

#[cfg(test)]
mod tests;
