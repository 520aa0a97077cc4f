//! Fuzz targets, as proptest properties (cargo-fuzz needs a nightly toolchain).
//!
//! Each target feeds one decoder of untrusted input with byte-level mutations of valid samples
//! (flips, inserts of interesting tokens, deletions, splices, truncations) and with raw random
//! bytes, and checks: no panic, no allocation out of proportion to the input (a counting global
//! allocator records the largest single allocation made while decoding), decoded collections
//! and error texts bounded by the input's size, and each target's own safety property.
//!
//! Case counts: `BERT_FUZZ_CASES` (default 500 per target, a few seconds in a debug build). The
//! full run, one million executions per target:
//!
//! ```text
//! BERT_FUZZ_CASES=1000000 cargo test --release --test fuzz -- --test-threads 1 --nocapture
//! ```
//!
//! Each target prints its executions and time (`fuzz <target>: <n> executions in <s> s`).

use bert::app::config::Config;
use bert::chat::auth::{Roles, Verdict, authorize};
use bert::chat::parse::{self, ChatCommand, MAX_INPUT_CHARS, ParseError};
use bert::domain::{AssetCode, ClosedTrade, Order, Position, Symbol, Timestamp};
use bert::engine::EngineMeta;
use bert::exchange::binance::errors::parse_api_error;
use bert::exchange::binance::filters::decode_exchange_info;
use bert::exchange::binance::wire::{
    decode_account, decode_api_restrictions, decode_execution_report, decode_klines, decode_my_trades, decode_order,
    decode_orders, decode_replace, decode_server_time, decode_stream_kline, decode_user_frame,
};
use bert::store::codec;
use bert::store::{ChatSettings, JournalEntry, OutboxRow};
use bert::strategy::edge70::Direction;
use proptest::prelude::*;
use proptest::test_runner::{Config as PropConfig, TestCaseError, TestRunner};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Instant;

// ----- allocation meter ---------------------------------------------------------------------

/// The system allocator, recording per thread the largest single allocation since the last
/// reset. Thread-local so parallel test threads do not see each other's allocations.
struct Meter;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: the slot may be gone while a thread is being torn down.
    let _ = LARGEST.try_with(|l| {
        if size > l.get() {
            l.set(size)
        }
    });
}

// SAFETY: every call is forwarded unchanged to `System`; the meter only reads the size.
unsafe impl GlobalAlloc for Meter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Meter = Meter;

/// Runs `f` and fails if any single allocation it made was larger than a small multiple of the
/// input (plus a fixed allowance for buffers every decoder may set up).
fn bounded<T>(input_len: usize, f: impl FnOnce() -> T) -> Result<T, TestCaseError> {
    LARGEST.with(|l| l.set(0));
    let out = f();
    let largest = LARGEST.with(|l| l.get());
    let limit = 64 * 1024 + 32 * input_len;
    if largest > limit {
        return Err(TestCaseError::fail(format!("an allocation of {largest} bytes for {input_len} bytes of input")));
    }
    Ok(out)
}

// ----- inputs -------------------------------------------------------------------------------

