//! Keeping a Binance WebSocket alive: the connection supervisor shared by the user data stream
//! and the market streams.
//!
//! A [`Session`] knows how to open a connection (connect, and subscribe where needed) and what
//! a text frame means; [`supervise`] does the rest, the same way for both:
//!
//! * answers every ping with a pong carrying the same payload;
//! * treats `silence_timeout` without any frame (Binance pings every 20 s) as a dead connection;
//! * reconnects after a loss with exponential backoff (`initial`, doubling, capped, plus up to
//!   25 % jitter so many clients do not reconnect in lockstep); a connection that lived
//!   `stable_after` resets the backoff;
//! * reports the session's *down* event once per outage and its *up* event after every
//!   successful open (so the engine reconciles each time);
//! * rotates before Binance's 24 h cut-off, and at once on `serverShutdown`: the new
//!   connection is opened and subscribed *before* the old one is closed, so there is no gap
//!   (duplicates during the overlap are de-duplicated downstream by trade id);
//! * stops when the cancellation token fires or the event sink is closed.

use super::clock::ServerClock;
use super::config::StreamConfig;
use super::limits::RateGuard;
use futures_util::{SinkExt, StreamExt};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why a connection could not be opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenError {
    pub reason: String,
    /// How long no new attempt may be made (a rate limit or ban in force).
    pub resume_after: Option<Duration>,
}

impl OpenError {
    pub fn new(reason: impl Into<String>) -> Self {
        OpenError { reason: reason.into(), resume_after: None }
    }

    /// Refused locally: a rate-limit halt has `remaining_ms` to run.
    pub fn halted(remaining_ms: i64) -> Self {
        OpenError {
            reason: "requests are halted by a rate limit".into(),
            resume_after: Some(Duration::from_millis(remaining_ms.max(0) as u64)),
        }
    }
}

/// What a frame means for its connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Open a replacement now (e.g. `serverShutdown`), keeping this one until it is ready.
    Rotate,
    /// This connection delivers nothing more (e.g. `eventStreamTerminated`).
    End(String),
}

/// One kind of stream.
pub trait Session: Send + Sync + 'static {
    type Event: Send + 'static;
    /// Per-connection state from `open` (e.g. the subscription id).
    type Conn: Send + 'static;

    fn name(&self) -> &'static str;
    fn config(&self) -> &StreamConfig;
    /// Connects and subscribes. Events that arrive while opening go to `sink`.
    fn open(
        &self,
        sink: &mpsc::Sender<Self::Event>,
    ) -> impl Future<Output = Result<(Ws, Self::Conn), OpenError>> + Send;
    /// Interprets a text frame, pushing the events it carries onto `out`.
    fn on_text(&self, conn: &Self::Conn, text: &str, out: &mut Vec<Self::Event>) -> Flow;
    fn up(&self) -> Self::Event;
    fn down(&self, reason: String) -> Self::Event;
}

/// Connects, turning an HTTP 429/418 at the handshake into a halt of all requests.
pub async fn connect(url: &str, guard: &RateGuard, clock: &ServerClock) -> Result<Ws, OpenError> {
    use tokio_tungstenite::tungstenite::Error;
    match tokio_tungstenite::connect_async(url).await {
        Ok((ws, _)) => Ok(ws),
        Err(Error::Http(resp)) => {
            let status = resp.status().as_u16();
            if status == 429 || status == 418 {
                let secs = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<i64>().ok())
                    .unwrap_or(60);
                let secs = secs.max(0);
                let until = clock.local_now().millis().saturating_add(secs.saturating_mul(1000));
                guard.halt(until, status == 418);
                return Err(OpenError {
                    reason: format!("HTTP {status} at connect"),
                    resume_after: Some(Duration::from_secs(secs as u64)),
                });
            }
            Err(OpenError::new(format!("HTTP {status} at connect")))
        }
        Err(e) => Err(OpenError::new(format!("cannot connect: {e}"))),
    }
}

