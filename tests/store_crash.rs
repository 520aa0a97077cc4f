//! kill -9 at any instant leaves the store consistent: every event is in it whole or not at all.
//!
//! The test re-runs its own binary as a child (`child_writer`, selected with `--exact` and
//! switched on by an environment variable). The child commits events in a tight loop, each one
//! writing an order, a position, a fill, a closed trade, the engine meta, a direction and
//! outbox rows all derived from the event's number, and prints `committed n` after each commit
//! returns. The parent reads a random-ish number of those lines, SIGKILLs the child wherever it
//! happens to be, reopens the store and checks that every table agrees on the same count, and
//! that nothing the child reported as committed was lost. Then again, five times, each child
//! continuing where the previous one died.

use bert::domain::{
    AssetCode, ClientOrderId, Decimal, EntryReason, Order, OrderKind, OrderRole, Position, PositionId, PositionStatus,
    Side, Symbol, Timestamp,
};
use bert::engine::{Audience, Category, Effects, EngineMeta, Event, Notice, Outgoing, Request, Write};
use bert::store::{OutboxBody, Store, StoreError};
use bert::strategy::edge70::Direction;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const CHILD_ENV: &str = "BERT_STORE_CRASH_CHILD";
const CHATS: [i64; 2] = [11, -22];
const MESSAGES_PER_EVENT: u64 = 3;
const ROWS_PER_EVENT: u64 = MESSAGES_PER_EVENT * CHATS.len() as u64;
const KILLS: usize = 5;
/// Upper bound on one child's commits, so an orphaned child cannot run forever.
const CHILD_MAX_COMMITS: u64 = 20_000;
/// How long the parent waits for the child's next line before declaring it hung.
const LINE_TIMEOUT: Duration = Duration::from_secs(60);

fn btc() -> Symbol {
    Symbol::new(AssetCode::new("BTC").unwrap(), AssetCode::new("USDT").unwrap())
}

fn direction(n: u64) -> Direction {
    if n.is_multiple_of(2) { Direction::Long } else { Direction::Short }
}

/// Everything event `n` writes.
fn effects(n: u64, tag: &str) -> Effects {
    let id = PositionId(n);
    let mut order = Order::intent(
        ClientOrderId::derive(tag, id, OrderRole::Entry, 1),
        id,
        btc(),
        Side::Buy,
        OrderKind::LimitIoc,
        OrderRole::Entry,
        Decimal::from(n),
        Timestamp(n as i64),
    );
    order.price = Some(Decimal::new(1005, 1));
    let mut position = Position::new(id, btc(), EntryReason::Signal, Timestamp(n as i64));
    position.qty = Decimal::from(n);
    let mut closed = position.to_closed_trade(Timestamp(n as i64));
    closed.qty = Decimal::from(n);
    let messages = (0..MESSAGES_PER_EVENT)
        .map(|_| Outgoing {
            to: Audience::Alerts { also: None },
            category: Category::Fills,
            position: Some(id),
            notice: Notice::Paused,
        })
        .collect();
    Effects {
        writes: vec![
            Write::Order(order.clone()),
            Write::Position(position),
            Write::FillSeen { symbol: btc(), trade_id: n },
            Write::ClosedTrade(closed),
            Write::Meta(EngineMeta { paused: false, next_position: n + 1, breaker: None, ..Default::default() }),
            Write::Direction { symbol: btc(), direction: Some(direction(n)) },
        ],
        messages,
        requests: vec![Request::Place(Box::new(order))],
    }
}

/// The child: commits events until killed. A no-op in a normal test run.
#[test]
fn child_writer() {
    let Some(path) = std::env::var_os(CHILD_ENV) else { return };
    let store = Store::open(&path).expect("child: open the store");
    let first = store.load().expect("child: load").meta.next_position.max(1);
    let mut out = std::io::stdout().lock();
    for n in first..first + CHILD_MAX_COMMITS {
        let seq = store
            .commit(Timestamp(n as i64), &Event::Tick, &effects(n, store.instance_tag()), &|_| CHATS.to_vec())
            .expect("child: commit");
        assert_eq!(seq, n, "child: journal seq follows the event number");
        // The parent is gone if stdout is closed: stop.
        if writeln!(out, "committed {n}").and_then(|()| out.flush()).is_err() {
            return;
        }
    }
}

