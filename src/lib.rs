//! Bert: a Telegram-first personal trading assistant for Binance spot.
pub mod app;
pub mod chart;
pub mod chat;
pub mod console;
pub mod domain;
pub mod engine;
pub mod exchange;
pub mod i18n;
pub mod market;
pub mod report;
pub mod secret;
pub mod store;
pub mod strategy;
pub mod telegram;
