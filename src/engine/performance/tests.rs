//! The report's schedule and content, with time moved by hand.

use super::super::*;
use crate::domain::{AssetCode, Balance};
use rust_decimal_macros::dec;

const HOUR: i64 = 3_600_000;
const EVERY: i64 = 2 * HOUR;
const TRADER: Requester = Requester { user: 7, chat: 70 };

fn usdt() -> AssetCode {
    AssetCode::new("USDT").unwrap()
}

fn sym(base: &str) -> Symbol {
    Symbol::parse(base, usdt()).unwrap()
}

fn t(ms: i64) -> Timestamp {
    Timestamp(1_700_000_000_000 + ms)
}

fn settings(every: Option<i64>) -> Settings {
    Settings { stop_pct: dec!(10), performance_every_ms: every, ..Settings::default() }
}

/// 10 000 USDT, BTC at 100 and ETH at 50, filters for both.
fn engine_with(every: Option<i64>, meta: EngineMeta) -> Engine {
    let mut e = Engine::restore(settings(every), "T", Snapshot { meta, ..Snapshot::default() });
    let filters = SymbolFilters::typical(dec!(0.01), dec!(0.01), dec!(5));
    e.process(&Event::Filters(vec![(sym("BTC"), filters.clone()), (sym("ETH"), filters)]), t(0));
    e.process(&Event::Balances(vec![Balance { asset: usdt(), free: dec!(10000), locked: dec!(0) }]), t(0));
    e.process(&Event::Price { symbol: sym("BTC"), price: dec!(100) }, t(0));
    e.process(&Event::Price { symbol: sym("ETH"), price: dec!(50) }, t(0));
    e
}

fn reports(fx: &Effects) -> Vec<&PerformanceReport> {
    fx.messages
        .iter()
        .filter_map(|m| match &m.notice {
            Notice::Performance(r) => {
                assert_eq!(m.category, Category::Performance);
                assert_eq!(m.to, Audience::Alerts { also: None });
                Some(r)
            }
            _ => None,
        })
        .collect()
}

fn meta_written(fx: &Effects) -> Option<EngineMeta> {
    fx.writes.iter().rev().find_map(|w| match w {
        Write::Meta(m) => Some(m.clone()),
        _ => None,
    })
}

/// Buys `qty` of `base` at `price` (fee 0.1% in USDT), and confirms the stop the engine asks for.
fn hold(e: &mut Engine, base: &str, price: Decimal, now: Timestamp) {
    let fx = e.process(&Event::Command { from: TRADER, command: Command::Enter(sym(base)) }, now);
    let entry = fx
        .requests
        .iter()
        .find_map(|r| match r {
            Request::Place(o) => Some((**o).clone()),
            _ => None,
        })
        .unwrap();
    let fill = Fill {
        trade_id: entry.position.0 * 100,
        price,
        qty: entry.quantity,
        fee: (price * entry.quantity / dec!(1000)).round_dp(8),
        fee_asset: usdt(),
        time: now,
    };
    let report = OrderReport {
        symbol: entry.symbol,
        client_id: entry.client_id.clone(),
        exchange_id: Some(entry.position.0 * 10),
        status: OrderStatus::Filled,
        cum_qty: entry.quantity,
        cum_quote: entry.quantity * price,
        fill: Some(fill),
        reason: None,
        time: now,
    };
    let fx = e.process(&Event::Exchange(ExchangeEvent::Order(report)), now);
    let stop = fx
        .requests
        .iter()
        .find_map(|r| match r {
            Request::Place(o) if o.role == OrderRole::Stop => Some((**o).clone()),
            _ => None,
        })
        .expect("a stop");
    let ack = OrderReport {
        symbol: stop.symbol,
        client_id: stop.client_id.clone(),
        exchange_id: Some(entry.position.0 * 10 + 1),
        status: OrderStatus::New,
        cum_qty: dec!(0),
        cum_quote: dec!(0),
        fill: None,
        reason: None,
        time: now,
    };
    e.process(&Event::Placed { client_id: stop.client_id.clone(), result: Ok(ack) }, now);
}

