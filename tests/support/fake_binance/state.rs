//! The fake exchange's books: symbols, prices, balances, orders, trades, and the matching
//! rules tests rely on. Every state change that Binance would report on the user data stream
//! produces the same `executionReport` / `outboundAccountPosition` events.

use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::str::FromStr;

pub const DAY_MS: i64 = 86_400_000;

/// One tradable pair and its filters.
#[derive(Clone, Debug)]
pub struct SymbolSpec {
    pub symbol: String,
    pub base: String,
    pub quote: String,
    pub tick: Decimal,
    pub step: Decimal,
    pub min_qty: Decimal,
    pub min_notional: Decimal,
}

impl SymbolSpec {
    pub fn new(base: &str, quote: &str, tick: &str, step: &str, min_notional: &str) -> Self {
        let d = |s: &str| Decimal::from_str(s).unwrap_or_default();
        SymbolSpec {
            symbol: format!("{base}{quote}"),
            base: base.into(),
            quote: quote.into(),
            tick: d(tick),
            step: d(step),
            min_qty: d(step),
            min_notional: d(min_notional),
        }
    }
}

/// A Binance error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiErr {
    pub status: u16,
    pub code: i64,
    pub msg: String,
    /// Extra detail some endpoints attach (`cancelReplace`).
    pub data: Option<Value>,
}

impl ApiErr {
    pub fn new(status: u16, code: i64, msg: &str) -> Self {
        ApiErr { status, code, msg: msg.into(), data: None }
    }
}

/// A new order's parameters, checked.
struct NewOrder {
    symbol: String,
    spec: SymbolSpec,
    side: String,
    kind: String,
    qty: Decimal,
    price: Option<Decimal>,
    stop: Option<Decimal>,
    tif: String,
    market: Decimal,
    ref_price: Decimal,
}

#[derive(Clone, Debug)]
pub struct FakeOrder {
    pub order_id: u64,
    pub client_id: String,
    pub symbol: String,
    pub side: String,
    pub kind: String,
    pub tif: String,
    pub qty: Decimal,
    pub price: Decimal,
    pub stop_price: Decimal,
    pub status: String,
    pub executed: Decimal,
    pub cum_quote: Decimal,
    pub triggered: bool,
    pub time: i64,
    pub update_time: i64,
    pub expiry_reason: Option<String>,
}

impl FakeOrder {
    pub fn is_open(&self) -> bool {
        self.status == "NEW" || self.status == "PARTIALLY_FILLED"
    }

    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "symbol": self.symbol, "orderId": self.order_id, "orderListId": -1, "clientOrderId": self.client_id,
            "price": self.price.to_string(), "origQty": self.qty.to_string(),
            "executedQty": self.executed.to_string(), "cummulativeQuoteQty": self.cum_quote.to_string(),
            "status": self.status, "timeInForce": self.tif, "type": self.kind, "side": self.side,
            "stopPrice": self.stop_price.to_string(), "icebergQty": "0.00000000",
            "time": self.time, "updateTime": self.update_time, "isWorking": !self.kind.starts_with("STOP") || self.triggered,
            "workingTime": self.time, "origQuoteOrderQty": "0.00000000", "selfTradePreventionMode": "NONE",
        });
        if let Some(r) = &self.expiry_reason {
            v["expiryReason"] = json!(r);
        }
        v
    }
}

#[derive(Clone, Debug)]
pub struct FakeTrade {
    pub id: u64,
    pub order_id: u64,
    pub symbol: String,
    pub price: Decimal,
    pub qty: Decimal,
    pub commission: Decimal,
    pub commission_asset: String,
    pub time: i64,
    pub is_buyer: bool,
}

impl FakeTrade {
    pub fn to_json(&self) -> Value {
        json!({
            "symbol": self.symbol, "id": self.id, "orderId": self.order_id, "orderListId": -1,
            "price": self.price.to_string(), "qty": self.qty.to_string(),
            "quoteQty": (self.price * self.qty).to_string(), "commission": self.commission.to_string(),
            "commissionAsset": self.commission_asset, "time": self.time, "isBuyer": self.is_buyer,
            "isMaker": false, "isBestMatch": true,
        })
    }
}

/// Which endpoint a scripted fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Place,
    Cancel,
    CancelReplace,
    Query,
    OpenOrders,
    MyTrades,
    Account,
    ExchangeInfo,
    Klines,
    Time,
    ApiRestrictions,
    Any,
}

