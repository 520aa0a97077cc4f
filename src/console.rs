//! The console edition of the chat surface, for `bert demo --interactive`: the same parser,
//! authorization and rendering as Telegram, with plain text instead of HTML and the terminal in
//! place of a chat.
//!
//! Everything is synchronous and I/O-free except [`run_prompt`], a convenience loop over any
//! `BufRead`/`Write` pair (stdin/stdout in the demo, buffers in tests).

use crate::chat::auth::{Role, Verdict, authorize};
use crate::chat::parse::{ChatCommand, ParseError, parse};
use crate::chat::render::{self, Mode};
use crate::domain::AssetCode;
use crate::engine::{Audience, Event, Outgoing, Requester};
use crate::i18n::{Arg, Lang, tr};
use std::io::{self, BufRead, Write};

/// Marks an alert (a message every alert chat would receive).
pub const ALERT_MARK: &str = "🔔";
/// Marks a reply to the console user's own command.
pub const REPLY_MARK: &str = "↩";

/// Who the console user is. The console user is always a trader: whoever sits at the terminal
/// of `bert demo` is the operator of a paper account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsoleUser {
    pub user: i64,
    pub chat: i64,
}

impl ConsoleUser {
    /// User and chat 1 (the demo's console chat).
    pub const DEFAULT: ConsoleUser = ConsoleUser { user: 1, chat: 1 };

    pub fn requester(self) -> Requester {
        Requester { user: self.user, chat: self.chat }
    }
}

impl Default for ConsoleUser {
    fn default() -> Self {
        ConsoleUser::DEFAULT
    }
}

/// A chat id alone: a private chat, where (as on Telegram) the user's id is the chat's id.
impl From<i64> for ConsoleUser {
    fn from(chat: i64) -> Self {
        ConsoleUser { user: chat, chat }
    }
}

/// What the driver should do with a line typed at the console.
// `Engine` is much larger than the other variants, but an action is made once per typed line
// and moved straight into the engine: boxing it would cost an allocation and buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsoleAction {
    /// Feed this authorized `Event::Command` to the engine, then print its messages.
    Engine(Event),
    /// Print this reply (help, ids, errors), already rendered and marked like a chat reply.
    Reply(String),
    /// The user asked to leave (`quit`, `exit`, `q`). The caller treats end of input the same.
    Quit,
    /// Nothing to do (an empty line).
    Nothing,
}

/// A console session: who is typing, the quote asset symbols are read in, and the language
/// (which `/lang` changes, so it lives here rather than in the stateless [`handle_line`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Console {
    pub user: ConsoleUser,
    pub quote: AssetCode,
    pub lang: Lang,
}

impl Console {
    pub fn new(user: impl Into<ConsoleUser>, quote: AssetCode) -> Self {
        Console { user: user.into(), quote, lang: Lang::En }
    }

    /// Interprets one typed line. Lines without a leading slash are not commands (except the
    /// words that quit), exactly as in a Telegram chat.
    pub fn handle_line(&mut self, line: &str) -> ConsoleAction {
        let text = line.trim();
        if text.is_empty() {
            return ConsoleAction::Nothing;
        }
        if ["quit", "exit", "q", "/quit"].iter().any(|w| text.eq_ignore_ascii_case(w)) {
            return ConsoleAction::Quit;
        }
        let lang = self.lang;
        let command = match parse(text, None, self.quote) {
            Ok(command) => command,
            Err(ParseError::NotACommand) => {
                let hint = format!(
                    "{}\n{}",
                    render::render_error(&ParseError::NotACommand, lang, Mode::Plain),
                    tr(lang, "console-quit-hint", &[])
                );
                return ConsoleAction::Reply(mark(REPLY_MARK, &hint));
            }
            Err(e) => return ConsoleAction::Reply(mark(REPLY_MARK, &render::render_error(&e, lang, Mode::Plain))),
        };
        // The console user is a trader; going through `authorize` keeps one code path.
        let role = Role::Trader;
        if authorize(role, &command) != Verdict::Allow {
            return ConsoleAction::Reply(mark(REPLY_MARK, &render::viewer_refused(lang, Mode::Plain)));
        }
        let reply = match command {
            ChatCommand::Engine(command) => {
                return ConsoleAction::Engine(Event::Command { from: self.user.requester(), command });
            }
            // The paper book moves stops like the exchange does.
            ChatCommand::MoveStop { symbol, price } => {
                let command = crate::engine::Command::MoveStop { symbol, price };
                return ConsoleAction::Engine(Event::Command { from: self.user.requester(), command });
            }
            ChatCommand::Start => render::start(lang, role, Mode::Plain),
            ChatCommand::Help => render::help(lang, role, Mode::Plain),
            ChatCommand::Id => render::id_reply(Some(self.user.user), self.user.chat, lang, Mode::Plain),
            ChatCommand::Lang(code) => {
                let (new, text) = render::answer_lang(code.as_deref(), lang, Mode::Plain);
                self.lang = new;
                text
            }
            // Answered by the service from its store and the exchange; the demo prints the
            // performance summary and writes the chart at the end of its run instead.
            cmd @ (ChatCommand::Performance | ChatCommand::Chart | ChatCommand::Alerts) => {
                tr(lang, "console-unavailable", &[("command", Arg::from(cmd.name()))])
            }
        };
        ConsoleAction::Reply(mark(REPLY_MARK, &reply))
    }

