//! `bert run`: the service. Wires the store, the engine driver, the exchange (Binance, or paper
//! fills over Binance's public market data), the market and user streams, the timers, the
//! Telegram bot and its outbox, and the health/metrics listener, under one cancellation token.
//!
//! Start-up order matters for money: the store is opened first (a second instance stops here),
//! the exchange is checked (clock, permissions: keys that can withdraw are refused on live),
//! the engine is restored from the store and warmed up from candle history, and only then does
//! anything that can trade start. In paper mode the simulated account is restored from the same
//! store (see `open_paper_book`), so its resting stops survive a restart. Shutdown (SIGINT or SIGTERM) stops intake, lets the engine
//! finish the event in hand, gives the outbox a few seconds, and closes the database; open
//! positions keep their exchange-side stops.

use super::AppError;
use super::config::{Config, ExchangeMode, LogFormat};
use super::driver::{self, DriverParts, EngineHandle, Metrics, Recipients, SystemClock};
use super::health;
use super::patience::{PATIENCE, patiently};
use crate::domain::{AssetCode, Symbol};
use crate::engine::{Engine, Event};
use crate::exchange::binance::{BinanceConfig, BinanceExchange, MarketEvent, Secret as BinanceSecret};
use crate::exchange::paper::{PaperBook, PaperConfig, PaperExchange};
use crate::exchange::{Exchange, ExchangeEvent};
use crate::store::Store;
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Days of daily candles replayed into Edge70 at start (the original system used 200).
const WARM_UP_DAYS: usize = 200;
/// Starting balance of a fresh paper account, in the quote asset.
pub const PAPER_CAPITAL: i64 = 10_000;
/// How long the outbox may keep sending after a shutdown signal.
const OUTBOX_FLUSH: Duration = Duration::from_secs(3);

/// Sets up logging for the service: JSON or pretty (auto: pretty on a terminal).
pub fn init_logs(format: Option<LogFormat>) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,hyper=warn,reqwest=warn"));
    let json = match format {
        Some(LogFormat::Json) => true,
        Some(LogFormat::Pretty) => false,
        None => !std::io::stdout().is_terminal(),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

/// Runs the service until SIGINT or SIGTERM.
pub async fn run(config: Config) -> Result<(), AppError> {
    let shutdown = CancellationToken::new();
    let signals = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown signal received");
        signals.cancel();
    });
    run_until(config, shutdown).await
}

/// Runs the service until `shutdown` is cancelled (tests cancel it themselves).
pub async fn run_until(config: Config, shutdown: CancellationToken) -> Result<(), AppError> {
    if config.telegram_token.is_none() {
        return Err(AppError::Usage("TELEGRAM_BOT_TOKEN: is required for bert run".into()));
    }
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| AppError::Failed(format!("cannot create the data folder {}: {e}", config.data_dir.display())))?;
    let store = Store::open(super::service_db_path(&config.data_dir)).map_err(|e| AppError::Failed(e.to_string()))?;
    let store = Arc::new(store);
    let quote = config.settings.quote;
    let symbols: Vec<Symbol> = config.symbols.iter().map(|b| Symbol::new(*b, quote)).collect();

    // Market data always comes from Binance (public endpoints need no key).
    let (key, secret) = match (&config.binance_key, &config.binance_secret) {
        (Some(k), Some(s)) => (k.clone(), s.clone()),
        _ => (BinanceSecret::new(""), BinanceSecret::new("")),
    };
    let mode = match config.exchange {
        ExchangeMode::Binance(m) => m,
        ExchangeMode::Paper => crate::exchange::binance::BinanceMode::Live,
    };
    let mut bconfig = BinanceConfig::new(mode, key, secret);
    bconfig.urls = config.urls.clone();
    let binance = BinanceExchange::new(bconfig).map_err(|e| AppError::Failed(format!("exchange: {e}")))?;
    patiently("cannot reach the exchange", PATIENCE, &shutdown, || binance.sync_time()).await?;

    match config.exchange {
        ExchangeMode::Binance(m) => {
            check_keys(&binance, m, &shutdown).await?;
            let exchange = Arc::new(binance.clone());
            serve(config, store, symbols, binance, exchange, None, shutdown).await
        }
        ExchangeMode::Paper => {
            let mut book = open_paper_book(&store, quote)?;
            let filters = patiently("exchange", PATIENCE, &shutdown, || binance.filters(&symbols)).await?;
            for (s, f) in filters {
                book.list_symbol(s, f);
            }
            let paper = Arc::new(PaperExchange::persistent(book, store.clone()));
            serve(config, store, symbols, binance, paper.clone(), Some(paper), shutdown).await
        }
    }
}

