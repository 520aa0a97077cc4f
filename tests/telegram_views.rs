//! `/performance`, `/chart`, `/alerts` and the periodic performance report end to end: the fake
//! Bot API, the real teloxide client, the engine driver over the paper exchange, the store, the
//! outbox worker, and `bert::telegram::Views` as the bot's hook (as `bert run` wires it).
//!
//! Time is a manual clock shared by the driver and the bot: the performance schedule is driven
//! by `Event::Tick`s the test sends after moving the clock.

#[path = "support/fake_telegram/mod.rs"]
mod fake_telegram;
#[path = "support/paper_engine.rs"]
mod paper_engine;

use bert::app::driver::{Clock, EngineHandle, ManualClock};
use bert::chat::auth::Roles;
use bert::chat::render::{self, Mode};
use bert::engine::{Category, Event, Settings};
use bert::exchange::paper::PaperExchange;
use bert::i18n::Lang;
use bert::store::Store;
use bert::telegram::{self, BotDeps, OutboxConfig, OutboxLimits, TelegramConfig, Views};
use fake_telegram::{FakeTelegram, Kind, Sent, TOKEN};
use paper_engine::{PaperEngine, btc, usdt};
use rust_decimal_macros::dec;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);
const TRADER: i64 = 100;
const VIEWER: i64 = 200;
const STRANGER: i64 = 300;
const GROUP: i64 = -900;
const ALERTS: i64 = -777;
const ALERTS2: i64 = -778;
const HOUR: i64 = 3_600_000;

struct Rig {
    fake: FakeTelegram,
    store: Arc<Store>,
    engine: EngineHandle,
    exchange: Arc<PaperExchange>,
    clock: Arc<ManualClock>,
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Rig {
    /// Confirmations off (so `/enter` and `/exit` act at once), alerts to two group chats, the
    /// performance report every 2 h.
    async fn new() -> Rig {
        let fake = FakeTelegram::start().await;
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("bert.redb")).unwrap());
        let clock = Arc::new(ManualClock::default());
        let settings = Settings { performance_every_ms: Some(2 * HOUR), ..Settings::default() };
        let PaperEngine { handle, exchange, outbox: notify } =
            paper_engine::start(store.clone(), settings, vec![ALERTS, ALERTS2], clock.clone()).await;

