//! Telegram: the bot (teloxide long polling, authorization, commands, confirmation buttons)
//! and the outbox worker that delivers every message Bert sends.
//!
//! Two tasks, started by `bert run`:
//!
//! * [`run_bot`]: receives updates with teloxide, turns authorized commands into engine events
//!   and queues every reply in the outbox ([`bot`] explains the gate every update passes).
//! * [`Outbox::run`] (or [`run_outbox`]): delivers the outbox's rows in order per chat, within
//!   Telegram's rate limits, surviving restarts; at-least-once (see [`outbox`]).
//!
//! They share nothing but the store and a `Notify`: the bot queues a reply and wakes the worker,
//! as the engine driver does after each commit. So a reply and an alert about the same trade
//! go out in the order they were committed, and a crash loses neither.
//!
//! Secrets: the token is only in the request URLs. Every error text from reqwest or teloxide
//! is masked ([`errors::mask_token`]) before it is logged or returned.
//!
//! Wiring (in `bert run`):
//!
//! ```ignore
//! let notify = Arc::new(Notify::new());                 // also DriverParts::outbox
//! let cfg = TelegramConfig::new(token, api_url, roles, quote);
//! let outbox = telegram::outbox_for(&cfg, store.clone(), notify.clone())?;
//! let stats = outbox.stats();                           // for /metrics
//! tracker.spawn(outbox.run(shutdown.clone()));          // flushes for cfg.outbox.flush after cancel
//! let views = Arc::new(Views::new(store.clone(), engine.clone(), clock.clone(), quote)); // /performance, /chart, /alerts
//! tracker.spawn(telegram::run_bot(cfg, BotDeps { store, engine, notify, clock, hook: Some(views) }, shutdown));
//! ```

pub mod api;
pub mod bot;
pub mod coalesce;
pub mod confirm;
pub mod errors;
pub mod limits;
pub mod outbox;
pub mod signal_button;
pub mod views;

pub use bot::{ChatHook, HookAnswer, HookPress, HookRequest};
pub use errors::mask_token;
pub use limits::OutboxLimits;
pub use outbox::{Outbox, OutboxConfig, OutboxStats, PromptIds};
pub use views::Views;

use crate::app::config::Secret;
use crate::app::driver::{Clock, EngineHandle};
use crate::chat::auth::{Role, Roles};
use crate::domain::AssetCode;
use crate::i18n::Lang;
use crate::store::Store;
use bot::BotState;
use confirm::Confirmations;
use limits::CommandLimiter;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use teloxide::prelude::*;
use teloxide::types::BotCommand;
use teloxide::update_listeners::{Polling, UpdateListener};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Everything the Telegram side is configured with.
#[derive(Clone, Debug)]
pub struct TelegramConfig {
    /// The bot token (`TELEGRAM_BOT_TOKEN`); printed as `***`.
    pub token: Secret,
    /// `BERT_TELEGRAM_API_URL`, e.g. `https://api.telegram.org` (a trailing `/` is ignored).
    pub api_url: String,
    /// `BERT_TRADERS` / `BERT_VIEWERS`.
    pub roles: Roles,
    /// `BERT_QUOTE_ASSET`: symbols typed in chat are read in it.
    pub quote: AssetCode,
    /// `BERT_CONFIRM`: manual `/enter` and `/exit` ask for confirmation.
    pub confirm: bool,
    /// How long a confirmation can be pressed.
    pub confirm_ttl: Duration,
    /// How often expired confirmations and signal buttons are looked for (their message is
    /// edited to say so).
    pub sweep: Duration,
    /// Commands a user may send at once, then one per `command_interval`.
    pub command_burst: u32,
    pub command_interval: Duration,
    /// Long-polling timeout of `getUpdates` (must stay well below the HTTP timeout).
    pub poll_timeout: Duration,
    pub outbox: OutboxConfig,
    /// Where the outbox built from this configuration ([`outbox_for`]) records the signal
    /// messages it sends with an Enter button, and the bot run with it edits them when they
    /// expire. Clones of the configuration share it, which is what connects the two tasks.
    pub sent_signals: signal_button::SentSignals,
}

