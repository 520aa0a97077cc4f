//! Engine scenarios, event by event: each test feeds events and asserts the effects a user
//! relies on (orders sent, alerts queued, state written).

use super::*;
use crate::domain::{AssetCode, Balance};
use crate::exchange::ReplaceOutcome;
use rust_decimal_macros::dec;

const TRADER: Requester = Requester { user: 7, chat: 70 };

fn usdt() -> AssetCode {
    AssetCode::new("USDT").unwrap()
}

fn btc() -> Symbol {
    Symbol::parse("BTC", usdt()).unwrap()
}

fn t(ms: i64) -> Timestamp {
    Timestamp(1_700_000_000_000 + ms)
}

/// An engine with 10 000 USDT, BTC at 100, 1% risk and a 10% stop: an entry is worth
/// 10 000 × 1% / 10% = 1000 → 9.95 BTC at the 100.5 limit (0.5% slippage).
fn engine() -> Engine {
    let settings =
        Settings { risk_per_trade_pct: dec!(1), stop_pct: dec!(10), max_position_pct: dec!(20), ..Settings::default() };
    let mut e = Engine::new(settings, "T");
    let filters = SymbolFilters::typical(dec!(0.01), dec!(0.01), dec!(5));
    e.process(&Event::Filters(vec![(btc(), filters)]), t(0));
    e.process(&Event::Balances(vec![Balance { asset: usdt(), free: dec!(10000), locked: dec!(0) }]), t(0));
    e.process(&Event::Price { symbol: btc(), price: dec!(100) }, t(0));
    e
}

fn cmd(e: &mut Engine, command: Command, now: Timestamp) -> Effects {
    e.process(&Event::Command { from: TRADER, command }, now)
}

fn placed(fx: &Effects) -> Vec<Order> {
    fx.requests
        .iter()
        .filter_map(|r| match r {
            Request::Place(o) => Some((**o).clone()),
            _ => None,
        })
        .collect()
}

fn notices(fx: &Effects) -> Vec<&Notice> {
    fx.messages.iter().map(|m| &m.notice).collect()
}

fn report(o: &Order, status: OrderStatus, cum: Decimal, fill: Option<(u64, Decimal, Decimal)>) -> Event {
    let fill = fill.map(|(id, qty, price)| Fill {
        trade_id: id,
        price,
        qty,
        fee: Decimal::ZERO,
        fee_asset: usdt(),
        time: t(1),
    });
    Event::Exchange(ExchangeEvent::Order(OrderReport {
        symbol: o.symbol,
        client_id: o.client_id.clone(),
        exchange_id: Some(1000 + u64::from(o.role as u8)),
        status,
        cum_qty: cum,
        cum_quote: cum * o.price.unwrap_or(dec!(100)),
        fill,
        reason: None,
        time: t(1),
    }))
}

/// Enters BTC and returns the entry order as sent.
fn enter(e: &mut Engine) -> Order {
    let fx = cmd(e, Command::Enter(btc()), t(1));
    let orders = placed(&fx);
    assert_eq!(orders.len(), 1, "{fx:?}");
    orders[0].clone()
}

/// Enters and fills the entry completely, returns the stop order placed.
fn enter_filled(e: &mut Engine) -> Order {
    let entry = enter(e);
    e.process(&report(&entry, OrderStatus::New, dec!(0), None), t(2));
    let fx =
        e.process(&report(&entry, OrderStatus::Filled, entry.quantity, Some((1, entry.quantity, dec!(100)))), t(3));
    let stops = placed(&fx);
    assert_eq!(stops.len(), 1);
    stops[0].clone()
}

#[test]
fn entry_is_sized_written_before_sent_and_alerted() {
    let mut e = engine();
    let fx = cmd(&mut e, Command::Enter(btc()), t(1));
    let orders = placed(&fx);
    assert_eq!(orders.len(), 1);
    let o = &orders[0];
    assert_eq!((o.kind, o.side, o.role), (OrderKind::LimitIoc, Side::Buy, OrderRole::Entry));
    assert_eq!(o.price, Some(dec!(100.5)));
    assert_eq!(o.quantity, dec!(9.95)); // 1000 / 100.5 = 9.950… → 9.95
    assert_eq!(o.status, OrderStatus::PendingNew);
    // Intent before action: the same effects carry the PendingNew row.
    assert!(
        fx.writes
            .iter()
            .any(|w| matches!(w, Write::Order(w) if w.client_id == o.client_id && w.status == OrderStatus::PendingNew))
    );
    assert!(matches!(notices(&fx)[0], Notice::EntryPlaced { .. }));
    assert_eq!(e.position(btc()).map(|p| p.status), Some(PositionStatus::Opening));
}

#[test]
fn partial_fills_then_expiry_gives_a_stop_sized_to_the_fill() {
    let mut e = engine();
    let entry = enter(&mut e);
    e.process(&report(&entry, OrderStatus::New, dec!(0), None), t(2));
    let fx = e.process(&report(&entry, OrderStatus::PartiallyFilled, dec!(2), Some((1, dec!(2), dec!(100)))), t(3));
    assert!(placed(&fx).is_empty(), "no stop while the entry is still working");
    assert!(matches!(notices(&fx)[0], Notice::EntryFill { filled, .. } if *filled == dec!(2)));
    e.process(&report(&entry, OrderStatus::PartiallyFilled, dec!(3), Some((2, dec!(1), dec!(100.3)))), t(4));
    let fx = e.process(&report(&entry, OrderStatus::Expired, dec!(3), None), t(5));
    let stops = placed(&fx);
    assert_eq!(stops.len(), 1);
    let stop = &stops[0];
    assert_eq!((stop.kind, stop.side, stop.role), (OrderKind::StopLossLimit, Side::Sell, OrderRole::Stop));
    assert_eq!(stop.quantity, dec!(3));
    // avg = (200 + 100.3) / 3 = 100.1 → × 0.9 = 90.09 (up to the tick) → limit × 0.8 = 72.07
    assert_eq!(stop.stop_price, Some(dec!(90.09)));
    assert_eq!(stop.price, Some(dec!(72.07)));
    let pos = e.position(btc()).unwrap();
    assert_eq!((pos.status, pos.qty), (PositionStatus::Open, dec!(3)));
    // The exchange acknowledges the stop → "stop placed".
    let fx = e.process(&report(stop, OrderStatus::New, dec!(0), None), t(6));
    assert!(matches!(notices(&fx)[0], Notice::StopPlaced { .. }));
}

#[test]
fn zero_fill_entry_fails_without_a_position() {
    let mut e = engine();
    let entry = enter(&mut e);
    let fx = e.process(&report(&entry, OrderStatus::Expired, dec!(0), None), t(2));
    assert!(placed(&fx).is_empty());
    assert!(matches!(notices(&fx)[0], Notice::EntryFailed { .. }));
    assert!(e.position(btc()).is_none());
    // And the symbol can be entered again.
    assert_eq!(placed(&cmd(&mut e, Command::Enter(btc()), t(3))).len(), 1);
}

#[test]
fn terminal_report_before_trades_waits_for_the_fills() {
    let mut e = engine();
    let entry = enter(&mut e);
    // EXPIRED with 3 executed overtakes the trade reports: no "entry failed", fetch trades.
    let fx = e.process(&report(&entry, OrderStatus::Expired, dec!(3), None), t(2));
    assert!(fx.requests.iter().any(|r| matches!(r, Request::Trades { .. })), "{fx:?}");
    assert!(!notices(&fx).iter().any(|n| matches!(n, Notice::EntryFailed { .. })));
    // The missed trade arrives through the trade fetch: the stop follows.
    let trade = Trade {
        symbol: btc(),
        order_id: 1000,
        side: Side::Buy,
        fill: Fill { trade_id: 9, price: dec!(100), qty: dec!(3), fee: dec!(0), fee_asset: usdt(), time: t(3) },
    };
    let fx = e.process(&Event::Trades { client_id: entry.client_id.clone(), result: Ok(vec![trade.clone()]) }, t(3));
    assert_eq!(placed(&fx).len(), 1);
    // The same trade again (stream catching up) changes nothing.
    let dup = Event::Exchange(ExchangeEvent::Order(OrderReport {
        symbol: btc(),
        client_id: entry.client_id.clone(),
        exchange_id: Some(1000),
        status: OrderStatus::PartiallyFilled,
        cum_qty: dec!(3),
        cum_quote: dec!(300),
        fill: Some(trade.fill),
        reason: None,
        time: t(4),
    }));
    let fx = e.process(&dup, t(4));
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(e.position(btc()).unwrap().qty, dec!(3));
}

