//! A fake Binance spot exchange for tests: REST, the WebSocket API user data stream and the
//! market streams, on `127.0.0.1:0`.
//!
//! It verifies signatures the way Binance does (REST: HMAC over the query string as received,
//! minus `signature`, plus the body; WebSocket API: sorted, unencoded parameters), enforces
//! `recvWindow` against its own (skewable) clock, meters request weight and order counts in
//! fixed windows with the usual headers, matches orders simply (see [`state`]), and injects
//! scripted faults per request. The verification code is written independently of the
//! adapter's signer, so a signing bug cannot hide behind a shared implementation.

#![allow(dead_code, unused_imports)]

pub mod rest;
pub mod state;
pub mod ws;

pub use state::{Endpoint, FakeOrder, Fault, RateLimitSpec, State};

use axum::Router;
use axum::routing::get;
use rust_decimal::Decimal;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::broadcast;

pub const API_KEY: &str = "fake-api-key-0123456789";
pub const SECRET: &str = "fake-secret-abcdefghijklmnopqrstuvwxyz";

/// Instructions to the WebSocket connections.
#[derive(Clone, Debug)]
pub enum Push {
    /// A user data event (wrapped with the connection's subscription id when sent).
    Event(serde_json::Value),
    Ping(Vec<u8>),
    /// Close the TCP connection without a closing handshake.
    Drop,
    /// Stop sending anything (pings included) on current connections.
    Silence,
    ServerShutdown,
    /// `eventStreamTerminated` for the current subscriptions.
    Terminate,
    /// A kline stream frame: (stream name, data).
    Kline(String, serde_json::Value),
}

/// A daily kline stream payload for `symbol` (`closed`: the candle is final), as Binance sends
/// it inside a combined-stream frame.
pub fn kline(symbol: &str, open_time: i64, close: &str, closed: bool) -> serde_json::Value {
    serde_json::json!({
        "e": "kline", "E": open_time + 1000, "s": symbol,
        "k": {"t": open_time, "T": open_time + 86_399_999, "s": symbol, "i": "1d", "f": 1, "L": 2,
              "o": "100.0", "c": close, "h": "110.0", "l": "90.0", "v": "1234.5", "n": 2, "x": closed,
              "q": "1.0", "V": "1.0", "Q": "1.0", "B": "0"}
    })
}

/// An error answer to `userDataStream.subscribe.signature`.
#[derive(Clone, Debug)]
pub struct SubscribeRejection {
    pub status: u16,
    pub code: i64,
    pub msg: String,
    /// `error.data.retryAfter`, epoch ms.
    pub retry_after_ms: Option<i64>,
}

/// What the WebSocket side observed.
#[derive(Debug, Default)]
pub struct WsLog {
    pub connections: u32,
    pub subscribes: u32,
    pub bad_subscribes: u32,
    pub pongs: Vec<Vec<u8>>,
    pub open_user_connections: i32,
    pub market_connections: u32,
    pub market_streams: Vec<String>,
}

pub struct Shared {
    pub state: Mutex<State>,
    pub push: broadcast::Sender<Push>,
    pub ws: Mutex<WsLog>,
    /// Ping interval for WebSocket connections (Binance: 20 s).
    pub ping_every: Mutex<Duration>,
    /// Refuse WebSocket API subscriptions with this answer.
    pub reject_subscribe: Mutex<Option<SubscribeRejection>>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends the events the state produced to the WebSocket connections.
    pub fn flush_events(&self) {
        let events = std::mem::take(&mut self.lock().outbox);
        for e in events {
            let _ = self.push.send(Push::Event(e));
        }
    }
}

/// A running fake. Dropping it leaves the server task to end with the test's runtime.
#[derive(Clone)]
pub struct FakeBinance {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
}

impl FakeBinance {
    pub async fn start() -> FakeBinance {
        let (push, _) = broadcast::channel(1024);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(API_KEY, SECRET)),
            push,
            ws: Mutex::new(WsLog::default()),
            ping_every: Mutex::new(Duration::from_secs(20)),
            reject_subscribe: Mutex::new(None),
        });
        let app = Router::new()
            .route("/ws-api/v3", get(ws::ws_api))
            .route("/stream", get(ws::market))
            .fallback(rest::handle)
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeBinance { addr, shared }
    }

    pub fn rest_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn ws_api_url(&self) -> String {
        format!("ws://{}/ws-api/v3", self.addr)
    }

    pub fn stream_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    pub fn ws_log(&self) -> MutexGuard<'_, WsLog> {
        self.shared.ws.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn fault(&self, endpoint: Endpoint, fault: Fault) {
        self.state().faults.push_back((endpoint, fault));
    }

    pub fn set_price(&self, symbol: &str, price: Decimal) {
        self.state().set_price(symbol, price);
        self.shared.flush_events();
    }

    pub fn set_liquidity(&self, symbol: &str, qty: Option<Decimal>) {
        let mut s = self.state();
        match qty {
            Some(q) => s.liquidity.insert(symbol.to_string(), q),
            None => s.liquidity.remove(symbol),
        };
    }

    pub fn set_skew_ms(&self, skew: i64) {
        self.state().skew_ms = skew;
    }

    pub fn set_ping_every(&self, every: Duration) {
        *self.shared.ping_every.lock().unwrap_or_else(|p| p.into_inner()) = every;
    }

    pub fn push(&self, p: Push) {
        let _ = self.shared.push.send(p);
    }

    /// Orders with this client id, in creation order.
    pub fn orders_with_id(&self, client_id: &str) -> Vec<FakeOrder> {
        self.state().orders.iter().filter(|o| o.client_id == client_id).cloned().collect()
    }

    /// Requests received for `method path`.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.state().requests.iter().filter(|r| r.method == method && r.path == path).count()
    }

    pub fn total_requests(&self) -> usize {
        self.state().requests.len()
    }

    /// The last request to `path`, decoded.
    pub fn last_params(&self, path: &str) -> Option<std::collections::HashMap<String, String>> {
        self.state().requests.iter().rev().find(|r| r.path == path).map(|r| r.params.clone())
    }

    /// The real signer must never produce a bad signature or be refused for its timestamp
    /// (skew tests reset the counter themselves).
    pub fn assert_no_signature_errors(&self) {
        let s = self.state();
        assert_eq!(s.bad_signatures, 0, "the fake saw invalid signatures");
        assert_eq!(self.ws_log().bad_subscribes, 0, "the fake saw invalid WebSocket signatures");
    }

    /// Waits (briefly, polling) until `cond` holds.
    pub async fn wait_for(&self, what: &str, mut cond: impl FnMut(&FakeBinance) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !cond(self) {
            assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