impl TelegramConfig {
    /// Production defaults: confirmations on (60 s), 8 commands at once then one every 2 s
    /// per user, 10 s long polling, Telegram's rate limits.
    pub fn new(token: Secret, api_url: impl Into<String>, roles: Roles, quote: AssetCode) -> Self {
        TelegramConfig {
            token,
            api_url: api_url.into(),
            roles,
            quote,
            confirm: true,
            confirm_ttl: confirm::DEFAULT_TTL,
            sweep: Duration::from_secs(1),
            command_burst: 8,
            command_interval: Duration::from_secs(2),
            poll_timeout: Duration::from_secs(10),
            outbox: OutboxConfig::default(),
            sent_signals: signal_button::SentSignals::default(),
        }
    }

    fn api_url(&self) -> String {
        self.api_url.trim_end_matches('/').to_owned()
    }
}

/// What the bot talks to.
#[derive(Clone)]
pub struct BotDeps {
    pub store: Arc<Store>,
    pub engine: EngineHandle,
    /// The outbox worker's wake-up (the same `Notify` as the driver's).
    pub notify: Arc<Notify>,
    /// Confirmation expiry and reply timestamps (the driver's clock in production).
    pub clock: Arc<dyn Clock>,
    /// `/performance`, `/chart`, `/alerts`, `/stop` and their buttons (`None`: "not available").
    pub hook: Option<Arc<dyn ChatHook>>,
}

/// Why the Telegram side cannot run. Texts never contain the token.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    #[error("BERT_TELEGRAM_API_URL is not a usable URL: {0}")]
    Url(String),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("Telegram refuses the bot token (check TELEGRAM_BOT_TOKEN): {0}")]
    Unauthorized(String),
}

/// The outbox worker for this configuration (not started: call [`Outbox::run`]).
pub fn outbox_for(config: &TelegramConfig, store: Arc<Store>, notify: Arc<Notify>) -> Result<Outbox, TelegramError> {
    let api = api::BotApi::new(config.token.expose(), &config.api_url(), config.outbox.request_timeout)
        .map_err(TelegramError::Client)?;
    Ok(Outbox::new(store, api, config.outbox.clone(), notify).recording_signals(config.sent_signals.clone()))
}

/// Builds and runs the outbox worker until `shutdown` (plus the flush time).
pub async fn run_outbox(
    config: TelegramConfig,
    store: Arc<Store>,
    notify: Arc<Notify>,
    shutdown: CancellationToken,
) -> Result<(), TelegramError> {
    outbox_for(&config, store, notify)?.run(shutdown).await;
    Ok(())
}