#[test]
fn duplicate_and_reordered_reports_apply_each_fill_once() {
    let mut e = engine();
    let entry = enter(&mut e);
    let f1 = report(&entry, OrderStatus::PartiallyFilled, dec!(4), Some((1, dec!(4), dec!(100))));
    let f2 = report(&entry, OrderStatus::Filled, dec!(9.95), Some((2, dec!(5.95), dec!(100))));
    let new = report(&entry, OrderStatus::New, dec!(0), None);
    // Reordered: the fill reports come before NEW; each is also delivered twice.
    let mut stops = 0;
    for ev in [&f2, &f1, &f2, &new, &f1, &new] {
        stops += placed(&e.process(ev, t(2))).len();
    }
    assert_eq!(stops, 1, "exactly one stop");
    let pos = e.position(btc()).unwrap();
    assert_eq!(pos.qty, dec!(9.95));
    assert_eq!(pos.bought_qty, dec!(9.95));
}

#[test]
fn exit_cancels_the_stop_then_sells_and_closes_with_pnl() {
    let mut e = engine();
    let stop = enter_filled(&mut e);
    e.process(&report(&stop, OrderStatus::New, dec!(0), None), t(4));
    e.process(&Event::Price { symbol: btc(), price: dec!(110) }, t(5));
    let fx = cmd(&mut e, Command::Exit(btc()), t(6));
    assert_eq!(fx.requests, vec![Request::Cancel { symbol: btc(), client_id: stop.client_id.clone() }]);
    assert!(placed(&fx).is_empty(), "no sell before the stop is cancelled");
    let fx = e.process(&report(&stop, OrderStatus::Canceled, dec!(0), None), t(7));
    let sells = placed(&fx);
    assert_eq!(sells.len(), 1);
    let sell = &sells[0];
    assert_eq!(
        (sell.kind, sell.side, sell.role, sell.quantity),
        (OrderKind::Market, Side::Sell, OrderRole::Exit, dec!(9.95))
    );
    let fx = e.process(&report(sell, OrderStatus::Filled, dec!(9.95), Some((5, dec!(9.95), dec!(110)))), t(8));
    let closed = notices(&fx)
        .into_iter()
        .find_map(|n| match n {
            Notice::PositionClosed { pnl, reason, .. } => Some((*pnl, *reason)),
            _ => None,
        })
        .expect("position closed alert");
    assert_eq!(closed, (dec!(99.5), Some(ExitReason::Manual { user: 7 })));
    assert!(fx.writes.iter().any(|w| matches!(w, Write::ClosedTrade(t) if t.pnl == dec!(99.5))));
    assert!(e.position(btc()).is_none());
}

#[test]
fn exit_when_the_stop_already_filled_is_a_close_not_an_error() {
    let mut e = engine();
    let stop = enter_filled(&mut e);
    e.process(&report(&stop, OrderStatus::New, dec!(0), None), t(4));
    cmd(&mut e, Command::Exit(btc()), t(5));
    // -2011: the stop is gone. Bert asks what happened to it.
    let fx =
        e.process(&Event::Canceled { client_id: stop.client_id.clone(), result: Err(ExchangeError::NotFound) }, t(6));
    assert_eq!(fx.requests, vec![Request::Query { symbol: btc(), client_id: stop.client_id.clone() }]);
    // It filled (and the trade report came on the stream).
    e.process(&report(&stop, OrderStatus::Filled, dec!(9.95), Some((7, dec!(9.95), dec!(90.1)))), t(7));
    assert!(e.position(btc()).is_none());
    let fx =
        e.process(&Event::Queried { client_id: stop.client_id.clone(), result: Err(ExchangeError::NotFound) }, t(8));
    assert!(placed(&fx).is_empty(), "no market sell after the stop sold everything");
}

#[test]
fn stop_hit_closes_the_position_with_a_loss() {
    let mut e = engine();
    let stop = enter_filled(&mut e);
    e.process(&report(&stop, OrderStatus::New, dec!(0), None), t(4));
    let fx = e.process(&report(&stop, OrderStatus::Filled, dec!(9.95), Some((3, dec!(9.95), dec!(90.09)))), t(5));
    let closed = notices(&fx).into_iter().find_map(|n| match n {
        Notice::PositionClosed { pnl, reason, .. } => Some((*pnl, *reason)),
        _ => None,
    });
    // 9.95 × (90.09 − 100) = −98.6045
    assert_eq!(closed, Some((dec!(-98.6045), Some(ExitReason::StopHit))));
}

#[test]
fn refused_stop_means_market_sell() {
    let mut e = engine();
    let stop = enter_filled(&mut e);
    let fx = e.process(
        &Event::Placed {
            client_id: stop.client_id.clone(),
            result: Err(ExchangeError::Rejected { code: -2010, reason: "Order would trigger immediately.".into() }),
        },
        t(4),
    );
    assert!(notices(&fx).iter().any(|n| matches!(n, Notice::StopRefused { .. })));
    let sells = placed(&fx);
    assert_eq!(sells.len(), 1);
    assert_eq!((sells[0].role, sells[0].kind), (OrderRole::Dump, OrderKind::Market));
    let fx = e.process(&report(&sells[0], OrderStatus::Filled, dec!(9.95), Some((4, dec!(9.95), dec!(99)))), t(5));
    assert!(
        notices(&fx)
            .iter()
            .any(|n| matches!(n, Notice::PositionClosed { reason: Some(ExitReason::Unprotectable), .. }))
    );
}

#[test]
fn second_enter_on_an_open_symbol_is_refused() {
    let mut e = engine();
    enter_filled(&mut e);
    let fx = cmd(&mut e, Command::Enter(btc()), t(9));
    assert!(placed(&fx).is_empty());
    assert_eq!(notices(&fx), vec![&Notice::Refused(Refusal::AlreadyInPosition { symbol: btc() })]);
}

#[test]
fn pause_blocks_entries_but_not_exits() {
    let mut e = engine();
    let stop = enter_filled(&mut e);
    e.process(&report(&stop, OrderStatus::New, dec!(0), None), t(4));
    let fx = cmd(&mut e, Command::Pause, t(5));
    assert!(fx.writes.iter().any(|w| matches!(w, Write::Meta(m) if m.paused)));
    let eth = Symbol::parse("ETH", usdt()).unwrap();
    let fx = cmd(&mut e, Command::Enter(eth), t(6));
    assert_eq!(notices(&fx), vec![&Notice::Refused(Refusal::Paused)]);
    let fx = cmd(&mut e, Command::Exit(btc()), t(7));
    assert_eq!(fx.requests.len(), 1, "exit still works while paused");
    cmd(&mut e, Command::Resume, t(8));
    assert!(!e.is_paused());
}

#[test]
fn unknown_outcome_is_queried_never_resent() {
    let mut e = engine();
    let entry = enter(&mut e);
    let fx = e.process(
        &Event::Placed {
            client_id: entry.client_id.clone(),
            result: Err(ExchangeError::Unknown { reason: "timeout".into() }),
        },
        t(2),
    );
    assert_eq!(fx.requests, vec![Request::Query { symbol: btc(), client_id: entry.client_id.clone() }]);
    // Not visible yet, within the grace period: ask again later, still no re-send.
    let fx =
        e.process(&Event::Queried { client_id: entry.client_id.clone(), result: Err(ExchangeError::NotFound) }, t(3));
    assert!(placed(&fx).is_empty());
    let fx = e.process(&Event::Tick, t(3 + 5_000));
    assert_eq!(fx.requests, vec![Request::Query { symbol: btc(), client_id: entry.client_id.clone() }]);
    // Found: it had filled. The stop follows; the entry was never sent twice.
    let mut filled = report(&entry, OrderStatus::Filled, dec!(9.95), Some((1, dec!(9.95), dec!(100))));
    if let Event::Exchange(ExchangeEvent::Order(r)) = &mut filled {
        r.fill = None;
    }
    let fx = e.process(&Event::Queried { client_id: entry.client_id.clone(), result: Ok(report_of(filled)) }, t(6000));
    assert!(fx.requests.iter().any(|r| matches!(r, Request::Trades { .. })));
}

fn report_of(e: Event) -> OrderReport {
    match e {
        Event::Exchange(ExchangeEvent::Order(r)) => r,
        _ => unreachable!(),
    }
}