    /// [`print_outgoing`] in this session's language.
    pub fn print(&self, out: &Outgoing) -> String {
        print_outgoing(out, self.lang)
    }
}

/// Interprets one typed line for `who` (a [`ConsoleUser`], or a chat id meaning a private chat),
/// in English. Stateless: a `/lang` change is answered but not remembered; use [`Console`] to
/// keep it.
pub fn handle_line(line: &str, who: impl Into<ConsoleUser>, quote: AssetCode) -> ConsoleAction {
    Console::new(who, quote).handle_line(line)
}

/// What a chat would show for one outgoing message, as plain text: `🔔` before alerts, `↩`
/// before replies, continuation lines indented under the first.
pub fn print_outgoing(out: &Outgoing, lang: Lang) -> String {
    let marker = match out.to {
        Audience::Alerts { .. } => ALERT_MARK,
        Audience::Chat(_) => REPLY_MARK,
    };
    mark(marker, &render::render(&out.notice, lang, Mode::Plain))
}

/// `marker text`, with every further line indented to line up under the text (the markers
/// are one emoji or arrow wide, displayed as two columns at most, plus the space).
fn mark(marker: &str, text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            out.push_str(marker);
            out.push(' ');
        } else {
            out.push('\n');
            if !line.is_empty() {
                out.push_str("   ");
            }
        }
        out.push_str(line);
    }
    if out.is_empty() {
        out.push_str(marker);
    }
    out
}

