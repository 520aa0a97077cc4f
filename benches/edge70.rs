//! Edge70 throughput: closed daily candles ingested per second by `Edge70::on_candle`, over the
//! built-in synthetic market (target: at least 20 million candles/s in release builds, so that
//! backtests and parameter sweeps over thousands of symbol-years stay instant).
//!
//! Run with `cargo bench --bench edge70`.

use bert::market::SyntheticMarket;
use bert::strategy::{Edge70, Edge70Params};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn edge70_on_candle(c: &mut Criterion) {
    let market = SyntheticMarket::default_market();
    let total: usize = market.series.iter().map(|s| s.candles.len()).sum();
    let mut group = c.benchmark_group("edge70");
    group.throughput(Throughput::Elements(total as u64));
    group.bench_function("on_candle/default_market", |b| {
        b.iter(|| {
            let mut signals = 0usize;
            for series in &market.series {
                let mut edge = Edge70::new(Edge70Params::default());
                for candle in &series.candles {
                    if edge.on_candle(black_box(candle)).is_some() {
                        signals += 1;
                    }
                }
            }
            black_box(signals)
        })
    });
    group.finish();
}

fn synthetic_generate(c: &mut Criterion) {
    let mut group = c.benchmark_group("synthetic");
    group.bench_function("generate/1100_days_6_symbols", |b| {
        b.iter(|| SyntheticMarket::generate(black_box(70), black_box(1100)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // No plots: criterion's plotters backend needs system fonts, which servers and CI images
    // often lack (it panics with `FontUnavailable`); the numbers are printed either way.
    config = Criterion::default().without_plots();
    targets = edge70_on_candle, synthetic_generate
}
criterion_main!(benches);
