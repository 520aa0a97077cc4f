//! The engine thread over a paper exchange, wired as `bert run` wires it in paper mode, for tests
//! of what stands in front of the engine (the bot, its views, the authorization gate): one
//! BTC/USDT market with typical filters at 30 000, 10 000 USDT, the user stream forwarded into
//! the engine, and the filters, balances and price submitted before the test begins.

#![allow(dead_code)] // each test file uses a different part

use bert::app::driver::{self, Clock, DriverParts, EngineHandle, Metrics, Recipients};
use bert::domain::{AssetCode, Symbol, SymbolFilters, Timestamp};
use bert::engine::{Engine, Event, Settings};
use bert::exchange::Exchange;
use bert::exchange::paper::{PaperBook, PaperConfig, PaperExchange};
use bert::store::Store;
use rust_decimal_macros::dec;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub fn usdt() -> AssetCode {
    AssetCode::new("USDT").unwrap()
}

pub fn btc() -> Symbol {
    Symbol::parse("BTC", usdt()).unwrap()
}

pub struct PaperEngine {
    pub handle: EngineHandle,
    pub exchange: Arc<PaperExchange>,
    /// Wakes the outbox worker when the engine queued messages.
    pub outbox: Arc<Notify>,
}

pub async fn start(store: Arc<Store>, settings: Settings, alert_chats: Vec<i64>, clock: Arc<dyn Clock>) -> PaperEngine {
    let mut book = PaperBook::new(PaperConfig::default());
    book.list_symbol(btc(), SymbolFilters::typical(dec!(0.01), dec!(0.00001), dec!(5)));
    book.deposit(usdt(), dec!(10000));
    book.set_price(btc(), dec!(30000), Timestamp(0));
    let exchange = Arc::new(PaperExchange::new(book));
    let outbox = Arc::new(Notify::new());
    let (handle, _thread) = driver::start(DriverParts {
        engine: Engine::new(settings, store.instance_tag()),
        store,
        exchange: exchange.clone(),
        recipients: Recipients { alert_chats },
        outbox: outbox.clone(),
        metrics: Arc::new(Metrics::default()),
        clock,
    });
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    exchange.start_user_stream(tx).await.unwrap();
    tokio::spawn(driver::forward_user_events(rx, handle.clone(), Arc::new(Notify::new()), CancellationToken::new()));
    handle.submit(Event::Filters(exchange.filters(&[btc()]).await.unwrap())).await.unwrap();
    handle.submit(Event::Balances(exchange.balances().await.unwrap())).await.unwrap();
    handle.submit(Event::Price { symbol: btc(), price: dec!(30000) }).await.unwrap();
    PaperEngine { handle, exchange, outbox }
}
