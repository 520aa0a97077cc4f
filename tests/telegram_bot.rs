//! The bot end to end: the fake Bot API, the real teloxide client (long polling), the engine
//! driver over the paper exchange, the store, and the outbox worker delivering every reply.
//!
//! Silence is checked with a marker: after an update that should get no answer, the same
//! sender asks `/id` in the same chat; teloxide handles a chat's updates in order and the
//! outbox delivers a chat's rows in order, so whatever arrives before the `/id` answer is what
//! the first update caused.

#[path = "support/fake_telegram/mod.rs"]
mod fake_telegram;
#[path = "support/paper_engine.rs"]
mod paper_engine;

use bert::app::driver::{Clock, EngineHandle, ManualClock, SystemClock};
use bert::chat::auth::Roles;
use bert::chat::render::{self, Mode};
use bert::domain::{OrderRole, Timestamp};
use bert::engine::Settings;
use bert::i18n::{Lang, tr_html};
use bert::store::Store;
use bert::telegram::{self, BotDeps, OutboxConfig, OutboxLimits, TelegramConfig};
use fake_telegram::{FakeTelegram, Kind, Sent, TOKEN};
use paper_engine::{PaperEngine, btc, usdt};
use rust_decimal_macros::dec;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);
const TRADER: i64 = 100;
const TRADER2: i64 = 101;
const VIEWER: i64 = 200;
const STRANGER: i64 = 300;
const GROUP: i64 = -900;
const ALERTS: i64 = -777;

struct Rig {
    fake: FakeTelegram,
    store: Arc<Store>,
    engine: EngineHandle,
    clock: Arc<ManualClock>,
    /// The signal messages the outbox recorded for the expiry edit.
    signals: telegram::signal_button::SentSignals,
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

struct Options {
    confirm: bool,
    burst: u32,
    interval: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { confirm: true, burst: 10_000, interval: Duration::from_millis(1) }
    }
}

impl Rig {
    async fn new(o: Options) -> Rig {
        let fake = FakeTelegram::start().await;
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("bert.redb")).unwrap());
        let PaperEngine { handle, outbox: notify, .. } =
            paper_engine::start(store.clone(), Settings::default(), vec![ALERTS], Arc::new(SystemClock)).await;

        let mut cfg = TelegramConfig::new(
            bert::app::config::Secret::new(TOKEN),
            format!("{}/", fake.url()),
            Roles::new([TRADER, TRADER2], [VIEWER]),
            usdt(),
        );
        cfg.confirm = o.confirm;
        cfg.sweep = Duration::from_millis(20);
        cfg.command_burst = o.burst;
        cfg.command_interval = o.interval;
        cfg.poll_timeout = Duration::from_secs(2);
        cfg.outbox = OutboxConfig {
            limits: OutboxLimits::TELEGRAM.scaled(50),
            poll: Duration::from_millis(50),
            backoff_base: Duration::from_millis(20),
            backoff_cap: Duration::from_millis(200),
            flush: Duration::from_millis(200),
            ..OutboxConfig::default()
        };
        let clock = Arc::new(ManualClock::default());
        let signals = cfg.sent_signals.clone();
        let stop = CancellationToken::new();
        let outbox = telegram::outbox_for(&cfg, store.clone(), notify.clone()).unwrap();
        let mut tasks = vec![tokio::spawn(outbox.run(stop.clone()))];
        let deps = BotDeps { store: store.clone(), engine: handle.clone(), notify, clock: clock.clone(), hook: None };
        let bot_stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            telegram::run_bot(cfg, deps, bot_stop).await.unwrap();
        }));
        assert!(fake.wait_call("getUpdates", WAIT).await, "the bot polls");
        Rig { fake, store, engine: handle, clock, signals, stop, tasks, _dir: dir }
    }

    async fn shutdown(self) {
        self.stop.cancel();
        for t in self.tasks {
            tokio::time::timeout(WAIT, t).await.expect("tasks stop").unwrap();
        }
        self.engine.shutdown().await;
    }

    /// Sends `text` as `user` in `chat` (`user` None: an anonymous admin) and returns what the
    /// chat received because of it (see the module docs).
    async fn say(&self, chat: i64, user: Option<i64>, text: &str) -> Vec<Sent> {
        let before = self.fake.sent_to(chat).len();
        match user {
            Some(u) => self.fake.text(chat, u, None, text),
            None => self.fake.anonymous(chat, text),
        };
        match user {
            Some(u) => self.fake.text(chat, u, None, "/id"),
            None => self.fake.anonymous(chat, "/id"),
        };
        // The /id answer, in whatever language the chat speaks.
        let markers: Vec<String> = Lang::ALL.iter().map(|l| render::id_reply(user, chat, *l, Mode::Html)).collect();
        let is_marker = |m: &Sent| markers.contains(&m.text);
        let found = self.fake.wait_for(WAIT, |s| s.iter().filter(|m| m.chat == chat).skip(before).any(is_marker)).await;
        assert!(found, "no answer to the marker after {text:?} in {chat}: {:?}", self.fake.sent_to(chat));
        let sent = self.fake.sent_to(chat);
        let mut out: Vec<Sent> = sent.into_iter().skip(before).collect();
        let marker_at = out.iter().rposition(is_marker).unwrap();
        out.truncate(marker_at);
        out
    }

    fn entries(&self) -> usize {
        self.store.load().unwrap().orders.iter().filter(|o| o.role == OrderRole::Entry).count()
    }
}