/// The paper account as the last run left it (its resting stops still protect the positions
/// the engine restores), or a fresh one with [`PAPER_CAPITAL`], saved at once so that it is
/// created only once.
fn open_paper_book(store: &Store, quote: crate::domain::AssetCode) -> Result<PaperBook, AppError> {
    let failed = |e: crate::store::StoreError| AppError::Failed(format!("cannot load the paper account: {e}"));
    match store.paper_book().map_err(failed)? {
        Some(state) => {
            tracing::info!(open_orders = state.open_orders(), "paper account restored");
            Ok(PaperBook::restore(PaperConfig::default(), state))
        }
        None => {
            let mut book = PaperBook::new(PaperConfig::default());
            book.deposit(quote, Decimal::from(PAPER_CAPITAL));
            store.save_paper_book(&book.state()).map_err(failed)?;
            tracing::info!(capital = PAPER_CAPITAL, %quote, "new paper account");
            Ok(book)
        }
    }
}

/// Refuses keys that cannot trade, and keys that can withdraw on live.
async fn check_keys(
    binance: &BinanceExchange,
    mode: crate::exchange::binance::BinanceMode,
    shutdown: &CancellationToken,
) -> Result<(), AppError> {
    let account = patiently("cannot read the account", PATIENCE, shutdown, || binance.account()).await?;
    if !account.can_trade {
        return Err(AppError::Failed("the API key is not allowed to trade (canTrade is false)".into()));
    }
    if mode == crate::exchange::binance::BinanceMode::Live {
        let r = patiently("cannot read the API key's permissions", PATIENCE, shutdown, || binance.api_restrictions())
            .await?;
        if r.enable_withdrawals {
            return Err(AppError::Failed(
                "the API key can withdraw funds: create a key without withdrawal permission for Bert".into(),
            ));
        }
    }
    Ok(())
}

