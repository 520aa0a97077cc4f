//! Store tests: records, the event transaction, start-up state, schema versions, the outbox.
//! The kill -9 test lives in `tests/store_crash.rs` (it needs a child process).

use super::*;
use crate::domain::{
    AssetCode, ClientOrderId, EntryReason, ExitReason, Fill, OrderKind, OrderReport, OrderRole, OrderStatus,
    PositionStatus, Side, StopInfo, Symbol,
};
use crate::engine::{Audience, Category, Command, Notice, Request, Requester};
use crate::exchange::{ExchangeError, ExchangeEvent};
use redb::TableDefinition;
use rust_decimal_macros::dec;

// ----- samples ---------------------------------------------------------------------------------

fn btc() -> Symbol {
    Symbol::new(AssetCode::new("BTC").unwrap(), AssetCode::new("USDT").unwrap())
}

fn t(ms: i64) -> Timestamp {
    Timestamp(1_700_000_000_000 + ms)
}

fn order(position: u64, role: OrderRole, status: OrderStatus) -> Order {
    Order {
        client_id: ClientOrderId::derive("Tag001", PositionId(position), role, 1),
        exchange_id: Some(9_000 + position),
        position: PositionId(position),
        symbol: btc(),
        side: if role == OrderRole::Entry { Side::Buy } else { Side::Sell },
        kind: if role == OrderRole::Stop { OrderKind::StopLossLimit } else { OrderKind::LimitIoc },
        role,
        quantity: dec!(0.12345678),
        price: Some(dec!(100.5)),
        stop_price: (role == OrderRole::Stop).then_some(dec!(90.1)),
        status,
        executed_qty: dec!(0.1),
        executed_quote: dec!(10.05),
        created_at: t(1),
        updated_at: t(2),
        unknown_since: None,
        resent_at: None,
        pending_told: false,
        cancel_requested: false,
        reason: None,
        applied_qty: dec!(0.1),
        settled: false,
        retry_at: Some(t(3)),
    }
}

/// A paper account after an entry filled and its stop came to rest.
fn paper_book() -> crate::exchange::paper::PaperBook {
    use crate::domain::SymbolFilters;
    use crate::exchange::paper::{PaperBook, PaperConfig};
    let mut book = PaperBook::new(PaperConfig::default());
    book.list_symbol(btc(), SymbolFilters::typical(dec!(0.01), dec!(0.00001), dec!(5)));
    book.deposit(btc().quote, dec!(10000));
    book.set_price(btc(), dec!(100), t(0));
    let mut entry = order(1, OrderRole::Entry, OrderStatus::PendingNew);
    (entry.quantity, entry.price) = (dec!(2), Some(dec!(101)));
    book.place(&entry, t(1)).unwrap();
    let mut stop = order(1, OrderRole::Stop, OrderStatus::PendingNew);
    (stop.quantity, stop.stop_price, stop.price) = (dec!(1.99), Some(dec!(90)), Some(dec!(80)));
    book.place(&stop, t(2)).unwrap();
    book.drain_events();
    book
}

fn position(id: u64, status: PositionStatus) -> Position {
    let mut p = Position::new(PositionId(id), btc(), EntryReason::Manual { user: 7 }, t(0));
    p.status = status;
    p.qty = dec!(0.0999);
    p.bought_qty = dec!(0.1);
    p.bought_value = dec!(10.05);
    p.quote_spent = dec!(10.05);
    p.fees = dec!(0.01005);
    p.stop = Some(StopInfo {
        client_id: ClientOrderId::derive("Tag001", PositionId(id), OrderRole::Stop, 1),
        stop_price: dec!(90.1),
        limit_price: dec!(89.5),
        qty: dec!(0.0999),
    });
    p.origin_chat = Some(70);
    p
}

fn closed_trade(id: u64) -> ClosedTrade {
    let mut p = position(id, PositionStatus::Closed);
    p.exit_reason = Some(ExitReason::StopHit);
    p.sold_qty = dec!(0.0999);
    p.sold_value = dec!(9.0);
    p.quote_received = dec!(8.99);
    p.closed_at = Some(t(86_400_000 * 3));
    p.to_closed_trade(t(86_400_000 * 3))
}

fn report() -> OrderReport {
    let o = order(1, OrderRole::Entry, OrderStatus::PartiallyFilled);
    OrderReport {
        symbol: o.symbol,
        client_id: o.client_id,
        exchange_id: o.exchange_id,
        status: OrderStatus::PartiallyFilled,
        cum_qty: dec!(0.1),
        cum_quote: dec!(10.05),
        fill: Some(Fill {
            trade_id: 555,
            price: dec!(100.5),
            qty: dec!(0.1),
            fee: dec!(0.0001),
            fee_asset: AssetCode::new("BTC").unwrap(),
            time: t(2),
        }),
        reason: None,
        time: t(2),
    }
}

