//! `bert journal`: the event journal as JSON lines.

use super::AppError;
use super::cli::JournalArgs;
use super::config::Config;
use crate::store::Store;
use std::io::Write as _;

pub fn run(config: &Config, args: &JournalArgs) -> Result<(), AppError> {
    let path =
        if args.demo { super::demo::demo_db_path(&config.data_dir) } else { super::service_db_path(&config.data_dir) };
    if !path.exists() {
        return Err(AppError::Failed(format!("no journal at {} yet", path.display())));
    }
    let store = Store::open(&path).map_err(|e| AppError::Failed(e.to_string()))?;
    let lines = store.journal_json_lines(args.since).map_err(|e| AppError::Failed(e.to_string()))?;
    let out = std::io::stdout();
    let mut out = out.lock();
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            break; // stdout closed (e.g. piped into `head`)
        }
    }
    Ok(())
}
