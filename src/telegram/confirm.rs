//! Pending confirmations of manual `/enter` and `/exit`: who asked, what, and since when.
//!
//! Kept here, not in teloxide dialogues: a dialogue is per chat, while a confirmation belongs
//! to the user who asked (in a group anyone can press the button) and lives 60 s. A token in
//! the buttons' callback data names the confirmation.
//!
//! **Take-once.** [`Confirmations::press`] removes the confirmation under the lock in the same
//! step that checks it, so when Telegram delivers a press twice (a retry, a double tap), only
//! one caller ever gets [`Press::Take`]; the other learns what happened to it. This is what
//! makes one Confirm exactly one engine command.
//!
//! Pending confirmations are in memory. After a restart their buttons answer "expired": asking
//! again is cheap, acting on a preview computed before the restart would not be.

use crate::domain::Timestamp;
use crate::engine::Command;
use crate::i18n::Lang;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::Duration;

/// How long a confirmation can be pressed.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);
/// How many resolved tokens are remembered (to answer a late second press properly).
const DONE_MEMORY: usize = 256;
/// Callback data prefix of confirmation buttons (other features use other prefixes).
pub const PREFIX: &str = "bc:";

/// A confirmation waiting for its button.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub token: String,
    /// The user who asked: the only one who may press.
    pub user: i64,
    pub chat: i64,
    /// What Confirm runs (`Command::Enter` or `Command::Exit`).
    pub command: Command,
    /// The preview as sent (HTML), so the edit can show it with the outcome under it.
    pub html: String,
    pub lang: Lang,
    pub created: Timestamp,
}

/// Which button.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Confirm,
    Cancel,
}

/// How a confirmation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    Confirmed,
    Cancelled,
    Expired,
}

/// The result of a press.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Press {
    /// This caller owns the outcome: act on it (run the command, or show the cancellation or
    /// the expiry).
    Take(Pending, Resolution),
    /// Someone else pressed; the confirmation stays pending.
    NotYours { owner: i64 },
    /// Nothing pending under this token: already resolved (how, if remembered), or unknown
    /// (e.g. from before a restart).
    Gone { earlier: Option<Resolution> },
}

struct Inner {
    pending: HashMap<String, Pending>,
    done: VecDeque<(String, Resolution)>,
    counter: u64,
    seed: std::collections::hash_map::RandomState,
}

/// The registry. Shared by the handlers and the expiry sweep.
pub struct Confirmations {
    ttl_ms: i64,
    inner: Mutex<Inner>,
}

