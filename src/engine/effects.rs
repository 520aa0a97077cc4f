//! What the engine asks the outside world to do after an event: rows to persist, messages to
//! queue, requests to send. The driver commits rows and messages in one transaction *before*
//! sending any request (intent before action).

use super::notice::Notice;
use crate::domain::{ClientOrderId, ClosedTrade, Order, Position, PositionId, Symbol};
use crate::strategy::edge70::Direction;
use serde::{Deserialize, Serialize};

/// A request to the exchange. Its answer comes back as an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    Place(Box<Order>),
    Cancel {
        symbol: Symbol,
        client_id: ClientOrderId,
    },
    Query {
        symbol: Symbol,
        client_id: ClientOrderId,
    },
    /// Move a stop: cancel `old` and place `new` in one request (the new stop is recorded as
    /// an intent first, like any order).
    ReplaceStop {
        symbol: Symbol,
        old: ClientOrderId,
        new: Box<Order>,
    },
    /// Fetch the trades of an order whose reported executed quantity is ahead of the fills
    /// applied (a report was missed).
    Trades {
        symbol: Symbol,
        client_id: ClientOrderId,
        order_id: u64,
    },
}

/// The engine's persistent flags.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineMeta {
    pub paused: bool,
    pub next_position: u64,
    pub breaker: Option<super::BreakerReason>,
    /// The periodic performance report's schedule (absent in databases written before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub performance: Option<super::PerformanceMark>,
    /// Portfolio warnings raised and not yet resolved (so a restart does not send them again).
    #[serde(default, skip_serializing_if = "super::warnings::WarningState::is_clear")]
    pub warnings: super::warnings::WarningState,
}

/// A row to write in the event's transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Write {
    Order(Order),
    Position(Position),
    FillSeen { symbol: Symbol, trade_id: u64 },
    ClosedTrade(ClosedTrade),
    Meta(EngineMeta),
    Direction { symbol: Symbol, direction: Option<Direction> },
}

/// Who receives a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// Every configured alert chat, plus `also` (the chat a manual trade came from) if it is
    /// not one of them.
    Alerts { also: Option<i64> },
    /// A reply to one chat.
    Chat(i64),
}

/// Alert categories a chat can mute. Replies are never muted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Category {
    Reply,
    Fills,
    Signals,
    Performance,
    Warnings,
}

/// One message for the outbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    pub to: Audience,
    pub category: Category,
    /// The position the message is about, so follow-ups can thread under the first alert.
    pub position: Option<PositionId>,
    pub notice: Notice,
}

/// Everything one event produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effects {
    pub writes: Vec<Write>,
    pub messages: Vec<Outgoing>,
    pub requests: Vec<Request>,
}

impl Effects {
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.messages.is_empty() && self.requests.is_empty()
    }

    pub(crate) fn reply(&mut self, chat: i64, notice: Notice) {
        self.messages.push(Outgoing { to: Audience::Chat(chat), category: Category::Reply, position: None, notice });
    }

    pub(crate) fn alert(
        &mut self,
        category: Category,
        position: Option<PositionId>,
        also: Option<i64>,
        notice: Notice,
    ) {
        self.messages.push(Outgoing { to: Audience::Alerts { also }, category, position, notice });
    }
}
