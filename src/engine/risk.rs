//! Position sizing by the backend's rules only: a typed verdict, approved with a plan or refused
//! with a reason (the barter-rs `RiskApproved` / `RiskRefused` idea).
//!
//! ```text
//! value = portfolio × risk_per_trade% / stop%          (1% risk, 2% stop, 600 → 300)
//!       ≤ portfolio × max_position%
//!       ≤ free quote balance
//!       ≤ (portfolio × max_portfolio_risk% − risk already open) / stop%
//! qty   = floor_to_step(value / limit)                  limit = floor_to_tick(ref × (1 + slippage%))
//! ```
//! and refused when the open-position cap is reached or the result is under the exchange's
//! minimum order value.

use super::notice::{EntryPlan, Refusal, SizeBound};
use super::settings::Settings;
use crate::domain::{Symbol, SymbolFilters};
use rust_decimal::Decimal;

/// What sizing needs to know about the account.
#[derive(Clone, Debug)]
pub struct Account {
    /// Total value of all balances in the quote asset.
    pub portfolio: Decimal,
    pub free_quote: Decimal,
    pub open_positions: u32,
    /// Summed quote at risk of the open positions (to their stops).
    pub open_risk: Decimal,
}

fn pct(v: Decimal, p: Decimal) -> Decimal {
    v * p / Decimal::ONE_HUNDRED
}

/// Sizes an entry into `symbol` at `reference_price`.
pub fn size_entry(
    settings: &Settings,
    symbol: Symbol,
    filters: &SymbolFilters,
    reference_price: Decimal,
    account: &Account,
) -> Result<EntryPlan, Refusal> {
    if account.portfolio <= Decimal::ZERO {
        return Err(Refusal::NoPortfolio);
    }
    if account.open_positions >= settings.max_open_positions {
        return Err(Refusal::MaxOpenPositions { max: settings.max_open_positions });
    }
    let risk_budget = pct(account.portfolio, settings.max_portfolio_risk_pct) - account.open_risk;
    if risk_budget <= Decimal::ZERO {
        return Err(Refusal::PortfolioRiskFull { max_pct: settings.max_portfolio_risk_pct });
    }
    if account.free_quote <= Decimal::ZERO {
        return Err(Refusal::NoFreeBalance { asset: settings.quote.to_string() });
    }

    let mut value = pct(account.portfolio, settings.risk_per_trade_pct) * Decimal::ONE_HUNDRED / settings.stop_pct;
    let mut bound = SizeBound::Risk;
    for (cap, why) in [
        (pct(account.portfolio, settings.max_position_pct), SizeBound::MaxPosition),
        (account.free_quote, SizeBound::FreeBalance),
        (risk_budget * Decimal::ONE_HUNDRED / settings.stop_pct, SizeBound::PortfolioRisk),
    ] {
        if cap < value {
            value = cap;
            bound = why;
        }
    }

    // The limit is rounded down so the entry never pays more than the slippage cap allows.
    let limit_price = filters.floor_price(reference_price + pct(reference_price, settings.entry_slippage_pct));
    if limit_price <= Decimal::ZERO {
        return Err(Refusal::NoPrice { symbol });
    }
    let qty = filters.floor_qty(value / limit_price);
    let order_value = qty * limit_price;
    if qty <= Decimal::ZERO || order_value < filters.min_notional {
        return Err(Refusal::BelowMinimum { value: order_value.round_dp(8), min: filters.min_notional });
    }
    filters.check_limit(limit_price, qty).map_err(|e| Refusal::Filters { detail: e.to_string() })?;

    let stop_price = stop_trigger(settings, filters, limit_price);
    let risk = qty * (limit_price - stop_price);
    Ok(EntryPlan {
        symbol,
        reference_price,
        limit_price,
        qty,
        value: order_value,
        stop_price,
        risk,
        risk_pct: (risk / account.portfolio * Decimal::ONE_HUNDRED).round_dp(2),
        portfolio: account.portfolio,
        bound,
    })
}

/// The stop trigger for an average entry: `avg × (1 − stop%)`, rounded **up** to the tick so the
/// loss stays within the planned risk.
pub fn stop_trigger(settings: &Settings, filters: &SymbolFilters, avg_entry: Decimal) -> Decimal {
    filters.ceil_price(avg_entry - pct(avg_entry, settings.stop_pct))
}