impl Confirmations {
    pub fn new(ttl: Duration) -> Self {
        Confirmations {
            ttl_ms: i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX),
            inner: Mutex::new(Inner {
                pending: HashMap::new(),
                done: VecDeque::new(),
                counter: 0,
                seed: std::collections::hash_map::RandomState::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the maps half-updated in a way that
        // matters (each operation is one insert or remove), so a poisoned lock is used as is.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a confirmation; returns its token (16 hex digits, unguessable enough that a
    /// forged callback cannot hit another user's confirmation, which the presser check
    /// refuses anyway).
    pub fn register(&self, user: i64, chat: i64, command: Command, html: String, lang: Lang, now: Timestamp) -> String {
        let mut inner = self.lock();
        inner.counter += 1;
        let mut token = format!("{:016x}", inner.seed.hash_one((inner.counter, now.0, user)));
        while inner.pending.contains_key(&token) {
            inner.counter += 1;
            token = format!("{:016x}", inner.seed.hash_one((inner.counter, now.0, user)));
        }
        inner
            .pending
            .insert(token.clone(), Pending { token: token.clone(), user, chat, command, html, lang, created: now });
        token
    }

    fn expired(&self, p: &Pending, now: Timestamp) -> bool {
        now.0.saturating_sub(p.created.0) >= self.ttl_ms
    }

    /// A press of `choice` by `presser` at `now` (see [`Press`]).
    pub fn press(&self, token: &str, presser: i64, choice: Choice, now: Timestamp) -> Press {
        let mut inner = self.lock();
        let Some(p) = inner.pending.get(token) else {
            let earlier = inner.done.iter().find(|(t, _)| t == token).map(|(_, r)| *r);
            return Press::Gone { earlier };
        };
        let expired = self.expired(p, now);
        if p.user != presser && !expired {
            return Press::NotYours { owner: p.user };
        }
        let Some(p) = inner.pending.remove(token) else { return Press::Gone { earlier: None } };
        let resolution = match (expired, choice) {
            (true, _) => Resolution::Expired,
            (false, Choice::Confirm) => Resolution::Confirmed,
            (false, Choice::Cancel) => Resolution::Cancelled,
        };
        remember(&mut inner, token, resolution);
        Press::Take(p, resolution)
    }

    /// Takes every confirmation older than the time-to-live.
    pub fn expire(&self, now: Timestamp) -> Vec<Pending> {
        let mut inner = self.lock();
        let tokens: Vec<String> =
            inner.pending.values().filter(|p| self.expired(p, now)).map(|p| p.token.clone()).collect();
        let mut out = Vec::new();
        for t in tokens {
            if let Some(p) = inner.pending.remove(&t) {
                remember(&mut inner, &t, Resolution::Expired);
                out.push(p);
            }
        }
        out
    }

    pub fn pending(&self) -> usize {
        self.lock().pending.len()
    }
}

fn remember(inner: &mut Inner, token: &str, r: Resolution) {
    inner.done.push_back((token.to_owned(), r));
    while inner.done.len() > DONE_MEMORY {
        inner.done.pop_front();
    }
}

/// The callback data of a button (at most 64 bytes: prefix, 16 hex digits, one letter).
pub fn callback_data(token: &str, choice: Choice) -> String {
    let c = match choice {
        Choice::Confirm => 'y',
        Choice::Cancel => 'n',
    };
    format!("{PREFIX}{token}:{c}")
}

/// Reads callback data written by [`callback_data`]; `None` for anything else.
pub fn parse_callback(data: &str) -> Option<(&str, Choice)> {
    let rest = data.strip_prefix(PREFIX)?;
    let (token, c) = rest.rsplit_once(':')?;
    let choice = match c {
        "y" => Choice::Confirm,
        "n" => Choice::Cancel,
        _ => return None,
    };
    (!token.is_empty() && token.len() <= 32).then_some((token, choice))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(c: &Confirmations, now: i64) -> String {
        c.register(7, 70, Command::Pause, "<b>x</b>".into(), Lang::En, Timestamp(now))
    }

    #[test]
    fn only_the_requester_takes_and_only_once() {
        let c = Confirmations::new(DEFAULT_TTL);
        let t = reg(&c, 0);
        assert_eq!(c.press(&t, 8, Choice::Confirm, Timestamp(1000)), Press::NotYours { owner: 7 });
        let Press::Take(p, Resolution::Confirmed) = c.press(&t, 7, Choice::Confirm, Timestamp(2000)) else {
            panic!("the requester takes it")
        };
        assert_eq!((p.user, p.chat), (7, 70));
        assert_eq!(
            c.press(&t, 7, Choice::Confirm, Timestamp(2001)),
            Press::Gone { earlier: Some(Resolution::Confirmed) }
        );
        assert_eq!(c.press("nope", 7, Choice::Confirm, Timestamp(0)), Press::Gone { earlier: None });
    }

    #[test]
    fn concurrent_presses_take_once() {
        let c = std::sync::Arc::new(Confirmations::new(DEFAULT_TTL));
        let t = reg(&c, 0);
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (c, t) = (c.clone(), t.clone());
                std::thread::spawn(move || matches!(c.press(&t, 7, Choice::Confirm, Timestamp(5)), Press::Take(..)))
            })
            .collect();
        let takes = handles.into_iter().filter_map(|h| h.join().ok()).filter(|t| *t).count();
        assert_eq!(takes, 1);
    }

    #[test]
    fn expiry() {
        let c = Confirmations::new(DEFAULT_TTL);
        let t = reg(&c, 0);
        let u = reg(&c, 30_000);
        assert!(c.expire(Timestamp(59_999)).is_empty());
        let gone = c.expire(Timestamp(60_000));
        assert_eq!(gone.iter().map(|p| p.token.clone()).collect::<Vec<_>>(), vec![t.clone()]);
        assert_eq!(
            c.press(&t, 7, Choice::Confirm, Timestamp(60_001)),
            Press::Gone { earlier: Some(Resolution::Expired) }
        );
        // A press after the deadline, before the sweep, is an expiry (by anyone).
        assert!(matches!(c.press(&u, 8, Choice::Confirm, Timestamp(90_000)), Press::Take(_, Resolution::Expired)));
        assert_eq!(c.pending(), 0);
        let v = reg(&c, 0);
        assert!(matches!(c.press(&v, 7, Choice::Cancel, Timestamp(1)), Press::Take(_, Resolution::Cancelled)));
    }

    #[test]
    fn callback_data_round_trips() {
        let c = Confirmations::new(DEFAULT_TTL);
        let t = reg(&c, 0);
        for choice in [Choice::Confirm, Choice::Cancel] {
            let data = callback_data(&t, choice);
            assert!(data.len() <= 64);
            assert_eq!(parse_callback(&data), Some((t.as_str(), choice)));
        }
        for bad in ["", "bc:", "bc::y", "bc:abc:z", "xx:abc:y", "bc:abc"] {
            assert_eq!(parse_callback(bad), None, "{bad}");
        }
    }
}
