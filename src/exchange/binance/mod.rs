//! The Binance spot adapter: the [`Exchange`](crate::exchange::Exchange) trait over REST, the
//! WebSocket API user data stream and the market streams.
//!
//! Architecture invariant: Binance JSON never leaves this module. Everything crossing its
//! boundary is a domain type or an [`ExchangeError`](crate::exchange::ExchangeError).
//!
//! # Layout
//!
//! * [`config`]: [`BinanceConfig`] and [`StreamConfig`], with Binance's defaults.
//! * [`urls`]: per-environment URLs ([`BinanceMode`]).
//! * [`sign`]: HMAC signing (REST: percent-encoded bytes as sent; WebSocket API: sorted,
//!   unencoded) and [`Secret`], which never prints.
//! * [`clock`]: the server-time offset (`-1021` re-syncs it).
//! * [`request`]: each endpoint's parameters, as pure functions.
//! * [`rest`]: the one place requests are metered, signed, sent and classified.
//! * [`errors`]: Binance failures → known / unknown outcomes.
//! * [`limits`]: rate-limit budgets, usage headers, 429/418 halts.
//! * [`wire`]: JSON → domain decoders (pure); [`filters`]: `exchangeInfo`.
//! * [`symbols`]: pair names (`ETHBTC`) → [`Symbol`](crate::domain::Symbol).
//! * [`ws`]: the connection supervisor shared by both streams (ping/pong, silence, backoff,
//!   24 h rotation without gaps).
//! * [`user_stream`]: `userDataStream.subscribe.signature` and event routing.
//! * [`market_stream`]: combined kline streams → [`MarketEvent`].
//! * [`client`]: [`BinanceExchange`], the trait implementation.

pub mod client;
pub mod clock;
pub mod config;
pub mod errors;
pub mod filters;
pub mod limits;
pub mod market_stream;
pub mod request;
pub mod rest;
pub mod sign;
pub mod symbols;
pub mod urls;
pub mod user_stream;
pub mod wire;
pub mod ws;

pub use client::{BinanceExchange, ReplaceOutcome};
pub use config::{BinanceConfig, StreamConfig};
pub use filters::{ExchangeInfo, RateLimit, RateLimitKind, SymbolInfo};
pub use limits::RateUsage;
pub use market_stream::MarketEvent;
pub use sign::Secret;
pub use urls::{BinanceMode, BinanceUrls};
pub use wire::{AccountInfo, ApiRestrictions};
