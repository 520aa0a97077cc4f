//! The user data stream over the fake's WebSocket API: subscription, events as domain
//! events, ping/pong, silence, drops, shutdown notices, termination, rotation.

#[path = "support/binance_common/mod.rs"]
mod common;
#[path = "support/fake_binance/mod.rs"]
mod fake_binance;

use bert::domain::{OrderReport, OrderStatus};
use bert::exchange::binance::{BinanceExchange, Secret};
use bert::exchange::{Exchange, ExchangeError, ExchangeEvent};
use common::{config, entry, setup, stop, sym};
use fake_binance::{FakeBinance, Push, SubscribeRejection};
use rust_decimal_macros::dec;
use std::time::Duration;
use tokio::sync::mpsc;

async fn next(rx: &mut mpsc::Receiver<ExchangeEvent>) -> ExchangeEvent {
    match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        Ok(Some(e)) => e,
        Ok(None) => panic!("event channel closed"),
        Err(_) => panic!("no event within 5 s"),
    }
}

/// The next order report, skipping balance updates.
async fn next_order(rx: &mut mpsc::Receiver<ExchangeEvent>) -> OrderReport {
    loop {
        match next(rx).await {
            ExchangeEvent::Order(r) => return r,
            ExchangeEvent::Balances(_) => {}
            other => panic!("expected an order report, got {other:?}"),
        }
    }
}

async fn started_with(fake: &FakeBinance, ex: &BinanceExchange) -> mpsc::Receiver<ExchangeEvent> {
    let (tx, mut rx) = mpsc::channel(256);
    ex.start_user_stream(tx).await.unwrap();
    assert_eq!(next(&mut rx).await, ExchangeEvent::StreamUp);
    assert_eq!(fake.ws_log().subscribes, 1);
    rx
}

async fn started() -> (FakeBinance, BinanceExchange, mpsc::Receiver<ExchangeEvent>) {
    let (fake, ex) = setup().await;
    fake.set_ping_every(Duration::from_millis(100));
    let rx = started_with(&fake, &ex).await;
    (fake, ex, rx)
}

#[tokio::test]
async fn execution_reports_arrive_as_domain_events() {
    let (fake, ex, mut rx) = started().await;
    let o = entry(sym("BTC"), dec!(0.01), dec!(50100), 1);
    let placed = ex.place(&o).await.unwrap();

    let new = next_order(&mut rx).await;
    assert_eq!((new.status, &new.client_id, new.exchange_id), (OrderStatus::New, &o.client_id, placed.exchange_id));
    let trade = next_order(&mut rx).await;
    assert_eq!((trade.status, trade.cum_qty, trade.cum_quote), (OrderStatus::Filled, dec!(0.01), dec!(500)));
    let fill = trade.fill.clone().unwrap();
    assert_eq!(
        (fill.price, fill.qty, fill.fee, fill.fee_asset.as_str()),
        (dec!(50000), dec!(0.01), dec!(0.00001), "BTC")
    );
    // The same trade id as myTrades: the engine's de-duplication key across sources.
    let trades = ex.trades(sym("BTC"), placed.exchange_id.unwrap()).await.unwrap();
    assert_eq!(trades[0].fill.trade_id, fill.trade_id);
    match next(&mut rx).await {
        ExchangeEvent::Balances(b) => assert!(b.iter().any(|b| b.asset.as_str() == "USDT" && b.free == dec!(99500))),
        other => panic!("{other:?}"),
    }
    fake.assert_no_signature_errors();
}

#[tokio::test]
async fn cancel_and_stop_reports_name_the_original_order() {
    let (fake, ex, mut rx) = started().await;
    let s = stop(sym("BTC"), dec!(0.5), dec!(45000), dec!(44900), 2);
    ex.place(&s).await.unwrap();
    assert_eq!(next_order(&mut rx).await.status, OrderStatus::New);
    ex.cancel(sym("BTC"), &s.client_id).await.unwrap();
    let c = next_order(&mut rx).await;
    assert_eq!((c.status, &c.client_id), (OrderStatus::Canceled, &s.client_id));

    // A stop that triggers and fills.
    let s2 = stop(sym("BTC"), dec!(0.5), dec!(45000), dec!(44900), 3);
    ex.place(&s2).await.unwrap();
    assert_eq!(next_order(&mut rx).await.status, OrderStatus::New);
    fake.set_price("BTCUSDT", dec!(44990));
    let filled = next_order(&mut rx).await;
    assert_eq!((filled.status, &filled.client_id), (OrderStatus::Filled, &s2.client_id));
    assert_eq!(filled.fill.unwrap().price, dec!(44990));
}

