//! `/stop SYMBOL PRICE`: moving a position's exchange-side stop with one cancel-replace request.
//!
//! The move keeps the engine's invariants:
//! * **Intent before action.** The new stop is an order row (`PendingNew`, deterministic client
//!   id `…-s{attempt}`) and the position records the move ([`StopMove`]) in the same effects
//!   that carry the `ReplaceStop` request.
//! * **Unknown outcomes are asked, never re-sent.** A lost answer queries the new stop; if it
//!   does not exist, the old stop is queried, and its state decides (still there: nothing
//!   happened; cancelled: placed again).
//! * **Never left unprotected on purpose.** When the exchange cancels the old stop but refuses
//!   the new one, the old stop is placed again at once; if that is refused too, people are told
//!   the position has no stop and protection is retried (the engine's usual path).
//!
//! While a move is in flight, the ends of its orders belong to it: `settle` leaves them alone,
//! and exits and other moves are refused as busy.

use super::notice::{MoveFailure, Notice, Refusal, StopPlan};
use super::risk::stop_limit;
use super::{Category, Effects, Engine, Request, Write};
use crate::domain::{
    ClientOrderId, OrderKind, OrderReport, OrderRole, OrderStatus, PositionId, PositionStatus, Side, StopInfo,
    StopMove, Symbol, Timestamp,
};
use crate::exchange::{ExchangeError, ReplaceOutcome};
use rust_decimal::Decimal;

impl StopMove {
    /// True for the orders of this move: the old stop, the new one, the restored one.
    pub fn involves(&self, cid: &ClientOrderId) -> bool {
        self.old.client_id == *cid || self.new.client_id == *cid || self.restore.as_ref() == Some(cid)
    }
}

/// Statuses that prove an order exists (or existed) on the exchange.
fn acknowledged(status: OrderStatus) -> bool {
    matches!(status, OrderStatus::New | OrderStatus::PartiallyFilled | OrderStatus::Filled)
}

impl Engine {
    pub(super) fn in_stop_move(&self, pid: PositionId, cid: &ClientOrderId) -> bool {
        self.positions.get(&pid).and_then(|p| p.stop_move.as_ref()).is_some_and(|m| m.involves(cid))
    }

    /// What moving `symbol`'s stop to `price` would place, or why it cannot.
    pub(super) fn check_move_stop(&self, symbol: Symbol, price: Decimal) -> Result<StopPlan, Refusal> {
        let pos = self.position(symbol).ok_or(Refusal::NoPosition { symbol })?;
        if pos.status != PositionStatus::Open || pos.stop_move.is_some() {
            return Err(Refusal::Busy { symbol });
        }
        let old = self
            .live_stop(pos.id)
            .filter(|o| o.status != OrderStatus::PendingNew && !o.cancel_requested)
            .ok_or(Refusal::NoStopToMove { symbol })?;
        let filters = self.filters.get(&symbol).ok_or(Refusal::UnknownSymbol { symbol })?;
        let market = self.prices.get(&symbol.base).copied().ok_or(Refusal::NoPrice { symbol })?;
        // Rounded as the engine rounds every stop trigger: up to the tick.
        let stop_price = filters.ceil_price(price);
        if stop_price >= market {
            return Err(Refusal::StopNotBelowPrice { symbol, stop: stop_price, price: market });
        }
        let limit_price = stop_limit(&self.settings, filters, stop_price);
        let qty = filters.floor_qty(pos.qty);
        filters.check_stop(stop_price, limit_price, qty).map_err(|e| Refusal::Filters { detail: e.to_string() })?;
        Ok(StopPlan {
            symbol,
            qty,
            old_stop: old.stop_price.unwrap_or_default(),
            stop_price,
            limit_price,
            price: market,
            pnl_at_stop: pos.unrealized_pnl(stop_price).round_dp(8),
        })
    }

