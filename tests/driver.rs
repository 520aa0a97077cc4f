//! The live driver: engine thread + redb store + an exchange behind the async trait (the paper
//! exchange), as `bert run` assembles them.

use bert::app::driver::{self, DriverParts, EngineHandle, Metrics, Recipients, SystemClock};
use bert::domain::{AssetCode, OrderRole, OrderStatus, PositionStatus, Symbol, SymbolFilters, Timestamp};
use bert::engine::{Command, Engine, Event, Notice, Requester, Settings};
use bert::exchange::paper::{PaperBook, PaperConfig, PaperExchange};
use bert::exchange::{Exchange, ExchangeEvent};
use bert::store::{OutboxBody, Store};
use rust_decimal_macros::dec;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

const TRADER: Requester = Requester { user: 7, chat: 70 };
const ALERTS: i64 = -100;

fn btc() -> Symbol {
    Symbol::parse("BTC", AssetCode::new("USDT").unwrap()).unwrap()
}

fn book() -> PaperBook {
    let mut b = PaperBook::new(PaperConfig::default());
    b.list_symbol(btc(), SymbolFilters::typical(dec!(0.01), dec!(0.00001), dec!(5)));
    b.deposit(AssetCode::new("USDT").unwrap(), dec!(10000));
    b.set_price(btc(), dec!(30000), Timestamp(0));
    b
}

struct Running {
    handle: EngineHandle,
    thread: std::thread::JoinHandle<()>,
    store: Arc<Store>,
}

/// Starts the driver over `store` and `exchange`, with the exchange's user stream forwarded
/// into the engine, the way `bert run` does.
async fn start(store: Arc<Store>, exchange: Arc<PaperExchange>, engine: Engine) -> Running {
    let parts = DriverParts {
        engine,
        store: store.clone(),
        exchange: exchange.clone(),
        recipients: Recipients { alert_chats: vec![ALERTS] },
        outbox: Arc::new(Notify::new()),
        metrics: Arc::new(Metrics::default()),
        clock: Arc::new(SystemClock),
    };
    let (handle, thread) = driver::start(parts);
    let (tx, rx) = mpsc::channel::<ExchangeEvent>(256);
    exchange.start_user_stream(tx).await.unwrap();
    tokio::spawn(driver::forward_user_events(rx, handle.clone(), Arc::new(Notify::new()), CancellationToken::new()));
    let filters = exchange.filters(&[btc()]).await.unwrap();
    handle.submit(Event::Filters(filters)).await.unwrap();
    handle.submit(Event::Balances(exchange.balances().await.unwrap())).await.unwrap();
    handle.submit(Event::Price { symbol: btc(), price: dec!(30000) }).await.unwrap();
    Running { handle, thread, store }
}

/// Waits (bounded) until the engine shows an open BTC position protected by a stop.
async fn wait_protected(handle: &EngineHandle, store: &Store) {
    for _ in 0..500 {
        let snapshot = store.load().unwrap();
        let protected = snapshot.positions.iter().any(|p| p.status == PositionStatus::Open && p.stop.is_some())
            && snapshot.orders.iter().any(|o| o.role == OrderRole::Stop && o.status == OrderStatus::New);
        if protected {
            return;
        }
        let _ = handle.view().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the position never got its stop: {:?}", store.load().unwrap().orders);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_through_the_driver_is_durable_and_restart_does_not_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bert.redb");
    let store = Arc::new(Store::open(&path).unwrap());
    let exchange = Arc::new(PaperExchange::new(book()));
    let tag = store.instance_tag().to_string();
    let run = start(store.clone(), exchange.clone(), Engine::new(Settings::default(), &tag)).await;

    let replies = run.handle.submit(Event::Command { from: TRADER, command: Command::Enter(btc()) }).await.unwrap();
    assert!(replies.iter().any(|m| matches!(m.notice, Notice::EntryPlaced { .. })), "{replies:?}");
    wait_protected(&run.handle, &run.store).await;

    // Alerts went to the alert chat and to the trader's chat, in the same transactions as the
    // state: entry placed, the fill, the stop placed.
    let rows = run.store.outbox_peek(100).unwrap();
    let notices_for = |chat: i64| -> Vec<String> {
        rows.iter()
            .filter(|(_, r)| r.chat == chat)
            .filter_map(|(_, r)| match &r.body {
                OutboxBody::Notice(n) => Some(format!("{n:?}")),
                _ => None,
            })
            .collect()
    };
    for chat in [ALERTS, TRADER.chat] {
        let n = notices_for(chat);
        assert!(n.iter().any(|s| s.starts_with("EntryPlaced")), "{chat}: {n:?}");
        assert!(n.iter().any(|s| s.starts_with("EntryFill")), "{chat}: {n:?}");
        assert!(n.iter().any(|s| s.starts_with("StopPlaced")), "{chat}: {n:?}");
    }
    let journal = run.store.journal_json_lines(0).unwrap();
    assert!(journal.iter().any(|l| l.contains("\"Place\"")), "the request is journaled");

    // Shut down and start again on the same database and the same exchange.
    run.handle.shutdown().await;
    run.thread.join().unwrap();
    let orders_before = exchange.open_orders(None).await.unwrap();
    assert_eq!(orders_before.len(), 1, "the stop rests on the exchange");
    // Every holder of the database is gone: the engine thread's copy ended with the thread.
    drop(run.store);
    drop(store);
    let store = Arc::new(Store::open(&path).unwrap());
    let snapshot = store.load().unwrap();
    let engine = Engine::restore(Settings::default(), &tag, snapshot);
    let run = start(store.clone(), exchange.clone(), engine).await;
    run.handle.submit(Event::Started).await.unwrap();
    // Restart asks about the open stop; it places nothing new.
    for _ in 0..50 {
        let _ = run.handle.view().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let orders_after = exchange.open_orders(None).await.unwrap();
    let ids = |v: &[bert::domain::OrderReport]| v.iter().map(|o| (o.client_id.clone(), o.status)).collect::<Vec<_>>();
    assert_eq!(ids(&orders_after), ids(&orders_before), "no order placed again after the restart");
    let view = run.handle.view().await.unwrap();
    assert_eq!(view.positions.len(), 1);
    assert!(view.positions[0].stop_price.is_some());

    // A second /enter on the open symbol is refused, not placed.
    let replies = run.handle.submit(Event::Command { from: TRADER, command: Command::Enter(btc()) }).await.unwrap();
    assert!(replies.iter().any(|m| matches!(m.notice, Notice::Refused(_))), "{replies:?}");
    run.handle.shutdown().await;
    run.thread.join().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_store_on_the_same_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bert.redb");
    let _first = Store::open(&path).unwrap();
    let Err(err) = Store::open(&path) else { panic!("second open must fail") };
    assert!(err.to_string().contains("another Bert is already using"), "{err}");
}