#[test]
fn entry_not_found_after_grace_fails_but_a_stop_is_sent_again_with_the_same_id() {
    let mut e = engine();
    let entry = enter(&mut e);
    e.process(
        &Event::Placed {
            client_id: entry.client_id.clone(),
            result: Err(ExchangeError::Unknown { reason: "5xx".into() }),
        },
        t(2),
    );
    let fx = e.process(
        &Event::Queried { client_id: entry.client_id.clone(), result: Err(ExchangeError::NotFound) },
        t(120_000),
    );
    assert!(notices(&fx).iter().any(|n| matches!(n, Notice::EntryFailed { .. })));
    assert!(placed(&fx).is_empty());

    let mut e = engine();
    let stop = enter_filled(&mut e);
    e.process(
        &Event::Placed {
            client_id: stop.client_id.clone(),
            result: Err(ExchangeError::Unknown { reason: "-1007".into() }),
        },
        t(4),
    );
    let fx = e.process(
        &Event::Queried { client_id: stop.client_id.clone(), result: Err(ExchangeError::NotFound) },
        t(120_000),
    );
    let again = placed(&fx);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].client_id, stop.client_id, "same intent, same id");
}

/// A re-send is itself a request whose answer can be slow. Until it is answered, the next due
/// time asks about the order instead of sending it once more: an exit that filled meanwhile
/// would be accepted again under the same id (Binance refuses duplicate ids of open orders
/// only), selling the coins twice. Its "not found" grace starts at the re-send.
#[test]
fn a_resent_exit_is_asked_about_not_sent_a_third_time() {
    let mut e = engine();
    let stop = enter_filled(&mut e);
    e.process(&report(&stop, OrderStatus::New, dec!(0), None), t(4));
    cmd(&mut e, Command::Exit(btc()), t(6));
    let fx = e.process(&report(&stop, OrderStatus::Canceled, dec!(0), None), t(7));
    let sell = placed(&fx).pop().expect("the exit sell");
    // Provably not sent (local rate budget): sent again when due, same id.
    let down = Err(ExchangeError::Unavailable { reason: "budget".into() });
    e.process(&Event::Placed { client_id: sell.client_id.clone(), result: down }, t(8));
    let fx = e.process(&Event::Tick, t(5_008));
    assert_eq!(placed(&fx).iter().map(|o| &o.client_id).collect::<Vec<_>>(), [&sell.client_id]);
    // No answer yet at the next due time: ask, do not send a third time.
    let fx = e.process(&Event::Tick, t(10_008));
    assert!(placed(&fx).is_empty(), "{:?}", fx.requests);
    assert_eq!(fx.requests, vec![Request::Query { symbol: btc(), client_id: sell.client_id.clone() }]);
    // "Not found" right after the re-send may be the re-send still in flight: keep asking.
    let missing = Event::Queried { client_id: sell.client_id.clone(), result: Err(ExchangeError::NotFound) };
    let fx = e.process(&missing, t(10_010));
    assert!(placed(&fx).is_empty(), "{:?}", fx.requests);
    // The re-send's answer arrives: filled, once.
    let fx = e.process(&report(&sell, OrderStatus::Filled, dec!(9.95), Some((5, dec!(9.95), dec!(110)))), t(10_020));
    assert!(notices(&fx).iter().any(|n| matches!(n, Notice::PositionClosed { .. })));
    assert!(e.position(btc()).is_none());
}

/// A stop the exchange acknowledged, that a later query says the exchange does not know (a
/// paper account lost in a restart, an order gone without a report): shortly after placement
/// that is "not visible yet" and changes nothing; well after, the stop is taken as gone, the
/// user is told, and a new stop protects the position.
#[test]
fn a_resting_stop_the_exchange_no_longer_knows_is_replaced_and_alerted() {
    let mut e = engine();
    let stop = enter_filled(&mut e);
    e.process(&report(&stop, OrderStatus::New, dec!(0), None), t(4));
    let not_found = |e: &mut Engine, at: Timestamp| {
        e.process(&Event::Queried { client_id: stop.client_id.clone(), result: Err(ExchangeError::NotFound) }, at)
    };

    // Within the grace after placement: nothing happens.
    let fx = not_found(&mut e, t(30_000));
    assert!(fx.requests.is_empty() && fx.messages.is_empty(), "{fx:?}");
    assert_eq!(e.position(btc()).and_then(|p| p.stop.as_ref()).map(|s| &s.client_id), Some(&stop.client_id));

    // Well after: alerted once (the alert that demands action), and protected again.
    let fx = not_found(&mut e, t(120_000));
    let alerts: Vec<_> = notices(&fx).into_iter().filter(|n| matches!(n, Notice::StopVanished { .. })).collect();
    assert_eq!(alerts, vec![&Notice::StopVanished { symbol: btc() }]);
    assert!(alerts[0].demands_action());
    assert!(!notices(&fx).iter().any(|n| matches!(n, Notice::StopLost { .. } | Notice::StopRefused { .. })));
    let again = placed(&fx);
    assert_eq!(again.len(), 1, "{fx:?}");
    let new_stop = &again[0];
    assert_ne!(new_stop.client_id, stop.client_id, "a new order, not the lost one again");
    assert_eq!((new_stop.role, new_stop.kind, new_stop.side), (OrderRole::Stop, OrderKind::StopLossLimit, Side::Sell));
    assert_eq!((new_stop.quantity, new_stop.stop_price), (stop.quantity, stop.stop_price));
    // The lost stop is recorded as gone, with why, in the same effects.
    assert!(fx.writes.iter().any(|w| matches!(w, Write::Order(o)
        if o.client_id == stop.client_id && o.status == OrderStatus::Expired && o.reason.as_deref() == Some(STOP_VANISHED))));
    let pos = e.position(btc()).unwrap();
    assert_eq!(
        (pos.status, pos.stop.as_ref().map(|s| &s.client_id)),
        (PositionStatus::Open, Some(&new_stop.client_id))
    );

    // The old id answering "not found" again changes nothing more.
    let fx = not_found(&mut e, t(180_000));
    assert!(fx.requests.is_empty() && fx.messages.is_empty(), "{fx:?}");
    // The new stop is acknowledged as any other.
    let fx = e.process(&report(new_stop, OrderStatus::New, dec!(0), None), t(180_001));
    assert!(matches!(notices(&fx)[..], [Notice::StopPlaced { .. }]));
}

/// While an exit is cancelling the stop, "not found" for it is the exit's business: no new stop.
#[test]
fn a_stop_being_cancelled_for_an_exit_is_not_replaced_when_not_found() {
    let mut e = engine();
    let stop = enter_filled(&mut e);
    e.process(&report(&stop, OrderStatus::New, dec!(0), None), t(4));
    cmd(&mut e, Command::Exit(btc()), t(5));
    let fx = e.process(
        &Event::Queried { client_id: stop.client_id.clone(), result: Err(ExchangeError::NotFound) },
        t(120_000),
    );
    assert!(!notices(&fx).iter().any(|n| matches!(n, Notice::StopVanished { .. })), "{fx:?}");
    assert!(!placed(&fx).iter().any(|o| o.role == OrderRole::Stop), "{fx:?}");
}

#[test]
fn breaker_opens_on_failures_and_stream_silence_and_closes_after_reconciliation() {
    let mut e = engine();
    for i in 0..3 {
        let entry = enter(&mut e);
        e.process(
            &Event::Placed {
                client_id: entry.client_id,
                result: Err(ExchangeError::Unavailable { reason: "down".into() }),
            },
            t(i),
        );
    }
    assert!(matches!(e.breaker(), Some(BreakerReason::RequestFailures { count: 3 })));
    let fx = cmd(&mut e, Command::Enter(btc()), t(10));
    assert_eq!(notices(&fx), vec![&Notice::Refused(Refusal::BreakerOpen)]);
    let fx = e.process(&Event::Reconciled { ok: true, halted: None }, t(11));
    assert_eq!(notices(&fx), vec![&Notice::BreakerClosed]);

    let mut e = engine();
    e.process(&Event::Exchange(ExchangeEvent::StreamDown { reason: "closed".into() }), t(0));
    assert!(e.process(&Event::Tick, t(29_000)).is_empty());
    let fx = e.process(&Event::Tick, t(30_000));
    assert_eq!(notices(&fx), vec![&Notice::BreakerOpened { reason: BreakerReason::StreamDown }]);
    // Reconciled while the stream is still down: stays open.
    assert!(e.process(&Event::Reconciled { ok: true, halted: None }, t(31_000)).messages.is_empty());
    e.process(&Event::Exchange(ExchangeEvent::StreamUp), t(32_000));
    let fx = e.process(&Event::Reconciled { ok: true, halted: None }, t(33_000));
    assert_eq!(notices(&fx), vec![&Notice::BreakerClosed]);
}

