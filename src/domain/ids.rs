//! Identifiers: positions and deterministic client order ids.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::OrderRole;

/// A position's sequence number, unique within one database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PositionId(pub u64);

impl fmt::Display for PositionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The `newClientOrderId` Bert sends with every order.
///
/// It is derived from the database's instance tag, the position and the attempt, never random:
/// the same intent always maps to the same id, so a retry after a crash or a timeout can ask the
/// exchange about *that* id instead of sending a second order. Binance (FIX rules, the strictest)
/// allows `^[a-zA-Z0-9-_]{1,36}$`; [`ClientOrderId::derive`] stays within that.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientOrderId(String);

impl ClientOrderId {
    /// `b{tag}-{position}-{role}{attempt}` with the numbers in base 36, e.g. `bK3x9Q-16-s1`
    /// for position 42, stop attempt 1. The tag (≤ 6 chars of `[A-Za-z0-9]`) is chosen once per
    /// database, so a fresh database cannot collide with orders a previous one left open on the
    /// exchange. Longest possible id: 1 + 6 + 1 + 13 + 1 + 1 + 7 = 30 characters.
    pub fn derive(tag: &str, position: PositionId, role: OrderRole, attempt: u32) -> Self {
        let tag: String = tag.chars().filter(|c| c.is_ascii_alphanumeric()).take(6).collect();
        let role = match role {
            OrderRole::Entry => 'e',
            OrderRole::Stop => 's',
            OrderRole::Exit => 'x',
            OrderRole::Dump => 'd',
        };
        ClientOrderId(format!("b{tag}-{}-{role}{}", base36(position.0), base36(u64::from(attempt))))
    }

    /// Accepts an id from the wire (it may be a foreign order's). Returns `None` for ids that
    /// break Binance's rule, which Bert never produces.
    pub fn parse(s: &str) -> Option<Self> {
        let ok =
            !s.is_empty() && s.len() <= 36 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| ClientOrderId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::with_capacity(13);
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    // Only ASCII digits and letters were pushed.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn derived_ids_obey_binance_rules(tag in "[A-Za-z0-9]{0,20}", pos in any::<u64>(), attempt in any::<u32>()) {
            for role in [OrderRole::Entry, OrderRole::Stop, OrderRole::Exit, OrderRole::Dump] {
                let id = ClientOrderId::derive(&tag, PositionId(pos), role, attempt);
                prop_assert!(id.as_str().len() <= 36, "{id}");
                prop_assert!(ClientOrderId::parse(id.as_str()).is_some(), "{id}");
            }
        }
    }

    #[test]
    fn same_intent_same_id() {
        let a = ClientOrderId::derive("K3x9Q", PositionId(42), OrderRole::Stop, 1);
        let b = ClientOrderId::derive("K3x9Q", PositionId(42), OrderRole::Stop, 1);
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "bK3x9Q-16-s1");
        assert_eq!(base36(u64::MAX), "3w5e11264sgsf");
        assert_ne!(a, ClientOrderId::derive("K3x9Q", PositionId(42), OrderRole::Stop, 2));
    }
}
