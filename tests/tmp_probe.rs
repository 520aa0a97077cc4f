#[path = "support/fake_telegram/mod.rs"]
mod fake_telegram;
use bert::domain::Timestamp;
use bert::engine::Category;
use bert::store::{OutboxBody, OutboxRow, Store};
use bert::telegram::api::BotApi;
use bert::telegram::{Outbox, OutboxConfig, OutboxLimits};
use fake_telegram::{FakeTelegram, TOKEN};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

fn cpu() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let f: Vec<&str> = s.rsplit(')').next().unwrap().split_whitespace().collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / 100.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe() {
    for (chats, per) in [(20i64, 40usize), (60, 20), (1, 100)] {
        let fake = FakeTelegram::start().await;
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("b.redb")).unwrap());
        let rows: Vec<OutboxRow> = (0..per)
            .flat_map(|i| {
                (1..=chats).map(move |chat| OutboxRow {
                    chat,
                    category: Category::Reply,
                    position: None,
                    body: OutboxBody::Text { html: format!("m {i} {chat}") },
                    created_at: Timestamp(0),
                    attempts: 0,
                })
            })
            .collect();
        let total = rows.len();
        store.enqueue(rows).unwrap();
        let limits = OutboxLimits::TELEGRAM.scaled(100);
        let config =
            OutboxConfig { limits, coalesce_at: 0, poll: Duration::from_millis(20), ..OutboxConfig::default() };
        let api = BotApi::new(TOKEN, &fake.url(), config.request_timeout).unwrap();
        let stop = CancellationToken::new();
        let c0 = cpu();
        let t0 = Instant::now();
        let w = tokio::spawn(Outbox::new(store.clone(), api, config, Arc::new(Notify::new())).run(stop.clone()));
        fake.wait_for(Duration::from_secs(60), |s| s.len() >= total).await;
        let el = t0.elapsed();
        stop.cancel();
        let _ = w.await;
        let sent = fake.sent();
        let mut gaps = Vec::new();
        for c in 1..=chats {
            let t: Vec<Instant> = sent.iter().filter(|s| s.chat == c).map(|s| s.at).collect();
            for w in t.windows(2) {
                gaps.push(w[1].duration_since(w[0]).as_secs_f64() * 1000.0);
            }
        }
        gaps.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let n = gaps.len();
        println!(
            "chats {chats}: {total} in {:?}, cpu {:.2}s, gap ms p10 {:.2} p50 {:.2} p90 {:.2} max {:.2}",
            el,
            cpu() - c0,
            gaps[n / 10],
            gaps[n / 2],
            gaps[n * 9 / 10],
            gaps[n - 1]
        );
    }
}