        let mut cfg = TelegramConfig::new(
            bert::app::config::Secret::new(TOKEN),
            format!("{}/", fake.url()),
            Roles::new([TRADER], [VIEWER]),
            usdt(),
        );
        cfg.confirm = false;
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
            // One row, one message: the test looks for each alert on its own.
            coalesce_at: 0,
            ..OutboxConfig::default()
        };
        let stop = CancellationToken::new();
        let outbox = telegram::outbox_for(&cfg, store.clone(), notify.clone()).unwrap();
        let mut tasks = vec![tokio::spawn(outbox.run(stop.clone()))];
        let views = Views::new(store.clone(), handle.clone(), clock.clone(), usdt());
        let deps = BotDeps {
            store: store.clone(),
            engine: handle.clone(),
            notify,
            clock: clock.clone(),
            hook: Some(Arc::new(views)),
        };
        let bot_stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            telegram::run_bot(cfg, deps, bot_stop).await.unwrap();
        }));
        assert!(fake.wait_call("getUpdates", WAIT).await, "the bot polls");
        Rig { fake, store, engine: handle, exchange, clock, stop, tasks, _dir: dir }
    }

    async fn shutdown(self) {
        self.stop.cancel();
        for t in self.tasks {
            tokio::time::timeout(WAIT, t).await.expect("tasks stop").unwrap();
        }
        self.engine.shutdown().await;
    }

    /// Sends `text` and returns what the chat received because of it (up to the answer to a
    /// `/id` marker sent right after; see tests/telegram_bot.rs).
    async fn say(&self, chat: i64, user: i64, text: &str) -> Vec<Sent> {
        let before = self.fake.sent_to(chat).len();
        self.fake.text(chat, user, None, text);
        self.fake.text(chat, user, None, "/id");
        let marker = render::id_reply(Some(user), chat, Lang::En, Mode::Html);
        let found = self
            .fake
            .wait_for(WAIT, |s| s.iter().filter(|m| m.chat == chat).skip(before).any(|m| m.text == marker))
            .await;
        assert!(found, "no answer to the marker after {text:?} in {chat}: {:?}", self.fake.sent_to(chat));
        let mut out: Vec<Sent> = self.fake.sent_to(chat).into_iter().skip(before).collect();
        let at = out.iter().rposition(|m| m.text == marker).unwrap();
        out.truncate(at);
        out
    }

    async fn wait_text(&self, chat: i64, contains: &str) -> Sent {
        let ok = self.fake.wait_for(WAIT, |s| s.iter().any(|m| m.chat == chat && m.text.contains(contains))).await;
        assert!(ok, "{chat} never got {contains:?}: {:?}", self.fake.sent_to(chat));
        self.fake.sent_to(chat).into_iter().find(|m| m.text.contains(contains)).unwrap()
    }

    fn count(&self, chat: i64, contains: &str) -> usize {
        self.fake.sent_to(chat).iter().filter(|m| m.text.contains(contains)).count()
    }

    /// Presses a button under `message` and waits for the edit that follows.
    async fn press(&self, chat: i64, message: i64, user: i64, data: &str, edit_contains: &str) -> Sent {
        self.fake.callback(chat, message, user, data);
        let ok = self
            .fake
            .wait_for(WAIT, |s| {
                s.iter().any(|m| {
                    m.kind == Kind::Edit && m.chat == chat && m.message_id == message && m.text.contains(edit_contains)
                })
            })
            .await;
        assert!(ok, "no edit containing {edit_contains:?}: {:?}", self.fake.sent_to(chat));
        self.fake.sent_to(chat).into_iter().rev().find(|m| m.kind == Kind::Edit && m.message_id == message).unwrap()
    }

    /// The text of the last `answerCallbackQuery`, once there are `n` of them.
    async fn answer(&self, n: usize) -> serde_json::Value {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let calls = self.fake.calls_of("answerCallbackQuery");
            if calls.len() >= n {
                return calls[n - 1].params["text"].clone();
            }
            assert!(std::time::Instant::now() < deadline, "no answer to the press");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn png_size(head: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    if head.len() < 24 || head[..8] != SIGNATURE || &head[12..16] != b"IHDR" {
        return None;
    }
    Some((u32::from_be_bytes(head[16..20].try_into().ok()?), u32::from_be_bytes(head[20..24].try_into().ok()?)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn alerts_buttons_mute_a_category_for_that_chat_only() {
    let rig = Rig::new().await;
    // A viewer opens /alerts in the first alert chat: everything on, four buttons.
    let got = rig.say(ALERTS, VIEWER, "/alerts").await;
    assert_eq!(got.len(), 1, "{got:?}");
    let prompt = &got[0];
    assert!(prompt.text.contains("✅ <b>Fills</b>: on"), "{}", prompt.text);
    let labels: Vec<&str> = prompt.buttons.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["✅ Fills", "✅ Signals", "✅ Performance", "✅ Warnings"]);
    let fills = prompt.buttons[0].1.clone();
    // Pressing Fills mutes it and edits the message to say so.
    let edit = rig.press(ALERTS, prompt.message_id, VIEWER, &fills, "🔕 <b>Fills</b>: off").await;
    assert_eq!(edit.buttons[0].0, "🔕 Fills");
    assert!(edit.text.contains("✅ <b>Warnings</b>: on"), "{}", edit.text);
    assert_eq!(rig.answer(1).await, "Fills: off");
    assert_eq!(rig.store.chat_settings(ALERTS).unwrap().muted, vec![Category::Fills]);
    // A stranger's press changes nothing.
    rig.fake.callback(ALERTS, prompt.message_id, STRANGER, &prompt.buttons[1].1);
    assert_eq!(rig.answer(2).await, "Only traders and viewers can change this chat's alerts.");
    assert_eq!(rig.store.chat_settings(ALERTS).unwrap().muted, vec![Category::Fills]);
    // The second alert chat mutes the performance report.
    let got = rig.say(ALERTS2, TRADER, "/alerts").await;
    let p2 = &got[0];
    rig.press(ALERTS2, p2.message_id, TRADER, &p2.buttons[2].1, "🔕 <b>Performance</b>: off").await;

    // A trade: its fill alerts reach the second chat, threaded, and not the first.
    rig.engine.submit(Event::Tick).await.unwrap(); // the performance baseline
    let got = rig.say(TRADER, TRADER, "/enter btc").await;
    assert!(got.iter().any(|m| m.text.contains("Entry placed")), "the trader's own chat gets it: {got:?}");
    let placed = rig.wait_text(ALERTS2, "Entry placed").await;
    let stop = rig.wait_text(ALERTS2, "Stop placed").await;
    assert_eq!(stop.reply_to, Some(placed.message_id), "follow-ups reply to the first alert about the position");
    // A warning goes to both: once the first chat has it, every earlier row for it was handled.
    rig.say(TRADER, TRADER, "/pause").await;
    rig.wait_text(ALERTS, "Trading paused").await;
    rig.wait_text(ALERTS2, "Trading paused").await;
    for fill_alert in ["Entry placed", "Bought", "Stop placed"] {
        assert_eq!(rig.count(ALERTS, fill_alert), 0, "{fill_alert} reached a chat that muted fills");
    }

    // Two hours later the performance report: the first chat gets it, the second muted it.
    rig.clock.advance(2 * HOUR);
    rig.engine.submit(Event::Tick).await.unwrap();
    let report = rig.wait_text(ALERTS, "Performance: 1 open position").await;
    assert!(report.text.contains("<b>BTC</b>: "), "{}", report.text);
    assert!(report.text.contains("since entry") && report.text.contains("below the price"), "{}", report.text);
    assert!(report.text.contains("Portfolio value:"), "{}", report.text);
    rig.say(TRADER, TRADER, "/resume").await;
    rig.wait_text(ALERTS, "Trading resumed").await;
    rig.wait_text(ALERTS2, "Trading resumed").await;
    assert_eq!(rig.count(ALERTS2, "Performance:"), 0, "the report reached a chat that muted it");
    // Unmuting brings the category back.
    rig.press(ALERTS, prompt.message_id, VIEWER, &fills, "✅ <b>Fills</b>: on").await;
    assert!(rig.store.chat_settings(ALERTS).unwrap().muted.is_empty());
    rig.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn performance_and_chart_before_and_after_a_closed_trade() {
    let rig = Rig::new().await;
    // Before any trade.
    let got = rig.say(GROUP, VIEWER, "/performance").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].text.contains("No closed trades yet"), "{}", got[0].text);
    let got = rig.say(GROUP, VIEWER, "/chart").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].kind, Kind::Photo);
    assert_eq!(png_size(&got[0].photo_head), Some((1200, 600)), "{:?}", got[0].photo_head);
    assert!(got[0].text.contains("No closed trades yet"), "{}", got[0].text);
    // Strangers get nothing in a group.
    assert!(rig.say(GROUP, STRANGER, "/chart").await.is_empty());

    // One round trip: bought and sold at 30 000 with the paper exchange's 0.1 % fees, so the
    // trade lost its fees.
    rig.say(TRADER, TRADER, "/enter btc").await;
    rig.wait_text(TRADER, "Stop placed").await;
    rig.clock.advance(26 * HOUR);
    rig.exchange.set_price(btc(), dec!(30000)).await;
    rig.say(TRADER, TRADER, "/exit btc").await;
    let closed = rig.wait_text(TRADER, "<b>BTC</b> closed").await;
    assert!(closed.text.contains("fees included") && closed.text.contains("Held 1 day"), "{}", closed.text);
    let trades = rig.store.closed_trades().unwrap();
    assert_eq!(trades.len(), 1);
    assert!(trades[0].pnl < dec!(0), "{:?}", trades[0]);

    let got = rig.say(GROUP, VIEWER, "/performance").await;
    assert_eq!(got.len(), 1, "{got:?}");
    let text = &got[0].text;
    assert!(text.contains("Closed trades: 1"), "{text}");
    assert!(text.contains("Wins 0, losses 1, win rate 0.00%."), "{text}");
    assert!(text.contains("Worst: <b>BTC</b> -"), "{text}");
    let month = rig.clock.now().month();
    assert!(text.contains(&format!("{month}: 1 trade, 0 won (0.00%), -")), "{text}");
    let got = rig.say(GROUP, VIEWER, "/chart").await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].kind, Kind::Photo);
    assert_eq!(png_size(&got[0].photo_head), Some((1200, 600)));
    assert!(got[0].photo_bytes > 5_000, "a drawn chart, not an empty frame: {} bytes", got[0].photo_bytes);
    assert!(got[0].text.contains("Equity from closed trades"), "{}", got[0].text);
    rig.shutdown().await;
}