    /// Records the new stop as an intent and asks for the cancel-replace.
    pub(super) fn move_stop(
        &mut self,
        symbol: Symbol,
        price: Decimal,
        chat: Option<i64>,
        now: Timestamp,
        fx: &mut Effects,
    ) -> Result<(), Refusal> {
        let plan = self.check_move_stop(symbol, price)?;
        let pos = self.position(symbol).ok_or(Refusal::NoPosition { symbol })?;
        let id = pos.id;
        let old = self.live_stop(id).cloned().ok_or(Refusal::NoStopToMove { symbol })?;
        let attempt = pos.stop_attempts + 1;
        let order =
            self.new_order(pos, OrderRole::Stop, attempt, OrderKind::StopLossLimit, Side::Sell, plan.qty, now, |o| {
                o.price = Some(plan.limit_price);
                o.stop_price = Some(plan.stop_price);
            });
        let Some(pos) = self.positions.get_mut(&id) else { return Err(Refusal::NoPosition { symbol }) };
        pos.stop_attempts = attempt;
        pos.stop_moves += 1;
        pos.stop_move = Some(Box::new(StopMove {
            old: StopInfo {
                client_id: old.client_id.clone(),
                stop_price: old.stop_price.unwrap_or_default(),
                limit_price: old.price.unwrap_or_default(),
                qty: old.quantity,
            },
            new: StopInfo {
                client_id: order.client_id.clone(),
                stop_price: plan.stop_price,
                limit_price: plan.limit_price,
                qty: plan.qty,
            },
            restore: None,
            checking_old: false,
            chat,
            since: now,
        }));
        fx.writes.push(Write::Position(pos.clone()));
        fx.writes.push(Write::Order(order.clone()));
        fx.requests.push(Request::ReplaceStop { symbol, old: old.client_id, new: Box::new(order.clone()) });
        tracing::info!(client_id = %order.client_id, %symbol, stop = %plan.stop_price, "moving stop");
        self.orders.insert(order.client_id.clone(), order);
        Ok(())
    }

    /// The answer to a `ReplaceStop` request.
    pub(super) fn on_stop_replaced(
        &mut self,
        old: &ClientOrderId,
        new: &ClientOrderId,
        result: &Result<ReplaceOutcome, ExchangeError>,
        now: Timestamp,
        fx: &mut Effects,
    ) {
        let Some(pid) = self.orders.get(new).map(|o| o.position) else { return };
        match result {
            Ok(ReplaceOutcome::Replaced { canceled, placed }) => {
                self.failures = 0;
                self.on_report(canceled, now, fx);
                self.on_report(placed, now, fx);
            }
            Ok(ReplaceOutcome::CanceledOnly { canceled, code, reason }) => {
                self.failures = 0;
                match canceled {
                    Some(report) => self.on_report(report, now, fx),
                    None => self.mark_canceled(old, now, fx),
                }
                self.reject_quietly(new, &format!("{reason} ({code})"), now, fx);
                self.advance_move(pid, now, fx);
            }
            Err(ExchangeError::NotFound) => {
                // The old stop is gone (filled, or cancelled outside Bert) and nothing was
                // placed. The usual path takes over: ask about the old stop, whose end then
                // decides (position closed by the stop, or protected again).
                self.reject_quietly(new, "the stop to replace is no longer on the exchange", now, fx);
                self.end_move(pid, MoveFailure::OldGone, None, fx);
                if let Some(order) = self.orders.get_mut(old) {
                    order.retry_at = Some(now.plus_millis(self.settings.retry_ms));
                    fx.requests.push(Request::Query { symbol: order.symbol, client_id: old.clone() });
                }
            }
            Err(
                e @ (ExchangeError::Rejected { .. }
                | ExchangeError::Unavailable { .. }
                | ExchangeError::RateLimited { .. }),
            ) => {
                // Nothing happened (refused, or provably never sent): the old stop stands.
                if matches!(e, ExchangeError::Rejected { .. }) {
                    self.failures = 0;
                } else {
                    self.note_failure(e, now, fx);
                }
                let reason = match e {
                    ExchangeError::Rejected { code, reason } => format!("{reason} ({code})"),
                    other => other.to_string(),
                };
                self.reject_quietly(new, &reason, now, fx);
                self.end_move(pid, MoveFailure::OldStands, Some(reason), fx);
            }
            Err(e) => {
                // Unknown outcome: ask about the new stop, never send the request again.
                self.note_failure(e, now, fx);
                let retry = self.settings.retry_ms;
                let Some(order) = self.orders.get_mut(new) else { return };
                if order.status != OrderStatus::PendingNew {
                    return; // a report already told us
                }
                order.unknown_since = Some(now);
                order.retry_at = Some(now.plus_millis(retry));
                fx.writes.push(Write::Order(order.clone()));
                tracing::warn!(client_id = %new, error = %e, "stop move outcome unknown; querying");
                fx.requests.push(Request::Query { symbol: order.symbol, client_id: new.clone() });
                let notice = Notice::OrderOutcomeUnknown { symbol: order.symbol, client_id: new.to_string() };
                fx.alert(Category::Warnings, Some(pid), None, notice);
            }
        }
    }

