//! Exchange symbol filters and the rounding Bert does before sending anything.
//!
//! Rules are Binance's (`filters.md`, current since 2023-03-13 / 2022-02-24):
//! `price % tickSize == 0`, `minPrice ≤ price ≤ maxPrice` (a zero disables that rule),
//! `quantity % stepSize == 0`, `minQty ≤ quantity ≤ maxQty`, and `minNotional ≤ price × quantity
//! ≤ maxNotional`. Rounding directions are deliberate: quantities always down (never spend more
//! than sized); the entry limit down (stay inside the slippage cap); the stop trigger up (the
//! loss stays within the planned risk); the stop's limit price down.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The filters of one symbol, in domain form (the adapter parses `exchangeInfo`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolFilters {
    pub tick_size: Decimal,
    pub min_price: Decimal,
    pub max_price: Decimal,
    pub step_size: Decimal,
    pub min_qty: Decimal,
    pub max_qty: Decimal,
    /// MARKET_LOT_SIZE; when absent, LOT_SIZE applies to market orders too.
    pub market_step_size: Option<Decimal>,
    pub market_min_qty: Option<Decimal>,
    pub market_max_qty: Option<Decimal>,
    /// NOTIONAL (or the older MIN_NOTIONAL) minimum; zero when the symbol has neither.
    pub min_notional: Decimal,
    pub max_notional: Option<Decimal>,
    /// Whether the minimum notional applies to MARKET orders (`applyMinToMarket` /
    /// `applyToMarket`).
    pub min_notional_applies_to_market: bool,
}

/// Why an order would be refused by the exchange's filters.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("quantity {qty} is below the minimum {min}")]
    QtyBelowMin { qty: Decimal, min: Decimal },
    #[error("quantity {qty} is above the maximum {max}")]
    QtyAboveMax { qty: Decimal, max: Decimal },
    #[error("quantity {qty} is not a multiple of the step {step}")]
    QtyOffStep { qty: Decimal, step: Decimal },
    #[error("price {price} is below the minimum {min}")]
    PriceBelowMin { price: Decimal, min: Decimal },
    #[error("price {price} is above the maximum {max}")]
    PriceAboveMax { price: Decimal, max: Decimal },
    #[error("price {price} is not a multiple of the tick {tick}")]
    PriceOffTick { price: Decimal, tick: Decimal },
    #[error("order value {notional} is below the minimum {min}")]
    NotionalBelowMin { notional: Decimal, min: Decimal },
    #[error("order value {notional} is above the maximum {max}")]
    NotionalAboveMax { notional: Decimal, max: Decimal },
}

fn floor_to(value: Decimal, step: Decimal) -> Decimal {
    if step <= Decimal::ZERO {
        return value;
    }
    ((value / step).floor() * step).normalize()
}

fn ceil_to(value: Decimal, step: Decimal) -> Decimal {
    if step <= Decimal::ZERO {
        return value;
    }
    ((value / step).ceil() * step).normalize()
}

fn on_grid(value: Decimal, step: Decimal) -> bool {
    step <= Decimal::ZERO || (value % step).is_zero()
}

impl SymbolFilters {
    /// Filters typical of a major USDT pair; used by the synthetic market and tests.
    pub fn typical(tick_size: Decimal, step_size: Decimal, min_notional: Decimal) -> Self {
        SymbolFilters {
            tick_size,
            min_price: tick_size,
            max_price: Decimal::from(1_000_000),
            step_size,
            min_qty: step_size,
            max_qty: Decimal::from(9_000_000),
            market_step_size: None,
            market_min_qty: None,
            market_max_qty: None,
            min_notional,
            max_notional: None,
            min_notional_applies_to_market: true,
        }
    }

    /// Quantity rounded down to LOT_SIZE's step.
    pub fn floor_qty(&self, qty: Decimal) -> Decimal {
        floor_to(qty, self.step_size)
    }

    /// Quantity rounded down to MARKET_LOT_SIZE's step (or LOT_SIZE's when absent).
    pub fn floor_market_qty(&self, qty: Decimal) -> Decimal {
        floor_to(qty, self.market_step_size.unwrap_or(self.step_size))
    }

    pub fn floor_price(&self, price: Decimal) -> Decimal {
        floor_to(price, self.tick_size)
    }

    pub fn ceil_price(&self, price: Decimal) -> Decimal {
        ceil_to(price, self.tick_size)
    }

    fn check_price(&self, price: Decimal) -> Result<(), FilterError> {
        if self.min_price > Decimal::ZERO && price < self.min_price {
            return Err(FilterError::PriceBelowMin { price, min: self.min_price });
        }
        if self.max_price > Decimal::ZERO && price > self.max_price {
            return Err(FilterError::PriceAboveMax { price, max: self.max_price });
        }
        if !on_grid(price, self.tick_size) {
            return Err(FilterError::PriceOffTick { price, tick: self.tick_size });
        }
        Ok(())
    }

    fn check_qty(qty: Decimal, min: Decimal, max: Decimal, step: Decimal) -> Result<(), FilterError> {
        if qty < min || qty <= Decimal::ZERO {
            return Err(FilterError::QtyBelowMin { qty, min });
        }
        if max > Decimal::ZERO && qty > max {
            return Err(FilterError::QtyAboveMax { qty, max });
        }
        if !on_grid(qty, step) {
            return Err(FilterError::QtyOffStep { qty, step });
        }
        Ok(())
    }

