//! Security checks as a table: every way someone who is not an authorized trader could try to
//! make Bert trade, driven through the real teloxide bot against the fake Bot API, with the
//! engine driver, the store and the paper exchange behind it.
//!
//! The oracle is the engine's journal: every command that reaches the engine is journaled as an
//! `Event::Command` before anything is sent to the exchange (previews are not: they change
//! nothing). After each attempt a marker (`/id` from the trader in the same chat) proves the
//! attempt was handled (teloxide handles one chat's updates in order), then the journal must
//! hold no command and the store no order. A last row proves the oracle can see a trade: the
//! trader confirms an entry and exactly one `Enter` and one entry order appear.

#[path = "support/fake_telegram/mod.rs"]
mod fake_telegram;
#[path = "support/paper_engine.rs"]
mod paper_engine;

use bert::app::driver::{EngineHandle, SystemClock};
use bert::chat::auth::Roles;
use bert::chat::render::{self, Mode};
use bert::domain::OrderRole;
use bert::engine::{Command, Event, Settings};
use bert::i18n::Lang;
use bert::store::Store;
use bert::telegram::{self, BotDeps, OutboxConfig, OutboxLimits, TelegramConfig};
use fake_telegram::{BOT_ID, BOT_USERNAME, FakeTelegram, GROUP_ANONYMOUS_BOT, Sent, TOKEN, chat_json, user_json};
use paper_engine::{PaperEngine, btc, usdt};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);
const TRADER: i64 = 100;
const TRADER2: i64 = 101;
const VIEWER: i64 = 200;
const STRANGER: i64 = 300;
const GROUP: i64 = -900;
const SUPERGROUP: i64 = -1_000_000_000_900;
const CHANNEL: i64 = -1_000_000_000_555;

struct Rig {
    fake: FakeTelegram,
    store: Arc<Store>,
    engine: EngineHandle,
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Rig {
    async fn new() -> Rig {
        let fake = FakeTelegram::start().await;
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("bert.redb")).unwrap());
        let PaperEngine { handle, outbox: notify, .. } =
            paper_engine::start(store.clone(), Settings::default(), vec![], Arc::new(SystemClock)).await;

