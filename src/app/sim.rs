//! The synchronous driver behind `bert demo` and `bert backtest`: candles → paper exchange →
//! engine → (store) → paper exchange, one event at a time, with injected time.
//!
//! It is the same engine code `bert run` drives; what differs is only the transport: here the
//! exchange answers synchronously and the clock is the candle's close time. Events produced by
//! a request (stream reports, then the request's answer) are queued and processed in order
//! before the next candle, the way they would arrive live.

use crate::chart::{TradeMark, trade_marks};
use crate::domain::{AssetCode, Candle, ClosedTrade, Symbol, Timestamp};
use crate::engine::{Engine, Event, Outgoing, Request, Settings, Write};
use crate::exchange::ExchangeEvent;
use crate::exchange::paper::{PaperBook, PaperConfig};
use crate::market::MarketSeries;
use crate::report::EquityPoint;
use crate::store::Store;
use rust_decimal::Decimal;
use std::collections::VecDeque;

/// The console's chat id in the demo (alerts and replies go there).
pub const CONSOLE_CHAT: i64 = 1;

/// A failure that stops a simulation (only the store can fail).
#[derive(Debug, thiserror::Error)]
#[error("could not save the event: {0}")]
pub struct SimError(String);

/// The replay loop.
pub struct Simulation<'s> {
    pub engine: Engine,
    pub book: PaperBook,
    store: Option<&'s Store>,
    quote: AssetCode,
    now: Timestamp,
    queue: VecDeque<Event>,
    scratch: Vec<ExchangeEvent>,
    collect_messages: bool,
    messages: Vec<(Timestamp, Outgoing)>,
    closed: Vec<ClosedTrade>,
    equity: Vec<EquityPoint>,
    symbols: Vec<Symbol>,
    events: u64,
    recorded: Option<Vec<(Timestamp, Event)>>,
}

impl<'s> Simulation<'s> {
    /// A paper account holding `capital` of the quote asset, with the series' symbols listed.
    pub fn new(
        settings: Settings,
        tag: &str,
        series: &[MarketSeries],
        capital: Decimal,
        store: Option<&'s Store>,
    ) -> Self {
        let quote = settings.quote;
        let mut book = PaperBook::new(PaperConfig::default());
        book.deposit(quote, capital);
        let mut engine = Engine::new(settings, tag);
        let filters = series.iter().map(|s| (s.symbol, s.filters.clone())).collect();
        for s in series {
            book.list_symbol(s.symbol, s.filters.clone());
        }
        engine.process(&Event::Filters(filters), Timestamp(0));
        engine.process(&Event::Balances(book.balances()), Timestamp(0));
        Simulation {
            engine,
            book,
            store,
            quote,
            now: Timestamp(0),
            queue: VecDeque::new(),
            scratch: Vec::new(),
            collect_messages: true,
            messages: Vec::new(),
            closed: Vec::new(),
            equity: Vec::new(),
            symbols: series.iter().map(|s| s.symbol).collect(),
            events: 0,
            recorded: None,
        }
    }

    /// Backtests do not need the alert texts; skipping them keeps the loop allocation-free.
    pub fn discard_messages(&mut self) {
        self.collect_messages = false;
    }

    /// Keeps a copy of every event processed from now on (benchmarks replay them through a
    /// fresh engine and a store).
    pub fn record_events(&mut self) {
        self.recorded = Some(Vec::new());
    }

    pub fn take_recorded(&mut self) -> Vec<(Timestamp, Event)> {
        self.recorded.take().unwrap_or_default()
    }

    /// Messages produced since the last call, with the time they were produced.
    pub fn take_messages(&mut self) -> Vec<(Timestamp, Outgoing)> {
        std::mem::take(&mut self.messages)
    }

    pub fn closed_trades(&self) -> &[ClosedTrade] {
        &self.closed
    }

    pub fn equity(&self) -> &[EquityPoint] {
        &self.equity
    }

