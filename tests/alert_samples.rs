//! What the bot sends, produced by the real engine and the real renderer: one trade from entry
//! to close with partial fills, a failed entry, the periodic performance report, and the
//! `/performance` and `/alerts` answers. Each alert is checked for the facts it must carry.
//! Then the other alerts, rendered from their notices: a signal with its Enter button, the
//! portfolio warnings and their all-clear, the circuit breaker, a reconciliation finding, the
//! exchange's rate-limit halt and ban, start and stop.
//!
//! The README's "What the bot sends" section is this test's output
//! (`cargo test --test alert_samples -- --nocapture`), and the test holds it to that: every
//! ```` ```text ```` block of the section is preceded by `<!-- sample: NAME -->` and must equal
//! the sample of that name as rendered now (and the `Button(s):` line under it, the buttons'
//! labels), so a sample that drifts from the renderer fails here.

use bert::chat::render::{Mode, render};
use bert::chat::views::{alerts_buttons, alerts_text, performance_text};
use bert::domain::{
    AssetCode, Balance, Fill, Order, OrderReport, OrderRole, OrderStatus, Symbol, SymbolFilters, Timestamp,
};
use bert::engine::{
    BreakerReason, Command, Effects, Engine, Event, Finding, Notice, PortfolioNotice, Request, Requester, Settings,
    UnexplainedBalance,
};
use bert::exchange::{ExchangeError, ExchangeEvent};
use bert::i18n::Lang;
use bert::store::ChatSettings;
use bert::strategy::edge70::{Direction, SignalKind};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const TRADER: Requester = Requester { user: 11111111, chat: 11111111 };
const HOUR: i64 = 3_600_000;

fn usdt() -> AssetCode {
    AssetCode::new("USDT").unwrap()
}

fn sym(base: &str) -> Symbol {
    Symbol::parse(base, usdt()).unwrap()
}

/// 2024-03-04 09:00 UTC plus `ms`.
fn t(ms: i64) -> Timestamp {
    Timestamp(1_709_542_800_000 + ms)
}

fn placed(fx: &Effects) -> Vec<Order> {
    fx.requests
        .iter()
        .filter_map(|r| match r {
            Request::Place(o) => Some((**o).clone()),
            _ => None,
        })
        .collect()
}

fn report(o: &Order, status: OrderStatus, cum: Decimal, fill: Option<Fill>, now: Timestamp) -> Event {
    Event::Exchange(ExchangeEvent::Order(OrderReport {
        symbol: o.symbol,
        client_id: o.client_id.clone(),
        exchange_id: Some(7000 + o.position.0 * 10 + o.role as u64),
        status,
        cum_qty: cum,
        cum_quote: Decimal::ZERO,
        fill,
        reason: None,
        time: now,
    }))
}

fn fill(id: u64, qty: Decimal, price: Decimal, fee: Decimal, asset: &str, now: Timestamp) -> Option<Fill> {
    Some(Fill { trade_id: id, price, qty, fee, fee_asset: AssetCode::new(asset).unwrap(), time: now })
}

struct Samples(Vec<(String, String)>, Vec<bert::domain::ClosedTrade>);

impl Samples {
    /// Renders every alert-chat message of `fx` (what a group following the trades sees).
    fn add(&mut self, fx: &Effects) -> Vec<String> {
        for w in &fx.writes {
            if let bert::engine::Write::ClosedTrade(t) = w {
                self.1.push(t.clone());
            }
        }
        let mut out = Vec::new();
        for m in &fx.messages {
            let text = render(&m.notice, Lang::En, Mode::Plain);
            self.0.push((format!("{:?}", m.category), text.clone()));
            out.push(text);
        }
        out
    }
}