        // The placeholder accounts Telegram uses for anonymous admins and channels are listed as
        // traders on purpose: a misconfiguration must still not let them trade.
        let mut cfg = TelegramConfig::new(
            bert::app::config::Secret::new(TOKEN),
            format!("{}/", fake.url()),
            Roles::new([TRADER, TRADER2, GROUP_ANONYMOUS_BOT, 136_817_688, 777_000], [VIEWER]),
            usdt(),
        );
        cfg.confirm = true;
        cfg.sweep = Duration::from_millis(20);
        cfg.command_burst = 10_000;
        cfg.command_interval = Duration::from_millis(1);
        cfg.poll_timeout = Duration::from_secs(2);
        cfg.outbox = OutboxConfig {
            limits: OutboxLimits::TELEGRAM.scaled(50),
            poll: Duration::from_millis(50),
            backoff_base: Duration::from_millis(20),
            backoff_cap: Duration::from_millis(200),
            flush: Duration::from_millis(200),
            ..OutboxConfig::default()
        };
        let stop = CancellationToken::new();
        let outbox = telegram::outbox_for(&cfg, store.clone(), notify.clone()).unwrap();
        let mut tasks = vec![tokio::spawn(outbox.run(stop.clone()))];
        let deps =
            BotDeps { store: store.clone(), engine: handle.clone(), notify, clock: Arc::new(SystemClock), hook: None };
        let bot_stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            telegram::run_bot(cfg, deps, bot_stop).await.unwrap();
        }));
        assert!(fake.wait_call("getUpdates", WAIT).await, "the bot polls");
        Rig { fake, store, engine: handle, stop, tasks, _dir: dir }
    }

    async fn shutdown(self) {
        self.stop.cancel();
        for t in self.tasks {
            tokio::time::timeout(WAIT, t).await.expect("tasks stop").unwrap();
        }
        self.engine.shutdown().await;
    }

    /// Every command the engine journaled, in order.
    fn commands(&self) -> Vec<(i64, Command)> {
        self.store
            .journal(0, usize::MAX)
            .unwrap()
            .into_iter()
            .filter_map(|(_, e)| match e.event {
                Event::Command { from, command } => Some((from.user, command)),
                _ => None,
            })
            .collect()
    }

    fn entries(&self) -> usize {
        self.store.load().unwrap().orders.iter().filter(|o| o.role == OrderRole::Entry).count()
    }

    /// Sends `/id` from the trader in `chat` and waits for its answer: every update pushed to
    /// `chat` before it has been handled.
    async fn marker(&self, chat: i64) {
        let before = self.fake.sent_to(chat).len();
        self.fake.text(chat, TRADER, None, "/id");
        let markers: Vec<String> =
            Lang::ALL.iter().map(|l| render::id_reply(Some(TRADER), chat, *l, Mode::Html)).collect();
        let is_marker = |m: &Sent| markers.contains(&m.text);
        let ok = self.fake.wait_for(WAIT, |s| s.iter().filter(|m| m.chat == chat).skip(before).any(is_marker)).await;
        assert!(ok, "no marker answer in {chat}: {:?}", self.fake.sent_to(chat));
    }

    /// A raw message update with the given sender fields merged in.
    fn message(&self, key: &str, chat: i64, text: &str, extra: serde_json::Value) {
        let mut m = self.fake.message(chat, text);
        for (k, v) in extra.as_object().unwrap() {
            m[k] = v.clone();
        }
        self.fake.push(json!({ key: m }));
    }
}

/// How an attempt is sent to the fake Bot API.
type Send<'a> = Box<dyn Fn(&Rig) + 'a>;

/// One unauthorized attempt: how it is sent, and the chat it lands in.
struct Attempt {
    what: &'static str,
    chat: i64,
    send: Send<'static>,
}

fn attempt(what: &'static str, chat: i64, send: impl Fn(&Rig) + 'static) -> Attempt {
    Attempt { what, chat, send: Box::new(send) }
}

