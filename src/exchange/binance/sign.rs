//! Request signing: HMAC-SHA256 over the exact bytes Binance checks.
//!
//! The two transports sign differently, and mixing them up gives `-1022 INVALID_SIGNATURE`:
//!
//! * **REST** (rule in force since 2026-01-15): the payload is the query string concatenated
//!   with the body, *after* percent-encoding, byte for byte as sent. [`QueryBuilder`] builds that
//!   string once and the same string is both signed and put on the wire, so the two can never
//!   disagree.
//! * **WebSocket API**: the payload is every parameter except `signature`, sorted by name,
//!   joined as `name=value` with `&`, values raw UTF-8 and *not* percent-encoded
//!   ([`Signer::sign_ws`]).
//!
//! The secret is held in [`Secret`], whose `Debug` and `Display` print `***`, so it cannot leak
//! through a log line, a panic message or an error.

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::Sha256;
use std::fmt;

pub use crate::secret::Secret;

/// Characters left as they are in a REST value: RFC 3986 "unreserved". Everything else
/// (including every non-ASCII byte) is percent-encoded, which is what Binance's rule asks for.
const VALUE_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Builds a REST query string (`a=1&b=2`) with percent-encoded values.
///
/// The result is what gets signed and what gets sent; nothing re-encodes it afterwards (the
/// `url` crate leaves existing `%XX` escapes and unreserved characters alone).
#[derive(Debug, Default, Clone)]
pub struct QueryBuilder {
    buf: String,
}

impl QueryBuilder {
    pub fn with_capacity(capacity: usize) -> Self {
        QueryBuilder { buf: String::with_capacity(capacity) }
    }

    /// Appends `key=value`. Keys are Binance parameter names (ASCII identifiers), so only the
    /// value is encoded.
    pub fn push(&mut self, key: &str, value: &str) -> &mut Self {
        if !self.buf.is_empty() {
            self.buf.push('&');
        }
        self.buf.push_str(key);
        self.buf.push('=');
        for chunk in utf8_percent_encode(value, VALUE_SET) {
            self.buf.push_str(chunk);
        }
        self
    }

    pub fn as_str(&self) -> &str {
        &self.buf
    }

    pub fn into_string(self) -> String {
        self.buf
    }
}

/// HMAC-SHA256 keyed once with the API secret; cloning the keyed state per signature avoids
/// re-deriving the key blocks on every request.
#[derive(Clone)]
pub struct Signer {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer(***)")
    }
}

impl Signer {
    pub fn new(secret: &Secret) -> Self {
        // HMAC accepts keys of any length (long keys are hashed, short ones padded), so
        // `new_from_slice` cannot fail; the fallback only exists to avoid an `expect`.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose().as_bytes())
            .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
        Signer { mac }
    }

    /// Lower-case hex HMAC-SHA256 of `payload`.
    pub fn sign(&self, payload: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(payload);
        hex::encode(mac.finalize().into_bytes())
    }

