//! `bert demo`: the whole engine offline. The paper exchange over the built-in synthetic market,
//! Edge70 trading by itself, risk sizing, exchange-side stops, every event journaled in redb, and
//! the console in place of Telegram. Prints every alert as a chat would show it, then a summary,
//! and writes the equity chart.

use super::AppError;
use super::cli::DemoArgs;
use super::config::Config;
use super::sim::{CONSOLE_CHAT, Simulation};
use crate::chat::views::{AlertsSwitch, account_of, receives};
use crate::console::{self, Console, ConsoleAction, ViewSource};
use crate::domain::{ClosedTrade, Timestamp};
use crate::engine::Settings;
use crate::i18n::Lang;
use crate::market::synthetic::SyntheticMarket;
use crate::report;
use crate::store::Store;
use std::io::{BufRead, Write as _};
use std::path::{Path, PathBuf};

/// The demo's database: separate from the service's, recreated on every run.
pub fn demo_db_path(data_dir: &Path) -> PathBuf {
    data_dir.join("demo.redb")
}

pub fn run(config: &Config, args: &DemoArgs) -> Result<(), AppError> {
    let started = std::time::Instant::now();
    // The demo shows the strategy trading by itself.
    let settings = Settings { auto_trade: true, ..config.settings.clone() };
    let market = if args.seed == 70 && args.days == 1100 {
        SyntheticMarket::default_market()
    } else {
        SyntheticMarket::generate(args.seed, args.days as usize)
    };
    let db = demo_db_path(&config.data_dir);
    if db.exists() {
        std::fs::remove_file(&db).map_err(|e| AppError::Failed(format!("cannot reset {}: {e}", db.display())))?;
    }
    let store = Store::open(&db).map_err(|e| AppError::Failed(e.to_string()))?;
    let tag = store.instance_tag();
    let mut sim = Simulation::new(settings, tag, &market.series, args.capital, Some(&store));

    let out = std::io::stdout();
    let mut out = out.lock();
    let print = |sim: &mut Simulation, out: &mut dyn std::io::Write| {
        for (at, msg) in sim.take_messages() {
            if !args.quiet {
                let _ = writeln!(out, "[{}] {}", at.date(), console::print_outgoing(&msg, Lang::En));
            }
        }
    };
    let _ = writeln!(
        out,
        "Bert demo: Edge70 on {} synthetic symbols, {} days, {} {} paper capital.\n",
        market.series.len(),
        args.days,
        args.capital,
        config.settings.quote
    );
    let days = market.series.iter().map(|s| s.candles.len()).max().unwrap_or(0);
    for day in 0..days {
        for s in &market.series {
            if let Some(c) = s.candles.get(day) {
                sim.candle(s.symbol, c).map_err(|e| AppError::Failed(e.to_string()))?;
            }
        }
        sim.record_day();
        print(&mut sim, &mut out);
    }

    let stats = report::stats(sim.closed_trades(), sim.equity());
    let final_value = sim.account_value();
    let _ = writeln!(out, "\n{}", summary_text(&stats, args.capital, final_value, &config.settings.quote.to_string()));
    let chart_path = config.data_dir.join("demo-equity.png");
    let png =
        crate::chart::equity_png("Bert demo: Edge70 on the synthetic market", sim.equity(), &sim.marks(), 1200, 600)
            .map_err(|e| AppError::Failed(e.to_string()))?;
    std::fs::write(&chart_path, png)
        .map_err(|e| AppError::Failed(format!("cannot write {}: {e}", chart_path.display())))?;
    let _ = writeln!(
        out,
        "Equity chart: {}\nJournal: {} (bert journal --demo)\nFinished in {:.1} s.",
        chart_path.display(),
        db.display(),
        started.elapsed().as_secs_f64()
    );

    if args.interactive {
        let _ = writeln!(
            out,
            "\nType chat commands (/list, /status, /balance, /performance, /chart, /alerts, /enter ETH, /exit ETH, \
             /help); 'quit' ends."
        );
        let _ = out.flush();
        let mut console = Console::new(CONSOLE_CHAT, config.settings.quote);
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            match console.handle_line(&line) {
                ConsoleAction::Engine(event) => sim.step(event).map_err(|e| AppError::Failed(e.to_string()))?,
                ConsoleAction::Reply(text) => {
                    let _ = writeln!(out, "{text}");
                }
                ConsoleAction::View(view) => {
                    let source = DemoViews { store: &store, sim: &sim, data_dir: &config.data_dir };
                    let _ = writeln!(out, "{}", console.answer_view(view, &source));
                }
                ConsoleAction::Quit => break,
                ConsoleAction::Nothing => {}
            }
            // What `/alerts` muted is not printed, as it would not be queued for a chat.
            let settings = store.chat_settings(CONSOLE_CHAT).unwrap_or_default();
            for (_, msg) in sim.take_messages() {
                if receives(&settings, &msg) {
                    let _ = writeln!(out, "{}", console.print(&msg));
                }
            }
            let _ = out.flush();
        }
    }
    Ok(())
}