/// The teloxide bot pointed at the configured API URL, with its own HTTP client (so building it
/// cannot panic, and its timeout stays above the long-polling timeout).
fn make_bot(config: &TelegramConfig) -> Result<Bot, TelegramError> {
    let token = config.token.expose();
    let client = reqwest::Client::builder()
        .timeout(config.poll_timeout + Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .build()
        .map_err(|e| TelegramError::Client(mask_token(&e.without_url().to_string(), token)))?;
    let url = reqwest::Url::parse(&config.api_url()).map_err(|e| TelegramError::Url(e.to_string()))?;
    Ok(Bot::with_client(token, client).set_api_url(url))
}

/// Waits for `getMe` (retrying network failures with backoff) and returns the bot's username.
/// A refused token is an error: nothing would ever work with it.
async fn wait_for_me(bot: &Bot, token: &str, shutdown: &CancellationToken) -> Result<Option<String>, TelegramError> {
    let mut delay = Duration::from_millis(500);
    loop {
        match bot.get_me().await {
            Ok(me) => return Ok(Some(me.username().to_owned())),
            Err(teloxide::RequestError::Api(teloxide::ApiError::InvalidToken)) => {
                return Err(TelegramError::Unauthorized("getMe answered Unauthorized".into()));
            }
            Err(e) => {
                let error = errors::describe(&e, token);
                tracing::warn!(error = %error, retry_in_s = delay.as_secs_f64(), "Telegram getMe failed");
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(None),
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(60));
    }
}

/// Registers the command menu (`setMyCommands`) with descriptions, once per language.
/// Best effort: the bot works without a menu.
async fn set_commands(bot: &Bot, token: &str) {
    for lang in Lang::ALL {
        let commands: Vec<BotCommand> = crate::chat::render::bot_commands(lang, Role::Trader)
            .into_iter()
            .map(|(name, description)| BotCommand::new(name, description))
            .collect();
        let mut request = bot.set_my_commands(commands);
        if lang != Lang::En {
            request = request.language_code(lang.code());
        }
        if let Err(e) = request.await {
            tracing::warn!(lang = lang.code(), error = %errors::describe(&e, token), "setMyCommands failed");
        }
    }
}

/// Runs the bot until `shutdown`: `getMe`, `setMyCommands`, then long polling. On shutdown it
/// stops taking updates, lets the handlers in progress finish, and confirms the update offset
/// with Telegram. Returns an error only for a configuration problem (bad URL, refused token).
pub async fn run_bot(config: TelegramConfig, deps: BotDeps, shutdown: CancellationToken) -> Result<(), TelegramError> {
    let token = config.token.expose().to_owned();
    let bot = make_bot(&config)?;
    let Some(username) = wait_for_me(&bot, &token, &shutdown).await? else { return Ok(()) };
    tracing::info!(bot = %username, "Telegram bot connected");
    set_commands(&bot, &token).await;

    let state = Arc::new(BotState {
        store: deps.store,
        engine: deps.engine,
        roles: config.roles.clone(),
        quote: config.quote,
        confirm: config.confirm,
        notify: deps.notify,
        confirmations: Confirmations::new(config.confirm_ttl),
        clock: deps.clock,
        limiter: CommandLimiter::new(config.command_burst, config.command_interval),
        warned: Mutex::new(HashSet::new()),
        hook: deps.hook,
        token: token.clone(),
        signals: config.sent_signals.clone(),
    });

    let sweeper = {
        let (st, stop, every) = (state.clone(), shutdown.clone(), config.sweep.max(Duration::from_millis(10)));
        tokio::spawn(async move {
            let mut n: u64 = 0;
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(every) => {}
                }
                bot::sweep_expired(&st).await;
                signal_button::sweep_expired(&st).await;
                n += 1;
                if n.is_multiple_of(600) {
                    st.limiter.prune();
                }
            }
        })
    };

    let mut retry = Duration::from_secs(1);
    loop {
        let mut dispatcher = Dispatcher::builder(bot.clone(), schema())
            .dependencies(dptree::deps![state.clone()])
            // Updates no branch takes (channel posts, polls, ...) are dropped silently.
            .default_handler(|_update| async {})
            .build();
        let stop = dispatcher.shutdown_token();
        let listen_token = token.clone();
        let listener_errors = Arc::new(move |e: teloxide::RequestError| {
            let error = errors::describe(&e, &listen_token);
            async move { tracing::warn!(error = %error, "Telegram getUpdates failed; retrying") }
        });
        let mut listener = Polling::builder(bot.clone()).timeout(config.poll_timeout).delete_webhook().await.build();
        // Stopping the listener ourselves as well: teloxide's shutdown request can be missed by
        // a dispatcher that is busy handing an update over at that instant (its notification is
        // not sticky), which would leave it polling forever.
        let listener_stop = listener.stop_token();
        let dispatch = dispatcher.try_dispatch_with_listener(listener, listener_errors);
        tokio::pin!(dispatch);
        tokio::select! {
            r = &mut dispatch => {
                if let Err(e) = r {
                    tracing::error!(error = %errors::describe(&e, &token), "the bot could not start dispatching");
                }
            }
            _ = shutdown.cancelled() => {
                listener_stop.stop();
                // The dispatcher may not be running yet (it starts after its own getMe): retry.
                let mut finished = false;
                while stop.shutdown().is_err() {
                    tokio::select! {
                        _ = &mut dispatch => { finished = true; break }
                        _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                    }
                }
                if !finished {
                    let _ = tokio::time::timeout(Duration::from_secs(15), &mut dispatch).await;
                }
                break;
            }
        }
        // Dispatching ended without a shutdown request: start again after a pause.
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(retry) => {}
        }
        retry = (retry * 2).min(Duration::from_secs(60));
    }
    sweeper.abort();
    tracing::info!("Telegram bot stopped");
    Ok(())
}

/// The handler tree: messages, edited messages (ignored, but requested so that the decision
/// is explicit and logged) and button presses.
fn schema() -> teloxide::dispatching::UpdateHandler<Infallible> {
    dptree::entry()
        .branch(Update::filter_message().endpoint(bot::on_message))
        .branch(Update::filter_edited_message().endpoint(bot::on_edited))
        .branch(Update::filter_callback_query().endpoint(bot::on_callback))
}

use std::convert::Infallible;