fn journal_entry() -> JournalEntry {
    JournalEntry {
        at: t(5),
        event: Event::Exchange(ExchangeEvent::Order(report())),
        requests: vec![
            Request::Place(Box::new(order(1, OrderRole::Stop, OrderStatus::PendingNew))),
            Request::Query { symbol: btc(), client_id: order(1, OrderRole::Entry, OrderStatus::New).client_id },
        ],
    }
}

/// An answer that failed: errors are journaled as data too.
fn journal_entry_error() -> JournalEntry {
    JournalEntry {
        at: t(6),
        event: Event::Placed {
            client_id: order(1, OrderRole::Stop, OrderStatus::PendingNew).client_id,
            result: Err(ExchangeError::Unknown { reason: "timeout after 10s".to_string() }),
        },
        requests: vec![],
    }
}

fn outbox_rows() -> Vec<OutboxRow> {
    let row = |body| OutboxRow {
        chat: -100_123,
        category: Category::Fills,
        position: Some(PositionId(1)),
        body,
        created_at: t(5),
        attempts: 2,
    };
    vec![
        row(OutboxBody::Notice(Notice::StopPlaced {
            symbol: btc(),
            qty: dec!(0.0999),
            stop_price: dec!(90.1),
            limit_price: dec!(89.5),
        })),
        row(OutboxBody::Text { html: "<b>Bert</b> — ünïcode ✓".to_string() }),
        row(OutboxBody::Photo { png: vec![0x89, b'P', b'N', b'G', 0, 255], caption: "chart".to_string() }),
    ]
}

fn chat_settings() -> ChatSettings {
    ChatSettings {
        language: Some("ru".to_string()),
        muted: vec![Category::Signals, Category::Performance],
        migrated_to: Some(-100_999),
    }
}

fn meta() -> EngineMeta {
    EngineMeta {
        paused: true,
        next_position: 4,
        breaker: Some(crate::engine::BreakerReason::RequestFailures { count: 3 }),
        ..Default::default()
    }
}

fn alert(category: Category, position: Option<u64>, notice: Notice) -> Outgoing {
    Outgoing { to: Audience::Alerts { also: None }, category, position: position.map(PositionId), notice }
}

fn reply(chat: i64, notice: Notice) -> Outgoing {
    Outgoing { to: Audience::Chat(chat), category: Category::Reply, position: None, notice }
}

/// Alerts go to chats 1 and 2; replies to their chat.
fn recipients(m: &Outgoing) -> Vec<i64> {
    match m.to {
        Audience::Alerts { also } => [1, 2].into_iter().chain(also).collect(),
        Audience::Chat(c) => vec![c],
    }
}

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("bert.redb");
    (dir, path)
}

fn tick(store: &Store, at: Timestamp, effects: &Effects) -> u64 {
    store.commit(at, &Event::Tick, effects, &recipients).unwrap()
}

fn round_trip<T>(value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let bytes = codec::encode("sample", value).unwrap();
    let back: T = codec::decode("sample", &"k", &bytes).unwrap();
    assert_eq!(&back, value);
}

// ----- records ---------------------------------------------------------------------------------

#[test]
fn every_record_type_round_trips() {
    round_trip(&order(1, OrderRole::Stop, OrderStatus::New));
    round_trip(&position(1, PositionStatus::Open));
    round_trip(&closed_trade(1));
    round_trip(&meta());
    round_trip(&EngineMeta::default());
    round_trip(&journal_entry());
    round_trip(&journal_entry_error());
    for row in outbox_rows() {
        round_trip(&row);
    }
    round_trip(&DeadLetter { row: outbox_rows().remove(0), reason: "blocked by the user".to_string() });
    round_trip(&chat_settings());
    round_trip(&ChatSettings::default());
    round_trip(&Direction::Long);
    round_trip(&"aB3dE9".to_string());
}

#[test]
fn borrowed_journal_entry_encodes_like_the_owned_one() {
    let e = journal_entry();
    let borrowed = codec::encode("j", &JournalEntryRef { at: e.at, event: &e.event, requests: &e.requests }).unwrap();
    assert_eq!(borrowed, codec::encode("j", &e).unwrap());
}