/// The console's views over the demo: closed trades and the chat's settings from the demo's
/// store (as the bot reads them), the account from the engine, the chart in the data folder.
struct DemoViews<'a> {
    store: &'a Store,
    sim: &'a Simulation<'a>,
    data_dir: &'a Path,
}

impl ViewSource for DemoViews<'_> {
    fn closed_trades(&self) -> Result<Vec<ClosedTrade>, String> {
        self.store.closed_trades().map_err(|e| e.to_string())
    }

    fn account(&self) -> (Option<rust_decimal::Decimal>, rust_decimal::Decimal) {
        account_of(self.sim.engine.portfolio_value(), &self.sim.engine.position_views())
    }

    fn now(&self) -> Timestamp {
        self.sim.now()
    }

    fn chat_settings(&self, chat: i64) -> Result<crate::store::ChatSettings, String> {
        self.store.chat_settings(chat).map_err(|e| e.to_string())
    }

    fn switch_alerts(&self, chat: i64, switch: AlertsSwitch) -> Result<crate::store::ChatSettings, String> {
        self.store
            .update_chat_settings(chat, |s| {
                switch.apply(s);
            })
            .map_err(|e| e.to_string())
    }

    fn save_chart(&self, png: &[u8]) -> Result<PathBuf, String> {
        let path = self.data_dir.join(CONSOLE_CHART);
        std::fs::write(&path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }
}

/// The file `/chart` writes in the console (the end-of-run chart is `demo-equity.png`).
pub const CONSOLE_CHART: &str = "demo-chart.png";

/// The end-of-run report shared by `demo` and `backtest`.
pub fn summary_text(
    stats: &report::Stats,
    capital: rust_decimal::Decimal,
    final_value: rust_decimal::Decimal,
    quote: &str,
) -> String {
    use crate::i18n::{fmt_money, fmt_pct};
    let change = if capital.is_zero() {
        rust_decimal::Decimal::ZERO
    } else {
        (final_value - capital) / capital * rust_decimal::Decimal::ONE_HUNDRED
    };
    let mut s = String::new();
    s.push_str("Summary\n");
    s.push_str(&format!("  trades           {}\n", stats.trades));
    s.push_str(&format!("  wins / losses    {} / {}\n", stats.wins, stats.losses));
    s.push_str(&format!("  win rate         {}\n", fmt_pct(Lang::En, stats.win_rate_pct, false)));
    s.push_str(&format!("  P&L after fees   {} {quote}\n", fmt_money(Lang::En, stats.total_pnl)));
    s.push_str(&format!("  average trade    {} {quote}\n", fmt_money(Lang::En, stats.avg_pnl)));
    s.push_str(&format!("  fees paid        {} {quote}\n", fmt_money(Lang::En, stats.total_fees)));
    if let (Some(b), Some(w)) = (&stats.best, &stats.worst) {
        s.push_str(&format!(
            "  best / worst     {} {} / {} {}\n",
            b.symbol,
            fmt_money(Lang::En, b.pnl),
            w.symbol,
            fmt_money(Lang::En, w.pnl)
        ));
    }
    s.push_str(&format!(
        "  max drawdown     {} {quote} ({})\n",
        fmt_money(Lang::En, stats.max_drawdown),
        fmt_pct(Lang::En, stats.max_drawdown_pct, false)
    ));
    s.push_str(&format!(
        "  account          {} → {} {quote} ({})\n",
        fmt_money(Lang::En, capital),
        fmt_money(Lang::En, final_value),
        fmt_pct(Lang::En, change.round_dp(2), true)
    ));
    s
}
