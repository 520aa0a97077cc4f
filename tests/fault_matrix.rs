//! Fault matrix: every exchange fault at every phase of one trade (entry sent, entry partially
//! filled, stop placement, exit), with the real Binance adapter against the fake Binance and
//! the real engine driver, store and reconciliation loop; the end state must equal the
//! fault-free run's for the same phase.
//!
//! The end state compared: the position is closed, what Bert recorded as bought and sold, the
//! exchange's BTC balance, no order left open on the exchange, and no two exchange orders with
//! the same client id. The matrix prints `fault matrix: <passed>/<total> cells` and fails on
//! any failed cell, naming it.

#[path = "support/binance_common/mod.rs"]
mod binance_common;
#[path = "support/fake_binance/mod.rs"]
mod fake_binance;
#[path = "support/fake_telegram/mod.rs"]
mod fake_telegram;

use bert::app::driver::{self, DriverParts, EngineHandle, Metrics, Recipients, SystemClock};
use bert::domain::{Decimal, PositionStatus};
use bert::engine::{Command, Engine, Event, Requester, Settings};
use bert::exchange::binance::BinanceExchange;
use bert::exchange::{Exchange, ExchangeEvent};
use bert::store::Store;
use binance_common::{config, sym};
use fake_binance::{Endpoint, FakeBinance, Fault, Push};
use rust_decimal_macros::dec;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

const TRADER: Requester = Requester { user: 7, chat: 70 };

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    EntrySent,
    EntryPartial,
    StopPlacement,
    Exit,
}

#[derive(Clone, Debug)]
enum ExFault {
    Timeout,
    AcceptThenTimeout,
    ServerError,
    AcceptThen5xx,
    Unknown1007,
    TooMany429,
    Banned418,
    WsDrop,
    WsSilence,
    ServerShutdown,
    Duplicate,
    Reordered,
    Missing,
    ClockSkew,
}

const FAULTS: [ExFault; 14] = [
    ExFault::Timeout,
    ExFault::AcceptThenTimeout,
    ExFault::ServerError,
    ExFault::AcceptThen5xx,
    ExFault::Unknown1007,
    ExFault::TooMany429,
    ExFault::Banned418,
    ExFault::WsDrop,
    ExFault::WsSilence,
    ExFault::ServerShutdown,
    ExFault::Duplicate,
    ExFault::Reordered,
    ExFault::Missing,
    ExFault::ClockSkew,
];

/// The REST fault for a request, if `f` is one.
fn rest_fault(f: &ExFault) -> Option<Fault> {
    let reject = |status: u16, code: i64, msg: &str, retry_after: Option<u64>| Fault::Reject {
        status,
        code,
        msg: msg.into(),
        retry_after,
    };
    Some(match f {
        ExFault::Timeout => Fault::Hang,
        ExFault::AcceptThenTimeout => Fault::AcceptThenHang,
        ExFault::ServerError => reject(503, -1001, "Internal error; unable to process your request.", None),
        ExFault::AcceptThen5xx => Fault::AcceptThenFail { status: 502, body: "<html>Bad Gateway</html>".into() },
        ExFault::Unknown1007 => Fault::AcceptThenFail {
            status: 408,
            body: r#"{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}"#.into(),
        },
        ExFault::TooMany429 => reject(429, -1003, "Too much request weight used", Some(1)),
        ExFault::Banned418 => reject(418, -1003, "Way too much request weight used; IP banned", Some(1)),
        _ => return None,
    })
}

