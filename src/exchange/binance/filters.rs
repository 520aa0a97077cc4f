//! `GET /api/v3/exchangeInfo` → [`SymbolFilters`] per symbol, and the rate limits in force.
//!
//! Both notional filters are accepted: `NOTIONAL` (current, with `applyMinToMarket` and an
//! optional `maxNotional`) and the older `MIN_NOTIONAL` (`applyToMarket`); when a symbol has
//! both, `NOTIONAL` wins. A symbol without `PRICE_FILTER` or `LOT_SIZE` cannot be traded safely
//! and is left out of the answer (logged), which callers treat as "unknown symbol".

use super::wire::{DecodeError, asset};
use crate::domain::{Symbol, SymbolFilters, Timestamp};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::borrow::Cow;

/// Which budget a rate limit meters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RateLimitKind {
    /// `REQUEST_WEIGHT`: per IP, the sum of request weights.
    RequestWeight,
    /// `ORDERS`: per account, the unfilled order count.
    Orders,
    /// `RAW_REQUESTS`: per IP, the number of requests.
    RawRequests,
}

/// One entry of `rateLimits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RateLimit {
    pub kind: RateLimitKind,
    /// The window: `intervalNum` × `interval`, in milliseconds.
    pub interval_ms: i64,
    pub limit: u32,
}

impl RateLimit {
    /// The header suffix Binance reports this window's usage under: `1M`, `10S`, `1D`.
    pub fn header_suffix(&self) -> String {
        let (num, letter) = if self.interval_ms % 86_400_000 == 0 {
            (self.interval_ms / 86_400_000, 'D')
        } else if self.interval_ms % 3_600_000 == 0 {
            (self.interval_ms / 3_600_000, 'H')
        } else if self.interval_ms % 60_000 == 0 {
            (self.interval_ms / 60_000, 'M')
        } else {
            (self.interval_ms / 1000, 'S')
        };
        format!("{num}{letter}")
    }

    /// Binance's documented defaults, used until `exchangeInfo` has been read: 6,000 weight per
    /// minute, 50 orders per 10 s and 160,000 per day, 300,000 raw requests per 5 minutes.
    pub fn defaults() -> Vec<RateLimit> {
        vec![
            RateLimit { kind: RateLimitKind::RequestWeight, interval_ms: 60_000, limit: 6_000 },
            RateLimit { kind: RateLimitKind::Orders, interval_ms: 10_000, limit: 50 },
            RateLimit { kind: RateLimitKind::Orders, interval_ms: 86_400_000, limit: 160_000 },
            RateLimit { kind: RateLimitKind::RawRequests, interval_ms: 300_000, limit: 300_000 },
        ]
    }
}

/// One tradable symbol's description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolInfo {
    pub symbol: Symbol,
    /// `TRADING`, `HALT`, `BREAK`, `END_OF_DAY`, `CANCEL_ONLY`.
    pub status: String,
    pub filters: SymbolFilters,
}

impl SymbolInfo {
    pub fn is_trading(&self) -> bool {
        self.status == "TRADING"
    }
}

/// The parts of `exchangeInfo` Bert uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeInfo {
    pub server_time: Option<Timestamp>,
    pub rate_limits: Vec<RateLimit>,
    pub symbols: Vec<SymbolInfo>,
}

#[derive(Deserialize)]
struct InfoWire<'a> {
    #[serde(rename = "serverTime", default)]
    server_time: Option<i64>,
    #[serde(rename = "rateLimits", borrow, default)]
    rate_limits: Vec<RateLimitWire<'a>>,
    #[serde(borrow)]
    symbols: Vec<SymbolWire<'a>>,
}

#[derive(Deserialize)]
struct RateLimitWire<'a> {
    #[serde(rename = "rateLimitType", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    interval: Cow<'a, str>,
    #[serde(rename = "intervalNum")]
    interval_num: u32,
    limit: u32,
}

#[derive(Deserialize)]
struct SymbolWire<'a> {
    #[serde(borrow)]
    symbol: Cow<'a, str>,
    #[serde(borrow, default)]
    status: Cow<'a, str>,
    #[serde(rename = "baseAsset", borrow)]
    base_asset: Cow<'a, str>,
    #[serde(rename = "quoteAsset", borrow)]
    quote_asset: Cow<'a, str>,
    #[serde(borrow, default)]
    filters: Vec<FilterWire<'a>>,
}

