//! Market data: closed klines and last prices from the combined kline streams.
//!
//! One connection to `{stream_url}/stream?streams=btcusdt@kline_1d/ethusdt@kline_1d/...`
//! (lower-case symbols; at most 1024 streams per connection). Every kline update refreshes
//! the symbol's last price; only a kline with `k.x == true` is a closed candle for the
//! strategy. Streams replay nothing after a gap, so each [`MarketEvent::Up`] is the cue to
//! backfill closed candles over REST.

use super::clock::ServerClock;
use super::config::StreamConfig;
use super::limits::RateGuard;
use super::symbols::SymbolMap;
use super::wire::{StreamFrame, decode_stream_kline};
use super::ws::{Flow, OpenError, Session, Ws, connect};
use crate::domain::{Candle, Symbol, Timestamp};
use rust_decimal::Decimal;
use std::sync::Arc;
use tokio::sync::mpsc;

/// What the market streams report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarketEvent {
    /// A closed candle of the subscribed interval. During a connection rotation the same
    /// candle can arrive twice: key candles by `open_time`.
    Candle {
        symbol: Symbol,
        candle: Candle,
    },
    /// The latest trade price, from any kline update (open or closed).
    Price {
        symbol: Symbol,
        price: Decimal,
        time: Timestamp,
    },
    /// Connected (again): backfill candles missed while down.
    Up,
    Down {
        reason: String,
    },
}

/// The combined stream URL for `symbols` at `interval`.
pub fn stream_url(base: &str, symbols: &[Symbol], interval: &str) -> String {
    let streams: Vec<String> =
        symbols.iter().map(|s| format!("{}@kline_{interval}", s.pair().to_ascii_lowercase())).collect();
    format!("{}/stream?streams={}", base.trim_end_matches('/'), streams.join("/"))
}

/// The kline streams as a [`Session`].
pub struct MarketStream {
    pub(crate) url: String,
    pub(crate) interval: String,
    pub(crate) guard: Arc<RateGuard>,
    pub(crate) clock: Arc<ServerClock>,
    pub(crate) symbols: Arc<SymbolMap>,
    pub(crate) config: StreamConfig,
}

impl Session for MarketStream {
    type Event = MarketEvent;
    type Conn = ();

    fn name(&self) -> &'static str {
        "market data"
    }

    fn config(&self) -> &StreamConfig {
        &self.config
    }

    async fn open(&self, _sink: &mpsc::Sender<MarketEvent>) -> Result<(Ws, ()), OpenError> {
        let halted = self.guard.halt_remaining_ms(self.clock.local_now().millis());
        if halted > 0 {
            return Err(OpenError::halted(halted));
        }
        Ok((connect(&self.url, &self.guard, &self.clock).await?, ()))
    }

    fn on_text(&self, _conn: &(), text: &str, out: &mut Vec<MarketEvent>) -> Flow {
        match decode_stream_kline(text, &*self.symbols) {
            Ok(StreamFrame::Kline(k)) => {
                out.push(MarketEvent::Price { symbol: k.symbol, price: k.candle.close, time: k.event_time });
                if k.closed && k.interval == self.interval {
                    out.push(MarketEvent::Candle { symbol: k.symbol, candle: k.candle });
                }
                Flow::Continue
            }
            Ok(StreamFrame::ServerShutdown) => Flow::Rotate,
            Ok(StreamFrame::Other) => Flow::Continue,
            Err(e) => {
                let head: String = text.chars().take(200).collect();
                tracing::warn!(reason = %e, frame = %head, "undecodable market stream frame");
                Flow::Continue
            }
        }
    }

    fn up(&self) -> MarketEvent {
        MarketEvent::Up
    }

    fn down(&self, reason: String) -> MarketEvent {
        MarketEvent::Down { reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AssetCode;

    #[test]
    fn combined_stream_url() {
        let usdt = AssetCode::new("USDT").unwrap();
        let syms = [Symbol::parse("BTC", usdt).unwrap(), Symbol::parse("ETH", usdt).unwrap()];
        assert_eq!(
            stream_url("wss://stream.binance.com:9443/", &syms, "1d"),
            "wss://stream.binance.com:9443/stream?streams=btcusdt@kline_1d/ethusdt@kline_1d"
        );
    }
}