#[test]
fn decimals_are_strings_and_photos_hex() {
    let bytes = codec::encode("order", &order(1, OrderRole::Entry, OrderStatus::New)).unwrap();
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(text.contains(r#""quantity":"0.12345678""#), "{text}");
    let bytes = codec::encode("row", &outbox_rows()[2]).unwrap();
    assert!(std::str::from_utf8(&bytes[3..]).unwrap().contains(r#""png":"89504e4700ff""#));
}

/// Records as version 1 wrote them. These bytes are in users' databases: they must keep decoding
/// to the same values whatever the domain types become (add fields with `#[serde(default)]`).
/// The file was created once with `BERT_BLESS_STORE_GOLDEN=1 cargo test --lib store` (which
/// refuses to overwrite it); a new record version adds lines, it never replaces these.
#[test]
fn golden_v1_records_still_decode() {
    const GOLDEN_HEADER: &str = "# Store records as written by record version 1: `name version json-body`.\n\
        # Generated by src/store/tests.rs (golden_v1_records_still_decode). Never edit a line: \
        users' databases hold these bytes.\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/store_v1_records.txt");
    let samples: Vec<(&str, Vec<u8>)> = vec![
        ("order", codec::encode("s", &order(1, OrderRole::Stop, OrderStatus::New)).unwrap()),
        ("position", codec::encode("s", &position(1, PositionStatus::Open)).unwrap()),
        ("closed_trade", codec::encode("s", &closed_trade(1)).unwrap()),
        ("engine_meta", codec::encode("s", &meta()).unwrap()),
        ("journal_entry", codec::encode("s", &journal_entry()).unwrap()),
        ("journal_entry_error", codec::encode("s", &journal_entry_error()).unwrap()),
        ("outbox_notice", codec::encode("s", &outbox_rows()[0]).unwrap()),
        ("outbox_text", codec::encode("s", &outbox_rows()[1]).unwrap()),
        ("outbox_photo", codec::encode("s", &outbox_rows()[2]).unwrap()),
        ("chat_settings", codec::encode("s", &chat_settings()).unwrap()),
        ("direction", codec::encode("s", &Direction::Short).unwrap()),
        ("paper_book", codec::encode("s", &paper_book().state()).unwrap()),
    ];
    if std::env::var_os("BERT_BLESS_STORE_GOLDEN").is_some() {
        assert!(!Path::new(path).exists(), "{path} exists: golden bytes are never regenerated in place");
        let mut text = String::from(GOLDEN_HEADER);
        for (name, bytes) in &samples {
            let body = std::str::from_utf8(&bytes[3..]).unwrap();
            text.push_str(&format!("{name} {} {body}\n", bytes[2]));
        }
        std::fs::write(path, text).unwrap();
    }
    if std::env::var_os("BERT_PRINT_STORE_GOLDEN").is_some() {
        // To append a line for a new record type (existing lines are never rewritten).
        for (name, bytes) in &samples {
            println!("{name} {} {}", bytes[2], std::str::from_utf8(&bytes[3..]).unwrap());
        }
    }
    let golden = std::fs::read_to_string(path).unwrap();
    let mut seen = 0;
    for line in golden.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        // `name version json`: the envelope is the magic, the version byte and the JSON body.
        let mut parts = line.splitn(3, ' ');
        let (name, version, body) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        let mut bytes = codec::MAGIC.to_vec();
        bytes.push(version.parse().unwrap());
        bytes.extend_from_slice(body.as_bytes());
        let d = |b: &[u8]| -> String { format!("{name}: {}", String::from_utf8_lossy(b)) };
        match name {
            "order" => assert_eq!(
                codec::decode::<Order>("g", &name, &bytes).unwrap(),
                order(1, OrderRole::Stop, OrderStatus::New),
                "{}",
                d(&bytes)
            ),
            "position" => {
                assert_eq!(codec::decode::<Position>("g", &name, &bytes).unwrap(), position(1, PositionStatus::Open))
            }
            "closed_trade" => assert_eq!(codec::decode::<ClosedTrade>("g", &name, &bytes).unwrap(), closed_trade(1)),
            "engine_meta" => assert_eq!(codec::decode::<EngineMeta>("g", &name, &bytes).unwrap(), meta()),
            "journal_entry" => assert_eq!(codec::decode::<JournalEntry>("g", &name, &bytes).unwrap(), journal_entry()),
            "journal_entry_error" => {
                assert_eq!(codec::decode::<JournalEntry>("g", &name, &bytes).unwrap(), journal_entry_error())
            }
            "outbox_notice" => assert_eq!(codec::decode::<OutboxRow>("g", &name, &bytes).unwrap(), outbox_rows()[0]),
            "outbox_text" => assert_eq!(codec::decode::<OutboxRow>("g", &name, &bytes).unwrap(), outbox_rows()[1]),
            "outbox_photo" => assert_eq!(codec::decode::<OutboxRow>("g", &name, &bytes).unwrap(), outbox_rows()[2]),
            "chat_settings" => assert_eq!(codec::decode::<ChatSettings>("g", &name, &bytes).unwrap(), chat_settings()),
            "direction" => assert_eq!(codec::decode::<Direction>("g", &name, &bytes).unwrap(), Direction::Short),
            "paper_book" => assert_eq!(
                codec::decode::<crate::exchange::paper::PaperState>("g", &name, &bytes).unwrap(),
                paper_book().state()
            ),
            other => panic!("unknown golden record {other}"),
        }
        seen += 1;
    }
    assert_eq!(seen, samples.len(), "every record type has a golden line");
}

// ----- the event transaction -------------------------------------------------------------------

#[test]
fn commit_writes_state_journal_and_outbox_together() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    let entry = order(1, OrderRole::Entry, OrderStatus::PendingNew);
    let fx = Effects {
        writes: vec![
            Write::Meta(meta()),
            Write::Position(position(1, PositionStatus::Opening)),
            Write::Order(entry.clone()),
            Write::FillSeen { symbol: btc(), trade_id: 555 },
            Write::ClosedTrade(closed_trade(0)),
            Write::Direction { symbol: btc(), direction: Some(Direction::Long) },
        ],
        messages: vec![
            alert(Category::Fills, Some(1), Notice::Paused),
            reply(70, Notice::Resumed),
            Outgoing {
                to: Audience::Alerts { also: Some(70) },
                ..alert(Category::Warnings, None, Notice::BreakerClosed)
            },
        ],
        requests: vec![Request::Place(Box::new(entry.clone()))],
    };
    let event = Event::Command { from: Requester { user: 7, chat: 70 }, command: Command::Enter(btc()) };
    let seq = store.commit(t(10), &event, &fx, &recipients).unwrap();
    assert_eq!(seq, 1);

    // The journal: the event and what it asked of the exchange.
    let journal = store.journal(0, 10).unwrap();
    assert_eq!(journal, vec![(1, JournalEntry { at: t(10), event, requests: fx.requests.clone() })]);

    // The state.
    let snap = store.load().unwrap();
    assert_eq!(snap.meta, meta());
    assert_eq!(snap.positions, vec![position(1, PositionStatus::Opening)]);
    assert_eq!(snap.orders, vec![entry]);
    assert_eq!(snap.fills_seen, vec![(btc(), 555)]);
    assert_eq!(snap.directions, vec![(btc(), Direction::Long)]);
    assert_eq!(store.closed_trades().unwrap(), vec![closed_trade(0)]);

    // The outbox: one row per message per chat, in order.
    let rows = store.outbox_peek(100).unwrap();
    let summary: Vec<(u64, i64, Category)> = rows.iter().map(|(s, r)| (*s, r.chat, r.category)).collect();
    assert_eq!(
        summary,
        vec![
            (1, 1, Category::Fills),
            (2, 2, Category::Fills),
            (3, 70, Category::Reply),
            (4, 1, Category::Warnings),
            (5, 2, Category::Warnings),
            (6, 70, Category::Warnings),
        ]
    );
    assert_eq!(rows[0].1.body, OutboxBody::Notice(Notice::Paused));
    assert_eq!(rows[0].1.position, Some(PositionId(1)));
    assert_eq!(rows[0].1.created_at, t(10));
    assert_eq!(rows[0].1.attempts, 0);
    assert_eq!(store.outbox_len().unwrap(), 6);

    // The fill is tied to the event that applied it.
    let txn = store.db.begin_read().unwrap();
    assert_eq!(txn.open_table(FILLS_SEEN).unwrap().get("BTC/USDT:555").unwrap().unwrap().value(), 1);
}

#[test]
fn muted_categories_are_not_queued_but_replies_always_are() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    let muting = ChatSettings { muted: vec![Category::Fills, Category::Reply], ..ChatSettings::default() };
    store.set_chat_settings(2, &muting).unwrap();
    let fx = Effects {
        messages: vec![
            alert(Category::Fills, Some(1), Notice::Paused),
            alert(Category::Signals, None, Notice::Resumed),
            reply(2, Notice::Paused),
        ],
        ..Effects::default()
    };
    tick(&store, t(0), &fx);
    let rows: Vec<(i64, Category)> =
        store.outbox_peek(10).unwrap().into_iter().map(|(_, r)| (r.chat, r.category)).collect();
    assert_eq!(rows, vec![(1, Category::Fills), (1, Category::Signals), (2, Category::Signals), (2, Category::Reply)]);

    // `enqueue` routes the same way.
    let row = |category| OutboxRow {
        chat: 2,
        category,
        position: None,
        body: OutboxBody::Text { html: "hi".into() },
        created_at: t(1),
        attempts: 0,
    };
    let seqs = store.enqueue(vec![row(Category::Fills), row(Category::Reply)]).unwrap();
    assert_eq!(seqs, vec![5]);
}

