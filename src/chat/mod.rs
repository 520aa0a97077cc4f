//! The chat surface shared by the Telegram bot and the console (`bert demo --interactive`):
//! command parsing ([`parse`]), authorization ([`auth`]), and rendering of engine notices and
//! chat replies in the chat's language ([`render`]).
//!
//! The flow for one incoming message:
//! 1. [`parse::parse`] turns text into a [`ChatCommand`] or a [`ParseError`] (silent for plain
//!    text and other bots' commands in groups);
//! 2. [`auth::Roles::role_of`] and [`auth::authorize`] decide whether the sender may run it;
//! 3. chat-only commands (`/help`, `/id`, `/lang`, …) are answered here via [`render`];
//!    engine commands become `Event::Command` (the only place such events are created);
//!    `/performance`, `/chart` and `/alerts` are answered from the store with [`views`];
//! 4. the engine's `Outgoing` notices are rendered with [`render::render`] when delivered,
//!    in each receiving chat's language, and split with [`render::split_message`].
//!
//! Everything here is synchronous, does no I/O and never panics on chat input.

pub mod auth;
pub mod format;
pub mod parse;
pub mod render;
mod split;
pub mod views;

pub use auth::{Access, Role, Roles, Verdict, authorize};
pub use format::Mode;
pub use parse::{ChatCommand, ParseError, parse};
pub use render::{TELEGRAM_LIMIT, render, split_message};