/// A scripted fault, consumed by the first matching request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this error without processing the request.
    Reject { status: u16, code: i64, msg: String, retry_after: Option<u64> },
    /// Process the request, then answer with `status` and `body` instead of the result.
    AcceptThenFail { status: u16, body: String },
    /// Process the request, then never answer.
    AcceptThenHang,
    /// Never answer, and do not process.
    Hang,
    /// Process and answer normally (lets a later fault in the queue hit the next request).
    Pass,
}

/// A request as the fake received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub params: HashMap<String, String>,
    pub status: u16,
}

#[derive(Clone, Debug)]
pub struct RateLimitSpec {
    pub kind: &'static str,
    pub interval: &'static str,
    pub num: u32,
    pub limit: u32,
}

impl RateLimitSpec {
    pub fn window_ms(&self) -> i64 {
        let unit = match self.interval {
            "SECOND" => 1_000,
            "MINUTE" => 60_000,
            "HOUR" => 3_600_000,
            _ => DAY_MS,
        };
        unit * i64::from(self.num)
    }

    pub fn header(&self) -> String {
        let letter = &self.interval[..1];
        format!("{}{}", self.num, letter)
    }
}

pub struct State {
    pub api_key: String,
    pub secret: String,
    pub skew_ms: i64,
    pub symbols: Vec<SymbolSpec>,
    pub prices: HashMap<String, Decimal>,
    /// Most quantity one order can fill (per symbol); absent = unlimited.
    pub liquidity: HashMap<String, Decimal>,
    pub balances: BTreeMap<String, (Decimal, Decimal)>,
    pub orders: Vec<FakeOrder>,
    pub trades: Vec<FakeTrade>,
    pub fee_rate: Decimal,
    pub can_trade: bool,
    pub enable_withdrawals: bool,
    next_order_id: u64,
    next_trade_id: u64,
    next_exec_id: u64,
    pub faults: VecDeque<(Endpoint, Fault)>,
    /// Answer `-2013` to this many queries that would otherwise find the order.
    pub hide_orders_for_queries: u32,
    pub requests: Vec<Recorded>,
    pub rate_limits: Vec<RateLimitSpec>,
    /// (window start, used) per rate limit index.
    pub usage: Vec<(i64, u32)>,
    /// Answer 429 when a limit is exceeded.
    pub enforce_limits: bool,
    pub bad_signatures: u32,
    pub skewed_requests: u32,
    pub rate_limited_answers: u32,
    /// Events produced, in order (already manipulated by the modes below); the WebSocket side
    /// drains this through a broadcast channel.
    pub outbox: Vec<Value>,
    duplicate_next: u32,
    reverse_next: u32,
    drop_next: u32,
    reverse_buffer: Vec<Value>,
    pub kline_days: i64,
}

impl State {
    pub fn new(api_key: &str, secret: &str) -> Self {
        let symbols = vec![
            SymbolSpec::new("BTC", "USDT", "0.01", "0.00001", "5"),
            SymbolSpec::new("ETH", "USDT", "0.01", "0.0001", "5"),
            SymbolSpec::new("SOL", "USDT", "0.01", "0.001", "5"),
        ];
        let d = |s: &str| Decimal::from_str(s).unwrap_or_default();
        let prices = HashMap::from([
            ("BTCUSDT".to_string(), d("50000")),
            ("ETHUSDT".to_string(), d("3000")),
            ("SOLUSDT".to_string(), d("150")),
        ]);
        let balances = BTreeMap::from([
            ("USDT".to_string(), (d("100000"), d("0"))),
            ("BTC".to_string(), (d("1"), d("0"))),
            ("BNB".to_string(), (d("2"), d("0"))),
        ]);
        State {
            api_key: api_key.into(),
            secret: secret.into(),
            skew_ms: 0,
            symbols,
            prices,
            liquidity: HashMap::new(),
            balances,
            orders: Vec::new(),
            trades: Vec::new(),
            fee_rate: d("0.001"),
            can_trade: true,
            enable_withdrawals: false,
            next_order_id: 1000,
            next_trade_id: 5000,
            next_exec_id: 1,
            faults: VecDeque::new(),
            hide_orders_for_queries: 0,
            requests: Vec::new(),
            rate_limits: vec![
                RateLimitSpec { kind: "REQUEST_WEIGHT", interval: "MINUTE", num: 1, limit: 6000 },
                RateLimitSpec { kind: "ORDERS", interval: "SECOND", num: 10, limit: 50 },
                RateLimitSpec { kind: "ORDERS", interval: "DAY", num: 1, limit: 160000 },
                RateLimitSpec { kind: "RAW_REQUESTS", interval: "MINUTE", num: 5, limit: 300000 },
            ],
            usage: vec![(0, 0); 4],
            enforce_limits: true,
            bad_signatures: 0,
            skewed_requests: 0,
            rate_limited_answers: 0,
            outbox: Vec::new(),
            duplicate_next: 0,
            reverse_next: 0,
            drop_next: 0,
            reverse_buffer: Vec::new(),
            kline_days: 1500,
        }
    }

