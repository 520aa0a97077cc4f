//! The outbox worker against the fake Bot API, over real HTTP: order, rate limits, faults,
//! splitting, coalescing, photos, threading, restarts, and an alert storm under enforcement.
//!
//! Limits are scaled up (10× or more) in the worker and in the fake alike, so each test runs in
//! a second or two of real time (see the outbox module docs for why the clock is not faked).

#[path = "support/fake_telegram/mod.rs"]
mod fake_telegram;

use bert::domain::{AssetCode, EntryReason, Position, PositionId, Symbol, Timestamp};
use bert::engine::{Category, Effects, Event, Notice, Write};
use bert::i18n::{Lang, tr_html};
use bert::store::{Button, ChatSettings, OutboxBody, OutboxRow, Store};
use bert::telegram::api::BotApi;
use bert::telegram::{Outbox, OutboxConfig, OutboxLimits, OutboxStats};
use fake_telegram::{FakeTelegram, Fault, Kind, TOKEN};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);

struct Rig {
    fake: FakeTelegram,
    store: Arc<Store>,
    notify: Arc<Notify>,
    stop: CancellationToken,
    worker: Option<tokio::task::JoinHandle<()>>,
    stats: Arc<OutboxStats>,
    dir: tempfile::TempDir,
}

fn config(scale: u32) -> OutboxConfig {
    fake_telegram::fast_outbox(scale)
}