/// Everything after the exchange is chosen.
async fn serve<E: Exchange>(
    config: Config,
    store: Arc<Store>,
    symbols: Vec<Symbol>,
    market: BinanceExchange,
    exchange: Arc<E>,
    paper: Option<Arc<PaperExchange>>,
    shutdown: CancellationToken,
) -> Result<(), AppError> {
    let failed = |what: &str, e: &dyn std::fmt::Display| AppError::Failed(format!("{what}: {e}"));
    let metrics = Arc::new(Metrics::default());
    let outbox_wake = Arc::new(Notify::new());

    // The engine, restored and warmed up before it can trade.
    let snapshot = store.load().map_err(|e| failed("cannot load the state", &e))?;
    let settings =
        crate::engine::Settings { performance_every_ms: config.performance_every_ms, ..config.settings.clone() };
    let mut engine = Engine::restore(settings, store.instance_tag(), snapshot);
    let history =
        patiently("cannot load candle history", PATIENCE, &shutdown, || market.warm_up(&symbols, WARM_UP_DAYS)).await?;
    for (symbol, candles) in &history {
        engine.warm_up(*symbol, candles);
        if let (Some(paper), Some(last)) = (&paper, candles.last()) {
            // History predates the stops a restored paper account holds: it sets the price only.
            paper.seed_candle(*symbol, *last).await;
        }
    }
    let filters = patiently("cannot read symbol filters", PATIENCE, &shutdown, || exchange.filters(&symbols)).await?;
    let known: Vec<Symbol> = filters.iter().map(|(s, _)| *s).collect();
    for s in symbols.iter().filter(|s| !known.contains(s)) {
        tracing::warn!(symbol = %s, "the exchange does not list this symbol; it is ignored");
    }
    let balances = patiently("cannot read balances", PATIENCE, &shutdown, || exchange.balances()).await?;

    let (handle, engine_thread) = driver::start(DriverParts {
        engine,
        store: store.clone(),
        exchange: exchange.clone(),
        recipients: Recipients { alert_chats: config.alert_chats.clone() },
        outbox: outbox_wake.clone(),
        metrics: metrics.clone(),
        clock: Arc::new(SystemClock),
    });
    let gone = |e: driver::EngineGone| AppError::Failed(e.to_string());
    handle.submit(Event::Filters(filters)).await.map_err(gone)?;
    handle.submit(Event::Balances(balances)).await.map_err(gone)?;
    handle.submit(Event::Started).await.map_err(gone)?;

    let tasks = TaskTracker::new();
    let outbox_stop = CancellationToken::new();
    // Why the bot could not run, if it could not: the service then stops with an error (a
    // refused token must not look like a clean stop to a supervisor or the operator).
    let bot_fatal: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    // The user data stream, forwarded into the engine.
    let (user_tx, user_rx) = mpsc::channel::<ExchangeEvent>(1024);
    exchange.start_user_stream(user_tx).await.map_err(|e| failed("cannot start the user data stream", &e))?;
    let reconnected = Arc::new(Notify::new());
    tasks.spawn(driver::forward_user_events(user_rx, handle.clone(), reconnected.clone(), shutdown.clone()));
    // Reconciliation now (entries stay blocked until it succeeds), every 5 minutes, and after
    // every reconnect of the user stream.
    tasks.spawn(super::reconcile::run(
        handle.clone(),
        exchange.clone(),
        metrics.clone(),
        reconnected,
        shutdown.clone(),
    ));
    // Market data: closed daily candles for Edge70, prices for P&L and the paper exchange, plus
    // the price of BNB (fees paid in it are valued at it, and the low-BNB warning needs it).
    let (market_tx, market_rx) = mpsc::channel::<MarketEvent>(1024);
    let streamed = with_price_only(&known, config.settings.quote);
    let market_task = market.start_market_stream(&streamed, "1d", market_tx);
    tasks.spawn(forward_market_events(market_rx, handle.clone(), paper.clone(), known.clone(), shutdown.clone()));
    tasks.spawn(tick(handle.clone(), shutdown.clone()));
    let listener = tokio::net::TcpListener::bind(config.http_addr)
        .await
        .map_err(|e| failed(&format!("cannot listen on {}", config.http_addr), &e))?;
    let health_state = health::HealthState {
        engine: handle.clone(),
        store: store.clone(),
        metrics: metrics.clone(),
        paper: paper.is_some(),
        clock: Arc::new(SystemClock),
    };
    tasks.spawn(health::serve(listener, health_state, shutdown.clone()));
    // Telegram: the bot (commands in) and the outbox worker (every message out).
    if let Some(token) = config.telegram_token.clone() {
        let roles = crate::chat::auth::Roles::new(config.traders.iter().copied(), config.viewers.iter().copied());
        let mut tg =
            crate::telegram::TelegramConfig::new(token, config.telegram_api_url.clone(), roles, config.settings.quote);
        tg.confirm = config.confirm;
        let outbox =
            crate::telegram::outbox_for(&tg, store.clone(), outbox_wake.clone()).map_err(|e| failed("telegram", &e))?;
        // Its own token, cancelled once the engine has stopped: the alerts the engine produces
        // while stopping (the `Stopping` notice) must be in the queue before the flush starts.
        tasks.spawn(outbox.run(outbox_stop.clone()));
        let views =
            crate::telegram::Views::new(store.clone(), handle.clone(), Arc::new(SystemClock), config.settings.quote);
        let deps = crate::telegram::BotDeps {
            store: store.clone(),
            engine: handle.clone(),
            notify: outbox_wake.clone(),
            clock: Arc::new(SystemClock),
            hook: Some(Arc::new(views)),
        };
        let bot_stop = shutdown.clone();
        let bot_failed = shutdown.clone();
        let fatal = bot_fatal.clone();
        tasks.spawn(async move {
            if let Err(e) = crate::telegram::run_bot(tg, deps, bot_stop).await {
                // A refused token or an unusable URL: nothing can work; stop cleanly.
                tracing::error!(error = %e, "the Telegram bot cannot run");
                *fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                bot_failed.cancel();
            }
        });
    }
    tasks.close();
    tracing::info!(exchange = %config.exchange, symbols = known.len(), "bert is running");

    shutdown.cancelled().await;
    let _ = handle.submit(Event::Stopping).await;
    // Intake stops (every task watches the token); the engine finishes what is queued and stops.
    market.shutdown();
    market_task.abort();
    handle.shutdown().await;
    drop(handle);
    let joined = tokio::task::spawn_blocking(move || engine_thread.join()).await;
    if !matches!(joined, Ok(Ok(()))) {
        tracing::error!("the engine thread ended abnormally");
    }
    outbox_stop.cancel();
    // The outbox worker gets a few seconds to deliver what is queued.
    if tokio::time::timeout(OUTBOX_FLUSH + Duration::from_secs(1), tasks.wait()).await.is_err() {
        tracing::warn!("some tasks did not stop in time");
    }
    drop(store);
    tracing::info!("bert stopped");
    if let Some(e) = bot_fatal.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(AppError::Failed(format!("the Telegram bot cannot run: {e}")));
    }
    Ok(())
}

