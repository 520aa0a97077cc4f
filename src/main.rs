//! The `bert` binary: parses arguments and hands over to the application layer.

use bert::app::cli::{Cli, Commands};
use bert::app::config::Config;
use bert::app::{AppError, backtest, demo, journal};
use clap::Parser;

fn main() {
    // clap prints usage errors itself and exits with code 2.
    let cli = Cli::parse();
    init_logs();
    let result =
        Config::from_env(cli.config.as_deref()).map_err(AppError::from).and_then(|config| match &cli.command {
            Commands::Demo(args) => ensure_dir(&config).and_then(|()| demo::run(&config, args)),
            Commands::Backtest(args) => ensure_dir(&config).and_then(|()| backtest::run(&config, args)),
            Commands::Journal(args) => journal::run(&config, args),
        });
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}

fn ensure_dir(config: &Config) -> Result<(), AppError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| AppError::Failed(format!("cannot create the data folder {}: {e}", config.data_dir.display())))
}

/// Warnings and errors to stderr (stdout carries the chat transcript and reports).
fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