fn en(key: &str) -> String {
    tr_html(Lang::En, key, &[])
}

#[derive(Clone, Debug)]
enum Expect {
    Silence,
    Contains(String),
    Prompt,
}

fn check(what: &str, got: &[Sent], expect: &Expect) {
    match expect {
        Expect::Silence => assert!(got.is_empty(), "{what}: expected silence, got {got:?}"),
        Expect::Contains(s) => {
            assert_eq!(got.len(), 1, "{what}: expected one reply containing {s:?}, got {got:?}");
            assert!(got[0].text.contains(s.as_str()), "{what}: {:?} does not contain {s:?}", got[0].text);
        }
        Expect::Prompt => {
            assert_eq!(got.len(), 1, "{what}: {got:?}");
            let labels: Vec<&str> = got[0].buttons.iter().map(|(l, _)| l.as_str()).collect();
            assert_eq!(labels, ["Confirm", "Cancel"], "{what}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_command_for_every_role_in_private_and_group_chats() {
    let rig = Rig::new(Options::default()).await;
    let not_available = "is not available yet".to_string();
    let refused = en("viewer-refused");
    let c = |s: &str| Expect::Contains(s.to_string());
    // (command, trader, viewer, stranger, anonymous admin): what each gets.
    let table: Vec<(&str, Expect, Expect, Expect)> = vec![
        ("/start", c(&en("intro")), c(&en("intro")), c(&en("intro"))),
        ("/help", c(&en("help-header")), c(&en("help-header")), c(&en("help-stranger"))),
        ("/lang", c("Language: English"), c("Language: English"), c("Language: English")),
        ("/list", c(&en("positions-none")), c(&en("positions-none")), Expect::Silence),
        ("/status", c(&en("status-title")), c(&en("status-title")), Expect::Silence),
        ("/balance", c(&en("balances-header")), c(&en("balances-header")), Expect::Silence),
        ("/performance", c(&not_available), c(&not_available), Expect::Silence),
        ("/chart", c(&not_available), c(&not_available), Expect::Silence),
        ("/alerts", c(&not_available), c(&not_available), Expect::Silence),
        ("/enter btc", Expect::Prompt, c(&refused), Expect::Silence),
        ("/exit BTCUSDT", c("There is no open BTC position"), c(&refused), Expect::Silence),
        ("/stop btc 25000", c("There is no open BTC position"), c(&refused), Expect::Silence),
        ("/pause", c("Trading paused"), c(&refused), Expect::Silence),
        ("/resume", c("Trading resumed"), c(&refused), Expect::Silence),
    ];
    let not_authorized = "Not authorized. Your id is <code>300</code>.".to_string();
    for (command, trader, viewer, stranger_or_anon) in &table {
        // Private chats: strangers get their id instead of silence.
        for (user, expect) in [(TRADER, trader), (VIEWER, viewer)] {
            let got = rig.say(user, Some(user), command).await;
            check(&format!("{command} from {user} in private"), &got, expect);
        }
        let stranger_private = match stranger_or_anon {
            Expect::Silence => Expect::Contains(not_authorized.clone()),
            other => other.clone(),
        };
        let got = rig.say(STRANGER, Some(STRANGER), command).await;
        check(&format!("{command} from a stranger in private"), &got, &stranger_private);
        // The group, with the @mention form too.
        let mention = command.replacen(' ', &format!("@{} ", fake_telegram::BOT_USERNAME), 1);
        let mention =
            if mention.contains('@') { mention } else { format!("{command}@{}", fake_telegram::BOT_USERNAME) };
        for (user, expect) in [(Some(TRADER), trader), (Some(VIEWER), viewer), (Some(STRANGER), stranger_or_anon)] {
            let got = rig.say(GROUP, user, &mention).await;
            check(&format!("{mention} from {user:?} in the group"), &got, expect);
        }
        // Anonymous admins are never authorized: like strangers, but without a user id.
        let got = rig.say(GROUP, None, command).await;
        check(&format!("{command} from an anonymous admin"), &got, stranger_or_anon);
    }
    // /id itself, for each kind of sender.
    let got = rig.say(GROUP, Some(VIEWER), "/help").await;
    assert!(!got[0].text.contains("/enter"), "viewers are not offered trade commands");
    let id = rig.say(TRADER, Some(TRADER), "/start").await;
    assert!(id[0].text.contains("/enter"), "traders are");
    rig.fake.anonymous(GROUP, "/id");
    assert!(
        rig.fake.wait_for(WAIT, |s| s.iter().any(|m| m.chat == GROUP && m.text.contains("on behalf of a group"))).await,
        "anonymous /id explains why there is no user id"
    );
    // Nothing was traded by anyone: the one trader /enter is still only a preview.
    assert_eq!(rig.entries(), 0);
    rig.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn startup_registers_commands_and_asks_for_buttons() {
    let rig = Rig::new(Options::default()).await;
    let calls = rig.fake.calls_of("setMyCommands");
    assert_eq!(calls.len(), 3, "one menu per language");
    for call in &calls {
        let commands = call.params["commands"].as_array().unwrap();
        assert!(commands.len() >= 10);
        for c in commands {
            let d = c["description"].as_str().unwrap();
            assert!((3..=256).contains(&d.chars().count()), "{c}");
            assert!(!c["command"].as_str().unwrap().starts_with('/'));
        }
    }
    assert!(calls.iter().any(|c| c.params["language_code"] == "ru"));
    let first = &rig.fake.calls_of("getUpdates")[0].params;
    let allowed: Vec<&str> = first["allowed_updates"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert!(allowed.contains(&"message") && allowed.contains(&"callback_query"), "{allowed:?}");
    rig.shutdown().await;
}

/// Sends `/enter btc` as `user` in `chat` and returns the prompt and its two callback datas.
async fn prompt(rig: &Rig, chat: i64, user: i64) -> (Sent, String, String) {
    let got = rig.say(chat, Some(user), "/enter btc").await;
    check("the /enter prompt", &got, &Expect::Prompt);
    let p = got[0].clone();
    assert!(p.text.contains("Enter BTC?"), "{}", p.text);
    assert!(p.text.contains("Stop:") && p.text.contains("Risk:") && p.text.contains("of the portfolio"), "{}", p.text);
    let (yes, no) = (p.buttons[0].1.clone(), p.buttons[1].1.clone());
    (p, yes, no)
}

async fn wait_edit(rig: &Rig, chat: i64, message_id: i64, contains: &str) -> Sent {
    let ok = rig
        .fake
        .wait_for(WAIT, |s| {
            s.iter().any(|m| {
                m.kind == Kind::Edit && m.chat == chat && m.message_id == message_id && m.text.contains(contains)
            })
        })
        .await;
    assert!(ok, "no edit of {message_id} containing {contains:?}: {:?}", rig.fake.sent_to(chat));
    rig.fake.sent_to(chat).into_iter().rev().find(|m| m.kind == Kind::Edit && m.message_id == message_id).unwrap()
}

async fn answers(rig: &Rig, n: usize) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let calls = rig.fake.calls_of("answerCallbackQuery");
        if calls.len() >= n || std::time::Instant::now() > deadline {
            return calls.into_iter().map(|c| c.params).collect();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confirm_places_exactly_one_entry_even_when_pressed_twice() {
    let rig = Rig::new(Options::default()).await;
    let (p, yes, _) = prompt(&rig, TRADER, TRADER).await;
    // Telegram delivers the press twice.
    rig.fake.callback(TRADER, p.message_id, TRADER, &yes);
    rig.fake.callback(TRADER, p.message_id, TRADER, &yes);
    let edit = wait_edit(&rig, TRADER, p.message_id, "Confirmed").await;
    assert!(edit.text.contains("Enter BTC?"), "the preview stays, the outcome is added: {}", edit.text);
    assert!(edit.buttons.is_empty(), "the buttons are gone");
    assert!(rig.fake.wait_for(WAIT, |s| s.iter().any(|m| m.chat == TRADER && m.text.contains("Entry placed"))).await);
    let answered = answers(&rig, 2).await;
    assert_eq!(answered.len(), 2, "both presses are answered");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rig.entries(), 1, "one entry order, not two");
    let placed = rig.fake.sent().iter().filter(|m| m.text.contains("Entry placed") && m.chat == TRADER).count();
    assert_eq!(placed, 1);
    rig.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_places_nothing() {
    let rig = Rig::new(Options::default()).await;
    let (p, yes, no) = prompt(&rig, GROUP, TRADER).await;
    rig.fake.callback(GROUP, p.message_id, TRADER, &no);
    wait_edit(&rig, GROUP, p.message_id, &en("confirm-cancelled")).await;
    // A late Confirm on a cancelled prompt does nothing.
    rig.fake.callback(GROUP, p.message_id, TRADER, &yes);
    let answered = answers(&rig, 2).await;
    assert_eq!(answered[1]["text"], "Cancelled. Nothing was done.");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rig.entries(), 0);
    rig.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_the_requester_can_confirm() {
    let rig = Rig::new(Options::default()).await;
    let (p, yes, _) = prompt(&rig, GROUP, TRADER).await;
    // Another trader, a viewer and a stranger press in the same group.
    for other in [TRADER2, VIEWER, STRANGER] {
        rig.fake.callback(GROUP, p.message_id, other, &yes);
    }
    let answered = answers(&rig, 3).await;
    assert_eq!(answered.len(), 3);
    for a in &answered {
        assert_eq!(a["text"], "Only the person who sent the command can confirm it.");
        assert_eq!(a["show_alert"], true);
    }
    assert_eq!(rig.entries(), 0);
    // Still pending for the requester.
    rig.fake.callback(GROUP, p.message_id, TRADER, &yes);
    wait_edit(&rig, GROUP, p.message_id, "Confirmed").await;
    assert!(rig.fake.wait_for(WAIT, |_| rig.entries() == 1).await || rig.entries() == 1);
    rig.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn confirmations_expire_after_sixty_seconds() {
    let rig = Rig::new(Options::default()).await;
    let (p, yes, _) = prompt(&rig, TRADER, TRADER).await;
    rig.clock.advance(59_000);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!rig.fake.sent_to(TRADER).iter().any(|m| m.kind == Kind::Edit), "not yet");
    rig.clock.advance(1_500);
    let edit = wait_edit(&rig, TRADER, p.message_id, &en("confirm-expired")).await;
    assert!(edit.text.contains("Enter BTC?"), "the preview stays, the expiry is added: {}", edit.text);
    assert!(edit.buttons.is_empty(), "the buttons are gone: {edit:?}");
    rig.fake.callback(TRADER, p.message_id, TRADER, &yes);
    let answered = answers(&rig, 1).await;
    assert_eq!(answered[0]["text"], "This confirmation has expired. Send the command again.");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rig.entries(), 0);
    rig.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exit_is_confirmed_too_and_confirm_off_enters_at_once() {
    let rig = Rig::new(Options { confirm: false, ..Options::default() }).await;
    let got = rig.say(TRADER, Some(TRADER), "/enter btc").await;
    assert!(got.iter().any(|m| m.text.contains("Entry placed")), "{got:?}");
    assert!(got.iter().all(|m| m.buttons.is_empty()));
    assert_eq!(rig.entries(), 1);
    rig.shutdown().await;

    let rig = Rig::new(Options::default()).await;
    let (p, yes, _) = prompt(&rig, TRADER, TRADER).await;
    rig.fake.callback(TRADER, p.message_id, TRADER, &yes);
    wait_edit(&rig, TRADER, p.message_id, "Confirmed").await;
    // Wait for the position to be open, then /exit asks first.
    let open = rig.fake.wait_for(WAIT, |s| s.iter().any(|m| m.chat == TRADER && m.text.contains("Stop placed"))).await;
    assert!(open, "{:?}", rig.fake.sent_to(TRADER));
    let got = rig.say(TRADER, Some(TRADER), "/exit btc").await;
    let prompt = got.iter().find(|m| !m.buttons.is_empty()).expect("an exit prompt");
    assert!(prompt.text.contains("Exit BTC?"), "{}", prompt.text);
    assert_eq!(prompt.buttons.len(), 2);
    rig.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_input_gets_a_clear_answer_and_the_bot_keeps_running() {
    let rig = Rig::new(Options::default()).await;
    let one = |got: Vec<Sent>, what: &str| {
        assert_eq!(got.len(), 1, "{what}: {got:?}");
        got[0].text.clone()
    };
    assert!(one(rig.say(TRADER, Some(TRADER), "/enter").await, "empty").contains("Which symbol?"));
    assert!(one(rig.say(TRADER, Some(TRADER), "/stop btc").await, "no price").contains("Which price?"));
    assert!(one(rig.say(TRADER, Some(TRADER), "/stop btc 1e99").await, "bad price").contains("not a usable price"));
    assert!(one(rig.say(TRADER, Some(TRADER), "/enter xyz").await, "unknown symbol").contains("does not list XYZUSDT"));
    assert!(one(rig.say(TRADER, Some(TRADER), "/enter 🚀").await, "emoji").contains("is not a symbol"));
    assert!(
        one(rig.say(TRADER, Some(TRADER), "🚀🚀🚀").await, "emoji chatter").contains("Commands start with a slash")
    );
    assert!(one(rig.say(TRADER, Some(TRADER), "/foo").await, "unknown").contains("I don't know the command /foo"));
    assert!(one(rig.say(TRADER, Some(TRADER), "/enter <b>x</b>").await, "html").contains("&lt;b&gt;"));
    let long = format!("/list {}", "x".repeat(5000));
    assert!(one(rig.say(TRADER, Some(TRADER), &long).await, "5000").contains("too long"));
    // Silence: another bot's command, chatter and long text in a group.
    assert!(rig.say(TRADER, Some(TRADER), "/list@other_bot").await.is_empty());
    assert!(rig.say(GROUP, Some(TRADER), "/list@other_bot").await.is_empty());
    assert!(rig.say(GROUP, Some(TRADER), "hello everyone 🚀").await.is_empty());
    assert!(rig.say(GROUP, Some(TRADER), &"y".repeat(5000)).await.is_empty());
    // Errors in a group are answered for authorized users only.
    assert!(one(rig.say(GROUP, Some(TRADER), "/enter").await, "group error").contains("Which symbol?"));
    assert!(rig.say(GROUP, Some(STRANGER), "/enter").await.is_empty());
    // Edited and forwarded commands, posts on behalf of a channel and channel posts never act.
    rig.fake.edited(TRADER, TRADER, "/pause");
    rig.fake.forwarded(TRADER, TRADER, VIEWER, "/pause");
    rig.fake.as_channel(GROUP, -1_000_000_000_555, "/pause");
    rig.fake.channel_post(-1_000_000_000_555, "/pause");
    let status = rig.say(TRADER, Some(TRADER), "/status").await;
    assert!(status[0].text.contains(&en("status-trading-active")), "{}", status[0].text);
    assert!(rig.fake.sent_to(-1_000_000_000_555).is_empty());
    // Still alive and answering.
    assert!(one(rig.say(TRADER, Some(TRADER), "/list").await, "alive").contains(&en("positions-none")));
    rig.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn languages_follow_the_user_and_lang() {
    let rig = Rig::new(Options::default()).await;
    // A Russian-speaking stranger: the private chat adopts the user's language.
    rig.fake.text(400, 400, Some("ru"), "/help");
    let got = rig.fake.wait_sent(400, 1, WAIT).await;
    assert!(got[0].text.contains(&tr_html(Lang::Ru, "help-header", &[])), "{}", got[0].text);
    assert_eq!(rig.store.chat_settings(400).unwrap().language.as_deref(), Some("ru"));
    // /lang overrides it, and engine replies rendered by the outbox follow.
    let got = rig.say(TRADER, Some(TRADER), "/lang es").await;
    assert!(got[0].text.contains(&tr_html(Lang::Es, "lang-set", &[])), "{}", got[0].text);
    let got = rig.say(TRADER, Some(TRADER), "/list").await;
    assert!(got[0].text.contains(&tr_html(Lang::Es, "positions-none", &[])), "{}", got[0].text);
    let got = rig.say(TRADER, Some(TRADER), "/lang xx").await;
    assert!(got[0].text.contains("xx"), "{}", got[0].text);
    assert_eq!(rig.store.chat_settings(TRADER).unwrap().language.as_deref(), Some("es"));
    rig.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_command_flood_is_throttled_per_user() {
    let rig = Rig::new(Options { burst: 3, interval: Duration::from_secs(30), ..Options::default() }).await;
    for _ in 0..20 {
        rig.fake.text(TRADER, TRADER, None, "/status");
    }
    rig.fake.text(VIEWER, VIEWER, None, "/list");
    assert_eq!(rig.fake.wait_sent(VIEWER, 1, WAIT).await.len(), 1, "another user is not affected");
    rig.fake.wait_sent(TRADER, 4, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = rig.fake.sent_to(TRADER);
    assert_eq!(got.len(), 4, "three answers and one warning: {got:?}");
    assert_eq!(got.iter().filter(|m| m.text.contains(&en("status-title"))).count(), 3);
    assert!(got[3].text.contains("Too many commands"), "{}", got[3].text);
    // Strangers flooding a group get nothing at all.
    for _ in 0..10 {
        rig.fake.text(GROUP, STRANGER, None, "/list");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(rig.fake.sent_to(GROUP).is_empty());
    rig.shutdown().await;
}

// ----- Issue 8: /stop from the chat and the signal's Enter button ------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_stop_inputs_each_get_a_clear_reply() {
    let rig = Rig::new(Options::default()).await;
    for (text, expect) in [
        ("/stop", "Which symbol? For example: /stop BTC"),
        ("/stop btc", "Which price? For example: /stop BTC 41000"),
        ("/stop btc abc", "\"abc\" is not a usable price"),
        ("/stop btc -1", "\"-1\" is not a usable price"),
        ("/stop btc 1e99", "\"1e99\" is not a usable price"),
    ] {
        let got = rig.say(TRADER, Some(TRADER), text).await;
        assert_eq!(got.len(), 1, "{text}: {got:?}");
        let shown = got[0].text.replace("&quot;", "\"");
        assert!(shown.contains(expect), "{text}: {shown}");
    }
    // Well-formed, but there is nothing to move.
    let got = rig.say(TRADER, Some(TRADER), "/stop btc 25000").await;
    assert!(got[0].text.contains("There is no open BTC position"), "{got:?}");
    rig.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stop_is_confirmed_then_moved_on_the_paper_exchange() {
    let rig = Rig::new(Options::default()).await;
    let (p, yes, _) = prompt(&rig, TRADER, TRADER).await;
    rig.fake.callback(TRADER, p.message_id, TRADER, &yes);
    let open = rig.fake.wait_for(WAIT, |s| s.iter().any(|m| m.chat == TRADER && m.text.contains("Stop placed"))).await;
    assert!(open, "{:?}", rig.fake.sent_to(TRADER));
    // At or above the price (30 000): refused with the reason, nothing asked.
    let got = rig.say(TRADER, Some(TRADER), "/stop btc 30000").await;
    assert!(got.len() == 1 && got[0].buttons.is_empty(), "{got:?}");
    assert!(got[0].text.contains("is not below the current price"), "{}", got[0].text);
    // Below: the confirmation shows old and new stop, then Confirm moves it.
    let got = rig.say(TRADER, Some(TRADER), "/stop btc 28000.004").await;
    check("the /stop prompt", &got, &Expect::Prompt);
    let p = got[0].clone();
    assert!(p.text.contains("Move the stop of BTC?") && p.text.contains("→ 28,000.01"), "{}", p.text);
    rig.fake.callback(TRADER, p.message_id, TRADER, &p.buttons[0].1);
    let moved = rig.fake.wait_for(WAIT, |s| s.iter().any(|m| m.chat == TRADER && m.text.contains("Stop moved"))).await;
    assert!(moved, "{:?}", rig.fake.sent_to(TRADER));
    let moved = rig.fake.sent_to(TRADER).into_iter().find(|m| m.text.contains("Stop moved")).unwrap();
    assert!(moved.text.contains("to 28,000.01") && moved.text.contains("22,400"), "{}", moved.text);
    // The store: the old stop cancelled, the new one working at the rounded prices.
    let stops: Vec<_> = rig.store.load().unwrap().orders.into_iter().filter(|o| o.role == OrderRole::Stop).collect();
    let working: Vec<_> = stops.iter().filter(|o| o.is_open()).collect();
    assert_eq!(working.len(), 1, "{stops:?}");
    assert_eq!((working[0].stop_price, working[0].price), (Some(dec!(28000.01)), Some(dec!(22400))));
    assert!(stops.iter().any(|o| o.status == bert::domain::OrderStatus::Canceled), "{stops:?}");
    rig.shutdown().await;
}

/// A signal alert as the engine would queue it for `chat`, from a candle that closed an hour ago.
fn queue_signal(rig: &Rig, chat: i64) {
    use bert::engine::{Category, Notice};
    use bert::store::{OutboxBody, OutboxRow};
    use bert::strategy::edge70::{Direction, SignalKind};
    let now = rig.clock.now();
    let notice = Notice::Signal {
        symbol: btc(),
        direction: Direction::Long,
        kind: SignalKind::Flip,
        level: dec!(29500),
        price: dec!(30000),
        candle_close: Timestamp(now.0 - 3_600_000),
        auto_trade: false,
    };
    let row = OutboxRow {
        chat,
        category: Category::Signals,
        position: None,
        body: OutboxBody::Notice(notice),
        created_at: now,
        attempts: 0,
    };
    rig.store.enqueue(vec![row]).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signal_button_enters_for_traders_only_and_expires_with_its_candle() {
    let rig = Rig::new(Options::default()).await;
    queue_signal(&rig, GROUP);
    // The alert says which rule fired, with the level, and carries the Enter button.
    let got = rig.fake.wait_sent(GROUP, 1, WAIT).await;
    let alert = got[0].clone();
    assert!(alert.text.contains("new 60-day high above 29,500"), "{}", alert.text);
    assert_eq!(alert.buttons.len(), 1, "{alert:?}");
    assert_eq!(alert.buttons[0].0, "Enter BTC");
    let data = alert.buttons[0].1.clone();

    // A viewer: refused as a dialog, nothing queued.
    rig.fake.callback(GROUP, alert.message_id, VIEWER, &data);
    let answered = answers(&rig, 1).await;
    assert_eq!(answered[0]["text"], "Only traders can enter from a signal.");
    assert_eq!(answered[0]["show_alert"], true);

    // A trader: the same confirmation as /enter, for them, in the group.
    rig.fake.callback(GROUP, alert.message_id, TRADER, &data);
    let ok = rig.fake.wait_for(WAIT, |s| s.iter().any(|m| m.chat == GROUP && m.text.contains("Enter BTC?"))).await;
    assert!(ok, "{:?}", rig.fake.sent_to(GROUP));
    let prompt = rig.fake.sent_to(GROUP).into_iter().find(|m| m.text.contains("Enter BTC?")).unwrap();
    let labels: Vec<&str> = prompt.buttons.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["Confirm", "Cancel"]);
    assert_eq!(rig.entries(), 0, "nothing placed before Confirm");
    // Only that trader may confirm it.
    rig.fake.callback(GROUP, prompt.message_id, TRADER2, &prompt.buttons[0].1);
    let answered = answers(&rig, 3).await;
    assert_eq!(answered[2]["text"], "Only the person who sent the command can confirm it.");

    // A day after the candle closed, the button is refused.
    rig.clock.advance(23 * 3_600_000);
    rig.fake.callback(GROUP, alert.message_id, TRADER, &data);
    let answered = answers(&rig, 4).await;
    assert_eq!(answered[3]["text"], "This signal has expired: its daily candle is more than a day old.");
    tokio::time::sleep(Duration::from_millis(200)).await;
    // (The first prompt has expired by now and was edited to say so; edits are not prompts.)
    let prompts =
        rig.fake.sent_to(GROUP).iter().filter(|m| m.kind != Kind::Edit && m.text.contains("Enter BTC?")).count();
    assert_eq!(prompts, 1, "no second confirmation");
    assert_eq!(rig.entries(), 0);
    rig.shutdown().await;
}

/// At its expiry a signal's message is edited by the periodic sweep (on the bot's clock): the
/// expiry under the text, the Enter button gone; a press after that is still refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_signal_loses_its_button() {
    let rig = Rig::new(Options::default()).await;
    queue_signal(&rig, GROUP);
    let alert = rig.fake.wait_sent(GROUP, 1, WAIT).await[0].clone();
    assert_eq!(alert.buttons.len(), 1, "{alert:?}");
    let data = alert.buttons[0].1.clone();
    // The outbox has recorded the message for the edit.
    assert!(rig.fake.wait_for(WAIT, |_| rig.signals.len() == 1).await, "recorded");

    // The candle closed an hour before the alert: 23 hours on, it is a day old.
    rig.clock.advance(23 * 3_600_000);
    let expired = tr_html(Lang::En, "signal-button-expired", &[]);
    let edit = wait_edit(&rig, GROUP, alert.message_id, &expired).await;
    assert!(edit.text.starts_with(&alert.text), "the alert's text stays: {}", edit.text);
    assert!(edit.buttons.is_empty(), "the Enter button is gone: {edit:?}");
    assert!(rig.signals.is_empty(), "edited once, then forgotten");

    // A press that was already on its way (the client still showed the button) is refused.
    rig.fake.callback(GROUP, alert.message_id, TRADER, &data);
    let answered = answers(&rig, 1).await;
    assert_eq!(answered[0]["text"], "This signal has expired: its daily candle is more than a day old.");
    assert_eq!(answered[0]["show_alert"], true);
    let edits = rig.fake.sent_to(GROUP).iter().filter(|m| m.kind == Kind::Edit).count();
    assert_eq!(edits, 1, "one edit: {:?}", rig.fake.sent_to(GROUP));
    assert!(!rig.fake.sent_to(GROUP).iter().any(|m| m.text.contains("Enter BTC?")), "no confirmation");
    assert_eq!(rig.entries(), 0);
    rig.shutdown().await;
}
