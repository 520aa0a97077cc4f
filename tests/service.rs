//! `bert run` as a deployment runs it: the real binary against the fake Binance and the fake
//! Telegram on 127.0.0.1. A trade from the chat, health and metrics, a second instance refused,
//! and SIGTERM: exit 0 within 10 s with the position's stop still on the exchange.

#[path = "support/bert_process.rs"]
mod bert_process;
#[path = "support/fake_binance/mod.rs"]
mod fake_binance;
#[path = "support/fake_telegram/mod.rs"]
mod fake_telegram;

use bert_process::{Guard, bert, eventually, free_port, get, with_binance, with_telegram};
use fake_binance::{API_KEY, FakeBinance, SECRET};
use fake_telegram::{FakeTelegram, TOKEN};
use rust_decimal_macros::dec;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const TRADER: i64 = 7;
const ALERTS: i64 = -100;

fn bert_run(data: &std::path::Path, fake: &FakeBinance, tg: &FakeTelegram, http: u16) -> Child {
    let mut cmd = bert("run");
    with_telegram(&mut cmd, &tg.url(), TOKEN);
    with_binance(&mut cmd, &fake.rest_url(), &fake.ws_api_url(), &fake.stream_url(), API_KEY, SECRET);
    cmd.env("BERT_DATA_DIR", data)
        .env("BERT_SYMBOLS", "BTC")
        .env("BERT_TRADERS", TRADER.to_string())
        .env("BERT_ALERT_CHATS", ALERTS.to_string())
        .env("BERT_CONFIRM", "false")
        .env("BERT_HTTP_ADDR", format!("127.0.0.1:{http}"))
        .spawn()
        .expect("start bert run")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bert_run_trades_from_the_chat_and_stops_cleanly_on_sigterm() {
    let fake = FakeBinance::start().await;
    fake.set_price("BTCUSDT", dec!(50000));
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    let http = free_port();
    let mut guard = Guard(Some(bert_run(data.path(), &fake, &tg, http)));
    let health = format!("http://127.0.0.1:{http}/healthz");

    // Ready: the health endpoint answers 200 once the engine, the user stream and the outbox are
    // fine.
    eventually("healthy", 30, || async { matches!(get(&health).await, Some((200, _))) }).await;

    // A second instance on the same data folder is refused at once.
    let second = bert_run(data.path(), &fake, &tg, free_port()).wait_with_output().unwrap();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("another Bert is already using"), "{err}");

    // A trader enters from Telegram; the entry fills on the exchange and a stop is placed.
    eventually("reconciled and ready to trade", 30, || async {
        tg.text(TRADER, TRADER, Some("en"), "/enter BTC");
        tokio::time::sleep(Duration::from_millis(300)).await;
        fake.count("POST", "/api/v3/order") >= 2
    })
    .await;
    let stop_open = || fake.state().orders.iter().any(|o| o.kind == "STOP_LOSS_LIMIT" && o.status == "NEW");
    assert!(stop_open(), "the position is protected by a stop on the exchange");
    eventually("alerts delivered to the alert chat", 30, || async {
        tg.sent_to(ALERTS).iter().any(|m| m.text.contains("Stop placed"))
    })
    .await;

    // The read-only views are wired in: statistics (none closed yet) and the chart as a photo.
    tg.text(TRADER, TRADER, Some("en"), "/performance");
    tg.text(TRADER, TRADER, Some("en"), "/chart");
    eventually("/performance and /chart answered", 30, || async {
        let sent = tg.sent_to(TRADER);
        sent.iter().any(|m| m.text.contains("No closed trades yet")) && sent.iter().any(|m| m.photo_bytes > 1000)
    })
    .await;

    // Metrics in the Prometheus text format.
    let (code, metrics) = get(&format!("http://127.0.0.1:{http}/metrics")).await.expect("metrics");
    assert_eq!(code, 200);
    prometheus_parse::Scrape::parse(metrics.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text format");
    assert!(metrics.contains("bert_orders_placed_total 2"), "{metrics}");

    // SIGTERM: exit 0 within 10 s; the stop stays on the exchange.
    let started = Instant::now();
    let mut bert = guard.0.take().expect("running");
    let pid = bert.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = loop {
        if let Some(s) = bert.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "bert did not stop within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let out = bert.wait_with_output().unwrap();
    assert_eq!(status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stop_open(), "shutdown does not cancel protective stops");
    let logs = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    for secret in [TOKEN, SECRET] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
}