#[test]
fn restart_asks_about_every_open_order() {
    let mut e = engine();
    let entry = enter(&mut e);
    // Crash after the intent was written: restore from what the store would hold.
    let pos = e.position(btc()).unwrap().clone();
    let snapshot = Snapshot {
        meta: EngineMeta { next_position: 1, ..Default::default() },
        positions: vec![pos],
        orders: vec![entry.clone()],
        ..Default::default()
    };
    let mut e2 = Engine::restore(e.settings().clone(), "T", snapshot);
    let fx = e2.process(&Event::Started, t(100));
    assert_eq!(fx.requests, vec![Request::Query { symbol: btc(), client_id: entry.client_id.clone() }]);
    assert!(placed(&fx).is_empty());
}

/// Found by the crash campaign: the stop filled on the exchange, Bert committed the stop's
/// FILLED report, and was killed before its trade arrived. After the restart the position still
/// held its coins (the fill not yet applied) and had no open stop, so start-up took it for
/// unprotected, and with the price below the stop sold it at market: the coins were sold twice.
/// A stop that ended but is not settled is waited for, never replaced.
#[test]
fn restart_with_a_filled_stop_whose_fill_is_pending_sells_nothing_again() {
    let mut e = engine();
    let stop = enter_filled(&mut e);
    e.process(&report(&stop, OrderStatus::New, dec!(0), None), t(4));
    e.process(&Event::Price { symbol: btc(), price: dec!(80) }, t(5));
    // The terminal report overtook its trade.
    e.process(&report(&stop, OrderStatus::Filled, stop.quantity, None), t(6));
    // Meanwhile an exit is refused, not sent: the stop may have sold everything.
    let fx = cmd(&mut e, Command::Exit(btc()), t(7));
    assert!(placed(&fx).is_empty() && fx.requests.is_empty(), "{:?}", fx.requests);
    assert_eq!(notices(&fx), vec![&Notice::Refused(Refusal::Busy { symbol: btc() })]);
    let snapshot = Snapshot {
        meta: EngineMeta { next_position: 1, ..Default::default() },
        positions: e.positions().cloned().collect(),
        orders: vec![e.order(&stop.client_id).expect("the stop").clone()],
        ..Default::default()
    };
    let mut e2 = Engine::restore(e.settings().clone(), "T", snapshot);
    // Start-up as `bert run` does it: filters and prices first, then `Started`.
    e2.process(&Event::Filters(vec![(btc(), SymbolFilters::typical(dec!(0.01), dec!(0.01), dec!(5)))]), t(100));
    e2.process(&Event::Price { symbol: btc(), price: dec!(80) }, t(100));
    let fx = e2.process(&Event::Started, t(101));
    assert!(placed(&fx).is_empty(), "nothing is sold or placed while the stop's fills are pending: {:?}", fx.requests);
    assert!(
        fx.requests.iter().any(|r| matches!(r, Request::Trades { client_id, .. } if *client_id == stop.client_id)),
        "the stop's trades are fetched: {:?}",
        fx.requests
    );
    assert!(placed(&e2.process(&Event::Tick, t(30_000))).is_empty());
    // Still unreadable a minute after the stop ended: a person is told, once.
    let fx = e2.process(&Event::Tick, t(60_006));
    assert!(placed(&fx).is_empty());
    let told: Vec<_> = notices(&fx).into_iter().filter(|n| matches!(n, Notice::StopFillsPending { .. })).collect();
    assert_eq!(told, [&Notice::StopFillsPending { symbol: btc() }]);
    assert!(told[0].demands_action());
    assert!(
        !notices(&e2.process(&Event::Tick, t(70_000))).iter().any(|n| matches!(n, Notice::StopFillsPending { .. }))
    );
    // The trade arrives: the stop sold everything, the position closes.
    let fx =
        e2.process(&report(&stop, OrderStatus::Filled, stop.quantity, Some((9, stop.quantity, dec!(94)))), t(60_100));
    assert!(placed(&fx).is_empty());
    assert!(notices(&fx).iter().any(|n| matches!(n, Notice::PositionClosed { .. })), "{fx:?}");
    assert!(e2.position(btc()).is_none());
}

#[test]
fn auto_trade_signal_enters_and_short_signal_exits() {
    let settings = Settings { auto_trade: true, ..Settings::default() };
    let mut e = Engine::new(settings, "T");
    e.process(&Event::Filters(vec![(btc(), SymbolFilters::typical(dec!(0.01), dec!(0.0001), dec!(5)))]), t(0));
    e.process(&Event::Balances(vec![Balance { asset: usdt(), free: dec!(10000), locked: dec!(0) }]), t(0));
    let day = Timestamp::MS_PER_DAY;
    let candle = |i: i64, high: Decimal, low: Decimal| Candle {
        open_time: Timestamp(i * day),
        close_time: Timestamp(i * day + day - 1),
        open: (high + low) / dec!(2),
        high,
        low,
        close: (high + low) / dec!(2),
        volume: dec!(1),
    };
    // 60 quiet days establish the windows, then a down-break sets a known "short" direction.
    for i in 0..60 {
        e.process(&Event::Candle { symbol: btc(), candle: candle(i, dec!(101), dec!(99)) }, Timestamp(i * day + day));
    }
    let fx = e.process(&Event::Candle { symbol: btc(), candle: candle(60, dec!(100), dec!(90)) }, Timestamp(61 * day));
    assert!(notices(&fx).iter().any(|n| matches!(n, Notice::Signal { kind: SignalKind::Possible, .. })));
    assert!(placed(&fx).is_empty(), "a possible signal never trades");
    // A new 60-day high: the flip to long enters by itself.
    let fx = e.process(&Event::Candle { symbol: btc(), candle: candle(61, dec!(110), dec!(100)) }, Timestamp(62 * day));
    assert!(
        notices(&fx)
            .iter()
            .any(|n| matches!(n, Notice::Signal { direction: Direction::Long, kind: SignalKind::Flip, .. }))
    );
    let entries = placed(&fx);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].role, OrderRole::Entry);
}

#[test]
fn a_candle_delivered_twice_counts_once() {
    let mut e = engine();
    let day = Timestamp::MS_PER_DAY;
    let candle = |i: i64, high: Decimal, low: Decimal| Candle {
        open_time: Timestamp(i * day),
        close_time: Timestamp(i * day + day - 1),
        open: low,
        high,
        low,
        close: high,
        volume: dec!(1),
    };
    let history: Vec<Candle> = (0..59).map(|i| candle(i, dec!(101), dec!(99))).collect();
    e.warm_up(btc(), &history);
    // Replays of history already seen change nothing.
    e.warm_up(btc(), &history);
    let breakout = candle(59, dec!(120), dec!(100));
    let fx = e.process(&Event::Candle { symbol: btc(), candle: breakout }, Timestamp(60 * day));
    assert!(notices(&fx).iter().any(|n| matches!(n, Notice::Signal { .. })), "{fx:?}");
    // The same candle again (stream rotation overlap): nothing, and the price stays.
    let fx = e.process(&Event::Candle { symbol: btc(), candle: breakout }, Timestamp(60 * day + 5));
    assert!(fx.is_empty());
    let older = candle(30, dec!(500), dec!(1));
    assert!(e.process(&Event::Candle { symbol: btc(), candle: older }, Timestamp(61 * day)).is_empty());
    assert_eq!(e.price(btc()), Some(dec!(120)));
}

#[test]
fn after_a_restart_entries_wait_for_reconciliation() {
    let mut e = engine();
    let fx = e.process(&Event::Started, t(0));
    assert!(notices(&fx).iter().any(|n| matches!(n, Notice::Started { open_positions: 0 })));
    let fx = cmd(&mut e, Command::Enter(btc()), t(1));
    assert_eq!(notices(&fx), vec![&Notice::Refused(Refusal::NotReconciled)]);
    e.process(&Event::Reconciled { ok: true, halted: None }, t(2));
    assert_eq!(placed(&cmd(&mut e, Command::Enter(btc()), t(3))).len(), 1);
}