/// The symbols whose market stream Bert follows: the watched ones, and BNB in the quote asset
/// when it is not one of them (only its price is used; see [`forward_market_events`]).
fn with_price_only(watched: &[Symbol], quote: AssetCode) -> Vec<Symbol> {
    let mut all = watched.to_vec();
    if let Ok(bnb) = AssetCode::new("BNB")
        && bnb != quote
        && !watched.iter().any(|s| s.base == bnb)
    {
        all.push(Symbol::new(bnb, quote));
    }
    all
}

/// Market events into the engine (and the paper exchange). Candles of symbols that are not
/// `watched` (BNB, followed for its price) are not the strategy's business and are dropped.
async fn forward_market_events(
    mut rx: mpsc::Receiver<MarketEvent>,
    handle: EngineHandle,
    paper: Option<Arc<PaperExchange>>,
    watched: Vec<Symbol>,
    stop: CancellationToken,
) {
    loop {
        let e = tokio::select! {
            _ = stop.cancelled() => break,
            e = rx.recv() => match e { Some(e) => e, None => break },
        };
        let event = match e {
            MarketEvent::Candle { symbol, .. } if !watched.contains(&symbol) => continue,
            MarketEvent::Candle { symbol, candle } => {
                if let Some(paper) = &paper {
                    paper.on_candle(symbol, candle).await;
                }
                Event::Candle { symbol, candle }
            }
            MarketEvent::Price { symbol, price, .. } => {
                if let Some(paper) = &paper {
                    paper.set_price(symbol, price).await;
                }
                Event::Price { symbol, price }
            }
            MarketEvent::Up | MarketEvent::Down { .. } => continue,
        };
        if handle.send(event).await.is_err() {
            break;
        }
    }
}

/// The engine's clock tick: retries that are due, breaker timeouts.
async fn tick(handle: EngineHandle, stop: CancellationToken) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = every.tick() => if handle.send(Event::Tick).await.is_err() { break },
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(base: &str, quote: &str) -> Symbol {
        Symbol::new(AssetCode::new(base).unwrap(), AssetCode::new(quote).unwrap())
    }

    #[test]
    fn bnb_is_followed_for_its_price_unless_already_watched_or_the_quote() {
        let usdt = AssetCode::new("USDT").unwrap();
        let watched = [sym("BTC", "USDT"), sym("ETH", "USDT")];
        assert_eq!(with_price_only(&watched, usdt), [watched[0], watched[1], sym("BNB", "USDT")]);
        let with_bnb = [sym("BTC", "USDT"), sym("BNB", "USDT")];
        assert_eq!(with_price_only(&with_bnb, usdt), with_bnb);
        let in_bnb = [sym("SOL", "BNB")];
        assert_eq!(with_price_only(&in_bnb, AssetCode::new("BNB").unwrap()), in_bnb);
    }
}
