//! The bot: teloxide long polling, authorization, commands and the confirmation buttons.
//!
//! Every update goes through the same gate before anything acts on it:
//!
//! 1. **Only fresh text messages from a real person are commands.** Edited messages are
//!    ignored (editing an old `/enter btc` must not enter again), and so are forwarded messages
//!    (a forwarded `/enter` is someone else's words), automatic forwards from a linked channel,
//!    messages sent via an inline bot, captions and media. Messages with a `sender_chat`
//!    (anonymous group admins, posts on behalf of a channel) and messages whose `from` is a bot
//!    or one of Telegram's placeholder accounts (`GroupAnonymousBot` 1087968824, ...) have no
//!    user: they are treated as a stranger, so they may use `/id`, `/help`, `/start`, `/lang`
//!    and nothing else.
//! 2. **Parsing** with [`crate::chat::parse`] (the bot's own username from `getMe` for
//!    `/cmd@Name`; a command for another bot and plain chatter in groups get silence).
//! 3. **Rate limit per user** (per chat for messages without a user): a flood gets one short
//!    "slow down" reply and then silence until the user's quota refills, so a flood cannot
//!    starve the engine's inbox or the outbox.
//! 4. **Authorization** with [`crate::chat::authorize`]: strangers get "not authorized, your
//!    id is N" in a private chat and silence in a group; a viewer's trade command is refused
//!    with the reason.
//! 5. **The command**: `/start`, `/help`, `/id`, `/lang` are answered here; engine commands
//!    become `Event::Command`; `/enter` and `/exit` with confirmations on are previewed with
//!    `EngineHandle::peek` and shown with Confirm/Cancel buttons (`/stop` too: it moves a
//!    stop); `/performance`, `/chart` and `/alerts` are handed to the [`ChatHook`] (other
//!    features plug in there). A signal's Enter button ([`super::signal_button`]) starts the
//!    same confirmed entry as `/enter`.
//!
//! Every reply is a row in the outbox (never sent directly), so the rate limits see all of it
//! and a reply survives a restart. The only direct call is `answerCallbackQuery`, which is not
//! a chat message and has no rate limit.
//!
//! Buttons check the **presser** (`callback_query.from`), never the chat: in a group anyone can
//! press a button, only the trader who asked may confirm.

use super::confirm::{self, Choice, Confirmations, Press, Resolution};
use super::limits::CommandLimiter;
use crate::app::driver::{Clock, EngineHandle};
use crate::chat::auth::{Role, Roles, Verdict, authorize};
use crate::chat::format::escape_html;
use crate::chat::parse::{ChatCommand, ParseError, parse};
use crate::chat::render::{self, Mode, UiText};
use crate::domain::AssetCode;
use crate::engine::{Audience, Category, Command, Event, Notice, Requester};
use crate::i18n::{Arg, Lang, tr_html};
use crate::store::{Button, OutboxBody, OutboxRow, Store};
use futures_util::future::BoxFuture;
use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use teloxide::prelude::*;
use teloxide::requests::Requester as _;
use teloxide::types::{CallbackQuery, Me, Message, User};
use tokio::sync::Notify;

/// Handlers never fail: every problem is handled (and logged) where it happens.
pub(crate) type HandlerResult = Result<(), Infallible>;

/// A command the bot does not answer itself, already authorized, for a [`ChatHook`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookRequest {
    /// `None` for messages without a real sender (never the case for read or trade commands).
    pub user: Option<i64>,
    pub chat: i64,
    pub role: Role,
    pub lang: Lang,
    pub command: ChatCommand,
}

/// A button press the confirmation flow does not know (its data has another prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookPress {
    pub presser: i64,
    pub role: Role,
    /// The chat and message the button is under, when Telegram still has the message.
    pub message: Option<(i64, i32)>,
    pub data: String,
}

/// The answer to a hooked button press: a short notice (`alert`: as a dialog) and messages to
/// queue for the button's chat.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HookAnswer {
    pub text: Option<String>,
    pub alert: bool,
    pub messages: Vec<OutboxBody>,
}

