//! Binance adapter hot paths: decoding an `executionReport` (target < 1 µs), building and
//! signing an order request (target < 5 µs), and the time from an execution report frame
//! arriving to the position being durable with its alert queued (decode + `Engine::process` +
//! `Store::commit`), p50/p99, next to a bare durable redb commit measured in the same run.

#[path = "support/bare_commit.rs"]
mod bare_commit;

use bare_commit::{BareCommit, percentile};
use bert::domain::{
    AssetCode, Balance, ClientOrderId, Decimal, Fill, Order, OrderKind, OrderReport, OrderRole, OrderStatus,
    PositionId, Side, Symbol, SymbolFilters, Timestamp,
};
use bert::engine::{Command, Effects, Engine, Event, Notice, Request, Requester, Settings};
use bert::exchange::ExchangeEvent;
use bert::exchange::binance::request::new_order;
use bert::exchange::binance::sign::{Secret, Signer};
use bert::exchange::binance::symbols::SymbolMap;
use bert::exchange::binance::wire::{UserEvent, UserFrame};
use bert::exchange::binance::wire::{decode_execution_report, decode_user_frame};
use bert::store::Store;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// A TRADE report as Binance sends it (every field, including the conditional ones Bert
/// ignores).
const TRADE_EVENT: &str = r#"{"e":"executionReport","E":1719467634107,"s":"BTCUSDT","c":"bK3x9Q-16-e1","S":"BUY","o":"LIMIT","f":"IOC","q":"0.01000000","p":"50100.00000000","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":32,"l":"0.00400000","z":"0.00400000","L":"50000.00000000","n":"0.00000400","N":"BTC","T":1719467634105,"t":7,"I":63,"w":false,"m":false,"M":true,"O":1719467634105,"Z":"200.00000000","Y":"200.00000000","Q":"0.00000000","W":1719467634105,"V":"EXPIRE_MAKER"}"#;

fn btc() -> Symbol {
    Symbol::new(AssetCode::new("BTC").unwrap(), AssetCode::new("USDT").unwrap())
}

