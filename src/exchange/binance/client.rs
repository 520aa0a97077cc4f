//! [`BinanceExchange`]: the [`Exchange`] trait over Binance spot REST and the WebSocket API.

use super::clock::ServerClock;
use super::config::BinanceConfig;
use super::errors::Op;
use super::filters::{ExchangeInfo, decode_exchange_info};
use super::limits::{Cost, RateGuard, RateUsage};
use super::market_stream::{MarketEvent, MarketStream, stream_url};
use super::request;
use super::rest::{Request, RestClient};
use super::sign::Signer;
use super::symbols::SymbolMap;
use super::user_stream::UserStream;
use super::wire::{
    AccountInfo, ApiRestrictions, ReplaceAnswer, decode_account, decode_api_restrictions, decode_klines,
    decode_my_trades, decode_order, decode_orders, decode_replace,
};
use super::ws::supervise;
use crate::domain::{Balance, Candle, ClientOrderId, Order, OrderReport, OrderRole, Symbol, SymbolFilters, Trade};
use crate::exchange::{Exchange, ExchangeError, ExchangeEvent};
use reqwest::Method;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// What [`BinanceExchange::cancel_replace`] did (the exchange seam's type).
pub use crate::exchange::ReplaceOutcome;

/// Binance's largest page for klines and trades.
const MAX_PAGE: usize = 1000;

/// The Binance spot adapter. Cheap to clone (shared state behind an `Arc`).
#[derive(Clone, Debug)]
pub struct BinanceExchange {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: BinanceConfig,
    rest: Arc<RestClient>,
    clock: Arc<ServerClock>,
    guard: Arc<RateGuard>,
    symbols: Arc<SymbolMap>,
    shutdown: CancellationToken,
}

impl BinanceExchange {
    /// Builds the adapter. No request is sent; call [`BinanceExchange::prepare`] (or
    /// `sync_time` and `filters`) before trading.
    pub fn new(config: BinanceConfig) -> Result<Self, ExchangeError> {
        let clock = Arc::new(ServerClock::new(Arc::clone(&config.clock)));
        let guard = Arc::new(RateGuard::new(config.budget_pct, config.max_budget_wait));
        let rest = Arc::new(RestClient::new(&config, Arc::clone(&clock), Arc::clone(&guard))?);
        Ok(BinanceExchange {
            inner: Arc::new(Inner {
                config,
                rest,
                clock,
                guard,
                symbols: Arc::new(SymbolMap::new()),
                shutdown: CancellationToken::new(),
            }),
        })
    }

    pub fn config(&self) -> &BinanceConfig {
        &self.inner.config
    }

    /// Start-up: measures the clock offset, then reads `exchangeInfo` for `symbols` (their
    /// filters, and the rate limits the budgets are sized from).
    pub async fn prepare(&self, symbols: &[Symbol]) -> Result<Vec<(Symbol, SymbolFilters)>, ExchangeError> {
        self.sync_time().await?;
        self.filters(symbols).await
    }

    /// Measures `server − local` time (ms); also done automatically after a `-1021`.
    pub async fn sync_time(&self) -> Result<i64, ExchangeError> {
        self.inner.rest.sync_time().await
    }

    /// The last measured clock offset (ms, positive when Binance is ahead). For `bert doctor`.
    pub fn clock_offset_ms(&self) -> i64 {
        self.inner.clock.offset_ms()
    }

    /// Rate-limit usage and halts, for `/status`.
    pub fn rate_usage(&self) -> RateUsage {
        self.inner.guard.usage()
    }

