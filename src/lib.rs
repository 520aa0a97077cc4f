//! Bert: a Telegram-first personal trading assistant for Binance spot.
pub mod domain;
pub mod exchange;
