//! Configuration: a TOML file plus the environment variables of the operator contract (an env
//! var wins over the file). Secrets come only from the environment and live in [`Secret`], whose
//! `Debug` and `Display` print `***`.
//!
//! Every problem is one line naming the setting and what is wrong; `main` prints it and exits
//! with code 2.

use crate::domain::AssetCode;
use crate::engine::Settings;
use crate::exchange::binance::urls::{BinanceMode, BinanceUrls};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use crate::secret::Secret;

/// Where orders go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExchangeMode {
    /// A Binance environment with keys.
    Binance(BinanceMode),
    /// Live public market data, simulated fills.
    Paper,
}

impl fmt::Display for ExchangeMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExchangeMode::Binance(m) => write!(f, "{m}"),
            ExchangeMode::Paper => f.write_str("paper"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// One bad setting.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct ConfigError {
    pub setting: String,
    pub problem: String,
}

fn bad(setting: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError { setting: setting.to_string(), problem: problem.into() }
}

/// The effective configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub telegram_token: Option<Secret>,
    pub telegram_api_url: String,
    pub binance_key: Option<Secret>,
    pub binance_secret: Option<Secret>,
    pub exchange: ExchangeMode,
    pub urls: BinanceUrls,
    pub data_dir: PathBuf,
    pub traders: Vec<i64>,
    pub viewers: Vec<i64>,
    pub alert_chats: Vec<i64>,
    pub symbols: Vec<AssetCode>,
    pub confirm: bool,
    /// Risk and execution rules, including the quote asset and auto-trade.
    pub settings: Settings,
    /// Period of the open-positions performance alert in milliseconds; `None` = off.
    pub performance_every_ms: Option<i64>,
    pub log_format: Option<LogFormat>,
    pub http_addr: SocketAddr,
}

/// The TOML file: every non-secret setting, lower-case without the `BERT_` prefix.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    telegram_api_url: Option<String>,
    exchange: Option<String>,
    binance_rest_url: Option<String>,
    binance_ws_api_url: Option<String>,
    binance_stream_url: Option<String>,
    data_dir: Option<String>,
    traders: Option<Vec<i64>>,
    viewers: Option<Vec<i64>>,
    alert_chats: Option<Vec<i64>>,
    quote_asset: Option<String>,
    symbols: Option<Vec<String>>,
    auto_trade: Option<bool>,
    confirm: Option<bool>,
    risk_per_trade_pct: Option<toml::Value>,
    stop_pct: Option<toml::Value>,
    max_position_pct: Option<toml::Value>,
    max_open_positions: Option<u32>,
    max_portfolio_risk_pct: Option<toml::Value>,
    entry_slippage_pct: Option<toml::Value>,
    bnb_min: Option<toml::Value>,
    unexplained_balance_min: Option<toml::Value>,
    performance_every: Option<String>,
    log_format: Option<String>,
    http_addr: Option<String>,
}

/// The symbols watched when `BERT_SYMBOLS` is not set.
pub const DEFAULT_SYMBOLS: &[&str] = &["BTC", "ETH", "SOL", "BNB", "XRP"];

/// Names of the secret variables; the file may not carry them.
const SECRET_KEYS: &[&str] = &["telegram_bot_token", "binance_api_key", "binance_api_secret", "api_key", "api_secret"];

