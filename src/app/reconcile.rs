//! Reconciliation with the exchange, the exchange being the source of truth: at start, after
//! every user-stream reconnect, and every five minutes.
//!
//! One pass: every order the engine believes is not final is queried by client id and the answer
//! goes through the engine's normal path (so a missed fill is fetched and applied once, by trade
//! id); then the exchange's open orders and balances are compared with the engine's state
//! (`Event::Reconcile`), which reports what differs; then `Event::Reconciled` tells the
//! engine whether the pass completed (a failed pass keeps new entries blocked).

use super::driver::{EngineGone, EngineHandle, Metrics};
use crate::engine::{Event, Notice};
use crate::exchange::{Exchange, ExchangeError};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Between two scheduled passes.
pub const EVERY: Duration = Duration::from_secs(5 * 60);

/// One reconciliation pass. Returns whether it completed.
pub async fn reconcile_once<E: Exchange + ?Sized>(
    handle: &EngineHandle,
    exchange: &E,
    metrics: &Metrics,
) -> Result<bool, EngineGone> {
    let mut ok = true;
    // The rate-limit halt that stopped the pass, if one did.
    let mut halted = None;
    let mut note = |e: &ExchangeError| {
        ok = false;
        if matches!(e, ExchangeError::RateLimited { .. }) {
            halted = Some(e.clone());
        }
    };
    let mut findings = 0u64;
    let count = |messages: &[crate::engine::Outgoing]| {
        messages.iter().filter(|m| matches!(m.notice, Notice::Reconciliation(_))).count() as u64
    };
    let view = handle.view().await?;
    for (symbol, client_id) in view.open_orders {
        let result = exchange.query(symbol, &client_id).await;
        if let Err(e) = &result
            && !matches!(e, ExchangeError::NotFound)
        {
            note(e);
        }
        findings += count(&handle.submit(Event::Queried { client_id, result }).await?);
    }
    match (exchange.open_orders(None).await, exchange.balances().await) {
        (Ok(open_orders), Ok(balances)) => {
            findings += count(&handle.submit(Event::Reconcile { open_orders, balances }).await?);
        }
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "reconciliation could not read the account");
            note(&e);
        }
    }
    metrics.reconcile_corrections.fetch_add(findings, Ordering::Relaxed);
    handle.submit(Event::Reconciled { ok, halted }).await?;
    tracing::info!(ok, findings, "reconciliation done");
    Ok(ok)
}

/// Runs a pass now, then every [`EVERY`] and whenever `again` is notified (the user stream came
/// back), until `stop`.
pub async fn run<E: Exchange>(
    handle: EngineHandle,
    exchange: Arc<E>,
    metrics: Arc<Metrics>,
    again: Arc<Notify>,
    stop: CancellationToken,
) {
    let mut every = tokio::time::interval(EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = every.tick() => {}
            _ = again.notified() => {}
        }
        match reconcile_once(&handle, &*exchange, &metrics).await {
            Ok(true) => {}
            // A failed pass is retried sooner than the schedule: entries stay blocked meanwhile.
            Ok(false) => {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_secs(15)) => again.notify_one(),
                }
            }
            Err(EngineGone) => break,
        }
    }
}