    pub fn now_ms(&self) -> i64 {
        bert::domain::Timestamp::now().millis() + self.skew_ms
    }

    pub fn spec(&self, symbol: &str) -> Option<SymbolSpec> {
        self.symbols.iter().find(|s| s.symbol == symbol).cloned()
    }

    pub fn take_fault(&mut self, endpoint: Endpoint) -> Option<Fault> {
        let pos = self.faults.iter().position(|(e, _)| *e == endpoint || *e == Endpoint::Any)?;
        self.faults.remove(pos).map(|(_, f)| f)
    }

    /// Adds `weight` (and an order if `order`) to the windows; returns the header values, or
    /// `Err(retry_after_secs)` when a limit is exceeded and enforced.
    pub fn meter(&mut self, weight: u32, order: bool) -> Result<Vec<(String, String)>, u64> {
        let now = self.now_ms();
        let mut headers = Vec::new();
        let mut exceeded = None;
        for (i, l) in self.rate_limits.clone().iter().enumerate() {
            let window = l.window_ms();
            let start = now - now.rem_euclid(window);
            let slot = &mut self.usage[i];
            if slot.0 != start {
                *slot = (start, 0);
            }
            let add = match l.kind {
                "REQUEST_WEIGHT" => weight,
                "RAW_REQUESTS" => 1,
                "ORDERS" if order => 1,
                _ => 0,
            };
            slot.1 += add;
            if slot.1 > l.limit && add > 0 {
                exceeded = Some(((start + window - now) / 1000).max(1) as u64);
            }
            match l.kind {
                "REQUEST_WEIGHT" => {
                    headers.push((format!("x-mbx-used-weight-{}", l.header().to_lowercase()), slot.1.to_string()))
                }
                "ORDERS" if order => {
                    headers.push((format!("x-mbx-order-count-{}", l.header().to_lowercase()), slot.1.to_string()))
                }
                _ => {}
            }
        }
        match exceeded {
            Some(secs) if self.enforce_limits => Err(secs),
            _ => Ok(headers),
        }
    }

    /// Highest request weight used in the current minute window.
    pub fn weight_used(&self) -> u32 {
        self.rate_limits
            .iter()
            .zip(&self.usage)
            .find(|(l, _)| l.kind == "REQUEST_WEIGHT")
            .map(|(_, u)| u.1)
            .unwrap_or(0)
    }

    // ---- events -------------------------------------------------------------------------

    pub fn duplicate_next_events(&mut self, n: u32) {
        self.duplicate_next = n;
    }

    pub fn reverse_next_events(&mut self, n: u32) {
        self.reverse_next = n;
    }

    /// The next `n` user data events are lost (never sent).
    pub fn drop_next_events(&mut self, n: u32) {
        self.drop_next = n;
    }

    fn emit(&mut self, event: Value) {
        if self.drop_next > 0 {
            self.drop_next -= 1;
            return;
        }
        if self.reverse_next > 0 {
            self.reverse_buffer.push(event);
            self.reverse_next -= 1;
            if self.reverse_next == 0 {
                let mut buf = std::mem::take(&mut self.reverse_buffer);
                buf.reverse();
                self.outbox.extend(buf);
            }
            return;
        }
        if self.duplicate_next > 0 {
            self.duplicate_next -= 1;
            self.outbox.push(event.clone());
        }
        self.outbox.push(event);
    }

    fn report(&mut self, o: &FakeOrder, exec: &str, last: Option<&FakeTrade>, cancel_id: Option<&str>) {
        let now = self.now_ms();
        self.next_exec_id += 1;
        let (c, big_c) = match cancel_id {
            Some(cid) => (cid.to_string(), o.client_id.clone()),
            None => (o.client_id.clone(), String::new()),
        };
        let mut ev = json!({
            "e": "executionReport", "E": now, "s": o.symbol, "c": c, "S": o.side, "o": o.kind, "f": o.tif,
            "q": o.qty.to_string(), "p": o.price.to_string(), "P": o.stop_price.to_string(), "F": "0.00000000",
            "g": -1, "C": big_c, "x": exec, "X": o.status, "r": "NONE", "i": o.order_id,
            "l": last.map(|t| t.qty.to_string()).unwrap_or_else(|| "0.00000000".into()),
            "z": o.executed.to_string(),
            "L": last.map(|t| t.price.to_string()).unwrap_or_else(|| "0.00000000".into()),
            "n": last.map(|t| t.commission.to_string()).unwrap_or_else(|| "0".into()),
            "N": last.map(|t| json!(t.commission_asset)).unwrap_or(Value::Null),
            "T": last.map(|t| t.time).unwrap_or(o.update_time), "t": last.map(|t| t.id as i64).unwrap_or(-1),
            "I": self.next_exec_id, "w": o.is_open(), "m": false, "M": last.is_some(), "O": o.time,
            "Z": o.cum_quote.to_string(),
            "Y": last.map(|t| (t.price * t.qty).to_string()).unwrap_or_else(|| "0.00000000".into()),
            "Q": "0.00000000", "W": o.time, "V": "NONE",
        });
        if let Some(r) = &o.expiry_reason {
            ev["eR"] = json!(r);
        }
        self.emit(ev);
    }