impl Rig {
    async fn new(config: OutboxConfig) -> Rig {
        let fake = FakeTelegram::start().await;
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("bert.redb")).unwrap());
        let mut rig = Rig {
            fake,
            store,
            notify: Arc::new(Notify::new()),
            stop: CancellationToken::new(),
            worker: None,
            stats: Arc::new(OutboxStats::default()),
            dir,
        };
        rig.start(config);
        rig
    }

    /// Starts a worker on the rig's store (a new instance each time).
    fn start(&mut self, config: OutboxConfig) {
        let api = BotApi::new(TOKEN, &self.fake.url(), config.request_timeout).unwrap();
        let outbox = Outbox::new(self.store.clone(), api, config, self.notify.clone());
        self.stats = outbox.stats();
        self.stop = CancellationToken::new();
        self.worker = Some(tokio::spawn(outbox.run(self.stop.clone())));
    }

    async fn stop(&mut self) {
        self.stop.cancel();
        if let Some(w) = self.worker.take() {
            tokio::time::timeout(WAIT, w).await.expect("the worker stops").unwrap();
        }
    }

    fn queue(&self, rows: Vec<OutboxRow>) {
        self.store.enqueue(rows).unwrap();
        self.notify.notify_one();
    }

    async fn wait_empty(&self) {
        let deadline = Instant::now() + WAIT;
        while self.store.outbox_len().unwrap() > 0 {
            assert!(Instant::now() < deadline, "outbox not drained: {:?}", self.store.outbox_peek(10).unwrap());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn row(chat: i64, category: Category, body: OutboxBody) -> OutboxRow {
    OutboxRow { chat, category, position: None, body, created_at: Timestamp(0), attempts: 0 }
}

fn reply(chat: i64, html: &str) -> OutboxRow {
    row(chat, Category::Reply, OutboxBody::Text { html: html.to_string() })
}

fn btc() -> Symbol {
    Symbol::parse("BTC", AssetCode::new("USDT").unwrap()).unwrap()
}

/// An alert whose rendering contains `tag` (the reason line).
fn alert(chat: i64, tag: &str) -> OutboxRow {
    row(chat, Category::Fills, OutboxBody::Notice(Notice::EntryFailed { symbol: btc(), reason: Some(tag.to_string()) }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_in_order_per_chat_and_deletes_only_delivered_rows() {
    let mut rig = Rig::new(config(20)).await;
    rig.queue((1..=5).map(|i| reply(11, &format!("message {i}"))).collect());
    rig.queue((1..=3).map(|i| reply(-22, &format!("group {i}"))).collect());
    let sent = rig.fake.wait_sent(11, 5, WAIT).await;
    assert_eq!(
        sent.iter().map(|s| s.text.clone()).collect::<Vec<_>>(),
        (1..=5).map(|i| format!("message {i}")).collect::<Vec<_>>()
    );
    assert!(sent.iter().all(|s| s.html && s.kind == Kind::Message));
    let sent = rig.fake.wait_sent(-22, 3, WAIT).await;
    assert_eq!(sent.iter().map(|s| s.text.as_str()).collect::<Vec<_>>(), ["group 1", "group 2", "group 3"]);
    rig.wait_empty().await;
    assert_eq!(rig.fake.sent().len(), 8, "nothing sent twice");
    assert_eq!(rig.stats.rows_delivered.load(Ordering::Relaxed), 8);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_pauses_only_that_chat() {
    let mut rig = Rig::new(config(20)).await;
    rig.fake.fail_chat(1, Fault::RetryAfter(1));
    let started = Instant::now();
    rig.queue(vec![reply(1, "slow chat")]);
    rig.queue((1..=5).map(|i| reply(2, &format!("fast {i}"))).collect());
    let fast = rig.fake.wait_sent(2, 5, WAIT).await;
    let slow = rig.fake.wait_sent(1, 1, WAIT).await;
    assert_eq!(slow.len(), 1);
    assert!(fast.iter().all(|f| f.at < slow[0].at), "the other chat kept flowing during the pause");
    assert!(slow[0].at.duration_since(started) >= Duration::from_secs(1), "retry_after was honoured");
    assert_eq!(rig.stats.retry_after.load(Ordering::Relaxed), 1);
    rig.wait_empty().await;
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_without_duplicates() {
    let mut rig = Rig::new(config(20)).await;
    rig.fake.fail_chat(5, Fault::ServerError);
    rig.fake.fail_chat(5, Fault::ServerError);
    rig.queue(vec![reply(5, "after two 502s")]);
    let sent = rig.fake.wait_sent(5, 1, WAIT).await;
    rig.wait_empty().await;
    assert_eq!(sent.len(), 1);
    let attempts = rig.fake.calls_of("sendMessage");
    assert_eq!(attempts.iter().map(|c| c.status).collect::<Vec<_>>(), vec![502, 502, 200]);
    assert_eq!(rig.stats.transient_failures.load(Ordering::Relaxed), 2);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_errors_keep_the_rows_until_telegram_is_back() {
    // A worker pointed at a port nobody listens on: rows stay, attempts are counted.
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("bert.redb")).unwrap());
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    store.enqueue(vec![reply(3, "eventually")]).unwrap();
    let cfg = config(20);
    let stop = CancellationToken::new();
    let notify = Arc::new(Notify::new());
    let api = BotApi::new(TOKEN, &dead_url, cfg.request_timeout).unwrap();
    let worker = tokio::spawn(Outbox::new(store.clone(), api, cfg.clone(), notify.clone()).run(stop.clone()));
    let deadline = Instant::now() + WAIT;
    while store.outbox_peek(10).unwrap()[0].1.attempts < 2 {
        assert!(Instant::now() < deadline, "attempts are counted");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.cancel();
    worker.await.unwrap();
    assert_eq!(store.outbox_len().unwrap(), 1, "the row is kept");
    // Telegram is back: a new worker delivers it.
    let stop = CancellationToken::new();
    let api = BotApi::new(TOKEN, &fake.url(), cfg.request_timeout).unwrap();
    let worker = tokio::spawn(Outbox::new(store.clone(), api, cfg, notify).run(stop.clone()));
    assert_eq!(fake.wait_sent(3, 1, WAIT).await[0].text, "eventually");
    stop.cancel();
    worker.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrated_groups_take_their_queued_rows_along() {
    let mut rig = Rig::new(config(20)).await;
    let (old, new) = (-500, -1_000_000_000_500);
    rig.store.set_chat_settings(old, &ChatSettings { language: Some("es".into()), ..Default::default() }).unwrap();
    rig.fake.fail_chat(old, Fault::Migrate(new));
    rig.queue((1..=3).map(|i| reply(old, &format!("migrating {i}"))).collect());
    let sent = rig.fake.wait_sent(new, 3, WAIT).await;
    assert_eq!(sent.iter().map(|s| s.text.as_str()).collect::<Vec<_>>(), ["migrating 1", "migrating 2", "migrating 3"]);
    assert!(rig.fake.sent_to(old).is_empty());
    assert_eq!(rig.store.chat_settings(old).unwrap().migrated_to, Some(new));
    assert_eq!(rig.store.chat_settings(new).unwrap().language.as_deref(), Some("es"), "settings follow");
    // Later messages for the old id go to the new one.
    rig.queue(vec![reply(old, "later")]);
    assert_eq!(rig.fake.wait_sent(new, 4, WAIT).await[3].text, "later");
    assert_eq!(rig.stats.migrations.load(Ordering::Relaxed), 1);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_and_kicked_chats_go_to_the_dead_letters() {
    let mut rig = Rig::new(config(20)).await;
    rig.fake.fail_chat_always(7, Fault::Blocked);
    rig.fake.fail_chat_always(-8, Fault::Kicked);
    rig.queue((1..=3).map(|i| reply(7, &format!("to a blocked chat {i}"))).collect());
    rig.queue(vec![alert(-8, "to a kicked group")]);
    rig.queue(vec![reply(9, "unaffected")]);
    assert_eq!(rig.fake.wait_sent(9, 1, WAIT).await.len(), 1);
    rig.wait_empty().await;
    let letters = rig.store.dead_letters().unwrap();
    assert_eq!(letters.len(), 4, "{letters:?}");
    assert_eq!(letters.iter().filter(|(_, l)| l.row.chat == 7).count(), 3);
    assert!(letters.iter().filter(|(_, l)| l.row.chat == 7).all(|(_, l)| l.reason.contains("blocked")));
    assert!(letters.iter().any(|(_, l)| l.row.chat == -8 && l.reason.contains("kicked")));
    // One request found the chat gone; the other rows were moved without trying each.
    let to_blocked = rig.fake.calls_of("sendMessage").iter().filter(|c| c.params["chat_id"] == 7).count();
    assert_eq!(to_blocked, 1);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unparsable_html_is_resent_as_plain_text() {
    let mut rig = Rig::new(config(20)).await;
    // Telegram says it cannot parse valid-looking HTML (as happens with entity limits)...
    rig.fake.fail_next(Fault::CantParse);
    rig.queue(vec![reply(4, "<b>BTC</b> &lt;3 &amp; more")]);
    // ...and really broken HTML (a bare tag Telegram does not know).
    rig.queue(vec![reply(4, "price <blink>up</blink> 5 &gt; 4")]);
    let sent = rig.fake.wait_sent(4, 2, WAIT).await;
    assert_eq!(sent[0].text, "BTC <3 & more");
    assert!(!sent[0].html, "sent without parse_mode");
    assert_eq!(sent[1].text, "price up 5 > 4");
    assert_eq!(rig.stats.plain_fallbacks.load(Ordering::Relaxed), 2);
    rig.wait_empty().await;
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_text_is_split_on_line_boundaries() {
    let mut rig = Rig::new(config(50)).await;
    let lines: Vec<String> = (0..400).map(|i| format!("line {i:03} {}", "x".repeat(40))).collect();
    let text = lines.join("\n");
    assert!(text.chars().count() > 3 * 4096);
    rig.queue(vec![reply(6, &text)]);
    rig.wait_empty().await;
    let sent = rig.fake.sent_to(6);
    assert_eq!(sent.len(), 5, "{:?}", sent.iter().map(|s| s.text.len()).collect::<Vec<_>>());
    assert!(sent.iter().all(|s| s.text.encode_utf16().count() <= 4096));
    assert!(sent.iter().all(|s| !s.text.starts_with('\n') && !s.text.ends_with('\n')));
    let rejoined = sent.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n");
    assert_eq!(rejoined, text, "every line once, in order, none cut");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_of_alerts_is_coalesced() {
    let mut rig = Rig::new(config(20)).await;
    rig.stop().await; // queue everything first, then start: the backlog is visible at once
    rig.queue((0..60).map(|i| alert(12, &format!("alert-{i:03}"))).collect());
    rig.queue(vec![reply(12, "a reply stays separate")]);
    rig.start(config(20));
    rig.wait_empty().await;
    let sent = rig.fake.sent_to(12);
    assert!(sent.len() < 10, "60 alerts in {} messages", sent.len());
    let all: String = sent.iter().map(|s| s.text.clone()).collect::<Vec<_>>().join("\n");
    let mut last = 0;
    for i in 0..60 {
        let tag = format!("alert-{i:03}");
        assert_eq!(all.matches(&tag).count(), 1, "{tag} exactly once");
        let at = all.find(&tag).unwrap();
        assert!(at >= last, "in order");
        last = at;
    }
    assert!(sent.iter().all(|s| s.text.encode_utf16().count() <= 4096));
    assert!(sent.iter().any(|s| s.text.contains("\n\n")), "merged with a blank line between alerts");
    assert_eq!(sent.last().unwrap().text, "a reply stays separate");
    assert!(rig.stats.rows_coalesced.load(Ordering::Relaxed) >= 50);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_go_through_the_same_queue() {
    let mut rig = Rig::new(config(20)).await;
    let png = vec![0x89, b'P', b'N', b'G', 1, 2, 3, 4, 5];
    rig.stop().await;
    rig.queue(vec![alert(13, "before"), alert(13, "before 2"), alert(13, "before 3")]);
    rig.queue(vec![row(
        13,
        Category::Performance,
        OutboxBody::Photo { png: png.clone(), caption: "<b>Equity</b>".into() },
    )]);
    rig.queue(vec![alert(13, "after")]);
    rig.start(config(20));
    rig.wait_empty().await;
    let sent = rig.fake.sent_to(13);
    let kinds: Vec<Kind> = sent.iter().map(|s| s.kind.clone()).collect();
    assert_eq!(kinds, vec![Kind::Message, Kind::Photo, Kind::Message], "never merged, order kept");
    assert_eq!(sent[1].photo_bytes, png.len());
    assert_eq!(sent[1].text, "<b>Equity</b>");
    let photo_call = &rig.fake.calls_of("sendPhoto")[0];
    assert_eq!(photo_call.params["photo"]["file_name"], "chart.png");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_are_rendered_in_the_chats_language_at_delivery() {
    let mut rig = Rig::new(config(20)).await;
    rig.stop().await;
    rig.queue(vec![row(14, Category::Reply, OutboxBody::Notice(Notice::Paused))]);
    // Changed after queueing: applies to the queued row.
    rig.store.set_chat_settings(14, &ChatSettings { language: Some("ru".into()), ..Default::default() }).unwrap();
    rig.queue(vec![row(15, Category::Reply, OutboxBody::Notice(Notice::Paused))]);
    rig.start(config(20));
    rig.wait_empty().await;
    let ru = rig.fake.sent_to(14);
    assert!(ru[0].text.contains(&tr_html(Lang::Ru, "paused", &[])), "{}", ru[0].text);
    let en = rig.fake.sent_to(15);
    assert!(en[0].text.contains(&tr_html(Lang::En, "paused", &[])), "{}", en[0].text);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_about_a_position_reply_to_its_first_alert() {
    let mut rig = Rig::new(config(20)).await;
    let id = PositionId(1);
    let position = Position::new(id, btc(), EntryReason::Signal, Timestamp(0));
    let effects = Effects { writes: vec![Write::Position(position)], ..Effects::default() };
    rig.store.commit(Timestamp(0), &Event::Tick, &effects, &|_| Vec::new()).unwrap();
    let about = |tag: &str| OutboxRow { position: Some(id), ..alert(16, tag) };
    rig.queue(vec![about("first")]);
    let first = rig.fake.wait_sent(16, 1, WAIT).await[0].clone();
    assert_eq!(first.reply_to, None);
    rig.wait_empty().await;
    assert_eq!(rig.store.position(id).unwrap().unwrap().thread, vec![(16, first.message_id as i32)]);
    rig.queue(vec![about("second")]);
    let second = rig.fake.wait_sent(16, 2, WAIT).await[1].clone();
    assert_eq!(second.reply_to, Some(first.message_id), "threaded under the first alert");
    let sent_params = rig.fake.calls_of("sendMessage").last().unwrap().params.clone();
    assert_eq!(sent_params["reply_parameters"]["allow_sending_without_reply"], true);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_finds_its_prompt_by_token() {
    let mut rig = Rig::new(config(20)).await;
    let buttons = vec![vec![
        Button { text: "Confirm".into(), data: "bc:t1:y".into() },
        Button { text: "Cancel".into(), data: "bc:t1:n".into() },
    ]];
    rig.queue(vec![row(
        17,
        Category::Reply,
        OutboxBody::Prompt { html: "Enter?".into(), buttons, token: Some("t1".into()) },
    )]);
    rig.queue(vec![row(
        17,
        Category::Reply,
        OutboxBody::Edit {
            message_id: None,
            token: Some("t1".into()),
            html: "Enter? Cancelled".into(),
            buttons: vec![],
        },
    )]);
    // An edit whose prompt is unknown (e.g. sent before a restart) is dropped, not retried forever.
    rig.queue(vec![row(
        17,
        Category::Reply,
        OutboxBody::Edit { message_id: None, token: Some("gone".into()), html: "x".into(), buttons: vec![] },
    )]);
    rig.wait_empty().await;
    let sent = rig.fake.sent_to(17);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].buttons, vec![("Confirm".into(), "bc:t1:y".into()), ("Cancel".into(), "bc:t1:n".into())]);
    assert_eq!(sent[1].kind, Kind::Edit);
    assert_eq!(sent[1].message_id, sent[0].message_id);
    assert!(sent[1].buttons.is_empty(), "the buttons are removed");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_worker_delivers_what_the_old_one_left() {
    // The first worker is throttled hard (one message per 10 s per chat): it delivers one row
    // and is stopped with the rest queued, as a crash or a deploy would leave them.
    let slow = OutboxConfig {
        limits: OutboxLimits { per_chat: Duration::from_secs(10), ..OutboxLimits::TELEGRAM },
        coalesce_at: 0,
        ..config(1)
    };
    let mut rig = Rig::new(slow).await;
    rig.queue((1..=4).map(|i| reply(18, &format!("restart {i}"))).collect());
    rig.fake.wait_sent(18, 1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    rig.stop().await;
    assert_eq!(rig.store.outbox_len().unwrap(), 3);
    // Reopen the store as a restart would.
    let path = rig.dir.path().join("bert.redb");
    let store = std::mem::replace(&mut rig.store, Arc::new(Store::open(rig.dir.path().join("other.redb")).unwrap()));
    drop(store);
    rig.store = Arc::new(Store::open(&path).unwrap());
    rig.start(config(20));
    rig.wait_empty().await;
    let texts: Vec<String> = rig.fake.sent_to(18).into_iter().map(|s| s.text).collect();
    assert_eq!(texts, (1..=4).map(|i| format!("restart {i}")).collect::<Vec<_>>());
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_alert_storm_arrives_complete_and_within_the_limits() {
    const SCALE: u32 = 10;
    let mut rig = Rig::new(config(SCALE)).await;
    rig.fake.enforce(SCALE, 0.25);
    let (group, private) = (-1_000_000_000_077, 77);
    let started = Instant::now();
    // 200 alerts to each chat, committed in small batches as events would be.
    for batch in 0..20 {
        let rows: Vec<OutboxRow> = (0..10)
            .flat_map(|i| {
                let n = batch * 10 + i;
                [alert(group, &format!("storm-g-{n:03}")), alert(private, &format!("storm-p-{n:03}"))]
            })
            .collect();
        rig.queue(rows);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    rig.wait_empty().await;
    let elapsed = started.elapsed();
    assert_eq!(rig.fake.violations(), Vec::<String>::new(), "no limit was exceeded");
    assert_eq!(rig.stats.retry_after.load(Ordering::Relaxed), 0);
    for (chat, prefix) in [(group, "storm-g"), (private, "storm-p")] {
        let sent = rig.fake.sent_to(chat);
        let all: String = sent.iter().map(|s| s.text.clone()).collect::<Vec<_>>().join("\n");
        for n in 0..200 {
            let tag = format!("{prefix}-{n:03}");
            assert_eq!(all.matches(&tag).count(), 1, "{tag} delivered exactly once");
        }
        assert!(sent.len() < 40, "{chat}: 200 alerts in {} messages", sent.len());
    }
    // At Telegram's real limits this is SCALE times longer: a group's 200 alerts in well under
    // ten minutes (20 messages a minute) instead of ten.
    let group_messages = rig.fake.sent_to(group).len() as u32;
    assert!(group_messages * 3 < 600, "{group_messages} group messages take {} s at 20/min", group_messages * 3);
    println!("storm: {:?} at {SCALE}x; group {group_messages} messages", elapsed);
    rig.stop().await;
}

#[test]
fn the_fake_checks_html_like_telegram() {
    use fake_telegram::html_ok;
    assert!(html_ok("<b>BTC</b> &lt;x&gt; &amp; <code>1</code>"));
    assert!(!html_ok("<foo>x</foo>"));
    assert!(!html_ok("<b>x"));
    assert!(!html_ok("a < b"));
    assert!(!html_ok("P&L"));
    assert!(html_ok("plain"));
}