struct Rig {
    fake: FakeBinance,
    exchange: Arc<BinanceExchange>,
    handle: EngineHandle,
    thread: std::thread::JoinHandle<()>,
    store: Arc<Store>,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Rig {
    async fn start() -> Rig {
        let fake = FakeBinance::start().await;
        // Pings often enough for the adapter's short silence timeout (0.4 s in these tests).
        fake.set_ping_every(Duration::from_millis(100));
        let exchange = Arc::new(BinanceExchange::new(config(&fake)).unwrap());
        exchange.prepare(&[sym("BTC")]).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("bert.redb")).unwrap());
        let metrics = Arc::new(Metrics::default());
        let (handle, thread) = driver::start(DriverParts {
            // Bert's waits scaled down (grace for "not found yet" 60 s → 1 s, retries 5 s →
            // 0.2 s) so a cell takes a second; the logic is the same.
            engine: Engine::new(
                Settings { query_grace_ms: 1_000, retry_ms: 200, ..Settings::default() },
                store.instance_tag(),
            ),
            store: store.clone(),
            exchange: exchange.clone(),
            recipients: Recipients { alert_chats: vec![-100] },
            outbox: Arc::new(Notify::new()),
            metrics: metrics.clone(),
            clock: Arc::new(SystemClock),
        });
        let stop = CancellationToken::new();
        // The user stream into the engine; a (re)subscription triggers reconciliation, as in
        // `bert run`.
        let again = Arc::new(Notify::new());
        let (tx, rx) = mpsc::channel::<ExchangeEvent>(256);
        exchange.start_user_stream(tx).await.unwrap();
        tokio::spawn(bert::app::driver::forward_user_events(rx, handle.clone(), again.clone(), stop.clone()));
        tokio::spawn(bert::app::reconcile::run(handle.clone(), exchange.clone(), metrics, again, stop.clone()));
        // Timers: retries and breaker timeouts are driven by ticks.
        let ticker = handle.clone();
        let tick_stop = stop.clone();
        tokio::spawn(async move {
            while !tick_stop.is_cancelled() {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if ticker.send(Event::Tick).await.is_err() {
                    break;
                }
            }
        });
        handle.submit(Event::Filters(exchange.filters(&[sym("BTC")]).await.unwrap())).await.unwrap();
        handle.submit(Event::Balances(exchange.balances().await.unwrap())).await.unwrap();
        handle.submit(Event::Price { symbol: sym("BTC"), price: dec!(50000) }).await.unwrap();
        fake.wait_for("the user stream", |f| f.ws_log().subscribes >= 1).await;
        Rig { fake, exchange, handle, thread, store, stop, _dir: dir }
    }

    async fn stop(self) {
        self.stop.cancel();
        self.exchange.shutdown();
        self.handle.shutdown().await;
        let _ = tokio::task::spawn_blocking(move || self.thread.join()).await;
    }

    fn position(&self) -> Option<bert::domain::Position> {
        self.store.positions_all().unwrap().into_iter().next()
    }

    async fn until(&self, what: &str, limit: Duration, cond: impl Fn(&Rig) -> bool) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        while !cond(self) {
            if Instant::now() > deadline {
                return Err(format!("timed out waiting for {what}; position {:?}", self.position()));
            }
            let _ = self.handle.view().await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }

    fn open_on_exchange(&self, kind: &str) -> usize {
        self.fake.state().orders.iter().filter(|o| o.is_open() && o.kind == kind).count()
    }

    /// Applies a non-REST fault now.
    fn disturb(&self, f: &ExFault) {
        match f {
            ExFault::WsDrop => self.fake.push(Push::Drop),
            ExFault::WsSilence => self.fake.push(Push::Silence),
            ExFault::ServerShutdown => self.fake.push(Push::ServerShutdown),
            ExFault::Duplicate => self.fake.state().duplicate_next_events(3),
            ExFault::Reordered => self.fake.state().reverse_next_events(2),
            ExFault::Missing => self.fake.state().drop_next_events(2),
            ExFault::ClockSkew => self.fake.set_skew_ms(7_000),
            _ => {}
        }
    }
}

/// What must come out the same with and without the fault.
#[derive(Debug, PartialEq, Eq)]
struct EndState {
    status: PositionStatus,
    bought: Decimal,
    sold: Decimal,
    btc_balance: Decimal,
    open_orders: usize,
    duplicate_client_ids: usize,
}