/// Where other features plug into the bot: `/performance`, `/chart`, `/alerts`, `/stop` and
/// their buttons. The defaults decline, and the bot then says the command is not available.
pub trait ChatHook: Send + Sync + 'static {
    /// Answers a command; `None` when this hook does not handle it. The messages are queued
    /// for the command's chat as replies (text, photos, prompts with buttons).
    fn command(&self, request: HookRequest) -> BoxFuture<'static, Option<Vec<OutboxBody>>> {
        let _ = request;
        Box::pin(async { None })
    }

    /// Answers a button press that is not a confirmation; `None` when unknown.
    fn callback(&self, press: HookPress) -> BoxFuture<'static, Option<HookAnswer>> {
        let _ = press;
        Box::pin(async { None })
    }
}

/// What the handlers share.
pub(crate) struct BotState {
    pub store: Arc<Store>,
    pub engine: EngineHandle,
    pub roles: Roles,
    pub quote: AssetCode,
    pub confirm: bool,
    pub notify: Arc<Notify>,
    pub confirmations: Confirmations,
    pub clock: Arc<dyn Clock>,
    pub limiter: CommandLimiter,
    /// Keys told to slow down since their last allowed command (told once).
    pub warned: Mutex<HashSet<i64>>,
    pub hook: Option<Arc<dyn ChatHook>>,
    pub token: String,
    /// Signal messages delivered with an Enter button, for the expiry edit.
    pub signals: super::signal_button::SentSignals,
}

impl BotState {
    /// Queues replies for `chat` (one transaction) and wakes the outbox.
    pub async fn reply(&self, chat: i64, bodies: Vec<OutboxBody>) {
        if bodies.is_empty() {
            return;
        }
        let now = self.clock.now();
        let rows: Vec<OutboxRow> = bodies
            .into_iter()
            .map(|body| OutboxRow {
                chat,
                category: Category::Reply,
                position: None,
                body,
                created_at: now,
                attempts: 0,
            })
            .collect();
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || store.enqueue(rows)).await {
            Ok(Ok(_)) => self.notify.notify_one(),
            Ok(Err(e)) => tracing::error!(chat, error = %e, "cannot queue a reply"),
            Err(e) => tracing::error!(chat, error = %e, "cannot queue a reply"),
        }
    }

    async fn reply_html(&self, chat: i64, html: String) {
        self.reply(chat, vec![OutboxBody::Text { html }]).await;
    }

    /// The language to answer in: the chat's (`/lang`), else the user's `language_code`, else
    /// English. A private chat without a language adopts the user's, so alerts and engine
    /// replies (rendered by the outbox from the chat's settings) speak it too.
    async fn lang_for(&self, chat: i64, private: bool, user_lang: Option<Lang>) -> Lang {
        let store = self.store.clone();
        let settings = match tokio::task::spawn_blocking(move || store.chat_settings(chat)).await {
            Ok(Ok(s)) => s,
            _ => return user_lang.unwrap_or_default(),
        };
        if let Some(code) = settings.language.as_deref() {
            return Lang::from_code(code);
        }
        let Some(lang) = user_lang else { return Lang::En };
        if private {
            self.set_lang(chat, lang).await;
        }
        lang
    }

    async fn set_lang(&self, chat: i64, lang: Lang) {
        let store = self.store.clone();
        let result = tokio::task::spawn_blocking(move || {
            let mut settings = store.chat_settings(chat)?;
            settings.language = Some(lang.code().to_owned());
            store.set_chat_settings(chat, &settings)
        })
        .await;
        if !matches!(result, Ok(Ok(()))) {
            tracing::warn!(chat, "cannot save the chat's language");
        }
    }

    /// True the first time `key` is over its quota since it was last allowed.
    fn first_warning(&self, key: i64) -> bool {
        self.warned.lock().unwrap_or_else(|p| p.into_inner()).insert(key)
    }

    fn allowed_again(&self, key: i64) {
        let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
        if !warned.is_empty() {
            warned.remove(&key);
        }
    }
}

// ----- texts not (yet) in the locale files ----------------------------------------------------

