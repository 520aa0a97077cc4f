//! The user data stream over the WebSocket API (`userDataStream.subscribe.signature`).
//!
//! REST `listenKey`s are gone (removed 2026-02-20). With an HMAC key, the only way to receive
//! account events is to subscribe on a WebSocket API connection with a per-request signature
//! (`apiKey` and `timestamp`, sorted, unencoded), once per connection: a new connection has no
//! subscriptions. Events arrive as `{"subscriptionId": N, "event": {...}}`; responses to our
//! requests carry the request's `id`.
//!
//! Nothing is replayed after a disconnect, so every (re)subscription is followed by
//! [`ExchangeEvent::StreamUp`], on which the engine reconciles over REST.

use super::clock::ServerClock;
use super::config::StreamConfig;
use super::limits::{Cost, RateGuard};
use super::rest::RestClient;
use super::sign::{Secret, Signer};
use super::symbols::SymbolMap;
use super::wire::{UserEvent, UserFrame, decode_user_frame};
use super::ws::{Flow, OpenError, Session, Ws, connect};
use crate::domain::Timestamp;
use crate::exchange::ExchangeEvent;
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// The user data stream as a [`Session`].
pub struct UserStream {
    pub(crate) url: String,
    pub(crate) api_key: Secret,
    pub(crate) signer: Signer,
    pub(crate) rest: Arc<RestClient>,
    pub(crate) clock: Arc<ServerClock>,
    pub(crate) guard: Arc<RateGuard>,
    pub(crate) symbols: Arc<SymbolMap>,
    pub(crate) config: StreamConfig,
    pub(crate) next_id: AtomicU64,
}

/// A subscribed connection.
pub struct Subscription {
    pub id: u64,
}

/// The subscribe request, signed as the WebSocket API wants: `apiKey=…&timestamp=…` sorted and
/// unencoded (the §3.6 vector 9 shape). `recvWindow` is left at Binance's default (5 s).
pub fn subscribe_request(request_id: &str, api_key: &str, timestamp: i64, signer: &Signer) -> String {
    let ts = timestamp.to_string();
    let signature = signer.sign_ws(&[("apiKey", api_key), ("timestamp", &ts)]);
    serde_json::json!({
        "id": request_id,
        "method": "userDataStream.subscribe.signature",
        "params": { "apiKey": api_key, "timestamp": timestamp, "signature": signature },
    })
    .to_string()
}

impl UserStream {
    fn route(&self, subscription: Option<u64>, text: &str, out: &mut Vec<ExchangeEvent>) -> Flow {
        match decode_user_frame(text, &*self.symbols) {
            Ok(UserFrame::Event { subscription_id, event }) => match event {
                UserEvent::Order(report) => out.push(ExchangeEvent::Order(report)),
                UserEvent::Balances(balances) => out.push(ExchangeEvent::Balances(balances)),
                UserEvent::StreamTerminated { .. } => {
                    if subscription_id.is_none() || subscription_id == subscription {
                        return Flow::End("eventStreamTerminated".into());
                    }
                }
                UserEvent::ServerShutdown { .. } => {
                    tracing::info!("Binance announced a server shutdown; moving to a new connection");
                    return Flow::Rotate;
                }
                UserEvent::BalanceDelta { asset, delta, .. } => {
                    tracing::info!(%asset, %delta, "balance changed outside trading (deposit, withdrawal or transfer)");
                }
                UserEvent::ExternalLock { asset, delta, .. } => {
                    tracing::info!(%asset, %delta, "balance locked or unlocked by another system");
                }
                UserEvent::ListStatus(list) => tracing::info!(?list, "order list update"),
                UserEvent::Other { kind } => tracing::debug!(%kind, "user stream event ignored"),
            },
            Ok(UserFrame::Response { id, status, error, .. }) => {
                tracing::debug!(?id, status, ?error, "unexpected WebSocket API response");
            }
            Err(e) => {
                let head: String = text.chars().take(200).collect();
                tracing::warn!(reason = %e, frame = %head, "undecodable user stream frame");
            }
        }
        Flow::Continue
    }

