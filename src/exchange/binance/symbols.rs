//! Mapping Binance's pair names (`ETHBTC`) back to domain [`Symbol`]s (base + quote).
//!
//! The wire names a pair by one concatenated string, which cannot be split reliably by itself
//! (`ETHBTC` could be `ETHB`/`TC`). The adapter learns the split from every `exchangeInfo` it
//! reads and from every symbol Bert asks about; for a pair it has never seen (a foreign order
//! in `openOrders`, an event for another pair) it falls back to the longest well-known quote
//! asset suffix.

use crate::domain::{AssetCode, Symbol};
use rustc_hash::FxHashMap;
use std::sync::RwLock;

/// Resolves a wire pair name to a [`Symbol`]. Decoders take this so they stay pure.
pub trait ResolveSymbol {
    fn resolve(&self, pair: &str) -> Option<Symbol>;
}

impl<F: Fn(&str) -> Option<Symbol>> ResolveSymbol for F {
    fn resolve(&self, pair: &str) -> Option<Symbol> {
        self(pair)
    }
}

/// Quote assets tried, longest first, when a pair was never learned.
const COMMON_QUOTES: [&str; 16] = [
    "FDUSD", "USDT", "USDC", "TUSD", "BUSD", "BTC", "ETH", "BNB", "EUR", "TRY", "BRL", "JPY", "GBP", "DAI", "AUD",
    "PLN",
];

/// Splits `pair` by a well-known quote suffix.
pub fn split_by_common_quote(pair: &str) -> Option<Symbol> {
    COMMON_QUOTES.iter().find_map(|q| {
        let base = pair.strip_suffix(q)?;
        if base.is_empty() {
            return None;
        }
        Some(Symbol::new(AssetCode::new(base).ok()?, AssetCode::new(q).ok()?))
    })
}

/// Pairs learned so far. Lookups take a read lock for a moment; nothing awaits while holding it.
/// Every execution report resolves its pair here, so the map hashes with FxHash: the keys are a
/// few dozen pair names Bert itself learned, not attacker-chosen input worth SipHash's cost.
#[derive(Debug, Default)]
pub struct SymbolMap {
    known: RwLock<FxHashMap<String, Symbol>>,
}

impl SymbolMap {
    pub fn new() -> Self {
        SymbolMap::default()
    }

    pub fn learn(&self, symbol: Symbol) {
        let pair = symbol.pair();
        let fresh = self.known.read().map(|m| !m.contains_key(&pair)).unwrap_or(true);
        if fresh && let Ok(mut m) = self.known.write() {
            m.insert(pair, symbol);
        }
    }
}

impl ResolveSymbol for SymbolMap {
    fn resolve(&self, pair: &str) -> Option<Symbol> {
        let learned = self.known.read().ok().and_then(|m| m.get(pair).copied());
        learned.or_else(|| split_by_common_quote(pair))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(b: &str, q: &str) -> Symbol {
        Symbol::new(AssetCode::new(b).unwrap(), AssetCode::new(q).unwrap())
    }

    #[test]
    fn learned_pairs_win_over_guessing() {
        let m = SymbolMap::new();
        assert_eq!(m.resolve("ETHBTC"), Some(sym("ETH", "BTC")));
        assert_eq!(m.resolve("BTCUSDT"), Some(sym("BTC", "USDT")));
        assert_eq!(m.resolve("BTCFDUSD"), Some(sym("BTC", "FDUSD")));
        assert_eq!(m.resolve("USDT"), None);
        assert_eq!(m.resolve("XYZABC"), None);
        m.learn(sym("XYZ", "ABC"));
        assert_eq!(m.resolve("XYZABC"), Some(sym("XYZ", "ABC")));
    }
}