/// Every filter shape in one struct: each field is present only for the filter types that
/// have it; unknown filter types are ignored.
#[derive(Deserialize)]
struct FilterWire<'a> {
    #[serde(rename = "filterType", borrow)]
    kind: Cow<'a, str>,
    #[serde(rename = "minPrice", with = "rust_decimal::serde::str_option", default)]
    min_price: Option<Decimal>,
    #[serde(rename = "maxPrice", with = "rust_decimal::serde::str_option", default)]
    max_price: Option<Decimal>,
    #[serde(rename = "tickSize", with = "rust_decimal::serde::str_option", default)]
    tick_size: Option<Decimal>,
    #[serde(rename = "minQty", with = "rust_decimal::serde::str_option", default)]
    min_qty: Option<Decimal>,
    #[serde(rename = "maxQty", with = "rust_decimal::serde::str_option", default)]
    max_qty: Option<Decimal>,
    #[serde(rename = "stepSize", with = "rust_decimal::serde::str_option", default)]
    step_size: Option<Decimal>,
    #[serde(rename = "minNotional", with = "rust_decimal::serde::str_option", default)]
    min_notional: Option<Decimal>,
    #[serde(rename = "maxNotional", with = "rust_decimal::serde::str_option", default)]
    max_notional: Option<Decimal>,
    #[serde(rename = "applyToMarket", default)]
    apply_to_market: Option<bool>,
    #[serde(rename = "applyMinToMarket", default)]
    apply_min_to_market: Option<bool>,
}

fn interval_ms(interval: &str, num: u32) -> Option<i64> {
    let unit = match interval {
        "SECOND" => 1_000,
        "MINUTE" => 60_000,
        "HOUR" => 3_600_000,
        "DAY" => 86_400_000,
        _ => return None,
    };
    (num > 0).then(|| unit * i64::from(num))
}

fn rate_limit(w: &RateLimitWire<'_>) -> Option<RateLimit> {
    let kind = match w.kind.as_ref() {
        "REQUEST_WEIGHT" => RateLimitKind::RequestWeight,
        "ORDERS" => RateLimitKind::Orders,
        "RAW_REQUESTS" => RateLimitKind::RawRequests,
        _ => return None,
    };
    Some(RateLimit { kind, interval_ms: interval_ms(&w.interval, w.interval_num)?, limit: w.limit })
}