#[test]
fn an_unprotected_position_reaches_chats_that_muted_warnings() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    let muting = ChatSettings { muted: vec![Category::Warnings], ..ChatSettings::default() };
    store.set_chat_settings(1, &muting).unwrap();
    store.set_chat_settings(2, &muting).unwrap();
    let unprotected = Notice::Unprotected { symbol: btc(), reason: Some("stop refused".into()) };
    let fx = Effects {
        messages: vec![
            alert(Category::Warnings, None, Notice::BreakerClosed),
            alert(Category::Warnings, Some(1), unprotected.clone()),
        ],
        ..Effects::default()
    };
    tick(&store, t(0), &fx);
    let rows: Vec<(i64, OutboxBody)> =
        store.outbox_peek(10).unwrap().into_iter().map(|(_, r)| (r.chat, r.body)).collect();
    assert_eq!(rows, vec![(1, OutboxBody::Notice(unprotected.clone())), (2, OutboxBody::Notice(unprotected))]);
}

#[test]
fn messages_for_a_migrated_chat_go_to_its_new_id_once() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    store.set_chat_settings(1, &ChatSettings { migrated_to: Some(2), ..ChatSettings::default() }).unwrap();
    tick(&store, t(0), &Effects { messages: vec![alert(Category::Fills, None, Notice::Paused)], ..Effects::default() });
    let chats: Vec<i64> = store.outbox_peek(10).unwrap().into_iter().map(|(_, r)| r.chat).collect();
    assert_eq!(chats, vec![2]);

    // A cycle (corrupt settings) still delivers somewhere instead of looping.
    store.set_chat_settings(2, &ChatSettings { migrated_to: Some(1), ..ChatSettings::default() }).unwrap();
    tick(&store, t(1), &Effects { messages: vec![reply(1, Notice::Paused)], ..Effects::default() });
    assert_eq!(store.outbox_len().unwrap(), 2);
}

