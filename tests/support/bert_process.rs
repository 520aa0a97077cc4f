//! Running the real `bert` binary in tests: the environment that points it at the fakes, a guard
//! that kills it if a test fails half-way, and bounded polling.

#![allow(dead_code)] // each test file uses a different part

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port that was free a moment ago (the listener is dropped before `bert` binds it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `bert SUBCOMMAND` with a clean environment (nothing from the developer's shell leaks in),
/// logs as JSON, output captured unless `BERT_TEST_SHOW` is set.
pub fn bert(subcommand: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bert"));
    cmd.arg(subcommand).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd.env("BERT_LOG_FORMAT", "json");
    let show = std::env::var("BERT_TEST_SHOW").is_ok();
    cmd.stdout(if show { Stdio::inherit() } else { Stdio::piped() });
    cmd.stderr(if show { Stdio::inherit() } else { Stdio::piped() });
    cmd
}

/// Points `cmd` at a fake Binance (testnet mode, signed with the fake's key).
pub fn with_binance(cmd: &mut Command, rest: &str, ws_api: &str, stream: &str, key: &str, secret: &str) {
    cmd.env("BINANCE_API_KEY", key)
        .env("BINANCE_API_SECRET", secret)
        .env("BERT_EXCHANGE", "testnet")
        .env("BERT_BINANCE_REST_URL", rest)
        .env("BERT_BINANCE_WS_API_URL", ws_api)
        .env("BERT_BINANCE_STREAM_URL", stream);
}

/// Points `cmd` at a fake Telegram.
pub fn with_telegram(cmd: &mut Command, url: &str, token: &str) {
    cmd.env("TELEGRAM_BOT_TOKEN", token).env("BERT_TELEGRAM_API_URL", url);
}

/// Kills the process if the test fails half-way, so no `bert` outlives its test.
pub struct Guard(pub Option<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// GET `url`: status and body, `None` while nothing answers.
pub async fn get(url: &str) -> Option<(u16, String)> {
    let resp = reqwest::get(url).await.ok()?;
    let code = resp.status().as_u16();
    Some((code, resp.text().await.ok()?))
}

/// Polls `cond` until it holds (bounded by `secs`): the service works asynchronously.
pub async fn eventually<F: std::future::Future<Output = bool>>(what: &str, secs: u64, mut cond: impl FnMut() -> F) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if cond().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Resident memory of a process in KiB, from `/proc` (Linux).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
