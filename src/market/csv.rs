//! Binance public kline dumps (`data.binance.vision`) as candle series, for
//! `bert backtest --data DIR`.
//!
//! # Layout accepted
//!
//! * One or more files per symbol named `SYMBOL-1d*.csv`: `BTCUSDT-1d.csv`,
//!   `BTCUSDT-1d-2024.csv`, `BTCUSDT-1d-2024-01.csv`, … Other files (other intervals such as
//!   `BTCUSDT-1h-2024.csv`, `.zip` archives, checksums) are ignored: unzip the dumps first.
//! * A symbol's files are read in file-name order (the dump names sort chronologically), then
//!   its candles are sorted by open time and duplicate open times dropped, keeping the first
//!   (overlapping monthly and yearly dumps are therefore harmless).
//! * Twelve comma-separated columns: open time, open, high, low, close, volume, close time, quote
//!   volume, trade count, taker buy base volume, taker buy quote volume, ignore. Only the first
//!   seven are used; the others must be present (a short line is a sign of a truncated file).
//! * Times in milliseconds, or in microseconds as in the dumps since 2025: a value above 10¹⁴ is
//!   microseconds (10¹⁴ ms is the year 5138, 10¹⁴ µs is 1973).
//! * An optional header line (the first non-blank line, when none of its fields is a number).
//!   Blank lines are skipped; `\r\n` line ends are accepted.
//!
//! # Decisions
//!
//! * **Other quote assets are skipped**, not an error: a download folder often holds several
//!   quote assets (`BTCUSDT`, `BTCFDUSD`, …) and the backtest trades one. Skipped files are
//!   logged at `info`.
//! * **Filters are derived from the data**, since the dumps carry none: the tick is 10^-k where k
//!   is the largest number of significant decimals among the prices, the step likewise from the
//!   volumes (a daily volume is a sum of whole steps, so over months of data its decimals reach
//!   the step's). Both are capped at 8 decimals. The minimum notional is 5 for stablecoin
//!   quotes (Binance's NOTIONAL minimum on such pairs) and 0 (no minimum) for other quotes.
//!   Prices and volumes are rescaled to those decimals, so one symbol's decimals share one scale
//!   (fast, exact comparisons, and `64000.5` rather than `64000.50000000` in reports).
//! * **Every line must be a sane daily candle**: low ≤ open, close ≤ high, prices > 0, and close
//!   time = open time + 1 day − 1 ms. Anything else is reported with its file and line rather
//!   than silently skipped, because a backtest over silently damaged data is worse than none.
//!   Gaps between days are kept as they are.

use super::MarketSeries;
use crate::domain::{AssetCode, Candle, Decimal, Symbol, SymbolFilters, Timestamp};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Why a data directory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// The directory or a file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A line that is not a valid daily kline. `line` is 1-based, as editors show it.
    #[error("{file} line {line}: {reason}")]
    Malformed { file: String, line: usize, reason: String },
    /// No `SYMBOL-1d*.csv` file with candles for the quote asset.
    #[error("no {quote} daily candle files (SYMBOL-1d*.csv) in {}", dir.display())]
    NoData { dir: PathBuf, quote: AssetCode },
}

/// The number of columns of a Binance kline line.
const COLUMNS: usize = 12;
/// Time values above this are microseconds, below milliseconds.
const MICROS_THRESHOLD: i64 = 100_000_000_000_000;
/// Decimal places Binance never exceeds for prices and quantities.
const MAX_DECIMALS: u32 = 8;

