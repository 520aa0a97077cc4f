//! Persistence: Bert's state in one redb file.
//!
//! Architecture invariant: **only this module knows redb.** Everything else sees [`Store`],
//! its records and [`StoreError`].
//!
//! Guarantees:
//! * **One event, one transaction.** [`Store::commit`] writes the journal entry, every state
//!   change of the event and every outbox message it causes in a single write transaction,
//!   committed with `Durability::Immediate` before it returns. A kill -9 at any instant leaves
//!   either all of an event or none of it: never an order without its alert, never an alert
//!   about a state that was not saved. The driver sends exchange requests only after `commit`
//!   returned (intent before action).
//! * **One process per file.** A second open fails at once with [`StoreError::Locked`].
//! * **Versioned.** The schema version is checked on every open before anything is decoded; a
//!   newer database is refused, an older one migrated in one transaction (`migrate.rs`).
//! * **No panics on bad data.** Every record sits in a versioned envelope (`codec.rs`); a row
//!   that does not decode is [`StoreError::Corrupt`] naming its table and key.
//!
//! Layout: `tables.rs` (every table and key format), `codec.rs` (the envelope), `records.rs`
//! (journal, outbox and chat records), `migrate.rs` (schema versions, instance tag). Besides the
//! engine's state it keeps the paper exchange's account ([`Store::paper_book`]) for paper mode.
//!
//! The calls are synchronous and each may fsync: the application runs them on a dedicated
//! thread or in `spawn_blocking`, never on an async worker. `Store` is `Send + Sync`; share it
//! in an `Arc`. redb serializes write transactions, so concurrent writers simply queue.

pub mod codec; // public for the fuzz targets (tests/fuzz.rs)
mod migrate;
mod records;
mod tables;
#[cfg(test)]
mod tests;

pub use migrate::SCHEMA_VERSION;
pub use records::{Button, ChatSettings, DeadLetter, JournalEntry, OutboxBody, OutboxRow};

use crate::domain::{ClosedTrade, Order, Position, PositionId, Timestamp};
use crate::engine::{Effects, EngineMeta, Event, Outgoing, Snapshot, Write};
use crate::exchange::paper::{PaperState, PaperVault};
use crate::strategy::edge70::Direction;
use records::{JournalEntryRef, JournalLine};
use redb::{
    Database, DatabaseError, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableHandle,
    WriteTransaction,
};
use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use tables::*;

/// redb's page cache. Its default (1 GiB) is sized for servers; Bert's file is a few MB and
/// runs on a small VM.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

/// How many `migrated_to` links a message follows before giving up on finding the end of a
/// (corrupt, cyclic) chain and delivering to where it got.
const MAX_CHAT_HOPS: usize = 8;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "another Bert is already using the data directory (the database {path} is locked by another \
         process); stop the other instance first: only one Bert may run on a data directory"
    )]
    Locked { path: PathBuf },
    #[error(
        "the database {path} has schema version {found}, but this Bert only knows versions up to \
         {supported}; it was written by a newer Bert: run that version (or newer) instead"
    )]
    TooNew { path: PathBuf, found: u64, supported: u64 },
    #[error("migrating the database from schema version {from} failed (nothing was changed): {source}")]
    Migration { from: u64, source: Box<StoreError> },
    #[error("corrupt record in table {table} at key {key}: {detail}")]
    Corrupt { table: String, key: String, detail: String },
    #[error("cannot encode the {what}: {detail}")]
    Encode { what: &'static str, detail: String },
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("database error: {0}")]
    Db(#[from] redb::Error),
}

/// redb reports each kind of call with its own error type; all of them are database errors here.
macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(e.into())
            }
        }
    )*};
}
from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);

