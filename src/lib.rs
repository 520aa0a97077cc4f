//! Bert: a Telegram-first personal trading assistant for Binance spot.
pub mod chart;
pub mod domain;
pub mod engine;
pub mod exchange;
pub mod market;
pub mod report;
pub mod strategy;
