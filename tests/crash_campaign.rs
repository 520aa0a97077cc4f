//! Crash campaign: the real `bert run` binary against the fake Binance and the fake Telegram,
//! killed with SIGKILL at seeded random instants while a scripted trading session goes on
//! (entries from the chat, price moves that trigger stops, exits), restarted each time.
//!
//! At the end one last instance settles (healthy, outbox drained, exchange quiet), stops with
//! SIGTERM, and the test checks against the fake exchange and the fake Bot API:
//!
//! * kill points survived: every restart after a kill became healthy again;
//! * no duplicate order: no two orders on the exchange share a client order id (one intent,
//!   one order, however often the process died between deciding and hearing back);
//! * no lost or doubled fill: for every position, what Bert recorded as bought and sold equals
//!   what the exchange executed for that position's orders, and no order on the exchange is
//!   unknown to Bert;
//! * no lost alert: the outbox is empty and nothing was dead-lettered (a row leaves the outbox
//!   only once Telegram accepted it), and every fill is announced in the alert chat;
//! * duplicate alerts per crash: identical messages delivered twice, divided by the kills.
//!
//! CI runs 20 kills. The full run (the README's figures):
//!
//! ```text
//! BERT_CRASH_KILLS=200 cargo test --release --test crash_campaign -- --nocapture
//! ```
//!
//! `BERT_CRASH_SEED` picks another reproducible schedule.

#[path = "support/fake_binance/mod.rs"]
mod fake_binance;
#[path = "support/fake_telegram/mod.rs"]
mod fake_telegram;

use bert::store::Store;
use fake_binance::{API_KEY, FakeBinance, SECRET};
use fake_telegram::{FakeTelegram, TOKEN};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const TRADER: i64 = 7;
const ALERTS: i64 = -100;

/// SplitMix64: a tiny seeded generator, so a schedule is reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `bert run`; its output goes to `log` (a file, so a chatty child can never block on
/// a full pipe).
fn bert_run(data: &Path, fake: &FakeBinance, tg: &FakeTelegram, http: u16, log: &Path) -> Child {
    bert_command(data, fake, tg, http, log).spawn().expect("start bert run")
}

fn bert_command(data: &Path, fake: &FakeBinance, tg: &FakeTelegram, http: u16, log: &Path) -> Command {
    let out = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    let err = out.try_clone().unwrap();
    // `BERT_CRASH_BIN`: a copy of the binary, so a long run is not disturbed by a rebuild.
    let bin = std::env::var("BERT_CRASH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_bert").to_string());
    let mut command = Command::new(bin);
    command
        .arg("run")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("BERT_TELEGRAM_API_URL", tg.url())
        .env("BINANCE_API_KEY", API_KEY)
        .env("BINANCE_API_SECRET", SECRET)
        .env("BERT_EXCHANGE", "testnet")
        .env("BERT_BINANCE_REST_URL", fake.rest_url())
        .env("BERT_BINANCE_WS_API_URL", fake.ws_api_url())
        .env("BERT_BINANCE_STREAM_URL", fake.stream_url())
        .env("BERT_DATA_DIR", data)
        .env("BERT_SYMBOLS", "BTC,ETH")
        .env("BERT_TRADERS", TRADER.to_string())
        .env("BERT_ALERT_CHATS", ALERTS.to_string())
        .env("BERT_CONFIRM", "false")
        .env("BERT_HTTP_ADDR", format!("127.0.0.1:{http}"))
        .env("BERT_LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    command
}

/// Kills the service if the test fails half-way, so no process outlives the test.
struct Guard(Option<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn get(url: &str) -> Option<(u16, String)> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().ok()?;
    let resp = client.get(url).send().await.ok()?;
    let code = resp.status().as_u16();
    Some((code, resp.text().await.ok()?))
}

