//! Klines: REST arrays (`GET /api/v3/klines`) and the kline stream event.

use super::{DecodeError, symbol};
use crate::domain::{Candle, Symbol, Timestamp};
use crate::exchange::binance::symbols::ResolveSymbol;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// One REST kline row: `[openTime, open, high, low, close, volume, closeTime, ...]`. Columns
/// after the seventh are ignored (and tolerated if Binance adds more).
struct KlineRow(Candle);

impl<'de> Deserialize<'de> for KlineRow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RowVisitor;

        fn dec<'de, A: SeqAccess<'de>>(seq: &mut A, what: &'static str) -> Result<Decimal, A::Error> {
            let s: Cow<'de, str> = seq.next_element()?.ok_or_else(|| de::Error::missing_field(what))?;
            Decimal::from_str(&s).map_err(|_| de::Error::custom(format!("bad decimal in {what}")))
        }

        impl<'de> Visitor<'de> for RowVisitor {
            type Value = KlineRow;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a kline array")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<KlineRow, A::Error> {
                let open_time: i64 = seq.next_element()?.ok_or_else(|| de::Error::missing_field("open time"))?;
                let open = dec(&mut seq, "open")?;
                let high = dec(&mut seq, "high")?;
                let low = dec(&mut seq, "low")?;
                let close = dec(&mut seq, "close")?;
                let volume = dec(&mut seq, "volume")?;
                let close_time: i64 = seq.next_element()?.ok_or_else(|| de::Error::missing_field("close time"))?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(KlineRow(Candle {
                    open_time: Timestamp(open_time),
                    close_time: Timestamp(close_time),
                    open,
                    high,
                    low,
                    close,
                    volume,
                }))
            }
        }

        d.deserialize_seq(RowVisitor)
    }
}

/// Closed candles from a klines answer, oldest first. A candle whose close time is not yet
/// past `server_now` is still forming (Binance returns it as the last element) and is dropped:
/// the strategy only ever sees closed candles.
pub fn decode_klines(body: &[u8], server_now: Timestamp) -> Result<Vec<Candle>, DecodeError> {
    let rows: Vec<KlineRow> = serde_json::from_slice(body)?;
    let mut out: Vec<Candle> = rows.into_iter().map(|r| r.0).filter(|c| c.close_time < server_now).collect();
    out.sort_by_key(|c| c.open_time);
    out.dedup_by_key(|c| c.open_time);
    Ok(out)
}

/// A kline stream update in domain terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamKline {
    pub symbol: Symbol,
    /// The stream name's interval (`1d`).
    pub interval: String,
    pub candle: Candle,
    /// `k.x`: the candle is final. Only closed candles reach the strategy; open ones only
    /// update the last price.
    pub closed: bool,
    pub event_time: Timestamp,
}

#[derive(Deserialize)]
struct KlineEventWire<'a> {
    #[serde(rename = "E", default)]
    event_time: i64,
    #[serde(rename = "k", borrow)]
    kline: KlineWire<'a>,
}

#[derive(Deserialize)]
struct KlineWire<'a> {
    #[serde(rename = "t")]
    open_time: i64,
    #[serde(rename = "T")]
    close_time: i64,
    #[serde(rename = "s", borrow)]
    symbol: Cow<'a, str>,
    #[serde(rename = "i", borrow)]
    interval: Cow<'a, str>,
    #[serde(rename = "o", with = "rust_decimal::serde::str")]
    open: Decimal,
    #[serde(rename = "c", with = "rust_decimal::serde::str")]
    close: Decimal,
    #[serde(rename = "h", with = "rust_decimal::serde::str")]
    high: Decimal,
    #[serde(rename = "l", with = "rust_decimal::serde::str")]
    low: Decimal,
    #[serde(rename = "v", with = "rust_decimal::serde::str")]
    volume: Decimal,
    #[serde(rename = "x")]
    closed: bool,
}

/// A combined stream frame: `{"stream": "...", "data": {...}}`.
#[derive(Deserialize)]
struct CombinedHead<'a> {
    #[serde(borrow)]
    stream: Cow<'a, str>,
    data: DataHead<'a>,
}

#[derive(Deserialize)]
struct DataHead<'a> {
    #[serde(rename = "e", borrow, default)]
    kind: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Combined<T> {
    data: T,
}

/// What a market stream frame says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamFrame {
    Kline(StreamKline),
    /// `serverShutdown`: reconnect now.
    ServerShutdown,
    /// Anything else (other stream types, control responses).
    Other,
}

