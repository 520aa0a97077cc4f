//! The `bert` binary: parses arguments and hands over to the application layer.

use bert::app::cli::{Cli, Commands};
use bert::app::config::Config;
use bert::app::{AppError, backtest, demo, doctor, journal, run};
use clap::Parser;

fn main() {
    // clap prints usage errors itself and exits with code 2.
    let cli = Cli::parse();
    let result =
        Config::from_env(cli.config.as_deref()).map_err(AppError::from).and_then(|config| match &cli.command {
            Commands::Run(args) if args.print_config => {
                print!("{}", config.printable());
                Ok(())
            }
            Commands::Run(_) => {
                run::init_logs(config.log_format);
                runtime()?.block_on(run::run(config))
            }
            Commands::Doctor => {
                init_quiet_logs();
                runtime()?.block_on(doctor::run(&config))
            }
            Commands::Demo(args) => {
                init_quiet_logs();
                ensure_dir(&config).and_then(|()| demo::run(&config, args))
            }
            Commands::Backtest(args) => {
                init_quiet_logs();
                ensure_dir(&config).and_then(|()| backtest::run(&config, args))
            }
            Commands::Journal(args) => {
                init_quiet_logs();
                journal::run(&config, args)
            }
        });
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::Failed(format!("cannot start the async runtime: {e}")))
}

fn ensure_dir(config: &Config) -> Result<(), AppError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| AppError::Failed(format!("cannot create the data folder {}: {e}", config.data_dir.display())))
}

/// Warnings and errors to stderr (stdout carries the chat transcript and reports).
fn init_quiet_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