#[tokio::test]
async fn pings_are_answered_with_the_same_payload() {
    let (fake, _ex, _rx) = started().await;
    fake.push(Push::Ping(b"payload-42".to_vec()));
    fake.wait_for("the pong", |f| f.ws_log().pongs.iter().any(|p| p == b"payload-42")).await;
    // The fake's periodic pings are answered too.
    fake.wait_for("keepalive pongs", |f| f.ws_log().pongs.iter().any(|p| p == b"keepalive")).await;
}

#[tokio::test]
async fn silence_means_reconnect_and_stream_up_again() {
    let (fake, ex, mut rx) = started().await;
    fake.push(Push::Silence);
    match next(&mut rx).await {
        ExchangeEvent::StreamDown { reason } => assert!(reason.contains("no frame"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(next(&mut rx).await, ExchangeEvent::StreamUp);
    assert_eq!(fake.ws_log().subscribes, 2);
    // Events flow on the new connection.
    ex.place(&entry(sym("BTC"), dec!(0.01), dec!(50100), 4)).await.unwrap();
    assert_eq!(next_order(&mut rx).await.status, OrderStatus::New);
}

#[tokio::test]
async fn dropped_connection_reconnects() {
    let (fake, _ex, mut rx) = started().await;
    fake.push(Push::Drop);
    assert!(matches!(next(&mut rx).await, ExchangeEvent::StreamDown { .. }));
    assert_eq!(next(&mut rx).await, ExchangeEvent::StreamUp);
    assert_eq!(fake.ws_log().subscribes, 2);
}

#[tokio::test]
async fn event_stream_terminated_resubscribes() {
    let (fake, _ex, mut rx) = started().await;
    fake.push(Push::Terminate);
    match next(&mut rx).await {
        ExchangeEvent::StreamDown { reason } => assert!(reason.contains("eventStreamTerminated"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(next(&mut rx).await, ExchangeEvent::StreamUp);
    assert_eq!(fake.ws_log().subscribes, 2);
}

/// `serverShutdown`: a new connection is opened and subscribed before the old one goes, so
/// the stream never reports down.
#[tokio::test]
async fn server_shutdown_moves_to_a_new_connection_without_a_gap() {
    let (fake, ex, mut rx) = started().await;
    fake.push(Push::ServerShutdown);
    assert_eq!(next(&mut rx).await, ExchangeEvent::StreamUp, "no StreamDown before the new connection");
    assert_eq!(fake.ws_log().subscribes, 2);
    fake.wait_for("the old connection to close", |f| f.ws_log().open_user_connections == 1).await;
    ex.place(&entry(sym("BTC"), dec!(0.01), dec!(50100), 5)).await.unwrap();
    assert_eq!(next_order(&mut rx).await.status, OrderStatus::New);
    assert_eq!(next_order(&mut rx).await.status, OrderStatus::Filled);
}

/// Rotation before Binance's 24 h limit (here: after 300 ms), with no gap.
#[tokio::test]
async fn connections_rotate_before_the_24h_limit() {
    let fake = FakeBinance::start().await;
    fake.set_ping_every(Duration::from_millis(100));
    let mut c = config(&fake);
    c.user_stream.rotate_after = Duration::from_millis(300);
    let ex = BinanceExchange::new(c).unwrap();
    ex.prepare(&[sym("BTC")]).await.unwrap();
    let mut rx = started_with(&fake, &ex).await;
    for _ in 0..2 {
        assert_eq!(next(&mut rx).await, ExchangeEvent::StreamUp);
    }
    assert!(fake.ws_log().subscribes >= 3);
    fake.wait_for("one live connection", |f| f.ws_log().open_user_connections <= 2).await;
}

#[tokio::test]
async fn duplicated_and_reordered_reports_are_passed_through() {
    let (fake, ex, mut rx) = started().await;
    fake.state().duplicate_next_events(2);
    let o = entry(sym("BTC"), dec!(0.01), dec!(50100), 6);
    ex.place(&o).await.unwrap();
    let statuses: Vec<OrderStatus> =
        [next_order(&mut rx).await, next_order(&mut rx).await, next_order(&mut rx).await, next_order(&mut rx).await]
            .iter()
            .map(|r| r.status)
            .collect();
    assert_eq!(statuses, [OrderStatus::New, OrderStatus::New, OrderStatus::Filled, OrderStatus::Filled]);
    assert!(matches!(next(&mut rx).await, ExchangeEvent::Balances(_)));

    // NEW, TRADE, account update → delivered in reverse.
    fake.state().reverse_next_events(3);
    let o = entry(sym("BTC"), dec!(0.01), dec!(50100), 7);
    ex.place(&o).await.unwrap();
    assert!(matches!(next(&mut rx).await, ExchangeEvent::Balances(_)));
    assert_eq!(next_order(&mut rx).await.status, OrderStatus::Filled);
    assert_eq!(next_order(&mut rx).await.status, OrderStatus::New);
}

#[tokio::test]
async fn shutdown_stops_the_stream() {
    let (fake, ex, mut rx) = started().await;
    ex.shutdown();
    fake.wait_for("the connection to close", |f| f.ws_log().open_user_connections == 0).await;
    let end = tokio::time::timeout(Duration::from_secs(5), async { while rx.recv().await.is_some() {} }).await;
    assert!(end.is_ok(), "the stream task kept its sender");
}

#[tokio::test]
async fn closed_sink_stops_the_stream() {
    let (fake, _ex, rx) = started().await;
    drop(rx);
    fake.wait_for("the connection to close", |f| f.ws_log().open_user_connections == 0).await;
}

#[tokio::test]
async fn refused_subscription_reports_down_with_the_reason() {
    let fake = FakeBinance::start().await;
    let mut c = config(&fake);
    c.api_secret = Secret::new("not-the-secret");
    let ex = BinanceExchange::new(c).unwrap();
    let (tx, mut rx) = mpsc::channel(16);
    ex.start_user_stream(tx).await.unwrap();
    match next(&mut rx).await {
        ExchangeEvent::StreamDown { reason } => assert!(reason.contains("-1022"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Reported once per outage, while it keeps retrying with backoff.
    fake.wait_for("retries", |f| f.ws_log().bad_subscribes >= 3).await;
    assert!(rx.try_recv().is_err());
    ex.shutdown();
}

#[tokio::test]
async fn rate_limited_subscription_halts_all_requests() {
    let fake = FakeBinance::start().await;
    let ex = BinanceExchange::new(config(&fake)).unwrap();
    let until = bert::domain::Timestamp::now().millis() + 60_000;
    *fake.shared.reject_subscribe.lock().unwrap() = Some(SubscribeRejection {
        status: 429,
        code: -1003,
        msg: "Too many requests.".into(),
        retry_after_ms: Some(until),
    });
    let (tx, mut rx) = mpsc::channel(16);
    ex.start_user_stream(tx).await.unwrap();
    assert!(matches!(next(&mut rx).await, ExchangeEvent::StreamDown { .. }));
    assert!(matches!(ex.balances().await, Err(ExchangeError::RateLimited { .. })));
    assert_eq!(fake.count("GET", "/api/v3/account"), 0);
    ex.shutdown();
}

#[tokio::test]
async fn no_credentials_no_stream() {
    let fake = FakeBinance::start().await;
    let mut c = config(&fake);
    c.api_key = Secret::new("");
    let ex = BinanceExchange::new(c).unwrap();
    let (tx, _rx) = mpsc::channel(1);
    assert!(matches!(ex.start_user_stream(tx).await, Err(ExchangeError::Unavailable { .. })));
}