#[test]
fn off_never_reports_nor_writes() {
    let mut e = engine_with(None, EngineMeta::default());
    for h in 0..10 {
        let fx = e.process(&Event::Tick, t(h * HOUR));
        assert!(fx.is_empty(), "{fx:?}");
    }
}

#[test]
fn first_tick_takes_a_baseline_then_reports_when_due_and_not_before() {
    let mut e = engine_with(Some(EVERY), EngineMeta::default());
    // Baseline: persisted, nothing sent.
    let fx = e.process(&Event::Tick, t(0));
    assert!(reports(&fx).is_empty());
    let mark = meta_written(&fx).and_then(|m| m.performance).expect("the baseline is persisted");
    assert_eq!(mark, PerformanceMark { at: t(0), portfolio: dec!(10000), portfolio_at: t(0) });
    hold(&mut e, "BTC", dec!(100), t(1000));
    // Not due: one millisecond short of the period.
    let fx = e.process(&Event::Tick, t(EVERY - 1));
    assert!(fx.is_empty(), "{fx:?}");
    // Due.
    let fx = e.process(&Event::Tick, t(EVERY));
    assert_eq!(reports(&fx).len(), 1);
    // Right after, not again.
    assert!(e.process(&Event::Tick, t(EVERY + 1000)).is_empty());
    assert!(e.process(&Event::Tick, t(2 * EVERY - 1)).is_empty());
    assert_eq!(reports(&e.process(&Event::Tick, t(2 * EVERY))).len(), 1);
}

/// Two positions: BTC bought at 100 (now 110), ETH at 50 (now 45). 1% risk and a 10% stop size
/// each at 10 000 × 1% / 10% = 1000 quote: BTC 9.95 at the 100.5 limit, ETH 19.9 at 50.25.
/// Fills at 100 and 50 with a 0.1% USDT fee: BTC cost 995 + 0.995 fee, ETH 995 + 0.995 fee.
/// Stops 10% under the entry: BTC 90, ETH 45.
#[test]
fn report_lists_positions_best_first_with_pnl_stop_distance_and_portfolio_change() {
    let mut e = engine_with(Some(EVERY), EngineMeta::default());
    e.process(&Event::Tick, t(0));
    hold(&mut e, "ETH", dec!(50), t(1000));
    hold(&mut e, "BTC", dec!(100), t(2000));
    // The account after the buys: 10 000 − 995.995 − 995.995 = 8008.01 USDT plus the coins.
    e.process(
        &Event::Balances(vec![
            Balance { asset: usdt(), free: dec!(8008.01), locked: dec!(0) },
            Balance { asset: AssetCode::new("BTC").unwrap(), free: dec!(0), locked: dec!(9.95) },
            Balance { asset: AssetCode::new("ETH").unwrap(), free: dec!(0), locked: dec!(19.9) },
        ]),
        t(3000),
    );
    e.process(&Event::Price { symbol: sym("BTC"), price: dec!(110) }, t(4000));
    e.process(&Event::Price { symbol: sym("ETH"), price: dec!(46) }, t(4000));
    let fx = e.process(&Event::Tick, t(EVERY));
    let r = reports(&fx)[0].clone();
    let order: Vec<&str> = r.positions.iter().map(|l| l.symbol.base.as_str()).collect();
    assert_eq!(order, ["BTC", "ETH"], "sorted by % since entry, best first");
    let btc = &r.positions[0];
    assert_eq!(btc.qty, dec!(9.95));
    assert_eq!(btc.avg_entry, dec!(100));
    assert_eq!(btc.change_pct, Some(dec!(10.00)));
    // 9.95 × 110 − 995.995 = 98.505
    assert_eq!(btc.pnl, Some(dec!(98.505)));
    assert_eq!(btc.stop_price, Some(dec!(90)));
    // (110 − 90) / 110 = 18.18 %
    assert_eq!(btc.stop_distance_pct, Some(dec!(18.18)));
    let eth = &r.positions[1];
    assert_eq!(eth.change_pct, Some(dec!(-8.00)));
    // 19.9 × 46 − 995.995 = −80.595
    assert_eq!(eth.pnl, Some(dec!(-80.595)));
    // (46 − 45) / 46 = 2.17 %
    assert_eq!(eth.stop_distance_pct, Some(dec!(2.17)));
    assert_eq!(r.unrealized, dec!(17.91));
    // 8008.01 + 9.95 × 110 + 19.9 × 46 = 8008.01 + 1094.5 + 915.4 = 10 017.91
    assert_eq!(r.portfolio, dec!(10017.91));
    assert_eq!((r.previous, r.previous_at), (dec!(10000), t(0)));
    assert_eq!(r.change(), dec!(17.91));
    assert_eq!(r.change_pct(), dec!(0.18));
    assert_eq!(r.quote, "USDT");
    // The next report compares with this one.
    let mark = meta_written(&fx).and_then(|m| m.performance).unwrap();
    assert_eq!(mark, PerformanceMark { at: t(EVERY), portfolio: dec!(10017.91), portfolio_at: t(EVERY) });
}