fn decode(c: &mut Criterion) {
    let symbols = SymbolMap::new();
    symbols.learn(btc());
    let frame = format!(r#"{{"subscriptionId":0,"event":{TRADE_EVENT}}}"#);
    assert!(decode_execution_report(TRADE_EVENT, &symbols).is_ok());
    // Criterion's mean counts every time this shared 2-core machine let another process run;
    // the best of many short batches is what the code costs when it has a core to itself.
    let best = |f: &dyn Fn()| {
        (0..200)
            .map(|_| {
                let t0 = Instant::now();
                for _ in 0..2_000 {
                    f();
                }
                t0.elapsed() / 2_000
            })
            .min()
            .unwrap_or_default()
    };
    println!(
        "executionReport decode, best of 200 batches of 2000: event object {:?}, WebSocket frame {:?}",
        best(&|| {
            black_box(decode_execution_report(black_box(TRADE_EVENT), &symbols).is_ok());
        }),
        best(&|| {
            black_box(decode_user_frame(black_box(&frame), &symbols).is_ok());
        })
    );
    c.bench_function("executionReport decode (event object)", |b| {
        b.iter(|| decode_execution_report(black_box(TRADE_EVENT), &symbols))
    });
    c.bench_function("executionReport decode (WebSocket frame, envelope included)", |b| {
        b.iter(|| decode_user_frame(black_box(&frame), &symbols))
    });
}

fn sign(c: &mut Criterion) {
    let signer = Signer::new(&Secret::new("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"));
    let d = |s: &str| Decimal::from_str(s).unwrap();
    let mut order = Order::intent(
        ClientOrderId::derive("K3x9Q", PositionId(42), OrderRole::Stop, 1),
        PositionId(42),
        btc(),
        Side::Sell,
        OrderKind::StopLossLimit,
        OrderRole::Stop,
        d("0.01234"),
        Timestamp(0),
    );
    order.price = Some(d("42000.10"));
    order.stop_price = Some(d("42100.50"));
    let build_sign = || {
        let mut q = new_order(black_box(&order)).unwrap();
        q.push("recvWindow", "5000").push("timestamp", "1719467634105");
        let signature = signer.sign_rest(q.as_str(), "");
        q.push("signature", &signature);
        q
    };
    let best = (0..200)
        .map(|_| {
            let t0 = Instant::now();
            for _ in 0..1_000 {
                black_box(build_sign());
            }
            t0.elapsed() / 1_000
        })
        .min()
        .unwrap_or_default();
    println!("order request build + sign, best of 200 batches of 1000: {best:?}");
    c.bench_function("order request build + sign", |b| {
        b.iter(|| {
            let mut q = new_order(black_box(&order)).unwrap();
            q.push("recvWindow", "5000").push("timestamp", "1719467634105");
            let signature = signer.sign_rest(q.as_str(), "");
            q.push("signature", &signature);
            q
        })
    });
}

const TRADER: Requester = Requester { user: 7, chat: 70 };
const ALERTS: i64 = -100;

/// An engine and its store, driven through whole trades: each trade's entry fill arrives as a
/// WebSocket frame, and only that step is timed.
struct Desk {
    engine: Engine,
    store: Store,
    now: i64,
    trade_id: u64,
    order_id: u64,
}

impl Desk {
    fn new(path: &std::path::Path) -> Desk {
        let store = Store::open(path).expect("open store");
        let mut engine = Engine::new(Settings::default(), store.instance_tag());
        let d = |s: &str| Decimal::from_str(s).unwrap();
        let usdt = AssetCode::new("USDT").unwrap();
        engine.process(
            &Event::Filters(vec![(btc(), SymbolFilters::typical(d("0.01"), d("0.00001"), d("5")))]),
            Timestamp(0),
        );
        engine
            .process(&Event::Balances(vec![Balance { asset: usdt, free: d("100000"), locked: d("0") }]), Timestamp(0));
        engine.process(&Event::Price { symbol: btc(), price: d("50000") }, Timestamp(0));
        Desk { engine, store, now: 1_719_467_634_000, trade_id: 1, order_id: 1 }
    }

    /// Processes and commits one event, as the driver does; returns the effects.
    fn step(&mut self, event: &Event) -> Effects {
        self.now += 1_000;
        let now = Timestamp(self.now);
        let fx = self.engine.process(event, now);
        self.store.commit(now, event, &fx, &|_| vec![ALERTS, TRADER.chat]).expect("commit");
        fx
    }

    fn placed(&self, fx: &Effects) -> Option<Order> {
        fx.requests.iter().find_map(|r| match r {
            Request::Place(o) => Some((**o).clone()),
            _ => None,
        })
    }

    fn report(&mut self, order: &Order, status: OrderStatus, fill: Option<(Decimal, Decimal)>) -> OrderReport {
        self.order_id += 1;
        let fill = fill.map(|(qty, price)| {
            self.trade_id += 1;
            Fill {
                trade_id: self.trade_id,
                price,
                qty,
                fee: Decimal::ZERO,
                fee_asset: AssetCode::new("USDT").unwrap(),
                time: Timestamp(self.now),
            }
        });
        OrderReport {
            symbol: order.symbol,
            client_id: order.client_id.clone(),
            exchange_id: Some(self.order_id),
            status,
            cum_qty: fill.as_ref().map(|f| f.qty).unwrap_or_default(),
            cum_quote: fill.as_ref().map(|f| f.qty * f.price).unwrap_or_default(),
            fill,
            reason: None,
            time: Timestamp(self.now),
        }
    }

    /// One whole trade; returns the time from the entry's fill frame arriving to its effects
    /// being durable (decode + process + commit).
    fn trade(&mut self, symbols: &SymbolMap) -> Duration {
        let fx = self.step(&Event::Command { from: TRADER, command: Command::Enter(btc()) });
        assert!(fx.messages.iter().any(|m| matches!(m.notice, Notice::EntryPlaced { .. })), "entry refused");
        let entry = self.placed(&fx).expect("the entry request");
        self.trade_id += 1;
        self.order_id += 1;
        let frame = format!(
            r#"{{"subscriptionId":0,"event":{{"e":"executionReport","E":{now},"s":"BTCUSDT","c":"{cid}","S":"BUY","o":"LIMIT","f":"IOC","q":"{q}","p":"50250.00","P":"0.00","F":"0.00","g":-1,"C":"","x":"TRADE","X":"FILLED","r":"NONE","i":{oid},"l":"{q}","z":"{q}","L":"50000.00","n":"0.00000000","N":"BNB","T":{now},"t":{tid},"I":63,"w":false,"m":false,"M":true,"O":{now},"Z":"{quote}","Y":"{quote}","Q":"0.00","W":{now},"V":"NONE"}}}}"#,
            now = self.now,
            cid = entry.client_id,
            q = entry.quantity,
            oid = self.order_id,
            tid = self.trade_id,
            quote = entry.quantity * Decimal::from(50_000),
        );

        // Timed: the frame is decoded, the engine applies the fill, the position, the fill
        // alert and the stop request commit in one durable transaction.
        let t0 = Instant::now();
        let Ok(UserFrame::Event { event: UserEvent::Order(report), .. }) =
            decode_user_frame(black_box(&frame), symbols)
        else {
            panic!("the frame did not decode")
        };
        let fx = self.step(&Event::Exchange(ExchangeEvent::Order(report)));
        let took = t0.elapsed();
        assert!(fx.messages.iter().any(|m| matches!(m.notice, Notice::EntryFill { .. })), "fill not applied");

        // Untimed: the stop rests, the trader exits, the stop is cancelled, the sell fills.
        let stop = self.placed(&fx).expect("the stop request");
        let r = self.report(&stop, OrderStatus::New, None);
        self.step(&Event::Placed { client_id: stop.client_id.clone(), result: Ok(r) });
        self.step(&Event::Command { from: TRADER, command: Command::Exit(btc()) });
        let r = self.report(&stop, OrderStatus::Canceled, None);
        let fx = self.step(&Event::Canceled { client_id: stop.client_id.clone(), result: Ok(r) });
        let exit = self.placed(&fx).expect("the exit request");
        let r = self.report(&exit, OrderStatus::Filled, Some((exit.quantity, Decimal::from(50_000))));
        let fx = self.step(&Event::Exchange(ExchangeEvent::Order(r)));
        assert!(fx.messages.iter().any(|m| matches!(m.notice, Notice::PositionClosed { .. })), "trade not closed");
        took
    }
}

fn frame_to_durable(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let symbols = SymbolMap::new();
    symbols.learn(btc());
    let mut desk = Desk::new(&dir.path().join("desk.redb"));
    const TRADES: usize = 300;
    let mut lat: Vec<Duration> = (0..TRADES).map(|_| desk.trade(&symbols)).collect();
    lat.sort();

    // The baseline: a bare durable redb commit of one row of the journal entry's size, in a
    // file of its own, measured in the same run on the same disk.
    let mut bare_commit = BareCommit::new(&dir.path().join("bare.redb"), 1024);
    let bare = bare_commit.latencies(TRADES);
    let (f50, f99, b50, b99) =
        (percentile(&lat, 0.5), percentile(&lat, 0.99), percentile(&bare, 0.5), percentile(&bare, 0.99));
    println!(
        "execution report frame → durable position + queued alert: {TRADES} fills, p50 {f50:?}, p99 {f99:?}; \
         bare durable redb commit (1 KiB): p50 {b50:?}, p99 {b99:?}; ratio p50 {:.2}, p99 {:.2}",
        f50.as_secs_f64() / b50.as_secs_f64().max(1e-12),
        f99.as_secs_f64() / b99.as_secs_f64().max(1e-12)
    );

    let mut group = c.benchmark_group("frame_to_durable");
    group.sample_size(10);
    group.bench_function("execution report frame → durable", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| desk.trade(&symbols)).sum())
    });
    group.bench_function("bare durable redb commit (1 KiB)", |b| b.iter(|| bare_commit.commit()));
    group.finish();
}

criterion_group!(benches, decode, sign, frame_to_durable);
criterion_main!(benches);