thread_local! {
    static MISSING: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Records every needle missing from `texts` (all are reported at the end, with the samples).
fn has(texts: &[String], needles: &[&str]) {
    let all = texts.join("\n");
    for n in needles {
        if !all.contains(n) {
            MISSING.with(|m| m.borrow_mut().push(format!("{n:?} not in:\n{all}")));
        }
    }
}

#[test]
fn every_alert_reads_well_and_carries_its_facts() {
    let settings = Settings { performance_every_ms: Some(2 * HOUR), ..Settings::default() };
    let mut e = Engine::new(settings, "Rd1");
    let filters = SymbolFilters::typical(dec!(0.01), dec!(0.01), dec!(5));
    e.process(&Event::Filters(vec![(sym("SOL"), filters.clone()), (sym("ETH"), filters)]), t(0));
    e.process(&Event::Balances(vec![Balance { asset: usdt(), free: dec!(10000), locked: dec!(0) }]), t(0));
    e.process(&Event::Price { symbol: sym("SOL"), price: dec!(120) }, t(0));
    e.process(&Event::Price { symbol: sym("ETH"), price: dec!(3400) }, t(0));
    // BNB's price values fees paid in BNB (0.0003 BNB at 400 = 0.12 USDT).
    e.process(&Event::Price { symbol: sym("BNB"), price: dec!(400) }, t(0));
    e.process(&Event::Tick, t(0)); // the performance baseline
    let mut s = Samples(Vec::new(), Vec::new());

    // Entry placed: 1% risk with a 15% stop = 666.67 USDT → 5.52 SOL at the 120.6 limit.
    let fx = e.process(&Event::Command { from: TRADER, command: Command::Enter(sym("SOL")) }, t(1000));
    has(&s.add(&fx), &["Entry placed: buying 5.52 SOL at up to 120.60 USDT", "Stop:", "Risk:", "Requested by user"]);
    let entry = placed(&fx)[0].clone();
    e.process(&report(&entry, OrderStatus::New, dec!(0), None, t(1100)), t(1100));
    // Two fills at two prices, fee in the base asset (Binance's default for buys).
    let fx = e.process(
        &report(
            &entry,
            OrderStatus::PartiallyFilled,
            dec!(2),
            fill(1, dec!(2), dec!(120.2), dec!(0.002), "SOL", t(1200)),
            t(1200),
        ),
        t(1200),
    );
    has(
        &s.add(&fx),
        &["Bought 2 SOL at 120.20 USDT", "Filled so far: 2 of 5.52 SOL, average price 120.20.", "Fee: 0.002 SOL"],
    );
    let fx = e.process(
        &report(
            &entry,
            OrderStatus::Filled,
            dec!(5.52),
            fill(2, dec!(3.52), dec!(120.5), dec!(0.00352), "SOL", t(1300)),
            t(1300),
        ),
        t(1300),
    );
    // (2 × 120.2 + 3.52 × 120.5) / 5.52 = 664.56 / 5.52 = 120.3913…
    has(
        &s.add(&fx),
        &["Bought 3.52 SOL at 120.50 USDT", "Entry filled: 5.52 SOL, average price 120.3913", "Fee: 0.00352 SOL"],
    );
    let stop = placed(&fx).into_iter().find(|o| o.role == OrderRole::Stop).unwrap();
    let fx = e.process(
        &Event::Placed {
            client_id: stop.client_id.clone(),
            result: Ok(match report(&stop, OrderStatus::New, dec!(0), None, t(1400)) {
                Event::Exchange(ExchangeEvent::Order(r)) => r,
                _ => unreachable!(),
            }),
        },
        t(1400),
    );
    has(&s.add(&fx), &["Stop placed for 5.5", "it triggers at", "sells at no less than"]);

    // A failed entry.
    let fx = e.process(&Event::Command { from: TRADER, command: Command::Enter(sym("ETH")) }, t(2000));
    s.add(&fx);
    let eth = placed(&fx)[0].clone();
    let refused = ExchangeError::Rejected {
        code: -2010,
        reason: "Account has insufficient balance for requested action.".into(),
    };
    let fx = e.process(&Event::Placed { client_id: eth.client_id.clone(), result: Err(refused) }, t(2100));
    has(&s.add(&fx), &["The ETH entry failed; nothing was bought.", "Reason: Account has insufficient balance"]);

    // Two hours on, SOL at 131.4: the performance report.
    e.process(
        &Event::Balances(vec![
            Balance { asset: usdt(), free: dec!(9335.44), locked: dec!(0) },
            Balance { asset: AssetCode::new("SOL").unwrap(), free: dec!(0), locked: dec!(5.51448) },
        ]),
        t(HOUR),
    );
    e.process(&Event::Price { symbol: sym("SOL"), price: dec!(131.4) }, t(HOUR));
    let fx = e.process(&Event::Tick, t(2 * HOUR));
    has(
        &s.add(&fx),
        &[
            "Performance: 1 open position",
            "SOL: +9.14% since entry",
            "below the price",
            "Unrealized P&L",
            "Portfolio value:",
        ],
    );

    // Ten days and 23 hours later the stop triggers and fills in two parts; the position closes.
    let later = t(11 * 24 * HOUR);
    let fx = e.process(
        &report(
            &stop,
            OrderStatus::PartiallyFilled,
            dec!(3),
            fill(3, dec!(3), dec!(102.4), dec!(0.3072), "USDT", later),
            later,
        ),
        later,
    );
    has(&s.add(&fx), &["Stop hit: sold 3 SOL at 102.40 USDT", "Fee: 0.3072 USDT"]);
    let fx = e.process(
        &report(
            &stop,
            OrderStatus::Filled,
            stop.quantity,
            fill(4, stop.quantity - dec!(3), dec!(102.3), dec!(0.25), "USDT", later),
            later,
        ),
        later,
    );
    has(
        &s.add(&fx),
        &[
            "Stop hit: sold",
            "sold 2.51 SOL at 102.30 USDT",
            "SOL closed:",
            "fees included",
            "Held 10 days",
            "Why: the stop was hit.",
        ],
    );

    // Exits by command: a second trade on ETH, sold at market.
    e.process(&Event::Balances(vec![Balance { asset: usdt(), free: dec!(10000), locked: dec!(0) }]), later);
    let fx = e.process(&Event::Command { from: TRADER, command: Command::Enter(sym("ETH")) }, later);
    let eth = placed(&fx)[0].clone();
    let fx = e.process(
        &report(
            &eth,
            OrderStatus::Filled,
            eth.quantity,
            fill(5, eth.quantity, dec!(3400), dec!(0.0003), "BNB", later),
            later,
        ),
        later,
    );
    let eth_stop = placed(&fx).into_iter().find(|o| o.role == OrderRole::Stop).unwrap();
    e.process(&report(&eth_stop, OrderStatus::New, dec!(0), None, later), later);
    let exit_at = later.plus_millis(3 * 24 * HOUR);
    e.process(&Event::Price { symbol: sym("ETH"), price: dec!(3610) }, exit_at);
    let fx = e.process(&Event::Command { from: TRADER, command: Command::Exit(sym("ETH")) }, exit_at);
    s.add(&fx);
    let fx = e.process(&report(&eth_stop, OrderStatus::Canceled, dec!(0), None, exit_at), exit_at);
    has(&s.add(&fx), &["Selling", "ETH at market", "Why: requested by user"]);
    let exit = placed(&fx).into_iter().find(|o| o.role == OrderRole::Exit).unwrap();
    let fx = e.process(
        &report(
            &exit,
            OrderStatus::Filled,
            exit.quantity,
            fill(6, exit.quantity, dec!(3608.5), dec!(0.0003), "BNB", exit_at),
            exit_at,
        ),
        exit_at,
    );
    has(
        &s.add(&fx),
        &["Sold", "ETH at 3,608.50 USDT", "Fee: 0.0003 BNB", "ETH closed:", "Held 3 days", "Fees 0.24 USDT"],
    );

    println!("\n----- alerts (category, text) -----");
    for (category, text) in &s.0 {
        println!("[{category}]\n{text}\n");
    }
    assert_eq!(s.1.len(), 2, "two closed trades");
    let text = performance_text(&s.1, Some(dec!(10000)), "USDT", Lang::En, Mode::Plain);
    has(
        std::slice::from_ref(&text),
        &["Closed trades: 2", "Wins 1, losses 1, win rate 50.00%", "By month:", "2024-03: 2 trades, 1 won (50.00%)"],
    );
    println!("----- /performance -----\n{text}");
    let muted = ChatSettings { muted: vec![bert::engine::Category::Performance], ..ChatSettings::default() };
    let alerts = alerts_text(&muted, Lang::En, Mode::Plain, "alerts-title");
    let alerts_labels = labels(&alerts_buttons(&muted, Lang::En));
    println!("\n----- /alerts -----\n{alerts}\n{alerts_labels}");

    let mut samples = vec![
        Sample::new("trade", s.0.iter().map(|(_, text)| text.clone()).collect()),
        Sample::new("performance", vec![text]),
        Sample { buttons: Some(format!("Buttons: {alerts_labels}.")), ..Sample::new("alerts", vec![alerts]) },
    ];
    samples.extend(other_alerts());
    for sample in &samples[3..] {
        println!("\n----- {} -----\n{}", sample.name, sample.text());
        if let Some(b) = &sample.buttons {
            println!("{b}");
        }
    }
    let missing = MISSING.with(|m| m.borrow().clone());
    assert!(missing.is_empty(), "{}", missing.join("\n\n"));
    check_readme(&samples);
}

/// Button labels as the README shows them: `` `Enter SOL` ``, space-separated.
fn labels(buttons: &[Vec<bert::store::Button>]) -> String {
    buttons.iter().flatten().map(|b| format!("`{}`", b.text)).collect::<Vec<_>>().join(" ")
}

/// One README block: its messages (shown one after another, a blank line apart) and the
/// buttons line under the block, if the message has buttons.
struct Sample {
    name: &'static str,
    messages: Vec<String>,
    buttons: Option<String>,
}

impl Sample {
    fn new(name: &'static str, messages: Vec<String>) -> Sample {
        Sample { name, messages, buttons: None }
    }

    fn text(&self) -> String {
        self.messages.join("\n\n")
    }
}

fn plain(notice: &Notice) -> String {
    render(notice, Lang::En, Mode::Plain)
}

/// The alerts the trade above does not produce, from their notices, each checked for its facts.
fn other_alerts() -> Vec<Sample> {
    let signal = Notice::Signal {
        symbol: sym("SOL"),
        direction: Direction::Long,
        kind: SignalKind::Flip,
        level: dec!(118.5),
        price: dec!(120.1),
        candle_close: Timestamp(1_709_596_799_999), // 2024-03-04 23:59:59.999 UTC
        auto_trade: false,
    };
    let signal_text = plain(&signal);
    let buttons = bert::telegram::signal_button::buttons(&signal, Lang::En);
    has(std::slice::from_ref(&signal_text), &["SOL", "118.50", "60-day high"]);
    has(&[labels(&buttons)], &["`Enter SOL`"]);
    let usdt = || "USDT".to_owned();
    let warnings = vec![
        plain(&Notice::Portfolio(PortfolioNotice::BnbLow {
            free: dec!(0.012),
            value: dec!(4.8),
            min: dec!(10),
            quote: usdt(),
        })),
        plain(&Notice::Portfolio(PortfolioNotice::BnbOk { free: dec!(0.1), value: dec!(40), quote: usdt() })),
        plain(&Notice::Portfolio(PortfolioNotice::Unexplained {
            assets: vec![
                UnexplainedBalance { asset: "DOGE".into(), qty: dec!(1500), value: dec!(240.75) },
                UnexplainedBalance { asset: "ETH".into(), qty: dec!(0.05), value: dec!(170) },
            ],
            min: dec!(10),
            quote: usdt(),
        })),
        plain(&Notice::Portfolio(PortfolioNotice::UnexplainedCleared)),
    ];
    has(&warnings, &["0.012 BNB", "4.80 USDT", "DOGE: 1,500", "240.75", "No unexplained free balances"]);
    let safety = vec![
        plain(&Notice::BreakerOpened { reason: BreakerReason::RequestFailures { count: 5 } }),
        plain(&Notice::BreakerOpened { reason: BreakerReason::StreamDown }),
        plain(&Notice::BreakerClosed),
        plain(&Notice::Reconciliation(Finding::OrderChanged {
            symbol: sym("SOL"),
            client_id: "b1Rd1p3e0".into(),
            status: "FILLED".into(),
        })),
        plain(&Notice::Reconciliation(Finding::BalanceShort {
            symbol: sym("ETH"),
            position: dec!(0.2),
            held: dec!(0.15),
        })),
        plain(&Notice::RateLimitHalt { until: t(90_000), banned: false }),
        plain(&Notice::RateLimitHalt { until: t(2 * HOUR), banned: true }),
    ];
    has(&safety, &["b1Rd1p3e0", "FILLED", "0.15", "09:01", "11:00"]);
    let lifecycle = vec![plain(&Notice::Started { open_positions: 2 }), plain(&Notice::Stopping)];
    has(&lifecycle, &["2"]);
    vec![
        Sample { buttons: Some(format!("Button: {}.", labels(&buttons))), ..Sample::new("signal", vec![signal_text]) },
        Sample::new("warnings", warnings),
        Sample::new("safety", safety),
        Sample::new("lifecycle", lifecycle),
    ]
}

/// Holds the README's "What the bot sends" to the samples (see the module docs).
fn check_readme(samples: &[Sample]) {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("\n## What the bot sends").expect("the README has the section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let lines: Vec<&str> = section.lines().collect();
    let mut seen = Vec::new();
    let mut problems = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].starts_with("```") || lines[i] == "```" {
            i += 1;
            continue;
        }
        let name =
            i.checked_sub(1).and_then(|p| lines[p].strip_prefix("<!-- sample: ")).and_then(|r| r.strip_suffix(" -->"));
        let end = i + 1 + lines[i + 1..].iter().position(|l| *l == "```").expect("every block is closed");
        let block = lines[i + 1..end].join("\n");
        let after = lines.get(end + 1).copied().unwrap_or("");
        match name.and_then(|n| samples.iter().find(|s| s.name == n)) {
            None => problems.push(format!("a block without a known `<!-- sample: NAME -->` above it:\n{block}")),
            Some(sample) => {
                seen.push(sample.name);
                if block != sample.text() {
                    problems.push(format!(
                        "README sample {:?} differs from the renderer.\nREADME:\n{block}\nrenderer:\n{}",
                        sample.name,
                        sample.text()
                    ));
                }
                if let Some(b) = &sample.buttons
                    && after != b
                {
                    problems.push(format!("the line under sample {:?} is {after:?}, expected {b:?}", sample.name));
                }
            }
        }
        i = end + 1;
    }
    for s in samples {
        if !seen.contains(&s.name) {
            problems.push(format!("sample {:?} is not in the README", s.name));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