/// Decodes a combined stream frame (`/stream?streams=...`), or a raw kline event.
pub fn decode_stream_kline(text: &str, resolver: &impl ResolveSymbol) -> Result<StreamFrame, DecodeError> {
    let (kind, wrapped) = match serde_json::from_str::<CombinedHead<'_>>(text) {
        Ok(head) if head.stream.ends_with("serverShutdown") => return Ok(StreamFrame::ServerShutdown),
        Ok(head) => (head.data.kind.map(Cow::into_owned), true),
        Err(_) => (serde_json::from_str::<DataHead<'_>>(text)?.kind.map(Cow::into_owned), false),
    };
    match kind.as_deref() {
        Some("kline") => {}
        Some("serverShutdown") => return Ok(StreamFrame::ServerShutdown),
        _ => return Ok(StreamFrame::Other),
    }
    let w: KlineEventWire<'_> = if wrapped {
        serde_json::from_str::<Combined<KlineEventWire<'_>>>(text)?.data
    } else {
        serde_json::from_str(text)?
    };
    let k = w.kline;
    Ok(StreamFrame::Kline(StreamKline {
        symbol: symbol(resolver, &k.symbol)?,
        interval: k.interval.into_owned(),
        candle: Candle {
            open_time: Timestamp(k.open_time),
            close_time: Timestamp(k.close_time),
            open: k.open,
            high: k.high,
            low: k.low,
            close: k.close,
            volume: k.volume,
        },
        closed: k.closed,
        event_time: Timestamp(w.event_time),
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::exchange::binance::wire::test_util::resolver;
    use rust_decimal_macros::dec;

    /// §10.4 layout, plus a second (still open) candle.
    pub(crate) const REST_KLINES: &str = r#"[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"],[1499644800000,"0.01577100","0.01600000","0.01500000","0.01590000","10.0",1500249599999,"1.0",3,"1.0","1.0","0"]]"#;

    #[test]
    fn rest_klines_drop_the_open_candle() {
        let now = Timestamp(1499644800000 + 1000);
        let c = decode_klines(REST_KLINES.as_bytes(), now).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].open_time, Timestamp(1499040000000));
        assert_eq!(c[0].close_time, Timestamp(1499644799999));
        assert_eq!(
            (c[0].open, c[0].high, c[0].low, c[0].close),
            (dec!(0.01634790), dec!(0.8), dec!(0.015758), dec!(0.015771))
        );
        assert_eq!(c[0].volume, dec!(148976.11427815));
        assert_eq!(decode_klines(REST_KLINES.as_bytes(), Timestamp(i64::MAX)).unwrap().len(), 2);
    }

    #[test]
    fn rest_klines_reject_malformed_rows() {
        for bad in [r#"[[1,"1","1","1","1"]]"#, r#"[[1,1.5,"1","1","1","1",2]]"#, r#"[["x"]]"#, r#"{}"#] {
            assert!(decode_klines(bad.as_bytes(), Timestamp(0)).is_err(), "{bad}");
        }
        assert!(decode_klines(br#"[[1,"1","1","1","1","1",2]]"#, Timestamp(10)).is_ok(), "short rows are fine");
    }

    const STREAM: &str = r#"{"stream":"bnbbtc@kline_1m","data":{"e":"kline","E":1672515782136,"s":"BNBBTC","k":{"t":1672515780000,"T":1672515839999,"s":"BNBBTC","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}}"#;

    #[test]
    fn stream_kline() {
        let StreamFrame::Kline(k) = decode_stream_kline(STREAM, &resolver).unwrap() else { panic!() };
        assert_eq!(k.symbol.pair(), "BNBBTC");
        assert!(!k.closed);
        assert_eq!(k.interval, "1m");
        assert_eq!(
            (k.candle.open, k.candle.close, k.candle.high, k.candle.low),
            (dec!(0.001), dec!(0.002), dec!(0.0025), dec!(0.0015))
        );
        let closed = STREAM.replace(r#""x":false"#, r#""x":true"#);
        let StreamFrame::Kline(k) = decode_stream_kline(&closed, &resolver).unwrap() else { panic!() };
        assert!(k.closed);
        let raw = r#"{"e":"kline","E":1,"s":"BNBBTC","k":{"t":1,"T":2,"s":"BNBBTC","i":"1d","o":"1","c":"1","h":"1","l":"1","v":"1","x":true}}"#;
        assert!(matches!(decode_stream_kline(raw, &resolver).unwrap(), StreamFrame::Kline(_)));
    }

    #[test]
    fn stream_shutdown_and_others() {
        let s = r#"{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}}"#;
        assert_eq!(decode_stream_kline(s, &resolver).unwrap(), StreamFrame::ServerShutdown);
        assert_eq!(
            decode_stream_kline(r#"{"e":"serverShutdown","E":1}"#, &resolver).unwrap(),
            StreamFrame::ServerShutdown
        );
        assert_eq!(decode_stream_kline(r#"{"result":null,"id":1}"#, &resolver).unwrap(), StreamFrame::Other);
        assert!(decode_stream_kline(&STREAM.replace("BNBBTC", "NOPE"), &resolver).is_err());
        assert!(decode_stream_kline("nope", &resolver).is_err());
    }
}