#[test]
fn position_writes_keep_the_threads_the_outbox_worker_recorded() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    let engine_copy = position(1, PositionStatus::Opening);
    tick(&store, t(0), &Effects { writes: vec![Write::Position(engine_copy.clone())], ..Effects::default() });
    assert!(store.set_position_thread(PositionId(1), 1, 100).unwrap());
    assert!(!store.set_position_thread(PositionId(1), 1, 101).unwrap(), "the first message stays the root");
    assert!(!store.set_position_thread(PositionId(9), 1, 100).unwrap(), "no such position");

    // The engine writes its copy, which does not know the thread.
    let mut update = engine_copy;
    update.status = PositionStatus::Open;
    tick(&store, t(1), &Effects { writes: vec![Write::Position(update.clone())], ..Effects::default() });
    let stored = store.position(PositionId(1)).unwrap().unwrap();
    assert_eq!(stored.status, PositionStatus::Open);
    assert_eq!(stored.thread, vec![(1, 100)]);
}

// ----- start-up state --------------------------------------------------------------------------

#[test]
fn load_returns_exactly_the_live_state() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.load().unwrap().meta, EngineMeta::default());
    let live = [(1, PositionStatus::Opening), (2, PositionStatus::Open), (3, PositionStatus::Closing)];
    let dead = [(4, PositionStatus::Closed), (5, PositionStatus::Failed)];
    let mut writes: Vec<Write> = live.iter().chain(&dead).map(|(id, s)| Write::Position(position(*id, *s))).collect();
    // A filled entry of a live position: kept (the engine needs it for the position).
    writes.push(Write::Order(order(2, OrderRole::Entry, OrderStatus::Filled)));
    writes.push(Write::Order(order(2, OrderRole::Stop, OrderStatus::New)));
    // Terminal orders of a closed position: history only.
    writes.push(Write::Order(order(4, OrderRole::Entry, OrderStatus::Filled)));
    writes.push(Write::Order(order(4, OrderRole::Stop, OrderStatus::Canceled)));
    // An order still open although its position is closed: kept, the exchange must be asked.
    writes.push(Write::Order(order(4, OrderRole::Exit, OrderStatus::New)));
    writes.push(Write::FillSeen { symbol: btc(), trade_id: 1 });
    writes.push(Write::FillSeen { symbol: btc(), trade_id: 2 });
    let eth = Symbol::new(AssetCode::new("ETH").unwrap(), AssetCode::new("USDT").unwrap());
    writes.push(Write::Direction { symbol: btc(), direction: Some(Direction::Short) });
    writes.push(Write::Direction { symbol: eth, direction: Some(Direction::Long) });
    writes.push(Write::Direction { symbol: eth, direction: None });
    tick(&store, t(0), &Effects { writes, ..Effects::default() });

    let snap = store.load().unwrap();
    let ids: Vec<u64> = snap.positions.iter().map(|p| p.id.0).collect();
    assert_eq!(ids, vec![1, 2, 3]);
    let mut orders: Vec<(u64, OrderRole)> = snap.orders.iter().map(|o| (o.position.0, o.role)).collect();
    orders.sort_by_key(|(p, r)| (*p, format!("{r:?}")));
    assert_eq!(orders, vec![(2, OrderRole::Entry), (2, OrderRole::Stop), (4, OrderRole::Exit)]);
    let mut fills = snap.fills_seen.clone();
    fills.sort_by_key(|(_, id)| *id);
    assert_eq!(fills, vec![(btc(), 1), (btc(), 2)]);
    assert_eq!(snap.directions, vec![(btc(), Direction::Short)]);
    assert_eq!(snap.meta, EngineMeta::default());
    assert_eq!(store.positions_all().unwrap().len(), 5, "history is kept");
}

