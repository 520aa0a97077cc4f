//! Who may do what.
//!
//! Authorization is by Telegram user id only (`BERT_TRADERS`, `BERT_VIEWERS`), checked here,
//! before a command becomes an engine event: the engine trusts every `Command` it receives.
//!
//! Messages sent *on behalf of* a group or channel are never authorized. Telegram fills their
//! `from` with a placeholder account shared by everyone who can post that way:
//! * `1087968824` (GroupAnonymousBot): an anonymous group admin;
//! * `136817688` (Channel_Bot): a user posting as a channel;
//! * `777000` (Telegram): posts automatically forwarded from a linked channel.
//!
//! The caller should pass `None` as the user whenever the message has a `sender_chat`; these
//! ids are refused here as well, even if someone put them in `BERT_TRADERS`, because a
//! placeholder identifies nobody.

use super::parse::ChatCommand;
use std::collections::HashSet;

/// Telegram's placeholder sender for anonymous group administrators.
pub const GROUP_ANONYMOUS_BOT: i64 = 1_087_968_824;
/// Telegram's placeholder sender for messages posted as a channel.
pub const CHANNEL_BOT: i64 = 136_817_688;
/// Telegram's service account: sender of posts auto-forwarded from a linked channel.
pub const TELEGRAM_SERVICE: i64 = 777_000;

const PLACEHOLDERS: [i64; 3] = [GROUP_ANONYMOUS_BOT, CHANNEL_BOT, TELEGRAM_SERVICE];

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// May trade and read (`BERT_TRADERS`).
    Trader,
    /// May read (`BERT_VIEWERS`).
    Viewer,
    /// Anyone else, and every message without a real sender.
    Stranger,
}

/// Who a command is open to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// `/start`, `/help`, `/id`, `/lang`: needed to get set up at all.
    Anyone,
    /// Read-only commands: viewers and traders.
    Read,
    /// Commands that change trading state: traders only.
    Trade,
}

/// The outcome of an authorization check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    Allow,
    /// A viewer asked for a trade command: refuse with a reason ("only traders can do that").
    RefuseViewer,
    /// Not authorized at all: "not authorized, your id is N" in a private chat, silence in a
    /// group (so strangers cannot make the bot spam a shared chat).
    Stranger,
}

/// The configured traders and viewers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roles {
    pub traders: HashSet<i64>,
    pub viewers: HashSet<i64>,
}

impl Roles {
    pub fn new(traders: impl IntoIterator<Item = i64>, viewers: impl IntoIterator<Item = i64>) -> Self {
        Roles { traders: traders.into_iter().collect(), viewers: viewers.into_iter().collect() }
    }

    /// The role of a message's sender; `None` means no real sender (a message on behalf of a
    /// group or channel). A trader listed as a viewer too is a trader: traders can always read.
    pub fn role_of(&self, user: Option<i64>) -> Role {
        let Some(user) = user else { return Role::Stranger };
        if PLACEHOLDERS.contains(&user) {
            Role::Stranger
        } else if self.traders.contains(&user) {
            Role::Trader
        } else if self.viewers.contains(&user) {
            Role::Viewer
        } else {
            Role::Stranger
        }
    }
}

/// Who a command is open to.
pub fn access(command: &ChatCommand) -> Access {
    match command {
        ChatCommand::Start | ChatCommand::Help | ChatCommand::Id | ChatCommand::Lang(_) => Access::Anyone,
        ChatCommand::Performance | ChatCommand::Chart | ChatCommand::Alerts => Access::Read,
        ChatCommand::MoveStop { .. } => Access::Trade,
        ChatCommand::Engine(c) if c.is_trade() => Access::Trade,
        ChatCommand::Engine(_) => Access::Read,
    }
}

/// Whether `role` may use commands open to `access`.
pub fn allows(role: Role, access: Access) -> bool {
    matches!((role, access), (_, Access::Anyone) | (Role::Trader, _) | (Role::Viewer, Access::Read))
}

/// Decides whether `role` may run `command`.
pub fn authorize(role: Role, command: &ChatCommand) -> Verdict {
    let access = access(command);
    if allows(role, access) {
        Verdict::Allow
    } else if role == Role::Viewer {
        Verdict::RefuseViewer
    } else {
        Verdict::Stranger
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AssetCode, Symbol};
    use crate::engine::Command;
    use rust_decimal_macros::dec;

    fn btc() -> Symbol {
        let usdt = AssetCode::new("USDT").unwrap_or_else(|_| unreachable!());
        Symbol::parse("BTC", usdt).unwrap_or_else(|_| unreachable!())
    }

    /// Every command with the verdict for (trader, viewer, stranger).
    fn table() -> Vec<(ChatCommand, [Verdict; 3])> {
        use ChatCommand as C;
        use Verdict::{Allow as A, RefuseViewer as V, Stranger as S};
        vec![
            (C::Start, [A, A, A]),
            (C::Help, [A, A, A]),
            (C::Id, [A, A, A]),
            (C::Lang(None), [A, A, A]),
            (C::Lang(Some("ru".into())), [A, A, A]),
            (C::Engine(Command::List), [A, A, S]),
            (C::Engine(Command::Status), [A, A, S]),
            (C::Engine(Command::Balance), [A, A, S]),
            (C::Performance, [A, A, S]),
            (C::Chart, [A, A, S]),
            (C::Alerts, [A, A, S]),
            (C::Engine(Command::Enter(btc())), [A, V, S]),
            (C::Engine(Command::PreviewEnter(btc())), [A, V, S]),
            (C::Engine(Command::Exit(btc())), [A, V, S]),
            (C::Engine(Command::PreviewExit(btc())), [A, V, S]),
            (C::MoveStop { symbol: btc(), price: dec!(1) }, [A, V, S]),
            (C::Engine(Command::Pause), [A, V, S]),
            (C::Engine(Command::Resume), [A, V, S]),
        ]
    }

    #[test]
    fn every_command_for_every_role() {
        for (command, verdicts) in table() {
            for (role, want) in [Role::Trader, Role::Viewer, Role::Stranger].into_iter().zip(verdicts) {
                assert_eq!(authorize(role, &command), want, "{role:?} {command:?}");
            }
        }
    }

    #[test]
    fn roles_from_ids() {
        let roles = Roles::new([1, 2, GROUP_ANONYMOUS_BOT, CHANNEL_BOT, TELEGRAM_SERVICE], [2, 3]);
        assert_eq!(roles.role_of(Some(1)), Role::Trader);
        assert_eq!(roles.role_of(Some(2)), Role::Trader, "traders can always read");
        assert_eq!(roles.role_of(Some(3)), Role::Viewer);
        assert_eq!(roles.role_of(Some(4)), Role::Stranger);
        assert_eq!(roles.role_of(None), Role::Stranger, "no real sender");
        assert_eq!(roles.role_of(Some(GROUP_ANONYMOUS_BOT)), Role::Stranger, "anonymous admin");
        assert_eq!(roles.role_of(Some(CHANNEL_BOT)), Role::Stranger, "posted as a channel");
        assert_eq!(roles.role_of(Some(TELEGRAM_SERVICE)), Role::Stranger, "linked channel forward");
        assert_eq!(Roles::default().role_of(Some(1)), Role::Stranger);
    }
}
