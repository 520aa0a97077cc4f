//! Footprint measurements for the README (not assertions: the figures depend on the machine):
//! the release binary's size, the time from starting `bert run` to a healthy `/healthz`, and
//! the resident memory of an idle `bert run` watching 20 symbols, against the fake Binance and
//! the fake Telegram on 127.0.0.1.
//!
//! Run with `.ci/measure` (it builds the release binary and passes it in `BERT_BIN`). Ignored by
//! `cargo test`, which would measure an unoptimized build.

#[path = "support/bert_process.rs"]
mod bert_process;
#[path = "support/fake_binance/mod.rs"]
mod fake_binance;
#[path = "support/fake_telegram/mod.rs"]
mod fake_telegram;

use bert_process::{Guard, eventually, free_port, get, rss_kib, with_binance, with_telegram};
use fake_binance::state::SymbolSpec;
use fake_binance::{API_KEY, FakeBinance, SECRET};
use fake_telegram::{FakeTelegram, TOKEN};
use rust_decimal::Decimal;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// 20 base assets: the 3 the fake lists plus 17 more.
const BASES: [&str; 20] = [
    "BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE", "TRX", "DOT", "LINK", "AVAX", "LTC", "ATOM", "UNI", "XLM",
    "NEAR", "APT", "FIL", "ARB", "OP",
];

fn binary() -> String {
    std::env::var("BERT_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_bert").to_string())
}

fn start(bin: &str, data: &std::path::Path, fake: &FakeBinance, tg: &FakeTelegram, http: u16) -> Child {
    let mut cmd = Command::new(bin);
    cmd.arg("run").env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    with_binance(&mut cmd, &fake.rest_url(), &fake.ws_api_url(), &fake.stream_url(), API_KEY, SECRET);
    with_telegram(&mut cmd, &tg.url(), TOKEN);
    cmd.env("BERT_DATA_DIR", data)
        .env("BERT_SYMBOLS", BASES.join(","))
        .env("BERT_TRADERS", "7")
        .env("BERT_ALERT_CHATS", "-100")
        .env("BERT_HTTP_ADDR", format!("127.0.0.1:{http}"))
        .env("BERT_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start bert run")
}

/// Starts `bert run`, waits for `/healthz` 200 and returns the time it took.
async fn start_to_ready(bin: &str, data: &std::path::Path, fake: &FakeBinance, tg: &FakeTelegram) -> (Guard, Duration) {
    let http = free_port();
    let started = Instant::now();
    let guard = Guard(Some(start(bin, data, fake, tg, http)));
    let health = format!("http://127.0.0.1:{http}/healthz");
    eventually("healthy", 60, || async { matches!(get(&health).await, Some((200, _))) }).await;
    (guard, started.elapsed())
}

fn stop(mut guard: Guard) {
    let mut child = guard.0.take().expect("running");
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement for the README; run .ci/measure"]
async fn footprint() {
    let bin = binary();
    let fake = FakeBinance::start().await;
    {
        let mut state = fake.state();
        for (i, base) in BASES.iter().enumerate().skip(3) {
            state.symbols.push(SymbolSpec::new(base, "USDT", "0.0001", "0.01", "5"));
            state.prices.insert(format!("{base}USDT"), Decimal::from(10 + i as i64));
        }
    }
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();

    // The first start creates the database and warms the OS file cache; the measured start
    // is the second, as a restart on a deployed machine is.
    let (first, cold) = start_to_ready(&bin, data.path(), &fake, &tg).await;
    stop(first);
    let mut warm = Vec::new();
    let mut running = None;
    for i in 0..5 {
        let (guard, took) = start_to_ready(&bin, data.path(), &fake, &tg).await;
        warm.push(took);
        if i < 4 {
            stop(guard);
        } else {
            running = Some(guard);
        }
    }
    warm.sort();
    let guard = running.expect("the last start keeps running");
    let pid = guard.0.as_ref().expect("running").id();

    // Idle: the streams are subscribed and the warm-up is done; let the allocator settle.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let rss = rss_kib(pid).expect("VmRSS");
    let size = std::fs::metadata(&bin).expect("the binary").len();
    stop(guard);

    println!("binary: {bin}");
    println!("release binary size: {:.1} MB ({size} bytes)", size as f64 / 1e6);
    println!("start to ready, first start (creates the database): {} ms", cold.as_millis());
    println!(
        "start to ready, warm (median of {}): {} ms (min {} ms, max {} ms)",
        warm.len(),
        warm[warm.len() / 2].as_millis(),
        warm[0].as_millis(),
        warm[warm.len() - 1].as_millis()
    );
    println!("idle RSS watching {} symbols: {:.1} MB", BASES.len(), rss as f64 / 1024.0);
}
