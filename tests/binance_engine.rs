//! The engine, its driver thread and the redb store over the real Binance adapter against the
//! fake Binance, wired as `bert run` wires them: the user data stream forwarded into the engine,
//! reconciliation after every (re)subscription. Time is injected (a manual clock) wherever the
//! engine's timers matter, so nothing here waits 30 s for a breaker.

#[path = "support/binance_common/mod.rs"]
mod common;
#[path = "support/fake_binance/mod.rs"]
mod fake_binance;

use bert::app::driver::{self, DriverParts, EngineHandle, ManualClock, Metrics, Recipients};
use bert::app::reconcile;
use bert::domain::{OrderRole, OrderStatus, PositionStatus, Symbol, Timestamp};
use bert::engine::{BreakerReason, Command, Engine, Event, Notice, Refusal, Requester, Settings};
use bert::exchange::binance::BinanceExchange;
use bert::exchange::{Exchange, ExchangeEvent};
use bert::store::{OutboxBody, Store};
use common::{config, sym};
use fake_binance::{Endpoint, FakeBinance, Fault, Push, SubscribeRejection};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

const TRADER: Requester = Requester { user: 7, chat: 70 };
const ALERTS: i64 = -100;

fn btc() -> Symbol {
    sym("BTC")
}

/// Time the test moves by hand (starting at the wall clock, so the fake's timestamps and the
/// engine's agree at first).
struct Running {
    handle: EngineHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    store: Arc<Store>,
    exchange: Arc<BinanceExchange>,
    metrics: Arc<Metrics>,
    clock: Arc<ManualClock>,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Running {
    async fn enter(&self) -> Vec<Notice> {
        let out = self.handle.submit(Event::Command { from: TRADER, command: Command::Enter(btc()) }).await.unwrap();
        out.into_iter().map(|m| m.notice).collect()
    }

    /// Debug renderings of the notices queued for the alert chat, oldest first.
    fn alerts(&self) -> Vec<String> {
        self.store
            .outbox_peek(1000)
            .unwrap()
            .into_iter()
            .filter(|(_, r)| r.chat == ALERTS)
            .filter_map(|(_, r)| match r.body {
                OutboxBody::Notice(n) => Some(format!("{n:?}")),
                _ => None,
            })
            .collect()
    }

    fn has_alert(&self, prefix: &str) -> bool {
        self.alerts().iter().any(|a| a.starts_with(prefix))
    }

    /// Polls (bounded) until `cond` holds on the durable state; the exchange answers arrive
    /// asynchronously.
    async fn until(&self, what: &str, mut cond: impl FnMut(&Running) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !cond(self) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}; alerts: {:#?}", self.alerts());
            let _ = self.handle.view().await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn position_status(&self) -> Option<PositionStatus> {
        self.store.load().unwrap().positions.iter().find(|p| p.symbol == btc()).map(|p| p.status)
    }

    async fn stop(mut self) {
        self.stop.cancel();
        self.exchange.shutdown();
        self.handle.shutdown().await;
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

/// The engine thread over a fresh store and the real adapter, with the user stream forwarded
/// into the engine and a reconciliation pass after every `StreamUp` (as `bert run` does).
async fn start(fake: &FakeBinance) -> Running {
    // The adapter's test config calls 400 ms without a frame silence; Binance pings every 20 s,
    // the fake here more often, so the stream only goes down when a test says so.
    fake.set_ping_every(Duration::from_millis(100));
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("bert.redb")).unwrap());
    let exchange = Arc::new(BinanceExchange::new(config(fake)).unwrap());
    let filters = exchange.prepare(&[btc()]).await.unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let metrics = Arc::new(Metrics::default());
    let engine = Engine::new(Settings::default(), store.instance_tag());
    let (handle, thread) = driver::start(DriverParts {
        engine,
        store: store.clone(),
        exchange: exchange.clone(),
        recipients: Recipients { alert_chats: vec![ALERTS] },
        outbox: Arc::new(Notify::new()),
        metrics: metrics.clone(),
        clock: clock.clone(),
    });
    handle.submit(Event::Filters(filters)).await.unwrap();
    handle.submit(Event::Balances(exchange.balances().await.unwrap())).await.unwrap();
    handle.submit(Event::Price { symbol: btc(), price: dec!(50000) }).await.unwrap();

    let stop = CancellationToken::new();
    let (tx, rx) = mpsc::channel::<ExchangeEvent>(256);
    exchange.start_user_stream(tx).await.unwrap();
    let again = Arc::new(Notify::new());
    tokio::spawn(driver::forward_user_events(rx, handle.clone(), again.clone(), stop.clone()));
    tokio::spawn(reconcile::run(handle.clone(), exchange.clone(), metrics.clone(), again, stop.clone()));
    let run = Running { handle, thread: Some(thread), store, exchange, metrics, clock, stop, _dir: dir };
    run.until("the user stream to be up", |r| r.metrics.stream_up.load(Ordering::SeqCst) == 1).await;
    // The start-up passes (the schedule's first and the one after StreamUp) read the account:
    // let them finish so that faults a test injects next meet the requests it means.
    run.until("the start-up reconciliations", |_| fake.count("GET", "/api/v3/account") >= 3).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let _ = run.handle.view().await;
    run
}

/// Waits until the BTC position is open with its stop resting on the fake.
async fn until_protected(run: &Running, fake: &FakeBinance) {
    run.until("an open position with a stop", |r| {
        let s = r.store.load().unwrap();
        s.positions.iter().any(|p| p.status == PositionStatus::Open && p.stop.is_some())
            && s.orders.iter().any(|o| o.role == OrderRole::Stop && o.status == OrderStatus::New)
    })
    .await;
    assert_eq!(resting_stops(fake).len(), 1, "one stop on the exchange");
}

fn resting_stops(fake: &FakeBinance) -> Vec<fake_binance::FakeOrder> {
    fake.state().orders.iter().filter(|o| o.kind == "STOP_LOSS_LIMIT" && o.is_open()).cloned().collect()
}

/// What the entry left in the account: its fills less the fees taken in the base asset.
fn bought(fake: &FakeBinance) -> Decimal {
    let s = fake.state();
    let entry: Vec<u64> = s.orders.iter().filter(|o| o.kind == "LIMIT").map(|o| o.order_id).collect();
    s.trades
        .iter()
        .filter(|t| entry.contains(&t.order_id))
        .map(|t| t.qty - if t.commission_asset == "BTC" { t.commission } else { Decimal::ZERO })
        .sum()
}

/// BTCUSDT's lot step in the fake is 0.00001.
fn floor_to_step(qty: Decimal) -> Decimal {
    (qty * dec!(100000)).floor() / dec!(100000)
}

fn orders_of_kind(fake: &FakeBinance, kind: &str) -> Vec<fake_binance::FakeOrder> {
    fake.state().orders.iter().filter(|o| o.kind == kind).cloned().collect()
}

/// Holds the user stream down: subscriptions are refused (a server error, not a rate limit)
/// and the current connection drops.
fn take_stream_down(fake: &FakeBinance) {
    *fake.shared.reject_subscribe.lock().unwrap() = Some(SubscribeRejection {
        status: 503,
        code: -1008,
        msg: "Server is currently overloaded with other requests. Please try again in a few minutes.".into(),
        retry_after_ms: None,
    });
    fake.push(Push::Drop);
}

fn let_stream_up(fake: &FakeBinance) {
    *fake.shared.reject_subscribe.lock().unwrap() = None;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_fill_stop_then_exit_closes_the_trade() {
    let fake = FakeBinance::start().await;
    let run = start(&fake).await;
    let notices = run.enter().await;
    assert!(notices.iter().any(|n| matches!(n, Notice::EntryPlaced { .. })), "{notices:?}");
    until_protected(&run, &fake).await;

    let entry = orders_of_kind(&fake, "LIMIT");
    assert_eq!(entry.len(), 1);
    assert_eq!((entry[0].status.as_str(), entry[0].tif.as_str()), ("FILLED", "IOC"));
    let stop = &resting_stops(&fake)[0];
    assert_eq!(stop.qty, floor_to_step(bought(&fake)), "the stop covers everything bought");
    assert!(stop.stop_price < dec!(50000) && stop.price < stop.stop_price, "{stop:?}");

    let out = run.handle.submit(Event::Command { from: TRADER, command: Command::Exit(btc()) }).await.unwrap();
    assert!(out.iter().all(|m| !matches!(m.notice, Notice::Refused(_))), "{out:?}");
    run.until("the position to close", |r| r.position_status().is_none_or(|s| s == PositionStatus::Closed)).await;

    // On the exchange: the stop cancelled, one market sell of the whole position.
    let stops = orders_of_kind(&fake, "STOP_LOSS_LIMIT");
    assert_eq!((stops.len(), stops[0].status.as_str()), (1, "CANCELED"));
    let sells = orders_of_kind(&fake, "MARKET");
    assert_eq!(sells.len(), 1);
    assert_eq!((sells[0].side.as_str(), sells[0].status.as_str()), ("SELL", "FILLED"));
    // The entry bought `executed`, the fee was taken in BTC; the sell is what was left, floored
    // to the lot step.
    assert!(sells[0].qty <= entry[0].executed && sells[0].qty > Decimal::ZERO);

    // In the store: a closed trade with both sides, and the alerts in order.
    let trades = run.store.closed_trades().unwrap();
    assert_eq!(trades.len(), 1, "{trades:?}");
    let alerts = run.alerts();
    let order_of = |p: &str| alerts.iter().position(|a| a.starts_with(p)).unwrap_or_else(|| panic!("{p}: {alerts:#?}"));
    assert!(order_of("EntryPlaced") < order_of("EntryFill"));
    assert!(order_of("EntryFill") < order_of("StopPlaced"));
    assert!(order_of("StopPlaced") < order_of("ExitPlaced"));
    assert!(order_of("ExitPlaced") < order_of("ExitFill"));
    assert!(order_of("ExitFill") < order_of("PositionClosed"));
    assert!(run.exchange.open_orders(None).await.unwrap().is_empty());
    fake.assert_no_signature_errors();
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stop_triggering_on_the_exchange_closes_the_position() {
    let fake = FakeBinance::start().await;
    let run = start(&fake).await;
    run.enter().await;
    until_protected(&run, &fake).await;
    let trigger = resting_stops(&fake)[0].stop_price;
    fake.set_price("BTCUSDT", trigger - dec!(1));
    run.until("the stop fill to close the position", |r| {
        r.position_status().is_none_or(|s| s == PositionStatus::Closed) && r.has_alert("PositionClosed")
    })
    .await;
    assert!(run.has_alert("StopFill"), "{:#?}", run.alerts());
    assert_eq!(run.store.closed_trades().unwrap().len(), 1);
    assert!(orders_of_kind(&fake, "MARKET").is_empty(), "nothing else was sold");
    run.stop().await;
}

/// An IOC entry that fills partly and expires: the position is what filled, and the stop
/// covers exactly that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_entry_fill_then_expiry_protects_what_filled() {
    let fake = FakeBinance::start().await;
    fake.set_liquidity("BTCUSDT", Some(dec!(0.01)));
    let run = start(&fake).await;
    run.enter().await;
    until_protected(&run, &fake).await;
    let entry = &orders_of_kind(&fake, "LIMIT")[0];
    assert_eq!((entry.status.as_str(), entry.executed), ("EXPIRED", dec!(0.01)));
    assert!(entry.qty > dec!(0.01), "the entry asked for more than the book had");
    let stop = &resting_stops(&fake)[0];
    // 0.01 bought, 0.1 % fee taken in BTC: 0.00999 held.
    assert_eq!(stop.qty, dec!(0.00999));
    let snapshot = run.store.load().unwrap();
    let pos = snapshot.positions.iter().find(|p| p.symbol == btc()).unwrap();
    assert_eq!(pos.qty, dec!(0.00999));
    run.stop().await;
}

/// Each unknown outcome of the entry (5xx after acceptance, `-1007`, no answer at all): the
/// engine asks, never re-sends, and ends with one order on the exchange and the right position.
/// The user stream is held down meanwhile, so only the query can tell what happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_entry_outcomes_end_with_one_order_and_the_right_position() {
    let faults = [
        Fault::AcceptThenFail {
            status: 500,
            body: r#"{"code":-1000,"msg":"An unknown error occurred while processing the request."}"#.into(),
        },
        Fault::AcceptThenFail {
            status: 503,
            body: r#"{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}"#.into(),
        },
        Fault::AcceptThenHang,
    ];
    for fault in faults {
        let fake = FakeBinance::start().await;
        let run = start(&fake).await;
        take_stream_down(&fake);
        run.until("the stream to be down", |r| r.metrics.stream_up.load(Ordering::SeqCst) == 0).await;
        fake.fault(Endpoint::Place, fault.clone());
        run.enter().await;
        run.until("the unknown outcome to be reported", |r| r.has_alert("OrderOutcomeUnknown")).await;
        until_protected(&run, &fake).await;
        let entries = orders_of_kind(&fake, "LIMIT");
        assert_eq!(entries.len(), 1, "{fault:?}");
        assert_eq!(fake.count("POST", "/api/v3/order"), 2, "{fault:?}: entry and stop, nothing re-sent");
        let snapshot = run.store.load().unwrap();
        let pos = snapshot.positions.iter().find(|p| p.symbol == btc()).unwrap();
        assert_eq!(pos.qty, bought(&fake), "{fault:?}");
        assert!(run.has_alert("EntryFill"), "{fault:?}: the fill was recovered: {:#?}", run.alerts());
        run.stop().await;
    }
}

/// Reports delivered twice and out of order change nothing: one fill, one stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_and_reordered_reports_are_applied_once() {
    let fake = FakeBinance::start().await;
    let run = start(&fake).await;
    // The entry's NEW, TRADE and account update, each delivered twice.
    fake.state().duplicate_next_events(3);
    run.enter().await;
    until_protected(&run, &fake).await;
    let snapshot = run.store.load().unwrap();
    let pos = snapshot.positions.iter().find(|p| p.symbol == btc()).unwrap();
    assert_eq!(pos.qty, bought(&fake));
    assert_eq!(run.alerts().iter().filter(|a| a.starts_with("EntryFill")).count(), 1, "{:#?}", run.alerts());
    assert_eq!(fake.count("POST", "/api/v3/order"), 2);

    // The stop's CANCELED and account update and the sell's NEW and TRADE arrive in reverse
    // order: the sell's fill first, the stop's cancel last.
    fake.state().reverse_next_events(4);
    run.handle.submit(Event::Command { from: TRADER, command: Command::Exit(btc()) }).await.unwrap();
    run.until("the position to close", |r| r.has_alert("PositionClosed")).await;
    assert_eq!(run.store.closed_trades().unwrap().len(), 1);
    assert_eq!(orders_of_kind(&fake, "MARKET").len(), 1);
    run.stop().await;
}

/// The stop fills while the user stream is down: the report is lost, and the reconciliation
/// after the reconnect finds the fill and closes the position, with an alert saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fill_missed_during_a_disconnect_is_found_by_reconciliation() {
    let fake = FakeBinance::start().await;
    let run = start(&fake).await;
    run.enter().await;
    until_protected(&run, &fake).await;