impl Config {
    /// Reads the file (if any) and the environment through `env` (injected, so tests do not
    /// touch the process environment).
    pub fn load(file: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let file_cfg = match file {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let get = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        // A value from the environment, else from the file (as text), with the env var's name
        // used in messages either way so the operator knows what to fix.
        let pick = |var: &str, from_file: Option<String>| get(var).or(from_file);

        let telegram_token = get("TELEGRAM_BOT_TOKEN").map(Secret::new);
        let binance_key = get("BINANCE_API_KEY").map(Secret::new);
        let binance_secret = get("BINANCE_API_SECRET").map(Secret::new);
        if binance_key.is_some() != binance_secret.is_some() {
            let missing = if binance_key.is_none() { "BINANCE_API_KEY" } else { "BINANCE_API_SECRET" };
            return Err(bad(missing, "is missing (set both BINANCE_API_KEY and BINANCE_API_SECRET, or neither)"));
        }
        let has_keys = binance_key.is_some();

        let exchange = match pick("BERT_EXCHANGE", file_cfg.exchange.clone()) {
            None if has_keys => ExchangeMode::Binance(BinanceMode::Live),
            None => ExchangeMode::Paper,
            Some(v) if v.eq_ignore_ascii_case("paper") => ExchangeMode::Paper,
            Some(v) => match BinanceMode::parse(&v) {
                Some(m) => ExchangeMode::Binance(m),
                None => return Err(bad("BERT_EXCHANGE", format!("must be live, testnet, demo or paper, got '{v}'"))),
            },
        };
        if let ExchangeMode::Binance(m) = exchange
            && !has_keys
        {
            return Err(bad("BERT_EXCHANGE", format!("{m} mode needs BINANCE_API_KEY and BINANCE_API_SECRET")));
        }
        let url_mode = match exchange {
            ExchangeMode::Binance(m) => m,
            ExchangeMode::Paper => BinanceMode::Live,
        };
        let rest = pick("BERT_BINANCE_REST_URL", file_cfg.binance_rest_url.clone());
        let ws = pick("BERT_BINANCE_WS_API_URL", file_cfg.binance_ws_api_url.clone());
        let stream = pick("BERT_BINANCE_STREAM_URL", file_cfg.binance_stream_url.clone());
        for (name, v, schemes) in [
            ("BERT_BINANCE_REST_URL", &rest, ["http://", "https://"]),
            ("BERT_BINANCE_WS_API_URL", &ws, ["ws://", "wss://"]),
            ("BERT_BINANCE_STREAM_URL", &stream, ["ws://", "wss://"]),
        ] {
            if let Some(v) = v
                && !schemes.iter().any(|s| v.starts_with(s))
            {
                return Err(bad(name, format!("must start with {} or {}, got '{v}'", schemes[0], schemes[1])));
            }
        }
        let urls =
            url_mode.default_urls().with_overrides(rest.as_deref(), ws.as_deref(), stream.as_deref()).normalized();

        let telegram_api_url = pick("BERT_TELEGRAM_API_URL", file_cfg.telegram_api_url.clone())
            .unwrap_or_else(|| "https://api.telegram.org".to_string());
        if !(telegram_api_url.starts_with("http://") || telegram_api_url.starts_with("https://")) {
            return Err(bad("BERT_TELEGRAM_API_URL", format!("must be an http(s) URL, got '{telegram_api_url}'")));
        }

        let data_dir =
            PathBuf::from(pick("BERT_DATA_DIR", file_cfg.data_dir.clone()).unwrap_or_else(|| "./data".into()));
        let ids = |var: &str, from_file: &Option<Vec<i64>>| -> Result<Vec<i64>, ConfigError> {
            match get(var) {
                Some(v) => parse_ids(var, &v),
                None => Ok(from_file.clone().unwrap_or_default()),
            }
        };
        let traders = ids("BERT_TRADERS", &file_cfg.traders)?;
        let viewers = ids("BERT_VIEWERS", &file_cfg.viewers)?;
        let alert_chats = ids("BERT_ALERT_CHATS", &file_cfg.alert_chats)?;

        let quote_text = pick("BERT_QUOTE_ASSET", file_cfg.quote_asset.clone()).unwrap_or_else(|| "USDT".into());
        let quote =
            AssetCode::new(&quote_text).map_err(|e| bad("BERT_QUOTE_ASSET", format!("{e}, got '{quote_text}'")))?;
        let symbols = match get("BERT_SYMBOLS") {
            Some(v) => v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
            None => file_cfg.symbols.clone().unwrap_or_else(|| DEFAULT_SYMBOLS.iter().map(|s| s.to_string()).collect()),
        };
        let mut parsed_symbols = Vec::new();
        for s in &symbols {
            let sym = crate::domain::Symbol::parse(s, quote)
                .map_err(|e| bad("BERT_SYMBOLS", format!("'{s}' is not a symbol: {e}")))?;
            if !parsed_symbols.contains(&sym.base) {
                parsed_symbols.push(sym.base);
            }
        }
        if parsed_symbols.is_empty() {
            return Err(bad("BERT_SYMBOLS", "lists no symbol"));
        }

        let flag = |var: &str, from_file: Option<bool>, default: bool| -> Result<bool, ConfigError> {
            match get(var) {
                Some(v) => parse_bool(var, &v),
                None => Ok(from_file.unwrap_or(default)),
            }
        };
        let auto_trade = flag("BERT_AUTO_TRADE", file_cfg.auto_trade, false)?;
        let confirm = flag("BERT_CONFIRM", file_cfg.confirm, true)?;

        let defaults = Settings::default();
        let dec = |var: &str, from_file: &Option<toml::Value>, default: Decimal| -> Result<Decimal, ConfigError> {
            let text = match (get(var), from_file) {
                (Some(v), _) => v,
                (None, Some(toml::Value::Integer(i))) => i.to_string(),
                (None, Some(toml::Value::Float(f))) => f.to_string(),
                (None, Some(toml::Value::String(s))) => s.clone(),
                (None, Some(other)) => return Err(bad(var, format!("must be a number, got {other}"))),
                (None, None) => return Ok(default),
            };
            let v = Decimal::from_str(&text).map_err(|_| bad(var, format!("must be a number, got '{text}'")))?;
            if v < Decimal::ZERO {
                return Err(bad(var, format!("must not be negative, got {v}")));
            }
            Ok(v)
        };
        let max_open_positions = match get("BERT_MAX_OPEN_POSITIONS") {
            Some(v) => v
                .parse::<u32>()
                .map_err(|_| bad("BERT_MAX_OPEN_POSITIONS", format!("must be a whole number, got '{v}'")))?,
            None => file_cfg.max_open_positions.unwrap_or(defaults.max_open_positions),
        };
        let settings = Settings {
            quote,
            risk_per_trade_pct: dec(
                "BERT_RISK_PER_TRADE_PCT",
                &file_cfg.risk_per_trade_pct,
                defaults.risk_per_trade_pct,
            )?,
            stop_pct: dec("BERT_STOP_PCT", &file_cfg.stop_pct, defaults.stop_pct)?,
            max_position_pct: dec("BERT_MAX_POSITION_PCT", &file_cfg.max_position_pct, defaults.max_position_pct)?,
            max_open_positions,
            max_portfolio_risk_pct: dec(
                "BERT_MAX_PORTFOLIO_RISK_PCT",
                &file_cfg.max_portfolio_risk_pct,
                defaults.max_portfolio_risk_pct,
            )?,
            entry_slippage_pct: dec(
                "BERT_ENTRY_SLIPPAGE_PCT",
                &file_cfg.entry_slippage_pct,
                defaults.entry_slippage_pct,
            )?,
            bnb_min: dec("BERT_BNB_MIN", &file_cfg.bnb_min, defaults.bnb_min)?,
            unexplained_min: dec(
                "BERT_UNEXPLAINED_BALANCE_MIN",
                &file_cfg.unexplained_balance_min,
                defaults.unexplained_min,
            )?,
            auto_trade,
            ..defaults
        };
        settings.validate().map_err(|e| bad(e.setting, e.problem))?;

        let performance_every_ms = match pick("BERT_PERFORMANCE_EVERY", file_cfg.performance_every.clone()) {
            None => Some(2 * 3_600_000),
            Some(v) => parse_period("BERT_PERFORMANCE_EVERY", &v)?,
        };
        let log_format = match pick("BERT_LOG_FORMAT", file_cfg.log_format.clone()) {
            None => None,
            Some(v) if v.eq_ignore_ascii_case("json") => Some(LogFormat::Json),
            Some(v) if v.eq_ignore_ascii_case("pretty") => Some(LogFormat::Pretty),
            Some(v) => return Err(bad("BERT_LOG_FORMAT", format!("must be json or pretty, got '{v}'"))),
        };
        let http_text = pick("BERT_HTTP_ADDR", file_cfg.http_addr.clone()).unwrap_or_else(|| "0.0.0.0:8080".into());
        let http_addr = http_text
            .parse::<SocketAddr>()
            .map_err(|_| bad("BERT_HTTP_ADDR", format!("must be an address like 0.0.0.0:8080, got '{http_text}'")))?;

        Ok(Config {
            telegram_token,
            telegram_api_url,
            binance_key,
            binance_secret,
            exchange,
            urls,
            data_dir,
            traders,
            viewers,
            alert_chats,
            symbols: parsed_symbols,
            confirm,
            settings,
            performance_every_ms,
            log_format,
            http_addr,
        })
    }

    /// Loads from the real process environment.
    pub fn from_env(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load(file, &|name| std::env::var(name).ok())
    }

    /// The effective configuration as `KEY=value` lines, secrets masked (`bert run
    /// --print-config`).
    pub fn printable(&self) -> String {
        let mask = |s: &Option<Secret>| if s.is_some() { "***" } else { "(not set)" };
        let ids = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let s = &self.settings;
        let lines = [
            ("TELEGRAM_BOT_TOKEN", mask(&self.telegram_token).to_string()),
            ("BERT_TELEGRAM_API_URL", self.telegram_api_url.clone()),
            ("BINANCE_API_KEY", mask(&self.binance_key).to_string()),
            ("BINANCE_API_SECRET", mask(&self.binance_secret).to_string()),
            ("BERT_EXCHANGE", self.exchange.to_string()),
            ("BERT_BINANCE_REST_URL", self.urls.rest.clone()),
            ("BERT_BINANCE_WS_API_URL", self.urls.ws_api.clone()),
            ("BERT_BINANCE_STREAM_URL", self.urls.stream.clone()),
            ("BERT_DATA_DIR", self.data_dir.display().to_string()),
            ("BERT_TRADERS", ids(&self.traders)),
            ("BERT_VIEWERS", ids(&self.viewers)),
            ("BERT_ALERT_CHATS", ids(&self.alert_chats)),
            ("BERT_QUOTE_ASSET", s.quote.to_string()),
            ("BERT_SYMBOLS", self.symbols.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(",")),
            ("BERT_AUTO_TRADE", s.auto_trade.to_string()),
            ("BERT_CONFIRM", self.confirm.to_string()),
            ("BERT_RISK_PER_TRADE_PCT", s.risk_per_trade_pct.to_string()),
            ("BERT_STOP_PCT", s.stop_pct.to_string()),
            ("BERT_MAX_POSITION_PCT", s.max_position_pct.to_string()),
            ("BERT_MAX_OPEN_POSITIONS", s.max_open_positions.to_string()),
            ("BERT_MAX_PORTFOLIO_RISK_PCT", s.max_portfolio_risk_pct.to_string()),
            ("BERT_ENTRY_SLIPPAGE_PCT", s.entry_slippage_pct.to_string()),
            ("BERT_BNB_MIN", s.bnb_min.to_string()),
            ("BERT_UNEXPLAINED_BALANCE_MIN", s.unexplained_min.to_string()),
            (
                "BERT_PERFORMANCE_EVERY",
                match self.performance_every_ms {
                    None => "off".to_string(),
                    Some(ms) if ms % 86_400_000 == 0 => format!("{}d", ms / 86_400_000),
                    Some(ms) if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
                    Some(ms) => format!("{}m", ms / 60_000),
                },
            ),
            (
                "BERT_LOG_FORMAT",
                match self.log_format {
                    None => "auto".into(),
                    Some(LogFormat::Json) => "json".into(),
                    Some(LogFormat::Pretty) => "pretty".into(),
                },
            ),
            ("BERT_HTTP_ADDR", self.http_addr.to_string()),
        ];
        lines.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let setting = || format!("--config {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| bad(&setting(), format!("cannot read the file: {e}")))?;
    // Secrets belong in the environment (fly secrets), never in a file that may be committed.
    if let Ok(t) = text.parse::<toml::Table>()
        && let Some(k) = t.keys().find(|k| SECRET_KEYS.contains(&k.to_ascii_lowercase().as_str()))
    {
        return Err(bad(&setting(), format!("'{k}' is a secret: set it in the environment, not in the file")));
    }
    toml::from_str(&text).map_err(|e| {
        let msg = e.message().replace('\n', " ");
        bad(&setting(), format!("invalid TOML: {msg}"))
    })
}

fn parse_ids(var: &str, text: &str) -> Result<Vec<i64>, ConfigError> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<i64>().map_err(|_| bad(var, format!("'{s}' is not a numeric Telegram id"))))
        .collect()
}

fn parse_bool(var: &str, text: &str) -> Result<bool, ConfigError> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(bad(var, format!("must be true or false, got '{text}'"))),
    }
}

