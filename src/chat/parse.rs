//! Turning a chat message into a command.
//!
//! The parser is deliberately stricter and friendlier than teloxide's `BotCommands` (see the
//! reference notes, §5): command names are case-insensitive (`/Enter`), any whitespace
//! (several spaces, a newline) separates arguments, symbols are normalised here
//! (`btc`, `BTC`, `BTCUSDT`), prices are checked strictly, and every mistake has its own
//! [`ParseError`] so the user is told exactly what to fix. It never panics, whatever arrives
//! (emoji, control characters, megabytes of text): a proptest checks that.

use crate::domain::{AssetCode, Symbol};
use crate::engine::Command;
use rust_decimal::Decimal;

/// Telegram's longest message. Anything longer cannot have come from Telegram and is not
/// parsed further (the console might send it).
pub const MAX_INPUT_CHARS: usize = 4096;

/// How much of a bad input is echoed back in an error (in characters).
const ECHO_CHARS: usize = 32;

/// The largest integer digits a price may have: below 10^12 quote units. No spot price comes
/// near it (BTC in IDR is about 10^9), and it keeps typos like `1e99` or forty 9s out.
const PRICE_MAX_INT_DIGITS: usize = 12;
/// Binance prices have at most 8 decimals; 18 leaves room and stays far inside `Decimal`.
const PRICE_MAX_FRAC_DIGITS: usize = 18;

/// A command from a chat, parsed but not yet authorized.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatCommand {
    /// `/start`: introduction and the commands this user may use.
    Start,
    /// `/help`: the commands this user may use.
    Help,
    /// `/id`: the user's and the chat's ids.
    Id,
    /// `/lang [CODE]`: show or set the chat's language. The code is kept as typed (trimmed,
    /// at most 16 characters) so the reply can say which code was not understood.
    Lang(Option<String>),
    /// `/performance`: closed-trade statistics (answered from the store, not the engine).
    Performance,
    /// `/chart`: the equity curve image.
    Chart,
    /// `/alerts`: which alerts this chat receives.
    Alerts,
    /// `/stop SYMBOL PRICE`: move a position's exchange-side stop.
    MoveStop { symbol: Symbol, price: Decimal },
    /// A command the engine handles (`/enter`, `/exit`, `/list`, `/status`, `/balance`,
    /// `/pause`, `/resume`). `/enter` and `/exit` map to `Command::Enter`/`Command::Exit`; the
    /// confirmation layer decides whether to preview first.
    Engine(Command),
}

impl ChatCommand {
    /// The command's name as typed after the slash (for logs and metrics).
    pub fn name(&self) -> &'static str {
        match self {
            ChatCommand::Start => "start",
            ChatCommand::Help => "help",
            ChatCommand::Id => "id",
            ChatCommand::Lang(_) => "lang",
            ChatCommand::Performance => "performance",
            ChatCommand::Chart => "chart",
            ChatCommand::Alerts => "alerts",
            ChatCommand::MoveStop { .. } => "stop",
            ChatCommand::Engine(c) => match c {
                Command::PreviewEnter(_) | Command::Enter(_) => "enter",
                Command::PreviewExit(_) | Command::Exit(_) => "exit",
                Command::PreviewMoveStop { .. } | Command::MoveStop { .. } => "stop",
                Command::List => "list",
                Command::Status => "status",
                Command::Balance => "balance",
                Command::Pause => "pause",
                Command::Resume => "resume",
            },
        }
    }
}

