//! `bert run` in paper mode (no Binance keys) as a deployment runs it: the real binary, market
//! data from the fake Binance's public endpoints and kline stream, the fake Telegram. The
//! simulated account lives in the service's database, so a restart, clean (SIGTERM) or not
//! (SIGKILL), finds the position's stop still resting, the balances as they were, nothing for
//! reconciliation to report, and a price falling through the stop afterwards closes the
//! position.

#[path = "support/bert_process.rs"]
mod bert_process;
#[path = "support/fake_binance/mod.rs"]
mod fake_binance;
#[path = "support/fake_telegram/mod.rs"]
mod fake_telegram;

use bert::domain::{OrderRole, OrderStatus, PositionStatus};
use bert_process::{Guard, bert, eventually, free_port, get, with_telegram};
use fake_binance::{FakeBinance, Push};
use fake_telegram::{FakeTelegram, TOKEN};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::io::BufRead;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TRADER: i64 = 7;
const ALERTS: i64 = -100;

/// A running `bert run` and the log lines it has printed so far.
struct Bert {
    guard: Guard,
    logs: Arc<Mutex<Vec<String>>>,
    http: u16,
}

/// `bert run` in paper mode: no keys, market data from the fake.
fn start(data: &std::path::Path, fake: &FakeBinance, tg: &FakeTelegram) -> Bert {
    let http = free_port();
    let mut cmd = bert("run");
    with_telegram(&mut cmd, &tg.url(), TOKEN);
    cmd.env("BERT_BINANCE_REST_URL", fake.rest_url())
        .env("BERT_BINANCE_STREAM_URL", fake.stream_url())
        .env("BERT_DATA_DIR", data)
        .env("BERT_SYMBOLS", "BTC")
        .env("BERT_TRADERS", TRADER.to_string())
        .env("BERT_ALERT_CHATS", ALERTS.to_string())
        .env("BERT_CONFIRM", "false")
        .env("BERT_HTTP_ADDR", format!("127.0.0.1:{http}"));
    let mut child: Child = cmd.spawn().expect("start bert run");
    let logs = Arc::new(Mutex::new(Vec::new()));
    let stdout = child.stdout.take().expect("stdout is piped");
    let sink = logs.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    Bert { guard: Guard(Some(child)), logs, http }
}

impl Bert {
    async fn healthy(&self) {
        let health = format!("http://127.0.0.1:{}/healthz", self.http);
        eventually("healthy", 30, || async { matches!(get(&health).await, Some((200, _))) }).await;
    }

    /// The `findings` of every reconciliation pass logged so far.
    fn reconciliations(&self) -> Vec<(bool, u64)> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["fields"]["message"] == "reconciliation done")
            .map(|v| {
                (v["fields"]["ok"].as_bool().unwrap_or(false), v["fields"]["findings"].as_u64().unwrap_or(u64::MAX))
            })
            .collect()
    }

    fn sigterm(mut self) {
        let mut child = self.guard.0.take().expect("running");
        assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
        let started = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "bert did not stop within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(status.code(), Some(0), "{:?}", self.logs.lock().unwrap());
    }

    fn sigkill(mut self) {
        let mut child = self.guard.0.take().expect("running");
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
    }
}

/// An unclosed daily kline frame: the market stream turns it into a price.
fn price_frame(price: Decimal) -> Push {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let open_time = now - now.rem_euclid(86_400_000);
    let p = price.to_string();
    Push::Kline(
        "btcusdt@kline_1d".into(),
        serde_json::json!({
            "e": "kline", "E": now, "s": "BTCUSDT",
            "k": {"t": open_time, "T": open_time + 86_399_999, "s": "BTCUSDT", "i": "1d", "f": 1, "L": 2,
                  "o": p, "c": p, "h": p, "l": p, "v": "1.0", "n": 2, "x": false, "q": "1.0", "V": "1.0",
                  "Q": "1.0", "B": "0"}
        }),
    )
}

/// What the stopped service left on disk: the engine's open BTC position (qty, stop trigger,
/// stop limit), and the paper account's open orders and BTC balance (free, locked).
struct OnDisk {
    position_qty: Decimal,
    stop: (Decimal, Decimal),
    stop_status: OrderStatus,
    paper_open_orders: usize,
    paper_btc: (Decimal, Decimal),
    paper_usdt: Decimal,
}

