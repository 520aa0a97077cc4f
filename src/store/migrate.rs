//! Schema versions and migrations.
//!
//! `meta.schema_version` is read on every open before any record is decoded. A database without
//! it is version 0: either brand new or written by a layout older than versioning. Opening runs
//! `MIGRATIONS[n]` for every `n` from the found version up to [`SCHEMA_VERSION`] and writes the
//! new version, all in the open's single write transaction: a crash mid-migration leaves the old
//! schema intact, never half of each. A database newer than this binary is refused untouched.
//!
//! To change a table's layout: add a `TableDefinition` with a new name (`orders_v2`), append a
//! step that copies and transforms every row and deletes the old table, and the version follows
//! from the list's length.

use super::StoreError;
use super::codec;
use super::tables::{
    CHATS, CLOSED_TRADES, DEAD_LETTERS, FILLS_SEEN, INSTANCE_TAG_KEY, JOURNAL, META, META_RECORDS, ORDERS, OUTBOX,
    PAPER, POSITIONS, SCHEMA_VERSION_KEY, STRATEGY_STATE,
};
use redb::{ReadableTable, WriteTransaction};
use std::hash::{BuildHasher, Hasher};
use std::path::Path;

/// One step: turns a database of version `n` into version `n + 1` inside the given transaction.
pub(super) type Migration = fn(&WriteTransaction) -> Result<(), StoreError>;

/// `MIGRATIONS[n]` upgrades version `n` to `n + 1`.
pub(super) const MIGRATIONS: &[Migration] = &[v0_to_v1, v1_to_v2];

/// The schema version this Bert writes and reads.
pub const SCHEMA_VERSION: u64 = MIGRATIONS.len() as u64;

/// Checks the schema version inside `txn` and runs the missing `steps`. Returns the version
/// found. On error nothing may be committed: the caller drops `txn`, which aborts it.
pub(super) fn prepare(txn: &WriteTransaction, path: &Path, steps: &[Migration]) -> Result<u64, StoreError> {
    let target = steps.len() as u64;
    let found = txn.open_table(META)?.get(SCHEMA_VERSION_KEY)?.map(|v| v.value()).unwrap_or(0);
    if found > target {
        return Err(StoreError::TooNew { path: path.to_path_buf(), found, supported: target });
    }
    // `found <= target = steps.len()`, so the index fits in usize.
    for (from, step) in steps.iter().enumerate().skip(found as usize) {
        step(txn).map_err(|source| StoreError::Migration { from: from as u64, source: Box::new(source) })?;
    }
    if found < target {
        txn.open_table(META)?.insert(SCHEMA_VERSION_KEY, target)?;
    }
    Ok(found)
}

/// Version 1: every table exists and the database has its instance tag.
pub(super) fn v0_to_v1(txn: &WriteTransaction) -> Result<(), StoreError> {
    // Opening a table in a write transaction creates it.
    txn.open_table(ORDERS)?;
    txn.open_table(POSITIONS)?;
    txn.open_table(FILLS_SEEN)?;
    txn.open_table(JOURNAL)?;
    txn.open_table(OUTBOX)?;
    txn.open_table(DEAD_LETTERS)?;
    txn.open_table(CHATS)?;
    txn.open_table(STRATEGY_STATE)?;
    txn.open_table(CLOSED_TRADES)?;
    let mut records = txn.open_table(META_RECORDS)?;
    if records.get(INSTANCE_TAG_KEY)?.is_none() {
        let tag = codec::encode("instance tag", &generate_tag())?;
        records.insert(INSTANCE_TAG_KEY, tag.as_slice())?;
    }
    Ok(())
}

/// Version 2: the paper exchange's account has a table (empty until paper mode first runs; a
/// database that ran paper mode before this version starts a fresh paper account).
pub(super) fn v1_to_v2(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(PAPER)?;
    Ok(())
}

const TAG_ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Length of an instance tag; `ClientOrderId::derive` uses at most 6 characters of it.
pub(super) const TAG_LEN: usize = 6;

/// A fresh instance tag: 6 characters of `[A-Za-z0-9]`, so a new database's client order ids
/// cannot collide with orders an earlier database left open on the exchange.
///
/// The entropy is the standard library's `RandomState` (seeded from the OS), the wall clock,
/// the process id and a stack address, mixed by SipHash: no extra dependency for 36 bits.
fn generate_tag() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    h.write_u128(nanos);
    h.write_u32(std::process::id());
    let marker = 0u8;
    h.write_usize(std::ptr::addr_of!(marker) as usize);
    let mut n = h.finish();
    let mut tag = String::with_capacity(TAG_LEN);
    for _ in 0..TAG_LEN {
        tag.push(char::from(TAG_ALPHABET[(n % 62) as usize]));
        n /= 62;
    }
    tag
}

/// True for a tag this module could have generated.
pub(super) fn valid_tag(tag: &str) -> bool {
    tag.len() == TAG_LEN && tag.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_valid_and_differ() {
        let tags: std::collections::HashSet<String> = (0..50).map(|_| generate_tag()).collect();
        assert!(tags.iter().all(|t| valid_tag(t)), "{tags:?}");
        assert_eq!(tags.len(), 50);
    }
}
