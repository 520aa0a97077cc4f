//! The live driver: the engine on its own thread, fed by a channel, committing every event to
//! the store before anything it asks for leaves the process.
//!
//! ```text
//!  telegram, strategy, timers, user stream ─┐
//!                                           ├─> inbox (mpsc) ─> engine thread: process → commit ─┬─> requests (tokio tasks) ─┐
//!  request answers <────────────────────────┘                                                    └─> outbox worker (notify)   │
//!        ^────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! Why a thread and not a task: `Engine::process` and redb commits are synchronous (an fsync per
//! event). On a dedicated thread they never block tokio's workers, and there is exactly one
//! writer by construction. The thread ends when every handle is dropped or on `shutdown`,
//! after finishing the event in hand.

use crate::domain::Timestamp;
/// The clocks live in the domain (the exchange adapter takes one too); re-exported here where
/// the driver's users have always found them.
pub use crate::domain::{Clock, ManualClock, SystemClock};
use crate::engine::{Audience, Effects, Engine, Event, Outgoing, Request};
use crate::exchange::{Exchange, ExchangeEvent};
use crate::store::Store;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Counters for `/metrics` and `/healthz`, updated by the engine thread.
#[derive(Debug, Default)]
pub struct Metrics {
    pub events: AtomicU64,
    pub commits: AtomicU64,
    pub commit_failures: AtomicU64,
    pub orders_placed: AtomicU64,
    pub orders_rejected: AtomicU64,
    pub orders_unknown: AtomicU64,
    pub fills: AtomicU64,
    pub stream_reconnects: AtomicU64,
    /// 1 while the circuit breaker is open.
    pub breaker_open: AtomicU64,
    /// 1 while the user stream is up.
    pub stream_up: AtomicU64,
    /// Milliseconds between an event being queued and processed (the last one).
    pub event_lag_ms: AtomicI64,
    /// Telegram answered 429 (the outbox worker counts them).
    pub telegram_429: AtomicU64,
    /// Differences reconciliation found and corrected.
    pub reconcile_corrections: AtomicU64,
}

enum Input {
    Event {
        event: Event,
        queued_at: Timestamp,
        reply: Option<oneshot::Sender<Vec<Outgoing>>>,
    },
    /// Process without committing and without sending anything: for previews (the engine does
    /// not change state for them), whose answer the caller shows with its own buttons.
    Peek {
        event: Event,
        reply: oneshot::Sender<Vec<Outgoing>>,
    },
    View {
        reply: oneshot::Sender<EngineView>,
    },
    Shutdown,
}

/// A read-only snapshot for status pages and health checks.
#[derive(Clone, Debug)]
pub struct EngineView {
    pub status: crate::engine::StatusView,
    pub positions: Vec<crate::engine::PositionView>,
    /// Orders not yet final, for reconciliation to ask the exchange about.
    pub open_orders: Vec<(crate::domain::Symbol, crate::domain::ClientOrderId)>,
    /// Every balance valued in the quote asset at the last known prices.
    pub portfolio: rust_decimal::Decimal,
}

/// The engine is gone (shut down or failed).
#[derive(Debug, thiserror::Error)]
#[error("the engine is not running")]
pub struct EngineGone;

/// Cloneable access to the engine thread.
#[derive(Clone)]
pub struct EngineHandle {
    tx: mpsc::Sender<Input>,
    clock: Arc<dyn Clock>,
}

impl EngineHandle {
    /// Queues an event. Waits only for room in the inbox (back-pressure), not for processing.
    pub async fn send(&self, event: Event) -> Result<(), EngineGone> {
        let input = Input::Event { event, queued_at: self.clock.now(), reply: None };
        self.tx.send(input).await.map_err(|_| EngineGone)
    }

    /// Queues an event and waits until it is processed and durable; returns the messages it
    /// produced (already in the outbox).
    pub async fn submit(&self, event: Event) -> Result<Vec<Outgoing>, EngineGone> {
        let (reply, rx) = oneshot::channel();
        let input = Input::Event { event, queued_at: self.clock.now(), reply: Some(reply) };
        self.tx.send(input).await.map_err(|_| EngineGone)?;
        rx.await.map_err(|_| EngineGone)
    }

