//! Base URLs per environment (`BERT_EXCHANGE` = `live`, `testnet`, `demo`).
//!
//! Each URL can be overridden (`BERT_BINANCE_REST_URL`, `BERT_BINANCE_WS_API_URL`,
//! `BERT_BINANCE_STREAM_URL`); tests point all three at a fake on `127.0.0.1`. The REST and
//! stream values are *bases*: the adapter appends `/api/v3/...` and `/stream?streams=...`.

use std::fmt;

/// Which Binance environment the keys belong to. (`paper` is not a Binance environment: paper
/// trading reads live public market data, so it uses [`BinanceMode::Live`]'s URLs.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinanceMode {
    Live,
    Testnet,
    Demo,
}

impl BinanceMode {
    /// Reads `live`, `testnet` or `demo` (any case).
    pub fn parse(s: &str) -> Option<BinanceMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "live" => Some(BinanceMode::Live),
            "testnet" => Some(BinanceMode::Testnet),
            "demo" => Some(BinanceMode::Demo),
            _ => None,
        }
    }

    pub fn default_urls(self) -> BinanceUrls {
        let (rest, ws_api, stream) = match self {
            BinanceMode::Live => {
                ("https://api.binance.com", "wss://ws-api.binance.com:443/ws-api/v3", "wss://stream.binance.com:9443")
            }
            BinanceMode::Testnet => (
                "https://testnet.binance.vision",
                "wss://ws-api.testnet.binance.vision/ws-api/v3",
                "wss://stream.testnet.binance.vision",
            ),
            BinanceMode::Demo => (
                "https://demo-api.binance.com",
                "wss://demo-ws-api.binance.com/ws-api/v3",
                "wss://demo-stream.binance.com",
            ),
        };
        BinanceUrls { rest: rest.into(), ws_api: ws_api.into(), stream: stream.into() }
    }

    /// Whether `/sapi` endpoints (API key restrictions) exist here. The Spot Testnet only has
    /// `/api`.
    pub fn has_sapi(self) -> bool {
        !matches!(self, BinanceMode::Testnet)
    }
}

impl fmt::Display for BinanceMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BinanceMode::Live => "live",
            BinanceMode::Testnet => "testnet",
            BinanceMode::Demo => "demo",
        })
    }
}

/// The three endpoints the adapter talks to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinanceUrls {
    /// REST base, without a trailing slash (`https://api.binance.com`).
    pub rest: String,
    /// Full WebSocket API URL (`wss://ws-api.binance.com:443/ws-api/v3`).
    pub ws_api: String,
    /// Market stream base (`wss://stream.binance.com:9443`).
    pub stream: String,
}

impl BinanceUrls {
    /// Replaces the URLs that are given (empty strings count as not given) and trims trailing
    /// slashes so paths can be appended blindly.
    pub fn with_overrides(mut self, rest: Option<&str>, ws_api: Option<&str>, stream: Option<&str>) -> Self {
        let pick = |current: &mut String, given: Option<&str>| {
            if let Some(v) = given.map(str::trim).filter(|v| !v.is_empty()) {
                *current = v.to_string();
            }
        };
        pick(&mut self.rest, rest);
        pick(&mut self.ws_api, ws_api);
        pick(&mut self.stream, stream);
        self.normalized()
    }

    pub fn normalized(mut self) -> Self {
        for url in [&mut self.rest, &mut self.ws_api, &mut self.stream] {
            while url.ends_with('/') {
                url.pop();
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_overrides() {
        assert_eq!(BinanceMode::parse(" Testnet "), Some(BinanceMode::Testnet));
        assert_eq!(BinanceMode::parse("paper"), None);
        let live = BinanceMode::Live.default_urls();
        assert_eq!(live.rest, "https://api.binance.com");
        let o = live.with_overrides(Some("http://127.0.0.1:9/"), Some(""), None);
        assert_eq!(o.rest, "http://127.0.0.1:9");
        assert_eq!(o.ws_api, "wss://ws-api.binance.com:443/ws-api/v3");
        assert_eq!(o.stream, "wss://stream.binance.com:9443");
        assert!(!BinanceMode::Testnet.has_sapi());
        assert_eq!(BinanceMode::Demo.default_urls().ws_api, "wss://demo-ws-api.binance.com/ws-api/v3");
    }
}
