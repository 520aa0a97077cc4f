//! Market data from the fake's combined kline streams, and the REST warm-up.

#[path = "support/binance_common/mod.rs"]
mod common;
#[path = "support/fake_binance/mod.rs"]
mod fake_binance;

use bert::domain::{Candle, Timestamp};
use bert::exchange::binance::MarketEvent;
use common::{setup, sym};
use fake_binance::{FakeBinance, Push, kline};
use rust_decimal_macros::dec;
use std::time::Duration;
use tokio::sync::mpsc;

async fn next(rx: &mut mpsc::Receiver<MarketEvent>) -> MarketEvent {
    match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        Ok(Some(e)) => e,
        Ok(None) => panic!("channel closed"),
        Err(_) => panic!("no market event within 5 s"),
    }
}

async fn started(fake: &FakeBinance, ex: &bert::exchange::binance::BinanceExchange) -> mpsc::Receiver<MarketEvent> {
    let (tx, mut rx) = mpsc::channel(64);
    ex.start_market_stream(&[sym("BTC"), sym("ETH")], "1d", tx);
    assert_eq!(next(&mut rx).await, MarketEvent::Up);
    assert_eq!(fake.ws_log().market_streams, ["btcusdt@kline_1d", "ethusdt@kline_1d"]);
    rx
}

#[tokio::test]
async fn closed_klines_become_candles_and_updates_become_prices() {
    let (fake, ex) = setup().await;
    let mut rx = started(&fake, &ex).await;
    let day = 1_700_006_400_000i64;
    fake.push(Push::Kline("btcusdt@kline_1d".into(), kline("BTCUSDT", day, "101.5", false)));
    assert_eq!(
        next(&mut rx).await,
        MarketEvent::Price { symbol: sym("BTC"), price: dec!(101.5), time: Timestamp(day + 1000) }
    );
    fake.push(Push::Kline("ethusdt@kline_1d".into(), kline("ETHUSDT", day, "105", true)));
    assert!(matches!(next(&mut rx).await, MarketEvent::Price { .. }));
    let want = Candle {
        open_time: Timestamp(day),
        close_time: Timestamp(day + 86_399_999),
        open: dec!(100),
        high: dec!(110),
        low: dec!(90),
        close: dec!(105),
        volume: dec!(1234.5),
    };
    assert_eq!(next(&mut rx).await, MarketEvent::Candle { symbol: sym("ETH"), candle: want });
    // Streams not subscribed are not delivered.
    fake.push(Push::Kline("solusdt@kline_1d".into(), kline("SOLUSDT", day, "1", true)));
    fake.push(Push::Kline("btcusdt@kline_1d".into(), kline("BTCUSDT", day, "99", false)));
    assert!(matches!(next(&mut rx).await, MarketEvent::Price { symbol, .. } if symbol == sym("BTC")));
}

#[tokio::test]
async fn market_stream_reconnects_and_rotates() {
    let (fake, ex) = setup().await;
    fake.set_ping_every(Duration::from_millis(100));
    let mut rx = started(&fake, &ex).await;
    fake.wait_for("a pong", |f| f.ws_log().pongs.iter().any(|p| p == b"keepalive")).await;
    fake.push(Push::Drop);
    assert!(matches!(next(&mut rx).await, MarketEvent::Down { .. }));
    assert_eq!(next(&mut rx).await, MarketEvent::Up);
    fake.push(Push::ServerShutdown);
    assert_eq!(next(&mut rx).await, MarketEvent::Up, "moved without a gap");
    assert_eq!(fake.ws_log().market_connections, 3);
    fake.push(Push::Silence);
    assert!(matches!(next(&mut rx).await, MarketEvent::Down { reason } if reason.contains("no frame")));
    assert_eq!(next(&mut rx).await, MarketEvent::Up);
    ex.shutdown();
}
