//! `bert backtest`: the same engine and paper exchange as the demo, in memory, over the
//! synthetic market or Binance kline dumps; prints the report and writes the chart (and, on
//! request, every trade as CSV).

use super::AppError;
use super::cli::BacktestArgs;
use super::config::Config;
use super::sim::Simulation;
use crate::domain::ClosedTrade;
use crate::engine::Settings;
use crate::market::MarketSeries;
use crate::market::synthetic::SyntheticMarket;
use crate::report;
use std::fmt::Write as _;

/// Runs a backtest over `series` in memory; the result for the report.
pub struct BacktestResult {
    pub candles: usize,
    pub seconds: f64,
    pub stats: report::Stats,
    pub final_value: rust_decimal::Decimal,
}

/// The in-memory replay (also what the benchmark measures).
pub fn replay(
    settings: Settings,
    series: &[MarketSeries],
    capital: rust_decimal::Decimal,
) -> Result<(Simulation<'static>, usize), AppError> {
    let mut sim = Simulation::new(settings, "bt", series, capital, None);
    sim.discard_messages();
    let candles = sim.replay(series).map_err(|e| AppError::Failed(e.to_string()))?;
    Ok((sim, candles))
}

pub fn run(config: &Config, args: &BacktestArgs) -> Result<(), AppError> {
    let series = match &args.data {
        Some(dir) => {
            crate::market::csv::load_dir(dir, config.settings.quote).map_err(|e| AppError::Usage(e.to_string()))?
        }
        None => SyntheticMarket::generate(args.seed, args.days as usize).series,
    };
    if series.is_empty() {
        return Err(AppError::Usage("no candles to replay".into()));
    }
    let settings = Settings { auto_trade: true, ..config.settings.clone() };
    let started = std::time::Instant::now();
    let (sim, candles) = replay(settings, &series, args.capital)?;
    let seconds = started.elapsed().as_secs_f64();
    let stats = report::stats(sim.closed_trades(), sim.equity());
    let final_value = sim.account_value();
    let quote = config.settings.quote.to_string();
    println!(
        "Backtest: {} symbols, {candles} daily candles in {:.1} ms ({:.2} M candles/s).\n",
        series.len(),
        seconds * 1e3,
        candles as f64 / seconds.max(1e-9) / 1e6
    );
    println!("{}", super::demo::summary_text(&stats, args.capital, final_value, &quote));

    let chart_path = args.chart.clone().unwrap_or_else(|| config.data_dir.join("backtest-equity.png"));
    if let Some(parent) = chart_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| AppError::Failed(format!("cannot create {}: {e}", parent.display())))?;
    }
    let png = crate::chart::equity_png("Bert backtest: Edge70", sim.equity(), &sim.marks(), 1200, 600)
        .map_err(|e| AppError::Failed(e.to_string()))?;
    std::fs::write(&chart_path, png)
        .map_err(|e| AppError::Failed(format!("cannot write {}: {e}", chart_path.display())))?;
    println!("Equity chart: {}", chart_path.display());
    if let Some(path) = &args.trades_csv {
        std::fs::write(path, trades_csv(sim.closed_trades()))
            .map_err(|e| AppError::Failed(format!("cannot write {}: {e}", path.display())))?;
        println!("Trades: {}", path.display());
    }
    Ok(())
}

/// Every trade as CSV: symbol, entry time, entry price, quantity, exit time, exit price, exit
/// reason, fees, P&L (the contract's column list).
pub fn trades_csv(trades: &[ClosedTrade]) -> String {
    let mut out = String::from("symbol,entry_time,entry_price,quantity,exit_time,exit_price,exit_reason,fees,pnl\n");
    for t in trades {
        let reason = match t.exit_reason {
            Some(crate::domain::ExitReason::Manual { .. }) => "manual",
            Some(crate::domain::ExitReason::Signal) => "signal",
            Some(crate::domain::ExitReason::StopHit) => "stop",
            Some(crate::domain::ExitReason::Unprotectable) => "unprotectable",
            None => "",
        };
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            t.symbol,
            t.opened_at,
            t.avg_entry.round_dp(8).normalize(),
            t.qty.normalize(),
            t.closed_at,
            t.avg_exit.round_dp(8).normalize(),
            reason,
            t.fees.round_dp(8).normalize(),
            t.pnl.round_dp(8).normalize()
        );
    }
    out
}
