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

/// `bert demo --interactive` answers the views as the bot does: `/performance` with the
/// statistics, `/chart` with a PNG written to the data folder, `/alerts` with the categories,
/// and `/alerts fills off` really stops the fills alerts from being printed (while the entry
/// still happens, as `/list` shows) until they are switched on again.
#[test]
fn interactive_demo_answers_performance_chart_and_alerts() {
    use std::io::Write as _;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bert"))
        .args(["demo", "--days", "400", "--quiet", "--interactive"])
        .env_clear()
        .env("BERT_DATA_DIR", dir.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bert");
    let input = "/performance\n/chart\n/alerts\n/alerts fills off\n/alerts fills sometimes\n/enter SOL\n/list\n\
                 /alerts fills on\n/enter XRP\nquit\n";
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let session = &out[out.find("'quit' ends.").expect("the prompt is offered")..];
    // One answer per typed line, each starting with the reply mark (alerts with the bell).
    let answers: Vec<&str> = session.split("\n↩ ").skip(1).collect();
    assert_eq!(answers.len(), 7, "{session}");

    // /performance: the closed trades' statistics (the summary above counts the same trades).
    let perf = answers[0];
    let trades = out.lines().find_map(|l| l.trim().strip_prefix("trades")).map(str::trim).expect("summary");
    assert!(perf.starts_with(&format!("📈 Closed trades: {trades}\n")), "{perf}");
    for needle in ["win rate", "P&L", "fees included", "Maximum drawdown:", "By month:", " won ("] {
        assert!(perf.contains(needle), "{needle:?} not in {perf}");
    }

    // /chart: the same renderer's PNG, in the data folder, and its path.
    let chart = answers[1];
    let path = dir.path().join("demo-chart.png");
    assert!(chart.contains("Portfolio now:"), "{chart}");
    assert!(chart.contains(&format!("Chart saved to {}", path.display())), "{chart}");
    let png = std::fs::read(&path).expect("the chart is written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000, "a real chart");

    // /alerts lists the categories; a typed switch changes one; a bad one explains the usage.
    assert!(answers[2].contains("✅ Fills: on") && answers[2].contains("/alerts CATEGORY off"), "{}", answers[2]);
    assert!(answers[3].starts_with("Fills: off") && answers[3].contains("🔕 Fills: off"), "{}", answers[3]);
    assert!(answers[4].contains("Categories: fills, signals, performance, warnings"), "{}", answers[4]);

    // With fills muted the SOL entry prints nothing, yet it happened.
    let muted = &session[session.find("Fills: off").unwrap()..session.find("↩ Fills: on").expect("switched back")];
    assert!(!muted.contains("Entry placed"), "{muted}");
    assert!(muted.contains("1 open position:") && muted.contains("SOL:"), "{muted}");
    // Switched back on, the XRP entry's alerts are printed again.
    let unmuted = &session[session.find("↩ Fills: on").unwrap()..];
    assert!(unmuted.contains("🔔 🟢 Entry placed: buying") && unmuted.contains("XRP"), "{unmuted}");
    assert!(unmuted.contains("Stop placed for"), "{unmuted}");
}