    /// Asks the engine what an event would say without acting on it (entry and exit previews).
    pub async fn peek(&self, event: Event) -> Result<Vec<Outgoing>, EngineGone> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Input::Peek { event, reply }).await.map_err(|_| EngineGone)?;
        rx.await.map_err(|_| EngineGone)
    }

    pub async fn view(&self) -> Result<EngineView, EngineGone> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Input::View { reply }).await.map_err(|_| EngineGone)?;
        rx.await.map_err(|_| EngineGone)
    }

    /// Asks the engine thread to stop after the event in hand. Events queued before this are
    /// processed first (the inbox is FIFO).
    pub async fn shutdown(&self) {
        let _ = self.tx.send(Input::Shutdown).await;
    }
}

/// Who receives alerts: the configured alert chats.
#[derive(Clone, Debug, Default)]
pub struct Recipients {
    pub alert_chats: Vec<i64>,
}

impl Recipients {
    pub fn of(&self, out: &Outgoing) -> Vec<i64> {
        match out.to {
            Audience::Chat(c) => vec![c],
            Audience::Alerts { also } => {
                let mut chats: BTreeSet<i64> = self.alert_chats.iter().copied().collect();
                chats.extend(also);
                chats.into_iter().collect()
            }
        }
    }
}

/// What the driver needs to run.
pub struct DriverParts<E: Exchange> {
    pub engine: Engine,
    pub store: Arc<Store>,
    pub exchange: Arc<E>,
    pub recipients: Recipients,
    /// Woken after every commit that queued messages.
    pub outbox: Arc<Notify>,
    pub metrics: Arc<Metrics>,
    pub clock: Arc<dyn Clock>,
}

/// Starts the engine thread. Returns the handle and the thread's join handle (it ends after
/// `shutdown` or when all handles are dropped).
pub fn start<E: Exchange>(parts: DriverParts<E>) -> (EngineHandle, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<Input>(1024);
    let handle = EngineHandle { tx: tx.clone(), clock: parts.clock.clone() };
    let runtime = tokio::runtime::Handle::current();
    let feedback = handle.clone();
    let thread = std::thread::Builder::new()
        .name("bert-engine".into())
        .spawn(move || engine_loop(parts, rx, feedback, runtime))
        // Spawning a thread fails only when the OS is out of resources at start-up; there is
        // nothing sensible to run without the engine.
        .unwrap_or_else(|e| panic!("cannot start the engine thread: {e}"));
    (handle, thread)
}

fn engine_loop<E: Exchange>(
    parts: DriverParts<E>,
    mut rx: mpsc::Receiver<Input>,
    feedback: EngineHandle,
    runtime: tokio::runtime::Handle,
) {
    let DriverParts { mut engine, store, exchange, recipients, outbox, metrics, clock } = parts;
    while let Some(input) = rx.blocking_recv() {
        match input {
            Input::Shutdown => break,
            Input::View { reply } => {
                let _ = reply.send(EngineView {
                    status: engine.status_view(),
                    positions: engine.position_views(),
                    open_orders: engine.open_orders().map(|o| (o.symbol, o.client_id.clone())).collect(),
                    portfolio: engine.portfolio_value(),
                });
            }
            Input::Peek { event, reply } => {
                let fx = engine.process(&event, clock.now());
                debug_assert!(fx.writes.is_empty() && fx.requests.is_empty(), "peek must not change state");
                let _ = reply.send(fx.messages);
            }
            Input::Event { event, queued_at, reply } => {
                let now = clock.now();
                metrics.events.fetch_add(1, Ordering::Relaxed);
                metrics.event_lag_ms.store(now.since(queued_at), Ordering::Relaxed);
                count_inputs(&metrics, &event);
                let fx = engine.process(&event, now);
                let Ok(()) = commit(&store, &metrics, &recipients, now, &event, &fx) else {
                    // The state change could not be made durable: stop rather than act on
                    // something a restart would not remember. The supervisor restarts Bert, and
                    // recovery asks the exchange about everything in flight.
                    tracing::error!(event = event.kind(), "commit failed; stopping the engine");
                    break;
                };
                metrics.breaker_open.store(u64::from(engine.breaker().is_some()), Ordering::Relaxed);
                if !fx.messages.is_empty() {
                    outbox.notify_one();
                }
                for request in fx.requests {
                    let exchange = exchange.clone();
                    let back = feedback.clone();
                    let metrics = metrics.clone();
                    runtime.spawn(async move {
                        let answer = execute(&*exchange, request, &metrics).await;
                        let _ = back.send(answer).await;
                    });
                }
                if let Some(reply) = reply {
                    let _ = reply.send(fx.messages);
                }
            }
        }
    }
    tracing::info!("engine stopped");
}