    fn check_notional(&self, notional: Decimal) -> Result<(), FilterError> {
        if notional < self.min_notional {
            return Err(FilterError::NotionalBelowMin { notional, min: self.min_notional });
        }
        if let Some(max) = self.max_notional.filter(|m| *m > Decimal::ZERO)
            && notional > max
        {
            return Err(FilterError::NotionalAboveMax { notional, max });
        }
        Ok(())
    }

    /// Validates a limit order (LIMIT IOC entry, or a STOP_LOSS_LIMIT's limit price; pass the
    /// stop trigger through [`SymbolFilters::check_stop`] as well).
    pub fn check_limit(&self, price: Decimal, qty: Decimal) -> Result<(), FilterError> {
        self.check_price(price)?;
        Self::check_qty(qty, self.min_qty, self.max_qty, self.step_size)?;
        self.check_notional(price * qty)
    }

    /// Validates a STOP_LOSS_LIMIT: both prices pass PRICE_FILTER; the notional is taken at the
    /// limit price (the worse of the two, so the order is valid whichever price Binance uses).
    pub fn check_stop(&self, stop_price: Decimal, limit: Decimal, qty: Decimal) -> Result<(), FilterError> {
        self.check_price(stop_price)?;
        self.check_limit(limit, qty)
    }

    /// Validates a MARKET order at a reference price (for the notional check).
    pub fn check_market(&self, qty: Decimal, reference_price: Decimal) -> Result<(), FilterError> {
        let step = self.market_step_size.unwrap_or(self.step_size);
        let min = self.market_min_qty.unwrap_or(self.min_qty);
        let max = self.market_max_qty.unwrap_or(self.max_qty);
        Self::check_qty(qty, min, max, step)?;
        if self.min_notional_applies_to_market {
            let notional = reference_price * qty;
            if notional < self.min_notional {
                return Err(FilterError::NotionalBelowMin { notional, min: self.min_notional });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn btc() -> SymbolFilters {
        SymbolFilters::typical(dec!(0.01), dec!(0.00001), dec!(5))
    }

    #[test]
    fn quantities_round_down_to_step() {
        let f = btc();
        assert_eq!(f.floor_qty(dec!(0.123456789)), dec!(0.12345));
        assert_eq!(f.floor_qty(dec!(0.00001)), dec!(0.00001));
        assert_eq!(f.floor_qty(dec!(0.000009)), dec!(0));
        let whole = SymbolFilters::typical(dec!(0.0001), dec!(1), dec!(5));
        assert_eq!(whole.floor_qty(dec!(123.99)), dec!(123));
    }

    #[test]
    fn prices_round_in_the_asked_direction() {
        let f = btc();
        assert_eq!(f.floor_price(dec!(50123.456)), dec!(50123.45));
        assert_eq!(f.ceil_price(dec!(50123.451)), dec!(50123.46));
        assert_eq!(f.ceil_price(dec!(50123.45)), dec!(50123.45));
        let coarse = SymbolFilters::typical(dec!(1), dec!(0.001), dec!(5));
        assert_eq!(coarse.floor_price(dec!(2999.99)), dec!(2999));
    }

    #[test]
    fn market_lot_size_is_used_for_market_orders() {
        let mut f = btc();
        f.market_step_size = Some(dec!(0.001));
        f.market_min_qty = Some(dec!(0.001));
        assert_eq!(f.floor_market_qty(dec!(0.12345)), dec!(0.123));
        assert_eq!(
            f.check_market(dec!(0.0005), dec!(50000)),
            Err(FilterError::QtyBelowMin { qty: dec!(0.0005), min: dec!(0.001) })
        );
        assert!(f.check_market(dec!(0.123), dec!(50000)).is_ok());
        assert!(matches!(f.check_market(dec!(0.1234), dec!(50000)), Err(FilterError::QtyOffStep { .. })));
    }

    #[test]
    fn each_rule_refuses_with_its_reason() {
        let f = btc();
        assert!(f.check_limit(dec!(50000.01), dec!(0.001)).is_ok());
        assert!(matches!(f.check_limit(dec!(50000.015), dec!(0.001)), Err(FilterError::PriceOffTick { .. })));
        assert!(matches!(f.check_limit(dec!(0.001), dec!(0.001)), Err(FilterError::PriceBelowMin { .. })));
        assert!(matches!(f.check_limit(dec!(2000000), dec!(0.001)), Err(FilterError::PriceAboveMax { .. })));
        assert!(matches!(f.check_limit(dec!(50000), dec!(0.000015)), Err(FilterError::QtyOffStep { .. })));
        assert!(matches!(f.check_limit(dec!(50000), dec!(0)), Err(FilterError::QtyBelowMin { .. })));
        assert_eq!(
            f.check_limit(dec!(100), dec!(0.01)),
            Err(FilterError::NotionalBelowMin { notional: dec!(1.00), min: dec!(5) })
        );
        let mut capped = btc();
        capped.max_notional = Some(dec!(1000));
        assert!(matches!(capped.check_limit(dec!(50000), dec!(1)), Err(FilterError::NotionalAboveMax { .. })));
        assert!(matches!(
            f.check_stop(dec!(50000.001), dec!(40000), dec!(0.001)),
            Err(FilterError::PriceOffTick { .. })
        ));
    }

    #[test]
    fn zero_disables_price_bounds() {
        let mut f = btc();
        f.min_price = dec!(0);
        f.max_price = dec!(0);
        assert!(f.check_limit(dec!(9999999.99), dec!(0.001)).is_ok());
    }
}