#[test]
fn nothing_open_and_portfolio_unchanged_sends_nothing_but_a_move_is_reported() {
    let mut e = engine_with(Some(EVERY), EngineMeta::default());
    e.process(&Event::Tick, t(0));
    let fx = e.process(&Event::Tick, t(EVERY));
    assert!(reports(&fx).is_empty(), "nothing open, nothing moved");
    // The schedule still advances (persisted), keeping the last reported value.
    let mark = meta_written(&fx).and_then(|m| m.performance).unwrap();
    assert_eq!(mark, PerformanceMark { at: t(EVERY), portfolio: dec!(10000), portfolio_at: t(0) });
    // A few cents of drift: below 0.1 %, still nothing.
    e.process(&Event::Balances(vec![Balance { asset: usdt(), free: dec!(10009.99), locked: dec!(0) }]), t(EVERY));
    assert!(reports(&e.process(&Event::Tick, t(2 * EVERY))).is_empty());
    // Drift that adds up to 0.1 % (10 USDT) since the last report: reported.
    e.process(&Event::Balances(vec![Balance { asset: usdt(), free: dec!(10010), locked: dec!(0) }]), t(2 * EVERY));
    let fx = e.process(&Event::Tick, t(3 * EVERY));
    let r = reports(&fx);
    assert_eq!(r.len(), 1);
    assert!(r[0].positions.is_empty());
    assert_eq!((r[0].previous, r[0].previous_at, r[0].change()), (dec!(10000), t(0), dec!(10)));
}

#[test]
fn a_restart_does_not_report_early_or_twice() {
    let mut e = engine_with(Some(EVERY), EngineMeta::default());
    e.process(&Event::Tick, t(0));
    hold(&mut e, "BTC", dec!(100), t(1000));
    let fx = e.process(&Event::Tick, t(EVERY));
    assert_eq!(reports(&fx).len(), 1);
    let meta = meta_written(&fx).unwrap();
    // Restart 10 minutes later from what was committed.
    let mut restarted = engine_with(Some(EVERY), meta);
    hold(&mut restarted, "BTC", dec!(100), t(EVERY + 1000));
    assert!(reports(&restarted.process(&Event::Tick, t(EVERY + 10 * 60_000))).is_empty());
    assert!(reports(&restarted.process(&Event::Tick, t(2 * EVERY - 1))).is_empty());
    assert_eq!(reports(&restarted.process(&Event::Tick, t(2 * EVERY))).len(), 1);
}

#[test]
fn no_balances_yet_means_no_baseline() {
    let mut e = Engine::new(settings(Some(EVERY)), "T");
    assert!(e.process(&Event::Tick, t(0)).is_empty());
    assert!(e.process(&Event::Tick, t(10 * EVERY)).is_empty());
}

#[test]
fn moved_needs_a_tenth_of_a_percent_and_a_cent() {
    assert!(!moved(dec!(10000), dec!(10009.99)));
    assert!(moved(dec!(10000), dec!(10010)));
    assert!(moved(dec!(10000), dec!(9990)));
    assert!(!moved(dec!(5), dec!(5.009)));
    assert!(moved(dec!(0), dec!(0.01)));
    assert!(!moved(dec!(0), dec!(0.001)));
}
