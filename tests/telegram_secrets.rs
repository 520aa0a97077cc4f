//! The bot token never appears in a log line or an error text, even when a network error
//! echoes the request URL (which contains it) or the API URL has a path prefix (where teloxide
//! does not redact it).
//!
//! One test binary with a global subscriber that records every log line (including teloxide's
//! own `log` records, bridged), so nothing escapes the check.

#[path = "support/fake_telegram/mod.rs"]
mod fake_telegram;

use bert::app::config::Secret;
use bert::app::driver::{self, DriverParts, Metrics, Recipients, SystemClock};
use bert::chat::auth::Roles;
use bert::domain::{AssetCode, Timestamp};
use bert::engine::{Category, Engine, Settings};
use bert::exchange::paper::{PaperBook, PaperConfig, PaperExchange};
use bert::store::{OutboxBody, OutboxRow, Store};
use bert::telegram::api::{BotApi, MessageRequest};
use bert::telegram::{self, BotDeps, OutboxConfig, TelegramConfig, TelegramError};
use fake_telegram::{FakeTelegram, TOKEN};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = Buf(buf.clone());
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
        buf
    })
    .clone()
}

fn log_text() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap_or_else(|p| p.into_inner())).to_string()
}

/// A URL where nothing listens.
fn dead_url(path: &str) -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}{path}", l.local_addr().unwrap());
    drop(l);
    url
}

fn secret_parts() -> Vec<&'static str> {
    // The whole token and its secret half must both be absent.
    vec![TOKEN, TOKEN.split(':').nth(1).unwrap()]
}

fn assert_clean(text: &str, what: &str) {
    for part in secret_parts() {
        assert!(!text.contains(part), "{what} contains the token: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_errors_do_not_reveal_the_token() {
    logs();
    for path in ["", "/prefix"] {
        let api = BotApi::new(TOKEN, &dead_url(path), Duration::from_secs(2)).unwrap();
        let request = MessageRequest { chat: 1, text: "x".into(), html: true, reply_to: None, buttons: vec![] };
        let error = api.send_message(&request).await.unwrap_err();
        assert_clean(&error.to_string(), "the send error");
        assert_clean(&format!("{error:?}"), "the send error (debug)");
        assert!(error.to_string().contains("connect"), "{error}");
        assert_clean(&format!("{api:?}"), "the client's Debug");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_and_the_bot_log_no_token_when_telegram_is_unreachable() {
    logs();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("bert.redb")).unwrap());
    let row = OutboxRow {
        chat: 5,
        category: Category::Reply,
        position: None,
        body: OutboxBody::Text { html: "hello".into() },
        created_at: Timestamp(0),
        attempts: 0,
    };
    store.enqueue(vec![row]).unwrap();
    let notify = Arc::new(Notify::new());
    let usdt = AssetCode::new("USDT").unwrap();
    let mut cfg = TelegramConfig::new(Secret::new(TOKEN), dead_url("/prefix/"), Roles::new([1], []), usdt);
    cfg.outbox = OutboxConfig {
        backoff_base: Duration::from_millis(20),
        backoff_cap: Duration::from_millis(100),
        ..OutboxConfig::default()
    };
    let (engine, _thread) = driver::start(DriverParts {
        engine: Engine::new(Settings::default(), store.instance_tag()),
        store: store.clone(),
        exchange: Arc::new(PaperExchange::new(PaperBook::new(PaperConfig::default()))),
        recipients: Recipients::default(),
        outbox: notify.clone(),
        metrics: Arc::new(Metrics::default()),
        clock: Arc::new(SystemClock),
    });
    let stop = CancellationToken::new();
    let outbox = tokio::spawn(telegram::run_outbox(cfg.clone(), store.clone(), notify.clone(), stop.clone()));
    let deps =
        BotDeps { store: store.clone(), engine: engine.clone(), notify, clock: Arc::new(SystemClock), hook: None };
    let bot = tokio::spawn(telegram::run_bot(cfg, deps, stop.clone()));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(10), outbox).await.unwrap().unwrap().unwrap();
    tokio::time::timeout(Duration::from_secs(10), bot).await.unwrap().unwrap().unwrap();
    engine.shutdown().await;
    let text = log_text();
    assert!(text.contains("send failed"), "the outbox logged its failures: {text}");
    assert!(text.contains("getMe failed"), "the bot logged its failures: {text}");
    assert!(text.contains("Connection refused"), "the cause is logged: {text}");
    assert_clean(&text, "the logs");
    assert_eq!(store.outbox_len().unwrap(), 1, "the row is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_stops_the_bot_with_a_clean_error() {
    logs();
    let fake = FakeTelegram::start().await;
    let wrong = "987654321:AAWrongTokenWrongTokenWrongToken12345";
    let usdt = AssetCode::new("USDT").unwrap();
    let cfg = TelegramConfig::new(Secret::new(wrong), fake.url(), Roles::default(), usdt);
    assert!(!format!("{cfg:?}").contains("WrongToken"), "the config's Debug hides the token");
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("bert.redb")).unwrap());
    let notify = Arc::new(Notify::new());
    let (engine, _thread) = driver::start(DriverParts {
        engine: Engine::new(Settings::default(), store.instance_tag()),
        store: store.clone(),
        exchange: Arc::new(PaperExchange::new(PaperBook::new(PaperConfig::default()))),
        recipients: Recipients::default(),
        outbox: notify.clone(),
        metrics: Arc::new(Metrics::default()),
        clock: Arc::new(SystemClock),
    });
    let deps = BotDeps { store, engine: engine.clone(), notify, clock: Arc::new(SystemClock), hook: None };
    let result = tokio::time::timeout(Duration::from_secs(10), telegram::run_bot(cfg, deps, CancellationToken::new()))
        .await
        .expect("returns at once");
    let Err(e @ TelegramError::Unauthorized(_)) = result else { panic!("expected Unauthorized, got {result:?}") };
    assert!(!e.to_string().contains("WrongToken"), "{e}");
    assert!(!log_text().contains("WrongToken"));
    engine.shutdown().await;
}