    /// Marks an order as cancelled when the exchange said so without a report.
    fn mark_canceled(&mut self, cid: &ClientOrderId, now: Timestamp, fx: &mut Effects) {
        let Some(order) = self.orders.get(cid) else { return };
        let report = OrderReport {
            symbol: order.symbol,
            client_id: cid.clone(),
            exchange_id: order.exchange_id,
            status: OrderStatus::Canceled,
            cum_qty: order.executed_qty,
            cum_quote: order.executed_quote,
            fill: None,
            reason: None,
            time: now,
        };
        self.on_report(&report, now, fx);
    }

    /// Records that an order of a move does not exist on the exchange, without the alerts and
    /// follow-ups of a refused stop (the move decides what follows).
    pub(super) fn reject_quietly(&mut self, cid: &ClientOrderId, reason: &str, now: Timestamp, fx: &mut Effects) {
        let Some(order) = self.orders.get_mut(cid) else { return };
        if order.status != OrderStatus::PendingNew {
            return;
        }
        order.status = OrderStatus::Rejected;
        order.reason = Some(reason.to_string());
        order.updated_at = now;
        order.unknown_since = None;
        order.retry_at = None;
        order.settled = true;
        fx.writes.push(Write::Order(order.clone()));
    }

    /// Moves a stop move forward from what is known about its orders.
    pub(super) fn advance_move(&mut self, pid: PositionId, now: Timestamp, fx: &mut Effects) {
        let Some(m) = self.positions.get(&pid).and_then(|p| p.stop_move.clone()) else { return };
        let status = |cid: &ClientOrderId| self.orders.get(cid).map(|o| o.status);
        if let Some(restore) = &m.restore {
            match status(restore) {
                Some(s) if acknowledged(s) => {
                    let Some(pos) = self.positions.get_mut(&pid) else { return };
                    pos.stop_move = None;
                    fx.writes.push(Write::Position(pos.clone()));
                    let (symbol, chat) = (pos.symbol, m.chat.or(pos.origin_chat));
                    let (qty, stop_price, limit_price) = pos
                        .stop
                        .as_ref()
                        .map(|s| (s.qty, s.stop_price, s.limit_price))
                        .unwrap_or((m.old.qty, m.old.stop_price, m.old.limit_price));
                    let notice = Notice::StopRestored { symbol, qty, stop_price, limit_price };
                    fx.alert(Category::Fills, Some(pid), chat, notice);
                }
                Some(s) if s.is_terminal() => {
                    // The old stop could not be placed again: say so now, retry protection.
                    let reason = self.orders.get(restore).and_then(|o| o.reason.clone());
                    let retry_at = now.plus_millis(self.settings.retry_ms);
                    let Some(pos) = self.positions.get_mut(&pid) else { return };
                    pos.stop_move = None;
                    pos.stop = None;
                    pos.protect_retry_at = Some(retry_at);
                    fx.writes.push(Write::Position(pos.clone()));
                    let (symbol, chat) = (pos.symbol, m.chat.or(pos.origin_chat));
                    fx.alert(Category::Warnings, Some(pid), chat, Notice::Unprotected { symbol, reason });
                }
                _ => {}
            }
            return;
        }
        match status(&m.new.client_id) {
            Some(s) if acknowledged(s) => {
                let Some(pos) = self.positions.get_mut(&pid) else { return };
                pos.stop_move = None;
                pos.stop = Some(m.new.clone());
                fx.writes.push(Write::Position(pos.clone()));
                let symbol = pos.symbol;
                // The new stop exists, so the exchange cancelled the old one (it places the new
                // order only after the cancel). If no report said so yet (a lost answer), ask.
                let retry_at = now.plus_millis(self.settings.retry_ms);
                if let Some(old) = self.orders.get_mut(&m.old.client_id).filter(|o| o.is_open()) {
                    old.cancel_requested = true;
                    old.retry_at = Some(retry_at);
                    fx.writes.push(Write::Order(old.clone()));
                    fx.requests.push(Request::Query { symbol, client_id: m.old.client_id.clone() });
                }
                let Some(pos) = self.positions.get(&pid) else { return };
                let notice = Notice::StopMoved {
                    symbol: pos.symbol,
                    qty: m.new.qty,
                    old_stop: m.old.stop_price,
                    stop_price: m.new.stop_price,
                    limit_price: m.new.limit_price,
                };
                fx.alert(Category::Fills, Some(pid), m.chat.or(pos.origin_chat), notice);
            }
            Some(OrderStatus::PendingNew) => {} // still unknown: the query answers
            _ => {
                // The new stop does not exist. The old stop's state decides.
                let reason = self.orders.get(&m.new.client_id).and_then(|o| o.reason.clone());
                let old = self.orders.get(&m.old.client_id);
                match old.map(|o| (o.status, o.is_open())) {
                    Some((_, true)) if m.checking_old => self.end_move(pid, MoveFailure::OldStands, reason, fx),
                    Some((_, true)) => {
                        let Some(pos) = self.positions.get_mut(&pid) else { return };
                        if let Some(mv) = pos.stop_move.as_mut() {
                            mv.checking_old = true;
                        }
                        fx.writes.push(Write::Position(pos.clone()));
                        let symbol = pos.symbol;
                        if let Some(o) = self.orders.get_mut(&m.old.client_id) {
                            o.retry_at = Some(now.plus_millis(self.settings.retry_ms));
                        }
                        fx.requests.push(Request::Query { symbol, client_id: m.old.client_id.clone() });
                    }
                    Some((OrderStatus::Filled, _)) => {
                        // The stop filled while moving: the position is closing through it.
                        if let Some(pos) = self.positions.get_mut(&pid) {
                            pos.stop_move = None;
                            fx.writes.push(Write::Position(pos.clone()));
                        }
                    }
                    _ => self.restore_stop(pid, reason, now, fx),
                }
            }
        }
    }