    /// REST signature: over `query` followed directly by `body` (no `&` in between), both
    /// exactly as sent.
    pub fn sign_rest(&self, query: &str, body: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(query.as_bytes());
        mac.update(body.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// WebSocket API signature: parameters sorted by name, raw values, no percent-encoding.
    pub fn sign_ws(&self, params: &[(&str, &str)]) -> String {
        self.sign(ws_payload(params).as_bytes())
    }
}

/// The WebSocket API signature payload: `name=value` pairs sorted by name, joined with `&`.
pub fn ws_payload(params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = params.iter().filter(|(k, _)| *k != "signature").collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = String::with_capacity(sorted.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
    const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

    fn signer() -> Signer {
        Signer::new(&Secret::new(SECRET))
    }

    fn limit_order(symbol: &str) -> QueryBuilder {
        let mut q = QueryBuilder::default();
        q.push("symbol", symbol)
            .push("side", "BUY")
            .push("type", "LIMIT")
            .push("timeInForce", "GTC")
            .push("quantity", "1")
            .push("price", "0.1")
            .push("recvWindow", "5000")
            .push("timestamp", "1499827319559");
        q
    }

    /// §3.6 vector 1: REST, ASCII.
    #[test]
    fn vector_1_rest_ascii() {
        let q = limit_order("LTCBTC");
        assert_eq!(
            q.as_str(),
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        );
        assert_eq!(
            signer().sign_rest(q.as_str(), ""),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
    }

    /// §3.6 vector 2: REST, a non-ASCII symbol, percent-encoded by the builder before signing.
    #[test]
    fn vector_2_rest_non_ascii_is_percent_encoded() {
        let q = limit_order("１２３４５６");
        assert_eq!(
            q.as_str(),
            "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        );
        assert_eq!(
            signer().sign_rest(q.as_str(), ""),
            "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
        );
    }

    /// §3.6 vector 3: REST, query string plus body, no `&` between them.
    #[test]
    fn vector_3_rest_query_plus_body() {
        let query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC";
        let body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        assert_eq!(signer().sign_rest(query, body), "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77");
    }

    /// §3.6 vector 4: WebSocket API, ASCII, parameters given unsorted.
    #[test]
    fn vector_4_ws_sorted() {
        let params = [
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.01000000"),
            ("price", "52000.00"),
            ("recvWindow", "100"),
            ("timestamp", "1645423376532"),
            ("apiKey", API_KEY),
        ];
        assert_eq!(
            ws_payload(&params),
            format!(
                "apiKey={API_KEY}&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
            )
        );
        assert_eq!(signer().sign_ws(&params), "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24");
    }

    /// §3.6 vector 5: WebSocket API, non-ASCII value signed as raw UTF-8 (not percent-encoded).
    #[test]
    fn vector_5_ws_non_ascii_raw() {
        let params = [
            ("symbol", "１２３４５６"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1.00000000"),
            ("price", "0.10000000"),
            ("recvWindow", "5000"),
            ("timestamp", "1645423376532"),
            ("apiKey", API_KEY),
        ];
        assert_eq!(signer().sign_ws(&params), "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd");
    }

    /// §3.6 vector 6: the `session.logon` shape, which is what `userDataStream.subscribe.signature`
    /// signs without `recvWindow`.
    #[test]
    fn vector_6_ws_logon_shape() {
        let params = [("timestamp", "1649729878532"), ("apiKey", API_KEY)];
        assert_eq!(signer().sign_ws(&params), "1cf54395b336b0a9727ef27d5d98987962bc47aca6e13fe978612d0adee066ed");
    }

    /// §3.6 vector 7: WebSocket API `order.place` example.
    #[test]
    fn vector_7_ws_order_place() {
        let params = [
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.00847000"),
            ("price", "23416.10000000"),
            ("apiKey", API_KEY),
            ("timestamp", "1660801715431"),
        ];
        assert_eq!(signer().sign_ws(&params), "15af09e41c36f3cc61378c2fbe2c33719a03dd5eba8d0f9206fbda44de717c88");
    }

    /// §3.6 vector 8: WebSocket API `order.cancel` example.
    #[test]
    fn vector_8_ws_order_cancel() {
        let params = [
            ("symbol", "BTCUSDT"),
            ("origClientOrderId", "4d96324ff9d44481926157"),
            ("apiKey", API_KEY),
            ("timestamp", "1660801715830"),
        ];
        assert_eq!(signer().sign_ws(&params), "33d5b721f278ae17a52f004a82a6f68a70c68e7dd6776ed0be77a455ab855282");
    }

    /// §3.6 vector 9: `userDataStream.subscribe.signature` with the docs' timestamp.
    #[test]
    fn vector_9_ws_user_stream_subscribe() {
        let params = [("apiKey", API_KEY), ("timestamp", "1747385641636")];
        assert_eq!(signer().sign_ws(&params), "681110a6057ad58657af22f5640fab9dd17418834cdfccdc81be8b0f7b2cde3e");
    }

    /// The `signature` parameter itself is never part of the WebSocket payload.
    #[test]
    fn ws_payload_excludes_signature() {
        let params = [("timestamp", "1"), ("signature", "x"), ("apiKey", "k")];
        assert_eq!(ws_payload(&params), "apiKey=k&timestamp=1");
    }

    #[test]
    fn reserved_characters_are_encoded() {
        let mut q = QueryBuilder::default();
        q.push("symbols", r#"["BTCUSDT","ETHUSDT"]"#).push("id", "a-b_c.d~e f+g");
        assert_eq!(q.as_str(), "symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D&id=a-b_c.d~e%20f%2Bg");
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new(SECRET);
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s}"), "***");
        let signer = signer();
        assert!(!format!("{signer:?}").contains(SECRET));
    }
}
