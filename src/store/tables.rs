//! Every redb table Bert uses, in one place.
//!
//! A table's name plus its key and value types are the on-disk contract: opening a table with
//! other types fails with `TableTypeMismatch`. So when a layout changes, the *name* gets a new
//! version suffix and a migration (see `migrate.rs`) copies the rows across in one transaction.
//!
//! Values are `&[u8]` holding the versioned envelope of `codec.rs`, so decoding stays in Bert's
//! hands and a bad row is a `Result`, never a panic inside redb. Keys are redb built-ins
//! (`u64`, `i64`, `&str`): fixed, documented encodings that do not depend on Bert's code.
//!
//! Symbols in keys are written `BASE/QUOTE` (see [`symbol_key`]) so they parse back without
//! knowing the list of quote assets.

use crate::domain::{AssetCode, Symbol};
use redb::TableDefinition;

#[rustfmt::skip]
mod defs {
    use super::TableDefinition;

    /// Frozen forever: read before anything else on every open. Keys: [`super::SCHEMA_VERSION_KEY`] → version; [`super::OUTBOX_NEXT_KEY`] → next outbox seq.
    pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");                          // name → counter
    pub const META_RECORDS: TableDefinition<&str, &[u8]> = TableDefinition::new("meta_records_v1");     // "instance_tag" | "engine_meta" → record
    pub const ORDERS: TableDefinition<&str, &[u8]> = TableDefinition::new("orders_v1");                 // client order id → Order
    pub const POSITIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("positions_v1");            // position id → Position (every status, kept as history)
    pub const FILLS_SEEN: TableDefinition<&str, u64> = TableDefinition::new("fills_seen_v1");           // "BASE/QUOTE:tradeId" → journal seq that applied it
    pub const JOURNAL: TableDefinition<u64, &[u8]> = TableDefinition::new("journal_v1");                // seq (from 1, append only) → JournalEntry
    pub const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox_v1");                  // seq (from 1, never reused) → OutboxRow
    pub const DEAD_LETTERS: TableDefinition<u64, &[u8]> = TableDefinition::new("dead_letters_v1");      // the row's outbox seq → DeadLetter
    pub const CHATS: TableDefinition<i64, &[u8]> = TableDefinition::new("chats_v1");                    // Telegram chat id → ChatSettings
    pub const STRATEGY_STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("strategy_state_v1"); // "BASE/QUOTE" → Direction
    pub const CLOSED_TRADES: TableDefinition<u64, &[u8]> = TableDefinition::new("closed_trades_v1");    // seq (from 1, append only) → ClosedTrade
    pub const PAPER: TableDefinition<&str, &[u8]> = TableDefinition::new("paper_v1");                   // "book" → PaperState (paper mode's simulated account; schema v2)
}

pub use defs::*;

/// `META` key of the schema version.
pub const SCHEMA_VERSION_KEY: &str = "schema_version";
/// `META` key of the next outbox sequence number. A counter rather than "last key + 1" so a
/// sequence number is never reused after the newest row is delivered and deleted: a dead letter
/// keeps its outbox seq as its key, and the worker's "delete row n" can never hit a newer row.
pub const OUTBOX_NEXT_KEY: &str = "outbox_next";
/// `META_RECORDS` key of the database's instance tag (a `String`).
pub const INSTANCE_TAG_KEY: &str = "instance_tag";
/// `META_RECORDS` key of the engine's persistent flags (`EngineMeta`).
pub const ENGINE_META_KEY: &str = "engine_meta";

/// `PAPER` key of the paper exchange's account (`PaperState`).
pub const PAPER_BOOK_KEY: &str = "book";

/// `BASE/QUOTE`, the form symbols take in keys. Unlike `BTCUSDT` it splits back unambiguously.
pub fn symbol_key(symbol: Symbol) -> String {
    format!("{}/{}", symbol.base, symbol.quote)
}

/// The inverse of [`symbol_key`].
pub fn parse_symbol_key(key: &str) -> Option<Symbol> {
    let (base, quote) = key.split_once('/')?;
    Some(Symbol::new(AssetCode::new(base).ok()?, AssetCode::new(quote).ok()?))
}

/// `BASE/QUOTE:tradeId`, the `FILLS_SEEN` key.
pub fn fill_key(symbol: Symbol, trade_id: u64) -> String {
    format!("{}:{trade_id}", symbol_key(symbol))
}

/// The inverse of [`fill_key`].
pub fn parse_fill_key(key: &str) -> Option<(Symbol, u64)> {
    let (symbol, trade) = key.rsplit_once(':')?;
    Some((parse_symbol_key(symbol)?, trade.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_back() {
        let usdt = AssetCode::new("USDT").unwrap();
        let sym = Symbol::new(AssetCode::new("BTC").unwrap(), usdt);
        assert_eq!(symbol_key(sym), "BTC/USDT");
        assert_eq!(parse_symbol_key("BTC/USDT"), Some(sym));
        assert_eq!(fill_key(sym, 42), "BTC/USDT:42");
        assert_eq!(parse_fill_key("BTC/USDT:42"), Some((sym, 42)));
        assert_eq!(parse_fill_key(&fill_key(sym, u64::MAX)), Some((sym, u64::MAX)));
        for bad in ["BTCUSDT:1", "BTC/USDT", "BTC/USDT:x", "/USDT:1", "BTC/:1", "B-C/USDT:1", ""] {
            assert_eq!(parse_fill_key(bad), None, "{bad}");
        }
    }
}