    /// Ends a move that did not happen and says why.
    fn end_move(&mut self, pid: PositionId, outcome: MoveFailure, reason: Option<String>, fx: &mut Effects) {
        let Some(pos) = self.positions.get_mut(&pid) else { return };
        let Some(m) = pos.stop_move.take() else { return };
        fx.writes.push(Write::Position(pos.clone()));
        let notice = Notice::StopMoveFailed { symbol: pos.symbol, old_stop: m.old.stop_price, outcome, reason };
        fx.alert(Category::Warnings, Some(pid), m.chat.or(pos.origin_chat), notice);
    }

    /// The exchange cancelled the old stop and refused the new one: place the old one again.
    fn restore_stop(&mut self, pid: PositionId, reason: Option<String>, now: Timestamp, fx: &mut Effects) {
        let Some(pos) = self.positions.get(&pid) else { return };
        let Some(m) = pos.stop_move.clone() else { return };
        let chat = m.chat.or(pos.origin_chat);
        let qty = self.filters.get(&pos.symbol).map(|f| f.floor_qty(pos.qty)).unwrap_or(m.old.qty);
        let attempt = pos.stop_attempts + 1;
        let order =
            self.new_order(pos, OrderRole::Stop, attempt, OrderKind::StopLossLimit, Side::Sell, qty, now, |o| {
                o.price = Some(m.old.limit_price);
                o.stop_price = Some(m.old.stop_price);
            });
        let Some(pos) = self.positions.get_mut(&pid) else { return };
        pos.stop_attempts = attempt;
        pos.stop_moves += 1;
        pos.stop = Some(StopInfo {
            client_id: order.client_id.clone(),
            stop_price: m.old.stop_price,
            limit_price: m.old.limit_price,
            qty,
        });
        if let Some(mv) = pos.stop_move.as_mut() {
            mv.restore = Some(order.client_id.clone());
        }
        fx.writes.push(Write::Position(pos.clone()));
        let notice = Notice::StopMoveFailed {
            symbol: pos.symbol,
            old_stop: m.old.stop_price,
            outcome: MoveFailure::Restoring,
            reason,
        };
        fx.alert(Category::Warnings, Some(pid), chat, notice);
        self.submit(order, fx);
    }

    /// Timer: a move waiting for the old stop's state asks again if the answer was lost.
    pub(super) fn tick_moves(&mut self, now: Timestamp, fx: &mut Effects) {
        let waiting: Vec<(Symbol, ClientOrderId)> = self
            .positions
            .values()
            .filter_map(|p| {
                p.stop_move.as_ref().filter(|m| m.checking_old && m.restore.is_none()).map(|m| (p.symbol, m))
            })
            .filter(|(_, m)| self.orders.get(&m.old.client_id).is_some_and(|o| o.retry_at.is_some_and(|t| t <= now)))
            .map(|(s, m)| (s, m.old.client_id.clone()))
            .collect();
        for (symbol, cid) in waiting {
            if let Some(o) = self.orders.get_mut(&cid) {
                o.retry_at = Some(now.plus_millis(self.settings.retry_ms));
            }
            fx.requests.push(Request::Query { symbol, client_id: cid });
        }
    }
}