/// Why a message is not a command Bert can act on. Each has its own localized message
/// (`chat::render::render_error`); [`ParseError::is_silent`] tells which ones a group chat
/// should not answer at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Plain text, not a command. The caller may ignore it.
    #[error("not a command")]
    NotACommand,
    /// `/cmd@SomeOtherBot`: meant for another bot in the group. The caller stays silent.
    #[error("command addressed to another bot")]
    OtherBot,
    /// An unknown command name (without the slash, lower-cased, at most 32 characters).
    #[error("unknown command /{0}")]
    Unknown(String),
    /// `/enter`, `/exit` or `/stop` without a symbol; carries the command name.
    #[error("/{0} needs a symbol")]
    MissingSymbol(&'static str),
    /// The symbol argument is not an asset code or pair (as typed, at most 32 characters).
    #[error("not a symbol: {0}")]
    BadSymbol(String),
    /// `/stop SYMBOL` without a price.
    #[error("/stop needs a price")]
    MissingPrice,
    /// The price is not a plain positive decimal of sensible size (as typed, shortened).
    #[error("not a price: {0}")]
    BadPrice(String),
    /// More arguments than the command takes (for commands where an extra word likely means
    /// a misunderstanding, e.g. `/enter btc eth`); carries the command name.
    #[error("too many arguments for /{0}")]
    TooManyArgs(&'static str),
    /// Longer than any Telegram message can be.
    #[error("message too long")]
    TooLong,
}

impl ParseError {
    /// True when a group chat should get no reply at all: plain conversation and commands for
    /// other bots. (A private chat may still answer `NotACommand` with a hint.)
    pub fn is_silent(&self) -> bool {
        matches!(self, ParseError::NotACommand | ParseError::OtherBot)
    }
}

/// Parses a chat message.
///
/// `bot_username` is the bot's own name (with or without `@`); `/cmd@Name` is accepted when
/// `Name` equals it case-insensitively, and any other mention (or any mention at all when the
/// name is unknown, `None`) gives [`ParseError::OtherBot`], so Bert never answers commands
/// aimed at another bot in a shared group. `quote` is the quote asset symbols are read in.
pub fn parse(text: &str, bot_username: Option<&str>, quote: AssetCode) -> Result<ChatCommand, ParseError> {
    let text = text.trim_start();
    let Some(rest) = text.strip_prefix('/') else {
        return Err(ParseError::NotACommand);
    };
    if text.chars().nth(MAX_INPUT_CHARS).is_some() {
        return Err(ParseError::TooLong);
    }
    let mut words = rest.split_whitespace();
    // `rest` may start with whitespace (`/ list`): then the name is empty.
    let head = if rest.starts_with(char::is_whitespace) { "" } else { words.next().unwrap_or("") };
    let (name, mention) = match head.split_once('@') {
        Some((name, bot)) => (name, Some(bot)),
        None => (head, None),
    };
    if let Some(bot) = mention {
        let ours = bot_username.map(|b| b.trim_start_matches('@'));
        if !ours.is_some_and(|ours| !ours.is_empty() && ours.eq_ignore_ascii_case(bot)) {
            return Err(ParseError::OtherBot);
        }
    }
    let args: Vec<&str> = words.collect();
    let name = name.to_ascii_lowercase();
    match name.as_str() {
        "start" => Ok(ChatCommand::Start),
        "help" => Ok(ChatCommand::Help),
        "id" => Ok(ChatCommand::Id),
        "performance" => Ok(ChatCommand::Performance),
        "chart" => Ok(ChatCommand::Chart),
        "alerts" => Ok(ChatCommand::Alerts),
        "list" => Ok(ChatCommand::Engine(Command::List)),
        "status" => Ok(ChatCommand::Engine(Command::Status)),
        "balance" => Ok(ChatCommand::Engine(Command::Balance)),
        "pause" => Ok(ChatCommand::Engine(Command::Pause)),
        "resume" => Ok(ChatCommand::Engine(Command::Resume)),
        "lang" => Ok(ChatCommand::Lang(args.first().map(|code| clean_echo(code, 16)))),
        "enter" => {
            let symbol = one_symbol("enter", &args, quote)?;
            Ok(ChatCommand::Engine(Command::Enter(symbol)))
        }
        "exit" => {
            let symbol = one_symbol("exit", &args, quote)?;
            Ok(ChatCommand::Engine(Command::Exit(symbol)))
        }
        "stop" => {
            let symbol = symbol_arg("stop", args.first().copied(), quote)?;
            let price = args.get(1).ok_or(ParseError::MissingPrice)?;
            let price = parse_price(price).ok_or_else(|| ParseError::BadPrice(clean_echo(price, ECHO_CHARS)))?;
            if args.len() > 2 {
                return Err(ParseError::TooManyArgs("stop"));
            }
            Ok(ChatCommand::MoveStop { symbol, price })
        }
        _ => Err(ParseError::Unknown(clean_echo(&name, ECHO_CHARS))),
    }
}

fn one_symbol(command: &'static str, args: &[&str], quote: AssetCode) -> Result<Symbol, ParseError> {
    let symbol = symbol_arg(command, args.first().copied(), quote)?;
    if args.len() > 1 {
        return Err(ParseError::TooManyArgs(command));
    }
    Ok(symbol)
}

fn symbol_arg(command: &'static str, arg: Option<&str>, quote: AssetCode) -> Result<Symbol, ParseError> {
    let arg = arg.ok_or(ParseError::MissingSymbol(command))?;
    Symbol::parse(arg, quote).map_err(|_| ParseError::BadSymbol(clean_echo(arg, ECHO_CHARS)))
}

/// What is echoed back of a bad input: no control characters, at most `max` characters.
fn clean_echo(input: &str, max: usize) -> String {
    let clean = super::format::sanitize(input);
    super::format::truncate_chars(&clean, max).into_owned()
}

/// A price as a person types it: ASCII digits with at most one `.`, positive, fewer than
/// [`PRICE_MAX_INT_DIGITS`] integer digits and at most [`PRICE_MAX_FRAC_DIGITS`] decimals.
///
/// No signs, exponents, grouping or decimal commas: `41,000` could mean 41 or 41000, and a
/// misread stop price is dangerous, so ambiguity is refused rather than guessed.
pub fn parse_price(input: &str) -> Option<Decimal> {
    let (int, frac) = input.split_once('.').unwrap_or((input, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let int = int.trim_start_matches('0');
    if int.len() > PRICE_MAX_INT_DIGITS || frac.len() > PRICE_MAX_FRAC_DIGITS {
        return None;
    }
    let int = if int.is_empty() { "0" } else { int };
    let text = if frac.is_empty() { int.to_owned() } else { format!("{int}.{frac}") };
    // 12 + 18 digits can exceed `Decimal`'s 96-bit mantissa; `from_str_exact` refuses what it
    // would have to round instead of silently changing the price.
    let value = Decimal::from_str_exact(&text).ok()?;
    (value > Decimal::ZERO).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;
    use std::str::FromStr;

    fn usdt() -> AssetCode {
        AssetCode::new("USDT").unwrap_or_else(|_| unreachable!())
    }

    fn sym(base: &str) -> Symbol {
        Symbol::parse(base, usdt()).unwrap_or_else(|_| unreachable!())
    }

    fn p(text: &str) -> Result<ChatCommand, ParseError> {
        parse(text, Some("Bert_Bot"), usdt())
    }

    #[test]
    fn every_command() {
        use ChatCommand as C;
        let table: Vec<(&str, ChatCommand)> = vec![
            ("/start", C::Start),
            ("/help", C::Help),
            ("/id", C::Id),
            ("/performance", C::Performance),
            ("/chart", C::Chart),
            ("/alerts", C::Alerts),
            ("/list", C::Engine(Command::List)),
            ("/status", C::Engine(Command::Status)),
            ("/balance", C::Engine(Command::Balance)),
            ("/pause", C::Engine(Command::Pause)),
            ("/resume", C::Engine(Command::Resume)),
            ("/lang", C::Lang(None)),
            ("/lang ru", C::Lang(Some("ru".into()))),
            ("/lang xx-YY", C::Lang(Some("xx-YY".into()))),
            ("/enter btc", C::Engine(Command::Enter(sym("BTC")))),
            ("/enter BTC", C::Engine(Command::Enter(sym("BTC")))),
            ("/enter BTCUSDT", C::Engine(Command::Enter(sym("BTC")))),
            ("/enter ethusdt", C::Engine(Command::Enter(sym("ETH")))),
            ("/exit sol", C::Engine(Command::Exit(sym("SOL")))),
            ("/stop btc 41000", C::MoveStop { symbol: sym("BTC"), price: dec!(41000) }),
            ("/stop BTCUSDT 41000.5", C::MoveStop { symbol: sym("BTC"), price: dec!(41000.5) }),
            ("/stop pepe 0.00001234", C::MoveStop { symbol: sym("PEPE"), price: dec!(0.00001234) }),
            ("/stop btc .5", C::MoveStop { symbol: sym("BTC"), price: dec!(0.5) }),
            ("/stop btc 5.", C::MoveStop { symbol: sym("BTC"), price: dec!(5) }),
            // Forms people and clients produce.
            ("/Enter Btc", C::Engine(Command::Enter(sym("BTC")))),
            ("/LIST", C::Engine(Command::List)),
            ("  /list", C::Engine(Command::List)),
            ("/enter   btc  ", C::Engine(Command::Enter(sym("BTC")))),
            ("/enter\nbtc", C::Engine(Command::Enter(sym("BTC")))),
            ("/start deeplink-payload", C::Start),
            ("/list extra words", C::Engine(Command::List)),
            // Mentions.
            ("/list@Bert_Bot", C::Engine(Command::List)),
            ("/list@bert_bot", C::Engine(Command::List)),
            ("/enter@BERT_BOT eth", C::Engine(Command::Enter(sym("ETH")))),
            ("/stop@Bert_Bot btc 1", C::MoveStop { symbol: sym("BTC"), price: dec!(1) }),
        ];
        for (text, want) in table {
            assert_eq!(p(text), Ok(want), "{text:?}");
        }
    }

    #[test]
    fn mentions_of_other_bots_are_silent() {
        assert_eq!(p("/list@OtherBot"), Err(ParseError::OtherBot));
        assert_eq!(p("/enter@other_bot btc"), Err(ParseError::OtherBot));
        assert_eq!(p("/nonsense@other_bot"), Err(ParseError::OtherBot));
        assert_eq!(p("/list@"), Err(ParseError::OtherBot));
        // The bot's name may be configured with its @.
        assert_eq!(parse("/list@Bert_Bot", Some("@bert_bot"), usdt()), Ok(ChatCommand::Engine(Command::List)));
        // Unknown own name: no mention can be ours.
        assert_eq!(parse("/list@Bert_Bot", None, usdt()), Err(ParseError::OtherBot));
        assert_eq!(parse("/list", None, usdt()), Ok(ChatCommand::Engine(Command::List)));
        assert!(ParseError::OtherBot.is_silent() && ParseError::NotACommand.is_silent());
        assert!(!ParseError::MissingPrice.is_silent());
    }

    #[test]
    fn bad_inputs() {
        use ParseError as E;
        let long = format!("/list {}", "x".repeat(5000));
        let table: Vec<(&str, ParseError)> = vec![
            ("hello", E::NotACommand),
            ("", E::NotACommand),
            ("   ", E::NotACommand),
            ("🚀 to the moon", E::NotACommand),
            ("list", E::NotACommand),
            ("/", E::Unknown(String::new())),
            ("/ list", E::Unknown(String::new())),
            ("/foo", E::Unknown("foo".into())),
            ("/🚀", E::Unknown("🚀".into())),
            ("/enter", E::MissingSymbol("enter")),
            ("/exit", E::MissingSymbol("exit")),
            ("/exit   ", E::MissingSymbol("exit")),
            ("/stop", E::MissingSymbol("stop")),
            ("/stop btc", E::MissingPrice),
            ("/stop btc abc", E::BadPrice("abc".into())),
            ("/stop btc -1", E::BadPrice("-1".into())),
            ("/stop btc +1", E::BadPrice("+1".into())),
            ("/stop btc 0", E::BadPrice("0".into())),
            ("/stop btc 0.000", E::BadPrice("0.000".into())),
            ("/stop btc 1e99", E::BadPrice("1e99".into())),
            ("/stop btc 1E5", E::BadPrice("1E5".into())),
            ("/stop btc 41,000", E::BadPrice("41,000".into())),
            ("/stop btc 1.2.3", E::BadPrice("1.2.3".into())),
            ("/stop btc .", E::BadPrice(".".into())),
            ("/stop btc NaN", E::BadPrice("NaN".into())),
            ("/stop btc ٤٢", E::BadPrice("٤٢".into())),
            ("/stop btc 1000000000000", E::BadPrice("1000000000000".into())),
            ("/stop btc 0.0000000000000000001", E::BadPrice("0.0000000000000000001".into())),
            ("/stop btc 1 2", E::TooManyArgs("stop")),
            ("/stop b-c 1", E::BadSymbol("b-c".into())),
            ("/enter btc eth", E::TooManyArgs("enter")),
            ("/enter BT-C", E::BadSymbol("BT-C".into())),
            ("/enter btc/usdt", E::BadSymbol("btc/usdt".into())),
            ("/enter 🚀", E::BadSymbol("🚀".into())),
            ("/enter usdt", E::BadSymbol("usdt".into())),
            ("/exit $BTC", E::BadSymbol("$BTC".into())),
            (long.as_str(), E::TooLong),
        ];
        for (text, want) in table {
            assert_eq!(p(text), Err(want), "{text:?}");
        }
        // Echoes are short and clean.
        let Err(E::BadSymbol(echo)) = p(&format!("/enter {}", "Ж".repeat(500))) else { panic!("expected BadSymbol") };
        assert_eq!(echo.chars().count(), ECHO_CHARS + 1);
        let Err(E::Unknown(echo)) = p("/a\u{1b}[31mb") else { panic!("expected Unknown") };
        assert!(!echo.contains('\u{1b}'));
        // Exactly at the limit is still parsed.
        let at_limit = format!("/list {}", "x".repeat(MAX_INPUT_CHARS - 6));
        assert_eq!(at_limit.chars().count(), MAX_INPUT_CHARS);
        assert_eq!(p(&at_limit), Ok(ChatCommand::Engine(Command::List)));
    }

    #[test]
    fn price_limits() {
        assert_eq!(parse_price("999999999999.9999999999999999"), Some(dec!(999999999999.9999999999999999)));
        assert_eq!(parse_price("999999999999.999999999999999999"), None, "would need rounding");
        assert_eq!(parse_price("0000000000000000041000"), Some(dec!(41000)));
        assert_eq!(parse_price("0.000000000000000001"), Some(dec!(0.000000000000000001)));
        assert_eq!(parse_price(&"9".repeat(40)), None);
    }

    #[test]
    fn names_round_trip() {
        for text in ["/start", "/help", "/id", "/lang", "/performance", "/chart", "/alerts", "/list", "/status"] {
            let cmd = p(text).unwrap_or(ChatCommand::Start);
            assert_eq!(format!("/{}", cmd.name()), text);
        }
        assert_eq!(p("/stop btc 1").map(|c| c.name()), Ok("stop"));
        assert_eq!(p("/enter btc").map(|c| c.name()), Ok("enter"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn never_panics(text in any::<String>()) {
            let _ = p(&text);
            let _ = p(&format!("/{text}"));
            let _ = p(&format!("/stop btc {text}"));
            let _ = p(&format!("/enter {text}"));
            let _ = parse(&text, None, usdt());
        }

        #[test]
        fn never_panics_on_command_shaped_input(
            name in "[a-zA-Z@_]{0,12}",
            args in proptest::collection::vec("\\PC{0,20}", 0..4),
        ) {
            let text = format!("/{name} {}", args.join(" "));
            let _ = p(&text);
        }

        #[test]
        fn accepted_prices_are_positive_and_round_trip(int in 0u64..1_000_000_000_000, frac in "[0-9]{0,18}") {
            let text = if frac.is_empty() { int.to_string() } else { format!("{int}.{frac}") };
            if let Some(price) = parse_price(&text) {
                prop_assert!(price > Decimal::ZERO);
                prop_assert_eq!(Decimal::from_str(&text).ok(), Some(price));
            } else {
                prop_assert!(Decimal::from_str_exact(&text).map(|d| d.is_zero()).unwrap_or(true));
            }
        }
    }
}
