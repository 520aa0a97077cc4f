//! The real Binance adapter against the fake Binance over REST: orders, queries, unknown
//! outcomes, rejections, rate limits, clock skew, filters and klines.

#[path = "support/binance_common/mod.rs"]
mod common;
#[path = "support/fake_binance/mod.rs"]
mod fake_binance;

use bert::domain::{Clock, ManualClock, OrderStatus, Side, Timestamp};
use bert::exchange::binance::{BinanceExchange, BinanceMode};
use bert::exchange::{Exchange, ExchangeError};
use common::{config, entry, market_sell, setup, stop, sym};
use fake_binance::{Endpoint, FakeBinance, Fault, RateLimitSpec, SECRET};
use rust_decimal_macros::dec;
use std::sync::Arc;

#[tokio::test]
async fn limit_ioc_entry_fills_and_is_queryable() {
    let (fake, ex) = setup().await;
    let o = entry(sym("BTC"), dec!(0.01), dec!(50100), 1);
    let r = ex.place(&o).await.unwrap();
    assert_eq!(r.status, OrderStatus::Filled);
    assert_eq!(r.client_id, o.client_id);
    assert_eq!((r.cum_qty, r.cum_quote), (dec!(0.01), dec!(500)));
    let p = fake.last_params("/api/v3/order").unwrap();
    assert_eq!(p["type"], "LIMIT");
    assert_eq!(p["timeInForce"], "IOC");
    assert_eq!(p["price"], "50100");
    assert_eq!(p["quantity"], "0.01");
    assert_eq!(p["newClientOrderId"], o.client_id.as_str());
    assert_eq!(p["newOrderRespType"], "RESULT");
    assert_eq!(p["recvWindow"], "5000");

    let q = ex.query(sym("BTC"), &o.client_id).await.unwrap();
    assert_eq!((q.status, q.cum_qty, q.exchange_id), (OrderStatus::Filled, dec!(0.01), r.exchange_id));

    let trades = ex.trades(sym("BTC"), r.exchange_id.unwrap()).await.unwrap();
    assert_eq!(trades.len(), 1);
    assert_eq!((trades[0].side, trades[0].fill.price, trades[0].fill.qty), (Side::Buy, dec!(50000), dec!(0.01)));
    assert_eq!((trades[0].fill.fee, trades[0].fill.fee_asset.as_str()), (dec!(0.00001), "BTC"));

    let balances = ex.balances().await.unwrap();
    let usdt = balances.iter().find(|b| b.asset.as_str() == "USDT").unwrap();
    assert_eq!(usdt.free, dec!(99500));
    fake.assert_no_signature_errors();
}

#[tokio::test]
async fn partial_ioc_fill_ends_expired_with_the_filled_quantity() {
    let (fake, ex) = setup().await;
    fake.set_liquidity("BTCUSDT", Some(dec!(0.004)));
    let o = entry(sym("BTC"), dec!(0.01), dec!(50100), 2);
    let r = ex.place(&o).await.unwrap();
    assert_eq!(r.status, OrderStatus::Expired);
    assert_eq!(r.cum_qty, dec!(0.004));
    assert_eq!(r.reason.as_deref(), Some("UNFILLED_IOC_QUANTITY_EXPIRED"));
    // An IOC priced below the market fills nothing and expires.
    fake.set_liquidity("BTCUSDT", None);
    let low = entry(sym("BTC"), dec!(0.01), dec!(49000), 3);
    let r = ex.place(&low).await.unwrap();
    assert_eq!((r.status, r.cum_qty), (OrderStatus::Expired, dec!(0)));
    fake.assert_no_signature_errors();
}