    /// Stops every stream task this adapter started.
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
    }

    fn learn(&self, symbol: Symbol) {
        self.inner.symbols.learn(symbol);
    }

    async fn send(&self, req: Request) -> Result<Vec<u8>, ExchangeError> {
        self.inner.rest.send(&req).await
    }

    /// `exchangeInfo` for `symbols` (weight 20): filters, status and rate limits. Installs the
    /// rate limits. Fails with `Rejected { code: -1121 }` if any symbol is unknown.
    pub async fn exchange_info(&self, symbols: &[Symbol]) -> Result<ExchangeInfo, ExchangeError> {
        let body = self.send(Request::public("/api/v3/exchangeInfo", request::exchange_info(symbols), 20)).await?;
        let info = decode_exchange_info(&body)?;
        self.inner.guard.install(&info.rate_limits);
        for s in &info.symbols {
            self.learn(s.symbol);
        }
        Ok(info)
    }

    /// `GET /api/v3/account` (weight 20): `canTrade` and the non-zero balances.
    pub async fn account(&self) -> Result<AccountInfo, ExchangeError> {
        let mut q = super::sign::QueryBuilder::default();
        q.push("omitZeroBalances", "true");
        let body = self.send(Request::get("/api/v3/account", q, Op::Read, Cost::read(20))).await?;
        Ok(decode_account(&body)?)
    }

    /// The API key's permissions (`GET /sapi/v1/account/apiRestrictions`). The caller refuses
    /// to run `live` with a key that can withdraw. Not available on the Spot Testnet (no
    /// `/sapi` there): this returns an error in that mode.
    pub async fn api_restrictions(&self) -> Result<ApiRestrictions, ExchangeError> {
        if !self.inner.config.mode.has_sapi() {
            return Err(ExchangeError::Unavailable {
                reason: format!("{} has no /sapi endpoints", self.inner.config.mode),
            });
        }
        let body = self
            .send(Request::get("/sapi/v1/account/apiRestrictions", Default::default(), Op::Read, Cost::read(1)))
            .await?;
        Ok(decode_api_restrictions(&body)?)
    }

    /// Closed candles of `symbol` at `interval`, the last `limit` of them, oldest first, paging
    /// back through history when more than one page is needed (weight 2 per page).
    pub async fn candles(&self, symbol: Symbol, interval: &str, limit: usize) -> Result<Vec<Candle>, ExchangeError> {
        self.learn(symbol);
        let mut out: Vec<Candle> = Vec::with_capacity(limit);
        let mut end_time = None;
        while out.len() < limit {
            // One extra on the first page: the newest kline is usually still open and dropped.
            let want = (limit - out.len() + usize::from(end_time.is_none())).min(MAX_PAGE);
            let req = Request::public("/api/v3/klines", request::klines(symbol, interval, want, end_time), 2);
            let body = self.send(req).await?;
            let page = decode_klines(&body, self.inner.clock.now())?;
            let Some(first) = page.first() else { break };
            end_time = Some(first.open_time.millis() - 1);
            let short = page.len() + 1 < want;
            out.splice(0..0, page);
            if short {
                break;
            }
        }
        out.dedup_by_key(|c| c.open_time);
        let excess = out.len().saturating_sub(limit);
        out.drain(..excess);
        Ok(out)
    }

    /// Daily candles for each symbol in turn (the strategy's warm-up, e.g. 200 days). Requests
    /// go one at a time through the rate budget, so a long symbol list is paced, not bursted.
    pub async fn warm_up(&self, symbols: &[Symbol], days: usize) -> Result<Vec<(Symbol, Vec<Candle>)>, ExchangeError> {
        let mut out = Vec::with_capacity(symbols.len());
        for &symbol in symbols {
            out.push((symbol, self.daily_candles(symbol, days).await?));
        }
        Ok(out)
    }

    /// Starts the combined kline stream for `symbols` at `interval` (`1d`), delivering into
    /// `sink` until [`BinanceExchange::shutdown`] or until `sink` closes.
    pub fn start_market_stream(
        &self,
        symbols: &[Symbol],
        interval: &str,
        sink: mpsc::Sender<MarketEvent>,
    ) -> JoinHandle<()> {
        for &s in symbols {
            self.learn(s);
        }
        let session = MarketStream {
            url: stream_url(&self.inner.config.urls.stream, symbols, interval),
            interval: interval.to_string(),
            guard: Arc::clone(&self.inner.guard),
            clock: Arc::clone(&self.inner.clock),
            symbols: Arc::clone(&self.inner.symbols),
            config: self.inner.config.market_stream.clone(),
        };
        tokio::spawn(supervise(Arc::new(session), sink, self.inner.shutdown.child_token()))
    }

    fn user_stream(&self) -> UserStream {
        let c = &self.inner.config;
        UserStream {
            url: c.urls.ws_api.clone(),
            api_key: c.api_key.clone(),
            signer: Signer::new(&c.api_secret),
            rest: Arc::clone(&self.inner.rest),
            clock: Arc::clone(&self.inner.clock),
            guard: Arc::clone(&self.inner.guard),
            symbols: Arc::clone(&self.inner.symbols),
            config: c.user_stream.clone(),
            next_id: AtomicU64::new(1),
        }
    }

    /// Moves a resting order (the protective stop) in one request: cancels `old` and places
    /// `new` (`POST /api/v3/order/cancelReplace`, `STOP_ON_FAILURE`).
    ///
    /// * `Ok(Replaced)`: done.
    /// * `Ok(CanceledOnly)`: the old order is **cancelled** and the new one refused: place a
    ///   protective order at once (or tell the user the position is unprotected).
    /// * `Err(NotFound)`: the old order is gone (filled or cancelled); nothing was placed.
    /// * `Err(Rejected)`: nothing happened (the old order still stands).
    /// * `Err(Unknown)`: either may have happened; query both client ids.
    pub async fn cancel_replace(&self, old: &ClientOrderId, new: &Order) -> Result<ReplaceOutcome, ExchangeError> {
        self.learn(new.symbol);
        let req = Request {
            method: Method::POST,
            path: "/api/v3/order/cancelReplace",
            query: request::cancel_replace(old, new)?,
            signed: true,
            op: Op::Place,
            cost: Cost { weight: 1, order: true, protective: true },
        };
        let answer = self.inner.rest.send_answer(&req).await?;
        let decoded = match decode_replace(answer.status, &answer.body, &*self.inner.symbols) {
            Ok(d) => d,
            // A 4xx that is not Binance JSON: nothing was executed.
            Err(_) if answer.status < 300 => {
                return Err(ExchangeError::Decode { reason: "cancel-replace answer".into() });
            }
            Err(_) => return Err(super::errors::map_http(Op::Place, answer.status, &answer.body, None, 0)),
        };
        match decoded {
            ReplaceAnswer::Replaced { mut canceled, placed } => {
                canceled.client_id = old.clone();
                Ok(ReplaceOutcome::Replaced { canceled, placed })
            }
            ReplaceAnswer::CanceledOnly { canceled, code, reason } => Ok(ReplaceOutcome::CanceledOnly {
                canceled: canceled.map(|mut c| {
                    c.client_id = old.clone();
                    c
                }),
                code,
                reason,
            }),
            ReplaceAnswer::CancelFailed { code: -2011, reason } if reason.contains("Unknown order") => {
                Err(ExchangeError::NotFound)
            }
            ReplaceAnswer::CancelFailed { code, reason } => Err(ExchangeError::Rejected { code, reason }),
            ReplaceAnswer::Refused { code, reason } => Err(super::errors::map_code(Op::Place, code, reason)),
        }
    }

    /// Filters one symbol at a time, leaving out those Binance does not know (`-1121`).
    async fn filters_one_by_one(&self, symbols: &[Symbol]) -> Result<Vec<(Symbol, SymbolFilters)>, ExchangeError> {
        let mut out = Vec::new();
        for &s in symbols {
            match self.exchange_info(&[s]).await {
                Ok(info) => {
                    out.extend(info.symbols.into_iter().filter(|i| i.symbol == s).map(|i| (i.symbol, i.filters)))
                }
                Err(ExchangeError::Rejected { code: -1121, .. }) => {
                    tracing::warn!(symbol = %s, "Binance does not know this symbol")
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

fn is_protective(order: &Order) -> bool {
    !matches!(order.role, OrderRole::Entry)
}

impl Exchange for BinanceExchange {
    async fn replace_stop(&self, old: &ClientOrderId, new: &Order) -> Result<ReplaceOutcome, ExchangeError> {
        self.cancel_replace(old, new).await
    }

    async fn place(&self, order: &Order) -> Result<OrderReport, ExchangeError> {
        self.learn(order.symbol);
        let query = request::new_order(order)?;
        let cost = Cost { weight: 1, order: true, protective: is_protective(order) };
        let req = Request { method: Method::POST, path: "/api/v3/order", query, signed: true, op: Op::Place, cost };
        let body = self.send(req).await?;
        let report = decode_order(&body, &*self.inner.symbols)?.report;
        if report.client_id != order.client_id {
            // Cannot happen with Binance; if it did, the safe reading is "unknown": query by id.
            return Err(ExchangeError::Decode {
                reason: format!("answer names order {} instead of {}", report.client_id, order.client_id),
            });
        }
        Ok(report)
    }

    async fn cancel(&self, symbol: Symbol, client_id: &ClientOrderId) -> Result<OrderReport, ExchangeError> {
        self.learn(symbol);
        let req = Request {
            method: Method::DELETE,
            path: "/api/v3/order",
            query: request::by_client_id(symbol, client_id),
            signed: true,
            op: Op::Cancel,
            cost: Cost { weight: 1, order: false, protective: true },
        };
        let body = self.send(req).await?;
        let mut report = decode_order(&body, &*self.inner.symbols)?.report;
        report.client_id = client_id.clone();
        Ok(report)
    }

    async fn query(&self, symbol: Symbol, client_id: &ClientOrderId) -> Result<OrderReport, ExchangeError> {
        self.learn(symbol);
        let req = Request::get("/api/v3/order", request::by_client_id(symbol, client_id), Op::Query, Cost::read(4));
        let body = self.send(req).await?;
        let mut report = decode_order(&body, &*self.inner.symbols)?.report;
        // Asked by our id: the answer is about that order even if Binance shows a cancel's id.
        report.client_id = client_id.clone();
        Ok(report)
    }

    async fn open_orders(&self, symbol: Option<Symbol>) -> Result<Vec<OrderReport>, ExchangeError> {
        if let Some(s) = symbol {
            self.learn(s);
        }
        let weight = if symbol.is_some() { 6 } else { 80 };
        let req = Request::get("/api/v3/openOrders", request::open_orders(symbol), Op::Read, Cost::read(weight));
        let body = self.send(req).await?;
        Ok(decode_orders(&body, &*self.inner.symbols)?)
    }

    async fn trades(&self, symbol: Symbol, order_id: u64) -> Result<Vec<Trade>, ExchangeError> {
        self.learn(symbol);
        let mut out: Vec<Trade> = Vec::new();
        let mut from_id = None;
        loop {
            let q = request::my_trades(symbol, order_id, from_id, MAX_PAGE as u32);
            let body = self.send(Request::get("/api/v3/myTrades", q, Op::Read, Cost::read(5))).await?;
            let page = decode_my_trades(&body, &*self.inner.symbols)?;
            let full = page.len() >= MAX_PAGE;
            from_id = page.iter().map(|t| t.fill.trade_id).max().map(|m| m + 1);
            out.extend(page);
            if !full || from_id.is_none() {
                break;
            }
        }
        out.sort_by_key(|t| t.fill.trade_id);
        out.dedup_by_key(|t| t.fill.trade_id);
        Ok(out)
    }

    async fn balances(&self) -> Result<Vec<Balance>, ExchangeError> {
        Ok(self.account().await?.balances)
    }

    async fn filters(&self, symbols: &[Symbol]) -> Result<Vec<(Symbol, SymbolFilters)>, ExchangeError> {
        if symbols.is_empty() {
            return Ok(Vec::new());
        }
        match self.exchange_info(symbols).await {
            Ok(info) => Ok(info
                .symbols
                .into_iter()
                .filter(|i| symbols.contains(&i.symbol))
                .map(|i| (i.symbol, i.filters))
                .collect()),
            // One unknown symbol fails the whole batch; ask one by one to leave it out.
            Err(ExchangeError::Rejected { code: -1121, .. }) if symbols.len() > 1 => {
                self.filters_one_by_one(symbols).await
            }
            Err(ExchangeError::Rejected { code: -1121, .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    async fn daily_candles(&self, symbol: Symbol, limit: usize) -> Result<Vec<Candle>, ExchangeError> {
        self.candles(symbol, "1d", limit).await
    }

    async fn start_user_stream(&self, sink: mpsc::Sender<ExchangeEvent>) -> Result<(), ExchangeError> {
        if !self.inner.config.has_credentials() {
            return Err(ExchangeError::Unavailable { reason: "no Binance API credentials configured".into() });
        }
        tokio::spawn(supervise(Arc::new(self.user_stream()), sink, self.inner.shutdown.child_token()));
        Ok(())
    }
}