fn symbol_filters(filters: &[FilterWire<'_>]) -> Result<SymbolFilters, DecodeError> {
    let find = |kind: &str| filters.iter().find(|f| f.kind == kind);
    let price = find("PRICE_FILTER").ok_or_else(|| DecodeError("no PRICE_FILTER".into()))?;
    let lot = find("LOT_SIZE").ok_or_else(|| DecodeError("no LOT_SIZE".into()))?;
    let need = |v: Option<Decimal>, what: &str| v.ok_or_else(|| DecodeError(format!("filter field {what} missing")));
    let market = find("MARKET_LOT_SIZE");
    // Binance sets MARKET_LOT_SIZE's step to 0 on many symbols, meaning "LOT_SIZE's step".
    let positive = |v: Option<Decimal>| v.filter(|d| *d > Decimal::ZERO);
    let (min_notional, max_notional, applies_to_market) = if let Some(n) = find("NOTIONAL") {
        (n.min_notional.unwrap_or(Decimal::ZERO), positive(n.max_notional), n.apply_min_to_market.unwrap_or(true))
    } else if let Some(n) = find("MIN_NOTIONAL") {
        (n.min_notional.unwrap_or(Decimal::ZERO), None, n.apply_to_market.unwrap_or(true))
    } else {
        (Decimal::ZERO, None, false)
    };
    Ok(SymbolFilters {
        tick_size: need(price.tick_size, "tickSize")?,
        min_price: need(price.min_price, "minPrice")?,
        max_price: need(price.max_price, "maxPrice")?,
        step_size: need(lot.step_size, "stepSize")?,
        min_qty: need(lot.min_qty, "minQty")?,
        max_qty: need(lot.max_qty, "maxQty")?,
        market_step_size: market.and_then(|m| positive(m.step_size)),
        market_min_qty: market.and_then(|m| m.min_qty),
        market_max_qty: market.and_then(|m| positive(m.max_qty)),
        min_notional,
        max_notional,
        min_notional_applies_to_market: applies_to_market,
    })
}

/// Decodes `exchangeInfo`. Symbols that cannot be represented or lack the essential filters
/// are skipped (and logged); a malformed document is an error.
pub fn decode_exchange_info(body: &[u8]) -> Result<ExchangeInfo, DecodeError> {
    let w: InfoWire<'_> = serde_json::from_slice(body)?;
    let rate_limits = w.rate_limits.iter().filter_map(rate_limit).collect();
    let mut symbols = Vec::with_capacity(w.symbols.len());
    for s in &w.symbols {
        let parsed = (|| -> Result<SymbolInfo, DecodeError> {
            let symbol = Symbol::new(asset(&s.base_asset)?, asset(&s.quote_asset)?);
            if symbol.pair() != s.symbol {
                return Err(DecodeError(format!("{} is not {}", s.symbol, symbol.pair())));
            }
            Ok(SymbolInfo { symbol, status: s.status.to_string(), filters: symbol_filters(&s.filters)? })
        })();
        match parsed {
            Ok(info) => symbols.push(info),
            Err(e) => tracing::warn!(symbol = %s.symbol, reason = %e, "skipping a symbol Bert cannot trade"),
        }
    }
    Ok(ExchangeInfo { server_time: w.server_time.map(Timestamp), rate_limits, symbols })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    /// Filters verbatim from §9.2 (`filters.md`), in a trimmed `exchangeInfo`.
    const INFO: &str = r#"{
      "timezone": "UTC", "serverTime": 1565246363776,
      "rateLimits": [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 300000},
        {"rateLimitType": "SOMETHING_NEW", "interval": "MINUTE", "intervalNum": 5, "limit": 1}
      ],
      "exchangeFilters": [],
      "symbols": [
        {"symbol": "ETHBTC", "status": "TRADING", "baseAsset": "ETH", "quoteAsset": "BTC", "orderTypes": ["LIMIT"],
         "filters": [
          {"filterType": "PRICE_FILTER", "minPrice": "0.00000100", "maxPrice": "100000.00000000", "tickSize": "0.00000100"},
          {"filterType": "LOT_SIZE", "minQty": "0.00100000", "maxQty": "100000.00000000", "stepSize": "0.00100000"},
          {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00100000", "maxQty": "100000.00000000", "stepSize": "0.00100000"},
          {"filterType": "NOTIONAL", "minNotional": "10.00000000", "applyMinToMarket": false, "maxNotional": "10000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5},
          {"filterType": "PERCENT_PRICE", "multiplierUp": "1.3000", "multiplierDown": "0.7000", "avgPriceMins": 5},
          {"filterType": "ICEBERG_PARTS", "limit": 10},
          {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 25},
          {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
          {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000, "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000}
         ]},
        {"symbol": "LTCBTC", "status": "HALT", "baseAsset": "LTC", "quoteAsset": "BTC",
         "filters": [
          {"filterType": "PRICE_FILTER", "minPrice": "0.00000100", "maxPrice": "100000.00000000", "tickSize": "0.00000100"},
          {"filterType": "LOT_SIZE", "minQty": "0.00100000", "maxQty": "100000.00000000", "stepSize": "0.00100000"},
          {"filterType": "MIN_NOTIONAL", "minNotional": "0.00100000", "applyToMarket": true, "avgPriceMins": 5}
         ]},
        {"symbol": "NOLOT", "status": "TRADING", "baseAsset": "NO", "quoteAsset": "LOT",
         "filters": [{"filterType": "PRICE_FILTER", "minPrice": "0", "maxPrice": "0", "tickSize": "0.01"}]},
        {"symbol": "这是测试币456", "status": "TRADING", "baseAsset": "这是测试币", "quoteAsset": "456", "filters": []}
      ]
    }"#;

    #[test]
    fn filters_and_limits() {
        let info = decode_exchange_info(INFO.as_bytes()).unwrap();
        assert_eq!(info.server_time, Some(Timestamp(1565246363776)));
        assert_eq!(info.rate_limits.len(), 4);
        assert_eq!(
            info.rate_limits[0],
            RateLimit { kind: RateLimitKind::RequestWeight, interval_ms: 60_000, limit: 6000 }
        );
        assert_eq!(info.rate_limits[1].header_suffix(), "10S");
        assert_eq!(info.rate_limits[2].header_suffix(), "1D");
        assert_eq!(info.rate_limits[0].header_suffix(), "1M");
        assert_eq!(info.symbols.len(), 2, "symbols without LOT_SIZE or with odd assets are skipped");

        let eth = &info.symbols[0];
        assert_eq!(eth.symbol.pair(), "ETHBTC");
        assert!(eth.is_trading());
        let f = &eth.filters;
        assert_eq!((f.tick_size, f.min_price, f.max_price), (dec!(0.000001), dec!(0.000001), dec!(100000)));
        assert_eq!((f.step_size, f.min_qty, f.max_qty), (dec!(0.001), dec!(0.001), dec!(100000)));
        assert_eq!(f.market_step_size, Some(dec!(0.001)));
        assert_eq!(
            (f.min_notional, f.max_notional, f.min_notional_applies_to_market),
            (dec!(10), Some(dec!(10000)), false)
        );
        // The rounding the engine does works on these filters.
        assert_eq!(f.floor_qty(dec!(1.23456)), dec!(1.234));

        let ltc = &info.symbols[1];
        assert!(!ltc.is_trading());
        assert_eq!((ltc.filters.min_notional, ltc.filters.max_notional), (dec!(0.001), None));
        assert!(ltc.filters.min_notional_applies_to_market);
        assert_eq!(ltc.filters.market_step_size, None);
    }

    #[test]
    fn malformed_info_is_an_error() {
        assert!(decode_exchange_info(b"[]").is_err());
        assert!(decode_exchange_info(br#"{"symbols": [{"symbol": 1}]}"#).is_err());
        let bad_decimal = INFO.replace(r#""tickSize": "0.00000100""#, r#""tickSize": 0.000001"#);
        assert!(decode_exchange_info(bad_decimal.as_bytes()).is_err());
    }
}
