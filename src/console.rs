//! The console edition of the chat surface, for `bert demo --interactive`: the same parser,
//! authorization and rendering as Telegram, with plain text instead of HTML and the terminal in
//! place of a chat.
//!
//! `/performance`, `/chart` and `/alerts` are answered with the same texts and chart as in
//! Telegram ([`crate::chat::views`]), from a [`ViewSource`] (the demo's store and simulation).
//! The console has no buttons, so alerts are switched by text: `/alerts fills off`.
//!
//! Everything is synchronous and I/O-free except [`run_prompt`], a convenience loop over any
//! `BufRead`/`Write` pair (stdin/stdout in the demo, buffers in tests), and what a
//! [`ViewSource`] does (the demo's reads the store and writes the chart file).

use crate::chat::auth::{Role, Verdict, authorize};
use crate::chat::parse::{ChatCommand, ParseError, parse};
use crate::chat::render::{self, Mode};
use crate::chat::views::{self, AlertsSwitch};
use crate::domain::{AssetCode, ClosedTrade, Timestamp};
use crate::engine::{Audience, Event, Outgoing, Requester};
use crate::i18n::{Arg, Lang, tr};
use crate::store::ChatSettings;
use rust_decimal::Decimal;
use std::io::{self, BufRead, Write};
use std::path::PathBuf;

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
    /// Answer a view from the account's data: [`Console::answer_view`].
    View(View),
    /// The user asked to leave (`quit`, `exit`, `q`). The caller treats end of input the same.
    Quit,
    /// Nothing to do (an empty line).
    Nothing,
}

/// A view the console answers from a [`ViewSource`] rather than the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// `/performance`: closed-trade statistics.
    Performance,
    /// `/chart`: the equity curve, written to a PNG file.
    Chart,
    /// `/alerts`: the categories this chat receives, or (`/alerts fills off`) a switch.
    Alerts(Option<AlertsSwitch>),
}