#[test]
fn a_corrupt_row_is_an_error_not_a_panic() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    let txn = store.db.begin_write().unwrap();
    txn.open_table(POSITIONS).unwrap().insert(7, b"Bt\x01{not json".as_slice()).unwrap();
    txn.commit().unwrap();
    match store.load() {
        Err(StoreError::Corrupt { table, key, .. }) => {
            assert_eq!((table.as_str(), key.as_str()), ("positions_v1", "7"))
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

// ----- opening, locking, schema ----------------------------------------------------------------

#[test]
fn the_instance_tag_is_chosen_once() {
    let (_dir, path) = temp();
    let tag = Store::open(&path).unwrap().instance_tag().to_string();
    assert!(migrate::valid_tag(&tag), "{tag}");
    assert_eq!(Store::open(&path).unwrap().instance_tag(), tag);
}

#[test]
fn a_second_open_is_refused_with_a_clear_message() {
    let (_dir, path) = temp();
    let _first = Store::open(&path).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(err.to_string().contains("another Bert is already using the data directory"), "{err}");
}

fn raw_version(path: &Path) -> Option<u64> {
    let db = Database::create(path).unwrap();
    let txn = db.begin_read().unwrap();
    match txn.open_table(META) {
        Ok(t) => t.get(SCHEMA_VERSION_KEY).unwrap().map(|v| v.value()),
        Err(_) => None,
    }
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let (_dir, path) = temp();
    drop(Store::open(&path).unwrap());
    {
        let db = Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(META).unwrap().insert(SCHEMA_VERSION_KEY, SCHEMA_VERSION + 1).unwrap();
        txn.commit().unwrap();
    }
    let err = Store::open(&path).unwrap_err();
    match &err {
        StoreError::TooNew { found, supported, .. } => {
            assert_eq!((*found, *supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION))
        }
        other => panic!("expected TooNew, got {other:?}"),
    }
    assert!(err.to_string().contains("newer Bert"), "{err}");
    assert_eq!(raw_version(&path), Some(SCHEMA_VERSION + 1));
}

/// A database from before versioning: a `meta` table without `schema_version` (and no other
/// table). Opening brings it to the current schema.
#[test]
fn an_unversioned_database_is_initialized() {
    let (_dir, path) = temp();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    {
        let db = Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(META).unwrap().insert("something_old", 5).unwrap();
        txn.commit().unwrap();
    }
    assert_eq!(raw_version(&path), None);
    let store = Store::open(&path).unwrap();
    assert!(migrate::valid_tag(store.instance_tag()));
    assert_eq!(tick(&store, t(0), &Effects::default()), 1);
    assert_eq!(store.load().unwrap().positions, vec![]);
    drop(store);
    assert_eq!(raw_version(&path), Some(SCHEMA_VERSION));
}

const ORDERS_TEST_V2: TableDefinition<&str, &[u8]> = TableDefinition::new("orders_test_v2");

/// A v1 → v2 step for the test: orders move to a table keyed by upper-case client id.
fn test_v1_to_v2(txn: &WriteTransaction) -> Result<(), StoreError> {
    let mut rows = Vec::new();
    for item in txn.open_table(ORDERS)?.iter()? {
        let (k, v) = item?;
        rows.push((k.value().to_uppercase(), v.value().to_vec()));
    }
    let mut v2 = txn.open_table(ORDERS_TEST_V2)?;
    for (k, v) in &rows {
        v2.insert(k.as_str(), v.as_slice())?;
    }
    txn.delete_table(ORDERS)?;
    Ok(())
}

fn failing_step(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.delete_table(ORDERS)?;
    Err(StoreError::Encode { what: "test", detail: "step failed on purpose".into() })
}

#[test]
fn migrations_run_in_order_in_one_transaction() {
    let (_dir, path) = temp();
    let o = order(1, OrderRole::Entry, OrderStatus::New);
    {
        let store = Store::open(&path).unwrap();
        tick(&store, t(0), &Effects { writes: vec![Write::Order(o.clone())], ..Effects::default() });
    }
    let current = SCHEMA_VERSION;
    let with = |step: migrate::Migration| [migrate::MIGRATIONS, &[step]].concat();
    // A failing step changes nothing: version and data are as before.
    let err = Store::open_with(&path, &with(failing_step)).unwrap_err();
    assert!(matches!(err, StoreError::Migration { from, .. } if from == current), "{err:?}");
    assert_eq!(raw_version(&path), Some(current));
    assert_eq!(Store::open(&path).unwrap().load().unwrap().orders, vec![o.clone()]);

    // The real step: one version up, rows moved, old table gone.
    let store = Store::open_with(&path, &with(test_v1_to_v2)).unwrap();
    {
        let txn = store.db.begin_read().unwrap();
        let v2 = txn.open_table(ORDERS_TEST_V2).unwrap();
        let key = o.client_id.as_str().to_uppercase();
        let got: Order = codec::decode("orders_test_v2", &key, v2.get(key.as_str()).unwrap().unwrap().value()).unwrap();
        assert_eq!(got, o);
        assert!(txn.open_table(ORDERS).is_err());
    }
    drop(store);
    assert_eq!(raw_version(&path), Some(current + 1));
    // This binary now refuses the newer database.
    assert!(matches!(
        Store::open(&path),
        Err(StoreError::TooNew { found, supported, .. }) if found == current + 1 && supported == current
    ));
}

/// A version-1 database (before the paper table) is migrated: its data is kept, it has no
/// paper account yet, and one can be saved.
#[test]
fn a_version_1_database_gains_the_paper_table() {
    let (_dir, path) = temp();
    let o = order(1, OrderRole::Stop, OrderStatus::New);
    {
        let store = Store::open_with(&path, &[migrate::v0_to_v1]).unwrap();
        tick(&store, t(0), &Effects { writes: vec![Write::Order(o.clone())], ..Effects::default() });
    }
    assert_eq!(raw_version(&path), Some(1));
    let store = Store::open(&path).unwrap();
    assert_eq!(store.load().unwrap().orders, vec![o]);
    assert_eq!(store.paper_book().unwrap(), None);
    store.save_paper_book(&paper_book().state()).unwrap();
    assert_eq!(store.paper_book().unwrap(), Some(paper_book().state()));
    drop(store);
    assert_eq!(raw_version(&path), Some(SCHEMA_VERSION));
}

/// The paper account comes back from disk as it was saved: the resting stop still rests (and
/// still triggers), the coins it locks stay locked, the id counters go on where they were.
#[test]
fn the_paper_book_survives_a_reopen() {
    use crate::exchange::paper::{PaperBook, PaperConfig};
    let (_dir, path) = temp();
    let book = paper_book();
    let saved = book.state();
    assert_eq!(saved.open_orders(), 1);
    {
        let store = Store::open(&path).unwrap();
        assert_eq!(store.paper_book().unwrap(), None, "a new database has no paper account");
        store.save_paper_book(&saved).unwrap();
    }
    let store = Store::open(&path).unwrap();
    let loaded = store.paper_book().unwrap().expect("saved");
    assert_eq!(loaded, saved);

    let mut restored = PaperBook::restore(PaperConfig::default(), loaded);
    // Filters are market data too, listed again at start.
    restored.list_symbol(btc(), crate::domain::SymbolFilters::typical(dec!(0.01), dec!(0.00001), dec!(5)));
    assert_eq!(restored.balances(), book.balances());
    let btc_balance = restored.balances().into_iter().find(|b| b.asset == btc().base).unwrap();
    assert_eq!((btc_balance.free, btc_balance.locked), (dec!(0.008), dec!(1.99)));
    let stop = order(1, OrderRole::Stop, OrderStatus::New).client_id;
    assert_eq!(restored.query(btc(), &stop, t(3)).unwrap().status, OrderStatus::New);
    assert_eq!(restored.open_orders(None, t(3)), book.open_orders(None, t(3)));
    // Market data is not part of the account: the price comes back with the market stream.
    assert_eq!(restored.price(btc()), None);
    restored.set_price(btc(), dec!(89), t(4));
    let report = restored.query(btc(), &stop, t(4)).unwrap();
    assert_eq!((report.status, report.cum_qty), (OrderStatus::Filled, dec!(1.99)));
    // The counters go on: the stop's fill is trade 2, the next order gets exchange id 3.
    assert_eq!(restored.trades(btc(), 2).iter().map(|t| t.fill.trade_id).collect::<Vec<_>>(), vec![2]);
    let mut next = order(2, OrderRole::Entry, OrderStatus::PendingNew);
    (next.quantity, next.price) = (dec!(0.1), Some(dec!(90)));
    assert_eq!(restored.place(&next, t(5)).unwrap().exchange_id, Some(3));
    let usdt = restored.balances().into_iter().find(|b| b.asset == btc().quote).unwrap();
    assert!(usdt.free > dec!(9900), "the stop's proceeds are credited: {usdt:?}");
}

// ----- history ---------------------------------------------------------------------------------

#[test]
fn journal_since_and_json_lines() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    for i in 0..5 {
        assert_eq!(tick(&store, t(i), &Effects::default()), i as u64 + 1);
    }
    let seqs = |v: Vec<(u64, JournalEntry)>| v.into_iter().map(|(s, _)| s).collect::<Vec<_>>();
    assert_eq!(seqs(store.journal(2, 10).unwrap()), vec![3, 4, 5]);
    assert_eq!(seqs(store.journal(0, 2).unwrap()), vec![1, 2]);
    assert_eq!(seqs(store.journal(5, 10).unwrap()), Vec::<u64>::new());
    assert_eq!(seqs(store.journal(u64::MAX, 10).unwrap()), Vec::<u64>::new());

    let lines = store.journal_json_lines(3).unwrap();
    assert_eq!(lines.len(), 2);
    let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(v["seq"], 4);
    assert_eq!(v["at"], t(3).0);
    assert_eq!(v["event"], "Tick");
    assert_eq!(v["requests"], serde_json::json!([]));
    assert!(lines[0].starts_with(r#"{"seq":4,"at":"#), "{}", lines[0]);
}

// ----- outbox ----------------------------------------------------------------------------------

fn text_row(chat: i64, at: i64) -> OutboxRow {
    OutboxRow {
        chat,
        category: Category::Reply,
        position: None,
        body: OutboxBody::Text { html: format!("to {chat}") },
        created_at: t(at),
        attempts: 0,
    }
}

#[test]
fn outbox_reads_deletes_and_replaces() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.outbox_oldest_at().unwrap(), None);
    let seqs = store.enqueue(vec![text_row(1, 5), text_row(2, 6), text_row(1, 7)]).unwrap();
    assert_eq!(seqs, vec![1, 2, 3]);
    assert_eq!(store.outbox_oldest_at().unwrap(), Some(t(5)));
    assert_eq!(store.outbox_peek(2).unwrap().iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![1, 2]);
    let chat1: Vec<u64> = store.outbox_peek_chat(1, 10).unwrap().iter().map(|(s, _)| *s).collect();
    assert_eq!(chat1, vec![1, 3]);

    let mut bumped = text_row(1, 5);
    bumped.attempts = 1;
    assert!(store.outbox_replace(1, &bumped).unwrap());
    assert_eq!(store.outbox_peek(1).unwrap()[0].1.attempts, 1);

    assert!(store.outbox_delete(3).unwrap());
    assert!(!store.outbox_delete(3).unwrap());
    assert!(!store.outbox_replace(3, &bumped).unwrap(), "a delivered row is never recreated");
    assert_eq!(store.outbox_len().unwrap(), 2);

    // Seqs are never reused, even after the newest row is gone.
    assert_eq!(store.enqueue(vec![text_row(1, 8)]).unwrap(), vec![4]);
    drop(store);
    let store = Store::open(&path).unwrap();
    store.outbox_delete(4).unwrap();
    assert_eq!(store.enqueue(vec![text_row(1, 9)]).unwrap(), vec![5]);
}

#[test]
fn dead_letter_moves_the_row() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    store.enqueue(vec![text_row(1, 5), text_row(2, 6)]).unwrap();
    assert!(store.dead_letter(1, "Forbidden: bot was blocked by the user").unwrap());
    assert!(!store.dead_letter(1, "again").unwrap());
    assert_eq!(store.outbox_peek(10).unwrap().iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![2]);
    assert_eq!(
        store.dead_letters().unwrap(),
        vec![(1, DeadLetter { row: text_row(1, 5), reason: "Forbidden: bot was blocked by the user".into() })]
    );
}