    take_stream_down(&fake);
    run.until("the stream to be down", |r| r.metrics.stream_up.load(Ordering::SeqCst) == 0).await;
    let trigger = resting_stops(&fake)[0].stop_price;
    fake.set_price("BTCUSDT", trigger - dec!(1));
    assert_eq!(orders_of_kind(&fake, "STOP_LOSS_LIMIT")[0].status, "FILLED");
    // Nobody heard it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(run.position_status(), Some(PositionStatus::Open));

    let_stream_up(&fake);
    run.until("reconciliation to close the position", |r| r.has_alert("PositionClosed")).await;
    let alerts = run.alerts();
    assert!(alerts.iter().any(|a| a.starts_with("Reconciliation(OrderChanged")), "{alerts:#?}");
    assert!(alerts.iter().any(|a| a.starts_with("StopFill")), "{alerts:#?}");
    assert_eq!(run.store.closed_trades().unwrap().len(), 1);
    // Counted when the pass ends, after the corrections it caused are durable.
    run.until("the correction to be counted", |r| r.metrics.reconcile_corrections.load(Ordering::SeqCst) >= 1).await;
    assert!(fake.count("GET", "/api/v3/myTrades") >= 1, "the fill's details were fetched");
    run.stop().await;
}

/// The user stream down longer than 30 s (by the engine's clock) opens the breaker: an alert,
/// the metric, entries refused. A clean reconnect and reconciliation close it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_opens_when_the_stream_stays_down_and_closes_after_reconciliation() {
    let fake = FakeBinance::start().await;
    let run = start(&fake).await;
    take_stream_down(&fake);
    run.until("the stream to be down", |r| r.metrics.stream_up.load(Ordering::SeqCst) == 0).await;

    run.clock.advance(29_000);
    run.handle.submit(Event::Tick).await.unwrap();
    assert!(!run.has_alert("BreakerOpened"), "opened before 30 s");
    run.clock.advance(2_000);
    run.handle.submit(Event::Tick).await.unwrap();
    assert!(run.has_alert("BreakerOpened { reason: StreamDown }"), "{:#?}", run.alerts());
    assert_eq!(run.metrics.breaker_open.load(Ordering::SeqCst), 1);
    assert_eq!(run.enter().await, vec![Notice::Refused(Refusal::BreakerOpen)]);
    assert_eq!(run.handle.view().await.unwrap().status.breaker, Some(BreakerReason::StreamDown));
    assert!(orders_of_kind(&fake, "LIMIT").is_empty());

    let_stream_up(&fake);
    // The metric follows the commit that queued the alert: wait for both.
    run.until("the breaker to close", |r| {
        r.has_alert("BreakerClosed") && r.metrics.breaker_open.load(Ordering::SeqCst) == 0
    })
    .await;
    assert!(run.enter().await.iter().any(|n| matches!(n, Notice::EntryPlaced { .. })));
    until_protected(&run, &fake).await;
    run.stop().await;
}