fn cases() -> u32 {
    std::env::var("BERT_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(500)
}

/// Runs one target for `cases()` executions and reports the count and time.
fn run<S: Strategy>(target: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let n = cases();
    let mut runner = TestRunner::new(PropConfig {
        cases: n,
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..PropConfig::default()
    });
    let started = Instant::now();
    if let Err(e) = runner.run(&strategy, test) {
        panic!("fuzz {target}: {e}");
    }
    println!("fuzz {target}: {n} executions in {:.1} s", started.elapsed().as_secs_f64());
}

/// Tokens that tend to break decoders: wrong JSON types, huge and odd numbers, escapes,
/// Binance's and Telegram's field names.
const TOKENS: &[&str] = &[
    "null",
    "true",
    "[]",
    "{}",
    "\"\"",
    "-1",
    "0",
    "-0",
    "1e999",
    "-1e-999",
    "18446744073709551616",
    "-9223372036854775809",
    "9007199254740993",
    "0.000000000000000000000000000001",
    "79228162514264337593543950336",
    "\"NaN\"",
    "\"-0.00000000\"",
    "\"1e5\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\u{202e}",
    "\"e\":\"executionReport\"",
    "\"event\":",
    "\"subscriptionId\":",
    "\"X\":\"FILLED\"",
    "\"x\":\"TRADE\"",
    "\"c\":\"",
    "\"s\":\"BTCUSDT\"",
    "\"status\":",
    "\"code\":-1007",
    "\"message\":",
    "\"from\":",
    "\"sender_chat\":",
    "\"is_bot\":false",
    "\"text\":\"/enter btc\"",
    "\"callback_query\":",
    "\"forward_origin\":",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":",
];

#[derive(Clone, Debug)]
enum Edit {
    Set(usize, u8),
    Insert(usize, usize),
    InsertBytes(usize, Vec<u8>),
    Delete(usize, usize),
    Splice(usize, usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Edit::Set(p, b)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(p, t)| Edit::Insert(p, t)),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8)).prop_map(|(p, b)| Edit::InsertBytes(p, b)),
        (any::<usize>(), 1usize..16).prop_map(|(p, n)| Edit::Delete(p, n)),
        (any::<usize>(), any::<usize>(), 1usize..64).prop_map(|(a, b, n)| Edit::Splice(a, b, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len();
        let at = |p: usize| if len == 0 { 0 } else { p % (len + 1) };
        match e {
            Edit::Set(p, b) if len > 0 => bytes[p % len] = *b,
            Edit::Set(..) => {}
            Edit::Insert(p, t) => {
                let at = at(*p);
                bytes.splice(at..at, TOKENS[*t].bytes());
            }
            Edit::InsertBytes(p, b) => {
                let at = at(*p);
                bytes.splice(at..at, b.iter().copied());
            }
            Edit::Delete(p, n) => {
                let from = at(*p);
                let to = (from + n).min(len);
                bytes.drain(from..to);
            }
            Edit::Splice(a, b, n) if len > 0 => {
                let from = a % len;
                let to = (from + n).min(len);
                let piece = bytes[from..to].to_vec();
                let at = at(*b);
                bytes.splice(at..at, piece);
            }
            Edit::Splice(..) => {}
            Edit::Truncate(p) => bytes.truncate(at(*p)),
        }
    }
    bytes
}