/// A prompt loop: reads lines from `input`, writes replies and engine messages to `output`,
/// and hands each engine event to `dispatch`, which returns the messages the engine produced
/// (or the driver's error, which ends the loop). Returns at `quit` or end of input.
pub fn run_prompt<R, W, E>(
    input: R,
    mut output: W,
    console: &mut Console,
    mut dispatch: impl FnMut(Event) -> Result<Vec<Outgoing>, E>,
) -> Result<(), E>
where
    R: BufRead,
    W: Write,
    E: From<io::Error>,
{
    let mut lines = input.lines();
    loop {
        write!(output, "> ")?;
        output.flush()?;
        let Some(line) = lines.next() else {
            writeln!(output)?;
            return Ok(());
        };
        match console.handle_line(&line?) {
            ConsoleAction::Engine(event) => {
                for message in dispatch(event)? {
                    writeln!(output, "{}", console.print(&message))?;
                }
            }
            ConsoleAction::Reply(text) => writeln!(output, "{text}")?,
            ConsoleAction::Quit => return Ok(()),
            ConsoleAction::Nothing => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Symbol;
    use crate::engine::{Category, Command, Notice, Refusal};

    fn usdt() -> AssetCode {
        AssetCode::new("USDT").unwrap_or_else(|_| unreachable!())
    }

    fn btc() -> Symbol {
        Symbol::parse("BTC", usdt()).unwrap_or_else(|_| unreachable!())
    }

    fn reply(action: ConsoleAction) -> String {
        match action {
            ConsoleAction::Reply(text) => text,
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    #[test]
    fn engine_commands_become_events_from_the_console_user() {
        let from = Requester { user: 1, chat: 1 };
        let table = [
            ("/list", Command::List),
            ("/status", Command::Status),
            ("/balance", Command::Balance),
            ("/pause", Command::Pause),
            ("/resume", Command::Resume),
            ("/enter btc", Command::Enter(btc())),
            ("/exit BTCUSDT", Command::Exit(btc())),
        ];
        for (line, command) in table {
            assert_eq!(handle_line(line, 1, usdt()), ConsoleAction::Engine(Event::Command { from, command }), "{line}");
        }
        let who = ConsoleUser { user: 7, chat: -100 };
        let ConsoleAction::Engine(Event::Command { from, .. }) = handle_line("/list", who, usdt()) else {
            panic!("expected an engine event")
        };
        assert_eq!(from, Requester { user: 7, chat: -100 });
    }

    #[test]
    fn quitting_and_blank_lines() {
        for line in ["quit", "exit", "QUIT", " q ", "/quit"] {
            assert_eq!(handle_line(line, 1, usdt()), ConsoleAction::Quit, "{line}");
        }
        assert_eq!(handle_line("", 1, usdt()), ConsoleAction::Nothing);
        assert_eq!(handle_line("   \t", 1, usdt()), ConsoleAction::Nothing);
    }

    #[test]
    fn chat_only_commands_are_answered_here() {
        let help = reply(handle_line("/help", 1, usdt()));
        assert!(help.starts_with(REPLY_MARK));
        for cmd in ["/enter", "/exit", "/stop", "/list", "/pause", "/lang"] {
            assert!(help.contains(cmd), "help lists {cmd}: {help}");
        }
        assert!(reply(handle_line("/start", 1, usdt())).contains("Bert"));
        assert!(reply(handle_line("/id", 5, usdt())).contains("Your id is 5, this chat's id is 5"));
        assert!(reply(handle_line("/chart", 1, usdt())).contains("/chart is not available"));
        assert!(matches!(
            handle_line("/stop btc 100", 1, usdt()),
            ConsoleAction::Engine(Event::Command { command: crate::engine::Command::MoveStop { .. }, .. })
        ));
        assert!(reply(handle_line("/stop btc", 1, usdt())).contains("Which price?"));
        assert!(reply(handle_line("/frobnicate", 1, usdt())).contains("/frobnicate"));
        let hint = reply(handle_line("hello", 1, usdt()));
        assert!(hint.contains("/help") && hint.contains("quit"), "{hint}");
        // Mentions cannot be ours in the console (it has no bot name).
        assert!(reply(handle_line("/list@SomeBot", 1, usdt())).contains("another bot"));
    }

    #[test]
    fn lang_is_remembered_by_the_session() {
        let mut console = Console::new(1, usdt());
        assert_eq!(reply(console.handle_line("/lang ru")), format!("{REPLY_MARK} Язык: русский."));
        assert_eq!(console.lang, Lang::Ru);
        assert!(reply(console.handle_line("/help")).contains("Доступные вам команды"));
        let unknown = reply(console.handle_line("/lang xx"));
        assert!(unknown.contains("«xx»"), "{unknown}");
        assert_eq!(console.lang, Lang::Ru);
        let msg = Outgoing { to: Audience::Chat(1), category: Category::Reply, position: None, notice: Notice::Paused };
        assert!(console.print(&msg).contains("Торговля на паузе"));
    }

    #[test]
    fn outgoing_is_marked_and_indented() {
        let alert = Outgoing {
            to: Audience::Alerts { also: None },
            category: Category::Warnings,
            position: None,
            notice: Notice::StopLost { symbol: btc(), reason: Some("expired".into()) },
        };
        let text = print_outgoing(&alert, Lang::En);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("🔔 ⚠️ The BTC stop was cancelled"), "{text}");
        assert_eq!(lines[1], "   Reason: expired");
        let answer = Outgoing {
            to: Audience::Chat(1),
            category: Category::Reply,
            position: None,
            notice: Notice::Refused(Refusal::AlreadyInPosition { symbol: btc() }),
        };
        assert_eq!(print_outgoing(&answer, Lang::En), "↩ ⛔ You already hold BTC. Use /exit BTC first.");
        assert!(!print_outgoing(&answer, Lang::En).contains('<'), "plain text has no markup");
    }

    #[test]
    fn prompt_loop() {
        let input = "/list\n\n/help\nhello\n/pause\nquit\n/list\n";
        let mut output = Vec::new();
        let mut console = Console::new(1, usdt());
        let mut seen = Vec::new();
        let result: Result<(), io::Error> = run_prompt(input.as_bytes(), &mut output, &mut console, |event| {
            seen.push(event);
            Ok(vec![Outgoing {
                to: Audience::Chat(1),
                category: Category::Reply,
                position: None,
                notice: Notice::Paused,
            }])
        });
        assert!(result.is_ok());
        assert_eq!(seen.len(), 2, "stops at quit: {seen:?}");
        let text = String::from_utf8(output).unwrap_or_default();
        assert!(text.contains("↩ ⏸ Trading paused"), "{text}");
        assert!(text.contains("Commands you can use"));
        // End of input ends the loop too.
        let mut output = Vec::new();
        let result: Result<(), io::Error> = run_prompt("/id".as_bytes(), &mut output, &mut console, |_| Ok(Vec::new()));
        assert!(result.is_ok());
        // The driver's error ends it as well.
        let result: Result<(), io::Error> =
            run_prompt("/list\n/list\n".as_bytes(), Vec::new(), &mut console, |_| Err(io::Error::other("engine down")));
        assert!(result.is_err());
    }
}
