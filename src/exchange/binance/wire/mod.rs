//! Binance JSON → domain types. Pure functions, no I/O.
//!
//! Architecture invariant: no wire type leaves this module; every decoder returns domain types
//! ([`OrderReport`](crate::domain::OrderReport), [`Balance`](crate::domain::Balance),
//! [`Trade`](crate::domain::Trade), [`Candle`](crate::domain::Candle)) or a [`DecodeError`].
//! Malformed, truncated or unexpected input is an error value, never a panic: these functions
//! read bytes from the network.
//!
//! Every field is renamed explicitly (Binance's keys collide when case is ignored: `c`/`C`,
//! `l`/`L`, `z`/`Z`, ...) and unknown fields are ignored (Binance keeps adding optional ones).
//! Decimals are read from their string form only, so no value ever passes through `f64`.

mod account;
mod event;
mod fast;
mod kline;
mod order;
mod replace;

pub use account::{AccountInfo, ApiRestrictions, decode_account, decode_api_restrictions, decode_server_time};
pub use event::{
    ApiErrorBody, ListStatusSummary, RequestId, UserEvent, UserFrame, decode_execution_report, decode_user_frame,
};
pub use kline::{StreamFrame, StreamKline, decode_klines, decode_stream_kline};
pub use order::{DecodedOrder, decode_my_trades, decode_order, decode_orders};
pub use replace::{ReplaceAnswer, decode_replace};

use super::symbols::ResolveSymbol;
use crate::domain::{AssetCode, ClientOrderId, OrderStatus, Symbol};
use rust_decimal::Decimal;
use std::fmt;

/// Why a payload could not be turned into domain types. The text names the field, never the
/// whole payload (which could be large).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

impl From<serde_json::Error> for DecodeError {
    fn from(e: serde_json::Error) -> Self {
        DecodeError(format!("malformed JSON: {e}"))
    }
}

impl From<DecodeError> for crate::exchange::ExchangeError {
    fn from(e: DecodeError) -> Self {
        crate::exchange::ExchangeError::Decode { reason: e.0 }
    }
}

pub(crate) fn symbol(resolver: &impl ResolveSymbol, pair: &str) -> Result<Symbol, DecodeError> {
    resolver.resolve(pair).ok_or_else(|| DecodeError(format!("unknown symbol {pair:?}")))
}

pub(crate) fn client_id(s: &str) -> Result<ClientOrderId, DecodeError> {
    ClientOrderId::parse(s).ok_or_else(|| DecodeError(format!("bad client order id {s:?}")))
}

pub(crate) fn asset(s: &str) -> Result<AssetCode, DecodeError> {
    AssetCode::new(s).map_err(|e| DecodeError(format!("bad asset {s:?}: {e}")))
}

pub(crate) fn status(s: &str) -> Result<OrderStatus, DecodeError> {
    OrderStatus::from_wire(s).ok_or_else(|| DecodeError(format!("unknown order status {s:?}")))
}

pub(crate) fn trade_id(t: i64) -> Result<u64, DecodeError> {
    u64::try_from(t).map_err(|_| DecodeError(format!("bad trade id {t}")))
}

/// `NONE` (and empty) mean "no reason"; anything else is kept in the exchange's words.
pub(crate) fn reason(s: Option<&str>) -> Option<String> {
    s.filter(|r| !r.is_empty() && *r != "NONE").map(str::to_string)
}

/// Rejects negative quantities, which Binance never sends for real orders.
pub(crate) fn non_negative(name: &str, d: Decimal) -> Result<Decimal, DecodeError> {
    if d.is_sign_negative() && !d.is_zero() {
        return Err(DecodeError(format!("negative {name}: {d}")));
    }
    Ok(d)
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::domain::{AssetCode, Symbol};

    /// A resolver that knows the pairs used in the reference's examples.
    pub fn resolver(pair: &str) -> Option<Symbol> {
        let (b, q) = match pair {
            "ETHBTC" => ("ETH", "BTC"),
            "LTCBNB" => ("LTC", "BNB"),
            "LTCBTC" => ("LTC", "BTC"),
            "BTCUSDT" => ("BTC", "USDT"),
            "BNBBTC" => ("BNB", "BTC"),
            "BNBUSDT" => ("BNB", "USDT"),
            _ => return None,
        };
        Some(Symbol::new(AssetCode::new(b).ok()?, AssetCode::new(q).ok()?))
    }
}

#[cfg(test)]
mod fuzz {
    use super::test_util::resolver;
    use super::*;
    use proptest::prelude::*;

    /// Every decoder, fed the same input; none may panic.
    fn all_decoders(s: &str) {
        let _ = decode_user_frame(s, &resolver);
        let _ = decode_execution_report(s, &resolver);
        let _ = decode_order(s.as_bytes(), &resolver);
        let _ = decode_orders(s.as_bytes(), &resolver);
        let _ = decode_my_trades(s.as_bytes(), &resolver);
        let _ = decode_replace(200, s.as_bytes(), &resolver);
        let _ = decode_replace(409, s.as_bytes(), &resolver);
        let _ = decode_account(s.as_bytes());
        let _ = decode_api_restrictions(s.as_bytes());
        let _ = decode_server_time(s.as_bytes());
        let _ = decode_klines(s.as_bytes(), crate::domain::Timestamp(i64::MAX));
        let _ = decode_stream_kline(s, &resolver);
        let _ = crate::exchange::binance::filters::decode_exchange_info(s.as_bytes());
        let _ = crate::exchange::binance::errors::parse_api_error(s.as_bytes());
    }

    /// Fragments of real payloads, so random strings often look almost right.
    fn jsonish() -> impl Strategy<Value = String> {
        let atoms = prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"e\"",
            "\"executionReport\"",
            "\"event\"",
            "\"subscriptionId\"",
            "0",
            "-1",
            "\"1.5\"",
            "\"-3\"",
            "null",
            "true",
            "\"x\"",
            "\"TRADE\"",
            "\"X\"",
            "\"FILLED\"",
            "\"s\"",
            "\"ETHBTC\"",
            "\"c\"",
            "\"C\"",
            "\"id\"",
            "\"status\"",
            "\"k\"",
            "\"B\"",
            "\"a\"",
            "\"f\"",
            "\"l\"",
            "1e400",
            "\"99999999999999999999999999999999\"",
            "\"\\u0000\"",
            "\"data\"",
            "\"stream\"",
        ]);
        prop::collection::vec(atoms, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            all_decoders(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn random_strings_never_panic(s in ".{0,200}") {
            all_decoders(&s);
        }

        #[test]
        fn json_like_fragments_never_panic(s in jsonish()) {
            all_decoders(&s);
        }

        /// Every prefix of a real frame is an error (or a valid frame), never a panic.
        #[test]
        fn truncated_frames_never_panic(cut in 0usize..2000) {
            for sample in [event::tests::EXECUTION_NEW, order::tests::FULL_RESPONSE, kline::tests::REST_KLINES] {
                let end = cut.min(sample.len());
                if let Some(prefix) = sample.get(..end) {
                    all_decoders(prefix);
                }
            }
        }
    }
}
