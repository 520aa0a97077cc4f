//! `bert doctor`: checks the configuration and, where reachable, the exchange and Telegram, with
//! a pass/fail line for each. Exit code 0 only when every check passes.

use super::AppError;
use super::config::{Config, ExchangeMode};
use crate::domain::Symbol;
use crate::exchange::Exchange;
use crate::exchange::binance::{BinanceConfig, BinanceExchange, BinanceMode, Secret as BinanceSecret};
use std::time::Duration;

/// Clock skew above this makes signed requests fail (`recvWindow` is 5 s; keep a margin).
const MAX_SKEW_MS: i64 = 1_000;

/// One check's outcome.
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

pub async fn checks(config: &Config) -> Vec<Check> {
    let mut out = vec![Check { name: "config", ok: true, detail: format!("exchange {}", config.exchange) }];
    let (key, secret) = match (&config.binance_key, &config.binance_secret) {
        (Some(k), Some(s)) => (k.clone(), s.clone()),
        _ => (BinanceSecret::new(""), BinanceSecret::new("")),
    };
    let mode = match config.exchange {
        ExchangeMode::Binance(m) => m,
        ExchangeMode::Paper => BinanceMode::Live,
    };
    let mut bconfig = BinanceConfig::new(mode, key, secret);
    bconfig.urls = config.urls.clone();
    match BinanceExchange::new(bconfig) {
        Err(e) => out.push(Check { name: "exchange", ok: false, detail: e.to_string() }),
        Ok(binance) => {
            match binance.sync_time().await {
                Ok(offset) => out.push(Check {
                    name: "clock",
                    ok: offset.abs() <= MAX_SKEW_MS,
                    detail: format!("local clock is {offset} ms behind the exchange (limit ±{MAX_SKEW_MS} ms)"),
                }),
                Err(e) => out.push(Check { name: "clock", ok: false, detail: format!("exchange unreachable: {e}") }),
            }
            out.push(key_check(config, &binance, mode).await);
            let symbols: Vec<Symbol> = config.symbols.iter().map(|b| Symbol::new(*b, config.settings.quote)).collect();
            match binance.filters(&symbols).await {
                Ok(known) => {
                    let missing: Vec<String> =
                        symbols.iter().filter(|s| !known.iter().any(|(k, _)| k == *s)).map(|s| s.to_string()).collect();
                    out.push(Check {
                        name: "symbols",
                        ok: missing.is_empty(),
                        detail: if missing.is_empty() {
                            format!("{} symbols known", known.len())
                        } else {
                            format!("unknown on the exchange: {}", missing.join(", "))
                        },
                    });
                }
                Err(e) => out.push(Check { name: "symbols", ok: false, detail: e.to_string() }),
            }
        }
    }
    out.push(telegram_check(config).await);
    out
}

async fn key_check(config: &Config, binance: &BinanceExchange, mode: BinanceMode) -> Check {
    let name = "api key";
    if config.exchange == ExchangeMode::Paper {
        return Check { name, ok: true, detail: "no keys: paper mode (simulated fills)".into() };
    }
    let account = match binance.account().await {
        Ok(a) => a,
        Err(e) => return Check { name, ok: false, detail: format!("cannot read the account: {e}") },
    };
    if !account.can_trade {
        return Check { name, ok: false, detail: "the key may not trade (canTrade is false)".into() };
    }
    if !mode.has_sapi() {
        return Check {
            name,
            ok: true,
            detail: "can trade (withdrawal permission cannot be read on the testnet)".into(),
        };
    }
    match binance.api_restrictions().await {
        Ok(r) if r.enable_withdrawals => {
            Check { name, ok: false, detail: "the key can withdraw: Bert refuses such keys".into() }
        }
        Ok(_) => Check { name, ok: true, detail: "can trade, cannot withdraw".into() },
        Err(e) => Check { name, ok: false, detail: format!("cannot read the key's permissions: {e}") },
    }
}

async fn telegram_check(config: &Config) -> Check {
    let name = "telegram";
    let Some(token) = &config.telegram_token else {
        return Check { name, ok: false, detail: "TELEGRAM_BOT_TOKEN is not set".into() };
    };
    let url = format!("{}/bot{}/getMe", config.telegram_api_url.trim_end_matches('/'), token.expose());
    let client = match reqwest::Client::builder().timeout(Duration::from_secs(10)).build() {
        Ok(c) => c,
        Err(e) => return Check { name, ok: false, detail: e.without_url().to_string() },
    };
    // POST, as the bot itself calls the Bot API. Errors carry the URL, and the URL carries the
    // token: drop it before showing anything.
    match client.post(&url).send().await {
        Err(e) => Check { name, ok: false, detail: format!("Telegram unreachable: {}", e.without_url()) },
        Ok(resp) => match resp.json::<serde_json::Value>().await {
            Ok(v) if v["ok"] == true => {
                let user = v["result"]["username"].as_str().unwrap_or("?");
                Check { name, ok: true, detail: format!("token valid for @{user}") }
            }
            Ok(v) => Check {
                name,
                ok: false,
                detail: format!("token refused: {}", v["description"].as_str().unwrap_or("no description")),
            },
            Err(e) => Check { name, ok: false, detail: format!("unexpected answer: {}", e.without_url()) },
        },
    }
}

pub async fn run(config: &Config) -> Result<(), AppError> {
    let results = checks(config).await;
    let mut all = true;
    for c in &results {
        println!("{} {:<9} {}", if c.ok { "PASS" } else { "FAIL" }, c.name, c.detail);
        all &= c.ok;
    }
    if all { Ok(()) } else { Err(AppError::Failed("some checks failed".into())) }
}
