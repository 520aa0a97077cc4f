//! Portfolio warnings: BNB for fees running low (when fees are paid in BNB) and free balances
//! that no open position explains.
//!
//! Checked on the timer every [`CHECK_EVERY_MS`] and [`AFTER_FILL_MS`] after a fill (the
//! balances that follow a fill arrive as a separate stream message, so checking at the fill
//! itself would compare new positions with old balances). A check is put off while an entry or
//! exit is in flight, for the same reason.
//!
//! Each condition is alerted once when it appears and once ("resolved") when it clears. What is
//! raised lives in [`WarningState`] inside the engine's persisted meta, written in the same
//! transaction as the alert, so a restart neither repeats nor forgets a warning. (The check
//! timers ride along with the next write; losing them in a crash only makes a check run early.)

use super::notice::Notice;
use super::{Category, Effects, Engine, Write};
use crate::domain::{AssetCode, Fill, OrderRole, PositionStatus, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The periodic check (the original system checked every 6 hours).
pub const CHECK_EVERY_MS: i64 = 6 * 60 * 60 * 1000;
/// Delay between a fill and the check it causes (the original debounced 30 s).
pub const AFTER_FILL_MS: i64 = 30 * 1000;
/// Fees count as "paid in BNB" while a fill paid its fee in BNB within this window.
pub const BNB_FEES_WINDOW_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// The fee asset that gets a discount on Binance.
const BNB: &str = "BNB";

/// What is raised now, and when to check next. Persisted with the engine meta.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningState {
    /// The low-BNB warning is raised.
    #[serde(default)]
    pub bnb_low: bool,
    /// Assets named in the raised unexplained-balance warning (empty: not raised).
    #[serde(default)]
    pub unexplained: Vec<String>,
    /// The last fill whose fee was paid in BNB.
    #[serde(default)]
    pub bnb_fee_at: Option<Timestamp>,
    /// The last completed check.
    #[serde(default)]
    pub checked_at: Option<Timestamp>,
    /// A check is due at this time (set by fills).
    #[serde(default)]
    pub check_at: Option<Timestamp>,
}

impl WarningState {
    /// Nothing raised and nothing remembered (rows written before warnings existed look so).
    pub fn is_clear(&self) -> bool {
        *self == WarningState::default()
    }
}

/// One asset nobody explains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnexplainedBalance {
    pub asset: String,
    pub qty: Decimal,
    pub value: Decimal,
}

/// A portfolio warning raised or cleared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PortfolioNotice {
    /// Free BNB is worth less than `min` in the quote asset while fees are paid in BNB.
    BnbLow {
        free: Decimal,
        value: Decimal,
        min: Decimal,
        quote: String,
    },
    BnbOk {
        free: Decimal,
        value: Decimal,
        quote: String,
    },
    /// Free balances worth more than `min` each that no open position holds.
    Unexplained {
        assets: Vec<UnexplainedBalance>,
        min: Decimal,
        quote: String,
    },
    UnexplainedCleared,
}

impl Engine {
    /// A fill: remember whether fees are being paid in BNB and check soon.
    pub(super) fn note_fill_for_warnings(&mut self, fill: &Fill, now: Timestamp, fx: &mut Effects) {
        let w = &mut self.meta.warnings;
        let due = now.plus_millis(AFTER_FILL_MS);
        if w.check_at.is_none_or(|t| t > due) {
            w.check_at = Some(due);
        }
        if fill.fee_asset.as_str() == BNB && w.bnb_fee_at != Some(fill.time.max(now)) {
            w.bnb_fee_at = Some(fill.time.max(now));
            fx.writes.push(Write::Meta(self.meta.clone()));
        }
    }

    /// Timer: run the check when it is due.
    pub(super) fn tick_warnings(&mut self, now: Timestamp, fx: &mut Effects) {
        let w = &self.meta.warnings;
        let periodic = w.checked_at.is_none_or(|t| now.since(t) >= CHECK_EVERY_MS);
        let after_fill = w.check_at.is_some_and(|t| t <= now);
        if !(periodic || after_fill) {
            return;
        }
        if self.balances.is_empty() || !self.reconciled {
            return; // nothing (or nothing reliable yet, after a restart) known about the account
        }
        if self.trade_in_flight() {
            // Balances and positions disagree while orders execute: look again shortly.
            self.meta.warnings.check_at = Some(now.plus_millis(AFTER_FILL_MS));
            return;
        }
        self.check_portfolio(now, fx);
    }