    fn account_position(&mut self, assets: &[&str]) {
        let balances: Vec<Value> = assets
            .iter()
            .map(|a| {
                let (f, l) = self.balances.get(*a).copied().unwrap_or_default();
                json!({"a": a, "f": f.to_string(), "l": l.to_string()})
            })
            .collect();
        let now = self.now_ms();
        self.emit(json!({"e": "outboundAccountPosition", "E": now, "u": now, "B": balances}));
    }

    // ---- balances -----------------------------------------------------------------------

    fn free(&self, asset: &str) -> Decimal {
        self.balances.get(asset).map(|b| b.0).unwrap_or_default()
    }

    fn adjust(&mut self, asset: &str, free: Decimal, locked: Decimal) {
        let b = self.balances.entry(asset.to_string()).or_default();
        b.0 += free;
        b.1 += locked;
    }

    // ---- matching -----------------------------------------------------------------------

    /// Executes `qty` of order `idx` at `price`: one trade, balances, events.
    fn fill(&mut self, idx: usize, qty: Decimal, price: Decimal) {
        let spec = match self.spec(&self.orders[idx].symbol) {
            Some(s) => s,
            None => return,
        };
        let now = self.now_ms();
        let buy = self.orders[idx].side == "BUY";
        let (fee, fee_asset) = if buy {
            (qty * self.fee_rate, spec.base.clone())
        } else {
            (qty * price * self.fee_rate, spec.quote.clone())
        };
        let locked = self.orders[idx].kind.starts_with("STOP") || self.orders[idx].tif == "GTC";
        if buy {
            let cost = qty * price;
            if locked {
                self.adjust(&spec.quote, Decimal::ZERO, -(qty * self.orders[idx].price));
                self.adjust(&spec.quote, qty * self.orders[idx].price - cost, Decimal::ZERO);
            } else {
                self.adjust(&spec.quote, -cost, Decimal::ZERO);
            }
            self.adjust(&spec.base, qty - fee, Decimal::ZERO);
        } else {
            if locked {
                self.adjust(&spec.base, Decimal::ZERO, -qty);
            } else {
                self.adjust(&spec.base, -qty, Decimal::ZERO);
            }
            self.adjust(&spec.quote, qty * price - fee, Decimal::ZERO);
        }
        self.next_trade_id += 1;
        let trade = FakeTrade {
            id: self.next_trade_id,
            order_id: self.orders[idx].order_id,
            symbol: spec.symbol.clone(),
            price,
            qty,
            commission: fee.normalize(),
            commission_asset: fee_asset,
            time: now,
            is_buyer: buy,
        };
        self.trades.push(trade.clone());
        let o = &mut self.orders[idx];
        o.executed += qty;
        o.cum_quote += qty * price;
        o.update_time = now;
        o.status = if o.executed >= o.qty { "FILLED".into() } else { "PARTIALLY_FILLED".into() };
        let snapshot = o.clone();
        self.report(&snapshot, "TRADE", Some(&trade), None);
        self.account_position(&[&spec.base, &spec.quote]);
    }

    fn expire(&mut self, idx: usize, reason: &str) {
        let now = self.now_ms();
        let o = &mut self.orders[idx];
        o.status = "EXPIRED".into();
        o.expiry_reason = Some(reason.into());
        o.update_time = now;
        let snapshot = o.clone();
        self.report(&snapshot, "EXPIRED", None, None);
    }

    /// How much of order `idx` can fill now, at what price.
    fn fillable(&self, idx: usize) -> Option<(Decimal, Decimal)> {
        let o = &self.orders[idx];
        let market = *self.prices.get(&o.symbol)?;
        let crosses = match (o.kind.as_str(), o.side.as_str()) {
            ("MARKET", _) => true,
            (_, "BUY") => market <= o.price,
            (_, _) => market >= o.price,
        };
        if !crosses {
            return None;
        }
        let remaining = o.qty - o.executed;
        let qty = self.liquidity.get(&o.symbol).map(|l| remaining.min(*l)).unwrap_or(remaining);
        (qty > Decimal::ZERO).then_some((qty, market))
    }

