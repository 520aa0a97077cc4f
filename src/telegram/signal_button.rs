//! The **Enter** button under a strategy signal (when `BERT_AUTO_TRADE=false`).
//!
//! The outbox attaches it when it delivers a long [`Notice::Signal`] that did not trade by
//! itself; its callback data carries the symbol and the close time of the daily candle the signal
//! came from (`sg:BTC:1700006399999`, well under Telegram's 64 bytes). Pressing it starts the same
//! sized entry as `/enter`, with the same confirmation, for the trader who pressed it, in the chat
//! the button is in. Viewers and strangers get a refusal as a dialog, and so does anyone once
//! the candle is a day old: a breakout from the day before yesterday is not a signal any more.
//!
//! **Expiry on screen.** The outbox records each signal message it delivers with a button
//! ([`SentSignals`]: chat, message id, the text as sent); the bot's periodic sweep
//! ([`sweep_expired`], on the bot's injected clock) edits each one whose candle has become a
//! day old to say so, without the button. The record is in memory, like the confirmations: after
//! a restart the buttons of signals sent before it stay until pressed, and a press is still
//! refused once the candle is a day old.

use super::bot::{BotState, answer, engine_command};
use crate::chat::auth::Role;
use crate::domain::{AssetCode, Symbol, Timestamp};
use crate::engine::{Command, Notice, Requester};
use crate::i18n::{Arg, Lang, tr, tr_html};
use crate::store::{Button, OutboxBody};
use crate::strategy::edge70::Direction;
use std::sync::{Arc, Mutex};
use teloxide::prelude::*;
use teloxide::types::CallbackQuery;

/// Callback data prefix (the confirmation buttons use `bc:`).
pub const PREFIX: &str = "sg:";

/// A pressed signal button, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalPress {
    pub symbol: Symbol,
    /// Close time of the signal's daily candle.
    pub candle_close: Timestamp,
}

/// The buttons to show under `notice` (none for anything but a long signal awaiting a person).
pub fn buttons(notice: &Notice, lang: Lang) -> Vec<Vec<Button>> {
    match notice {
        Notice::Signal { symbol, direction: Direction::Long, candle_close, auto_trade: false, .. } => {
            let text = tr(lang, "signal-button-enter", &[("base", Arg::from(symbol.base.as_str().to_owned()))]);
            vec![vec![Button { text, data: callback_data(*symbol, *candle_close) }]]
        }
        _ => Vec::new(),
    }
}

pub fn callback_data(symbol: Symbol, candle_close: Timestamp) -> String {
    format!("{PREFIX}{}:{}", symbol.base.as_str(), candle_close.0)
}

/// Reads data written by [`callback_data`]; `None` for anything else.
pub fn parse(data: &str, quote: AssetCode) -> Option<SignalPress> {
    let (base, close) = data.strip_prefix(PREFIX)?.split_once(':')?;
    let symbol = Symbol::parse(base, quote).ok()?;
    let candle_close = Timestamp(close.parse::<i64>().ok()?);
    Some(SignalPress { symbol, candle_close })
}

/// True once the signal's candle closed a day ago or more.
pub fn expired(press: &SignalPress, now: Timestamp) -> bool {
    now.since(press.candle_close) >= Timestamp::MS_PER_DAY
}

/// The signal a notice's button is for (`None` when the notice has no button).
pub fn press_of(notice: &Notice) -> Option<SignalPress> {
    match notice {
        Notice::Signal { symbol, direction: Direction::Long, candle_close, auto_trade: false, .. } => {
            Some(SignalPress { symbol: *symbol, candle_close: *candle_close })
        }
        _ => None,
    }
}

/// How many delivered signal messages are remembered for the expiry edit. A signal is at most a
/// day from expiry, and Bert watches a few symbols in a few chats; past this the oldest go (their
/// buttons are still refused when pressed).
const SENT_MEMORY: usize = 1024;

/// A signal message as delivered with its Enter button.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentSignal {
    pub chat: i64,
    /// The Telegram message that carries the button.
    pub message_id: i32,
    pub press: SignalPress,
    /// The message's text as sent (HTML), kept for the edit.
    pub html: String,
    pub lang: Lang,
}

/// The signal messages delivered with a button and not yet expired. Shared by the outbox worker,
/// which records them, and the bot's sweep, which edits them at expiry (clones share it).
#[derive(Clone, Debug, Default)]
pub struct SentSignals {
    inner: Arc<Mutex<Vec<SentSignal>>>,
}

impl SentSignals {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SentSignal>> {
        // Each operation is one push or one partition: a panic elsewhere cannot leave it torn.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn record(&self, sent: SentSignal) {
        let mut list = self.lock();
        list.push(sent);
        if list.len() > SENT_MEMORY {
            let excess = list.len() - SENT_MEMORY;
            list.drain(..excess);
        }
    }