    pub fn events_processed(&self) -> u64 {
        self.events
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Replays a whole market day by day and returns the number of candles replayed.
    pub fn replay(&mut self, series: &[MarketSeries]) -> Result<usize, SimError> {
        let days = series.iter().map(|s| s.candles.len()).max().unwrap_or(0);
        let mut candles = 0;
        for day in 0..days {
            let mut last_close: Option<Timestamp> = None;
            for s in series {
                // Series of different lengths are aligned on their last candle.
                let offset = days - s.candles.len();
                let Some(c) = day.checked_sub(offset).and_then(|i| s.candles.get(i)) else { continue };
                self.candle(s.symbol, c)?;
                candles += 1;
                last_close = Some(c.close_time);
            }
            if last_close.is_some() {
                self.record_day();
            }
        }
        Ok(candles)
    }

    /// One closed candle: resting stops trigger first (they live on the exchange), then the
    /// strategy sees the candle.
    pub fn candle(&mut self, symbol: Symbol, candle: &Candle) -> Result<(), SimError> {
        self.now = candle.close_time.plus_millis(1);
        self.book.on_candle(symbol, candle, self.now);
        self.book.drain_events_into(&mut self.scratch);
        for e in self.scratch.drain(..) {
            self.queue.push_back(Event::Exchange(e));
        }
        self.queue.push_back(Event::Candle { symbol, candle: *candle });
        self.drain()
    }

    /// Feeds one event (a typed command, a tick) and everything it causes.
    pub fn step(&mut self, event: Event) -> Result<(), SimError> {
        self.queue.push_back(event);
        self.drain()
    }

    fn drain(&mut self) -> Result<(), SimError> {
        while let Some(event) = self.queue.pop_front() {
            self.events += 1;
            if let Some(r) = &mut self.recorded {
                r.push((self.now, event.clone()));
            }
            let fx = self.engine.process(&event, self.now);
            if fx.is_empty() && !event.is_audited() {
                continue;
            }
            if let Some(store) = self.store {
                store.commit(self.now, &event, &fx, &|_| vec![CONSOLE_CHAT]).map_err(|e| SimError(e.to_string()))?;
            }
            for w in &fx.writes {
                if let Write::ClosedTrade(t) = w {
                    self.closed.push(t.clone());
                }
            }
            if self.collect_messages {
                self.messages.extend(fx.messages.into_iter().map(|m| (self.now, m)));
            }
            // Only now, with the intent durable, do requests reach the exchange.
            for request in fx.requests {
                let answer = self.execute(request);
                // Stream reports come before the request's own answer, as they usually do live.
                self.book.drain_events_into(&mut self.scratch);
                for e in self.scratch.drain(..) {
                    self.queue.push_back(Event::Exchange(e));
                }
                self.queue.push_back(answer);
            }
        }
        Ok(())
    }

    fn execute(&mut self, request: Request) -> Event {
        let now = self.now;
        match request {
            Request::Place(order) => {
                Event::Placed { client_id: order.client_id.clone(), result: self.book.place(&order, now) }
            }
            Request::Cancel { symbol, client_id } => {
                let result = self.book.cancel(symbol, &client_id, now);
                Event::Canceled { client_id, result }
            }
            Request::Query { symbol, client_id } => {
                let result = self.book.query(symbol, &client_id, now);
                Event::Queried { client_id, result }
            }
            Request::ReplaceStop { old, new, .. } => {
                let result = self.book.replace_stop(&old, &new, now);
                Event::StopReplaced { old, new: new.client_id.clone(), result: Box::new(result) }
            }
            Request::Trades { symbol, client_id, order_id } => {
                Event::Trades { client_id, result: Ok(self.book.trades(symbol, order_id)) }
            }
        }
    }

    /// The account's value at the last prices: quote balance plus every holding at its price.
    pub fn account_value(&self) -> Decimal {
        self.book
            .balances()
            .iter()
            .map(|b| {
                if b.asset == self.quote {
                    b.total()
                } else {
                    self.symbols
                        .iter()
                        .find(|s| s.base == b.asset)
                        .and_then(|s| self.book.price(*s))
                        .map(|p| b.total() * p)
                        .unwrap_or_default()
                }
            })
            .sum()
    }

    /// Adds a point to the equity curve at the current time (the demo and the backtest call it
    /// once per replayed day).
    pub fn record_day(&mut self) {
        let equity = self.account_value();
        self.equity.push(EquityPoint { time: self.now, equity });
    }

    /// Chart markers for every closed trade, on the equity curve.
    pub fn marks(&self) -> Vec<TradeMark> {
        trade_marks(&self.closed, &self.equity)
    }
}
