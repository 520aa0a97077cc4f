//! Telegram bot and outbox (placeholder: being written)
