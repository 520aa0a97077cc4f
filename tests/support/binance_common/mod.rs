//! Shared set-up for the Binance adapter tests: the real adapter pointed at the fake, with
//! tiny timeouts so fault tests finish in milliseconds.

#![allow(dead_code)]

use super::fake_binance::{API_KEY, FakeBinance, SECRET};
use bert::domain::{
    AssetCode, ClientOrderId, Decimal, Order, OrderKind, OrderRole, PositionId, Side, Symbol, Timestamp,
};
use bert::exchange::binance::{BinanceConfig, BinanceExchange, BinanceMode, BinanceUrls, Secret, StreamConfig};
use std::time::Duration;

pub fn sym(base: &str) -> Symbol {
    Symbol::new(AssetCode::new(base).unwrap(), AssetCode::new("USDT").unwrap())
}

pub fn fast_stream() -> StreamConfig {
    StreamConfig {
        silence_timeout: Duration::from_millis(400),
        backoff_initial: Duration::from_millis(10),
        backoff_max: Duration::from_millis(40),
        stable_after: Duration::from_secs(30),
        rotate_after: Duration::from_secs(3600),
        open_timeout: Duration::from_secs(2),
    }
}

pub fn config(fake: &FakeBinance) -> BinanceConfig {
    let mut c = BinanceConfig::new(BinanceMode::Live, Secret::new(API_KEY), Secret::new(SECRET));
    c.urls = BinanceUrls { rest: fake.rest_url(), ws_api: fake.ws_api_url(), stream: fake.stream_url() };
    c.request_timeout = Duration::from_millis(400);
    c.connect_timeout = Duration::from_millis(400);
    c.max_budget_wait = Duration::from_millis(50);
    c.user_stream = fast_stream();
    c.market_stream = fast_stream();
    c
}

/// A fake and an adapter that has synced its clock and read the filters.
pub async fn setup() -> (FakeBinance, BinanceExchange) {
    let fake = FakeBinance::start().await;
    let ex = BinanceExchange::new(config(&fake)).unwrap();
    ex.prepare(&[sym("BTC"), sym("ETH")]).await.unwrap();
    (fake, ex)
}

/// `prices` is (limit price, stop price).
pub fn order(
    symbol: Symbol,
    kind: OrderKind,
    side: Side,
    role: OrderRole,
    qty: Decimal,
    (price, stop): (Option<Decimal>, Option<Decimal>),
    position: u64,
) -> Order {
    let mut o = Order::intent(
        ClientOrderId::derive("T3st", PositionId(position), role, 1),
        PositionId(position),
        symbol,
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

pub fn entry(symbol: Symbol, qty: Decimal, limit: Decimal, position: u64) -> Order {
    order(symbol, OrderKind::LimitIoc, Side::Buy, OrderRole::Entry, qty, (Some(limit), None), position)
}

pub fn stop(symbol: Symbol, qty: Decimal, stop: Decimal, limit: Decimal, position: u64) -> Order {
    order(symbol, OrderKind::StopLossLimit, Side::Sell, OrderRole::Stop, qty, (Some(limit), Some(stop)), position)
}

pub fn market_sell(symbol: Symbol, qty: Decimal, position: u64) -> Order {
    order(symbol, OrderKind::Market, Side::Sell, OrderRole::Exit, qty, (None, None), position)
}