async fn trade(phase: Phase, fault: Option<&ExFault>) -> Result<EndState, String> {
    let rig = Rig::start().await;
    if phase == Phase::EntryPartial {
        rig.fake.set_liquidity("BTCUSDT", Some(dec!(0.1)));
    }
    let rest = fault.and_then(rest_fault);
    // Entry phases: the fault hits the entry request or the stream while it fills.
    if matches!(phase, Phase::EntrySent | Phase::EntryPartial)
        && let Some(f) = fault
    {
        match &rest {
            Some(r) => rig.fake.fault(Endpoint::Place, r.clone()),
            None => rig.disturb(f),
        }
    }
    // Stop placement: the second order request (the entry's passes).
    if phase == Phase::StopPlacement
        && let Some(r) = &rest
    {
        rig.fake.fault(Endpoint::Place, Fault::Pass);
        rig.fake.fault(Endpoint::Place, r.clone());
    }
    let result = async {
        rig.handle
            .submit(Event::Command { from: TRADER, command: Command::Enter(sym("BTC")) })
            .await
            .map_err(|e| e.to_string())?;
        if let Some(f) = fault
            && entry_never_processed(phase, f)
        {
            return rig
                .until("the entry given up", Duration::from_secs(10), |r| {
                    r.position().is_some_and(|p| p.status == PositionStatus::Failed)
                })
                .await;
        }
        if phase == Phase::StopPlacement
            && let Some(f) = fault
            && rest.is_none()
        {
            // As soon as the entry is on the exchange, before the stop.
            let deadline = Instant::now() + Duration::from_secs(5);
            while rig.fake.count("POST", "/api/v3/order") < 1 && Instant::now() < deadline {
                tokio::task::yield_now().await;
            }
            rig.disturb(f);
        }
        rig.until("a protected position", Duration::from_secs(10), |r| {
            r.position().is_some_and(|p| p.status == PositionStatus::Open && p.stop.is_some())
                && r.open_on_exchange("STOP_LOSS_LIMIT") == 1
        })
        .await?;
        if phase == Phase::Exit
            && let Some(f) = fault
        {
            match &rest {
                Some(r) => rig.fake.fault(Endpoint::Place, r.clone()),
                None => rig.disturb(f),
            }
        }
        rig.handle
            .submit(Event::Command { from: TRADER, command: Command::Exit(sym("BTC")) })
            .await
            .map_err(|e| e.to_string())?;
        rig.until("the position closed", Duration::from_secs(10), |r| {
            r.position().is_some_and(|p| p.status == PositionStatus::Closed)
                && r.fake.state().orders.iter().all(|o| !o.is_open())
        })
        .await?;
        Ok::<(), String>(())
    }
    .await;
    let p = rig.position();
    let state = {
        let s = rig.fake.state();
        let ids: HashSet<&str> = s.orders.iter().map(|o| o.client_id.as_str()).collect();
        EndState {
            status: p.as_ref().map_or(PositionStatus::Closed, |p| p.status),
            bought: p.as_ref().map_or(Decimal::ZERO, |p| p.bought_qty),
            sold: p.as_ref().map_or(Decimal::ZERO, |p| p.sold_qty),
            btc_balance: s.balances.get("BTC").map_or(Decimal::ZERO, |b| b.0 + b.1),
            open_orders: s.orders.iter().filter(|o| o.is_open()).count(),
            duplicate_client_ids: s.orders.len() - ids.len(),
        }
    };
    rig.stop().await;
    result.map(|()| state)
}

