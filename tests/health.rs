//! `/healthz` and `/metrics` over real HTTP: each unhealthy state answers 503 with its reason in
//! JSON, and the metrics parse as the Prometheus text exposition format. Time is injected, so
//! a stale outbox needs no waiting.

use bert::app::driver::{self, DriverParts, EngineHandle, ManualClock, Metrics, Recipients};
use bert::app::health::{self, HealthState};
use bert::domain::{AssetCode, Symbol, SymbolFilters, Timestamp};
use bert::engine::{Category, Engine, Settings};
use bert::exchange::paper::{PaperBook, PaperConfig, PaperExchange};
use bert::store::{OutboxBody, OutboxRow, Store};
use rust_decimal_macros::dec;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const T0: i64 = 1_700_000_000_000;

struct Service {
    url: String,
    handle: EngineHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    clock: Arc<ManualClock>,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The engine thread over a paper exchange, and the health listener on 127.0.0.1:0.
async fn start(paper: bool) -> Service {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("bert.redb")).unwrap());
    let usdt = AssetCode::new("USDT").unwrap();
    let mut book = PaperBook::new(PaperConfig::default());
    let btc = Symbol::parse("BTC", usdt).unwrap();
    book.list_symbol(btc, SymbolFilters::typical(dec!(0.01), dec!(0.00001), dec!(5)));
    book.deposit(usdt, dec!(10000));
    let metrics = Arc::new(Metrics::default());
    let clock = Arc::new(ManualClock::new(Timestamp(T0)));
    let parts = DriverParts {
        engine: Engine::new(Settings::default(), "t"),
        store: store.clone(),
        exchange: Arc::new(PaperExchange::new(book)),
        recipients: Recipients { alert_chats: vec![-100] },
        outbox: Arc::new(Notify::new()),
        metrics: metrics.clone(),
        clock: clock.clone(),
    };
    let (handle, thread) = driver::start(parts);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    let state = HealthState {
        engine: handle.clone(),
        store: store.clone(),
        metrics: metrics.clone(),
        paper,
        clock: clock.clone(),
    };
    tokio::spawn(health::serve(listener, state, stop.clone()));
    Service { url, handle, thread: Some(thread), store, metrics, clock, stop, _dir: dir }
}

/// GET `/healthz`: the status code and the JSON body.
async fn healthz(s: &Service) -> (u16, serde_json::Value) {
    let resp = reqwest::get(format!("{}/healthz", s.url)).await.expect("the health listener answers");
    let code = resp.status().as_u16();
    assert_eq!(resp.headers()["content-type"], "application/json");
    (code, resp.json().await.expect("JSON"))
}

fn reasons(body: &serde_json::Value) -> Vec<String> {
    body["reasons"]
        .as_array()
        .map(|r| r.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

fn queued_alert(at: i64) -> OutboxRow {
    OutboxRow {
        chat: -100,
        category: Category::Fills,
        position: None,
        body: OutboxBody::Text { html: "an alert Telegram has not taken yet".into() },
        created_at: Timestamp(at),
        attempts: 0,
    }
}

#[tokio::test]
async fn a_healthy_paper_service_answers_200() {
    let s = start(true).await;
    let (code, body) = healthz(&s).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn a_live_service_is_unhealthy_while_its_user_stream_is_down() {
    let s = start(false).await;
    let (code, body) = healthz(&s).await;
    assert_eq!(code, 503);
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(reasons(&body), ["user data stream down"]);

    s.metrics.stream_up.store(1, Ordering::Relaxed);
    assert_eq!(healthz(&s).await.0, 200);
}

#[tokio::test]
async fn an_outbox_whose_oldest_message_waits_five_minutes_is_unhealthy() {
    let s = start(true).await;
    s.store.enqueue(vec![queued_alert(T0)]).unwrap();

    // Waiting is normal for a while (rate limits, a short Telegram outage).
    s.clock.set(Timestamp(T0 + 4 * 60_000));
    assert_eq!(healthz(&s).await.0, 200);

    s.clock.set(Timestamp(T0 + 6 * 60_000));
    let (code, body) = healthz(&s).await;
    assert_eq!(code, 503);
    assert_eq!(reasons(&body), ["outbox stalled: oldest message waiting 360 s"]);

    // The worker delivered it: healthy again.
    let (seq, _) = s.store.outbox_peek(10).unwrap().into_iter().next().expect("the queued row");
    assert!(s.store.outbox_delete(seq).unwrap());
    assert_eq!(healthz(&s).await.0, 200);
}

#[tokio::test]
async fn a_stopped_engine_is_unhealthy_and_every_reason_is_listed() {
    let mut s = start(false).await;
    s.handle.shutdown().await;
    let thread = s.thread.take().expect("started");
    tokio::task::spawn_blocking(move || thread.join().expect("the engine thread ends without panicking"))
        .await
        .unwrap();
    let (code, body) = healthz(&s).await;
    assert_eq!(code, 503);
    assert_eq!(reasons(&body), ["engine not responding", "user data stream down"]);
}

#[tokio::test]
async fn metrics_are_valid_prometheus_text_exposition() {
    let s = start(true).await;
    s.store.enqueue(vec![queued_alert(T0 - 1_500)]).unwrap();
    s.metrics.telegram_429.store(3, Ordering::Relaxed);
    let resp = reqwest::get(format!("{}/metrics", s.url)).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = resp.text().await.unwrap();

    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("parses as Prometheus text");
    let value = |name: &str| {
        let sample = scrape.samples.iter().find(|s| s.metric == name).unwrap_or_else(|| panic!("{name} missing"));
        match sample.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
            ref other => panic!("{name} is {other:?}"),
        }
    };
    for name in [
        "bert_orders_placed_total",
        "bert_orders_rejected_total",
        "bert_orders_unknown_total",
        "bert_fills_total",
        "bert_stream_reconnects_total",
        "bert_reconciliation_corrections_total",
        "bert_circuit_breaker_open",
        "bert_outbox_depth",
        "bert_outbox_oldest_age_seconds",
        "bert_telegram_429_total",
        "bert_engine_event_lag_milliseconds",
    ] {
        assert!(scrape.docs.contains_key(name), "{name} has HELP text");
        value(name);
    }
    assert_eq!(value("bert_telegram_429_total"), 3.0);
    assert_eq!(value("bert_outbox_depth"), 1.0);
    assert_eq!(value("bert_outbox_oldest_age_seconds"), 1.5);
    assert!(matches!(
        scrape.samples.iter().find(|s| s.metric == "bert_fills_total").unwrap().value,
        prometheus_parse::Value::Counter(_)
    ));
}
