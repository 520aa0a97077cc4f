//! The signed REST client: one place that builds, signs, meters, sends and classifies.
//!
//! Every request goes through [`RestClient::send`]:
//! 1. the rate guard (hard halt, local budget, server usage);
//! 2. `recvWindow` and `timestamp` (server time via the measured offset) are appended, the
//!    exact query string is signed, and the same string is sent;
//! 3. usage headers are recorded from every answer, whatever its status;
//! 4. failures are classified ([`super::errors`]); a 429/418 halts every request; a `-1021`
//!    re-measures the clock and retries once (the timestamp check happens before the matching
//!    engine, so the first attempt certainly did not execute).
//!
//! Nothing here logs or returns a URL's query: it holds the signature and the order.

use super::clock::ServerClock;
use super::config::BinanceConfig;
use super::errors::{Op, map_http, map_transport, parse_api_error};
use super::limits::{Cost, RateGuard};
use super::sign::{QueryBuilder, Secret, Signer};
use super::wire::decode_server_time;
use crate::exchange::ExchangeError;
use reqwest::header::{HeaderValue, RETRY_AFTER};
use reqwest::{Client, Method};
use std::sync::Arc;

/// One REST call.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: Method,
    pub path: &'static str,
    /// Endpoint parameters, without `recvWindow`, `timestamp` and `signature`.
    pub query: QueryBuilder,
    pub signed: bool,
    pub op: Op,
    pub cost: Cost,
}

impl Request {
    pub fn get(path: &'static str, query: QueryBuilder, op: Op, cost: Cost) -> Request {
        Request { method: Method::GET, path, query, signed: true, op, cost }
    }

    pub fn public(path: &'static str, query: QueryBuilder, weight: u32) -> Request {
        Request { method: Method::GET, path, query, signed: false, op: Op::Read, cost: Cost::read(weight) }
    }
}

/// An HTTP answer: status and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A failed attempt, with Binance's code when there was one (for the `-1021` retry) and the
/// answer itself when Binance did answer (for endpoints whose error bodies carry data).
struct Failure {
    error: ExchangeError,
    code: Option<i64>,
    answer: Option<Answer>,
}

impl From<ExchangeError> for Failure {
    fn from(error: ExchangeError) -> Self {
        Failure { error, code: None, answer: None }
    }
}

#[derive(Debug)]
pub struct RestClient {
    http: Client,
    base: String,
    api_key: Secret,
    signer: Signer,
    recv_window: String,
    pub clock: Arc<ServerClock>,
    pub guard: Arc<RateGuard>,
}