    /// Takes every recorded signal whose candle is a day old at `now`.
    pub fn take_expired(&self, now: Timestamp) -> Vec<SentSignal> {
        let mut list = self.lock();
        let (gone, keep): (Vec<SentSignal>, Vec<SentSignal>) = list.drain(..).partition(|s| expired(&s.press, now));
        *list = keep;
        gone
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The text an expired signal is edited to: as sent, with the expiry under it.
pub fn expired_html(sent: &SentSignal) -> String {
    format!("{}\n\n⌛ {}", sent.html, tr_html(sent.lang, "signal-button-expired", &[]))
}

/// Queues the edit of every signal message whose candle has become a day old: the expiry under
/// the text, the button gone.
pub(crate) async fn sweep_expired(st: &BotState) {
    for sent in st.signals.take_expired(st.clock.now()) {
        tracing::info!(chat = sent.chat, symbol = %sent.press.symbol, "signal button expired");
        let edit = OutboxBody::Edit {
            message_id: Some(sent.message_id),
            token: None,
            html: expired_html(&sent),
            buttons: Vec::new(),
        };
        st.reply(sent.chat, vec![edit]).await;
    }
}

/// Handles a press: refuses viewers, strangers and stale signals; otherwise previews the entry
/// for the presser (Confirm/Cancel), exactly as `/enter` would.
#[allow(clippy::too_many_arguments)] // the press, its presser and where it happened
pub(crate) async fn on_press(
    bot: &Bot,
    st: &BotState,
    q: &CallbackQuery,
    presser: i64,
    role: Role,
    chat: Option<i64>,
    lang: Lang,
    press: SignalPress,
) {
    let refuse = |key: &str| Some(tr(lang, key, &[]));
    if role != Role::Trader {
        tracing::info!(presser, ?role, "signal button pressed by a non-trader");
        return answer(bot, st, q, refuse("signal-button-traders-only"), true).await;
    }
    let now = st.clock.now();
    let Some(chat) = chat.filter(|_| !expired(&press, now)) else {
        return answer(bot, st, q, refuse("signal-button-expired"), true).await;
    };
    tracing::info!(presser, chat, symbol = %press.symbol, "entry from a signal button");
    answer(bot, st, q, None, false).await;
    engine_command(st, Requester { user: presser, chat }, lang, Command::Enter(press.symbol)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::edge70::SignalKind;
    use rust_decimal_macros::dec;

    fn usdt() -> AssetCode {
        AssetCode::new("USDT").unwrap()
    }

    fn signal(direction: Direction, auto_trade: bool) -> Notice {
        Notice::Signal {
            symbol: Symbol::parse("BTC", usdt()).unwrap(),
            direction,
            kind: SignalKind::Flip,
            level: dec!(100),
            price: dec!(101),
            candle_close: Timestamp(1_700_006_399_999),
            auto_trade,
        }
    }

    #[test]
    fn only_manual_long_signals_get_a_button_that_round_trips() {
        let b = buttons(&signal(Direction::Long, false), Lang::Ru);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0][0].text, "Войти в BTC");
        assert!(b[0][0].data.len() <= 64);
        let press = parse(&b[0][0].data, usdt()).unwrap();
        assert_eq!((press.symbol.base.as_str(), press.candle_close), ("BTC", Timestamp(1_700_006_399_999)));
        assert!(buttons(&signal(Direction::Long, true), Lang::En).is_empty());
        assert!(buttons(&signal(Direction::Short, false), Lang::En).is_empty());
        for bad in ["sg:", "sg:BTC", "sg:BTC:x", "sg:B-TC:1", "bc:tok:y", ""] {
            assert_eq!(parse(bad, usdt()), None, "{bad}");
        }
    }

    #[test]
    fn sent_signals_are_taken_once_at_expiry() {
        let sent = SentSignals::default();
        let press =
            |close| SignalPress { symbol: Symbol::parse("BTC", usdt()).unwrap(), candle_close: Timestamp(close) };
        assert_eq!(press_of(&signal(Direction::Long, false)), Some(press(1_700_006_399_999)));
        assert_eq!(press_of(&signal(Direction::Long, true)), None);
        for (id, close) in [(1, 0), (2, 1000)] {
            let html = format!("signal {id}");
            sent.clone().record(SentSignal { chat: 5, message_id: id, press: press(close), html, lang: Lang::En });
        }
        assert!(sent.take_expired(Timestamp(Timestamp::MS_PER_DAY - 1)).is_empty());
        let gone = sent.take_expired(Timestamp(Timestamp::MS_PER_DAY));
        assert_eq!(gone.iter().map(|s| s.message_id).collect::<Vec<_>>(), vec![1]);
        assert_eq!(sent.len(), 1);
        assert!(expired_html(&gone[0]).starts_with("signal 1\n\n⌛ This signal has expired"));
        for i in 0..(SENT_MEMORY as i32 + 5) {
            let s = SentSignal { chat: 5, message_id: 10 + i, press: press(5000), html: String::new(), lang: Lang::En };
            sent.record(s);
        }
        assert_eq!(sent.len(), SENT_MEMORY, "bounded");
    }

    #[test]
    fn expires_a_day_after_the_candle_closed() {
        let press = parse("sg:BTC:1000", usdt()).unwrap();
        assert!(!expired(&press, Timestamp(1000 + Timestamp::MS_PER_DAY - 1)));
        assert!(expired(&press, Timestamp(1000 + Timestamp::MS_PER_DAY)));
    }
}