    fn trade_in_flight(&self) -> bool {
        self.positions.values().any(|p| matches!(p.status, PositionStatus::Opening | PositionStatus::Closing))
            || self.orders.values().any(|o| o.is_open() && o.role != OrderRole::Stop)
    }

    /// Compares the account with the positions and raises or clears the warnings.
    pub(super) fn check_portfolio(&mut self, now: Timestamp, fx: &mut Effects) {
        let quote = self.settings.quote;
        let quote_name = quote.to_string();
        let mut warnings = self.meta.warnings.clone();
        warnings.checked_at = Some(now);
        warnings.check_at = None;

        // BNB for fees.
        let bnb = AssetCode::new(BNB).ok();
        let paying_in_bnb = warnings.bnb_fee_at.is_some_and(|t| now.since(t) < BNB_FEES_WINDOW_MS);
        let bnb_free = bnb.and_then(|a| self.balances.get(&a)).map(|b| b.free).unwrap_or_default();
        let bnb_value = if bnb == Some(quote) {
            Some(bnb_free)
        } else {
            bnb.and_then(|a| self.prices.get(&a)).map(|p| (bnb_free * p).round_dp(2))
        };
        let min = self.settings.bnb_min;
        match bnb_value {
            Some(value) if paying_in_bnb && min > Decimal::ZERO && value < min => {
                // Raised already: not said again.
                let first = !warnings.bnb_low;
                warnings.bnb_low = true;
                if first {
                    let n = PortfolioNotice::BnbLow { free: bnb_free, value, min, quote: quote_name.clone() };
                    fx.alert(Category::Warnings, None, None, Notice::Portfolio(n));
                }
            }
            Some(value) if warnings.bnb_low => {
                warnings.bnb_low = false;
                let n = PortfolioNotice::BnbOk { free: bnb_free, value, quote: quote_name.clone() };
                fx.alert(Category::Warnings, None, None, Notice::Portfolio(n));
            }
            None if paying_in_bnb && min > Decimal::ZERO => {
                tracing::warn!("BNB has no known price; the low-BNB check is skipped (watch BNB to enable it)");
            }
            _ => {}
        }

        // Free balances no position explains.
        let mut held: BTreeMap<AssetCode, Decimal> = BTreeMap::new();
        for p in self.positions.values() {
            *held.entry(p.symbol.base).or_default() += p.qty.max(Decimal::ZERO);
        }
        let min = self.settings.unexplained_min;
        let mut found = Vec::new();
        // Raised assets that cannot be valued right now (no price yet after a restart) stay
        // raised: not knowing is not "resolved".
        let mut unvalued = Vec::new();
        for b in self.balances.values() {
            if b.asset == quote || Some(b.asset) == bnb || b.free <= Decimal::ZERO {
                continue;
            }
            // What a position holds is explained, locked (in its stop) first, then free.
            let explained_free = (held.get(&b.asset).copied().unwrap_or_default() - b.locked).max(Decimal::ZERO);
            let qty = (b.free - explained_free).max(Decimal::ZERO);
            let Some(price) = self.prices.get(&b.asset) else {
                if qty > Decimal::ZERO && warnings.unexplained.contains(&b.asset.to_string()) {
                    unvalued.push(b.asset.to_string());
                }
                continue;
            };
            let value = (qty * price).round_dp(2);
            if min > Decimal::ZERO && value > min {
                found.push(UnexplainedBalance { asset: b.asset.to_string(), qty, value });
            }
        }
        let mut names: Vec<String> = found.iter().map(|u| u.asset.clone()).collect();
        names.extend(unvalued);
        names.sort();
        if names.is_empty() {
            if !warnings.unexplained.is_empty() {
                warnings.unexplained.clear();
                fx.alert(Category::Warnings, None, None, Notice::Portfolio(PortfolioNotice::UnexplainedCleared));
            }
        } else {
            // Alert again only when an asset joins; one leaving while others stay is not new.
            if found.iter().any(|u| !warnings.unexplained.contains(&u.asset)) {
                let n = PortfolioNotice::Unexplained { assets: found, min, quote: quote_name };
                fx.alert(Category::Warnings, None, None, Notice::Portfolio(n));
            }
            warnings.unexplained = names;
        }
        // The timers alone are not worth a write: after a restart the next check simply runs
        // at once, and what is raised (which is persisted) keeps it from repeating alerts.
        let raised_changed =
            warnings.bnb_low != self.meta.warnings.bnb_low || warnings.unexplained != self.meta.warnings.unexplained;
        self.meta.warnings = warnings;
        if raised_changed {
            fx.writes.push(Write::Meta(self.meta.clone()));
        }
    }
}
