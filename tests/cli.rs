//! The `bert` binary as a user runs it: subcommands, exit codes, files written.

use std::path::Path;
use std::process::{Command, Output};

fn bert(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bert"));
    cmd.args(args).env_clear().env("BERT_DATA_DIR", dir).env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run bert")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Bad input: one clear line naming the problem, exit code 2.
#[test]
fn bad_input_is_one_line_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    // (arguments, environment, what the one line must say)
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (&["fly"], &[], "unrecognized subcommand"),
        (&["demo", "--turbo"], &[], "unexpected argument '--turbo'"),
        (&["demo", "--days", "abc"], &[], "invalid value 'abc'"),
        (&["demo"], &[("BERT_RISK_PER_TRADE_PCT", "lots")], "BERT_RISK_PER_TRADE_PCT: must be a number, got 'lots'"),
        (&["backtest"], &[("BERT_STOP_PCT", "-5")], "BERT_STOP_PCT: must not be negative, got -5"),
        (&["demo"], &[("BERT_EXCHANGE", "moon")], "BERT_EXCHANGE: must be live, testnet, demo or paper, got 'moon'"),
        (&["demo"], &[("BERT_TRADERS", "1,two")], "BERT_TRADERS: 'two' is not a numeric Telegram id"),
    ];
    for (args, env, want) in cases {
        let o = bert(dir.path(), args, env);
        assert_eq!(o.status.code(), Some(2), "{args:?} {env:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(want), "{args:?} {env:?}: {err}");
        if !env.is_empty() {
            assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        }
    }
}

#[test]
fn help_lists_the_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let o = bert(dir.path(), &["--help"], &[]);
    assert_eq!(o.status.code(), Some(0));
    for sub in ["demo", "backtest", "journal"] {
        assert!(stdout(&o).contains(sub), "{sub}");
    }
}

/// The demo trades, prints alerts and a summary, writes a real PNG and a journal that
/// `bert journal --demo` prints as JSON lines.
#[test]
fn demo_trades_writes_chart_and_journal() {
    let dir = tempfile::tempdir().unwrap();
    let o = bert(dir.path(), &["demo", "--days", "400"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for expected in ["Entry placed", "Stop placed", "closed", "Summary", "win rate", "max drawdown"] {
        assert!(out.contains(expected), "missing {expected:?} in demo output");
    }
    let png = std::fs::read(dir.path().join("demo-equity.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(png.len() > 10_000, "a real chart, not an empty image");

    let j = bert(dir.path(), &["journal", "--demo"], &[]);
    assert_eq!(j.status.code(), Some(0), "{}", stderr(&j));
    let lines: Vec<String> = stdout(&j).lines().map(String::from).collect();
    assert!(lines.len() > 20);
    let mut last = 0;
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        let seq = v["seq"].as_u64().expect("seq");
        assert!(seq > last, "sequence grows");
        last = seq;
    }
    assert!(lines.iter().any(|l| l.contains("\"Place\"")), "requests are journaled");
    assert!(lines.iter().any(|l| l.contains("\"Placed\"")), "the exchange's answers are journaled");
    // `--since SEQ` prints what came after SEQ (so a tail can resume where it stopped).
    let since = bert(dir.path(), &["journal", "--demo", "--since", &(last - 1).to_string()], &[]);
    assert_eq!(stdout(&since).lines().count(), 1);
}

/// A backtest over Binance kline dump files: report, chart, and the trades CSV.
#[test]
fn backtest_over_csv_files_writes_trades() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("klines");
    std::fs::create_dir_all(&data).unwrap();
    // 200 days: flat, a dip that sets a known (short) direction, flat again, a rally to a new
    // 60-day high (the flip to long enters), then a crash through the stop.
    let mut csv = String::new();
    let day = 86_400_000i64;
    let start = 1_704_067_200_000i64; // 2024-01-01
    for i in 0..200i64 {
        let base: i64 = match i {
            60..=64 => 90,
            100..=129 => 100 + (i - 99) * 3,
            130.. => 40,
            _ => 100,
        };
        // Prices with cents, so the derived tick is 0.01 as on a real market.
        let (o, h, l, c) = (base, base + 2, base - 2, base + 1);
        csv.push_str(&format!(
            "{},{o}.10,{h}.35,{l}.55,{c}.45,1000.123,{},100000,10,500,50000,0\n",
            start + i * day,
            start + (i + 1) * day - 1
        ));
    }
    std::fs::write(data.join("TESTUSDT-1d-2024.csv"), csv).unwrap();
    let trades = dir.path().join("trades.csv");
    let o = bert(
        dir.path(),
        &["backtest", "--data", data.to_str().unwrap(), "--trades-csv", trades.to_str().unwrap()],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("Summary"));
    let written = std::fs::read_to_string(&trades).unwrap();
    let mut lines = written.lines();
    assert_eq!(lines.next(), Some("symbol,entry_time,entry_price,quantity,exit_time,exit_price,exit_reason,fees,pnl"));
    let trade: Vec<&str> = lines.next().expect("one trade").split(',').collect();
    assert_eq!(trade[0], "TESTUSDT");
    assert!(["stop", "signal"].contains(&trade[6]), "{trade:?}");
    assert!(dir.path().join("backtest-equity.png").exists());

    // A malformed line names its file and line.
    std::fs::write(data.join("TESTUSDT-1d-2025.csv"), "1,2,3\n").unwrap();
    let o = bert(dir.path(), &["backtest", "--data", data.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("TESTUSDT-1d-2025.csv line 1"), "{}", stderr(&o));
}