#[test]
fn migrate_chat_readdresses_rows_and_future_messages() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    let settings = ChatSettings { language: Some("es".into()), muted: vec![Category::Signals], migrated_to: None };
    store.set_chat_settings(1, &settings).unwrap();
    store.enqueue(vec![text_row(1, 5), text_row(2, 6), text_row(1, 7)]).unwrap();
    assert_eq!(store.migrate_chat(1, -100_001).unwrap(), 2);
    let chats: Vec<i64> = store.outbox_peek(10).unwrap().into_iter().map(|(_, r)| r.chat).collect();
    assert_eq!(chats, vec![-100_001, 2, -100_001]);
    assert_eq!(store.chat_settings(1).unwrap().migrated_to, Some(-100_001));
    assert_eq!(store.chat_settings(-100_001).unwrap(), settings, "the new chat inherits language and mutes");
    assert_eq!(store.migrate_chat(1, 1).unwrap(), 0);

    // Alerts still addressed to the old id (configuration not updated yet) follow the migration.
    tick(&store, t(9), &Effects { messages: vec![alert(Category::Fills, None, Notice::Paused)], ..Effects::default() });
    let last: Vec<i64> = store.outbox_peek(10).unwrap().into_iter().skip(3).map(|(_, r)| r.chat).collect();
    assert_eq!(last, vec![-100_001, 2]);
}

#[test]
fn chat_settings_default_and_persist() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.chat_settings(5).unwrap(), ChatSettings::default());
    store.set_chat_settings(5, &chat_settings()).unwrap();
    drop(store);
    assert_eq!(Store::open(&path).unwrap().chat_settings(5).unwrap(), chat_settings());
}