    /// The checks Binance makes before anything happens (parameters, filters).
    fn parse_new(&self, p: &HashMap<String, String>) -> Result<NewOrder, ApiErr> {
        let get = |k: &str| p.get(k).map(String::as_str);
        let dec = |k: &str| -> Result<Option<Decimal>, ApiErr> {
            match get(k) {
                None => Ok(None),
                Some(v) => Decimal::from_str(v)
                    .map(Some)
                    .map_err(|_| ApiErr::new(400, -1100, &format!("Illegal characters found in parameter '{k}'."))),
            }
        };
        let symbol = get("symbol").unwrap_or_default().to_string();
        let spec = self.spec(&symbol).ok_or_else(|| ApiErr::new(400, -1121, "Invalid symbol."))?;
        let side = get("side").unwrap_or_default().to_string();
        let kind = get("type").unwrap_or_default().to_string();
        if side != "BUY" && side != "SELL" {
            return Err(ApiErr::new(
                400,
                -1102,
                "Mandatory parameter 'side' was not sent, was empty/null, or malformed.",
            ));
        }
        let qty = dec("quantity")?.ok_or_else(|| {
            ApiErr::new(400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")
        })?;
        let price = dec("price")?;
        let stop = dec("stopPrice")?;
        let tif = get("timeInForce").unwrap_or("GTC").to_string();
        for (name, v) in [("quantity", Some(qty)), ("price", price), ("stopPrice", stop)] {
            if let Some(v) = v
                && v.scale() > 8
            {
                return Err(ApiErr::new(400, -1111, &format!("Parameter '{name}' has too much precision.")));
            }
        }
        let market = self.prices.get(&symbol).copied().unwrap_or_default();
        match kind.as_str() {
            "LIMIT" | "STOP_LOSS_LIMIT" if price.is_none() || get("timeInForce").is_none() => {
                return Err(ApiErr::new(
                    400,
                    -1102,
                    "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
                ));
            }
            "STOP_LOSS_LIMIT" if stop.is_none() => {
                return Err(ApiErr::new(
                    400,
                    -1102,
                    "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed.",
                ));
            }
            "LIMIT" | "MARKET" | "STOP_LOSS_LIMIT" => {}
            _ => return Err(ApiErr::new(400, -1116, "Invalid orderType.")),
        }
        for v in [price, stop].into_iter().flatten() {
            if !(v % spec.tick).is_zero() || v <= Decimal::ZERO {
                return Err(ApiErr::new(400, -1013, "Filter failure: PRICE_FILTER"));
            }
        }
        if !(qty % spec.step).is_zero() || qty < spec.min_qty {
            return Err(ApiErr::new(400, -1013, "Filter failure: LOT_SIZE"));
        }
        let ref_price = price.unwrap_or(market);
        if ref_price * qty < spec.min_notional {
            return Err(ApiErr::new(400, -1013, "Filter failure: NOTIONAL"));
        }
        Ok(NewOrder { symbol, spec, side, kind, qty, price, stop, tif, market, ref_price })
    }

    /// `POST /api/v3/order`.
    pub fn place(&mut self, p: &HashMap<String, String>) -> Result<Value, ApiErr> {
        let NewOrder { symbol, spec, side, kind, qty, price, stop, tif, market, ref_price } = self.parse_new(p)?;
        let get = |k: &str| p.get(k).map(String::as_str);
        let client_id = match get("newClientOrderId") {
            Some(id) => id.to_string(),
            None => format!("auto{}", self.next_order_id),
        };
        if self.orders.iter().any(|o| o.client_id == client_id && o.is_open()) {
            return Err(ApiErr::new(400, -2010, "Duplicate order sent."));
        }
        if kind == "STOP_LOSS_LIMIT" && side == "SELL" && stop.unwrap_or_default() >= market {
            return Err(ApiErr::new(400, -2010, "Order would trigger immediately."));
        }
        let need_quote = if side == "BUY" { qty * ref_price } else { Decimal::ZERO };
        let need_base = if side == "SELL" { qty } else { Decimal::ZERO };
        if self.free(&spec.quote) < need_quote || self.free(&spec.base) < need_base {
            return Err(ApiErr::new(400, -2010, "Account has insufficient balance for requested action."));
        }
        let now = self.now_ms();
        self.next_order_id += 1;
        let order = FakeOrder {
            order_id: self.next_order_id,
            client_id,
            symbol: symbol.clone(),
            side: side.clone(),
            kind: kind.clone(),
            tif: if kind == "MARKET" { "GTC".into() } else { tif.clone() },
            qty,
            price: price.unwrap_or_default(),
            stop_price: stop.unwrap_or_default(),
            status: "NEW".into(),
            executed: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            triggered: false,
            time: now,
            update_time: now,
            expiry_reason: None,
        };
        self.orders.push(order.clone());
        let idx = self.orders.len() - 1;
        self.report(&order, "NEW", None, None);
        let rests = kind == "STOP_LOSS_LIMIT" || (kind == "LIMIT" && tif == "GTC");
        if rests {
            // Resting orders lock what they may spend.
            if side == "SELL" {
                self.adjust(&spec.base, -qty, qty);
            } else {
                self.adjust(&spec.quote, -qty * ref_price, qty * ref_price);
            }
            self.account_position(&[&spec.base, &spec.quote]);
        }
        if kind != "STOP_LOSS_LIMIT" {
            if let Some((q, px)) = self.fillable(idx) {
                self.fill(idx, q, px);
            }
            let o = &self.orders[idx];
            if o.is_open() && !rests {
                let reason = if kind == "MARKET" { "INSUFFICIENT_LIQUIDITY" } else { "UNFILLED_IOC_QUANTITY_EXPIRED" };
                self.expire(idx, reason);
            }
        }
        let o = &self.orders[idx];
        let mut body = o.to_json();
        body["transactTime"] = json!(now);
        match get("newOrderRespType") {
            Some("FULL") => {
                let fills: Vec<Value> = self
                    .trades
                    .iter()
                    .filter(|t| t.order_id == o.order_id)
                    .map(|t| json!({"price": t.price.to_string(), "qty": t.qty.to_string(), "commission": t.commission.to_string(), "commissionAsset": t.commission_asset, "tradeId": t.id}))
                    .collect();
                body["fills"] = json!(fills);
            }
            Some("ACK") => {
                body = json!({"symbol": o.symbol, "orderId": o.order_id, "orderListId": -1, "clientOrderId": o.client_id, "transactTime": now});
            }
            _ => {}
        }
        Ok(body)
    }

    /// Moves the market; resting stops trigger when the price reaches their stop, and
    /// triggered or resting limits fill when the price crosses them.
    pub fn set_price(&mut self, symbol: &str, price: Decimal) {
        self.prices.insert(symbol.to_string(), price);
        for idx in 0..self.orders.len() {
            let o = &self.orders[idx];
            if o.symbol != symbol || !o.is_open() {
                continue;
            }
            if o.kind == "STOP_LOSS_LIMIT" && !o.triggered {
                let hit = if o.side == "SELL" { price <= o.stop_price } else { price >= o.stop_price };
                if !hit {
                    continue;
                }
                self.orders[idx].triggered = true;
            }
            if let Some((q, px)) = self.fillable(idx) {
                self.fill(idx, q, px);
            }
        }
    }

    fn find_order(&self, p: &HashMap<String, String>) -> Option<usize> {
        let symbol = p.get("symbol")?;
        let by_id = p.get("orderId").and_then(|i| i.parse::<u64>().ok());
        let by_client = p.get("origClientOrderId");
        self.orders.iter().rposition(|o| {
            &o.symbol == symbol && by_id.is_none_or(|i| i == o.order_id) && by_client.is_none_or(|c| c == &o.client_id)
        })
    }

    /// `DELETE /api/v3/order`.
    pub fn cancel(&mut self, p: &HashMap<String, String>) -> Result<Value, ApiErr> {
        if self.spec(p.get("symbol").map(String::as_str).unwrap_or_default()).is_none() {
            return Err(ApiErr::new(400, -1121, "Invalid symbol."));
        }
        let idx = self
            .find_order(p)
            .filter(|i| self.orders[*i].is_open())
            .ok_or_else(|| ApiErr::new(400, -2011, "Unknown order sent."))?;
        let now = self.now_ms();
        let cancel_id = p.get("newClientOrderId").cloned().unwrap_or_else(|| format!("cancel{}", now % 1_000_000));
        let spec = self.spec(&self.orders[idx].symbol).ok_or_else(|| ApiErr::new(400, -1121, "Invalid symbol."))?;
        let o = &mut self.orders[idx];
        o.status = "CANCELED".into();
        o.update_time = now;
        let remaining = o.qty - o.executed;
        let (side, price, kind, tif) = (o.side.clone(), o.price, o.kind.clone(), o.tif.clone());
        let snapshot = o.clone();
        if kind.starts_with("STOP") || tif == "GTC" {
            if side == "SELL" {
                self.adjust(&spec.base, remaining, -remaining);
            } else {
                self.adjust(&spec.quote, remaining * price, -remaining * price);
            }
        }
        self.report(&snapshot, "CANCELED", None, Some(&cancel_id));
        self.account_position(&[&spec.base, &spec.quote]);
        let mut body = snapshot.to_json();
        body["origClientOrderId"] = json!(snapshot.client_id);
        body["clientOrderId"] = json!(cancel_id);
        body["transactTime"] = json!(now);
        Ok(body)
    }

    /// `POST /api/v3/order/cancelReplace` in `STOP_ON_FAILURE` mode: check the new order, cancel
    /// the old one (if that fails, stop), place the new one (if that fails, the old one stays
    /// cancelled: HTTP 409).
    pub fn cancel_replace(&mut self, p: &HashMap<String, String>) -> Result<Value, ApiErr> {
        if p.get("cancelReplaceMode").map(String::as_str) != Some("STOP_ON_FAILURE") {
            return Err(ApiErr::new(
                400,
                -1102,
                "Mandatory parameter 'cancelReplaceMode' was not sent, was empty/null, or malformed.",
            ));
        }
        self.parse_new(p)?;
        let mut cancel = HashMap::new();
        for (from, to) in [
            ("symbol", "symbol"),
            ("cancelOrigClientOrderId", "origClientOrderId"),
            ("cancelOrderId", "orderId"),
            ("cancelNewClientOrderId", "newClientOrderId"),
        ] {
            if let Some(v) = p.get(from) {
                cancel.insert(to.to_string(), v.clone());
            }
        }
        let canceled = match self.cancel(&cancel) {
            Ok(v) => v,
            Err(e) => {
                let mut err = ApiErr::new(400, -2022, "Order cancel-replace failed.");
                err.data = Some(json!({
                    "cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
                    "cancelResponse": {"code": e.code, "msg": e.msg}, "newOrderResponse": null,
                }));
                return Err(err);
            }
        };
        match self.place(p) {
            Ok(placed) => Ok(json!({
                "cancelResult": "SUCCESS", "newOrderResult": "SUCCESS",
                "cancelResponse": canceled, "newOrderResponse": placed,
            })),
            Err(e) => {
                let mut err = ApiErr::new(409, -2021, "Order cancel-replace partially failed.");
                err.data = Some(json!({
                    "cancelResult": "SUCCESS", "newOrderResult": "FAILURE",
                    "cancelResponse": canceled, "newOrderResponse": {"code": e.code, "msg": e.msg},
                }));
                Err(err)
            }
        }
    }

    /// `GET /api/v3/order`.
    pub fn query(&mut self, p: &HashMap<String, String>) -> Result<Value, ApiErr> {
        if self.spec(p.get("symbol").map(String::as_str).unwrap_or_default()).is_none() {
            return Err(ApiErr::new(400, -1121, "Invalid symbol."));
        }
        let not_found = ApiErr::new(400, -2013, "Order does not exist.");
        let idx = self.find_order(p).ok_or_else(|| not_found.clone())?;
        if self.hide_orders_for_queries > 0 {
            self.hide_orders_for_queries -= 1;
            return Err(not_found);
        }
        Ok(self.orders[idx].to_json())
    }

    pub fn open_orders(&self, p: &HashMap<String, String>) -> Value {
        let sym = p.get("symbol");
        Value::Array(
            self.orders
                .iter()
                .filter(|o| o.is_open() && sym.is_none_or(|s| s == &o.symbol))
                .map(FakeOrder::to_json)
                .collect(),
        )
    }

    pub fn my_trades(&self, p: &HashMap<String, String>) -> Value {
        let sym = p.get("symbol").cloned().unwrap_or_default();
        let order_id = p.get("orderId").and_then(|v| v.parse::<u64>().ok());
        let from = p.get("fromId").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let limit = p.get("limit").and_then(|v| v.parse::<usize>().ok()).unwrap_or(500).min(1000);
        Value::Array(
            self.trades
                .iter()
                .filter(|t| t.symbol == sym && order_id.is_none_or(|o| o == t.order_id) && t.id >= from)
                .take(limit)
                .map(FakeTrade::to_json)
                .collect(),
        )
    }

    pub fn account(&self, p: &HashMap<String, String>) -> Value {
        let omit = p.get("omitZeroBalances").is_some_and(|v| v == "true");
        let balances: Vec<Value> = self
            .balances
            .iter()
            .filter(|(_, (f, l))| !(omit && f.is_zero() && l.is_zero()))
            .map(|(a, (f, l))| json!({"asset": a, "free": f.to_string(), "locked": l.to_string()}))
            .collect();
        json!({
            "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
            "canTrade": self.can_trade, "canWithdraw": true, "canDeposit": true, "brokered": false,
            "requireSelfTradePrevention": false, "preventSor": false, "updateTime": self.now_ms(),
            "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"], "uid": 1,
        })
    }