/// Loads every `SYMBOL-1d*.csv` file in `dir` (not recursively) whose symbol is quoted in
/// `quote`, one [`MarketSeries`] per symbol, sorted by symbol. See the module docs for the
/// accepted layout and the decisions taken.
pub fn load_dir(dir: &Path, quote: AssetCode) -> Result<Vec<MarketSeries>, CsvError> {
    let io_err = |source| CsvError::Io { path: dir.to_path_buf(), source };
    let mut files: BTreeMap<Symbol, Vec<(String, PathBuf)>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
            continue;
        };
        let Some(pair) = daily_file_pair(&name) else {
            continue;
        };
        match pair_symbol(pair, quote) {
            Some(symbol) => files.entry(symbol).or_default().push((name, path)),
            None => tracing::info!(file = %name, quote = %quote, "skipping candle file of another quote asset"),
        }
    }

    let mut out = Vec::with_capacity(files.len());
    for (symbol, mut paths) in files {
        paths.sort();
        let mut candles = Vec::new();
        for (name, path) in &paths {
            let bytes = std::fs::read(path).map_err(|source| CsvError::Io { path: path.clone(), source })?;
            parse_file(name, &bytes, &mut candles)?;
        }
        // Stable sort: among equal open times the first file (by name) comes first and is kept.
        candles.sort_by_key(|c| c.open_time);
        candles.dedup_by_key(|c| c.open_time);
        if candles.is_empty() {
            continue;
        }
        let filters = derive_filters(&candles, quote);
        for c in &mut candles {
            rescale_candle(c, &filters);
        }
        out.push(MarketSeries { symbol, filters, candles });
    }
    if out.is_empty() {
        return Err(CsvError::NoData { dir: dir.to_path_buf(), quote });
    }
    Ok(out)
}

/// `BTCUSDT-1d-2024.csv` → `BTCUSDT`; `None` for any other kind of file.
fn daily_file_pair(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(".csv")?;
    let (pair, rest) = stem.split_once('-')?;
    let after = rest.strip_prefix("1d")?;
    // `1d` must be the whole interval field: `-1d` or `-1d-…`, never `-1dx`.
    if !(after.is_empty() || after.starts_with('-')) || pair.is_empty() {
        return None;
    }
    Some(pair)
}

/// `BTCUSDT` in `USDT` → BTC/USDT; `None` when the pair is not quoted in `quote` (or is not a
/// valid symbol at all).
fn pair_symbol(pair: &str, quote: AssetCode) -> Option<Symbol> {
    let upper = pair.to_ascii_uppercase();
    let base = upper.strip_suffix(quote.as_str()).filter(|b| !b.is_empty())?;
    AssetCode::new(base).ok().map(|b| Symbol::new(b, quote))
}

/// Parses one file's candles and appends them to `out`.
fn parse_file(name: &str, bytes: &[u8], out: &mut Vec<Candle>) -> Result<(), CsvError> {
    let mut seen_content = false;
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_no = index + 1;
        let malformed = |reason: String| CsvError::Malformed { file: name.to_string(), line: line_no, reason };
        let Ok(line) = std::str::from_utf8(raw) else {
            return Err(malformed("not valid UTF-8".to_string()));
        };
        // A UTF-8 byte-order mark may start the file (spreadsheet exports).
        let line = line.trim_start_matches('\u{feff}').trim();
        if line.is_empty() {
            continue;
        }
        let first_line = !seen_content;
        seen_content = true;
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if first_line && is_header(&fields) {
            continue;
        }
        if fields.len() != COLUMNS {
            return Err(malformed(format!("expected {COLUMNS} columns, found {}", fields.len())));
        }
        let candle = parse_candle(&fields).map_err(malformed)?;
        out.push(candle);
    }
    Ok(())
}

/// A header line has no numeric field at all (`open_time,open,high,…`). A line with numbers and
/// a damaged field is data, and is reported as malformed rather than skipped as a header.
fn is_header(fields: &[&str]) -> bool {
    fields.iter().all(|f| Decimal::from_str(f).is_err())
}

fn parse_candle(fields: &[&str]) -> Result<Candle, String> {
    let field = |i: usize| fields.get(i).copied().unwrap_or("");
    let open_time = parse_time(field(0), "open time")?;
    let close_time = parse_time(field(6), "close time")?;
    let candle = Candle {
        open_time,
        close_time,
        open: parse_decimal(field(1), "open")?,
        high: parse_decimal(field(2), "high")?,
        low: parse_decimal(field(3), "low")?,
        close: parse_decimal(field(4), "close")?,
        volume: parse_decimal(field(5), "volume")?,
    };
    if !candle.is_sane() {
        return Err(format!(
            "inconsistent prices (open {}, high {}, low {}, close {})",
            candle.open, candle.high, candle.low, candle.close
        ));
    }
    if candle.volume < Decimal::ZERO {
        return Err(format!("negative volume {}", candle.volume));
    }
    if close_time.since(open_time) != Timestamp::MS_PER_DAY - 1 {
        return Err(format!(
            "not a daily candle (open time {}, close time {})",
            open_time.millis(),
            close_time.millis()
        ));
    }
    Ok(candle)
}