async fn healthy_within(http: u16, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if matches!(get(&format!("http://127.0.0.1:{http}/healthz")).await, Some((200, _))) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// The scripted session: a trader enters and exits from the chat while the price walks and
/// crosses the stops. Runs until `stop` is set, whatever happens to the process.
async fn session(fake: FakeBinance, tg: FakeTelegram, mut rng: Rng, stop: Arc<AtomicBool>) -> u64 {
    let mut step = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let drift = Decimal::from(rng.below(200));
        match step % 8 {
            0 => {
                tg.text(TRADER, TRADER, Some("en"), "/enter BTC");
            }
            1 => fake.set_price("BTCUSDT", dec!(50000) + drift),
            2 => {
                tg.text(TRADER, TRADER, Some("en"), "/enter ETH");
            }
            // A crash through every stop: the stops trigger (their limit is below this)...
            3 => fake.set_price("BTCUSDT", dec!(40000) + drift),
            // ...and fill when the price comes back above their limit.
            4 => fake.set_price("BTCUSDT", dec!(49000) + drift),
            5 => {
                tg.text(TRADER, TRADER, Some("en"), "/exit ETH");
            }
            6 => fake.set_price("ETHUSDT", dec!(3000) + drift / dec!(10)),
            _ => {
                tg.text(TRADER, TRADER, Some("en"), "/exit BTC");
            }
        }
        step += 1;
        tokio::time::sleep(Duration::from_millis(50 + rng.below(300))).await;
    }
    step
}

