//! Engine benchmarks.
//!
//! * `engine/durable_event`: one engine event including its durable commit (journal + state +
//!   outbox in one redb transaction), over the events of a real replay, next to
//!   `engine/bare_redb_commit`: a bare redb write transaction of the same byte size, measured in
//!   the same run. The ratio of the two is the figure that matters (target ≤ 1.3): it says how
//!   much Bert adds on top of the fsync it cannot avoid. p50/p99 are printed for both.
//! * `backtest/synthetic`: `bert backtest`'s in-memory replay over the synthetic market, in
//!   candles per second (target ≥ 1 M/s).

#[path = "support/bare_commit.rs"]
mod bare_commit;

use bare_commit::{BareCommit, percentile};
use bert::app::backtest;
use bert::app::sim::Simulation;
use bert::domain::{Balance, Timestamp};
use bert::engine::{Engine, Event, Settings};
use bert::market::synthetic::SyntheticMarket;
use bert::store::Store;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal_macros::dec;
use std::time::{Duration, Instant};

/// The events of the demo replay that change state (the ones that commit), with the time each
/// happened, recorded once so both measurements see the same workload.
fn recorded_events() -> Vec<(Timestamp, Event)> {
    let market = SyntheticMarket::default_market();
    let settings = Settings { auto_trade: true, ..Settings::default() };
    let mut sim = Simulation::new(settings, "bench", &market.series, dec!(10000), None);
    sim.record_events();
    sim.replay(&market.series).expect("in-memory replay cannot fail");
    sim.take_recorded()
}

fn durable(c: &mut Criterion) {
    let market = SyntheticMarket::default_market();
    let events = recorded_events();
    let setup: Vec<Event> = vec![
        Event::Filters(market.series.iter().map(|s| (s.symbol, s.filters.clone())).collect()),
        Event::Balances(vec![Balance { asset: Settings::default().quote, free: dec!(10000), locked: dec!(0) }]),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    // Replays the recorded events through a fresh engine + store; returns the per-event
    // latencies of events that committed and the bytes each commit wrote.
    let run = |path: &std::path::Path| -> (Vec<Duration>, u64) {
        let _ = std::fs::remove_file(path);
        let store = Store::open(path).expect("open store");
        let mut engine = Engine::new(Settings { auto_trade: true, ..Settings::default() }, "bench");
        let mut lat = Vec::new();
        for e in &setup {
            engine.process(e, Timestamp(0));
        }
        for (now, event) in &events {
            let t0 = Instant::now();
            let fx = engine.process(event, *now);
            if !fx.is_empty() {
                store.commit(*now, event, &fx, &|_| vec![1]).expect("commit");
                lat.push(t0.elapsed());
            }
        }
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        (lat, size)
    };

    // The recorded list holds the exchange's answers too, so a fresh engine fed the same events
    // makes the same decisions; the store writes what a live run would.
    let (mut lat, file_size) = run(&dir.path().join("engine.redb"));
    lat.sort();
    let commits = lat.len().max(1) as u64;
    // Same byte volume per commit for the baseline (file size is an upper bound incl. pages).
    let bytes_per_commit = (file_size / commits).clamp(256, 64 * 1024) as usize;

    let mut bare_commit = BareCommit::new(&dir.path().join("bare.redb"), bytes_per_commit);
    let bare = bare_commit.latencies(lat.len().max(100));
    let (e50, e99, b50, b99) =
        (percentile(&lat, 0.5), percentile(&lat, 0.99), percentile(&bare, 0.5), percentile(&bare, 0.99));
    println!(
        "durable engine event: {} events, p50 {:?}, p99 {:?}; bare redb commit ({} B): p50 {:?}, p99 {:?}; ratio p50 {:.2}, p99 {:.2}",
        lat.len(),
        e50,
        e99,
        bytes_per_commit,
        b50,
        b99,
        e50.as_secs_f64() / b50.as_secs_f64().max(1e-12),
        e99.as_secs_f64() / b99.as_secs_f64().max(1e-12)
    );

    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    group.throughput(Throughput::Elements(lat.len() as u64));
    group.bench_function("durable_replay", |b| b.iter(|| run(&dir.path().join("engine-iter.redb"))));
    group.throughput(Throughput::Elements(1));
    group.bench_function("bare_redb_commit", |b| b.iter(|| bare_commit.commit()));
    group.finish();
}

fn backtest_throughput(c: &mut Criterion) {
    let market = SyntheticMarket::default_market();
    let candles: usize = market.series.iter().map(|s| s.candles.len()).sum();
    let mut group = c.benchmark_group("backtest");
    group.throughput(Throughput::Elements(candles as u64));
    group.bench_function("synthetic", |b| {
        b.iter(|| {
            let settings = Settings { auto_trade: true, ..Settings::default() };
            backtest::replay(settings, &market.series, dec!(10000)).expect("replay")
        })
    });
    group.finish();
}

criterion_group!(benches, durable, backtest_throughput);
criterion_main!(benches);
