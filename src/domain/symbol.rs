//! Assets and trading pairs.
//!
//! Both are `Copy` (a fixed inline buffer, no heap): symbols travel with every candle and every
//! report, and the backtest pushes millions of them per second.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The longest asset code accepted. Binance's longest spot asset codes are well under this.
const ASSET_MAX: usize = 14;

/// An asset code such as `BTC` or `USDT`: 1 to 14 characters of `A-Z0-9`, stored upper-case.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AssetCode {
    len: u8,
    bytes: [u8; ASSET_MAX],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SymbolError {
    #[error("empty symbol")]
    Empty,
    #[error("symbol too long")]
    TooLong,
    #[error("a symbol may contain only letters and digits")]
    BadCharacter,
}

impl AssetCode {
    /// Parses an asset code, upper-casing it. Rejects anything but ASCII letters and digits.
    pub fn new(code: &str) -> Result<Self, SymbolError> {
        let code = code.trim();
        if code.is_empty() {
            return Err(SymbolError::Empty);
        }
        if code.len() > ASSET_MAX {
            return Err(SymbolError::TooLong);
        }
        let mut bytes = [0u8; ASSET_MAX];
        for (i, b) in code.bytes().enumerate() {
            if !b.is_ascii_alphanumeric() {
                return Err(SymbolError::BadCharacter);
            }
            bytes[i] = b.to_ascii_uppercase();
        }
        Ok(AssetCode { len: code.len() as u8, bytes })
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII alphanumerics are ever stored (checked in `new`), so this is valid UTF-8.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
}

impl fmt::Display for AssetCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for AssetCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_str())
    }
}

impl Serialize for AssetCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AssetCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        AssetCode::new(&s).map_err(serde::de::Error::custom)
    }
}

/// A spot trading pair: base asset bought and sold, priced in the quote asset.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Symbol {
    pub base: AssetCode,
    pub quote: AssetCode,
}

impl Symbol {
    pub fn new(base: AssetCode, quote: AssetCode) -> Self {
        Symbol { base, quote }
    }

    /// Reads what a user typed (`btc`, `BTC`, `BTCUSDT`, `btcusdt`) as a pair in `quote`.
    ///
    /// A trailing quote asset is stripped, so `BTCUSDT` and `BTC` name the same pair. A bare
    /// quote asset (`USDT`) is not a tradable symbol and is refused.
    pub fn parse(input: &str, quote: AssetCode) -> Result<Symbol, SymbolError> {
        let upper = input.trim().to_ascii_uppercase();
        let base = match upper.strip_suffix(quote.as_str()) {
            Some(rest) if !rest.is_empty() => rest,
            _ => upper.as_str(),
        };
        if base == quote.as_str() {
            return Err(SymbolError::Empty);
        }
        Ok(Symbol::new(AssetCode::new(base)?, quote))
    }

    /// The exchange's name of the pair, e.g. `BTCUSDT`.
    pub fn pair(&self) -> String {
        format!("{}{}", self.base, self.quote)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.base, self.quote)
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.quote)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usdt() -> AssetCode {
        AssetCode::new("USDT").unwrap()
    }

    #[test]
    fn parses_the_ways_users_type_symbols() {
        for typed in ["btc", "BTC", "BTCUSDT", "btcusdt", " Btc "] {
            let s = Symbol::parse(typed, usdt()).unwrap();
            assert_eq!(s.pair(), "BTCUSDT", "{typed}");
        }
    }

    #[test]
    fn refuses_junk() {
        assert_eq!(Symbol::parse("", usdt()), Err(SymbolError::Empty));
        assert_eq!(Symbol::parse("usdt", usdt()), Err(SymbolError::Empty));
        assert_eq!(Symbol::parse("BT-C", usdt()), Err(SymbolError::BadCharacter));
        assert_eq!(Symbol::parse("🚀", usdt()), Err(SymbolError::BadCharacter));
        assert_eq!(Symbol::parse(&"A".repeat(40), usdt()), Err(SymbolError::TooLong));
    }

    #[test]
    fn serde_round_trip_as_strings() {
        let s = Symbol::parse("eth", usdt()).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#"{"base":"ETH","quote":"USDT"}"#);
        assert_eq!(serde_json::from_str::<Symbol>(&json).unwrap(), s);
        assert!(serde_json::from_str::<AssetCode>(r#""B C""#).is_err());
    }
}