#[tokio::test]
async fn stop_rests_triggers_fills_and_cancel_of_filled_is_not_found() {
    let (fake, ex) = setup().await;
    let s = stop(sym("BTC"), dec!(0.5), dec!(45000), dec!(44900), 4);
    let r = ex.place(&s).await.unwrap();
    assert_eq!(r.status, OrderStatus::New);
    let p = fake.last_params("/api/v3/order").unwrap();
    assert_eq!(
        (p["type"].as_str(), p["timeInForce"].as_str(), p["stopPrice"].as_str()),
        ("STOP_LOSS_LIMIT", "GTC", "45000")
    );

    let open = ex.open_orders(Some(sym("BTC"))).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].client_id, s.client_id);
    assert_eq!(ex.open_orders(None).await.unwrap().len(), 1);

    fake.set_price("BTCUSDT", dec!(44950));
    let q = ex.query(sym("BTC"), &s.client_id).await.unwrap();
    assert_eq!((q.status, q.cum_qty), (OrderStatus::Filled, dec!(0.5)));
    assert!(ex.open_orders(None).await.unwrap().is_empty());
    // Cancelling an order that already filled: -2011 "Unknown order sent." → NotFound.
    assert_eq!(ex.cancel(sym("BTC"), &s.client_id).await, Err(ExchangeError::NotFound));
    fake.assert_no_signature_errors();
}

#[tokio::test]
async fn cancel_of_a_resting_stop_names_the_original_order() {
    let (fake, ex) = setup().await;
    let s = stop(sym("BTC"), dec!(0.5), dec!(45000), dec!(44900), 5);
    ex.place(&s).await.unwrap();
    let c = ex.cancel(sym("BTC"), &s.client_id).await.unwrap();
    assert_eq!(c.status, OrderStatus::Canceled);
    assert_eq!(c.client_id, s.client_id);
    assert_eq!(fake.last_params("/api/v3/order").unwrap()["origClientOrderId"], s.client_id.as_str());
    fake.assert_no_signature_errors();
}

#[tokio::test]
async fn market_exit_fills_at_the_market_price() {
    let (fake, ex) = setup().await;
    let r = ex.place(&market_sell(sym("BTC"), dec!(0.2), 6)).await.unwrap();
    assert_eq!((r.status, r.cum_qty, r.cum_quote), (OrderStatus::Filled, dec!(0.2), dec!(10000)));
    assert_eq!(fake.last_params("/api/v3/order").unwrap()["type"], "MARKET");
    fake.assert_no_signature_errors();
}