/// Three consecutive failed requests open the breaker; a clean reconnect and reconciliation
/// close it. (The stream is held down so that only requests tell the engine anything.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_opens_after_three_failed_requests() {
    let fake = FakeBinance::start().await;
    let run = start(&fake).await;
    take_stream_down(&fake);
    run.until("the stream to be down", |r| r.metrics.stream_up.load(Ordering::SeqCst) == 0).await;
    // The entry's answer is lost (1), and the two queries that follow fail (2, 3).
    fake.fault(Endpoint::Place, Fault::AcceptThenFail { status: 502, body: "<html>502 Bad Gateway</html>".into() });
    for _ in 0..2 {
        fake.fault(
            Endpoint::Query,
            Fault::Reject { status: 500, code: -1000, msg: "An unknown error occurred.".into(), retry_after: None },
        );
    }
    run.enter().await;
    run.until("the first query to fail", |_| fake.count("GET", "/api/v3/order") >= 1).await;
    for _ in 0..5 {
        if run.has_alert("BreakerOpened") {
            break;
        }
        // The query is retried when due (5 s by the engine's clock; the stream has been down
        // for less than the breaker's 30 s when it opens).
        run.clock.advance(5_000);
        run.handle.submit(Event::Tick).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(run.has_alert("BreakerOpened { reason: RequestFailures { count: 3 } }"), "{:#?}", run.alerts());
    run.until("the metric to show the breaker open", |r| r.metrics.breaker_open.load(Ordering::SeqCst) == 1).await;
    assert_eq!(run.enter().await, vec![Notice::Refused(Refusal::BreakerOpen)]);
    // The next query succeeds: the entry filled and the position is protected, breaker or not.
    run.clock.advance(5_000);
    run.handle.submit(Event::Tick).await.unwrap();
    until_protected(&run, &fake).await;
    assert_eq!(orders_of_kind(&fake, "LIMIT").len(), 1);
    assert!(run.has_alert("BreakerOpened"), "still open: no clean reconnect and reconciliation yet");
    assert!(!run.has_alert("BreakerClosed"));

    let_stream_up(&fake);
    // The metric follows the commit that queued the alert: wait for both.
    run.until("the breaker to close", |r| {
        r.has_alert("BreakerClosed") && r.metrics.breaker_open.load(Ordering::SeqCst) == 0
    })
    .await;
    run.stop().await;
}