    /// Sends the subscribe request and waits for its answer, answering pings meanwhile.
    async fn subscribe(&self, ws: &mut Ws, sink: &mpsc::Sender<ExchangeEvent>) -> Result<u64, SubscribeFailure> {
        let request_id = format!("bert-sub-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let request = subscribe_request(&request_id, self.api_key.expose(), self.clock.now().millis(), &self.signer);
        ws.send(Message::Text(request.into()))
            .await
            .map_err(|e| SubscribeFailure::other(format!("cannot send: {e}")))?;
        let mut out = Vec::new();
        loop {
            let msg = match ws.next().await {
                Some(Ok(m)) => m,
                Some(Err(e)) => return Err(SubscribeFailure::other(format!("connection error: {e}"))),
                None => return Err(SubscribeFailure::other("connection closed while subscribing")),
            };
            let text = match msg {
                Message::Ping(p) => {
                    ws.send(Message::Pong(p))
                        .await
                        .map_err(|e| SubscribeFailure::other(format!("cannot pong: {e}")))?;
                    continue;
                }
                Message::Text(t) => t,
                Message::Close(_) => return Err(SubscribeFailure::other("closed while subscribing")),
                _ => continue,
            };
            match decode_user_frame(text.as_str(), &*self.symbols) {
                Ok(UserFrame::Response { id: Some(id), status, subscription_id, error }) if id.0 == request_id => {
                    return match (status, subscription_id, error) {
                        (200, Some(sub), _) => Ok(sub),
                        (429 | 418, _, e) => {
                            let server_until = e.and_then(|e| e.retry_after_ms);
                            let local_until = server_until
                                .map(|t| self.clock.to_local(Timestamp(t)).millis())
                                .unwrap_or_else(|| self.clock.local_now().millis() + 60_000);
                            self.guard.halt(local_until, status == 418);
                            Err(SubscribeFailure::RateLimited { until_ms: local_until })
                        }
                        (_, _, Some(e)) if e.code == -1021 => Err(SubscribeFailure::ClockSkew),
                        (_, _, Some(e)) => {
                            Err(SubscribeFailure::other(format!("subscribe refused ({}): {}", e.code, e.msg)))
                        }
                        (status, _, None) => {
                            Err(SubscribeFailure::other(format!("subscribe answered status {status}")))
                        }
                    };
                }
                _ => {
                    // Anything else before our answer (an early event) is handled normally.
                    let _ = self.route(None, text.as_str(), &mut out);
                    for event in out.drain(..) {
                        if sink.send(event).await.is_err() {
                            return Err(SubscribeFailure::other("event sink closed"));
                        }
                    }
                }
            }
        }
    }
}

enum SubscribeFailure {
    ClockSkew,
    RateLimited { until_ms: i64 },
    Other(String),
}

impl SubscribeFailure {
    fn other(reason: impl Into<String>) -> Self {
        SubscribeFailure::Other(reason.into())
    }
}

impl Session for UserStream {
    type Event = ExchangeEvent;
    type Conn = Subscription;

    fn name(&self) -> &'static str {
        "user data"
    }

    fn config(&self) -> &StreamConfig {
        &self.config
    }

    async fn open(&self, sink: &mpsc::Sender<ExchangeEvent>) -> Result<(Ws, Subscription), OpenError> {
        let now = self.clock.local_now().millis();
        let halted = self.guard.halt_remaining_ms(now);
        if halted > 0 {
            return Err(OpenError::halted(halted));
        }
        // Connecting costs 2 weight and subscribing 2; the stream protects positions, so it
        // spends budget without waiting for it.
        self.guard
            .acquire(Cost { weight: 4, order: false, protective: true }, now)
            .await
            .map_err(|e| OpenError::new(e.to_string()))?;
        let mut ws = connect(&self.url, &self.guard, &self.clock).await?;
        let mut resynced = false;
        loop {
            match self.subscribe(&mut ws, sink).await {
                Ok(id) => {
                    tracing::info!(subscription_id = id, "user data stream subscribed");
                    return Ok((ws, Subscription { id }));
                }
                Err(SubscribeFailure::ClockSkew) if !resynced => {
                    resynced = true;
                    self.rest.sync_time().await.map_err(|e| OpenError::new(format!("clock re-sync failed: {e}")))?;
                }
                Err(SubscribeFailure::ClockSkew) => {
                    return Err(OpenError::new("subscribe refused: clock skew (-1021)"));
                }
                Err(SubscribeFailure::RateLimited { until_ms }) => {
                    let wait = until_ms.saturating_sub(self.clock.local_now().millis()).max(0);
                    return Err(OpenError {
                        reason: "subscribe rate limited".into(),
                        resume_after: Some(Duration::from_millis(wait as u64)),
                    });
                }
                Err(SubscribeFailure::Other(reason)) => return Err(OpenError::new(reason)),
            }
        }
    }

    fn on_text(&self, conn: &Subscription, text: &str, out: &mut Vec<ExchangeEvent>) -> Flow {
        self.route(Some(conn.id), text, out)
    }

    fn up(&self) -> ExchangeEvent {
        ExchangeEvent::StreamUp
    }

    fn down(&self, reason: String) -> ExchangeEvent {
        ExchangeEvent::StreamDown { reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_request_is_signed_like_vector_9() {
        let key = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
        let signer = Signer::new(&Secret::new("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"));
        let text = subscribe_request("r1", key, 1747385641636, &signer);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["method"], "userDataStream.subscribe.signature");
        assert_eq!(v["id"], "r1");
        assert_eq!(v["params"]["apiKey"], key);
        assert_eq!(v["params"]["timestamp"], 1747385641636i64);
        assert_eq!(v["params"]["signature"], "681110a6057ad58657af22f5640fab9dd17418834cdfccdc81be8b0f7b2cde3e");
    }
}