/// Bert's database. See the module docs.
pub struct Store {
    db: Database,
    path: PathBuf,
    tag: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).field("tag", &self.tag).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path`, creating its directory too.
    ///
    /// Fails with [`StoreError::Locked`] if another process (or another `Store` in this one)
    /// has it open, and [`StoreError::TooNew`] if a newer Bert wrote it. An older schema is
    /// migrated before this returns.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        Self::open_with(path.as_ref(), migrate::MIGRATIONS)
    }

    fn open_with(path: &Path, steps: &[migrate::Migration]) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir { path: dir.to_path_buf(), source })?;
        }
        let db = Database::builder().set_cache_size(CACHE_BYTES).create(path).map_err(|e| match e {
            // A writer of another redb locking generation holds it: still "someone else has it".
            DatabaseError::DatabaseAlreadyOpen | DatabaseError::LockProtocolMismatch => {
                StoreError::Locked { path: path.to_path_buf() }
            }
            other => other.into(),
        })?;
        let txn = begin_write(&db)?;
        let found = migrate::prepare(&txn, path, steps)?;
        let tag = {
            let records = txn.open_table(META_RECORDS)?;
            let bytes = records.get(INSTANCE_TAG_KEY)?;
            let corrupt = |detail: &str| StoreError::Corrupt {
                table: META_RECORDS.name().to_string(),
                key: INSTANCE_TAG_KEY.to_string(),
                detail: detail.to_string(),
            };
            let tag: String = match bytes {
                Some(b) => codec::decode(META_RECORDS.name(), &INSTANCE_TAG_KEY, b.value())?,
                None => return Err(corrupt("the instance tag is missing")),
            };
            if !migrate::valid_tag(&tag) {
                return Err(corrupt("the instance tag is not 6 letters or digits"));
            }
            tag
        };
        if found == steps.len() as u64 {
            // Nothing was written; do not pay for an fsync.
            txn.abort()?;
        } else {
            txn.commit()?;
            if found == 0 {
                tracing::info!(path = %path.display(), version = steps.len(), "store initialized");
            } else {
                tracing::info!(path = %path.display(), from = found, to = steps.len(), "store schema migrated");
            }
        }
        Ok(Store { db, path: path.to_path_buf(), tag })
    }

    /// The database's instance tag: 6 characters of `[A-Za-z0-9]`, chosen when the database was
    /// created and never changed. Part of every client order id.
    pub fn instance_tag(&self) -> &str {
        &self.tag
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        begin_write(&self.db)
    }

    // ----- the event transaction ------------------------------------------------------------

    /// Persists one engine event and everything it caused, atomically; returns its journal seq.
    ///
    /// In one transaction: appends the journal entry (the event and its exchange requests),
    /// applies every [`Write`], and queues one outbox row per message per recipient chat.
    /// `recipients` expands a message's `Audience` into chat ids (the store does not know the
    /// configuration). Each chat is then routed: a chat Telegram migrated is replaced by its
    /// new id, duplicates are dropped, and a chat that muted the message's category gets no row
    /// (replies are never muted).
    ///
    /// Every event passed is journaled; the driver decides what is worth journaling (e.g. a price
    /// tick that changed nothing is not).
    ///
    /// A written `Position` keeps the reply-thread entries the outbox worker recorded with
    /// [`Store::set_position_thread`]: the engine's copy does not know them.
    pub fn commit(
        &self,
        at: Timestamp,
        event: &Event,
        effects: &Effects,
        recipients: &dyn Fn(&Outgoing) -> Vec<i64>,
    ) -> Result<u64, StoreError> {
        let entry = codec::encode("journal entry", &JournalEntryRef { at, event, requests: &effects.requests })?;
        // Expanded before the transaction starts, so caller code never runs under the write lock.
        let audiences: Vec<Vec<i64>> = effects.messages.iter().map(recipients).collect();
        let txn = self.begin_write()?;
        let seq = {
            let mut journal = txn.open_table(JOURNAL)?;
            let seq = next_seq(&journal, JOURNAL.name())?;
            journal.insert(seq, entry.as_slice())?;
            seq
        };
        apply_writes(&txn, seq, &effects.writes)?;
        if !effects.messages.is_empty() {
            let mut queue = Queue::open(&txn)?;
            for (message, chats) in effects.messages.iter().zip(audiences) {
                let mut routed = HashSet::new();
                for chat in chats {
                    let category = if message.notice.demands_action() { None } else { Some(message.category) };
                    let Some(chat) = queue.route(chat, category)? else { continue };
                    if !routed.insert(chat) {
                        continue;
                    }
                    queue.push(&OutboxRow {
                        chat,
                        category: message.category,
                        position: message.position,
                        body: OutboxBody::Notice(message.notice.clone()),
                        created_at: at,
                        attempts: 0,
                    })?;
                }
            }
            queue.close()?;
        }
        txn.commit()?;
        Ok(seq)
    }

    /// Queues messages produced outside the engine (e.g. `/help` replies), in one transaction of
    /// their own. Rows are routed like [`Store::commit`]'s (migrated chats followed, muted
    /// categories dropped). Returns the seqs of the rows written.
    pub fn enqueue(&self, rows: Vec<OutboxRow>) -> Result<Vec<u64>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let txn = self.begin_write()?;
        let mut seqs = Vec::with_capacity(rows.len());
        {
            let mut queue = Queue::open(&txn)?;
            for mut row in rows {
                let Some(chat) = queue.route(row.chat, Some(row.category))? else { continue };
                row.chat = chat;
                seqs.push(queue.push(&row)?);
            }
            queue.close()?;
        }
        txn.commit()?;
        Ok(seqs)
    }

    // ----- start-up ---------------------------------------------------------------------------

    /// The engine's state as last committed: meta (default when never written), live positions,
    /// the orders of live positions plus any order not yet terminal, every fill seen, and the
    /// persisted strategy directions.
    pub fn load(&self) -> Result<Snapshot, StoreError> {
        let txn = self.db.begin_read()?;
        let meta = match txn.open_table(META_RECORDS)?.get(ENGINE_META_KEY)? {
            Some(b) => codec::decode(META_RECORDS.name(), &ENGINE_META_KEY, b.value())?,
            None => EngineMeta::default(),
        };
        let mut positions = Vec::new();
        for item in txn.open_table(POSITIONS)?.iter()? {
            let (k, v) = item?;
            let p: Position = codec::decode(POSITIONS.name(), &k.value(), v.value())?;
            if p.is_live() {
                positions.push(p);
            }
        }
        let live: HashSet<PositionId> = positions.iter().map(|p| p.id).collect();
        let mut orders = Vec::new();
        for item in txn.open_table(ORDERS)?.iter()? {
            let (k, v) = item?;
            let o: Order = codec::decode(ORDERS.name(), &k.value(), v.value())?;
            if live.contains(&o.position) || o.is_open() {
                orders.push(o);
            }
        }
        let mut fills_seen = Vec::new();
        for item in txn.open_table(FILLS_SEEN)?.iter()? {
            let (k, _) = item?;
            let key = k.value();
            let fill = parse_fill_key(key).ok_or_else(|| StoreError::Corrupt {
                table: FILLS_SEEN.name().to_string(),
                key: key.to_string(),
                detail: "expected BASE/QUOTE:tradeId".to_string(),
            })?;
            fills_seen.push(fill);
        }
        let mut directions = Vec::new();
        for item in txn.open_table(STRATEGY_STATE)?.iter()? {
            let (k, v) = item?;
            let key = k.value();
            let symbol = parse_symbol_key(key).ok_or_else(|| StoreError::Corrupt {
                table: STRATEGY_STATE.name().to_string(),
                key: key.to_string(),
                detail: "expected BASE/QUOTE".to_string(),
            })?;
            let direction: Direction = codec::decode(STRATEGY_STATE.name(), &key, v.value())?;
            directions.push((symbol, direction));
        }
        Ok(Snapshot { meta, positions, orders, fills_seen, directions })
    }

    // ----- history ----------------------------------------------------------------------------

    /// Up to `limit` journal entries with a seq after `since`, oldest first (`since = 0`: from the
    /// beginning; pass the last seq seen to continue).
    pub fn journal(&self, since: u64, limit: usize) -> Result<Vec<(u64, JournalEntry)>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(JOURNAL)?;
        let mut out = Vec::new();
        for item in table.range::<u64>((Bound::Excluded(since), Bound::Unbounded))?.take(limit) {
            let (k, v) = item?;
            out.push((k.value(), codec::decode(JOURNAL.name(), &k.value(), v.value())?));
        }
        Ok(out)
    }

    /// The journal after `since` as JSON lines, one object per entry, oldest first:
    /// `{"seq":..,"at":..,"event":..,"requests":..}` (for `bert journal`). Every entry is decoded
    /// and re-encoded, so a corrupt row is an error rather than a garbled line.
    pub fn journal_json_lines(&self, since: u64) -> Result<Vec<String>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(JOURNAL)?;
        let mut out = Vec::new();
        for item in table.range::<u64>((Bound::Excluded(since), Bound::Unbounded))? {
            let (k, v) = item?;
            let seq = k.value();
            let entry: JournalEntry = codec::decode(JOURNAL.name(), &seq, v.value())?;
            let line = JournalLine { seq, at: entry.at, event: &entry.event, requests: &entry.requests };
            out.push(
                serde_json::to_string(&line)
                    .map_err(|e| StoreError::Encode { what: "journal line", detail: e.to_string() })?,
            );
        }
        Ok(out)
    }

    /// Every closed trade, oldest first.
    pub fn closed_trades(&self) -> Result<Vec<ClosedTrade>, StoreError> {
        let txn = self.db.begin_read()?;
        let mut out = Vec::new();
        for item in txn.open_table(CLOSED_TRADES)?.iter()? {
            let (k, v) = item?;
            out.push(codec::decode(CLOSED_TRADES.name(), &k.value(), v.value())?);
        }
        Ok(out)
    }

    /// Every position ever opened (live, closed and failed), by id.
    pub fn positions_all(&self) -> Result<Vec<Position>, StoreError> {
        let txn = self.db.begin_read()?;
        let mut out = Vec::new();
        for item in txn.open_table(POSITIONS)?.iter()? {
            let (k, v) = item?;
            out.push(codec::decode(POSITIONS.name(), &k.value(), v.value())?);
        }
        Ok(out)
    }

    /// One position as stored, with its reply threads (the engine's copy may lack them).
    pub fn position(&self, id: PositionId) -> Result<Option<Position>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(POSITIONS)?;
        let found = table.get(id.0)?;
        found.map(|v| codec::decode(POSITIONS.name(), &id.0, v.value())).transpose()
    }

    /// Records `message_id` as the thread root of `position` in `chat`: follow-up alerts reply to
    /// it. Only the first message per chat is kept. Returns false if the position does not exist
    /// or already has a thread in that chat.
    pub fn set_position_thread(&self, position: PositionId, chat: i64, message_id: i32) -> Result<bool, StoreError> {
        let txn = self.begin_write()?;
        let changed = {
            let mut table = txn.open_table(POSITIONS)?;
            let current: Option<Position> = match table.get(position.0)? {
                Some(v) => Some(codec::decode(POSITIONS.name(), &position.0, v.value())?),
                None => None,
            };
            match current {
                Some(mut p) if !p.thread.iter().any(|(c, _)| *c == chat) => {
                    p.thread.push((chat, message_id));
                    table.insert(position.0, codec::encode("position", &p)?.as_slice())?;
                    true
                }
                _ => false,
            }
        };
        finish(txn, changed)?;
        Ok(changed)
    }

    // ----- outbox -----------------------------------------------------------------------------

    /// Up to `limit` queued rows, oldest first. A row that does not decode is reported as
    /// [`StoreError::Corrupt`] with its seq as the key; [`Store::outbox_delete`] removes it.
    pub fn outbox_peek(&self, limit: usize) -> Result<Vec<(u64, OutboxRow)>, StoreError> {
        self.outbox_scan(limit, |_| true)
    }

    /// Up to `limit` queued rows for one chat, oldest first.
    pub fn outbox_peek_chat(&self, chat: i64, limit: usize) -> Result<Vec<(u64, OutboxRow)>, StoreError> {
        self.outbox_scan(limit, |row| row.chat == chat)
    }

    fn outbox_scan(
        &self,
        limit: usize,
        keep: impl Fn(&OutboxRow) -> bool,
    ) -> Result<Vec<(u64, OutboxRow)>, StoreError> {
        let txn = self.db.begin_read()?;
        let mut out = Vec::new();
        for item in txn.open_table(OUTBOX)?.iter()? {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item?;
            let row: OutboxRow = codec::decode(OUTBOX.name(), &k.value(), v.value())?;
            if keep(&row) {
                out.push((k.value(), row));
            }
        }
        Ok(out)
    }

    /// Up to `limit` queued rows with a seq above `after`, in seq order; each row decoded on its
    /// own, so one unreadable row (reported as [`StoreError::Corrupt`] next to its seq) does not
    /// hide the others. The outbox worker reads new rows with it: seqs only grow, so everything
    /// queued since its last read has a higher seq.
    #[allow(clippy::type_complexity)]
    pub fn outbox_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Result<OutboxRow, StoreError>)>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(OUTBOX)?;
        let mut out = Vec::new();
        let Some(start) = after.checked_add(1) else { return Ok(out) };
        for item in table.range(start..)? {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item?;
            out.push((k.value(), codec::decode(OUTBOX.name(), &k.value(), v.value())));
        }
        Ok(out)
    }

    /// Removes several delivered rows in one transaction (one fsync for all: the outbox worker
    /// batches the rows confirmed while the previous delete was being written). Returns how
    /// many were still there.
    pub fn outbox_delete_many(&self, seqs: &[u64]) -> Result<usize, StoreError> {
        if seqs.is_empty() {
            return Ok(0);
        }
        let txn = self.begin_write()?;
        let mut removed = 0;
        {
            let mut table = txn.open_table(OUTBOX)?;
            for seq in seqs {
                if table.remove(*seq)?.is_some() {
                    removed += 1;
                }
            }
        }
        finish(txn, removed > 0)?;
        Ok(removed)
    }

    /// How many rows are queued.
    pub fn outbox_len(&self) -> Result<u64, StoreError> {
        Ok(self.db.begin_read()?.open_table(OUTBOX)?.len()?)
    }

    /// When the row queued first (the lowest seq) was created; `None` when the outbox is empty.
    pub fn outbox_oldest_at(&self) -> Result<Option<Timestamp>, StoreError> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(OUTBOX)?;
        let first = table.first()?;
        match first {
            Some((k, v)) => {
                let row: OutboxRow = codec::decode(OUTBOX.name(), &k.value(), v.value())?;
                Ok(Some(row.created_at))
            }
            None => Ok(None),
        }
    }

    /// Removes a delivered row. Returns false if it was already gone.
    pub fn outbox_delete(&self, seq: u64) -> Result<bool, StoreError> {
        let txn = self.begin_write()?;
        let removed = txn.open_table(OUTBOX)?.remove(seq)?.is_some();
        finish(txn, removed)?;
        Ok(removed)
    }

    /// Replaces a queued row (e.g. to count an attempt). Never recreates a row that is gone:
    /// returns false then.
    pub fn outbox_replace(&self, seq: u64, row: &OutboxRow) -> Result<bool, StoreError> {
        let bytes = codec::encode("outbox row", row)?;
        let txn = self.begin_write()?;
        let replaced = {
            let mut table = txn.open_table(OUTBOX)?;
            let exists = table.get(seq)?.is_some();
            if exists {
                table.insert(seq, bytes.as_slice())?;
            }
            exists
        };
        finish(txn, replaced)?;
        Ok(replaced)
    }

    /// Moves an undeliverable row to the dead letters, with why, in one transaction. Returns
    /// false if the row was already gone.
    pub fn dead_letter(&self, seq: u64, reason: &str) -> Result<bool, StoreError> {
        let txn = self.begin_write()?;
        let moved = {
            let mut outbox = txn.open_table(OUTBOX)?;
            let row: Option<OutboxRow> = match outbox.remove(seq)? {
                Some(v) => Some(codec::decode(OUTBOX.name(), &seq, v.value())?),
                None => None,
            };
            match row {
                Some(row) => {
                    let letter = codec::encode("dead letter", &DeadLetter { row, reason: reason.to_string() })?;
                    txn.open_table(DEAD_LETTERS)?.insert(seq, letter.as_slice())?;
                    true
                }
                None => false,
            }
        };
        finish(txn, moved)?;
        Ok(moved)
    }

    /// Every dead letter, by its former outbox seq.
    pub fn dead_letters(&self) -> Result<Vec<(u64, DeadLetter)>, StoreError> {
        let txn = self.db.begin_read()?;
        let mut out = Vec::new();
        for item in txn.open_table(DEAD_LETTERS)?.iter()? {
            let (k, v) = item?;
            out.push((k.value(), codec::decode(DEAD_LETTERS.name(), &k.value(), v.value())?));
        }
        Ok(out)
    }

    // ----- the paper exchange ------------------------------------------------------------------

    /// The paper exchange's account as last saved; `None` if paper mode never ran on this
    /// database.
    pub fn paper_book(&self) -> Result<Option<PaperState>, StoreError> {
        let txn = self.db.begin_read()?;
        match txn.open_table(PAPER)?.get(PAPER_BOOK_KEY)? {
            Some(v) => Ok(Some(codec::decode(PAPER.name(), &PAPER_BOOK_KEY, v.value())?)),
            None => Ok(None),
        }
    }

    /// Saves the paper exchange's account, durably, in a transaction of its own: the paper
    /// exchange stands for a separate system, whose state is not part of an engine event.
    pub fn save_paper_book(&self, state: &PaperState) -> Result<(), StoreError> {
        let bytes = codec::encode("paper book", state)?;
        let txn = self.begin_write()?;
        txn.open_table(PAPER)?.insert(PAPER_BOOK_KEY, bytes.as_slice())?;
        txn.commit()?;
        Ok(())
    }

    // ----- chats ------------------------------------------------------------------------------

    /// Telegram moved chat `old` to `new` (`migrate_to_chat_id`): in one transaction, every
    /// queued row for `old` is readdressed to `new`, `old` records `migrated_to = new` (so later
    /// messages for it are routed there), and `new` inherits `old`'s language and mutes unless it
    /// has settings of its own. Returns how many rows were readdressed.
    pub fn migrate_chat(&self, old: i64, new: i64) -> Result<usize, StoreError> {
        if old == new {
            return Ok(0);
        }
        let txn = self.begin_write()?;
        let moved = {
            let mut outbox = txn.open_table(OUTBOX)?;
            let mut rows = Vec::new();
            for item in outbox.iter()? {
                let (k, v) = item?;
                let row: OutboxRow = codec::decode(OUTBOX.name(), &k.value(), v.value())?;
                if row.chat == old {
                    rows.push((k.value(), row));
                }
            }
            for (seq, row) in &mut rows {
                row.chat = new;
                outbox.insert(*seq, codec::encode("outbox row", row)?.as_slice())?;
            }
            let mut chats = txn.open_table(CHATS)?;
            let old_settings = read_chat(&chats, old)?.unwrap_or_default();
            if read_chat(&chats, new)?.is_none() {
                let inherited = ChatSettings { migrated_to: None, ..old_settings.clone() };
                chats.insert(new, codec::encode("chat settings", &inherited)?.as_slice())?;
            }
            let old_settings = ChatSettings { migrated_to: Some(new), ..old_settings };
            chats.insert(old, codec::encode("chat settings", &old_settings)?.as_slice())?;
            rows.len()
        };
        txn.commit()?;
        Ok(moved)
    }

    /// A chat's settings (defaults if never set).
    pub fn chat_settings(&self, chat: i64) -> Result<ChatSettings, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(read_chat(&txn.open_table(CHATS)?, chat)?.unwrap_or_default())
    }

    pub fn set_chat_settings(&self, chat: i64, settings: &ChatSettings) -> Result<(), StoreError> {
        let bytes = codec::encode("chat settings", settings)?;
        let txn = self.begin_write()?;
        txn.open_table(CHATS)?.insert(chat, bytes.as_slice())?;
        txn.commit()?;
        Ok(())
    }

    /// Reads, changes and writes a chat's settings in one write transaction, so two changes at
    /// once (two buttons pressed together) cannot undo each other. Returns the settings written.
    pub fn update_chat_settings(
        &self,
        chat: i64,
        change: impl FnOnce(&mut ChatSettings),
    ) -> Result<ChatSettings, StoreError> {
        let txn = self.begin_write()?;
        let settings = {
            let mut table = txn.open_table(CHATS)?;
            let mut settings = read_chat(&table, chat)?.unwrap_or_default();
            change(&mut settings);
            table.insert(chat, codec::encode("chat settings", &settings)?.as_slice())?;
            settings
        };
        txn.commit()?;
        Ok(settings)
    }
}

// ----- helpers --------------------------------------------------------------------------------

/// Every write transaction: `Immediate` (durable when `commit` returns: these rows are money
/// and promises to the user) and quick repair (each commit saves the allocator state, so the
/// restart after a crash does not walk the whole file).
fn begin_write(db: &Database) -> Result<WriteTransaction, StoreError> {
    let mut txn = db.begin_write()?;
    txn.set_durability(Durability::Immediate)?;
    txn.set_quick_repair(true);
    Ok(txn)
}

/// Commits if something changed, otherwise aborts (no fsync for nothing).
fn finish(txn: WriteTransaction, changed: bool) -> Result<(), StoreError> {
    if changed {
        txn.commit()?
    } else {
        txn.abort()?
    }
    Ok(())
}

/// The next key of an append-only `u64` table: last + 1, starting at 1.
fn next_seq(table: &impl ReadableTable<u64, &'static [u8]>, name: &str) -> Result<u64, StoreError> {
    match table.last()? {
        None => Ok(1),
        Some((k, _)) => k.value().checked_add(1).ok_or_else(|| StoreError::Corrupt {
            table: name.to_string(),
            key: k.value().to_string(),
            detail: "sequence exhausted".to_string(),
        }),
    }
}

fn read_chat(table: &impl ReadableTable<i64, &'static [u8]>, chat: i64) -> Result<Option<ChatSettings>, StoreError> {
    match table.get(chat)? {
        Some(v) => Ok(Some(codec::decode(CHATS.name(), &chat, v.value())?)),
        None => Ok(None),
    }
}

fn apply_writes(txn: &WriteTransaction, seq: u64, writes: &[Write]) -> Result<(), StoreError> {
    if writes.is_empty() {
        return Ok(());
    }
    let mut orders = txn.open_table(ORDERS)?;
    let mut positions = txn.open_table(POSITIONS)?;
    let mut fills = txn.open_table(FILLS_SEEN)?;
    let mut closed = txn.open_table(CLOSED_TRADES)?;
    let mut records = txn.open_table(META_RECORDS)?;
    let mut strategy = txn.open_table(STRATEGY_STATE)?;
    for write in writes {
        match write {
            Write::Order(o) => {
                orders.insert(o.client_id.as_str(), codec::encode("order", o)?.as_slice())?;
            }
            Write::Position(p) => {
                let merged = keep_threads(&positions, p)?;
                let bytes = codec::encode("position", merged.as_ref().unwrap_or(p))?;
                positions.insert(p.id.0, bytes.as_slice())?;
            }
            Write::FillSeen { symbol, trade_id } => {
                fills.insert(fill_key(*symbol, *trade_id).as_str(), seq)?;
            }
            Write::ClosedTrade(t) => {
                let n = next_seq(&closed, CLOSED_TRADES.name())?;
                closed.insert(n, codec::encode("closed trade", t)?.as_slice())?;
            }
            Write::Meta(m) => {
                records.insert(ENGINE_META_KEY, codec::encode("engine meta", m)?.as_slice())?;
            }
            Write::Direction { symbol, direction: Some(d) } => {
                strategy.insert(symbol_key(*symbol).as_str(), codec::encode("direction", d)?.as_slice())?;
            }
            Write::Direction { symbol, direction: None } => {
                strategy.remove(symbol_key(*symbol).as_str())?;
            }
        }
    }
    Ok(())
}

/// The engine writes positions from its memory, which does not know the thread roots the
/// outbox worker stored since; without this a position update would erase them. Returns the
/// position to write when it differs from `new`.
///
/// A stored row that does not decode is overwritten (with a log line): the thread is cosmetic,
/// and failing the event's transaction over it would stop trading state from being saved.
fn keep_threads(
    table: &impl ReadableTable<u64, &'static [u8]>,
    new: &Position,
) -> Result<Option<Position>, StoreError> {
    let stored = match table.get(new.id.0)? {
        Some(v) => codec::decode::<Position>(POSITIONS.name(), &new.id.0, v.value()),
        None => return Ok(None),
    };
    let stored = match stored {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "overwriting an unreadable position row");
            return Ok(None);
        }
    };
    let missing: Vec<(i64, i32)> =
        stored.thread.into_iter().filter(|(chat, _)| !new.thread.iter().any(|(c, _)| c == chat)).collect();
    if missing.is_empty() {
        return Ok(None);
    }
    let mut merged = new.clone();
    merged.thread.extend(missing);
    Ok(Some(merged))
}

/// The outbox tables of one write transaction, with the seq counter and a cache of chat
/// settings for routing.
struct Queue<'t> {
    outbox: redb::Table<'t, u64, &'static [u8]>,
    chats: redb::Table<'t, i64, &'static [u8]>,
    meta: redb::Table<'t, &'static str, u64>,
    /// The counter as read, to skip rewriting it when nothing was queued.
    start: u64,
    next: u64,
    settings: HashMap<i64, ChatSettings>,
}

impl<'t> Queue<'t> {
    fn open(txn: &'t WriteTransaction) -> Result<Self, StoreError> {
        let outbox = txn.open_table(OUTBOX)?;
        let meta = txn.open_table(META)?;
        let counter = meta.get(OUTBOX_NEXT_KEY)?.map(|v| v.value()).unwrap_or(1);
        // The counter is authoritative; the max only guards against a counter behind the rows.
        let next = counter.max(next_seq(&outbox, OUTBOX.name())?);
        Ok(Queue { outbox, chats: txn.open_table(CHATS)?, meta, start: next, next, settings: HashMap::new() })
    }

    /// Where a message for `chat` goes: follows `migrated_to`, and `None` if the final chat
    /// muted `category` (`None`: a message no setting may mute). Unreadable settings count as
    /// defaults (logged): an alert sent to a chat that muted it is better than an event that
    /// cannot be saved.
    fn route(&mut self, mut chat: i64, category: Option<crate::engine::Category>) -> Result<Option<i64>, StoreError> {
        for hop in 0..=MAX_CHAT_HOPS {
            let settings = self.settings(chat)?;
            match settings.migrated_to {
                Some(next) if next != chat && hop < MAX_CHAT_HOPS => chat = next,
                _ => return Ok((!category.is_some_and(|c| settings.mutes(c))).then_some(chat)),
            }
        }
        Ok(Some(chat))
    }

    fn settings(&mut self, chat: i64) -> Result<ChatSettings, StoreError> {
        if let Some(s) = self.settings.get(&chat) {
            return Ok(s.clone());
        }
        let s = match read_chat(&self.chats, chat) {
            Ok(s) => s.unwrap_or_default(),
            Err(e @ StoreError::Corrupt { .. }) => {
                tracing::error!(error = %e, chat, "unreadable chat settings; using defaults");
                ChatSettings::default()
            }
            Err(e) => return Err(e),
        };
        self.settings.insert(chat, s.clone());
        Ok(s)
    }

    fn push(&mut self, row: &OutboxRow) -> Result<u64, StoreError> {
        let seq = self.next;
        self.outbox.insert(seq, codec::encode("outbox row", row)?.as_slice())?;
        self.next = seq.checked_add(1).ok_or_else(|| StoreError::Corrupt {
            table: OUTBOX.name().to_string(),
            key: seq.to_string(),
            detail: "sequence exhausted".to_string(),
        })?;
        Ok(seq)
    }

    /// Saves the counter (part of the same transaction).
    fn close(mut self) -> Result<(), StoreError> {
        if self.next != self.start {
            self.meta.insert(OUTBOX_NEXT_KEY, self.next)?;
        }
        Ok(())
    }
}

impl PaperVault for Store {
    fn save(&self, state: &PaperState) -> Result<(), String> {
        self.save_paper_book(state).map_err(|e| e.to_string())
    }
}

/// Store must be shareable across threads (`Arc<Store>`).
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Store>();
};