/// A 429 halts every request until Retry-After. The refusals during the halt are Bert keeping
/// its own rule, not the exchange failing: they do not open the circuit breaker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_refused_during_a_rate_limit_halt_do_not_open_the_breaker() {
    let fake = FakeBinance::start().await;
    let run = start(&fake).await;
    fake.fault(
        Endpoint::Place,
        Fault::Reject { status: 429, code: -1003, msg: "Too much request weight used".into(), retry_after: Some(60) },
    );
    // The 429 itself, then two more entries refused locally during the halt.
    for i in 0..4 {
        run.enter().await;
        run.until("the entry to fail", |r| r.alerts().iter().filter(|a| a.starts_with("EntryFailed")).count() > i)
            .await;
    }
    let alerts = run.alerts();
    assert!(!alerts.iter().any(|a| a.starts_with("BreakerOpened")), "{alerts:#?}");
    assert_eq!(run.metrics.breaker_open.load(Ordering::SeqCst), 0);
    assert_eq!(fake.count("POST", "/api/v3/order"), 1, "nothing was sent during the halt");
    assert!(run.exchange.rate_usage().halted_until_ms.is_some());

    // A reconciliation pass meets the halt too: it cannot complete, and that is the halt
    // again (already told), not a reason to open the breaker.
    let sent = fake.total_requests();
    assert!(!reconcile::reconcile_once(&run.handle, &*run.exchange, &run.metrics).await.unwrap());
    assert_eq!(fake.total_requests(), sent);
    let alerts = run.alerts();
    assert!(!alerts.iter().any(|a| a.starts_with("BreakerOpened")), "{alerts:#?}");
    assert_eq!(alerts.iter().filter(|a| a.starts_with("RateLimitHalt")).count(), 1, "{alerts:#?}");
    run.stop().await;
}