/// Each unknown outcome: the adapter reports Unknown, never re-sends, and a query resolves
/// it; the fake ends with exactly one order under that id.
#[tokio::test]
async fn unknown_outcomes_are_resolved_by_query_never_by_resending() {
    let (fake, ex) = setup().await;
    let faults = [
        Fault::AcceptThenFail { status: 500, body: r#"{"code":-1000,"msg":"An unknown error occurred while processing the request."}"#.into() },
        Fault::AcceptThenFail { status: 503, body: r#"{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}"#.into() },
        Fault::AcceptThenFail { status: 400, body: r#"{"code":-1006,"msg":"An unexpected response was received from the message bus. Execution status unknown."}"#.into() },
        Fault::AcceptThenFail { status: 502, body: "<html>502 Bad Gateway</html>".into() },
        Fault::AcceptThenHang,
    ];
    for (i, fault) in faults.into_iter().enumerate() {
        let o = entry(sym("BTC"), dec!(0.01), dec!(50100), 100 + i as u64);
        let posts_before = fake.count("POST", "/api/v3/order");
        fake.fault(Endpoint::Place, fault.clone());
        let err = ex.place(&o).await.unwrap_err();
        assert!(err.is_unknown_outcome(), "{fault:?}: {err:?}");
        assert!(!err.to_string().contains("signature") && !err.to_string().contains(SECRET), "{err}");
        let q = ex.query(sym("BTC"), &o.client_id).await.unwrap();
        assert_eq!(q.status, OrderStatus::Filled, "{fault:?}");
        assert_eq!(fake.orders_with_id(o.client_id.as_str()).len(), 1, "{fault:?}");
        assert_eq!(fake.count("POST", "/api/v3/order"), posts_before + 1, "{fault:?}: re-sent");
    }
    fake.assert_no_signature_errors();
}

/// An order that exists but is not visible yet: `-2013` for a while, then found.
#[tokio::test]
async fn not_yet_visible_order_is_not_found_then_found() {
    let (fake, ex) = setup().await;
    let o = stop(sym("BTC"), dec!(0.1), dec!(45000), dec!(44900), 7);
    fake.fault(Endpoint::Place, Fault::AcceptThenHang);
    assert!(ex.place(&o).await.unwrap_err().is_unknown_outcome());
    fake.state().hide_orders_for_queries = 2;
    assert_eq!(ex.query(sym("BTC"), &o.client_id).await, Err(ExchangeError::NotFound));
    assert_eq!(ex.query(sym("BTC"), &o.client_id).await, Err(ExchangeError::NotFound));
    assert_eq!(ex.query(sym("BTC"), &o.client_id).await.unwrap().status, OrderStatus::New);
    assert_eq!(fake.orders_with_id(o.client_id.as_str()).len(), 1);
}

/// Re-sending an id that is still open is refused by Binance as a duplicate, which proves an
/// earlier attempt landed: Unknown (query it), not Rejected.
#[tokio::test]
async fn duplicate_client_id_is_an_unknown_outcome() {
    let (fake, ex) = setup().await;
    let s = stop(sym("BTC"), dec!(0.1), dec!(45000), dec!(44900), 8);
    ex.place(&s).await.unwrap();
    let err = ex.place(&s).await.unwrap_err();
    assert!(err.is_unknown_outcome(), "{err:?}");
    assert_eq!(fake.orders_with_id(s.client_id.as_str()).len(), 1);
}

#[tokio::test]
async fn rejections_carry_binance_message() {
    let (fake, ex) = setup().await;
    let too_big = entry(sym("BTC"), dec!(10), dec!(50100), 9);
    assert_eq!(
        ex.place(&too_big).await,
        Err(ExchangeError::Rejected {
            code: -2010,
            reason: "Account has insufficient balance for requested action.".into()
        })
    );
    let off_step = entry(sym("BTC"), dec!(0.000015), dec!(50100), 10);
    assert_eq!(
        ex.place(&off_step).await,
        Err(ExchangeError::Rejected { code: -1013, reason: "Filter failure: LOT_SIZE".into() })
    );
    let would_trigger = stop(sym("BTC"), dec!(0.1), dec!(51000), dec!(50900), 11);
    assert_eq!(
        ex.place(&would_trigger).await,
        Err(ExchangeError::Rejected { code: -2010, reason: "Order would trigger immediately.".into() })
    );
    let shown = ex.place(&too_big).await.unwrap_err().to_string();
    assert!(shown.contains("insufficient balance"), "{shown}");
    assert!(fake.state().orders.is_empty());
    fake.assert_no_signature_errors();
}

#[tokio::test]
async fn rate_limit_429_halts_every_request_until_retry_after() {
    // The adapter reads time from an injected clock, so the halt is let pass by moving it, not
    // by waiting.
    let fake = FakeBinance::start().await;
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let mut cfg = config(&fake);
    cfg.clock = clock.clone();
    let ex = BinanceExchange::new(cfg).unwrap();
    ex.prepare(&[sym("BTC")]).await.unwrap();
    fake.fault(
        Endpoint::Account,
        Fault::Reject { status: 429, code: -1003, msg: "Too much request weight used".into(), retry_after: Some(1) },
    );
    let err = ex.balances().await.unwrap_err();
    let ExchangeError::RateLimited { retry_after_ms, banned: false } = err else { panic!("{err:?}") };
    assert_eq!(retry_after_ms, clock.now().millis() + 1_000, "Retry-After: 1 (seconds)");
    assert!(ex.rate_usage().halted_until_ms.is_some());

    // During the halt nothing reaches the network, not even a protective order; each refusal
    // names the halt's end.
    let sent = fake.total_requests();
    let halted = ExchangeError::RateLimited { retry_after_ms, banned: false };
    assert_eq!(ex.balances().await.unwrap_err(), halted);
    assert_eq!(ex.place(&market_sell(sym("BTC"), dec!(0.1), 12)).await.unwrap_err(), halted);
    let cid = market_sell(sym("BTC"), dec!(0.1), 12).client_id;
    assert_eq!(ex.query(sym("BTC"), &cid).await.unwrap_err(), halted);
    assert_eq!(fake.total_requests(), sent, "requests went out during the halt");

    // 999 ms on, still halted; at the halt's end requests flow again. (The fake's clock moves
    // with ours, so the signed timestamps stay in its window.)
    clock.advance(999);
    assert_eq!(ex.balances().await.unwrap_err(), halted);
    assert_eq!(fake.total_requests(), sent);
    clock.advance(1);
    fake.set_skew_ms(1_000);
    assert!(ex.balances().await.is_ok());
}

#[tokio::test]
async fn ban_418_is_reported_as_banned() {
    let (fake, ex) = setup().await;
    fake.fault(
        Endpoint::Any,
        Fault::Reject {
            status: 418,
            code: -1003,
            msg: "Way too much request weight used; IP banned until 1.".into(),
            retry_after: Some(120),
        },
    );
    let err = ex.open_orders(None).await.unwrap_err();
    assert!(matches!(err, ExchangeError::RateLimited { banned: true, .. }), "{err:?}");
    assert!(ex.rate_usage().banned);
    let sent = fake.total_requests();
    assert!(matches!(ex.sync_time().await, Err(ExchangeError::RateLimited { banned: true, .. })));
    assert_eq!(fake.total_requests(), sent);
}

/// With tight limits from exchangeInfo, the local budget keeps well under them: requests
/// beyond it fail Unavailable locally and Binance never has to answer 429.
#[tokio::test]
async fn local_budget_keeps_under_exchange_limits() {
    let fake = FakeBinance::start().await;
    fake.state().rate_limits[0] = RateLimitSpec { kind: "REQUEST_WEIGHT", interval: "MINUTE", num: 1, limit: 200 };
    let ex = BinanceExchange::new(config(&fake)).unwrap();
    ex.prepare(&[sym("BTC")]).await.unwrap();
    let mut refused = 0;
    for _ in 0..40 {
        match ex.open_orders(Some(sym("BTC"))).await {
            Ok(_) => {}
            Err(ExchangeError::Unavailable { .. }) => refused += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(refused > 0, "the budget never bit");
    let s = fake.state();
    assert_eq!(s.rate_limited_answers, 0);
    assert!(s.weight_used() <= 160 + 21, "used {} of 200", s.weight_used());
    drop(s);
    let usage = ex.rate_usage();
    assert!(usage.weight_used.iter().any(|(w, _)| w == "1M"), "{usage:?}");
}

/// A clock 30 s behind Binance's: the first signed request gets -1021, the adapter re-syncs
/// the offset and retries once, successfully.
#[tokio::test]
async fn clock_skew_is_resynced_on_1021() {
    let fake = FakeBinance::start().await;
    let ex = BinanceExchange::new(config(&fake)).unwrap();
    ex.sync_time().await.unwrap();
    fake.set_skew_ms(30_000);
    let b = ex.balances().await.unwrap();
    assert!(!b.is_empty());
    assert_eq!(fake.state().skewed_requests, 1);
    assert!((29_000..=31_000).contains(&ex.clock_offset_ms()), "{}", ex.clock_offset_ms());
    // Placing after the re-sync works at once.
    assert!(ex.place(&entry(sym("BTC"), dec!(0.01), dec!(50100), 13)).await.is_ok());
    assert_eq!(fake.state().skewed_requests, 1);
    fake.assert_no_signature_errors();
}

#[tokio::test]
async fn filters_leave_out_unknown_symbols() {
    let (fake, ex) = setup().await;
    let f = ex.filters(&[sym("BTC"), sym("ETH")]).await.unwrap();
    assert_eq!(f.len(), 2);
    let btc = &f.iter().find(|(s, _)| *s == sym("BTC")).unwrap().1;
    assert_eq!((btc.tick_size, btc.step_size, btc.min_notional), (dec!(0.01), dec!(0.00001), dec!(5)));
    assert_eq!(btc.market_step_size, None, "a zero MARKET_LOT_SIZE step means LOT_SIZE's");
    let f = ex.filters(&[sym("BTC"), sym("NOPE"), sym("SOL")]).await.unwrap();
    assert_eq!(f.iter().map(|(s, _)| s.pair()).collect::<Vec<_>>(), ["BTCUSDT", "SOLUSDT"]);
    assert!(ex.filters(&[sym("NOPE")]).await.unwrap().is_empty());
    assert!(fake.count("GET", "/api/v3/exchangeInfo") >= 4);
}

#[tokio::test]
async fn daily_candles_are_closed_and_ordered() {
    let (fake, ex) = setup().await;
    let now = Timestamp::now();
    let c = ex.daily_candles(sym("BTC"), 200).await.unwrap();
    assert_eq!(c.len(), 200);
    assert!(c.windows(2).all(|w| w[1].open_time.millis() - w[0].open_time.millis() == 86_400_000));
    assert!(c.last().unwrap().close_time < now, "the still-open candle was kept");
    assert!(now.millis() - c.last().unwrap().close_time.millis() <= 86_400_000);
    // More than one page (1000) of history.
    let long = ex.daily_candles(sym("BTC"), 1_200).await.unwrap();
    assert_eq!(long.len(), 1_200);
    assert_eq!(long.last(), c.last());
    assert!(long.windows(2).all(|w| w[0].open_time < w[1].open_time));
    assert_eq!(fake.count("GET", "/api/v3/klines"), 3);
    // Fewer days exist than asked for: all of them.
    fake.state().kline_days = 50;
    assert_eq!(ex.daily_candles(sym("ETH"), 200).await.unwrap().len(), 49);
}

#[tokio::test]
async fn warm_up_fetches_each_symbol() {
    let (_fake, ex) = setup().await;
    let w = ex.warm_up(&[sym("BTC"), sym("ETH"), sym("SOL")], 200).await.unwrap();
    assert_eq!(w.len(), 3);
    assert!(w.iter().all(|(_, c)| c.len() == 200));
}

#[tokio::test]
async fn account_and_key_restrictions() {
    let (fake, ex) = setup().await;
    let a = ex.account().await.unwrap();
    assert!(a.can_trade);
    let r = ex.api_restrictions().await.unwrap();
    assert!(!r.enable_withdrawals && !r.can_move_funds());
    fake.state().enable_withdrawals = true;
    assert!(ex.api_restrictions().await.unwrap().enable_withdrawals);
    fake.state().can_trade = false;
    assert!(!ex.account().await.unwrap().can_trade);
    let mut testnet = config(&fake);
    testnet.mode = BinanceMode::Testnet;
    let t = BinanceExchange::new(testnet).unwrap();
    assert!(matches!(t.api_restrictions().await, Err(ExchangeError::Unavailable { .. })));
}

#[tokio::test]
async fn connection_refused_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let fake = FakeBinance::start().await;
    let mut c = config(&fake);
    c.urls.rest = format!("http://{addr}");
    let ex = BinanceExchange::new(c).unwrap();
    let err = ex.place(&entry(sym("BTC"), dec!(0.01), dec!(50100), 14)).await.unwrap_err();
    assert!(matches!(err, ExchangeError::Unavailable { .. }), "{err:?}");
}

/// A server that reads the request and closes the connection without answering.
#[tokio::test]
async fn connection_dropped_after_sending_is_unknown_for_orders() {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            drop(sock);
        }
    });
    let fake = FakeBinance::start().await;
    let mut c = config(&fake);
    c.urls.rest = format!("http://{addr}");
    let ex = BinanceExchange::new(c).unwrap();
    let err = ex.place(&entry(sym("BTC"), dec!(0.01), dec!(50100), 15)).await.unwrap_err();
    assert!(err.is_unknown_outcome(), "{err:?}");
    assert!(!err.to_string().contains("signature="), "{err}");
    let err = ex.cancel(sym("BTC"), &entry(sym("BTC"), dec!(0.01), dec!(50100), 15).client_id).await.unwrap_err();
    assert!(err.is_unknown_outcome(), "{err:?}");
    let err = ex.balances().await.unwrap_err();
    assert!(matches!(err, ExchangeError::Unavailable { .. }), "{err:?}");
}

/// A read that times out is merely unavailable; the message never shows the signed query.
#[tokio::test]
async fn read_timeout_is_unavailable_and_hides_the_query() {
    let (fake, ex) = setup().await;
    fake.fault(Endpoint::Account, Fault::Hang);
    let err = ex.balances().await.unwrap_err();
    assert!(matches!(err, ExchangeError::Unavailable { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("signature") && !shown.contains("timestamp=") && !shown.contains(SECRET), "{shown}");
}

#[tokio::test]
async fn signed_requests_without_credentials_are_refused_locally() {
    let fake = FakeBinance::start().await;
    let mut c = config(&fake);
    c.api_key = bert::exchange::binance::Secret::new("");
    c.api_secret = bert::exchange::binance::Secret::new("");
    let ex = BinanceExchange::new(c).unwrap();
    assert!(matches!(ex.balances().await, Err(ExchangeError::Unavailable { .. })));
    assert_eq!(fake.total_requests(), 0);
    // Public market data still works.
    assert_eq!(ex.daily_candles(sym("BTC"), 10).await.unwrap().len(), 10);
}

/// Moving a stop with one cancel-replace request, and each way it can go.
#[tokio::test]
async fn cancel_replace_moves_a_stop_and_reports_partial_failure() {
    use bert::exchange::binance::ReplaceOutcome;
    let (fake, ex) = setup().await;
    let old = stop(sym("BTC"), dec!(0.5), dec!(45000), dec!(44900), 20);
    ex.place(&old).await.unwrap();
    let mut new = stop(sym("BTC"), dec!(0.5), dec!(46000), dec!(45900), 20);
    new.client_id = bert::domain::ClientOrderId::parse("bT3st-k-s2").unwrap();

    let out = ex.cancel_replace(&old.client_id, &new).await.unwrap();
    let ReplaceOutcome::Replaced { canceled, placed } = out else { panic!("{out:?}") };
    assert_eq!((canceled.client_id, canceled.status), (old.client_id.clone(), OrderStatus::Canceled));
    assert_eq!((placed.client_id.clone(), placed.status), (new.client_id.clone(), OrderStatus::New));
    let p = fake.last_params("/api/v3/order/cancelReplace").unwrap();
    assert_eq!((p["cancelReplaceMode"].as_str(), p["stopPrice"].as_str()), ("STOP_ON_FAILURE", "46000"));
    assert_eq!(ex.open_orders(Some(sym("BTC"))).await.unwrap().len(), 1);

    // The old order is gone: nothing happens, NotFound.
    assert_eq!(ex.cancel_replace(&old.client_id, &new).await, Err(ExchangeError::NotFound));

    // A new stop above the market: Binance cancels the old one and refuses the new one.
    let mut bad = stop(sym("BTC"), dec!(0.5), dec!(51000), dec!(50900), 20);
    bad.client_id = bert::domain::ClientOrderId::parse("bT3st-k-s3").unwrap();
    let out = ex.cancel_replace(&new.client_id, &bad).await.unwrap();
    let ReplaceOutcome::CanceledOnly { canceled: Some(c), code: -2010, reason } = out else { panic!("{out:?}") };
    assert_eq!((c.client_id, reason.as_str()), (new.client_id.clone(), "Order would trigger immediately."));
    assert!(ex.open_orders(None).await.unwrap().is_empty(), "the position has no stop now");

    // A new stop off the tick grid: refused before anything happens.
    ex.place(&old_again(&old)).await.unwrap();
    let mut off = stop(sym("BTC"), dec!(0.5), dec!(46000.005), dec!(45900), 20);
    off.client_id = bert::domain::ClientOrderId::parse("bT3st-k-s4").unwrap();
    let err = ex.cancel_replace(&old_again(&old).client_id, &off).await.unwrap_err();
    assert_eq!(err, ExchangeError::Rejected { code: -1013, reason: "Filter failure: PRICE_FILTER".into() });
    assert_eq!(ex.open_orders(None).await.unwrap().len(), 1, "the old stop still stands");

    // A lost answer: unknown, to be resolved by querying both ids.
    fake.fault(Endpoint::CancelReplace, Fault::AcceptThenHang);
    let err = ex.cancel_replace(&old_again(&old).client_id, &new_again(&new)).await.unwrap_err();
    assert!(err.is_unknown_outcome(), "{err:?}");
    fake.assert_no_signature_errors();
}

fn old_again(o: &bert::domain::Order) -> bert::domain::Order {
    let mut o = o.clone();
    o.client_id = bert::domain::ClientOrderId::parse("bT3st-k-s5").unwrap();
    o
}

fn new_again(o: &bert::domain::Order) -> bert::domain::Order {
    let mut o = o.clone();
    o.client_id = bert::domain::ClientOrderId::parse("bT3st-k-s6").unwrap();
    o
}