/// A request the exchange provably never processed, at the entry: the entry is not sent again
/// (its price would be stale; src/engine/mod.rs, "The entry never reached the exchange"), so
/// the expected end is the fault-free run of "no trade": nothing bought, nothing open.
fn entry_never_processed(phase: Phase, f: &ExFault) -> bool {
    matches!(phase, Phase::EntrySent | Phase::EntryPartial)
        && matches!(f, ExFault::Timeout | ExFault::ServerError | ExFault::TooMany429 | ExFault::Banned418)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exchange_fault_at_every_phase_ends_like_the_fault_free_run() {
    if std::env::var("RUST_LOG").is_ok() {
        let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    }
    let phases = [Phase::EntrySent, Phase::EntryPartial, Phase::StopPlacement, Phase::Exit];
    let mut passed = 0;
    let mut failures = Vec::new();
    let started = Instant::now();
    for phase in phases {
        let baseline = trade(phase, None).await.unwrap_or_else(|e| panic!("fault-free {phase:?}: {e}"));
        assert_eq!(baseline.status, PositionStatus::Closed);
        assert!(baseline.bought > Decimal::ZERO && baseline.sold > Decimal::ZERO, "{baseline:?}");
        let no_trade = EndState {
            status: PositionStatus::Failed,
            bought: Decimal::ZERO,
            sold: Decimal::ZERO,
            btc_balance: dec!(1),
            open_orders: 0,
            duplicate_client_ids: 0,
        };
        for f in &FAULTS {
            // `BERT_MATRIX_ONLY=Timeout:EntrySent` runs one cell (with `RUST_LOG` for its logs).
            if let Ok(only) = std::env::var("BERT_MATRIX_ONLY")
                && only != format!("{f:?}:{phase:?}")
            {
                continue;
            }
            let expected = if entry_never_processed(phase, f) { &no_trade } else { &baseline };
            match trade(phase, Some(f)).await {
                Ok(end) if end == *expected => passed += 1,
                Ok(end) => failures.push(format!("{f:?} at {phase:?}: {end:?}, expected {expected:?}")),
                Err(e) => failures.push(format!("{f:?} at {phase:?}: {e}")),
            }
        }
    }
    let total = phases.len() * FAULTS.len();
    println!("fault matrix: {passed}/{total} exchange cells in {:.0} s", started.elapsed().as_secs_f64());
    assert!(failures.is_empty(), "{} failed cells:\n{}", failures.len(), failures.join("\n"));
}

// ----- Telegram faults during alert bursts ------------------------------------------------------

use bert::engine::{Category, Notice};
use bert::store::{OutboxBody, OutboxRow};
use bert::telegram::Outbox;
use bert::telegram::api::BotApi;
use fake_telegram::{FakeTelegram, Fault as TgFault, TOKEN};
use std::collections::{BTreeMap, BTreeSet};

const CHATS: [i64; 3] = [11, -22, -1_000_000_000_033];
const BURST: usize = 12;

/// One alert per (chat, n), recognisable in whatever message carries it (alerts of a backlog
/// may be coalesced into one message).
fn tagged(chat: i64, n: usize) -> OutboxRow {
    let notice = Notice::EntryFailed { symbol: sym("BTC"), reason: Some(format!("tag-{chat}-{n}")) };
    OutboxRow {
        chat,
        category: Category::Fills,
        position: None,
        body: OutboxBody::Notice(notice),
        created_at: bert::domain::Timestamp(0),
        attempts: 0,
    }
}

/// What each chat ended up with: the tags delivered to it, and the dead-lettered rows.
#[derive(Debug, PartialEq, Eq)]
struct Delivered {
    tags: BTreeMap<i64, BTreeSet<String>>,
    dead: usize,
}

/// A burst of alerts to three chats; `fault` hits the second chat's first request, or (when
/// `mid` is set) a request in the middle of the burst.
async fn burst(fault: Option<TgFault>, mid: bool) -> Result<Delivered, String> {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("bert.redb")).unwrap());
    let config = fake_telegram::fast_outbox(20);
    let notify = Arc::new(Notify::new());
    let api = BotApi::new(TOKEN, &fake.url(), config.request_timeout).unwrap();
    let stop = CancellationToken::new();
    let worker = tokio::spawn(Outbox::new(store.clone(), api, config, notify.clone()).run(stop.clone()));
    let target = CHATS[1];
    let inject = |f: &TgFault| match f {
        TgFault::Blocked => fake.fail_chat_always(target, f.clone()),
        other => fake.fail_chat(target, other.clone()),
    };
    if let Some(f) = &fault
        && !mid
    {
        inject(f);
    }
    for n in 0..BURST {
        store.enqueue(CHATS.iter().map(|c| tagged(*c, n)).collect()).unwrap();
        notify.notify_one();
        if n == BURST / 2
            && mid
            && let Some(f) = &fault
        {
            inject(f);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let result = loop {
        if store.outbox_len().unwrap() == 0 {
            break Ok(());
        }
        if Instant::now() > deadline {
            break Err(format!("outbox not drained: {} rows left", store.outbox_len().unwrap()));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    stop.cancel();
    let _ = worker.await;
    result?;
    let mut tags: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for m in fake.sent() {
        for word in m.text.split(|c: char| c.is_whitespace() || c == ')' || c == '(' || c == '.' || c == ',') {
            if word.starts_with("tag-") {
                tags.entry(m.chat).or_default().insert(word.to_string());
            }
        }
    }
    Ok(Delivered { tags, dead: store.dead_letters().unwrap().len() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_telegram_fault_during_a_burst_ends_like_the_fault_free_run() {
    let baseline = burst(None, false).await.expect("fault-free burst");
    assert_eq!(baseline.dead, 0);
    assert!(CHATS.iter().all(|c| baseline.tags.get(c).map(BTreeSet::len) == Some(BURST)), "{baseline:?}");
    let new_chat = -1_000_000_000_777;
    let faults = [
        TgFault::RetryAfter(1),
        TgFault::ServerError,
        TgFault::CantParse,
        TgFault::Migrate(new_chat),
        TgFault::Blocked,
        TgFault::BadRequest("Bad Request: message is too long".into()),
        // Longer than the worker's request timeout (3 s here): Telegram has the message, the
        // worker hears nothing and sends it again; at-least-once, so the end state is the same.
        TgFault::DeliverThenHang(Duration::from_secs(4)),
    ];
    let (mut passed, mut total, mut failures) = (0, 0, Vec::new());
    for fault in &faults {
        // The fault-free end, adjusted for what the fault means: a migrated group's alerts go
        // to its new id; a chat that blocked the bot gets nothing and its rows are dead letters.
        let mut tags = baseline.tags.clone();
        let mut dead = 0;
        match fault {
            TgFault::Migrate(to) => {
                let moved = tags.remove(&CHATS[1]).unwrap_or_default();
                tags.insert(*to, moved);
            }
            TgFault::Blocked => {
                tags.remove(&CHATS[1]);
                dead = BURST;
            }
            _ => {}
        }
        let expected = Delivered { tags, dead };
        for mid in [false, true] {
            total += 1;
            let outcome = burst(Some(fault.clone()), mid).await.map(|mut got| {
                // Mid-burst, a group's first alerts went out before it migrated: what matters
                // is that old and new id together got every alert.
                if let TgFault::Migrate(to) = fault
                    && let Some(before) = got.tags.remove(&CHATS[1])
                {
                    got.tags.entry(*to).or_default().extend(before);
                }
                got
            });
            match outcome {
                Ok(got) if got == expected => passed += 1,
                // A chat that blocked the bot mid-burst has already received the first half.
                Ok(got) if matches!(fault, TgFault::Blocked) && mid && got.dead > 0 && got.dead < BURST => {
                    let mut rest = got.tags.clone();
                    rest.remove(&CHATS[1]);
                    let mut want = expected.tags.clone();
                    want.remove(&CHATS[1]);
                    let delivered = got.tags.get(&CHATS[1]).map_or(0, BTreeSet::len);
                    if rest == want && delivered + got.dead >= BURST {
                        passed += 1;
                    } else {
                        failures.push(format!("{fault:?} mid-burst: {got:?}"));
                    }
                }
                Ok(got) => failures.push(format!("{fault:?} (mid {mid}): {got:?}, expected {expected:?}")),
                Err(e) => failures.push(format!("{fault:?} (mid {mid}): {e}")),
            }
        }
    }
    println!("fault matrix: {passed}/{total} telegram cells");
    assert!(failures.is_empty(), "{} failed cells:\n{}", failures.len(), failures.join("\n"));
}