/// Mutations of the samples, or (one case in eight) random bytes.
fn input(samples: Vec<String>) -> impl Strategy<Value = Vec<u8>> {
    let n = samples.len();
    prop_oneof![
        7 => (0..n, proptest::collection::vec(edit(), 0..6))
            .prop_map(move |(i, edits)| apply(samples[i].clone().into_bytes(), &edits)),
        1 => proptest::collection::vec(any::<u8>(), 0..512),
    ]
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn usdt() -> AssetCode {
    AssetCode::new("USDT").unwrap()
}

fn resolver(pair: &str) -> Option<Symbol> {
    let (b, q) = match pair {
        "BTCUSDT" => ("BTC", "USDT"),
        "ETHBTC" => ("ETH", "BTC"),
        "LTCBNB" => ("LTC", "BNB"),
        "LTCBTC" => ("LTC", "BTC"),
        "BNBBTC" => ("BNB", "BTC"),
        _ => return None,
    };
    Some(Symbol::new(AssetCode::new(b).ok()?, AssetCode::new(q).ok()?))
}

// ----- the command parser -------------------------------------------------------------------

const BOT: &str = "bert_test_bot";

#[test]
fn fuzz_command_parser() {
    let samples: Vec<String> = [
        "/enter btc",
        "/enter@bert_test_bot BTCUSDT",
        "/exit eth",
        "/stop btc 25000.5",
        "/stop@Bert_Test_Bot sol 0.00012345",
        "/lang ru",
        "/list",
        "/status@bert_test_bot",
        "/pause",
        "/resume",
        "/enter@OtherBot btc",
        "  /help  extra words",
        "/start",
        "hello",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let strategy = prop_oneof![input(samples), ".{0,64}".prop_map(String::into_bytes)];
    run("command parser", strategy, |bytes| {
        let text = text(&bytes);
        let parsed = bounded(text.len(), || parse::parse(&text, Some(BOT), usdt()))?;
        let again = parse::parse(&text, Some(BOT), usdt());
        prop_assert_eq!(&parsed, &again, "deterministic");
        let trimmed = text.trim_start();
        match &parsed {
            Ok(command) => {
                prop_assert!(trimmed.starts_with('/'));
                prop_assert!(trimmed.chars().count() <= MAX_INPUT_CHARS);
                // A command is only ever taken from a mention of this bot (or none).
                let head = trimmed[1..].split_whitespace().next().unwrap_or("");
                if let Some((_, bot)) = head.split_once('@') {
                    prop_assert!(bot.eq_ignore_ascii_case(BOT), "{:?} accepted for {:?}", command, bot);
                }
                // Trade commands come only from their own names.
                if let ChatCommand::Engine(c) = command
                    && c.is_trade()
                {
                    let name = head.split('@').next().unwrap_or("").to_ascii_lowercase();
                    prop_assert!(["enter", "exit", "pause", "resume"].contains(&name.as_str()), "{name}");
                }
                if let ChatCommand::MoveStop { price, .. } = command {
                    prop_assert!(*price > rust_decimal::Decimal::ZERO);
                }
            }
            Err(e) => {
                // Echoed input is short and clean.
                let echoed = match e {
                    ParseError::Unknown(s) | ParseError::BadSymbol(s) | ParseError::BadPrice(s) => Some(s),
                    _ => None,
                };
                if let Some(s) = echoed {
                    // 32 characters and an ellipsis.
                    prop_assert!(s.chars().count() <= 33, "echo of {} chars", s.chars().count());
                    prop_assert!(!s.chars().any(char::is_control), "control characters echoed: {s:?}");
                }
            }
        }
        Ok(())
    });
}

// ----- Binance: WebSocket frames --------------------------------------------------------------

const EXECUTION: &str = r#"{"subscriptionId":0,"event":{"e":"executionReport","E":1719467634107,"s":"LTCBNB","c":"8LGC97RRgNPVQk979VIhjt","S":"BUY","o":"MARKET","f":"GTC","q":"6.00000000","p":"0.00000000","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":32,"l":"2.00000000","z":"2.00000000","L":"1.00000000","n":"0.00100000","N":"BNB","T":1719467634105,"t":7,"I":63,"w":false,"m":false,"M":true,"O":1719467634105,"Z":"2.00000000","Y":"2.00000000","Q":"0.00000000","W":1719467634105,"V":"NONE"}}"#;
const ORDER: &str = r#"{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"6gCrw2kRUAF9CvJDGP16IP","transactTime":1507725176595,"price":"0.00000000","origQty":"10.00000000","executedQty":"10.00000000","cummulativeQuoteQty":"10.00000000","status":"FILLED","timeInForce":"GTC","type":"MARKET","side":"SELL","workingTime":1507725176595,"fills":[{"price":"4000.00000000","qty":"1.00000000","commission":"4.00000000","commissionAsset":"USDT","tradeId":56}]}"#;
const QUERY: &str = r#"{"symbol":"LTCBTC","orderId":1,"orderListId":-1,"clientOrderId":"myOrder1","price":"0.1","origQty":"1.0","executedQty":"0.0","cummulativeQuoteQty":"0.0","status":"NEW","timeInForce":"GTC","type":"STOP_LOSS_LIMIT","side":"BUY","stopPrice":"0.09","time":1499827319559,"updateTime":1499827319559,"isWorking":true}"#;

fn ws_samples() -> Vec<String> {
    let bare = EXECUTION.strip_prefix(r#"{"subscriptionId":0,"event":"#).unwrap().strip_suffix('}').unwrap();
    vec![
        EXECUTION.to_string(),
        bare.to_string(),
        r#"{"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":1719467634107,"u":1719467634105,"B":[{"a":"LTC","f":"3011.11745670","l":"0.00000000"},{"a":"BNB","f":"996.11865670","l":"0.00000000"}]}}"#.into(),
        r#"{"subscriptionId":0,"event":{"e":"balanceUpdate","E":1573200697110,"a":"BTC","d":"100.00000000","T":1573200697068}}"#.into(),
        r#"{"subscriptionId":3,"event":{"e":"eventStreamTerminated","E":1728973001334}}"#.into(),
        r#"{"event":{"e":"serverShutdown","E":1770123456789}}"#.into(),
        r#"{"subscriptionId":0,"event":{"e":"listStatus","E":1564035303637,"s":"ETHBTC","g":2,"c":"OCO","l":"EXEC_STARTED","L":"EXECUTING","r":"NONE","C":"F4QN4G8DlFATFlIUQ0cjdD","T":1564035303625,"O":[{"s":"ETHBTC","i":17,"c":"AJYsMjErWJesZvqlJCTUgL"}]}}"#.into(),
        r#"{"id":"sub-1","status":200,"result":{"subscriptionId":0},"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":2}]}"#.into(),
        r#"{"id":"sub-2","status":400,"error":{"code":-1022,"msg":"Signature for this request is not valid."}}"#.into(),
        r#"{"id":"sub-3","status":429,"error":{"code":-1003,"msg":"Too many requests","data":{"serverTime":1659126829220,"retryAfter":1659126889220}}}"#.into(),
        r#"{"stream":"btcusdt@kline_1d","data":{"e":"kline","E":1672515782136,"s":"BTCUSDT","k":{"t":1672515780000,"T":1672515839999,"s":"BTCUSDT","i":"1d","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":true,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}}"#.into(),
    ]
}

#[test]
fn fuzz_binance_ws_frames() {
    run("binance ws frames", input(ws_samples()), |bytes| {
        let text = text(&bytes);
        let frame = bounded(text.len(), || decode_user_frame(&text, &resolver))?;
        if let Err(e) = &frame {
            prop_assert!(e.0.len() <= 256 + text.len(), "error text of {} bytes", e.0.len());
        }
        let _ = bounded(text.len(), || decode_execution_report(&text, &resolver))?;
        let kline = bounded(text.len(), || decode_stream_kline(&text, &resolver))?;
        if let Err(e) = kline {
            prop_assert!(e.0.len() <= 256 + text.len());
        }
        Ok(())
    });
}

// ----- Binance: REST responses ----------------------------------------------------------------

fn rest_samples() -> Vec<String> {
    vec![
        ORDER.to_string(),
        QUERY.to_string(),
        format!("[{QUERY},{QUERY}]"),
        r#"[{"symbol":"BTCUSDT","id":28457,"orderId":100234,"orderListId":-1,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012","commission":"10.10000000","commissionAsset":"BNB","time":1499865549590,"isBuyer":true,"isMaker":false,"isBestMatch":true}]"#.into(),
        r#"{"makerCommission":15,"canTrade":true,"canWithdraw":true,"canDeposit":true,"updateTime":123456789,"accountType":"SPOT","balances":[{"asset":"BTC","free":"4723846.89208129","locked":"0.00000000"},{"asset":"USDT","free":"1.5","locked":"0.1"}],"permissions":["SPOT"],"uid":354937868}"#.into(),
        r#"{"ipRestrict":false,"createTime":1698645219000,"enableReading":true,"enableWithdrawals":false,"enableSpotAndMarginTrading":true}"#.into(),
        r#"{"serverTime": 1499827319559}"#.into(),
        r#"[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]"#.into(),
        format!(r#"{{"cancelResult":"SUCCESS","newOrderResult":"SUCCESS","cancelResponse":{QUERY},"newOrderResponse":{ORDER}}}"#),
        format!(r#"{{"code":-2021,"msg":"Order cancel-replace partially failed.","data":{{"cancelResult":"SUCCESS","newOrderResult":"FAILURE","cancelResponse":{QUERY},"newOrderResponse":{{"code":-2010,"msg":"Order would trigger immediately."}}}}}}"#),
        r#"{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}"#.into(),
        r#"{"timezone":"UTC","serverTime":1565246363776,"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000},{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50}],"exchangeFilters":[],"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT","filters":[{"filterType":"PRICE_FILTER","minPrice":"0.01","maxPrice":"1000000","tickSize":"0.01"},{"filterType":"LOT_SIZE","minQty":"0.00001","maxQty":"9000","stepSize":"0.00001"},{"filterType":"NOTIONAL","minNotional":"5","applyMinToMarket":true,"maxNotional":"9000000","applyMaxToMarket":false,"avgPriceMins":5}]}]}"#.into(),
    ]
}

#[test]
fn fuzz_binance_rest_responses() {
    run("binance rest responses", input(rest_samples()), |body| {
        let n = body.len();
        let err_ok = |e: &str| e.len() <= 256 + n;
        if let Err(e) = bounded(n, || decode_order(&body, &resolver))? {
            prop_assert!(err_ok(&e.0));
        }
        match bounded(n, || decode_orders(&body, &resolver))? {
            Ok(v) => prop_assert!(v.len() <= n / 2, "{} orders from {n} bytes", v.len()),
            Err(e) => prop_assert!(err_ok(&e.0)),
        }
        match bounded(n, || decode_my_trades(&body, &resolver))? {
            Ok(v) => prop_assert!(v.len() <= n / 2),
            Err(e) => prop_assert!(err_ok(&e.0)),
        }
        match bounded(n, || decode_account(&body))? {
            Ok(a) => prop_assert!(a.balances.len() <= n / 2),
            Err(e) => prop_assert!(err_ok(&e.0)),
        }
        let _ = bounded(n, || decode_api_restrictions(&body))?;
        let _ = bounded(n, || decode_server_time(&body))?;
        match bounded(n, || decode_klines(&body, Timestamp(1_700_000_000_000)))? {
            Ok(v) => prop_assert!(v.len() <= n / 2),
            Err(e) => prop_assert!(err_ok(&e.0)),
        }
        for status in [200u16, 400, 409] {
            let _ = bounded(n, || decode_replace(status, &body, &resolver))?;
        }
        match bounded(n, || decode_exchange_info(&body))? {
            Ok(info) => prop_assert!(info.symbols.len() + info.rate_limits.len() <= n / 2),
            Err(e) => prop_assert!(err_ok(&e.0)),
        }
        if let Some(api) = bounded(n, || parse_api_error(&body))? {
            prop_assert!(api.msg.len() <= n);
        }
        Ok(())
    });
}

// ----- Telegram: update decoding and the authorization gate -----------------------------------

const TRADER: i64 = 100;
const VIEWER: i64 = 200;

fn update_samples() -> Vec<String> {
    let user = |id: i64| format!(r#"{{"id":{id},"is_bot":false,"first_name":"U","language_code":"en"}}"#);
    let chat = r#"{"id":-900,"type":"group","title":"Desk"}"#;
    let private = format!(r#"{{"id":{TRADER},"type":"private","first_name":"T"}}"#);
    let msg = |from: String, chat: &str, extra: &str| {
        format!(
            r#"{{"message_id":5,"date":1700000000,"chat":{chat},"from":{from},"text":"/enter btc","entities":[{{"type":"bot_command","offset":0,"length":6}}]{extra}}}"#
        )
    };
    vec![
        format!(r#"{{"update_id":1,"message":{}}}"#, msg(user(TRADER), &private, "")),
        format!(r#"{{"update_id":2,"message":{}}}"#, msg(user(VIEWER), chat, "")),
        format!(
            r#"{{"update_id":3,"message":{}}}"#,
            msg(r#"{"id":1087968824,"is_bot":true,"first_name":"Group","username":"GroupAnonymousBot"}"#.into(), chat, r#","sender_chat":{"id":-900,"type":"group","title":"Desk"}"#)
        ),
        format!(r#"{{"update_id":4,"edited_message":{}}}"#, msg(user(TRADER), chat, r#","edit_date":1700000100"#)),
        format!(
            r#"{{"update_id":5,"message":{}}}"#,
            msg(user(TRADER), chat, &format!(r#","forward_origin":{{"type":"user","date":1699999000,"sender_user":{}}}"#, user(7)))
        ),
        format!(
            r#"{{"update_id":6,"callback_query":{{"id":"cq1","from":{},"chat_instance":"ci","data":"bc:0123456789abcdef:y","message":{{"message_id":9,"date":1700000000,"chat":{chat},"text":"preview"}}}}}}"#,
            user(TRADER)
        ),
        r#"{"update_id":7,"channel_post":{"message_id":1,"date":1700000000,"chat":{"id":-1000000000555,"type":"channel","title":"News"},"sender_chat":{"id":-1000000000555,"type":"channel","title":"News"},"text":"/pause"}}"#.into(),
        r#"{"update_id":8,"my_chat_member":{"chat":{"id":-900,"type":"group","title":"Desk"},"from":{"id":100,"is_bot":false,"first_name":"T"},"date":1700000000,"old_chat_member":{"user":{"id":1,"is_bot":true,"first_name":"B"},"status":"member"},"new_chat_member":{"user":{"id":1,"is_bot":true,"first_name":"B"},"status":"kicked","until_date":0}}}"#.into(),
    ]
}

#[test]
fn fuzz_telegram_updates() {
    let roles = Roles::new([TRADER], [VIEWER]);
    run("telegram updates", input(update_samples()), |bytes| {
        let n = bytes.len();
        let update = bounded(n, || serde_json::from_slice::<teloxide::types::Update>(&bytes))?;
        let Ok(update) = update else { return Ok(()) };
        // The pure part of the gate: the sender's role, the parsed command and the verdict.
        if let teloxide::types::UpdateKind::Message(msg) = &update.kind {
            let sender = if msg.sender_chat.is_some() { None } else { msg.from.as_ref().filter(|u| !u.is_bot) };
            let user = sender.and_then(|u| i64::try_from(u.id.0).ok());
            let role = roles.role_of(user);
            if let Some(text) = msg.text() {
                let parsed = bounded(text.len(), || parse::parse(text, Some(BOT), usdt()))?;
                if let Ok(command) = parsed
                    && let ChatCommand::Engine(c) = &command
                    && c.is_trade()
                    && authorize(role, &command) == Verdict::Allow
                {
                    prop_assert_eq!(user, Some(TRADER), "a trade allowed for {:?}", msg.from);
                    prop_assert!(msg.sender_chat.is_none());
                }
            }
        }
        Ok(())
    });
}

// ----- the config loader -----------------------------------------------------------------------

const ENV_KEYS: &[&str] = &[
    "TELEGRAM_BOT_TOKEN",
    "BINANCE_API_KEY",
    "BINANCE_API_SECRET",
    "BERT_EXCHANGE",
    "BERT_BINANCE_REST_URL",
    "BERT_BINANCE_WS_API_URL",
    "BERT_BINANCE_STREAM_URL",
    "BERT_TELEGRAM_API_URL",
    "BERT_DATA_DIR",
    "BERT_TRADERS",
    "BERT_VIEWERS",
    "BERT_ALERT_CHATS",
    "BERT_QUOTE_ASSET",
    "BERT_SYMBOLS",
    "BERT_AUTO_TRADE",
    "BERT_CONFIRM",
    "BERT_MAX_OPEN_POSITIONS",
    "BERT_RISK_PER_TRADE_PCT",
    "BERT_STOP_PCT",
    "BERT_MAX_POSITION_PCT",
    "BERT_MAX_PORTFOLIO_RISK_PCT",
    "BERT_ENTRY_SLIPPAGE_PCT",
    "BERT_PERFORMANCE_EVERY",
    "BERT_LOG_FORMAT",
    "BERT_HTTP_ADDR",
];

const ENV_VALUES: &[&str] = &[
    "",
    " ",
    "paper",
    "live",
    "testnet",
    "demo",
    "https://api.binance.com",
    "ws://127.0.0.1:1",
    "ftp://x",
    "1,2,3",
    "7",
    "-100123",
    "1,,2",
    "99999999999999999999",
    "BTC,ETH",
    "BTC, ,ETH",
    "USDT",
    "usdt",
    "true",
    "false",
    "yes",
    "1",
    "0.5",
    "-1",
    "1e3",
    "100",
    "NaN",
    "7d",
    "1h",
    "0s",
    "off",
    "json",
    "pretty",
    "0.0.0.0:8080",
    "[::1]:0",
    "localhost:99999",
    "\u{0}",
];

const FILE_SEED: &str = r#"exchange = "paper"
telegram_api_url = "https://api.telegram.org"
traders = [7, 8]
viewers = [9]
alert_chats = [-100]
quote_asset = "USDT"
symbols = ["BTC", "ETH"]
auto_trade = false
confirm = true
risk_per_trade_pct = 1
stop_pct = "2.5"
max_position_pct = 20
max_open_positions = 3
max_portfolio_risk_pct = 5.5
entry_slippage_pct = 0.2
performance_every = "1d"
log_format = "json"
http_addr = "127.0.0.1:8080"
data_dir = "/tmp/bert"
"#;

fn env_strategy() -> impl Strategy<Value = Vec<(usize, String)>> {
    let value = prop_oneof![
        3 => (0..ENV_VALUES.len()).prop_map(|i| ENV_VALUES[i].to_string()),
        1 => ".{0,24}",
    ];
    proptest::collection::vec((0..ENV_KEYS.len(), value), 0..10)
}

#[test]
fn fuzz_config_loader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bert.toml");
    let file = prop_oneof![
        1 => Just(None),
        4 => input(vec![FILE_SEED.to_string()]).prop_map(Some),
    ];
    let token = "[a-zA-Z0-9]{16}".prop_map(|t| format!("TOKENSECRET{t}"));
    run("config loader", (env_strategy(), file, token), |(env, file, token)| {
        let mut vars: std::collections::HashMap<&str, String> =
            env.into_iter().map(|(k, v)| (ENV_KEYS[k], v)).collect();
        vars.insert("TELEGRAM_BOT_TOKEN", token.clone());
        let n = vars.values().map(String::len).sum::<usize>() + file.as_ref().map_or(0, Vec::len);
        if let Some(bytes) = &file {
            std::fs::write(&path, bytes).unwrap();
        }
        let get = |k: &str| vars.get(k).cloned();
        let loaded = bounded(n, || Config::load(file.as_ref().map(|_| path.as_path()), &get))?;
        match loaded {
            Ok(config) => {
                prop_assert!(!config.symbols.is_empty());
                let printed = config.printable();
                prop_assert!(!printed.contains(&token), "the token is printed");
            }
            Err(e) => {
                let shown = e.to_string();
                prop_assert!(!shown.contains(&token), "the token is in an error: {shown}");
                prop_assert!(shown.len() <= 1024 + n, "an error of {} bytes", shown.len());
            }
        }
        Ok(())
    });
}

// ----- the store's value codec ---------------------------------------------------------------

fn store_samples() -> Vec<String> {
    include_str!("fixtures/store_v1_records.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut parts = l.splitn(3, ' ');
            let (_, version, body) = (parts.next()?, parts.next()?, parts.next()?);
            Some(format!("Bt{}{body}", char::from(version.parse::<u8>().ok()?)))
        })
        .collect()
}

#[test]
fn fuzz_store_codec() {
    let samples = store_samples();
    assert!(samples.len() >= 10, "the golden records are read");
    run("store codec", input(samples), |bytes| {
        let n = bytes.len();
        macro_rules! decode_as {
            ($($t:ty),*) => {$(
                if let Err(e) = bounded(n, || codec::decode::<$t>("t", &1u64, &bytes))? {
                    prop_assert!(e.to_string().len() <= 512 + n, "{}", e);
                }
            )*};
        }
        decode_as!(Order, Position, ClosedTrade, EngineMeta, JournalEntry, OutboxRow, ChatSettings, Direction);
        Ok(())
    });
}