    pub fn exchange_info(&self, p: &HashMap<String, String>) -> Result<Value, ApiErr> {
        let wanted: Option<Vec<String>> = if let Some(s) = p.get("symbol") {
            Some(vec![s.clone()])
        } else if let Some(list) = p.get("symbols") {
            Some(
                serde_json::from_str(list)
                    .map_err(|_| ApiErr::new(400, -1100, "Illegal characters found in parameter 'symbols'."))?,
            )
        } else {
            None
        };
        if let Some(w) = &wanted
            && w.iter().any(|s| self.spec(s).is_none())
        {
            return Err(ApiErr::new(400, -1121, "Invalid symbol."));
        }
        let symbols: Vec<Value> = self
            .symbols
            .iter()
            .filter(|s| wanted.as_ref().is_none_or(|w| w.contains(&s.symbol)))
            .map(|s| {
                json!({
                    "symbol": s.symbol, "status": "TRADING", "baseAsset": s.base, "baseAssetPrecision": 8,
                    "quoteAsset": s.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
                    "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
                    "icebergAllowed": true, "ocoAllowed": true, "isSpotTradingAllowed": true,
                    "filters": [
                        {"filterType": "PRICE_FILTER", "minPrice": s.tick.to_string(), "maxPrice": "1000000.00000000", "tickSize": s.tick.to_string()},
                        {"filterType": "LOT_SIZE", "minQty": s.min_qty.to_string(), "maxQty": "9000.00000000", "stepSize": s.step.to_string()},
                        {"filterType": "ICEBERG_PARTS", "limit": 100},
                        {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "100.00000000", "stepSize": "0.00000000"},
                        {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000, "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000},
                        {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5", "bidMultiplierDown": "0.2", "askMultiplierUp": "5", "askMultiplierDown": "0.2", "avgPriceMins": 5},
                        {"filterType": "NOTIONAL", "minNotional": s.min_notional.to_string(), "applyMinToMarket": true, "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5},
                        {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
                        {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5}
                    ],
                    "permissions": [], "permissionSets": [["SPOT"]],
                    "defaultSelfTradePreventionMode": "EXPIRE_MAKER", "allowedSelfTradePreventionModes": ["EXPIRE_MAKER"],
                })
            })
            .collect();
        let limits: Vec<Value> = self
            .rate_limits
            .iter()
            .map(|l| json!({"rateLimitType": l.kind, "interval": l.interval, "intervalNum": l.num, "limit": l.limit}))
            .collect();
        Ok(
            json!({"timezone": "UTC", "serverTime": self.now_ms(), "rateLimits": limits, "exchangeFilters": [], "symbols": symbols}),
        )
    }

    /// Daily candles: `kline_days` of history up to and including today's (still open) one.
    pub fn klines(&self, p: &HashMap<String, String>) -> Result<Value, ApiErr> {
        let symbol = p.get("symbol").cloned().unwrap_or_default();
        let base = self.prices.get(&symbol).copied().ok_or_else(|| ApiErr::new(400, -1121, "Invalid symbol."))?;
        if p.get("interval").map(String::as_str) != Some("1d") {
            return Err(ApiErr::new(400, -1120, "Invalid interval."));
        }
        let limit = p.get("limit").and_then(|v| v.parse::<usize>().ok()).unwrap_or(500).clamp(1, 1000);
        let now = self.now_ms();
        let today = now - now.rem_euclid(DAY_MS);
        let end = p.get("endTime").and_then(|v| v.parse::<i64>().ok()).unwrap_or(i64::MAX);
        let first = today - (self.kline_days - 1) * DAY_MS;
        let mut rows = Vec::new();
        let mut day = today.min(end - end.rem_euclid(DAY_MS));
        while day >= first && rows.len() < limit {
            let k = (day - first) / DAY_MS;
            let wiggle = Decimal::from(k % 17) - Decimal::from(8);
            let open = base + wiggle;
            let close = base + wiggle + Decimal::from(k % 3);
            let high = open.max(close) + Decimal::ONE;
            let low = open.min(close) - Decimal::ONE;
            rows.push(json!([
                day,
                open.to_string(),
                high.to_string(),
                low.to_string(),
                close.to_string(),
                "100.0",
                day + DAY_MS - 1,
                "1.0",
                10,
                "1.0",
                "1.0",
                "0"
            ]));
            day -= DAY_MS;
        }
        rows.reverse();
        Ok(Value::Array(rows))
    }
}
