//! `/healthz` and `/metrics` on `BERT_HTTP_ADDR`. Read-only: there is no control API.

use super::driver::{Clock, EngineHandle, Metrics};
use crate::domain::Timestamp;
use crate::store::Store;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// An outbox whose oldest message waits longer than this is unhealthy (Telegram unreachable,
/// or the worker stuck).
const OUTBOX_STALE_MS: i64 = 5 * 60_000;

#[derive(Clone)]
pub struct HealthState {
    pub engine: EngineHandle,
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
    /// Paper mode has no user stream to watch.
    pub paper: bool,
    /// Where "now" comes from (injected in tests, so the outbox age needs no waiting).
    pub clock: Arc<dyn Clock>,
}

pub fn router(state: HealthState) -> Router {
    Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics)).with_state(state)
}

pub async fn serve(listener: tokio::net::TcpListener, state: HealthState, stop: CancellationToken) {
    let app = router(state);
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await }).await {
        tracing::error!(error = %e, "health listener failed");
    }
}

/// Why the service is not healthy; empty when it is.
pub async fn problems(state: &HealthState, now: Timestamp) -> Vec<String> {
    let mut problems = Vec::new();
    match tokio::time::timeout(Duration::from_secs(2), state.engine.view()).await {
        Ok(Ok(_)) => {}
        _ => problems.push("engine not responding".to_string()),
    }
    if !state.paper && state.metrics.stream_up.load(Ordering::Relaxed) == 0 {
        problems.push("user data stream down".to_string());
    }
    match state.store.outbox_oldest_at() {
        Ok(Some(t)) if now.since(t) > OUTBOX_STALE_MS => {
            problems.push(format!("outbox stalled: oldest message waiting {} s", now.since(t) / 1000));
        }
        Ok(_) => {}
        Err(e) => problems.push(format!("store unreadable: {e}")),
    }
    problems
}

async fn healthz(State(state): State<HealthState>) -> impl IntoResponse {
    let problems = problems(&state, state.clock.now()).await;
    let (code, body) = if problems.is_empty() {
        (StatusCode::OK, serde_json::json!({ "status": "ok" }))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({ "status": "unhealthy", "reasons": problems }))
    };
    (code, [(header::CONTENT_TYPE, "application/json")], body.to_string())
}

async fn metrics(State(state): State<HealthState>) -> impl IntoResponse {
    let body = render_metrics(&state, state.clock.now());
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body)
}

/// The Prometheus text exposition of every counter and gauge.
pub fn render_metrics(state: &HealthState, now: Timestamp) -> String {
    let m = &state.metrics;
    let depth = state.store.outbox_len().unwrap_or(0);
    let oldest_age = match state.store.outbox_oldest_at() {
        Ok(Some(t)) => now.since(t).max(0) as f64 / 1000.0,
        _ => 0.0,
    };
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let series: [(&str, &str, &str, String); 14] = [
        ("bert_orders_placed_total", "counter", "Orders the exchange accepted.", load(&m.orders_placed).to_string()),
        ("bert_orders_rejected_total", "counter", "Orders the exchange refused.", load(&m.orders_rejected).to_string()),
        (
            "bert_orders_unknown_total",
            "counter",
            "Orders whose outcome was unknown and had to be queried.",
            load(&m.orders_unknown).to_string(),
        ),
        ("bert_fills_total", "counter", "Execution reports carrying a fill.", load(&m.fills).to_string()),
        (
            "bert_stream_reconnects_total",
            "counter",
            "User data stream (re)subscriptions.",
            load(&m.stream_reconnects).to_string(),
        ),
        (
            "bert_reconciliation_corrections_total",
            "counter",
            "Differences reconciliation corrected.",
            load(&m.reconcile_corrections).to_string(),
        ),
        (
            "bert_circuit_breaker_open",
            "gauge",
            "1 while new entries are blocked by the circuit breaker.",
            load(&m.breaker_open).to_string(),
        ),
        ("bert_user_stream_up", "gauge", "1 while the user data stream is subscribed.", load(&m.stream_up).to_string()),
        ("bert_outbox_depth", "gauge", "Messages waiting in the outbox.", depth.to_string()),
        ("bert_outbox_oldest_age_seconds", "gauge", "Age of the oldest waiting message.", format!("{oldest_age:.3}")),
        ("bert_telegram_429_total", "counter", "Telegram rate-limit answers.", load(&m.telegram_429).to_string()),
        (
            "bert_engine_event_lag_milliseconds",
            "gauge",
            "Queueing delay of the last engine event.",
            m.event_lag_ms.load(Ordering::Relaxed).to_string(),
        ),
        ("bert_engine_events_total", "counter", "Events the engine processed.", load(&m.events).to_string()),
        ("bert_commit_failures_total", "counter", "Store commits that failed.", load(&m.commit_failures).to_string()),
    ];
    let mut out = String::new();
    for (name, kind, help, value) in series {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    }
    out
}