/// A time in milliseconds or microseconds, as milliseconds.
fn parse_time(text: &str, what: &str) -> Result<Timestamp, String> {
    let value: i64 = text.parse().map_err(|_| format!("{what}: not an integer: {text:?}"))?;
    if value < 0 {
        return Err(format!("{what}: negative time {value}"));
    }
    Ok(Timestamp(if value > MICROS_THRESHOLD { value / 1_000 } else { value }))
}

fn parse_decimal(text: &str, what: &str) -> Result<Decimal, String> {
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| format!("{what}: not a number: {text:?}"))
}

/// Significant decimals of a value (`1.2300` → 2).
fn decimals(value: Decimal) -> u32 {
    value.normalize().scale()
}

/// Filters for a symbol whose dumps carry none (see the module docs).
fn derive_filters(candles: &[Candle], quote: AssetCode) -> SymbolFilters {
    let price_decimals = candles
        .iter()
        .flat_map(|c| [c.open, c.high, c.low, c.close])
        .map(decimals)
        .max()
        .unwrap_or(0)
        .min(MAX_DECIMALS);
    let step_decimals = candles.iter().map(|c| decimals(c.volume)).max().unwrap_or(0).min(MAX_DECIMALS);
    let min_notional = match quote.as_str() {
        "USDT" | "USDC" | "FDUSD" | "BUSD" | "TUSD" | "DAI" => Decimal::from(5),
        _ => Decimal::ZERO,
    };
    SymbolFilters::typical(Decimal::new(1, price_decimals), Decimal::new(1, step_decimals), min_notional)
}

