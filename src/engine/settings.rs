//! The engine's trading rules, validated once at start.

use crate::domain::AssetCode;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

/// Risk and execution rules (operator contract defaults).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The quote asset positions are sized and valued in.
    pub quote: AssetCode,
    /// Share of portfolio value lost if the stop is hit (`BERT_RISK_PER_TRADE_PCT`).
    pub risk_per_trade_pct: Decimal,
    /// Stop distance below the average entry (`BERT_STOP_PCT`).
    pub stop_pct: Decimal,
    /// Cap on one position's share of the portfolio (`BERT_MAX_POSITION_PCT`).
    pub max_position_pct: Decimal,
    /// Cap on open positions (`BERT_MAX_OPEN_POSITIONS`).
    pub max_open_positions: u32,
    /// Cap on the summed risk of all open positions (`BERT_MAX_PORTFOLIO_RISK_PCT`).
    pub max_portfolio_risk_pct: Decimal,
    /// Entry is a LIMIT IOC at most this far above the reference price (`BERT_ENTRY_SLIPPAGE_PCT`).
    pub entry_slippage_pct: Decimal,
    /// The stop's limit price as a fraction of its trigger (0.8: the original system's value;
    /// a gap so the stop still fills in a fast fall).
    pub stop_limit_ratio: Decimal,
    /// Strategy signals trade by themselves (`BERT_AUTO_TRADE`).
    pub auto_trade: bool,
    /// How long after sending an order a "not found" answer may still mean "not visible yet".
    pub query_grace_ms: i64,
    /// Delay between retries of queries, cancels and re-sends.
    pub retry_ms: i64,
    /// The user stream may be down this long before new entries pause.
    pub stream_down_breaker_ms: i64,
    /// Consecutive failed requests that open the circuit breaker.
    pub failures_breaker: u32,
    /// Period of the open-positions performance report (`BERT_PERFORMANCE_EVERY`); `None`: off.
    #[serde(default)]
    pub performance_every_ms: Option<i64>,
    /// Warn when free BNB is worth less than this (quote asset) while fees are paid in BNB;
    /// 0 turns the warning off (`BERT_BNB_MIN`).
    pub bnb_min: Decimal,
    /// Warn about a free balance worth more than this (quote asset) that no open position
    /// explains; 0 turns the warning off (`BERT_UNEXPLAINED_BALANCE_MIN`).
    pub unexplained_min: Decimal,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            // "USDT" is a valid asset code by construction.
            quote: AssetCode::new("USDT").unwrap_or_else(|_| unreachable!()),
            risk_per_trade_pct: dec!(1),
            stop_pct: dec!(15),
            max_position_pct: dec!(20),
            max_open_positions: 10,
            max_portfolio_risk_pct: dec!(10),
            entry_slippage_pct: dec!(0.5),
            stop_limit_ratio: dec!(0.8),
            auto_trade: false,
            query_grace_ms: 60_000,
            retry_ms: 5_000,
            stream_down_breaker_ms: 30_000,
            failures_breaker: 3,
            // Off here (backtests and tests have no use for it); `bert run` takes the
            // configured period, 2 h by default.
            performance_every_ms: None,
            bnb_min: dec!(10),
            unexplained_min: dec!(10),
        }
    }
}

/// A setting that cannot work, named for the operator.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct SettingError {
    pub setting: &'static str,
    pub problem: String,
}

impl Settings {
    /// Checks every rule; the first bad one is reported with the env var that sets it.
    pub fn validate(&self) -> Result<(), SettingError> {
        let pct = |setting: &'static str, v: Decimal, max: Decimal| -> Result<(), SettingError> {
            if v <= Decimal::ZERO || v > max {
                Err(SettingError { setting, problem: format!("must be above 0 and at most {max}, got {v}") })
            } else {
                Ok(())
            }
        };
        pct("BERT_RISK_PER_TRADE_PCT", self.risk_per_trade_pct, dec!(100))?;
        pct("BERT_STOP_PCT", self.stop_pct, dec!(99))?;
        pct("BERT_MAX_POSITION_PCT", self.max_position_pct, dec!(100))?;
        pct("BERT_MAX_PORTFOLIO_RISK_PCT", self.max_portfolio_risk_pct, dec!(100))?;
        if self.entry_slippage_pct < Decimal::ZERO || self.entry_slippage_pct > dec!(10) {
            return Err(SettingError {
                setting: "BERT_ENTRY_SLIPPAGE_PCT",
                problem: format!("must be between 0 and 10, got {}", self.entry_slippage_pct),
            });
        }
        if self.max_open_positions == 0 {
            return Err(SettingError { setting: "BERT_MAX_OPEN_POSITIONS", problem: "must be at least 1".into() });
        }
        for (setting, v) in [("BERT_BNB_MIN", self.bnb_min), ("BERT_UNEXPLAINED_BALANCE_MIN", self.unexplained_min)] {
            if v < Decimal::ZERO {
                return Err(SettingError { setting, problem: format!("must not be negative, got {v}") });
            }
        }
        if self.stop_limit_ratio <= Decimal::ZERO || self.stop_limit_ratio > Decimal::ONE {
            return Err(SettingError {
                setting: "stop_limit_ratio",
                problem: format!("must be above 0 and at most 1, got {}", self.stop_limit_ratio),
            });
        }
        Ok(())
    }
}