/// Reconnect delays: `initial · 2ⁿ`, capped at `max`, plus up to 25 % jitter.
#[derive(Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
    seed: u64,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(0);
        let seed = (nanos ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)) | 1;
        Backoff { initial, max: max.max(initial), attempt: 0, seed }
    }

    /// The base delay of the next attempt (without jitter), then advances.
    fn next_base(&mut self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(16)).unwrap_or(u32::MAX);
        self.attempt = self.attempt.saturating_add(1);
        self.initial.saturating_mul(factor).min(self.max)
    }

    pub fn next_delay(&mut self) -> Duration {
        let base = self.next_base();
        // xorshift64: good enough to spread reconnects; not for anything secret.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let quarter = base.as_millis() as u64 / 4;
        let jitter = if quarter == 0 { 0 } else { self.seed % (quarter + 1) };
        base + Duration::from_millis(jitter)
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

enum End {
    Stopped,
    SinkClosed,
    Lost(String),
}

struct Pump {
    handle: JoinHandle<End>,
    stop: CancellationToken,
    opened_at: Instant,
    generation: u64,
}

impl Pump {
    fn spawn<S: Session>(
        session: Arc<S>,
        ws: Ws,
        conn: S::Conn,
        sink: mpsc::Sender<S::Event>,
        stop: CancellationToken,
        rotate: mpsc::Sender<u64>,
        generation: u64,
    ) -> Pump {
        let handle = tokio::spawn(pump(session, ws, conn, sink, stop.clone(), rotate, generation));
        Pump { handle, stop, opened_at: Instant::now(), generation }
    }
}

/// Reads one connection until it ends, forwarding events.
async fn pump<S: Session>(
    session: Arc<S>,
    mut ws: Ws,
    conn: S::Conn,
    sink: mpsc::Sender<S::Event>,
    stop: CancellationToken,
    rotate: mpsc::Sender<u64>,
    generation: u64,
) -> End {
    let silence = session.config().silence_timeout;
    let mut out = Vec::new();
    loop {
        let next = tokio::select! {
            _ = stop.cancelled() => {
                let _ = timeout(Duration::from_secs(1), ws.close(None)).await;
                return End::Stopped;
            }
            _ = sink.closed() => return End::SinkClosed,
            next = timeout(silence, ws.next()) => next,
        };
        let msg = match next {
            Err(_) => return End::Lost(format!("no frame or ping for {} s", silence.as_secs_f64())),
            Ok(None) => return End::Lost("connection closed".into()),
            Ok(Some(Err(e))) => return End::Lost(format!("connection error: {e}")),
            Ok(Some(Ok(msg))) => msg,
        };
        match msg {
            Message::Ping(payload) => {
                if let Err(e) = ws.send(Message::Pong(payload)).await {
                    return End::Lost(format!("cannot answer a ping: {e}"));
                }
            }
            Message::Text(text) => {
                let flow = session.on_text(&conn, text.as_str(), &mut out);
                for event in out.drain(..) {
                    if sink.send(event).await.is_err() {
                        return End::SinkClosed;
                    }
                }
                match flow {
                    Flow::Continue => {}
                    Flow::Rotate => {
                        let _ = rotate.try_send(generation);
                    }
                    Flow::End(reason) => return End::Lost(reason),
                }
            }
            Message::Close(frame) => {
                let why = frame.map(|f| format!(": {} {}", f.code, f.reason)).unwrap_or_default();
                return End::Lost(format!("closed by Binance{why}"));
            }
            Message::Pong(_) | Message::Binary(_) | Message::Frame(_) => {}
        }
    }
}

/// Opens a connection, bounded by `open_timeout`.
async fn open_bounded<S: Session>(session: &S, sink: &mpsc::Sender<S::Event>) -> Result<(Ws, S::Conn), OpenError> {
    match timeout(session.config().open_timeout, session.open(sink)).await {
        Ok(result) => result,
        Err(_) => Err(OpenError::new("timed out opening the connection")),
    }
}

/// Keeps `session` connected until `cancel` fires or `sink` closes. See the module docs.
pub async fn supervise<S: Session>(session: Arc<S>, sink: mpsc::Sender<S::Event>, cancel: CancellationToken) {
    let cfg = session.config().clone();
    let name = session.name();
    let mut backoff = Backoff::new(cfg.backoff_initial, cfg.backoff_max);
    let mut reported_down = false;
    let (rotate_tx, mut rotate_rx) = mpsc::channel::<u64>(8);
    let mut generation = 0u64;

    loop {
        // Connect, retrying until it works.
        let (ws, conn) = loop {
            if cancel.is_cancelled() || sink.is_closed() {
                return;
            }
            let opened = tokio::select! {
                _ = cancel.cancelled() => return,
                opened = open_bounded(&*session, &sink) => opened,
            };
            let err = match opened {
                Ok(c) => break c,
                Err(e) => e,
            };
            tracing::warn!(stream = name, reason = %err.reason, "stream connection failed");
            if !reported_down {
                if sink.send(session.down(err.reason.clone())).await.is_err() {
                    return;
                }
                reported_down = true;
            }
            let mut delay = backoff.next_delay();
            if let Some(wait) = err.resume_after {
                delay = delay.max(wait);
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = sleep(delay) => {}
            }
        };
        tracing::info!(stream = name, "stream up");
        if sink.send(session.up()).await.is_err() {
            return;
        }
        generation += 1;
        let mut current = Pump::spawn(
            Arc::clone(&session),
            ws,
            conn,
            sink.clone(),
            cancel.child_token(),
            rotate_tx.clone(),
            generation,
        );
        let mut rotate_at = Instant::now() + cfg.rotate_after;

        let end = loop {
            tokio::select! {
                _ = cancel.cancelled() => {
                    current.stop.cancel();
                    let _ = (&mut current.handle).await;
                    return;
                }
                end = &mut current.handle => break end,
                _ = sleep_until(rotate_at) => {}
                Some(asked_by) = rotate_rx.recv() => {
                    if asked_by != current.generation {
                        continue;
                    }
                }
            }
            // Rotation: the old connection keeps delivering while the new one opens.
            tracing::info!(stream = name, "rotating the connection");
            match open_bounded(&*session, &sink).await {
                Ok((ws, conn)) => {
                    generation += 1;
                    let fresh = Pump::spawn(
                        Arc::clone(&session),
                        ws,
                        conn,
                        sink.clone(),
                        cancel.child_token(),
                        rotate_tx.clone(),
                        generation,
                    );
                    let old = std::mem::replace(&mut current, fresh);
                    old.stop.cancel();
                    rotate_at = Instant::now() + cfg.rotate_after;
                    if sink.send(session.up()).await.is_err() {
                        current.stop.cancel();
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(stream = name, reason = %e.reason, "rotation failed; keeping the current connection");
                    rotate_at = Instant::now() + backoff.next_delay();
                }
            }
        };

        let reason = match end {
            Ok(End::Lost(reason)) => reason,
            Ok(End::Stopped) | Ok(End::SinkClosed) => return,
            Err(e) => format!("stream task failed: {e}"),
        };
        tracing::warn!(stream = name, %reason, "stream down");
        if current.opened_at.elapsed() >= cfg.stable_after {
            backoff.reset();
        }
        if sink.send(session.down(reason)).await.is_err() {
            return;
        }
        reported_down = true;
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = sleep(backoff.next_delay()) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(8));
        let bases: Vec<u64> = (0..6).map(|_| b.next_base().as_secs()).collect();
        assert_eq!(bases, [1, 2, 4, 8, 8, 8]);
        b.reset();
        for want in [1000u64, 2000, 4000, 8000, 8000] {
            let d = b.next_delay().as_millis() as u64;
            assert!((want..=want + want / 4).contains(&d), "{d} for {want}");
        }
    }
}