/// The position id inside a client order id `b<tag>-<position>-<role><attempt>`.
fn position_of(client_id: &str) -> Option<u64> {
    u64::from_str_radix(client_id.split('-').nth(1)?, 36).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_instants_loses_nothing_and_duplicates_no_order() {
    let kills = env_num("BERT_CRASH_KILLS", 20);
    let seed = env_num("BERT_CRASH_SEED", 7);
    let started = Instant::now();
    let fake = FakeBinance::start().await;
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("bert.log");
    let mut rng = Rng(seed);

    // The first start must come up before the session begins.
    let http = free_port();
    let mut guard = Guard(Some(bert_run(data.path(), &fake, &tg, http, &log)));
    assert!(healthy_within(http, Duration::from_secs(60)).await, "the first start became healthy");
    let stop = Arc::new(AtomicBool::new(false));
    let script = tokio::spawn(session(fake.clone(), tg.clone(), Rng(seed ^ 0xDEAD_BEEF), stop.clone()));

    let mut survived = 0u64;
    let mut startup_kills = 0u64;
    let mut http = http;
    for k in 0..kills {
        // One kill in four lands during start-up (reconciliation, stream subscription), the
        // others at a random instant of normal running.
        let early = rng.below(4) == 0;
        if early {
            startup_kills += 1;
        } else {
            assert!(
                healthy_within(http, Duration::from_secs(120)).await,
                "restart {k} did not become healthy: {}",
                std::fs::read_to_string(&log).unwrap_or_default().lines().rev().take(20).collect::<Vec<_>>().join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(if early { rng.below(600) } else { rng.below(1500) })).await;
        let mut child = guard.0.take().expect("running");
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // Restart on a fresh port (the old one may linger in TIME_WAIT) and check it recovers.
        http = free_port();
        guard.0 = Some(bert_run(data.path(), &fake, &tg, http, &log));
        // Up to two minutes: a restart may have to wait for the request-weight window to roll.
        if healthy_within(http, Duration::from_secs(120)).await {
            survived += 1;
        } else {
            let health = get(&format!("http://127.0.0.1:{http}/healthz")).await;
            eprintln!("restart after kill {k} not healthy within 120 s: {health:?}");
        }
    }
    stop.store(true, Ordering::SeqCst);
    let steps = script.await.unwrap();

    // Settle: healthy, outbox empty, and the exchange quiet (no new request for 2 s).
    if !healthy_within(http, Duration::from_secs(60)).await {
        let health = get(&format!("http://127.0.0.1:{http}/healthz")).await;
        let logs = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = logs.lines().rev().take(30).collect();
        panic!("the last start is not healthy: {health:?}\n{}", tail.join("\n"));
    }
    // The outbox drains at Telegram's pace (20 messages a minute in a group), so after a long
    // run this can take minutes: the limit is on making no progress, not on the total.
    let mut deadline = Instant::now() + Duration::from_secs(120);
    let mut last_depth = None;
    let mut quiet_since = (Instant::now(), fake.total_requests());
    loop {
        let depth = match get(&format!("http://127.0.0.1:{http}/metrics")).await {
            Some((200, m)) => metric(&m, "bert_outbox_depth"),
            _ => None,
        };
        let requests = fake.total_requests();
        if requests != quiet_since.1 {
            quiet_since = (Instant::now(), requests);
        }
        let open_on_exchange =
            fake.state().orders.iter().filter(|o| o.is_open() && o.kind != "STOP_LOSS_LIMIT").count();
        if depth.is_some() && depth != last_depth {
            last_depth = depth;
            deadline = Instant::now() + Duration::from_secs(120);
        }
        if depth == Some(0.0) && open_on_exchange == 0 && quiet_since.0.elapsed() > Duration::from_secs(2) {
            break;
        }
        if Instant::now() > deadline {
            let last: Vec<String> = fake
                .state()
                .requests
                .iter()
                .rev()
                .take(10)
                .map(|r| format!("{} {} {:?} {}", r.method, r.path, r.params.get("origClientOrderId"), r.status))
                .collect();
            panic!(
                "did not settle: outbox depth {depth:?}, open non-stop orders {open_on_exchange}, \
                 last request {:.1} s ago, last requests {last:?}",
                quiet_since.0.elapsed().as_secs_f64()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut bert = guard.0.take().unwrap();
    assert!(Command::new("kill").args(["-TERM", &bert.id().to_string()]).status().unwrap().success());
    let status = bert.wait().unwrap();
    assert_eq!(status.code(), Some(0), "clean stop");

    // ----- invariants ------------------------------------------------------------------------
    let orders = fake.state().orders.clone();
    let mut by_client: HashMap<&str, usize> = HashMap::new();
    for o in &orders {
        *by_client.entry(o.client_id.as_str()).or_default() += 1;
    }
    let duplicate_orders: Vec<_> = by_client.iter().filter(|(_, n)| **n > 1).collect();

    let store = Store::open(data.path().join("bert.redb")).unwrap();
    let positions = store.positions_all().unwrap();
    let local: BTreeMap<u64, _> = positions.iter().map(|p| (p.id.0, p)).collect();
    // What the exchange executed per position: (bought, sold).
    let mut executed: BTreeMap<u64, (Decimal, Decimal)> = BTreeMap::new();
    let mut orphans = Vec::new();
    for o in &orders {
        let Some(pos) = position_of(&o.client_id) else {
            orphans.push(o.client_id.clone());
            continue;
        };
        let e = executed.entry(pos).or_default();
        if o.side == "BUY" {
            e.0 += o.executed;
        } else {
            e.1 += o.executed;
        }
    }
    let mut lost_fills = Vec::new();
    for (pos, (bought, sold)) in &executed {
        match local.get(pos) {
            None if bought.is_zero() && sold.is_zero() => {}
            None => lost_fills.push(format!("position {pos}: exchange executed {bought}/{sold}, unknown locally")),
            Some(p) if p.bought_qty != *bought || p.sold_qty != *sold => lost_fills.push(format!(
                "position {pos}: local bought {} sold {}, exchange {bought} / {sold}; its orders: {:#?}",
                p.bought_qty,
                p.sold_qty,
                orders
                    .iter()
                    .filter(|o| position_of(&o.client_id) == Some(*pos))
                    .map(|o| format!("{} {} {} {} executed {}", o.client_id, o.kind, o.side, o.status, o.executed))
                    .collect::<Vec<_>>()
            )),
            Some(_) => {}
        }
    }
    // For a mismatch, what Bert logged about that position's orders tells how it came about.
    if !lost_fills.is_empty() {
        let logs = std::fs::read_to_string(&log).unwrap_or_default();
        for (pos, _) in
            executed.iter().filter(|(pos, e)| local.get(pos).is_some_and(|p| (p.bought_qty, p.sold_qty) != **e))
        {
            let ids: Vec<&str> = orders
                .iter()
                .filter(|o| position_of(&o.client_id) == Some(*pos))
                .map(|o| o.client_id.as_str())
                .collect();
            eprintln!("--- log lines about position {pos}'s orders:");
            for line in logs.lines().filter(|l| ids.iter().any(|id| l.contains(id))) {
                eprintln!("{line}");
            }
        }
    }
    for p in &positions {
        let traded = !(p.bought_qty.is_zero() && p.sold_qty.is_zero());
        if traded && !executed.contains_key(&p.id.0) {
            lost_fills.push(format!("position {}: fills locally but no order on the exchange", p.id.0));
        }
    }
    let outbox_left = store.outbox_len().unwrap();
    let dead = store.dead_letters().unwrap();

    // Alerts: each fill is announced. Identical alerts delivered more than once are
    // duplicates: prices drift every step, so honest repeats are rare (and count against us).
    // Command replies ("There is no open BTC position") repeat honestly, and "Bert started"
    // is a new alert at every start, so both are left out of the count.
    let sent = tg.sent();
    let mut seen: HashMap<(i64, String), usize> = HashMap::new();
    for m in sent.iter().filter(|m| m.chat == ALERTS && !m.text.contains("Bert started")) {
        *seen.entry((m.chat, m.text.clone())).or_default() += 1;
    }
    let duplicate_alerts: usize = seen.values().map(|n| n - 1).sum();
    if std::env::var("BERT_CRASH_SHOW").is_ok() {
        for ((chat, text), n) in seen.iter().filter(|(_, n)| **n > 1) {
            println!("{n}x to {chat}: {text}");
        }
    }
    let fills = fake.state().trades.len();
    let positions_with_fills = executed.values().filter(|(b, _)| !b.is_zero()).count();
    let filled_alerts = sent.iter().filter(|m| m.chat == ALERTS && m.text.contains("Bought")).count();
    let logs = std::fs::read_to_string(&log).unwrap_or_default();
    let panics = logs.lines().filter(|l| l.contains("panicked")).count();

    println!(
        "crash campaign (seed {seed}): kill points survived {survived}/{kills} ({startup_kills} during start-up), \
         {steps} script steps, {} orders, {fills} fills, {positions_with_fills} positions filled, \
         duplicate orders {}, lost fills {}, outbox left {outbox_left}, dead letters {}, \
         messages delivered {}, duplicate alerts {duplicate_alerts} ({:.2} per crash), panics {panics}, {:.0} s",
        orders.len(),
        duplicate_orders.len(),
        lost_fills.len(),
        dead.len(),
        sent.len(),
        duplicate_alerts as f64 / kills.max(1) as f64,
        started.elapsed().as_secs_f64(),
    );
    assert_eq!(survived, kills, "every restart after a kill became healthy");
    assert!(duplicate_orders.is_empty(), "one order per client intent: {duplicate_orders:?}");
    assert!(orphans.is_empty(), "orders Bert did not place: {orphans:?}");
    assert!(lost_fills.is_empty(), "fills lost or applied twice: {lost_fills:#?}");
    assert_eq!(outbox_left, 0, "the outbox drained: {:?}", store.outbox_peek(10).unwrap());
    assert!(dead.is_empty(), "no alert was given up on: {dead:?}");
    assert!(positions_with_fills > 0, "the session traded");
    assert!(filled_alerts > 0, "fills were announced");
    assert_eq!(panics, 0, "no panic in the logs");
    assert!(
        duplicate_alerts as u64 <= kills,
        "at most one duplicate message per crash on average: {duplicate_alerts} for {kills} kills"
    );
}

/// Regression (found by the campaign): a restart while the request-weight window was nearly
/// used made `bert run` exit at once ("cannot load candle history: exchange unavailable"), so a
/// supervisor restarted it again, spending more weight. Start-up now waits such refusals out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_waits_out_a_rate_limit_instead_of_exiting() {
    use fake_binance::{Endpoint, Fault};
    let fake = FakeBinance::start().await;
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("bert.log");
    // The candle history request is answered 429 (retry after 1 s), then the account 429.
    let limited =
        || Fault::Reject { status: 429, code: -1003, msg: "Too much request weight used".into(), retry_after: Some(1) };
    fake.fault(Endpoint::Klines, limited());
    fake.fault(Endpoint::ExchangeInfo, limited());
    let http = free_port();
    let mut guard = Guard(Some(bert_run(data.path(), &fake, &tg, http, &log)));
    let healthy = healthy_within(http, Duration::from_secs(60)).await;
    let exited = guard.0.as_mut().unwrap().try_wait().unwrap();
    assert!(healthy, "bert did not come up (exit: {exited:?}): {}", std::fs::read_to_string(&log).unwrap_or_default());
    assert!(fake.state().faults.is_empty(), "both refusals were met");
}

/// Regression (found by the campaign): on SIGTERM the outbox started its final flush at the
/// same moment the engine committed its `Stopping` alert, saw an empty queue and quit, so the
/// alert stayed queued and was delivered only at the next start ("shutting down" after it had
/// come back). The outbox now flushes after the engine has stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_delivers_the_stopping_alert_before_exit() {
    let fake = FakeBinance::start().await;
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("bert.log");
    let http = free_port();
    let mut guard = Guard(Some(bert_run(data.path(), &fake, &tg, http, &log)));
    assert!(healthy_within(http, Duration::from_secs(60)).await);
    let mut bert = guard.0.take().unwrap();
    assert!(Command::new("kill").args(["-TERM", &bert.id().to_string()]).status().unwrap().success());
    assert_eq!(bert.wait().unwrap().code(), Some(0));
    let stopping = tg.sent_to(ALERTS).iter().filter(|m| m.text.contains("Bert is shutting down")).count();
    assert_eq!(stopping, 1, "{:?}", tg.sent_to(ALERTS));
    let store = Store::open(data.path().join("bert.redb")).unwrap();
    assert_eq!(store.outbox_len().unwrap(), 0, "{:?}", store.outbox_peek(5).unwrap());
}

// ----- soak ------------------------------------------------------------------------------------

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")?.trim().strip_suffix("kB")?.trim().parse().ok())
}

fn kline(symbol: &str, open_time: i64, open: Decimal, close: Decimal, closed: bool) -> serde_json::Value {
    let (high, low) = (open.max(close), open.min(close));
    serde_json::json!({
        "e": "kline", "E": open_time + 1000, "s": symbol,
        "k": {"t": open_time, "T": open_time + 86_399_999, "s": symbol, "i": "1d", "f": 1, "L": 2,
              "o": open.to_string(), "c": close.to_string(), "h": high.to_string(), "l": low.to_string(),
              "v": "1234.5", "n": 2, "x": closed, "q": "1.0", "V": "1.0", "Q": "1.0", "B": "0"}
    })
}

/// Soak: market days replayed fast (a price every replayed "minute" on the market stream and
/// the fake exchange, a closed daily candle at each day's end) with the real `bert run`, while
/// two traders, a viewer and a stranger send random commands, and the streams are dropped
/// now and then. Checks: memory stays flat (RSS of the process at the start and the end), the
/// outbox drains, and no error-level log line.
///
/// CI replays 2 days (`BERT_SOAK_DAYS`); the full run (the README's figure):
///
/// ```text
/// BERT_SOAK_DAYS=30 cargo test --test crash_campaign soak -- --nocapture
/// ```
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_replayed_days_with_random_commands() {
    use fake_binance::Push;
    let days = env_num("BERT_SOAK_DAYS", 2) as i64;
    let ticks_per_day = env_num("BERT_SOAK_TICKS_PER_DAY", 1440) as i64;
    let started = Instant::now();
    let fake = FakeBinance::start().await;
    fake.set_ping_every(Duration::from_secs(5));
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("bert.log");
    let http = free_port();
    let mut guard = Guard(Some(bert_run(data.path(), &fake, &tg, http, &log)));
    assert!(healthy_within(http, Duration::from_secs(60)).await, "healthy");
    let pid = guard.0.as_ref().unwrap().id();
    let rss_start = rss_kib(pid).unwrap_or(0);
    let mut rng = Rng(env_num("BERT_SOAK_SEED", 11));
    const VIEWER: i64 = 8;
    const STRANGER: i64 = 9;
    let commands =
        ["/enter BTC", "/enter ETH", "/exit BTC", "/exit ETH", "/status", "/list", "/balance", "/help", "/id"];
    let users = [TRADER, VIEWER, STRANGER];
    let (mut btc, mut eth) = (dec!(50000), dec!(3000));
    let day0 = 1_800_000_000_000i64 - 1_800_000_000_000i64 % 86_400_000;
    let mut sent_commands = 0u64;
    for day in 0..days {
        let open_time = day0 + day * 86_400_000;
        let (btc_open, eth_open) = (btc, eth);
        for tick in 0..ticks_per_day {
            // A random walk of up to ±0.2% a minute.
            let step = |p: Decimal, r: u64| p * (Decimal::ONE + Decimal::new(r as i64 - 20, 4));
            btc = step(btc, rng.below(41)).round_dp(2);
            eth = step(eth, rng.below(41)).round_dp(2);
            fake.set_price("BTCUSDT", btc);
            fake.set_price("ETHUSDT", eth);
            fake.push(Push::Kline("btcusdt@kline_1d".into(), kline("BTCUSDT", open_time, btc_open, btc, false)));
            fake.push(Push::Kline("ethusdt@kline_1d".into(), kline("ETHUSDT", open_time, eth_open, eth, false)));
            if rng.below(60) == 0 {
                let user = users[rng.below(users.len() as u64) as usize];
                tg.text(user, user, Some("en"), commands[rng.below(commands.len() as u64) as usize]);
                sent_commands += 1;
            }
            if rng.below(2_000) == 0 {
                fake.push(Push::Drop); // an injected fault: every WebSocket drops
            }
            // Pace: the bot must keep up, not drown (a real stream sends a few frames a second).
            if tick % 20 == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        fake.push(Push::Kline("btcusdt@kline_1d".into(), kline("BTCUSDT", open_time, btc_open, btc, true)));
        fake.push(Push::Kline("ethusdt@kline_1d".into(), kline("ETHUSDT", open_time, eth_open, eth, true)));
    }
    // The outbox drains and the process is still healthy.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let depth = match get(&format!("http://127.0.0.1:{http}/metrics")).await {
            Some((200, m)) => metric(&m, "bert_outbox_depth"),
            _ => None,
        };
        if depth == Some(0.0) {
            break;
        }
        assert!(Instant::now() < deadline, "the outbox did not drain: {depth:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healthy_within(http, Duration::from_secs(30)).await, "still healthy at the end");
    let rss_end = rss_kib(pid).unwrap_or(0);
    let mut bert = guard.0.take().unwrap();
    assert!(Command::new("kill").args(["-TERM", &bert.id().to_string()]).status().unwrap().success());
    assert_eq!(bert.wait().unwrap().code(), Some(0), "clean stop");
    let logs = std::fs::read_to_string(&log).unwrap_or_default();
    let errors: Vec<&str> = logs.lines().filter(|l| l.contains(r#""level":"ERROR""#)).collect();
    let orders = fake.state().orders.len();
    println!(
        "soak: {days} days × {ticks_per_day} prices, {sent_commands} commands, {orders} orders, {} messages, \
         RSS {rss_start} KiB → {rss_end} KiB, error logs {}, {:.0} s",
        tg.sent().len(),
        errors.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(errors.is_empty(), "error-level logs: {errors:#?}");
    assert!(orders > 0, "the soak traded");
    // Flat: no more than 64 MiB of growth (a leak per price or per command would be far more
    // over a full run; the first minutes' allocator warm-up is most of what is seen).
    assert!(rss_end <= rss_start + 64 * 1024, "RSS grew from {rss_start} KiB to {rss_end} KiB");
}

/// Regression: a token Telegram refuses stopped the service cleanly, with exit code 0, so a
/// supervisor saw a normal stop and the operator no error. It now exits non-zero and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_telegram_token_exits_with_an_error() {
    let fake = FakeBinance::start().await;
    let tg = FakeTelegram::start().await;
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("bert.log");
    let mut command = bert_command(data.path(), &fake, &tg, free_port(), &log);
    command.env("TELEGRAM_BOT_TOKEN", "999:not-the-token-the-fake-accepts");
    let mut bert = Guard(Some(command.spawn().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = bert.0.as_mut().unwrap().try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "bert kept running with a refused token");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let logs = std::fs::read_to_string(&log).unwrap_or_default();
    assert_ne!(status.code(), Some(0), "{logs}");
    assert!(logs.contains("the Telegram bot cannot run"), "{logs}");
    assert!(!logs.contains("not-the-token"), "the token is not logged");
}