fn on_disk(data: &std::path::Path) -> OnDisk {
    let store = bert::store::Store::open(bert::app::service_db_path(data)).unwrap();
    let snapshot = store.load().unwrap();
    let open: Vec<_> = snapshot.positions.iter().filter(|p| p.status == PositionStatus::Open).collect();
    assert_eq!(open.len(), 1, "{:?}", snapshot.positions);
    let stop_id = open[0].stop.as_ref().expect("the position has a stop").client_id.clone();
    let stop = snapshot.orders.iter().find(|o| o.client_id == stop_id && o.role == OrderRole::Stop).unwrap();
    let paper = store.paper_book().unwrap().expect("the paper account is saved");
    let balance = |asset: &str| paper.balances().iter().find(|b| b.asset.to_string() == asset).copied();
    let btc = balance("BTC").expect("BTC held");
    OnDisk {
        position_qty: open[0].qty,
        stop: (stop.stop_price.unwrap(), stop.price.unwrap()),
        stop_status: stop.status,
        paper_open_orders: paper.open_orders(),
        paper_btc: (btc.free, btc.locked),
        paper_usdt: balance("USDT").expect("USDT held").free,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_mode_keeps_the_stop_and_the_balances_across_sigterm_and_sigkill() {
    let fake = FakeBinance::start().await;
    fake.set_price("BTCUSDT", dec!(50000));
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    let alerts = |text: &str| tg.sent_to(ALERTS).iter().filter(|m| m.text.contains(text)).count();

    // Enter from the chat: the paper entry fills and its stop comes to rest.
    let first = start(data.path(), &fake, &tg);
    first.healthy().await;
    eventually("the position is protected", 30, || async {
        fake.push(price_frame(dec!(50000)));
        if alerts("Bought") == 0 {
            tg.text(TRADER, TRADER, Some("en"), "/enter BTC");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        alerts("Stop placed") == 1
    })
    .await;
    assert_eq!(alerts("Bought"), 1, "one entry");
    first.sigterm();
    let before = on_disk(data.path());
    assert_eq!(before.stop_status, OrderStatus::New);
    assert_eq!(before.paper_open_orders, 1, "the stop rests in the paper book");
    assert!(before.paper_btc.1 > dec!(0) && before.paper_btc.1 <= before.position_qty, "the stop locks the coins");
    assert!(before.paper_usdt < dec!(10000), "the entry was paid for");

    // SIGTERM and SIGKILL restarts: each finds the account as it was and reports nothing.
    for (round, kill) in [(1, false), (2, true)] {
        let bert = start(data.path(), &fake, &tg);
        bert.healthy().await;
        eventually("the start-up reconciliation", 30, || async {
            fake.push(price_frame(dec!(50000)));
            tokio::time::sleep(Duration::from_millis(100)).await;
            bert.reconciliations().iter().any(|(ok, _)| *ok)
        })
        .await;
        // Let every pass the start-up schedules finish, then look at all of them.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let passes = bert.reconciliations();
        assert!(passes.iter().all(|(_, findings)| *findings == 0), "round {round}: {passes:?}");
        if kill {
            bert.sigkill();
        } else {
            bert.sigterm();
        }
        let after = on_disk(data.path());
        assert_eq!(after.stop_status, OrderStatus::New, "round {round}");
        assert_eq!(after.paper_open_orders, 1, "round {round}: the stop still rests");
        assert_eq!(
            (after.paper_btc, after.paper_usdt, after.position_qty, after.stop),
            (before.paper_btc, before.paper_usdt, before.position_qty, before.stop),
            "round {round}: balances carried over"
        );
    }
    assert_eq!(alerts("Reconciliation"), 0, "nothing short, nothing unknown, nothing missed");
    assert_eq!(alerts("Stop placed"), 1, "the stop was never placed again");

    // After the restarts, the price falls through the stop: the restored stop sells.
    let last = start(data.path(), &fake, &tg);
    last.healthy().await;
    let (trigger, limit) = before.stop;
    let through = trigger - (trigger - limit) / dec!(10);
    eventually("the stop sells", 30, || async {
        fake.push(price_frame(through.round_dp(2)));
        tokio::time::sleep(Duration::from_millis(200)).await;
        alerts("fees included") == 1
    })
    .await;
    assert_eq!(alerts("Stop hit"), 1);
    last.sigterm();
    let store = bert::store::Store::open(bert::app::service_db_path(data.path())).unwrap();
    let snapshot = store.load().unwrap();
    assert!(snapshot.positions.iter().all(|p| p.status != PositionStatus::Open), "{:?}", snapshot.positions);
    let paper = store.paper_book().unwrap().unwrap();
    assert_eq!(paper.open_orders(), 0);
    let usdt = paper.balances().iter().find(|b| b.asset.to_string() == "USDT").unwrap().free;
    assert!(usdt > before.paper_usdt, "the stop's proceeds are in the account: {usdt}");
    let locked_btc: Decimal = paper.balances().iter().filter(|b| b.asset.to_string() == "BTC").map(|b| b.locked).sum();
    assert_eq!(locked_btc, dec!(0));
}
