//! The outbox worker against the fake Bot API with every limit scaled up 10×: how close the
//! delivered message rate comes to the rate the limits allow (target ≥ 0.95).
//!
//! Two loads, each a fixed backlog delivered from an empty start:
//! * `per_chat`: 20 private chats × 40 messages. Bound by the per-chat limit: 20 × 10/s.
//! * `global`: 60 private chats × 20 messages. Bound by the overall limit: 300/s.
//!
//! The rate is measured at the fake (first to last arrival), the allowed rate follows from the
//! limits. Replies are used (never coalesced), so one row is one message. The fake enforces the
//! same scaled limits and the run fails if anything was over them.
//!
//! `cargo bench --bench outbox` prints `ratio` lines; the criterion timings are the time to
//! drain each backlog.

#[path = "../tests/support/fake_telegram/mod.rs"]
mod fake_telegram;

use bert::domain::Timestamp;
use bert::engine::Category;
use bert::store::{OutboxBody, OutboxRow, Store};
use bert::telegram::api::BotApi;
use bert::telegram::{Outbox, OutboxConfig, OutboxLimits};
use criterion::{Criterion, criterion_group, criterion_main};
use fake_telegram::{FakeTelegram, TOKEN};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// 10×: 10 messages a second per chat, 300 a second overall. At 100× the per-chat gap is 10 ms, finer
/// than a loaded 2-core machine schedules, so the figure would measure the machine, not the worker.
const SCALE: u32 = 10;

struct Load {
    name: &'static str,
    chats: i64,
    per_chat: usize,
}

/// Delivers the load once; returns (time to drain, delivered rate / allowed rate).
async fn run(load: &Load) -> (Duration, f64) {
    let fake = FakeTelegram::start().await;
    fake.enforce(SCALE, 0.25);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(dir.path().join("bench.redb")).expect("store"));
    let rows: Vec<OutboxRow> = (0..load.per_chat)
        .flat_map(|i| {
            (1..=load.chats).map(move |chat| OutboxRow {
                chat,
                category: Category::Reply,
                position: None,
                body: OutboxBody::Text { html: format!("message {i} to {chat}") },
                created_at: Timestamp(0),
                attempts: 0,
            })
        })
        .collect();
    let total = rows.len();
    store.enqueue(rows).expect("enqueue");
    let limits = OutboxLimits::TELEGRAM.scaled(SCALE);
    let config = OutboxConfig { limits, coalesce_at: 0, poll: Duration::from_millis(20), ..OutboxConfig::default() };
    let api = BotApi::new(TOKEN, &fake.url(), config.request_timeout).expect("client");
    let stop = CancellationToken::new();
    let started = Instant::now();
    let worker = tokio::spawn(Outbox::new(store.clone(), api, config, Arc::new(Notify::new())).run(stop.clone()));
    assert!(fake.wait_for(Duration::from_secs(60), |s| s.len() >= total).await, "not all delivered");
    let drained = started.elapsed();
    stop.cancel();
    let _ = worker.await;
    assert_eq!(fake.violations(), Vec::<String>::new(), "limits exceeded");
    let sent = fake.sent();
    assert_eq!(sent.len(), total, "nothing twice");
    let (first, last) = (sent[0].at, sent[total - 1].at);
    let span = last.duration_since(first).as_secs_f64();
    let delivered_rate = (total - 1) as f64 / span;
    let per_chat_rate = load.chats as f64 / limits.per_chat.as_secs_f64();
    let global_rate = 1.0 / limits.global.as_secs_f64();
    let allowed = per_chat_rate.min(global_rate);
    (drained, delivered_rate / allowed)
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let loads = [Load { name: "per_chat", chats: 20, per_chat: 40 }, Load { name: "global", chats: 60, per_chat: 20 }];
    let mut group = c.benchmark_group("outbox_10x");
    group.sample_size(10);
    for load in &loads {
        let ratios = Arc::new(Mutex::new(Vec::new()));
        let r = ratios.clone();
        group.bench_function(load.name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (t, ratio) = runtime.block_on(run(load));
                    r.lock().unwrap_or_else(|p| p.into_inner()).push(ratio);
                    total += t;
                }
                total
            })
        });
        let ratios = ratios.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mean = ratios.iter().sum::<f64>() / ratios.len().max(1) as f64;
        let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        println!(
            "ratio outbox_10x/{}: delivered/allowed mean {mean:.3}, min {min:.3} over {} runs (target >= 0.95)",
            load.name,
            ratios.len()
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