/// Puts prices at the tick's scale and the volume at the step's. Exact: the scales were derived
/// from the values' own significant decimals, so no digit is lost.
fn rescale_candle(c: &mut Candle, filters: &SymbolFilters) {
    let price_scale = filters.tick_size.scale();
    for p in [&mut c.open, &mut c.high, &mut c.low, &mut c.close] {
        // A value with more than 8 significant decimals would be rounded here; Binance never
        // publishes such prices, and rounding at the 9th decimal cannot change a breakout.
        p.rescale(price_scale);
    }
    c.volume.rescale(filters.step_size.scale());
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use std::fs;

    const DAY: i64 = Timestamp::MS_PER_DAY;
    /// 2024-01-01T00:00:00Z in milliseconds.
    const JAN1: i64 = 1_704_067_200_000;
    const HEADER: &str = "open_time,open,high,low,close,volume,close_time,quote_volume,count,\
                          taker_buy_volume,taker_buy_quote_volume,ignore";

    fn usdt() -> AssetCode {
        AssetCode::new("USDT").unwrap()
    }

    /// A dump line for day `day` after 2024-01-01, times scaled by `unit` (1 = ms, 1000 = µs).
    fn line(day: i64, unit: i64, o: &str, h: &str, l: &str, c: &str) -> String {
        let open = (JAN1 + day * DAY) * unit;
        let close = (JAN1 + day * DAY + DAY) * unit - 1;
        format!("{open},{o},{h},{l},{c},123.45600000,{close},5000000.00000000,1000,60.00000000,2500000.00000000,0")
    }

    fn write(dir: &Path, name: &str, lines: &[String]) {
        fs::write(dir.join(name), lines.join("\n") + "\n").unwrap();
    }

    #[test]
    fn header_or_not_milli_or_micro() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "BTCUSDT-1d-2024.csv",
            &[
                HEADER.to_string(),
                line(0, 1, "42283.58000000", "44184.10000000", "42180.77000000", "44179.55000000"),
                line(1, 1, "44179.55000000", "45879.63000000", "44148.34000000", "44946.91000000"),
            ],
        );
        // Microsecond times, no header, CRLF line ends.
        let eth = [
            line(0, 1000, "2281.87", "2352.37", "2265.24", "2352.04"),
            line(1, 1000, "2352.04", "2431.00", "2341.00", "2355.34"),
        ];
        fs::write(dir.path().join("ETHUSDT-1d-2024.csv"), eth.join("\r\n")).unwrap();

        let series = load_dir(dir.path(), usdt()).unwrap();
        let pairs: Vec<String> = series.iter().map(|s| s.symbol.pair()).collect();
        assert_eq!(pairs, ["BTCUSDT", "ETHUSDT"]);
        for s in &series {
            assert_eq!(s.candles.len(), 2);
            assert_eq!(s.candles[0].open_time, Timestamp(JAN1));
            assert_eq!(s.candles[1].close_time, Timestamp(JAN1 + 2 * DAY - 1));
        }
        let btc = &series[0];
        assert_eq!(btc.candles[0].high, dec!(44184.10));
        assert_eq!(btc.candles[0].high.to_string(), "44184.10");
        assert_eq!(btc.filters.tick_size, dec!(0.01));
        assert_eq!(btc.filters.step_size, dec!(0.001));
        assert_eq!(btc.filters.min_notional, dec!(5));
        assert_eq!(btc.candles[0].volume.to_string(), "123.456");
    }

    #[test]
    fn several_files_are_concatenated_sorted_and_deduplicated() {
        let dir = tempfile::tempdir().unwrap();
        // Written out of order; the monthly file overlaps the yearly one on day 2.
        write(dir.path(), "SOLUSDT-1d-2024-02.csv", &[line(2, 1, "1", "1", "1", "1"), line(3, 1, "4", "4", "4", "4")]);
        write(
            dir.path(),
            "SOLUSDT-1d-2024-01.csv",
            &[line(1, 1, "2", "2", "2", "2"), line(0, 1, "1.5", "1.5", "1.5", "1.5"), line(2, 1, "3", "3", "3", "3")],
        );
        // Not daily, not a csv, another quote asset: all ignored.
        write(dir.path(), "SOLUSDT-1h-2024-01.csv", &["garbage".to_string()]);
        write(dir.path(), "SOLUSDT-1d-2024-03.zip", &["garbage".to_string()]);
        write(dir.path(), "SOLUSDT-1dx.csv", &["garbage".to_string()]);
        write(dir.path(), "SOLBTC-1d-2024.csv", &[line(0, 1, "0.001", "0.001", "0.001", "0.001")]);

        let series = load_dir(dir.path(), usdt()).unwrap();
        assert_eq!(series.len(), 1);
        let closes: Vec<Decimal> = series[0].candles.iter().map(|c| c.close).collect();
        // Day 2 comes from the first file by name (2024-01), not from 2024-02.
        assert_eq!(closes, [dec!(1.5), dec!(2), dec!(3), dec!(4)]);
        assert_eq!(series[0].filters.tick_size, dec!(0.1));
        let opens: Vec<Timestamp> = series[0].candles.iter().map(|c| c.open_time).collect();
        assert!(opens.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn malformed_line_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut lines = vec![HEADER.to_string()];
        lines.extend((0..15).map(|d| line(d, 1, "10", "11", "9", "10.5")));
        lines.push("1705363200000,10,11".to_string());
        write(dir.path(), "BTCUSDT-1d-2024.csv", &lines);
        let err = load_dir(dir.path(), usdt()).unwrap_err();
        assert_eq!(err.to_string(), "BTCUSDT-1d-2024.csv line 17: expected 12 columns, found 3");
    }

    #[test]
    fn bad_values_are_reported_not_panicked_on() {
        let cases: [(String, &str); 6] = [
            (line(0, 1, "abc", "11", "9", "10"), "line 1: open: not a number: \"abc\""),
            (line(0, 1, "10", "9", "11", "10"), "line 1: inconsistent prices"),
            (line(0, 1, "10", "11", "0", "10"), "line 1: inconsistent prices"),
            (line(0, 1, "10", "11", "9", "10").replacen("1704067200000", "x", 1), "open time: not an integer"),
            (line(0, 1, "10", "11", "9", "10").replace("1704153599999", "1704070799999"), "not a daily candle"),
            ("1,2,3,4,5,6,7,8,9,10,11,12,13".to_string(), "expected 12 columns, found 13"),
        ];
        for (text, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            write(dir.path(), "BTCUSDT-1d.csv", &[text]);
            let msg = load_dir(dir.path(), usdt()).unwrap_err().to_string();
            assert!(msg.starts_with("BTCUSDT-1d.csv line 1") && msg.contains(expected), "{msg}");
        }
        // Invalid UTF-8 and a header anywhere but the first line.
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("BTCUSDT-1d.csv"), b"\xff\xfe,1,2\n").unwrap();
        let msg = load_dir(dir.path(), usdt()).unwrap_err().to_string();
        assert_eq!(msg, "BTCUSDT-1d.csv line 1: not valid UTF-8");
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "BTCUSDT-1d.csv", &[line(0, 1, "10", "11", "9", "10"), String::new(), HEADER.to_string()]);
        let msg = load_dir(dir.path(), usdt()).unwrap_err().to_string();
        assert!(msg.starts_with("BTCUSDT-1d.csv line 3: open time: not an integer"), "{msg}");
    }

    #[test]
    fn empty_or_useless_dir_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_dir(dir.path(), usdt()).unwrap_err();
        assert!(matches!(err, CsvError::NoData { .. }));
        assert!(err.to_string().starts_with("no USDT daily candle files (SYMBOL-1d*.csv) in "), "{err}");
        // A header-only file has no candles either.
        write(dir.path(), "BTCUSDT-1d.csv", &[HEADER.to_string()]);
        assert!(matches!(load_dir(dir.path(), usdt()), Err(CsvError::NoData { .. })));
        // A missing directory is an I/O error naming it.
        let missing = dir.path().join("nope");
        let err = load_dir(&missing, usdt()).unwrap_err();
        assert!(matches!(err, CsvError::Io { .. }) && err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn file_names_and_symbols() {
        assert_eq!(daily_file_pair("BTCUSDT-1d-2024.csv"), Some("BTCUSDT"));
        assert_eq!(daily_file_pair("BTCUSDT-1d.csv"), Some("BTCUSDT"));
        assert_eq!(daily_file_pair("BTCUSDT-1d-2024-01.csv"), Some("BTCUSDT"));
        assert_eq!(daily_file_pair("BTCUSDT-1h-2024.csv"), None);
        assert_eq!(daily_file_pair("BTCUSDT-1d-2024.zip"), None);
        assert_eq!(daily_file_pair("-1d.csv"), None);
        assert_eq!(daily_file_pair("BTCUSDT-1d-2024.csv.CHECKSUM"), None);
        assert_eq!(pair_symbol("btcusdt", usdt()).map(|s| s.pair()), Some("BTCUSDT".to_string()));
        assert_eq!(pair_symbol("USDT", usdt()), None);
        assert_eq!(pair_symbol("BTCBUSD", usdt()), None);
        assert_eq!(pair_symbol("BT_CUSDT", usdt()), None);
    }

    proptest::proptest! {
        /// Whatever the bytes, parsing returns (an error or candles); it never panics.
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = parse_file("X-1d.csv", &bytes, &mut Vec::new());
        }

        /// Nor on lines of plausible shape with arbitrary fields (numbers in every notation,
        /// huge exponents, signs, empty fields).
        #[test]
        fn never_panics_on_arbitrary_fields(
            fields in proptest::collection::vec("[-+0-9eE.]{0,40}|1e[0-9]{1,12}|[0-9]{1,30}", 12),
        ) {
            let line = fields.join(",");
            let mut out = Vec::new();
            if parse_file("X-1d.csv", line.as_bytes(), &mut out).is_ok() {
                for c in &out {
                    proptest::prop_assert!(c.is_sane());
                    let filters = derive_filters(&out, usdt());
                    let mut c = *c;
                    rescale_candle(&mut c, &filters);
                }
            }
        }
    }

    #[test]
    fn time_units() {
        assert_eq!(parse_time("1704067200000", "t"), Ok(Timestamp(JAN1)));
        assert_eq!(parse_time("1704067200000000", "t"), Ok(Timestamp(JAN1)));
        assert_eq!(parse_time("1704153599999999", "t"), Ok(Timestamp(JAN1 + DAY - 1)));
        assert!(parse_time("-5", "t").is_err());
        assert!(parse_time("99999999999999999999", "t").is_err());
    }
}
