//! The application layer: the CLI, configuration, and the drivers that run the engine.

pub mod backtest;
pub mod cli;
pub mod config;
pub mod demo;
pub mod doctor;
pub mod driver;
pub mod health;
pub mod journal;
pub mod patience;
pub mod reconcile;
pub mod run;
pub mod sim;

use std::fmt;
use std::path::{Path, PathBuf};

/// The service's database file inside `BERT_DATA_DIR`.
pub fn service_db_path(data_dir: &Path) -> PathBuf {
    data_dir.join("bert.redb")
}

/// How a subcommand failed, mapped to the process exit code by `main`.
#[derive(Debug)]
pub enum AppError {
    /// Bad configuration or arguments: exit code 2.
    Usage(String),
    /// Anything else: exit code 1.
    Failed(String),
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Usage(m) | AppError::Failed(m) => f.write_str(m),
        }
    }
}

impl AppError {
    pub fn exit_code(&self) -> i32 {
        match self {
            AppError::Usage(_) => 2,
            AppError::Failed(_) => 1,
        }
    }
}

impl From<config::ConfigError> for AppError {
    fn from(e: config::ConfigError) -> Self {
        AppError::Usage(e.to_string())
    }
}
