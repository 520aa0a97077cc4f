//! Command-line surface (the operator contract's subcommands). Usage errors exit with code 2.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "bert", version, about = "A Telegram-first personal trading assistant for Binance spot")]
pub struct Cli {
    /// TOML configuration file (env vars win over it).
    #[arg(long, global = true, env = "BERT_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Commands,
}

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Run the whole engine offline over the built-in synthetic market, printing every alert.
    Demo(DemoArgs),
    /// Replay candles through the same engine in memory and print the report.
    Backtest(BacktestArgs),
    /// Run the service: Telegram bot, engine and exchange, as configured.
    Run(RunArgs),
    /// Check the configuration, the exchange (clock, key permissions, symbols) and Telegram.
    Doctor,
    /// Print the event journal as JSON lines.
    Journal(JournalArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Print the effective configuration (secrets masked) and exit.
    #[arg(long)]
    pub print_config: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep a prompt open after the replay where chat commands can be typed (/list, /enter ETH).
    #[arg(long)]
    pub interactive: bool,
    /// Starting paper capital in the quote asset.
    #[arg(long, default_value = "10000", value_name = "AMOUNT")]
    pub capital: rust_decimal::Decimal,
    /// Seed of the synthetic market.
    #[arg(long, default_value_t = 70)]
    pub seed: u64,
    /// Days of synthetic market to replay.
    #[arg(long, default_value_t = 1100, value_parser = clap::value_parser!(u32).range(60..=20000))]
    pub days: u32,
    /// Print only the summary, not every alert.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Folder of Binance kline dump files (SYMBOL-1d*.csv); the synthetic market when absent.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Also write every trade to this CSV file.
    #[arg(long, value_name = "PATH")]
    pub trades_csv: Option<PathBuf>,
    /// Where to write the equity chart PNG (default: DATA_DIR/backtest-equity.png).
    #[arg(long, value_name = "PATH")]
    pub chart: Option<PathBuf>,
    /// Starting capital in the quote asset.
    #[arg(long, default_value = "10000", value_name = "AMOUNT")]
    pub capital: rust_decimal::Decimal,
    /// Seed of the synthetic market (without --data).
    #[arg(long, default_value_t = 70)]
    pub seed: u64,
    /// Days of synthetic market (without --data).
    #[arg(long, default_value_t = 1100, value_parser = clap::value_parser!(u32).range(60..=200000))]
    pub days: u32,
}

#[derive(Debug, Args)]
pub struct JournalArgs {
    /// Print only the entries after SEQ (the last sequence number already seen).
    #[arg(long, default_value_t = 0, value_name = "SEQ")]
    pub since: u64,
    /// Read the journal of the last `bert demo` run instead of the service's.
    #[arg(long)]
    pub demo: bool,
}