/// What the console's views read and change: in the demo, its store (closed trades, the chat's
/// settings), its engine (the account) and its data folder (the chart). Errors are texts for
/// the log; the user is told only that the view is unavailable.
pub trait ViewSource {
    fn closed_trades(&self) -> Result<Vec<ClosedTrade>, String>;
    /// The portfolio value (`None` while unknown) and the open positions' unrealized P&L.
    fn account(&self) -> (Option<Decimal>, Decimal);
    /// "Now" for the chart's last point.
    fn now(&self) -> Timestamp;
    fn chat_settings(&self, chat: i64) -> Result<ChatSettings, String>;
    /// Applies `switch` to the chat's settings (durably); returns the new settings.
    fn switch_alerts(&self, chat: i64, switch: AlertsSwitch) -> Result<ChatSettings, String>;
    /// Stores the chart's PNG; returns where it is.
    fn save_chart(&self, png: &[u8]) -> Result<PathBuf, String>;
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
            ChatCommand::Performance => return ConsoleAction::View(View::Performance),
            ChatCommand::Chart => return ConsoleAction::View(View::Chart),
            // Telegram switches with buttons; here the switch is typed after the command (the
            // parser ignores `/alerts`'s arguments, so they are read from the line).
            ChatCommand::Alerts => {
                let args: Vec<&str> = text.split_whitespace().skip(1).collect();
                match views::parse_alerts_args(&args) {
                    Ok(switch) => return ConsoleAction::View(View::Alerts(switch)),
                    Err(()) => views::alerts_usage(lang, Mode::Plain),
                }
            }
        };
        ConsoleAction::Reply(mark(REPLY_MARK, &reply))
    }

    /// Answers a view from `source`, marked as a reply. `/chart` draws the same chart as
    /// Telegram's and tells where the file is.
    pub fn answer_view(&self, view: View, source: &dyn ViewSource) -> String {
        let lang = self.lang;
        let quote = self.quote.to_string();
        let unavailable = |key: &str, error: String| {
            tracing::error!(error = %error, "console view failed");
            format!("⚠️ {}", tr(lang, key, &[]))
        };
        let text = match view {
            View::Performance => match source.closed_trades() {
                Ok(trades) => {
                    let (portfolio, open_pnl) = source.account();
                    let start = views::implied_start(&trades, portfolio, open_pnl);
                    views::performance_text(&trades, start, &quote, lang, Mode::Plain)
                }
                Err(e) => unavailable("stats-unavailable", e),
            },
            View::Chart => match source.closed_trades() {
                Ok(trades) => {
                    let (portfolio, open_pnl) = source.account();
                    let data = views::chart_data(&trades, portfolio, open_pnl, source.now());
                    let title = tr(lang, "chart-title", &[]);
                    let saved = crate::chart::equity_png(
                        &title,
                        &data.points,
                        &data.marks,
                        views::CHART_WIDTH,
                        views::CHART_HEIGHT,
                    )
                    .map_err(|e| e.to_string())
                    .and_then(|png| source.save_chart(&png));
                    match saved {
                        Ok(path) => format!(
                            "📉 {}\n{}",
                            views::chart_caption(&trades, portfolio, &quote, lang, Mode::Plain),
                            tr(lang, "console-chart-saved", &[("path", Arg::from(path.display().to_string()))])
                        ),
                        Err(e) => unavailable("chart-failed", e),
                    }
                }
                Err(e) => unavailable("stats-unavailable", e),
            },
            View::Alerts(switch) => {
                let chat = self.user.chat;
                let (settings, switched) = match switch {
                    None => (source.chat_settings(chat), None),
                    Some(sw) => (source.switch_alerts(chat, sw), Some(sw.category)),
                };
                match settings {
                    Ok(settings) => {
                        let list = views::alerts_text(&settings, lang, Mode::Plain, "console-alerts-title");
                        let usage = views::alerts_usage(lang, Mode::Plain);
                        match switched {
                            Some(c) => format!("{}\n\n{list}", views::alerts_switched(c, settings.mutes(c), lang)),
                            None => format!("{list}\n{usage}"),
                        }
                    }
                    Err(e) => unavailable("console-alerts-unavailable", e),
                }
            }
        };
        mark(REPLY_MARK, &text)
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

/// The answer to a view in a session that has no [`ViewSource`].
fn unavailable(view: View, lang: Lang) -> String {
    let name = match view {
        View::Performance => "performance",
        View::Chart => "chart",
        View::Alerts(_) => "alerts",
    };
    mark(REPLY_MARK, &tr(lang, "console-unavailable", &[("command", Arg::from(name))]))
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
/// (or the driver's error, which ends the loop). Views are answered from `views`, and without
/// one are "not available". Returns at `quit` or end of input.
pub fn run_prompt<R, W, E>(
    input: R,
    mut output: W,
    console: &mut Console,
    views: Option<&dyn ViewSource>,
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
            ConsoleAction::View(view) => match views {
                Some(source) => writeln!(output, "{}", console.answer_view(view, source))?,
                None => writeln!(output, "{}", unavailable(view, console.lang))?,
            },
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
        assert_eq!(handle_line("/chart", 1, usdt()), ConsoleAction::View(View::Chart));
        assert_eq!(handle_line("/performance", 1, usdt()), ConsoleAction::View(View::Performance));
        assert_eq!(handle_line("/alerts", 1, usdt()), ConsoleAction::View(View::Alerts(None)));
        let off = AlertsSwitch { category: Category::Fills, on: Some(false) };
        assert_eq!(handle_line("/alerts Fills off", 1, usdt()), ConsoleAction::View(View::Alerts(Some(off))));
        let usage = reply(handle_line("/alerts fills sometimes", 1, usdt()));
        assert!(usage.contains("/alerts") && usage.contains("fills, signals, performance, warnings"), "{usage}");
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
        let result: Result<(), io::Error> = run_prompt(input.as_bytes(), &mut output, &mut console, None, |event| {
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
        let result: Result<(), io::Error> =
            run_prompt("/id".as_bytes(), &mut output, &mut console, None, |_| Ok(Vec::new()));
        assert!(result.is_ok());
        // The driver's error ends it as well.
        let result: Result<(), io::Error> =
            run_prompt("/list\n/list\n".as_bytes(), Vec::new(), &mut console, None, |_| {
                Err(io::Error::other("engine down"))
            });
        assert!(result.is_err());
    }

    /// An account with two closed trades (the report tests' fixture) and a settings cell.
    struct Fake {
        settings: std::cell::RefCell<ChatSettings>,
        saved: std::cell::RefCell<Vec<Vec<u8>>>,
        broken: bool,
    }

    impl ViewSource for Fake {
        fn closed_trades(&self) -> Result<Vec<ClosedTrade>, String> {
            if self.broken {
                return Err("disk on fire".into());
            }
            use crate::report::tests::{day, trade};
            use rust_decimal_macros::dec;
            Ok(vec![
                trade(1, "BTC", day(2024, 1, 2), day(2024, 1, 9), dec!(50), dec!(1)),
                trade(2, "ETH", day(2024, 1, 10), day(2024, 2, 3), dec!(-20), dec!(0.5)),
            ])
        }
        fn account(&self) -> (Option<Decimal>, Decimal) {
            (Some(Decimal::from(1030)), Decimal::ZERO)
        }
        fn now(&self) -> Timestamp {
            crate::report::tests::day(2024, 3, 1)
        }
        fn chat_settings(&self, _chat: i64) -> Result<ChatSettings, String> {
            Ok(self.settings.borrow().clone())
        }
        fn switch_alerts(&self, _chat: i64, switch: AlertsSwitch) -> Result<ChatSettings, String> {
            switch.apply(&mut self.settings.borrow_mut());
            Ok(self.settings.borrow().clone())
        }
        fn save_chart(&self, png: &[u8]) -> Result<PathBuf, String> {
            self.saved.borrow_mut().push(png.to_vec());
            Ok(PathBuf::from("/data/chart.png"))
        }
    }

    #[test]
    fn views_answer_with_the_telegram_texts_in_plain() {
        let fake = Fake { settings: Default::default(), saved: Default::default(), broken: false };
        let mut console = Console::new(1, usdt());
        let perf = console.answer_view(View::Performance, &fake);
        let trades = fake.closed_trades().unwrap_or_default();
        let start = views::implied_start(&trades, Some(Decimal::from(1030)), Decimal::ZERO);
        let html = views::performance_text(&trades, start, "USDT", Lang::En, Mode::Html);
        // The same statistics as Telegram's, without the markup.
        assert_eq!(perf, mark(REPLY_MARK, &crate::telegram::coalesce::html_to_plain(&html)));
        assert!(perf.starts_with("↩ 📈 Closed trades: 2") && perf.contains("win rate 50.00%"), "{perf}");

        let chart = console.answer_view(View::Chart, &fake);
        assert!(chart.contains("Portfolio now: 1,030.00 USDT") && chart.contains("/data/chart.png"), "{chart}");
        assert!(fake.saved.borrow()[0].starts_with(b"\x89PNG"));

        let list = console.answer_view(View::Alerts(None), &fake);
        assert!(list.contains("✅ Fills: on") && list.contains("/alerts"), "{list}");
        assert!(!list.contains("tap a button"), "the console has no buttons: {list}");
        let off = AlertsSwitch { category: Category::Fills, on: Some(false) };
        let switched = console.answer_view(View::Alerts(Some(off)), &fake);
        assert!(switched.starts_with("↩ Fills: off") && switched.contains("🔕 Fills: off"), "{switched}");
        assert_eq!(fake.settings.borrow().muted, vec![Category::Fills]);

        console.handle_line("/lang es");
        assert!(console.answer_view(View::Performance, &fake).contains("Operaciones cerradas"));
        let broken = Fake { broken: true, ..fake };
        assert!(console.answer_view(View::Chart, &broken).contains("⚠️"));
    }
}