/// `2h`, `30m`, `1d`, `off`.
fn parse_period(var: &str, text: &str) -> Result<Option<i64>, ConfigError> {
    let t = text.trim().to_ascii_lowercase();
    if t == "off" {
        return Ok(None);
    }
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = num.parse().map_err(|_| bad(var, format!("must look like 30m, 2h, 1d or off, got '{text}'")))?;
    let ms = match unit {
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad(var, format!("must look like 30m, 2h, 1d or off, got '{text}'"))),
    };
    if n == 0 {
        return Err(bad(var, "must be above zero (or off)"));
    }
    Ok(Some(n.saturating_mul(ms)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::load(None, &|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_the_contract_defaults() {
        let c = load(&[]).unwrap();
        assert_eq!(c.exchange, ExchangeMode::Paper);
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.http_addr.to_string(), "0.0.0.0:8080");
        assert_eq!(c.settings.stop_pct, Decimal::from(15));
        assert!(!c.settings.auto_trade);
        assert!(c.confirm);
        assert_eq!(c.performance_every_ms, Some(7_200_000));
        assert_eq!((c.settings.bnb_min, c.settings.unexplained_min), (Decimal::from(10), Decimal::from(10)));
        let w = load(&[("BERT_BNB_MIN", "25.5"), ("BERT_UNEXPLAINED_BALANCE_MIN", "0")]).unwrap();
        assert_eq!((w.settings.bnb_min.to_string(), w.settings.unexplained_min), ("25.5".into(), Decimal::ZERO));
        assert!(w.printable().contains("BERT_BNB_MIN=25.5\nBERT_UNEXPLAINED_BALANCE_MIN=0\n"), "{}", w.printable());
        assert_eq!(c.telegram_api_url, "https://api.telegram.org");
        let keys = load(&[("BINANCE_API_KEY", "k"), ("BINANCE_API_SECRET", "s")]).unwrap();
        assert_eq!(keys.exchange, ExchangeMode::Binance(BinanceMode::Live));
    }

    /// Each bad value → one line naming the setting.
    #[test]
    fn validation_table() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("BERT_EXCHANGE", "moon")], "BERT_EXCHANGE: must be live, testnet, demo or paper, got 'moon'"),
            (&[("BERT_EXCHANGE", "live")], "BERT_EXCHANGE: live mode needs BINANCE_API_KEY and BINANCE_API_SECRET"),
            (&[("BERT_TRADERS", "12,abc")], "BERT_TRADERS: 'abc' is not a numeric Telegram id"),
            (&[("BERT_RISK_PER_TRADE_PCT", "-1")], "BERT_RISK_PER_TRADE_PCT: must not be negative, got -1"),
            (&[("BERT_RISK_PER_TRADE_PCT", "lots")], "BERT_RISK_PER_TRADE_PCT: must be a number, got 'lots'"),
            (&[("BERT_STOP_PCT", "0")], "BERT_STOP_PCT: must be above 0 and at most 99, got 0"),
            (&[("BERT_MAX_OPEN_POSITIONS", "-3")], "BERT_MAX_OPEN_POSITIONS: must be a whole number, got '-3'"),
            (&[("BERT_BNB_MIN", "-5")], "BERT_BNB_MIN: must not be negative, got -5"),
            (&[("BERT_BNB_MIN", "few")], "BERT_BNB_MIN: must be a number, got 'few'"),
            (&[("BERT_UNEXPLAINED_BALANCE_MIN", "-1")], "BERT_UNEXPLAINED_BALANCE_MIN: must not be negative, got -1"),
            (&[("BERT_AUTO_TRADE", "maybe")], "BERT_AUTO_TRADE: must be true or false, got 'maybe'"),
            (
                &[("BERT_PERFORMANCE_EVERY", "2x")],
                "BERT_PERFORMANCE_EVERY: must look like 30m, 2h, 1d or off, got '2x'",
            ),
            (&[("BERT_HTTP_ADDR", "nowhere")], "BERT_HTTP_ADDR: must be an address like 0.0.0.0:8080, got 'nowhere'"),
            (&[("BERT_LOG_FORMAT", "xml")], "BERT_LOG_FORMAT: must be json or pretty, got 'xml'"),
            (
                &[("BINANCE_API_KEY", "k")],
                "BINANCE_API_SECRET: is missing (set both BINANCE_API_KEY and BINANCE_API_SECRET, or neither)",
            ),
            (
                &[("BERT_SYMBOLS", "BTC,ET H")],
                "BERT_SYMBOLS: 'ET H' is not a symbol: a symbol may contain only letters and digits",
            ),
            (
                &[("BERT_BINANCE_REST_URL", "ftp://x")],
                "BERT_BINANCE_REST_URL: must start with http:// or https://, got 'ftp://x'",
            ),
        ];
        for (vars, want) in cases {
            let err = load(vars).expect_err(want);
            assert_eq!(err.to_string(), *want);
            assert!(!err.to_string().contains('\n'));
        }
    }

    #[test]
    fn env_wins_over_file_and_secrets_are_refused_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bert.toml");
        std::fs::write(&path, "stop_pct = 12\nsymbols = [\"BTC\", \"eth\"]\ntraders = [1, 2]\n").unwrap();
        let env: HashMap<String, String> = [("BERT_STOP_PCT".to_string(), "9".to_string())].into();
        let c = Config::load(Some(&path), &|k| env.get(k).cloned()).unwrap();
        assert_eq!(c.settings.stop_pct, Decimal::from(9));
        assert_eq!(c.traders, vec![1, 2]);
        assert_eq!(c.symbols.iter().map(|s| s.to_string()).collect::<Vec<_>>(), vec!["BTC", "ETH"]);

        std::fs::write(&path, "binance_api_secret = \"abc\"\n").unwrap();
        let err = Config::load(Some(&path), &|_| None).unwrap_err();
        assert!(err.to_string().contains("is a secret"), "{err}");
        assert!(!err.to_string().contains("abc"));

        std::fs::write(&path, "stop_pcnt = 3\n").unwrap();
        let err = Config::load(Some(&path), &|_| None).unwrap_err();
        assert!(err.to_string().contains("stop_pcnt"), "{err}");
    }

    #[test]
    fn secrets_never_print() {
        let c = load(&[
            ("TELEGRAM_BOT_TOKEN", "123:SECRET-TOKEN"),
            ("BINANCE_API_KEY", "KEY-abc"),
            ("BINANCE_API_SECRET", "SECRET-xyz"),
        ])
        .unwrap();
        let printed = format!("{c:?}\n{}", c.printable());
        for secret in ["SECRET-TOKEN", "KEY-abc", "SECRET-xyz"] {
            assert!(!printed.contains(secret), "{secret} leaked");
        }
        assert!(c.printable().contains("TELEGRAM_BOT_TOKEN=***"));
    }
}
