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
use fake_binance::{API_KEY, Endpoint, FakeBinance, Fault, Push, SECRET, kline};
use fake_telegram::{FakeTelegram, TOKEN};
use rust_decimal_macros::dec;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const TRADER: i64 = 7;
const ALERTS: i64 = -100;

fn bert_run(data: &std::path::Path, fake: &FakeBinance, tg: &FakeTelegram, http: u16) -> Child {
    bert_command(data, fake, tg, http).spawn().expect("start bert run")
}

/// `bert run` on the testnet settings, pointed at the fakes.
fn bert_command(data: &std::path::Path, fake: &FakeBinance, tg: &FakeTelegram, http: u16) -> Command {
    let mut cmd = bert("run");
    with_telegram(&mut cmd, &tg.url(), TOKEN);
    with_binance(&mut cmd, &fake.rest_url(), &fake.ws_api_url(), &fake.stream_url(), API_KEY, SECRET);
    cmd.env("BERT_DATA_DIR", data)
        .env("BERT_SYMBOLS", "BTC")
        .env("BERT_TRADERS", TRADER.to_string())
        .env("BERT_ALERT_CHATS", ALERTS.to_string())
        .env("BERT_CONFIRM", "false")
        .env("BERT_HTTP_ADDR", format!("127.0.0.1:{http}"));
    cmd
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

    // BNB is not traded here, but its price is followed: the account's 2 BNB (and fees paid
    // in BNB) are valued.
    assert!(fake.ws_log().market_streams.contains(&"bnbusdt@kline_1d".to_string()));
    let today = bert::domain::Timestamp::now().millis() / 86_400_000 * 86_400_000;
    fake.push(Push::Kline("bnbusdt@kline_1d".into(), kline("BNBUSDT", today, "600", false)));
    eventually("BNB valued in /balance", 30, || async {
        tg.text(TRADER, TRADER, Some("en"), "/balance");
        tokio::time::sleep(Duration::from_millis(300)).await;
        tg.sent_to(TRADER).iter().any(|m| m.text.contains("BNB: 2 (≈ 1,200.00 USDT)"))
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

/// What the entry left on the account: its fills less the fees taken in BTC.
fn bought(fake: &FakeBinance) -> rust_decimal::Decimal {
    let s = fake.state();
    let entry: Vec<u64> = s.orders.iter().filter(|o| o.kind == "LIMIT").map(|o| o.order_id).collect();
    s.trades
        .iter()
        .filter(|t| entry.contains(&t.order_id))
        .map(|t| t.qty - if t.commission_asset == "BTC" { t.commission } else { dec!(0) })
        .sum()
}

/// The exchange accepts and fills the entry but its answer never comes; the bot process is
/// killed (SIGKILL, no shutdown code runs) while it waits. The restarted process finds the
/// order by its client id: exactly one entry on the exchange, the position it bought, and a
/// stop placed for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_the_entry_answer_is_held_then_restart_places_nothing_twice() {
    let fake = FakeBinance::start().await;
    fake.set_price("BTCUSDT", dec!(50000));
    fake.fault(Endpoint::Place, Fault::AcceptThenHang);
    // Nor may a reconciliation pass that happens to run while the entry is in flight ask for
    // it: order queries hang too, until the kill.
    for _ in 0..16 {
        fake.fault(Endpoint::Query, Fault::Hang);
    }
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    let http = free_port();
    let mut guard = Guard(Some(bert_run(data.path(), &fake, &tg, http)));
    let health = format!("http://127.0.0.1:{http}/healthz");
    eventually("healthy", 30, || async { matches!(get(&health).await, Some((200, _))) }).await;
    // The user stream stays connected but goes quiet (Bert would call it dead only after 60 s),
    // so the fill is not heard that way either: only asking the exchange can tell.
    fake.push(Push::Silence);
    eventually("the entry accepted by the exchange", 30, || async {
        tg.text(TRADER, TRADER, Some("en"), "/enter BTC");
        tokio::time::sleep(Duration::from_millis(300)).await;
        fake.count("POST", "/api/v3/order") >= 1
    })
    .await;
    let entries = || fake.state().orders.iter().filter(|o| o.kind == "LIMIT").cloned().collect::<Vec<_>>();
    assert_eq!(entries().len(), 1);
    assert_eq!(entries()[0].status, "FILLED", "the exchange filled it; Bert has not heard");

    // SIGKILL while the answer is held (the adapter would wait 15 s for it).
    let mut first = guard.0.take().expect("running");
    first.kill().unwrap();
    let status = first.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
    let stop_open = || fake.state().orders.iter().filter(|o| o.kind == "STOP_LOSS_LIMIT" && o.is_open()).count();
    assert_eq!(stop_open(), 0, "the first process never learned of the fill");
    fake.state().faults.clear();

    // Restart on the same data folder.
    let http = free_port();
    let mut guard = Guard(Some(bert_run(data.path(), &fake, &tg, http)));
    eventually("the restarted bert protects the position", 60, || async { stop_open() == 1 }).await;
    assert_eq!(entries().len(), 1, "the entry was not sent again");
    assert_eq!(fake.count("POST", "/api/v3/order"), 2, "one entry, one stop");
    let held = bought(&fake);
    let stop_qty = fake.state().orders.iter().find(|o| o.kind == "STOP_LOSS_LIMIT").map(|o| o.qty).unwrap();
    assert_eq!(stop_qty, (held * dec!(100000)).floor() / dec!(100000), "the stop covers what was bought");

    // Stop cleanly and read what the restarted process made durable.
    let mut bert = guard.0.take().expect("running");
    let pid = bert.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let started = Instant::now();
    while bert.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(10), "bert did not stop within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let store = bert::store::Store::open(bert::app::service_db_path(data.path())).unwrap();
    let snapshot = store.load().unwrap();
    let open: Vec<_> = snapshot.positions.iter().filter(|p| p.qty > dec!(0)).collect();
    assert_eq!(open.len(), 1, "{:?}", snapshot.positions);
    assert_eq!(open[0].qty, held, "the position is what the exchange filled, fees taken");
    assert!(open[0].stop.is_some());
    assert_eq!(stop_open(), 1, "the stop stays on the exchange");
}

/// On `live`, a key that can withdraw is refused before anything can trade; so is a key that
/// cannot trade (any mode).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_that_can_withdraw_or_cannot_trade_are_refused_at_start() {
    let fake = FakeBinance::start().await;
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    fake.state().enable_withdrawals = true;
    let out = bert_command(data.path(), &fake, &tg, free_port()).env("BERT_EXCHANGE", "live").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("the API key can withdraw funds"), "{err}");
    assert_eq!(fake.count("GET", "/sapi/v1/account/apiRestrictions"), 1);

    // The same key is fine on the testnet, which has no withdrawal permission to read; a key
    // that cannot trade is refused everywhere.
    fake.state().can_trade = false;
    let out = bert_command(data.path(), &fake, &tg, free_port()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("not allowed to trade"), "{err}");
    assert_eq!(fake.count("POST", "/api/v3/order"), 0);
    assert!(!fake.state().requests.iter().any(|r| r.path == "/api/v3/klines"), "refused before warming up");
}