fn count_inputs(metrics: &Metrics, event: &Event) {
    match event {
        Event::Exchange(ExchangeEvent::Order(r)) => {
            // Every fill and order state change is logged with its client id, so a log search
            // for one id tells an order's whole story next to the journal.
            if let Some(f) = &r.fill {
                metrics.fills.fetch_add(1, Ordering::Relaxed);
                tracing::info!(client_id = %r.client_id, symbol = %r.symbol, trade_id = f.trade_id, qty = %f.qty, price = %f.price, fee = %f.fee, fee_asset = %f.fee_asset, "fill");
            } else {
                tracing::info!(client_id = %r.client_id, symbol = %r.symbol, status = ?r.status, reason = r.reason.as_deref(), "order report");
            }
        }
        Event::Exchange(ExchangeEvent::StreamUp) => {
            metrics.stream_up.store(1, Ordering::Relaxed);
            metrics.stream_reconnects.fetch_add(1, Ordering::Relaxed);
        }
        Event::Exchange(ExchangeEvent::StreamDown { .. }) => metrics.stream_up.store(0, Ordering::Relaxed),
        Event::Placed { client_id, result: Err(e) } if e.is_unknown_outcome() => {
            metrics.orders_unknown.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%client_id, error = %e, "order outcome unknown; querying it");
        }
        Event::Placed { client_id, result: Err(e) } => {
            metrics.orders_rejected.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%client_id, error = %e, "order rejected");
        }
        Event::Placed { client_id, result: Ok(r) } => {
            tracing::info!(%client_id, exchange_id = r.exchange_id, status = ?r.status, "order accepted");
        }
        _ => {}
    }
}

fn commit(
    store: &Store,
    metrics: &Metrics,
    recipients: &Recipients,
    now: Timestamp,
    event: &Event,
    fx: &Effects,
) -> Result<(), ()> {
    if fx.is_empty() && !event.is_audited() {
        return Ok(());
    }
    match store.commit(now, event, fx, &|out| recipients.of(out)) {
        Ok(_) => {
            metrics.commits.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => {
            metrics.commit_failures.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "commit failed");
            Err(())
        }
    }
}

/// Performs one exchange request and turns its answer into the event the engine expects.
pub async fn execute<E: Exchange + ?Sized>(exchange: &E, request: Request, metrics: &Metrics) -> Event {
    match request {
        Request::Place(order) => {
            tracing::info!(client_id = %order.client_id, symbol = %order.symbol, kind = ?order.kind, qty = %order.quantity, "placing order");
            let result = exchange.place(&order).await;
            if result.is_ok() {
                metrics.orders_placed.fetch_add(1, Ordering::Relaxed);
            }
            Event::Placed { client_id: order.client_id.clone(), result }
        }
        Request::Cancel { symbol, client_id } => {
            tracing::info!(%client_id, %symbol, "cancelling order");
            let result = exchange.cancel(symbol, &client_id).await;
            Event::Canceled { client_id, result }
        }
        Request::Query { symbol, client_id } => {
            let result = exchange.query(symbol, &client_id).await;
            Event::Queried { client_id, result }
        }
        Request::ReplaceStop { symbol, old, new } => {
            tracing::info!(old = %old, new = %new.client_id, %symbol, stop = ?new.stop_price, "moving stop");
            let result = exchange.replace_stop(&old, &new).await;
            if result.is_ok() {
                metrics.orders_placed.fetch_add(1, Ordering::Relaxed);
            }
            Event::StopReplaced { old, new: new.client_id.clone(), result: Box::new(result) }
        }
        Request::Trades { symbol, client_id, order_id } => {
            let result = exchange.trades(symbol, order_id).await;
            Event::Trades { client_id, result }
        }
    }
}

/// Feeds the exchange's user data stream into the engine until `stop` or either side ends;
/// every (re)subscription wakes `reconnected`, because reports sent while the stream was down
/// are not replayed and reconciliation must ask the exchange.
pub async fn forward_user_events(
    mut rx: mpsc::Receiver<ExchangeEvent>,
    handle: EngineHandle,
    reconnected: Arc<Notify>,
    stop: CancellationToken,
) {
    loop {
        let e = tokio::select! {
            _ = stop.cancelled() => break,
            e = rx.recv() => match e { Some(e) => e, None => break },
        };
        let up = e == ExchangeEvent::StreamUp;
        if handle.send(Event::Exchange(e)).await.is_err() {
            break;
        }
        if up {
            reconnected.notify_one();
        }
    }
}