#[test]
fn reconciliation_reports_unknown_orders_and_missing_balances() {
    let mut e = engine();
    let stop = enter_filled(&mut e);
    e.process(&report(&stop, OrderStatus::New, dec!(0), None), t(4));
    let stranger = OrderReport {
        symbol: btc(),
        client_id: ClientOrderId::parse("bT-zz-e1").unwrap(),
        exchange_id: Some(555),
        status: OrderStatus::New,
        cum_qty: dec!(0),
        cum_quote: dec!(0),
        fill: None,
        reason: None,
        time: t(5),
    };
    let manual =
        OrderReport { client_id: ClientOrderId::parse("web_123").unwrap(), exchange_id: Some(556), ..stranger.clone() };
    let stop_open = match report(&stop, OrderStatus::New, dec!(0), None) {
        Event::Exchange(ExchangeEvent::Order(r)) => r,
        _ => unreachable!(),
    };
    // The account holds 4 BTC where the position says 9.95: sold elsewhere?
    let balances = vec![
        Balance { asset: btc().base, free: dec!(0), locked: dec!(4) },
        Balance { asset: usdt(), free: dec!(9000), locked: dec!(0) },
    ];
    let fx = e.process(&Event::Reconcile { open_orders: vec![stop_open, stranger, manual], balances }, t(6));
    let findings: Vec<&Finding> = notices(&fx)
        .into_iter()
        .filter_map(|n| match n {
            Notice::Reconciliation(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(
        findings,
        vec![
            &Finding::UnknownOrder { symbol: btc(), client_id: "bT-zz-e1".into() },
            &Finding::BalanceShort { symbol: btc(), position: dec!(9.95), held: dec!(4) },
        ],
        "our unknown order and the short balance; a manual order (not ours) is not a finding"
    );
    assert!(fx.requests.is_empty(), "reconciliation reports, it does not trade on a guess");
}

#[test]
fn a_missed_fill_found_by_query_is_fetched_and_applied() {
    let mut e = engine();
    let stop = enter_filled(&mut e);
    e.process(&report(&stop, OrderStatus::New, dec!(0), None), t(4));
    // While the stream was down the stop filled. The reconciliation query says so.
    let filled = match report(&stop, OrderStatus::Filled, dec!(9.95), None) {
        Event::Exchange(ExchangeEvent::Order(r)) => r,
        _ => unreachable!(),
    };
    let fx = e.process(&Event::Queried { client_id: stop.client_id.clone(), result: Ok(filled) }, t(5));
    assert!(
        notices(&fx)
            .iter()
            .any(|n| matches!(n, Notice::Reconciliation(Finding::OrderChanged { status, .. }) if status == "FILLED"))
    );
    let fetch = fx.requests.iter().find_map(|r| match r {
        Request::Trades { order_id, .. } => Some(*order_id),
        _ => None,
    });
    let order_id = fetch.expect("the missed trades are fetched");
    let trade = Trade {
        symbol: btc(),
        order_id,
        side: Side::Sell,
        fill: Fill { trade_id: 77, price: dec!(90.09), qty: dec!(9.95), fee: dec!(0), fee_asset: usdt(), time: t(5) },
    };
    let fx = e.process(&Event::Trades { client_id: stop.client_id.clone(), result: Ok(vec![trade]) }, t(6));
    assert!(notices(&fx).iter().any(|n| matches!(n, Notice::PositionClosed { reason: Some(ExitReason::StopHit), .. })));
    assert!(e.position(btc()).is_none());
}

#[test]
fn a_gap_in_an_open_order_fetches_trades_too() {
    let mut e = engine();
    let stop = enter_filled(&mut e);
    e.process(&report(&stop, OrderStatus::New, dec!(0), None), t(4));
    // A partial fill report was missed; the next one says 5 executed but carries 1.
    let fx = e.process(&report(&stop, OrderStatus::PartiallyFilled, dec!(5), Some((40, dec!(1), dec!(90.1)))), t(5));
    assert!(fx.requests.iter().any(|r| matches!(r, Request::Trades { .. })), "{fx:?}");
}

/// Fees in BNB through the engine: each fee is valued at the BNB price the engine knows when
/// the fill arrives. Entry 9.95 BTC in two partial fills (5 @ 100, 4.95 @ 100.5), 0.002 BNB
/// each with BNB at 300: spent 500 + 497.475 = 997.475, fees 0.6 + 0.6. The stop sells in two
/// fills (4 @ 90, 5.95 @ 89), 0.001 BNB each with BNB at 310: received 360 + 529.55 = 889.55,
/// fees 0.31 + 0.31. P&L = 889.55 − 997.475 − 1.82 = −109.745; −109.745 / 997.475 = −11.00 %.
#[test]
fn position_closed_with_bnb_fees_on_partial_fills_at_several_prices() {
    let mut e = engine();
    let bnb = Symbol::parse("BNB", usdt()).unwrap();
    e.process(&Event::Price { symbol: bnb, price: dec!(300) }, t(0));
    let entry = enter(&mut e);
    let fill_report = |o: &Order, status: OrderStatus, cum: Decimal, id: u64, qty: Decimal, price: Decimal| {
        let fill =
            Fill { trade_id: id, price, qty, fee: dec!(0), fee_asset: AssetCode::new("BNB").unwrap(), time: t(1) };
        let mut r = report(o, status, cum, None);
        if let Event::Exchange(ExchangeEvent::Order(r)) = &mut r {
            let fee = if o.role == OrderRole::Entry { dec!(0.002) } else { dec!(0.001) };
            r.fill = Some(Fill { fee, ..fill });
        }
        r
    };
    e.process(&report(&entry, OrderStatus::New, dec!(0), None), t(2));
    let fx = e.process(&fill_report(&entry, OrderStatus::PartiallyFilled, dec!(5), 1, dec!(5), dec!(100)), t(3));
    let avg = notices(&fx).into_iter().find_map(|n| match n {
        Notice::EntryFill { avg_price, filled, ordered, fee, fee_asset, .. } => {
            Some((*avg_price, *filled, *ordered, *fee, fee_asset.clone()))
        }
        _ => None,
    });
    assert_eq!(avg, Some((dec!(100), dec!(5), dec!(9.95), dec!(0.002), "BNB".to_string())));
    let fx = e.process(&fill_report(&entry, OrderStatus::Filled, dec!(9.95), 2, dec!(4.95), dec!(100.5)), t(4));
    let avg = notices(&fx).into_iter().find_map(|n| match n {
        Notice::EntryFill { avg_price, .. } => Some(*avg_price),
        _ => None,
    });
    // 997.475 / 9.95 = 100.248743…
    assert_eq!(avg.map(|a| a.round_dp(6)), Some(dec!(100.248744)));
    let stop = placed(&fx).into_iter().find(|o| o.role == OrderRole::Stop).expect("a stop");
    assert_eq!(stop.quantity, dec!(9.95), "BNB fees leave the quantity whole");
    e.process(&report(&stop, OrderStatus::New, dec!(0), None), t(5));
    e.process(&Event::Price { symbol: bnb, price: dec!(310) }, t(6));
    e.process(&fill_report(&stop, OrderStatus::PartiallyFilled, dec!(4), 3, dec!(4), dec!(90)), t(7));
    let fx = e.process(&fill_report(&stop, OrderStatus::Filled, dec!(9.95), 4, dec!(5.95), dec!(89)), t(8));
    let closed = notices(&fx).into_iter().find_map(|n| match n {
        Notice::PositionClosed { pnl, pnl_pct, fees, avg_entry, avg_exit, reason, .. } => {
            Some((*pnl, *pnl_pct, *fees, avg_entry.round_dp(6), avg_exit.round_dp(6), *reason))
        }
        _ => None,
    });
    // Average exit 889.55 / 9.95 = 89.402010…
    assert_eq!(
        closed,
        Some((dec!(-109.745), dec!(-11.00), dec!(1.82), dec!(100.248744), dec!(89.402010), Some(ExitReason::StopHit)))
    );
}

// ----- Issue 8: moving a stop (/stop) and portfolio warnings ----------------------------------

/// A report with an explicit exchange id (the helper above derives it from the role, and a
/// moved stop shares its role with the stop it replaces).
fn report_as(o: &Order, exchange_id: u64, status: OrderStatus) -> OrderReport {
    OrderReport {
        symbol: o.symbol,
        client_id: o.client_id.clone(),
        exchange_id: Some(exchange_id),
        status,
        cum_qty: dec!(0),
        cum_quote: dec!(0),
        fill: None,
        reason: None,
        time: t(1),
    }
}

/// An open BTC position (9.95 at 100) with its stop (90, limit 72) acknowledged.
fn protected(e: &mut Engine) -> Order {
    let stop = enter_filled(e);
    e.process(&Event::Exchange(ExchangeEvent::Order(report_as(&stop, 500, OrderStatus::New))), t(4));
    stop
}

fn replace_requests(fx: &Effects) -> Vec<(ClientOrderId, Order)> {
    fx.requests
        .iter()
        .filter_map(|r| match r {
            Request::ReplaceStop { old, new, .. } => Some((old.clone(), (**new).clone())),
            _ => None,
        })
        .collect()
}

fn move_cmd(e: &mut Engine, price: Decimal, now: Timestamp) -> Effects {
    cmd(e, Command::MoveStop { symbol: btc(), price }, now)
}

#[test]
fn moving_a_stop_is_one_cancel_replace_with_rounded_prices_recorded_first() {
    let mut e = engine();
    let old = protected(&mut e);
    // The preview rounds as the engine rounds stops: trigger up to the tick, limit 80% down.
    let fx = cmd(&mut e, Command::PreviewMoveStop { symbol: btc(), price: dec!(95.004) }, t(10));
    let [Notice::MoveStopPreview(plan)] = notices(&fx)[..] else { panic!("{fx:?}") };
    assert_eq!(
        (plan.old_stop, plan.stop_price, plan.limit_price, plan.qty),
        (dec!(90), dec!(95.01), dec!(76), dec!(9.95))
    );
    assert!(fx.requests.is_empty() && fx.writes.is_empty(), "a preview changes nothing");

    let fx = move_cmd(&mut e, dec!(95.004), t(11));
    let replaces = replace_requests(&fx);
    assert_eq!(replaces.len(), 1, "{fx:?}");
    assert!(placed(&fx).is_empty(), "no separate placement");
    let (cancel, new) = &replaces[0];
    assert_eq!(cancel, &old.client_id);
    assert_eq!((new.stop_price, new.price, new.quantity), (Some(dec!(95.01)), Some(dec!(76)), dec!(9.95)));
    assert_eq!((new.kind, new.side, new.role), (OrderKind::StopLossLimit, Side::Sell, OrderRole::Stop));
    assert_eq!(new.client_id, ClientOrderId::derive("T", PositionId(1), OrderRole::Stop, 2));
    // Intent before action: the new stop's row is in the same effects.
    assert!(
        fx.writes.iter().any(
            |w| matches!(w, Write::Order(o) if o.client_id == new.client_id && o.status == OrderStatus::PendingNew)
        )
    );
    // While it is in flight, exits and other moves wait.
    assert_eq!(
        notices(&cmd(&mut e, Command::Exit(btc()), t(12))),
        vec![&Notice::Refused(Refusal::Busy { symbol: btc() })]
    );
    let fx = move_cmd(&mut e, dec!(96), t(12));
    assert_eq!(notices(&fx), vec![&Notice::Refused(Refusal::Busy { symbol: btc() })]);
    assert!(replace_requests(&fx).is_empty());

    let canceled = report_as(&old, 500, OrderStatus::Canceled);
    let placed_report = report_as(new, 501, OrderStatus::New);
    let result = Ok(ReplaceOutcome::Replaced { canceled: canceled.clone(), placed: placed_report });
    let fx = e.process(
        &Event::StopReplaced { old: old.client_id.clone(), new: new.client_id.clone(), result: Box::new(result) },
        t(13),
    );
    assert!(fx.requests.is_empty(), "{fx:?}");
    assert_eq!(
        notices(&fx),
        vec![&Notice::StopMoved {
            symbol: btc(),
            qty: dec!(9.95),
            old_stop: dec!(90),
            stop_price: dec!(95.01),
            limit_price: dec!(76)
        }]
    );
    let pos = e.position(btc()).unwrap();
    assert_eq!(pos.stop.as_ref().map(|s| (&s.client_id, s.stop_price)), Some((&new.client_id, dec!(95.01))));
    assert!(pos.stop_move.is_none());
    assert_eq!(e.order(&old.client_id).map(|o| o.status), Some(OrderStatus::Canceled));
    // The stream's copy of the cancel, late: not "stop lost".
    let fx = e.process(&Event::Exchange(ExchangeEvent::Order(canceled)), t(14));
    assert!(fx.messages.is_empty() && fx.requests.is_empty(), "{fx:?}");
    // The exit now cancels the moved stop.
    let fx = cmd(&mut e, Command::Exit(btc()), t(15));
    assert_eq!(fx.requests, vec![Request::Cancel { symbol: btc(), client_id: new.client_id.clone() }]);
}

#[test]
fn stream_reports_before_the_answer_finish_the_move_once() {
    let mut e = engine();
    let old = protected(&mut e);
    let (_, new) = replace_requests(&move_cmd(&mut e, dec!(95), t(10))).remove(0);
    // The user stream is faster than the REST answer: the cancel, then the new stop.
    let fx = e.process(&Event::Exchange(ExchangeEvent::Order(report_as(&old, 500, OrderStatus::Canceled))), t(11));
    assert!(fx.messages.is_empty() && fx.requests.is_empty(), "no 'stop lost', no new stop: {fx:?}");
    let fx = e.process(&Event::Exchange(ExchangeEvent::Order(report_as(&new, 501, OrderStatus::New))), t(12));
    assert!(matches!(notices(&fx)[..], [Notice::StopMoved { .. }]), "{fx:?}");
    let result = Ok(ReplaceOutcome::Replaced {
        canceled: report_as(&old, 500, OrderStatus::Canceled),
        placed: report_as(&new, 501, OrderStatus::New),
    });
    let fx = e.process(
        &Event::StopReplaced { old: old.client_id.clone(), new: new.client_id.clone(), result: Box::new(result) },
        t(13),
    );
    assert!(fx.messages.is_empty() && fx.requests.is_empty(), "{fx:?}");
}

#[test]
fn move_stop_refusals_say_why() {
    let mut e = engine();
    let refused = |fx: &Effects| match &notices(fx)[..] {
        [Notice::Refused(r)] => r.clone(),
        other => panic!("{other:?}"),
    };
    let preview = |e: &mut Engine, price| cmd(e, Command::PreviewMoveStop { symbol: btc(), price }, t(10));
    assert_eq!(refused(&preview(&mut e, dec!(90))), Refusal::NoPosition { symbol: btc() });
    protected(&mut e);
    // At or above the current price (100): it would trigger at once.
    assert_eq!(
        refused(&preview(&mut e, dec!(100))),
        Refusal::StopNotBelowPrice { symbol: btc(), stop: dec!(100), price: dec!(100) }
    );
    // 99.999 rounds up to 100: refused too.
    assert!(matches!(refused(&preview(&mut e, dec!(99.999))), Refusal::StopNotBelowPrice { .. }));
    assert!(matches!(refused(&move_cmd(&mut e, dec!(150), t(11))), Refusal::StopNotBelowPrice { .. }));
    // So low that the stop's order value (9.95 × limit 0.48) is under the 5 USDT minimum.
    let Refusal::Filters { detail } = refused(&preview(&mut e, dec!(0.6))) else { panic!() };
    assert!(detail.contains("below the minimum 5"), "{detail}");
    // Nothing was sent for any of them.
    assert!(replace_requests(&move_cmd(&mut e, dec!(0.6), t(12))).is_empty());
}

#[test]
fn exchange_refusing_the_new_stop_restores_the_old_one_or_says_unprotected() {
    // Refused before anything happened: the old stop stands.
    let mut e = engine();
    let old = protected(&mut e);
    let (_, new) = replace_requests(&move_cmd(&mut e, dec!(95), t(10))).remove(0);
    let result = Err(ExchangeError::Rejected { code: -1013, reason: "Filter failure: PRICE_FILTER".into() });
    let fx = e.process(
        &Event::StopReplaced { old: old.client_id.clone(), new: new.client_id.clone(), result: Box::new(result) },
        t(11),
    );
    assert!(fx.requests.is_empty(), "{fx:?}");
    assert!(matches!(notices(&fx)[..], [Notice::StopMoveFailed { outcome: MoveFailure::OldStands, .. }]), "{fx:?}");
    assert_eq!(e.position(btc()).unwrap().stop.as_ref().map(|s| s.client_id.clone()), Some(old.client_id.clone()));
    assert_eq!(e.order(&new.client_id).map(|o| o.status), Some(OrderStatus::Rejected));

    // Cancelled but the new one refused: the old stop is placed again at its prices.
    let mut e = engine();
    let old = protected(&mut e);
    let (_, new) = replace_requests(&move_cmd(&mut e, dec!(95), t(10))).remove(0);
    let result = Ok(ReplaceOutcome::CanceledOnly {
        canceled: Some(report_as(&old, 500, OrderStatus::Canceled)),
        code: -2010,
        reason: "Order would trigger immediately.".into(),
    });
    let fx = e.process(
        &Event::StopReplaced { old: old.client_id.clone(), new: new.client_id.clone(), result: Box::new(result) },
        t(11),
    );
    let restore = placed(&fx);
    assert_eq!(restore.len(), 1, "{fx:?}");
    assert_eq!(
        (restore[0].stop_price, restore[0].price, restore[0].quantity),
        (Some(dec!(90)), Some(dec!(72)), dec!(9.95))
    );
    assert!(matches!(notices(&fx)[..], [Notice::StopMoveFailed { outcome: MoveFailure::Restoring, .. }]), "{fx:?}");
    let mut e2_restore_ok = e.process(
        &Event::Placed {
            client_id: restore[0].client_id.clone(),
            result: Ok(report_as(&restore[0], 502, OrderStatus::New)),
        },
        t(12),
    );
    assert!(
        matches!(notices(&e2_restore_ok)[..], [Notice::StopRestored { stop_price, .. }] if *stop_price == dec!(90))
    );
    e2_restore_ok.messages.clear();
    assert!(e.position(btc()).unwrap().stop_move.is_none());

    // ... and if the old stop is refused too: "unprotected" at once, then protection again.
    let mut e = engine();
    let old = protected(&mut e);
    let (_, new) = replace_requests(&move_cmd(&mut e, dec!(95), t(10))).remove(0);
    let result = Ok(ReplaceOutcome::CanceledOnly { canceled: None, code: -2010, reason: "refused".into() });
    let fx = e.process(
        &Event::StopReplaced { old: old.client_id.clone(), new: new.client_id.clone(), result: Box::new(result) },
        t(11),
    );
    let restore = placed(&fx).remove(0);
    let result = Err(ExchangeError::Rejected { code: -2010, reason: "Order would trigger immediately.".into() });
    let fx = e.process(&Event::Placed { client_id: restore.client_id.clone(), result }, t(12));
    assert!(matches!(notices(&fx)[..], [Notice::Unprotected { .. }]), "{fx:?}");
    assert!(placed(&fx).is_empty(), "no market sell: the engine retries protection");
    let fx = e.process(&Event::Tick, t(12 + 5_000));
    let again = placed(&fx);
    assert_eq!(again.len(), 1, "{fx:?}");
    assert_eq!(again[0].role, OrderRole::Stop);
}

#[test]
fn unknown_move_outcome_is_asked_never_resent() {
    let mut e = engine();
    let old = protected(&mut e);
    let (_, new) = replace_requests(&move_cmd(&mut e, dec!(95), t(10))).remove(0);
    let result = Err(ExchangeError::Unknown { reason: "timeout".into() });
    let fx = e.process(
        &Event::StopReplaced { old: old.client_id.clone(), new: new.client_id.clone(), result: Box::new(result) },
        t(11),
    );
    assert_eq!(fx.requests, vec![Request::Query { symbol: btc(), client_id: new.client_id.clone() }]);
    // Past the grace period the exchange still does not know the new stop: ask about the old.
    let late = t(11 + 60_000);
    let fx =
        e.process(&Event::Queried { client_id: new.client_id.clone(), result: Err(ExchangeError::NotFound) }, late);
    assert_eq!(fx.requests, vec![Request::Query { symbol: btc(), client_id: old.client_id.clone() }]);
    // The old stop is still there: nothing happened.
    let fx = e.process(
        &Event::Queried { client_id: old.client_id.clone(), result: Ok(report_as(&old, 500, OrderStatus::New)) },
        late,
    );
    assert!(matches!(notices(&fx)[..], [Notice::StopMoveFailed { outcome: MoveFailure::OldStands, .. }]), "{fx:?}");
    assert!(fx.requests.is_empty() && replace_requests(&fx).is_empty());
}

/// Balances and prices for the warning tests: ETH (at 200) and BNB (at 300) are watched.
fn warning_engine() -> Engine {
    let mut e = engine();
    let (eth, bnb) = (Symbol::parse("ETH", usdt()).unwrap(), Symbol::parse("BNB", usdt()).unwrap());
    e.process(&Event::Price { symbol: eth, price: dec!(200) }, t(0));
    e.process(&Event::Price { symbol: bnb, price: dec!(300) }, t(0));
    e
}

fn balance(asset: &str, free: Decimal) -> Balance {
    Balance { asset: AssetCode::new(asset).unwrap(), free, locked: dec!(0) }
}

fn portfolio_notices(fx: &Effects) -> Vec<PortfolioNotice> {
    fx.messages
        .iter()
        .filter_map(|m| match &m.notice {
            Notice::Portfolio(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

const H6: i64 = 6 * 60 * 60 * 1000;

#[test]
fn unexplained_balance_is_warned_once_and_resolved_once_across_a_restart() {
    let mut e = warning_engine();
    // 0.1 ETH (20 USDT) that no position holds; 0.01 BNB is ignored here (fee fuel).
    e.process(&Event::Balances(vec![balance("ETH", dec!(0.1)), balance("BNB", dec!(0.01))]), t(0));
    let fx = e.process(&Event::Tick, t(1));
    let raised = portfolio_notices(&fx);
    assert_eq!(
        raised,
        vec![PortfolioNotice::Unexplained {
            assets: vec![UnexplainedBalance { asset: "ETH".into(), qty: dec!(0.1), value: dec!(20) }],
            min: dec!(10),
            quote: "USDT".into(),
        }]
    );
    assert!(
        fx.writes.iter().any(|w| matches!(w, Write::Meta(m) if m.warnings.unexplained == ["ETH"])),
        "raised state persisted with the alert"
    );
    // The next checks: still there, not said again.
    assert!(portfolio_notices(&e.process(&Event::Tick, t(1 + H6))).is_empty());
    // A restart from what the store holds does not repeat it either.
    let meta = e.meta.clone();
    let mut e = Engine::restore(e.settings().clone(), "T", Snapshot { meta, ..Default::default() });
    e.process(&Event::Balances(vec![balance("USDT", dec!(10000)), balance("ETH", dec!(0.1))]), t(0));
    // ETH has no price yet: not knowing its value is not "resolved".
    assert!(portfolio_notices(&e.process(&Event::Tick, t(1 + H6))).is_empty());
    let eth = Symbol::parse("ETH", usdt()).unwrap();
    e.process(&Event::Price { symbol: eth, price: dec!(200) }, t(0));
    assert!(portfolio_notices(&e.process(&Event::Tick, t(2 + 2 * H6))).is_empty());
    // Sold outside Bert: resolved, once.
    e.process(&Event::Balances(vec![balance("ETH", dec!(0))]), t(3 + 2 * H6));
    let fx = e.process(&Event::Tick, t(3 + 3 * H6));
    assert_eq!(portfolio_notices(&fx), vec![PortfolioNotice::UnexplainedCleared]);
    assert!(portfolio_notices(&e.process(&Event::Tick, t(3 + 4 * H6))).is_empty());
}

#[test]
fn a_position_explains_its_balance() {
    let mut e = warning_engine();
    protected(&mut e);
    // The stop locks 9.95 BTC; the account holds exactly that: nothing unexplained.
    let btc_bal = Balance { asset: btc().base, free: dec!(0), locked: dec!(9.95) };
    e.process(&Event::Balances(vec![btc_bal]), t(5));
    assert!(portfolio_notices(&e.process(&Event::Tick, t(6))).is_empty());
    // 0.2 BTC more, free (20 USDT at 100): that part is unexplained.
    let btc_bal = Balance { asset: btc().base, free: dec!(0.2), locked: dec!(9.95) };
    e.process(&Event::Balances(vec![btc_bal]), t(7));
    let fx = e.process(&Event::Tick, t(7 + H6));
    let [PortfolioNotice::Unexplained { assets, .. }] = &portfolio_notices(&fx)[..] else { panic!("{fx:?}") };
    assert_eq!((assets[0].asset.as_str(), assets[0].qty, assets[0].value), ("BTC", dec!(0.2), dec!(20)));
}

#[test]
fn low_bnb_is_warned_only_when_fees_are_paid_in_bnb_and_resolved_once() {
    let mut e = warning_engine();
    e.process(&Event::Balances(vec![balance("BNB", dec!(0.01))]), t(0));
    // 0.01 BNB = 3 USDT, under 10, but no fee was paid in BNB: no warning.
    assert!(portfolio_notices(&e.process(&Event::Tick, t(1))).is_empty());
    // An entry whose fee is paid in BNB.
    let entry = enter(&mut e);
    let mut r = report_as(&entry, 400, OrderStatus::Filled);
    r.cum_qty = entry.quantity;
    r.fill = Some(Fill {
        trade_id: 77,
        price: dec!(100),
        qty: entry.quantity,
        fee: dec!(0.0025),
        fee_asset: AssetCode::new("BNB").unwrap(),
        time: t(2),
    });
    let fx = e.process(&Event::Exchange(ExchangeEvent::Order(r)), t(2));
    let stop = placed(&fx).remove(0);
    e.process(
        &Event::Placed { client_id: stop.client_id.clone(), result: Ok(report_as(&stop, 500, OrderStatus::New)) },
        t(3),
    );
    // Checked 30 s after the fill, not every tick before.
    assert!(portfolio_notices(&e.process(&Event::Tick, t(2 + 29_000))).is_empty());
    let fx = e.process(&Event::Tick, t(2 + 30_000));
    assert_eq!(
        portfolio_notices(&fx),
        vec![PortfolioNotice::BnbLow { free: dec!(0.01), value: dec!(3), min: dec!(10), quote: "USDT".into() }]
    );
    assert!(portfolio_notices(&e.process(&Event::Tick, t(2 + H6 + 30_000))).is_empty(), "said once");
    e.process(&Event::Balances(vec![balance("BNB", dec!(1))]), t(3 + H6));
    let fx = e.process(&Event::Tick, t(3 + 2 * H6 + 30_000));
    assert_eq!(
        portfolio_notices(&fx),
        vec![PortfolioNotice::BnbOk { free: dec!(1), value: dec!(300), quote: "USDT".into() }]
    );
    assert!(portfolio_notices(&e.process(&Event::Tick, t(3 + 3 * H6 + 30_000))).is_empty());
}

#[test]
fn a_restart_during_a_move_asks_about_both_stops_and_finishes_the_move() {
    let mut e = engine();
    let old = protected(&mut e);
    let (_, new) = replace_requests(&move_cmd(&mut e, dec!(95), t(10))).remove(0);
    // Crash before the answer: restore from what the store holds.
    let snapshot = Snapshot {
        meta: EngineMeta { next_position: 1, ..Default::default() },
        positions: vec![e.position(btc()).unwrap().clone()],
        orders: vec![e.order(&old.client_id).unwrap().clone(), e.order(&new.client_id).unwrap().clone()],
        ..Default::default()
    };
    let mut e = Engine::restore(e.settings().clone(), "T", snapshot);
    e.process(&Event::Filters(vec![(btc(), SymbolFilters::typical(dec!(0.01), dec!(0.01), dec!(5)))]), t(0));
    let fx = e.process(&Event::Started, t(100));
    let mut asked: Vec<ClientOrderId> = fx
        .requests
        .iter()
        .filter_map(|r| match r {
            Request::Query { client_id, .. } => Some(client_id.clone()),
            _ => None,
        })
        .collect();
    asked.sort();
    let mut want = vec![old.client_id.clone(), new.client_id.clone()];
    want.sort();
    assert_eq!(asked, want, "both asked about, nothing placed: {fx:?}");
    assert!(placed(&fx).is_empty() && replace_requests(&fx).is_empty());
    // The exchange had done it: the move completes once.
    let fx = e.process(
        &Event::Queried { client_id: new.client_id.clone(), result: Ok(report_as(&new, 501, OrderStatus::New)) },
        t(101),
    );
    assert!(matches!(notices(&fx)[..], [Notice::StopMoved { .. }]), "{fx:?}");
    let fx = e.process(
        &Event::Queried { client_id: old.client_id.clone(), result: Ok(report_as(&old, 500, OrderStatus::Canceled)) },
        t(102),
    );
    assert!(
        fx.messages.iter().all(|m| !matches!(m.notice, Notice::StopLost { .. })) && placed(&fx).is_empty(),
        "{fx:?}"
    );
}

/// Regression (found by the fault matrix, tests/fault_matrix.rs): a reconciliation pass that
/// queried an entry while its placement was still in flight got "not found", which armed the
/// retry timer, and the timer sent the entry again with the same id ("provably never sent").
/// Had the first request executed, the IOC entry would have bought twice.
#[test]
fn an_in_flight_entry_queried_as_not_found_is_never_sent_again() {
    let mut e = engine();
    let fx = cmd(&mut e, Command::Enter(btc()), t(10));
    let entry = placed(&fx).pop().expect("the entry is placed");
    let fx =
        e.process(&Event::Queried { client_id: entry.client_id.clone(), result: Err(ExchangeError::NotFound) }, t(20));
    assert!(placed(&fx).is_empty());
    for now in [6_000, 12_000, 30_000, 59_000] {
        let fx = e.process(&Event::Tick, t(now));
        assert!(placed(&fx).is_empty(), "the entry was sent again at {now} ms: {:?}", fx.requests);
    }
    // The first request's answer arrives after all: the entry is filled once.
    let fx = e
        .process(&report(&entry, OrderStatus::Filled, entry.quantity, Some((1, entry.quantity, dec!(100)))), t(59_500));
    let stops = placed(&fx);
    assert_eq!(stops.len(), 1, "{:?}", fx.requests);
    assert_eq!(stops[0].role, OrderRole::Stop);
}

/// A 429/418 halt is told once, however many requests it refuses, and does not count towards
/// the circuit breaker (Binance's rule, kept by the adapter, not the exchange failing).
#[test]
fn a_rate_limit_halt_is_one_alert_and_not_a_failure() {
    let mut e = engine();
    let halted = |until: i64, banned: bool| Err(ExchangeError::RateLimited { retry_after_ms: t(until).0, banned });
    let entry = placed(&cmd(&mut e, Command::Enter(btc()), t(10))).pop().expect("the entry is placed");
    let fx = e.process(&Event::Placed { client_id: entry.client_id.clone(), result: halted(60_000, false) }, t(20));
    let told: Vec<_> = notices(&fx).into_iter().filter(|n| matches!(n, Notice::RateLimitHalt { .. })).collect();
    assert_eq!(told, [&Notice::RateLimitHalt { until: t(60_000), banned: false }]);

    // More refusals within the same halt: no more alerts, and the breaker stays closed.
    for (i, at) in [30, 40, 50].into_iter().enumerate() {
        let order = placed(&cmd(&mut e, Command::Enter(btc()), t(at))).pop().expect("a new entry");
        let fx = e.process(&Event::Placed { client_id: order.client_id, result: halted(60_000, false) }, t(at + 1));
        let noisy =
            notices(&fx).into_iter().any(|n| matches!(n, Notice::RateLimitHalt { .. } | Notice::BreakerOpened { .. }));
        assert!(!noisy, "{i}: {fx:?}");
    }
    assert_eq!(e.status_view().breaker, None);

    // A later, longer halt (a ban) is news.
    let entry = placed(&cmd(&mut e, Command::Enter(btc()), t(70_000))).pop().expect("a new entry");
    let fx = e.process(&Event::Placed { client_id: entry.client_id, result: halted(600_000, true) }, t(70_001));
    assert!(notices(&fx).contains(&&Notice::RateLimitHalt { until: t(600_000), banned: true }), "{fx:?}");
}

/// A reconciliation pass stopped by a rate-limit halt tells the user about the halt (once) and
/// does not open the circuit breaker; a pass that failed for another reason does.
#[test]
fn a_reconciliation_stopped_by_a_halt_is_told_as_the_halt_not_a_breaker() {
    let mut e = engine();
    let halt = ExchangeError::RateLimited { retry_after_ms: t(60_000).0, banned: false };
    let fx = e.process(&Event::Reconciled { ok: false, halted: Some(halt.clone()) }, t(10));
    assert_eq!(notices(&fx), vec![&Notice::RateLimitHalt { until: t(60_000), banned: false }]);
    assert_eq!(e.status_view().breaker, None);
    // The retry meets the same halt: nothing new to say.
    assert!(e.process(&Event::Reconciled { ok: false, halted: Some(halt) }, t(20)).messages.is_empty());
    assert_eq!(e.status_view().breaker, None);

    let fx = e.process(&Event::Reconciled { ok: false, halted: None }, t(30));
    assert_eq!(notices(&fx), vec![&Notice::BreakerOpened { reason: BreakerReason::Reconciliation }]);
}