/// What the reopened store must look like after events `1..=n`, all whole.
fn check_consistent(store: &Store, n: u64) {
    let journal = store.journal(0, usize::MAX).unwrap();
    let seqs: Vec<u64> = journal.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "journal is 1..={n} without gaps");

    let snap = store.load().unwrap();
    assert_eq!(snap.meta.next_position, n + 1, "engine meta");
    let positions = store.positions_all().unwrap();
    assert_eq!(positions.len() as u64, n, "positions");
    for (i, p) in positions.iter().enumerate() {
        assert_eq!((p.id.0, p.qty), (i as u64 + 1, Decimal::from(i as u64 + 1)), "position row");
        assert_eq!(p.status, PositionStatus::Opening);
    }
    assert_eq!(snap.positions.len() as u64, n, "live positions");
    let mut orders: Vec<(u64, Decimal)> = snap.orders.iter().map(|o| (o.position.0, o.quantity)).collect();
    orders.sort();
    assert_eq!(orders, (1..=n).map(|i| (i, Decimal::from(i))).collect::<Vec<_>>(), "orders");
    let mut fills: Vec<u64> = snap.fills_seen.iter().map(|(_, id)| *id).collect();
    fills.sort_unstable();
    assert_eq!(fills, (1..=n).collect::<Vec<_>>(), "fills seen");
    let closed: Vec<Decimal> = store.closed_trades().unwrap().into_iter().map(|t| t.qty).collect();
    assert_eq!(closed, (1..=n).map(Decimal::from).collect::<Vec<_>>(), "closed trades");
    let expected_direction = if n == 0 { vec![] } else { vec![(btc(), direction(n))] };
    assert_eq!(snap.directions, expected_direction, "direction of the last event");

    let rows = store.outbox_peek(usize::MAX).unwrap();
    assert_eq!(store.outbox_len().unwrap(), n * ROWS_PER_EVENT, "outbox length");
    let mut per_event: BTreeMap<u64, u64> = BTreeMap::new();
    for (_, row) in &rows {
        assert_eq!(row.body, OutboxBody::Notice(Notice::Paused));
        *per_event.entry(row.position.unwrap().0).or_default() += 1;
    }
    assert!(per_event.values().all(|c| *c == ROWS_PER_EVENT), "every event has all its rows: {per_event:?}");
    assert_eq!(per_event.len() as u64, n, "outbox rows of every event");
}

/// A seed for where to kill, different on every run (printed, so a failure can be replayed by
/// reading the log).
fn seed() -> u64 {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    u64::from(nanos) ^ u64::from(std::process::id()).rotate_left(32)
}

fn spawn_child(path: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the child writer")
}

#[test]
fn kill_9_leaves_only_whole_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("bert.redb");
    let mut rng = seed();
    eprintln!("store_crash seed {rng}");
    let mut durable = 0u64;
    for round in 0..KILLS {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let target = 2 + rng % 30;
        let mut child = spawn_child(&path);
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut reported = 0;
        let mut seen = 0;
        while seen < target {
            match rx.recv_timeout(LINE_TIMEOUT) {
                Ok(line) => {
                    // The harness prints `test child_writer ... ` without a newline before the
                    // child's first line, so the marker is searched, not expected at the start.
                    let Some((_, n)) = line.rsplit_once("committed ") else { continue };
                    reported = n.parse::<u64>().unwrap();
                    seen += 1;
                    if round == 0 && seen == 1 {
                        // The running child holds the file: a second process is refused.
                        let err = Store::open(&path).unwrap_err();
                        assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let out = child.wait_with_output().unwrap();
                    panic!("child stopped or hung after {seen} commits: {}", String::from_utf8_lossy(&out.stderr));
                }
            }
        }
        // Jitter: let the child run a little further into its next commit before the kill, so
        // kills land at different points of a commit (nothing below depends on timing).
        for _ in 0..rng % 300_000 {
            std::hint::spin_loop();
        }
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "the child was killed, not finished");
        // Commits the child reported before it died that the loop above had not read yet: the
        // reader ends at the closed pipe, so after joining it the channel holds them all.
        let _ = reader.join();
        for line in rx.try_iter() {
            if let Some((_, n)) = line.rsplit_once("committed ")
                && let Ok(n) = n.parse::<u64>()
            {
                // `max`: a line cut short by the kill could read as a smaller number.
                reported = reported.max(n);
            }
        }

        let store = Store::open(&path).expect("reopen after kill -9");
        let n = store.journal(0, usize::MAX).unwrap().len() as u64;
        assert!(n >= reported, "round {round}: the child reported {reported} committed, the store has {n}");
        assert!(
            n <= reported + 1,
            "round {round}: at most the one commit in flight may have landed ({n} > {reported} + 1)"
        );
        assert!(n > durable, "round {round}: progress");
        check_consistent(&store, n);
        eprintln!("round {round}: killed after {reported} reported as committed; {n} whole events in the store");
        durable = n;
    }
}