impl RestClient {
    pub fn new(cfg: &BinanceConfig, clock: Arc<ServerClock>, guard: Arc<RateGuard>) -> Result<Self, ExchangeError> {
        let http = Client::builder()
            .timeout(cfg.request_timeout)
            .connect_timeout(cfg.connect_timeout)
            // Idle keep-alive connections are dropped well before a server would close them,
            // so an order is rarely written onto a connection the server is closing (which
            // would turn a clean "not sent" into an unknown outcome).
            .pool_idle_timeout(std::time::Duration::from_secs(30))
            .user_agent(concat!("bert/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ExchangeError::Unavailable { reason: format!("HTTP client: {}", e.without_url()) })?;
        Ok(RestClient {
            http,
            base: cfg.urls.rest.trim_end_matches('/').to_string(),
            api_key: cfg.api_key.clone(),
            signer: Signer::new(&cfg.api_secret),
            recv_window: cfg.recv_window_ms.clamp(1, 60_000).to_string(),
            clock,
            guard,
        })
    }

    /// Sends `req` and returns the body of a 2xx answer.
    pub async fn send(&self, req: &Request) -> Result<Vec<u8>, ExchangeError> {
        self.attempt(req).await.map(|a| a.body).map_err(|f| f.error)
    }

    /// Like [`RestClient::send`], but a 4xx answer (other than 429/418) is returned as it came,
    /// for endpoints whose error bodies carry what happened (`cancelReplace`). 5xx, transport
    /// failures and rate limits are errors as usual.
    pub async fn send_answer(&self, req: &Request) -> Result<Answer, ExchangeError> {
        match self.attempt(req).await {
            Ok(answer) => Ok(answer),
            Err(Failure { answer: Some(answer), .. }) if (400..500).contains(&answer.status) => Ok(answer),
            Err(f) => Err(f.error),
        }
    }

    /// One attempt, and a second after re-syncing the clock when Binance answered `-1021`.
    async fn attempt(&self, req: &Request) -> Result<Answer, Failure> {
        match self.send_once(req).await {
            Err(Failure { code: Some(-1021), error, .. }) if req.signed => {
                tracing::warn!(
                    path = req.path,
                    offset_ms = self.clock.offset_ms(),
                    "Binance says our timestamp is off; re-syncing the clock"
                );
                if let Err(e) = self.sync_time().await {
                    tracing::warn!(error = %e, "clock re-sync failed");
                    return Err(Failure { error, code: Some(-1021), answer: None });
                }
                self.send_once(req).await
            }
            other => other,
        }
    }

    /// Measures the offset to Binance's clock (`GET /api/v3/time`, weight 1).
    pub async fn sync_time(&self) -> Result<i64, ExchangeError> {
        let sent = self.clock.local_now();
        let body = self
            .send_once(&Request::public("/api/v3/time", QueryBuilder::default(), 1))
            .await
            .map_err(|f| f.error)?
            .body;
        let received = self.clock.local_now();
        let server = decode_server_time(&body)?;
        let offset = self.clock.observe(server, sent, received);
        tracing::info!(offset_ms = offset, "Binance clock offset measured");
        Ok(offset)
    }

    async fn send_once(&self, req: &Request) -> Result<Answer, Failure> {
        let now = self.clock.local_now().millis();
        self.guard.acquire(req.cost, now).await?;

        let mut url = String::with_capacity(self.base.len() + req.path.len() + req.query.as_str().len() + 128);
        url.push_str(&self.base);
        url.push_str(req.path);
        let mut query = req.query.clone();
        if req.signed {
            query.push("recvWindow", &self.recv_window).push("timestamp", &self.clock.now().millis().to_string());
            let signature = self.signer.sign_rest(query.as_str(), "");
            query.push("signature", &signature);
        }
        if !query.as_str().is_empty() {
            url.push('?');
            url.push_str(query.as_str());
        }

        let mut builder = self.http.request(req.method.clone(), &url);
        if req.signed {
            if self.api_key.is_empty() {
                return Err(
                    ExchangeError::Unavailable { reason: "no Binance API credentials configured".into() }.into()
                );
            }
            let mut key = HeaderValue::from_str(self.api_key.expose()).map_err(|_| ExchangeError::Rejected {
                code: 0,
                reason: "the API key has characters a header cannot carry".into(),
            })?;
            key.set_sensitive(true);
            builder = builder.header("X-MBX-APIKEY", key);
        }
        let started = std::time::Instant::now();
        let response = builder.send().await.map_err(|e| map_transport(req.op, e))?;
        let status = response.status().as_u16();
        let received = self.clock.local_now().millis();
        let headers = response.headers();
        self.guard.observe(
            headers.iter().filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?))),
            received,
            self.clock.now().millis(),
        );
        let retry_after =
            headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
        let body = response.bytes().await.map_err(|e| map_transport(req.op, e))?;
        tracing::debug!(method = %req.method, path = req.path, status, ms = started.elapsed().as_millis() as u64, "Binance REST");

        if (200..300).contains(&status) {
            return Ok(Answer { status, body: body.to_vec() });
        }
        let code = parse_api_error(&body).map(|a| a.code);
        let error = map_http(req.op, status, &body, retry_after, received);
        if let ExchangeError::RateLimited { retry_after_ms, banned } = error {
            self.guard.halt(retry_after_ms, banned);
        }
        tracing::debug!(path = req.path, status, ?code, error = %error, "Binance REST error");
        let rate_limited = matches!(error, ExchangeError::RateLimited { .. });
        let answer = (!rate_limited).then(|| Answer { status, body: body.to_vec() });
        Err(Failure { error, code, answer })
    }
}