/// The stop's limit price: `trigger × ratio`, rounded **down** so it can still fill in a gap.
pub fn stop_limit(settings: &Settings, filters: &SymbolFilters, trigger: Decimal) -> Decimal {
    filters.floor_price(trigger * settings.stop_limit_ratio)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AssetCode;
    use rust_decimal_macros::dec;

    fn settings(risk: Decimal, stop: Decimal) -> Settings {
        Settings {
            risk_per_trade_pct: risk,
            stop_pct: stop,
            max_position_pct: dec!(100),
            max_portfolio_risk_pct: dec!(100),
            entry_slippage_pct: dec!(0),
            ..Settings::default()
        }
    }

    fn sym() -> Symbol {
        Symbol::parse("BTC", AssetCode::new("USDT").unwrap()).unwrap()
    }

    fn filters() -> SymbolFilters {
        SymbolFilters::typical(dec!(0.01), dec!(0.00001), dec!(5))
    }

    fn account(portfolio: Decimal) -> Account {
        Account { portfolio, free_quote: portfolio, open_positions: 0, open_risk: dec!(0) }
    }

    /// The worked example from the original system's sizer test: 1% risk, 2% stop,
    /// portfolio 600 → a position worth 300.
    #[test]
    fn worked_example_600_gives_300() {
        let plan = size_entry(&settings(dec!(1), dec!(2)), sym(), &filters(), dec!(100), &account(dec!(600))).unwrap();
        assert_eq!(plan.qty, dec!(3));
        assert_eq!(plan.value, dec!(300));
        assert_eq!(plan.bound, SizeBound::Risk);
        assert_eq!(plan.stop_price, dec!(98));
        assert_eq!(plan.risk, dec!(6));
        assert_eq!(plan.risk_pct, dec!(1));
    }

    #[test]
    fn capped_by_max_position() {
        // Risk sizing says 600 × 1 / 2 = 300; a 10% cap says 60.
        let s = Settings { max_position_pct: dec!(10), ..settings(dec!(1), dec!(2)) };
        let plan = size_entry(&s, sym(), &filters(), dec!(100), &account(dec!(600))).unwrap();
        assert_eq!(plan.value, dec!(60));
        assert_eq!(plan.bound, SizeBound::MaxPosition);
        // The original's second example: a 10% cap on a portfolio of 100 → 10.
        let plan = size_entry(&s, sym(), &filters(), dec!(1), &account(dec!(100))).unwrap();
        assert_eq!(plan.value, dec!(10));
    }

    #[test]
    fn capped_by_free_balance() {
        let acct = Account { free_quote: dec!(120), ..account(dec!(600)) };
        let plan = size_entry(&settings(dec!(1), dec!(2)), sym(), &filters(), dec!(100), &acct).unwrap();
        assert_eq!(plan.value, dec!(120));
        assert_eq!(plan.bound, SizeBound::FreeBalance);
    }

    #[test]
    fn capped_by_portfolio_risk_then_refused_when_full() {
        // 10% of 600 = 60 of total risk allowed; 55 already open → 5 left → 5 / 2% = 250.
        let s = Settings { max_portfolio_risk_pct: dec!(10), ..settings(dec!(1), dec!(2)) };
        let acct = Account { open_risk: dec!(55), ..account(dec!(600)) };
        let plan = size_entry(&s, sym(), &filters(), dec!(100), &acct).unwrap();
        assert_eq!(plan.value, dec!(250));
        assert_eq!(plan.bound, SizeBound::PortfolioRisk);
        let full = Account { open_risk: dec!(60), ..account(dec!(600)) };
        assert_eq!(
            size_entry(&s, sym(), &filters(), dec!(100), &full),
            Err(Refusal::PortfolioRiskFull { max_pct: dec!(10) })
        );
    }

    #[test]
    fn refused_at_max_open_positions() {
        let s = Settings { max_open_positions: 2, ..settings(dec!(1), dec!(2)) };
        let acct = Account { open_positions: 2, ..account(dec!(600)) };
        assert_eq!(size_entry(&s, sym(), &filters(), dec!(100), &acct), Err(Refusal::MaxOpenPositions { max: 2 }));
    }

    #[test]
    fn refused_under_min_notional() {
        // 1% of 20 / 2% = 10 → but the exchange wants 15.
        let f = SymbolFilters::typical(dec!(0.01), dec!(0.00001), dec!(15));
        let r = size_entry(&settings(dec!(1), dec!(2)), sym(), &f, dec!(100), &account(dec!(20)));
        assert_eq!(r, Err(Refusal::BelowMinimum { value: dec!(10), min: dec!(15) }));
    }

    #[test]
    fn refused_without_funds() {
        let acct = Account { free_quote: dec!(0), ..account(dec!(600)) };
        assert!(matches!(
            size_entry(&settings(dec!(1), dec!(2)), sym(), &filters(), dec!(100), &acct),
            Err(Refusal::NoFreeBalance { .. })
        ));
        assert_eq!(
            size_entry(&settings(dec!(1), dec!(2)), sym(), &filters(), dec!(100), &account(dec!(0))),
            Err(Refusal::NoPortfolio)
        );
    }

    /// Rounding: the limit goes down to the tick (stays within the slippage cap), the quantity
    /// down to the step, the stop trigger up, the stop limit down.
    #[test]
    fn rounding_directions() {
        let s = Settings { entry_slippage_pct: dec!(0.5), stop_pct: dec!(15), ..settings(dec!(1), dec!(15)) };
        let f = filters();
        let plan = size_entry(&s, sym(), &f, dec!(30001.37), &account(dec!(10000))).unwrap();
        // 30001.37 × 1.005 = 30151.37685 → 30151.37
        assert_eq!(plan.limit_price, dec!(30151.37));
        // 10000 × 1% / 15% = 666.666… → / 30151.37 = 0.022110… → 0.02211
        assert_eq!(plan.qty, dec!(0.02211));
        // 30151.37 × 0.85 = 25628.6645 → up to 25628.67
        assert_eq!(plan.stop_price, dec!(25628.67));
        assert_eq!(stop_limit(&s, &f, dec!(25628.67)), dec!(20502.93));
        assert!(plan.value <= dec!(666.67));
    }
}