fn message_attempts() -> Vec<Attempt> {
    let trade_commands = ["/enter btc", "/exit btc", "/pause", "/resume", "/stop btc 25000"];
    let mut table = Vec::new();
    for cmd in trade_commands {
        table.push(attempt("stranger in private", STRANGER, move |r| {
            r.fake.text(STRANGER, STRANGER, None, cmd);
        }));
        table.push(attempt("stranger in a group", GROUP, move |r| {
            r.fake.text(GROUP, STRANGER, None, cmd);
        }));
        table.push(attempt("viewer in private", VIEWER, move |r| {
            r.fake.text(VIEWER, VIEWER, None, cmd);
        }));
        table.push(attempt("viewer in a group", GROUP, move |r| {
            r.fake.text(GROUP, VIEWER, None, cmd);
        }));
    }
    table.extend([
        attempt("anonymous admin (GroupAnonymousBot), listed as a trader", GROUP, |r| {
            r.fake.anonymous(GROUP, "/enter btc");
        }),
        attempt("anonymous admin in a supergroup", SUPERGROUP, |r| {
            r.fake.anonymous(SUPERGROUP, "/enter btc");
        }),
        attempt("a post on behalf of a channel (sender_chat)", GROUP, |r| {
            r.fake.as_channel(GROUP, CHANNEL, "/enter btc");
        }),
        attempt("a trader's id with a sender_chat (sent as the group)", GROUP, |r| {
            r.message("message", GROUP, "/enter btc", json!({"from": user_json(TRADER, None), "sender_chat": chat_json(GROUP)}));
        }),
        attempt("a channel post", CHANNEL, |r| {
            r.fake.channel_post(CHANNEL, "/enter btc");
        }),
        attempt("a trader forwarding a trader's command", TRADER, |r| {
            r.fake.forwarded(TRADER, TRADER, TRADER2, "/enter btc");
        }),
        attempt("a trader forwarding from a hidden user", GROUP, |r| {
            r.message(
                "message",
                GROUP,
                "/enter btc",
                json!({"from": user_json(TRADER, None), "forward_origin": {"type": "hidden_user", "date": 1_699_999_000, "sender_user_name": "X"}}),
            );
        }),
        attempt("an automatic forward from a linked channel", SUPERGROUP, |r| {
            r.message(
                "message",
                SUPERGROUP,
                "/enter btc",
                json!({
                    "from": {"id": 777_000, "is_bot": false, "first_name": "Telegram"},
                    "sender_chat": {"id": CHANNEL, "type": "channel", "title": "News"},
                    "is_automatic_forward": true,
                    "forward_origin": {"type": "channel", "date": 1_699_999_000, "chat": {"id": CHANNEL, "type": "channel", "title": "News"}, "message_id": 5},
                }),
            );
        }),
        attempt("a message sent via an inline bot", TRADER, |r| {
            r.message(
                "message",
                TRADER,
                "/enter btc",
                json!({"from": user_json(TRADER, None), "via_bot": {"id": 999, "is_bot": true, "first_name": "Inline", "username": "inline_bot"}}),
            );
        }),
        attempt("a bot account with a trader's id", GROUP, |r| {
            r.message("message", GROUP, "/enter btc", json!({"from": {"id": TRADER2, "is_bot": true, "first_name": "Evil", "username": "evil_bot"}}));
        }),
        attempt("an edited message from a trader", TRADER, |r| {
            r.fake.edited(TRADER, TRADER, "/enter btc");
        }),
        attempt("an edited message from a trader in a group", GROUP, |r| {
            r.fake.edited(GROUP, TRADER, "/pause");
        }),
        attempt("a command for another bot, private", TRADER, |r| {
            r.fake.text(TRADER, TRADER, None, "/enter@OtherBot btc");
        }),
        attempt("a command for another bot, group", GROUP, |r| {
            r.fake.text(GROUP, TRADER, None, "/enter@OtherBot btc");
        }),
        attempt("a command for a bot whose name starts like ours", GROUP, |r| {
            r.fake.text(GROUP, TRADER, None, &format!("/enter@{BOT_USERNAME}x btc"));
        }),
        attempt("a caption, not a text", GROUP, |r| {
            r.message(
                "message",
                GROUP,
                "",
                json!({"from": user_json(TRADER, None), "text": null, "photo": [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}], "caption": "/enter btc"}),
            );
        }),
        attempt("a command that is not at the start", GROUP, |r| {
            r.fake.text(GROUP, TRADER, None, "please /enter btc");
        }),
    ]);
    table
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_unauthorized_attempt_reaches_the_engine_as_a_trade() {
    let rig = Rig::new().await;
    let table = message_attempts();
    let total = table.len();
    for a in &table {
        (a.send)(&rig);
        rig.marker(a.chat).await;
        let commands = rig.commands();
        assert!(commands.is_empty(), "{}: reached the engine: {commands:?}", a.what);
        assert_eq!(rig.entries(), 0, "{}: an order was placed", a.what);
    }
    // The channel chat got nothing but the answers to the markers.
    let channel = rig.fake.sent_to(CHANNEL);
    assert!(channel.iter().all(|m| m.text.contains(&TRADER.to_string())), "{channel:?}");

    // Button presses: a trader's pending entry prompt in the group, pressed by everyone else.
    rig.fake.text(GROUP, TRADER, None, "/enter btc");
    let prompt = rig
        .fake
        .wait_for(WAIT, |s| s.iter().any(|m| m.chat == GROUP && !m.buttons.is_empty()))
        .await
        .then(|| rig.fake.sent_to(GROUP).into_iter().find(|m| !m.buttons.is_empty()).unwrap())
        .expect("a confirmation prompt");
    let (yes, no) = (prompt.buttons[0].1.clone(), prompt.buttons[1].1.clone());
    let id = prompt.message_id;
    let presses: Vec<(&str, Send<'_>)> = vec![
        (
            "another trader presses Confirm",
            Box::new(|r: &Rig| {
                r.fake.callback(GROUP, id, TRADER2, &yes);
            }),
        ),
        (
            "a viewer presses Confirm",
            Box::new(|r: &Rig| {
                r.fake.callback(GROUP, id, VIEWER, &yes);
            }),
        ),
        (
            "a stranger presses Confirm",
            Box::new(|r: &Rig| {
                r.fake.callback(GROUP, id, STRANGER, &yes);
            }),
        ),
        (
            "GroupAnonymousBot presses Confirm",
            Box::new(|r: &Rig| {
                r.fake.callback(GROUP, id, GROUP_ANONYMOUS_BOT, &yes);
            }),
        ),
        (
            "a stranger presses Cancel",
            Box::new(|r: &Rig| {
                r.fake.callback(GROUP, id, STRANGER, &no);
            }),
        ),
        (
            "the requester's data replayed under another message",
            Box::new(|r: &Rig| {
                r.fake.callback(GROUP, id + 1_000, STRANGER, &yes);
            }),
        ),
        (
            "the data replayed by a stranger in their private chat",
            Box::new(|r: &Rig| {
                r.fake.callback(STRANGER, id, STRANGER, &yes);
            }),
        ),
        (
            "forged data",
            Box::new(|r: &Rig| {
                r.fake.callback(GROUP, id, STRANGER, "bc:0123456789abcdef:y");
            }),
        ),
        (
            "a press with no data",
            Box::new(|r: &Rig| {
                r.fake.callback(GROUP, id, TRADER2, "");
            }),
        ),
        (
            "an inline-message press (no message)",
            Box::new(|r: &Rig| {
                r.fake.push(json!({"callback_query": {
                    "id": "inline-1", "from": user_json(STRANGER, None), "chat_instance": "ci-2",
                    "inline_message_id": "AAAA", "data": yes,
                }}));
            }),
        ),
        (
            "a press from the bot itself",
            Box::new(|r: &Rig| {
                r.fake.push(json!({"callback_query": {
                    "id": "self-1",
                    "from": {"id": BOT_ID, "is_bot": true, "first_name": "Bert", "username": BOT_USERNAME},
                    "chat_instance": "ci-1", "data": yes,
                    "message": {"message_id": id, "date": 1_700_000_000, "chat": chat_json(GROUP), "text": "preview"},
                }}));
            }),
        ),
    ];
    for (n, (what, press)) in presses.iter().enumerate() {
        press(&rig);
        let answered = rig.fake.wait_call_count("answerCallbackQuery", n + 1, WAIT).await;
        assert!(answered, "{what}: the press is answered");
        assert!(rig.commands().is_empty(), "{what}: reached the engine: {:?}", rig.commands());
        assert_eq!(rig.entries(), 0, "{what}: an order was placed");
    }
    let total = total + presses.len();
    assert!(total >= 40, "the table covers {total} attempts");

    // The oracle sees a real trade: the requester confirms, exactly one Enter reaches the engine.
    rig.fake.callback(GROUP, id, TRADER, &yes);
    let entered =
        rig.fake.wait_for(WAIT, |s| s.iter().any(|m| m.chat == GROUP && m.text.contains("Entry placed"))).await;
    assert!(entered, "{:?}", rig.fake.sent_to(GROUP));
    assert_eq!(rig.commands(), vec![(TRADER, Command::Enter(btc()))]);
    assert_eq!(rig.entries(), 1);
    rig.shutdown().await;
}