/// A message from the locale files if it exists there, else Bert's English wording (escaped
/// for HTML). For messages added with this module: the locale files belong to the i18n work,
/// and a missing key must never show up as `some-key` in a chat.
fn text(lang: Lang, key: &str, args: &[(&str, Arg<'_>)], fallback: &str) -> String {
    let known = Lang::En.source().lines().any(|l| l.strip_prefix(key).is_some_and(|r| r.trim_start().starts_with('=')));
    if known { tr_html(lang, key, args) } else { escape_html(fallback).into_owned() }
}

fn slow_down(lang: Lang) -> String {
    format!("⏳ {}", text(lang, "rate-limited", &[], "Too many commands at once. Wait a few seconds and try again."))
}

fn engine_down(lang: Lang) -> String {
    format!(
        "⚠️ {}",
        text(lang, "engine-unavailable", &[], "Bert's engine is not running right now. Try again in a minute.")
    )
}

fn unavailable(lang: Lang, command: &str) -> String {
    let fallback = format!("/{command} is not available yet.");
    format!("ℹ️ {}", text(lang, "command-unavailable", &[("command", Arg::from(command.to_owned()))], &fallback))
}

/// The line added under a confirmation when it ends.
pub(crate) fn outcome_line(r: Resolution, lang: Lang) -> String {
    match r {
        Resolution::Confirmed => format!("✅ {}", text(lang, "confirm-done", &[], "Confirmed.")),
        Resolution::Cancelled => format!("✖️ {}", render::ui(UiText::ConfirmCancelled, lang, Mode::Html)),
        Resolution::Expired => format!("⌛ {}", render::ui(UiText::ConfirmExpired, lang, Mode::Html)),
    }
}

/// The short answer to a press (plain text: Telegram shows it as a toast or dialog).
fn press_answer(r: Option<Resolution>, lang: Lang) -> String {
    let html = match r {
        Some(Resolution::Confirmed) => text(lang, "confirm-done", &[], "Confirmed."),
        Some(Resolution::Cancelled) => return render::ui(UiText::ConfirmCancelled, lang, Mode::Plain),
        Some(Resolution::Expired) | None => return render::ui(UiText::ConfirmExpired, lang, Mode::Plain),
    };
    super::coalesce::html_to_plain(&html)
}

// ----- messages -------------------------------------------------------------------------------

/// A Telegram user id as Bert's `i64` (ids fit in 52 bits; anything else is no user).
fn user_id(u: &User) -> Option<i64> {
    i64::try_from(u.id.0).ok()
}

/// The person behind a message, if there is one (see the module docs).
fn real_sender(msg: &Message) -> Option<&User> {
    if msg.sender_chat.is_some() {
        return None;
    }
    msg.from.as_ref().filter(|u| !u.is_bot)
}

pub(crate) async fn on_message(msg: Message, me: Me, st: Arc<BotState>) -> HandlerResult {
    handle_message(&st, &msg, me.username()).await;
    Ok(())
}

/// Edited messages never act (see the module docs).
pub(crate) async fn on_edited(msg: Message) -> HandlerResult {
    tracing::debug!(chat = msg.chat.id.0, "edited message ignored");
    Ok(())
}

async fn handle_message(st: &BotState, msg: &Message, me: &str) {
    let chat = msg.chat.id.0;
    let private = msg.chat.is_private();
    let Some(text) = msg.text() else { return };
    if msg.forward_origin().is_some() || msg.is_automatic_forward() || msg.via_bot.is_some() {
        tracing::debug!(chat, "forwarded message ignored");
        return;
    }
    let sender = real_sender(msg);
    let user = sender.and_then(user_id);
    let user_lang = sender.and_then(|u| u.language_code.as_deref()).and_then(Lang::parse);
    let role = st.roles.role_of(user);
    let parsed = parse(text, Some(me), st.quote);
    if let Err(e) = &parsed
        && (*e == ParseError::OtherBot || (e.is_silent() && !private))
    {
        return;
    }
    // From here on the message may be answered: count it against the sender's quota.
    let key = user.unwrap_or(chat);
    if !st.limiter.allow(key) {
        let may_answer = private || role != Role::Stranger;
        if may_answer && st.first_warning(key) {
            let lang = st.lang_for(chat, private, user_lang).await;
            st.reply_html(chat, slow_down(lang)).await;
        }
        tracing::info!(chat, user = ?user, "command rate limit");
        return;
    }
    st.allowed_again(key);
    let command = match parsed {
        Ok(c) => c,
        Err(e) => {
            if role == Role::Stranger {
                if private {
                    let lang = st.lang_for(chat, private, user_lang).await;
                    st.reply_html(chat, render::not_authorized(user, lang, Mode::Html)).await;
                }
                return;
            }
            let lang = st.lang_for(chat, private, user_lang).await;
            st.reply_html(chat, render::render_error(&e, lang, Mode::Html)).await;
            return;
        }
    };
    let verdict = authorize(role, &command);
    tracing::info!(chat, user = ?user, command = command.name(), ?verdict, "command");
    if verdict != Verdict::Allow {
        // Strangers in groups get silence: no store read, no reply.
        if verdict == Verdict::Stranger && !private {
            return;
        }
        let lang = st.lang_for(chat, private, user_lang).await;
        if let Some(text) = render::verdict_reply(verdict, user, private, lang, Mode::Html) {
            st.reply_html(chat, text).await;
        }
        return;
    }
    let lang = st.lang_for(chat, private, user_lang).await;
    match command {
        ChatCommand::Start => st.reply_html(chat, render::start(lang, role, Mode::Html)).await,
        ChatCommand::Help => st.reply_html(chat, render::help(lang, role, Mode::Html)).await,
        ChatCommand::Id => st.reply_html(chat, render::id_reply(user, chat, lang, Mode::Html)).await,
        ChatCommand::Lang(code) => {
            let (new, reply) = render::answer_lang(code.as_deref(), lang, Mode::Html);
            if code.as_deref().and_then(Lang::parse).is_some() {
                st.set_lang(chat, new).await;
            }
            st.reply_html(chat, reply).await;
        }
        ChatCommand::Engine(cmd) => {
            // `authorize` allows engine commands only to traders and viewers, who have ids.
            if let Some(user) = user {
                engine_command(st, Requester { user, chat }, lang, cmd).await
            }
        }
        ChatCommand::MoveStop { symbol, price } => {
            // `authorize` allows `/stop` only to traders, who have ids.
            if let Some(user) = user {
                engine_command(st, Requester { user, chat }, lang, Command::MoveStop { symbol, price }).await
            }
        }
        other => {
            let name = other.name();
            let request = HookRequest { user, chat, role, lang, command: other };
            let answer = match &st.hook {
                Some(hook) => hook.command(request).await,
                None => None,
            };
            match answer {
                Some(bodies) => st.reply(chat, bodies).await,
                None => st.reply_html(chat, unavailable(lang, name)).await,
            }
        }
    }
}

pub(super) async fn engine_command(st: &BotState, from: Requester, lang: Lang, cmd: Command) {
    let (preview, action) = match cmd {
        Command::Enter(s) if st.confirm => (Command::PreviewEnter(s), Command::Enter(s)),
        Command::Exit(s) if st.confirm => (Command::PreviewExit(s), Command::Exit(s)),
        Command::MoveStop { symbol, price } if st.confirm => {
            (Command::PreviewMoveStop { symbol, price }, Command::MoveStop { symbol, price })
        }
        cmd => {
            match st.engine.submit(Event::Command { from, command: cmd }).await {
                // The replies are in the outbox, committed with the event.
                Ok(_) => st.notify.notify_one(),
                Err(_) => st.reply_html(from.chat, engine_down(lang)).await,
            }
            return;
        }
    };
    let messages = match st.engine.peek(Event::Command { from, command: preview }).await {
        Ok(m) => m,
        Err(_) => return st.reply_html(from.chat, engine_down(lang)).await,
    };
    let mut bodies = Vec::new();
    for out in messages.into_iter().filter(|m| matches!(m.to, Audience::Chat(c) if c == from.chat)) {
        let html = render::render(&out.notice, lang, Mode::Html);
        match out.notice {
            Notice::EntryPreview(_) | Notice::ExitPreview { .. } | Notice::MoveStopPreview(_) => {
                let token =
                    st.confirmations.register(from.user, from.chat, action.clone(), html.clone(), lang, st.clock.now());
                let buttons = vec![vec![
                    Button {
                        text: render::ui(UiText::ButtonConfirm, lang, Mode::Plain),
                        data: confirm::callback_data(&token, Choice::Confirm),
                    },
                    Button {
                        text: render::ui(UiText::ButtonCancel, lang, Mode::Plain),
                        data: confirm::callback_data(&token, Choice::Cancel),
                    },
                ]];
                bodies.push(OutboxBody::Prompt { html, buttons, token: Some(token) });
            }
            _ => bodies.push(OutboxBody::Text { html }),
        }
    }
    st.reply(from.chat, bodies).await;
}

// ----- buttons --------------------------------------------------------------------------------

pub(crate) async fn on_callback(bot: Bot, q: CallbackQuery, st: Arc<BotState>) -> HandlerResult {
    handle_callback(&bot, &st, &q).await;
    Ok(())
}

pub(super) async fn answer(bot: &Bot, st: &BotState, q: &CallbackQuery, text: Option<String>, alert: bool) {
    let mut request = bot.answer_callback_query(q.id.clone());
    if let Some(text) = text {
        request = request.text(text).show_alert(alert);
    }
    if let Err(e) = request.await {
        tracing::warn!(error = %super::errors::describe(&e, &st.token), "answerCallbackQuery failed");
    }
}

async fn handle_callback(bot: &Bot, st: &BotState, q: &CallbackQuery) {
    let presser = user_id(&q.from).filter(|_| !q.from.is_bot);
    let message = q.message.as_ref().map(|m| (m.chat().id.0, m.id().0));
    let presser_lang = q.from.language_code.as_deref().and_then(Lang::parse);
    let lang = match message {
        Some((chat, _)) => st.lang_for(chat, false, presser_lang).await,
        None => presser_lang.unwrap_or_default(),
    };
    let data = q.data.clone().unwrap_or_default();
    let role = st.roles.role_of(presser);
    let Some(presser) = presser else {
        return answer(bot, st, q, None, false).await;
    };
    if let Some(press) = super::signal_button::parse(&data, st.quote) {
        let chat = message.map(|(chat, _)| chat);
        return super::signal_button::on_press(bot, st, q, presser, role, chat, lang, press).await;
    }
    let Some((token, choice)) = confirm::parse_callback(&data) else {
        let hooked = match &st.hook {
            Some(hook) => hook.callback(HookPress { presser, role, message, data }).await,
            None => None,
        };
        let Some(h) = hooked else { return answer(bot, st, q, None, false).await };
        if let Some((chat, _)) = message {
            st.reply(chat, h.messages).await;
        }
        return answer(bot, st, q, h.text, h.alert).await;
    };
    if role != Role::Trader {
        // Only a trader ever asked for a confirmation, so this is never the requester.
        return answer(bot, st, q, Some(render::ui(UiText::ConfirmNotYours, lang, Mode::Plain)), true).await;
    }
    match st.confirmations.press(token, presser, choice, st.clock.now()) {
        Press::NotYours { owner } => {
            tracing::info!(presser, owner, "confirmation pressed by someone else");
            answer(bot, st, q, Some(render::ui(UiText::ConfirmNotYours, lang, Mode::Plain)), true).await;
        }
        Press::Gone { earlier } => answer(bot, st, q, Some(press_answer(earlier, lang)), false).await,
        Press::Take(p, resolution) => {
            tracing::info!(user = p.user, chat = p.chat, ?resolution, command = ?p.command, "confirmation");
            let message_id = message.filter(|(chat, _)| *chat == p.chat).map(|(_, id)| id);
            let html = format!("{}\n\n{}", p.html, outcome_line(resolution, p.lang));
            let edit = OutboxBody::Edit { message_id, token: Some(p.token.clone()), html, buttons: Vec::new() };
            st.reply(p.chat, vec![edit]).await;
            answer(bot, st, q, Some(press_answer(Some(resolution), p.lang)), false).await;
            if resolution == Resolution::Confirmed {
                let from = Requester { user: p.user, chat: p.chat };
                match st.engine.submit(Event::Command { from, command: p.command }).await {
                    Ok(_) => st.notify.notify_one(),
                    Err(_) => st.reply_html(p.chat, engine_down(p.lang)).await,
                }
            }
        }
    }
}

/// Takes expired confirmations and queues the edit that says so.
pub(crate) async fn sweep_expired(st: &BotState) {
    for p in st.confirmations.expire(st.clock.now()) {
        tracing::info!(user = p.user, chat = p.chat, "confirmation expired");
        let html = format!("{}\n\n{}", p.html, outcome_line(Resolution::Expired, p.lang));
        let edit = OutboxBody::Edit { message_id: None, token: Some(p.token.clone()), html, buttons: Vec::new() };
        st.reply(p.chat, vec![edit]).await;
    }
}
