//! `bert doctor` against the fake Binance and the fake Telegram: one PASS/FAIL line per check,
//! exit code 0 only when every check passes, and no secret in what it prints.

#[path = "support/bert_process.rs"]
mod bert_process;
#[path = "support/fake_binance/mod.rs"]
mod fake_binance;
#[path = "support/fake_telegram/mod.rs"]
mod fake_telegram;

use bert_process::{bert, with_binance, with_telegram};
use fake_binance::{API_KEY, FakeBinance, SECRET};
use fake_telegram::{FakeTelegram, TOKEN};
use std::process::Output;

/// Runs `bert doctor` in live mode with the exchange URLs pointing at the fake (live mode, so
/// the key's withdrawal permission is read as on the real exchange).
async fn doctor(fake: &FakeBinance, tg: &FakeTelegram, extra: &[(&str, &str)]) -> Output {
    let mut cmd = bert("doctor");
    with_binance(&mut cmd, &fake.rest_url(), &fake.ws_api_url(), &fake.stream_url(), API_KEY, SECRET);
    with_telegram(&mut cmd, &tg.url(), TOKEN);
    cmd.env("BERT_EXCHANGE", "live").env("BERT_SYMBOLS", "BTC,ETH");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || cmd.output().expect("bert doctor runs")).await.unwrap()
}

/// The line of one check, e.g. `PASS clock ...`.
fn line<'a>(out: &'a str, check: &str) -> &'a str {
    out.lines()
        .find(|l| l.get(5..).is_some_and(|rest| rest.starts_with(check)))
        .unwrap_or_else(|| panic!("no line for {check}: {out}"))
}

fn stdout(o: &Output) -> String {
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let all = format!("{text}{}", String::from_utf8_lossy(&o.stderr));
    for secret in [TOKEN, SECRET] {
        assert!(!all.contains(secret), "a secret was printed: {all}");
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_checks_pass_against_a_healthy_exchange_and_bot() {
    let (fake, tg) = (FakeBinance::start().await, FakeTelegram::start().await);
    let o = doctor(&fake, &tg, &[]).await;
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    for check in ["config", "clock", "api key", "symbols", "telegram"] {
        assert!(line(&out, check).starts_with("PASS"), "{out}");
    }
    assert!(line(&out, "api key").contains("cannot withdraw"), "{out}");
    assert!(line(&out, "telegram").contains("@bert_test_bot"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_can_withdraw_is_refused() {
    let (fake, tg) = (FakeBinance::start().await, FakeTelegram::start().await);
    fake.state().enable_withdrawals = true;
    let o = doctor(&fake, &tg, &[]).await;
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert_eq!(line(&out, "api key"), "FAIL api key   the key can withdraw: Bert refuses such keys");
    assert!(line(&out, "clock").starts_with("PASS"), "the other checks still run: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_cannot_trade_fails() {
    let (fake, tg) = (FakeBinance::start().await, FakeTelegram::start().await);
    fake.state().can_trade = false;
    let o = doctor(&fake, &tg, &[]).await;
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(line(&out, "api key").contains("canTrade is false"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_skew_beyond_a_second_fails() {
    let (fake, tg) = (FakeBinance::start().await, FakeTelegram::start().await);
    fake.set_skew_ms(3_000);
    let o = doctor(&fake, &tg, &[]).await;
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let clock = line(&out, "clock");
    assert!(clock.starts_with("FAIL") && clock.contains("(limit ±1000 ms)"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symbol_the_exchange_does_not_list_fails() {
    let (fake, tg) = (FakeBinance::start().await, FakeTelegram::start().await);
    let o = doctor(&fake, &tg, &[("BERT_SYMBOLS", "BTC,NOPE")]).await;
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert_eq!(line(&out, "symbols"), "FAIL symbols   unknown on the exchange: NOPEUSDT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_telegram_token_fails_without_printing_it() {
    let (fake, tg) = (FakeBinance::start().await, FakeTelegram::start().await);
    let wrong = "987654321:AAWrongTokenThatMustNotBePrinted_xyz";
    let o = doctor(&fake, &tg, &[("TELEGRAM_BOT_TOKEN", wrong)]).await;
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert_eq!(line(&out, "telegram"), "FAIL telegram  token refused: Unauthorized", "{out}");
    assert!(!out.contains(wrong) && !out.contains("AAWrongToken"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_services_fail_each_check_with_a_reason() {
    let (fake, tg) = (FakeBinance::start().await, FakeTelegram::start().await);
    // Ports that were free a moment ago: nothing answers there.
    let dead = format!("http://127.0.0.1:{}", bert_process::free_port());
    let o = doctor(&fake, &tg, &[("BERT_BINANCE_REST_URL", &dead), ("BERT_TELEGRAM_API_URL", &dead)]).await;
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(line(&out, "clock").starts_with("FAIL clock     exchange unreachable"), "{out}");
    assert!(line(&out, "telegram").starts_with("FAIL telegram  Telegram unreachable"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_mode_needs_no_keys() {
    let (fake, tg) = (FakeBinance::start().await, FakeTelegram::start().await);
    let mut cmd = bert("doctor");
    with_telegram(&mut cmd, &tg.url(), TOKEN);
    cmd.env("BERT_BINANCE_REST_URL", fake.rest_url()).env("BERT_SYMBOLS", "BTC");
    let o = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(line(&out, "api key").contains("paper mode"), "{out}");
}
