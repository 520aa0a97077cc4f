//! Records that exist only in the store: the journal, the outbox and per-chat settings.
//! The engine's own types (orders, positions, ...) are stored as they are.

use crate::domain::{PositionId, Timestamp};
use crate::engine::{Category, Event, Notice, Request};
use serde::{Deserialize, Serialize};

/// One journaled event: what happened and what it asked of the exchange.
///
/// The state changes it caused are not repeated here: they are the rows written in the same
/// transaction, and the journal seq is what ties a fill (`fills_seen`) to the event that applied
/// it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub at: Timestamp,
    pub event: Event,
    pub requests: Vec<Request>,
}

/// The borrowed twin of [`JournalEntry`], so a commit does not clone the event to encode it.
/// Same field names and order, hence the same JSON (a unit test holds them together).
#[derive(Serialize)]
pub(super) struct JournalEntryRef<'a> {
    pub at: Timestamp,
    pub event: &'a Event,
    pub requests: &'a [Request],
}

/// One line of `bert journal`: the entry with its seq first.
#[derive(Serialize)]
pub(super) struct JournalLine<'a> {
    pub seq: u64,
    pub at: Timestamp,
    pub event: &'a Event,
    pub requests: &'a [Request],
}

/// A message waiting to be delivered to one chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRow {
    pub chat: i64,
    pub category: Category,
    /// The position the message is about, for reply threading.
    pub position: Option<PositionId>,
    pub body: OutboxBody,
    pub created_at: Timestamp,
    /// Delivery attempts so far (the worker bumps it with `outbox_replace`).
    pub attempts: u32,
}

/// What to send. Engine messages are stored as a [`Notice`] (meaning, not text) and rendered
/// in the chat's language at delivery, so a `/lang` change applies to messages still queued.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutboxBody {
    Notice(Notice),
    /// Already rendered HTML (replies built by the chat surface).
    Text {
        html: String,
    },
    /// A chart. The PNG is hex in JSON: half the size of a JSON array of numbers.
    Photo {
        #[serde(with = "hex_bytes")]
        png: Vec<u8>,
        caption: String,
    },
    /// Rendered HTML with inline buttons under it (a confirmation, a settings toggle). Never
    /// merged with other rows. `token`, when set, names the message so that a later
    /// [`OutboxBody::Edit`] can find it: the outbox worker remembers which Telegram message id
    /// the token got.
    Prompt {
        html: String,
        #[serde(default)]
        buttons: Vec<Vec<Button>>,
        #[serde(default)]
        token: Option<String>,
    },
    /// Replaces the text of a message sent earlier (and its buttons: none means they are
    /// removed). The target is `message_id` when the writer knows it (a button press carries
    /// it), otherwise the message a [`OutboxBody::Prompt`] with the same `token` became. Queued
    /// like any message, so it is delivered after the message it edits.
    Edit {
        #[serde(default)]
        message_id: Option<i32>,
        #[serde(default)]
        token: Option<String>,
        html: String,
        #[serde(default)]
        buttons: Vec<Vec<Button>>,
    },
}

/// One inline keyboard button: its label and the callback data Telegram sends back when it is
/// pressed (at most 64 bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub text: String,
    pub data: String,
}

/// A message that could not be delivered and was set aside, with why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub row: OutboxRow,
    pub reason: String,
}

/// What Bert remembers about a chat.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatSettings {
    /// The chat's language (`/lang`); `None` means the configured default.
    #[serde(default)]
    pub language: Option<String>,
    /// Alert categories this chat does not want. `Category::Reply` is never muted, even if listed.
    #[serde(default)]
    pub muted: Vec<Category>,
    /// Telegram moved this group to a supergroup with this id: messages for the old id go there.
    #[serde(default)]
    pub migrated_to: Option<i64>,
}

impl ChatSettings {
    /// True if rows of `category` must not be queued for this chat.
    pub fn mutes(&self, category: Category) -> bool {
        category != Category::Reply && self.muted.contains(&category)
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        hex::decode(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}
