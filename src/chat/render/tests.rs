use super::*;
use crate::chat::auth::access;
use crate::chat::parse::parse;
use crate::domain::{AssetCode, Timestamp};
use crate::engine::{
    BreakerReason, MoveFailure, PerformanceLine, PerformanceReport, PortfolioNotice, PositionView, StatusView,
    StopPlan, UnexplainedBalance,
};
use rust_decimal_macros::dec;

fn usdt() -> AssetCode {
    AssetCode::new("USDT").unwrap_or_else(|_| unreachable!())
}

fn sym(base: &str) -> Symbol {
    Symbol::parse(base, usdt()).unwrap_or_else(|_| unreachable!())
}

/// 2024-05-01T00:00:00Z
const MAY_1: Timestamp = Timestamp(1_714_521_600_000);

fn plan() -> EntryPlan {
    EntryPlan {
        symbol: sym("BTC"),
        reference_price: dec!(43210),
        limit_price: dec!(43426.05),
        qty: dec!(0.02300),
        value: dec!(998.799150),
        stop_price: dec!(36912.1425),
        risk: dec!(149.82),
        risk_pct: dec!(1.5),
        portfolio: dec!(9988),
        bound: SizeBound::MaxPosition,
    }
}

fn refusals() -> Vec<Refusal> {
    vec![
        Refusal::Paused,
        Refusal::BreakerOpen,
        Refusal::AlreadyInPosition { symbol: sym("BTC") },
        Refusal::NoPosition { symbol: sym("ETH") },
        Refusal::Busy { symbol: sym("SOL") },
        Refusal::UnknownSymbol { symbol: sym("XYZ") },
        Refusal::NoPrice { symbol: sym("ADA") },
        Refusal::MaxOpenPositions { max: 10 },
        Refusal::PortfolioRiskFull { max_pct: dec!(10) },
        Refusal::NoFreeBalance { asset: "USDT".into() },
        Refusal::BelowMinimum { value: dec!(4.5), min: dec!(5) },
        Refusal::Filters { detail: "price 1.005 is not a multiple of tick 0.01".into() },
        Refusal::NoPortfolio,
        Refusal::NotReconciled,
        Refusal::StopNotBelowPrice { symbol: sym("BTC"), stop: dec!(44000), price: dec!(43900.5) },
        Refusal::NoStopToMove { symbol: sym("BTC") },
    ]
}

/// Exhaustive (no wildcard), so a new `Refusal` variant fails to compile until it is covered.
fn refusal_index(r: &Refusal) -> usize {
    match r {
        Refusal::Paused => 0,
        Refusal::BreakerOpen => 1,
        Refusal::AlreadyInPosition { .. } => 2,
        Refusal::NoPosition { .. } => 3,
        Refusal::Busy { .. } => 4,
        Refusal::UnknownSymbol { .. } => 5,
        Refusal::NoPrice { .. } => 6,
        Refusal::MaxOpenPositions { .. } => 7,
        Refusal::PortfolioRiskFull { .. } => 8,
        Refusal::NoFreeBalance { .. } => 9,
        Refusal::BelowMinimum { .. } => 10,
        Refusal::Filters { .. } => 11,
        Refusal::NoPortfolio => 12,
        Refusal::NotReconciled => 13,
        Refusal::StopNotBelowPrice { .. } => 14,
        Refusal::NoStopToMove { .. } => 15,
    }
}
const REFUSAL_VARIANTS: usize = 16;

/// Exhaustive as well: every `Notice` variant must appear in [`samples`].
fn notice_index(n: &Notice) -> usize {
    match n {
        Notice::Refused(_) => 0,
        Notice::EntryPreview(_) => 1,
        Notice::ExitPreview { .. } => 2,
        Notice::Positions(_) => 3,
        Notice::Status(_) => 4,
        Notice::Balances { .. } => 5,
        Notice::Paused => 6,
        Notice::Resumed => 7,
        Notice::EntryPlaced { .. } => 8,
        Notice::EntryFill { .. } => 9,
        Notice::EntryFailed { .. } => 10,
        Notice::StopPlaced { .. } => 11,
        Notice::StopRefused { .. } => 12,
        Notice::StopLost { .. } => 13,
        Notice::StopFill { .. } => 14,
        Notice::ExitPlaced { .. } => 15,
        Notice::ExitFill { .. } => 16,
        Notice::ExitFailed { .. } => 17,
        Notice::Unprotected { .. } => 18,
        Notice::PositionClosed { .. } => 19,
        Notice::Signal { .. } => 20,
        Notice::OrderOutcomeUnknown { .. } => 21,
        Notice::BreakerOpened { .. } => 22,
        Notice::BreakerClosed => 23,
        Notice::Reconciliation(_) => 24,
        Notice::Started { .. } => 25,
        Notice::Stopping => 26,
        Notice::MoveStopPreview(_) => 27,
        Notice::StopMoved { .. } => 28,
        Notice::StopMoveFailed { .. } => 29,
        Notice::StopRestored { .. } => 30,
        Notice::Portfolio(_) => 31,
        Notice::Performance(_) => 32,
        Notice::RateLimitHalt { .. } => 33,
        Notice::StopVanished { .. } => 34,
        Notice::StopFillsPending { .. } => 35,
    }
}
const NOTICE_VARIANTS: usize = 36;

fn view(base: &str, price: bool, stop: bool) -> PositionView {
    PositionView {
        symbol: sym(base),
        qty: dec!(0.5),
        avg_entry: dec!(43000),
        price: price.then_some(dec!(44000)),
        pnl: price.then_some(dec!(480.25)),
        pnl_pct: price.then_some(dec!(2.23)),
        stop_price: stop.then_some(dec!(36550)),
        opened_at: MAY_1,
    }
}

fn samples() -> Vec<Notice> {
    let mut out: Vec<Notice> = refusals().into_iter().map(Notice::Refused).collect();
    out.extend([
        Notice::EntryPreview(plan()),
        Notice::ExitPreview { symbol: sym("ETH"), qty: dec!(1.25), price: Some(dec!(3100.5)), pnl: Some(dec!(-42.1)) },
        Notice::ExitPreview { symbol: sym("ETH"), qty: dec!(1.25), price: None, pnl: None },
        Notice::Positions(vec![]),
        Notice::Positions(vec![view("BTC", true, true), view("ETH", false, false)]),
        Notice::Status(StatusView {
            paused: false,
            breaker: None,
            stream_up: true,
            open_positions: 2,
            open_orders: 3,
            symbols: 5,
            auto_trade: false,
        }),
        Notice::Status(StatusView {
            paused: true,
            breaker: Some(BreakerReason::RequestFailures { count: 3 }),
            stream_up: false,
            open_positions: 1,
            open_orders: 1,
            symbols: 1,
            auto_trade: true,
        }),
        Notice::Balances {
            lines: vec![
                BalanceLine { asset: "USDT".into(), total: dec!(8988.5), value: Some(dec!(8988.5)) },
                BalanceLine { asset: "BTC".into(), total: dec!(0.02300000), value: Some(dec!(1001.2)) },
                BalanceLine { asset: "XYZ".into(), total: dec!(12), value: None },
            ],
            portfolio: dec!(9989.7),
            quote: "USDT".into(),
        },
        Notice::Balances { lines: vec![], portfolio: dec!(0), quote: "USDT".into() },
        Notice::Paused,
        Notice::Resumed,
        Notice::EntryPlaced { plan: plan(), reason: EntryReason::Manual { user: 42 } },
        Notice::EntryPlaced { plan: plan(), reason: EntryReason::Signal },
        Notice::EntryFill {
            symbol: sym("BTC"),
            qty: dec!(0.01),
            price: dec!(43400),
            avg_price: dec!(43400),
            filled: dec!(0.01),
            ordered: dec!(0.023),
            fee: dec!(0.00001),
            fee_asset: "BTC".into(),
        },
        Notice::EntryFill {
            symbol: sym("BTC"),
            qty: dec!(0.013),
            price: dec!(43420),
            avg_price: dec!(43411.3),
            filled: dec!(0.023),
            ordered: dec!(0.023),
            fee: dec!(0),
            fee_asset: "BNB".into(),
        },
        Notice::EntryFailed { symbol: sym("BTC"), reason: Some("Order would immediately match (-2010)".into()) },
        Notice::EntryFailed { symbol: sym("BTC"), reason: None },
        Notice::StopPlaced {
            symbol: sym("BTC"),
            qty: dec!(0.023),
            stop_price: dec!(36912.14),
            limit_price: dec!(29529.71),
        },
        Notice::StopRefused { symbol: sym("BTC"), reason: Some("Stop price would trigger immediately.".into()) },
        Notice::StopLost { symbol: sym("BTC"), reason: None },
        Notice::StopVanished { symbol: sym("BTC") },
        Notice::StopFillsPending { symbol: sym("BTC") },
        Notice::StopFill {
            symbol: sym("BTC"),
            qty: dec!(0.023),
            price: dec!(36900),
            fee: dec!(0.8487),
            fee_asset: "USDT".into(),
        },
        Notice::ExitPlaced { symbol: sym("BTC"), qty: dec!(0.023), reason: ExitReason::Manual { user: 42 } },
        Notice::ExitPlaced { symbol: sym("BTC"), qty: dec!(0.023), reason: ExitReason::Signal },
        Notice::ExitFill {
            symbol: sym("BTC"),
            qty: dec!(0.023),
            price: dec!(45000),
            fee: dec!(0),
            fee_asset: "USDT".into(),
        },
        Notice::ExitFailed { symbol: sym("BTC"), reason: Some("timeout".into()) },
        Notice::Unprotected { symbol: sym("BTC"), reason: Some("insufficient balance".into()) },
        Notice::PositionClosed {
            symbol: sym("BTC"),
            reason: Some(ExitReason::StopHit),
            qty: dec!(0.023),
            avg_entry: dec!(43411.3),
            avg_exit: dec!(36900),
            pnl: dec!(-151.43),
            pnl_pct: dec!(-15.16),
            fees: dec!(1.80),
            days: 12,
        },
        Notice::PositionClosed {
            symbol: sym("ETH"),
            reason: None,
            qty: dec!(1),
            avg_entry: dec!(3000),
            avg_exit: dec!(3300),
            pnl: dec!(297.6),
            pnl_pct: dec!(9.92),
            fees: dec!(2.4),
            days: 1,
        },
        Notice::PositionClosed {
            symbol: sym("ETH"),
            reason: Some(ExitReason::Unprotectable),
            qty: dec!(1),
            avg_entry: dec!(3000),
            avg_exit: dec!(3000),
            pnl: dec!(-2.4),
            pnl_pct: dec!(-0.08),
            fees: dec!(2.4),
            days: 0,
        },
        Notice::Signal {
            symbol: sym("BTC"),
            direction: Direction::Long,
            kind: SignalKind::Flip,
            level: dec!(43210),
            price: dec!(43500),
            candle_close: MAY_1,
            auto_trade: false,
        },
        Notice::Signal {
            symbol: sym("BTC"),
            direction: Direction::Long,
            kind: SignalKind::Possible,
            level: dec!(43210),
            price: dec!(43500),
            candle_close: MAY_1,
            auto_trade: false,
        },
        Notice::Signal {
            symbol: sym("SOL"),
            direction: Direction::Short,
            kind: SignalKind::Flip,
            level: dec!(101.5),
            price: dec!(99.8),
            candle_close: MAY_1,
            auto_trade: true,
        },
        Notice::OrderOutcomeUnknown { symbol: sym("BTC"), client_id: "bK3x9Q-16-s1".into() },
        Notice::BreakerOpened { reason: BreakerReason::StreamDown },
        Notice::BreakerOpened { reason: BreakerReason::Reconciliation },
        Notice::BreakerOpened { reason: BreakerReason::RequestFailures { count: 1 } },
        Notice::BreakerClosed,
        Notice::RateLimitHalt { until: Timestamp(1_700_000_000_000), banned: false },
        Notice::RateLimitHalt { until: Timestamp(1_700_000_000_000), banned: true },
        Notice::Reconciliation(Finding::OrderChanged {
            symbol: sym("BTC"),
            client_id: "bK3x9Q-16-s1".into(),
            status: "FILLED".into(),
        }),
        Notice::Reconciliation(Finding::UnknownOrder { symbol: sym("ETH"), client_id: "bK3x9Q-z-e1".into() }),
        Notice::Reconciliation(Finding::BalanceShort { symbol: sym("SOL"), position: dec!(12.5), held: dec!(3.25) }),
        Notice::Started { open_positions: 3 },
        Notice::Stopping,
        Notice::Performance(performance_sample(true)),
        Notice::Performance(performance_sample(false)),
        Notice::MoveStopPreview(StopPlan {
            symbol: sym("BTC"),
            qty: dec!(0.023),
            old_stop: dec!(36912.15),
            stop_price: dec!(41000),
            limit_price: dec!(32800),
            price: dec!(44000),
            pnl_at_stop: dec!(-55.3),
        }),
        Notice::StopMoved {
            symbol: sym("BTC"),
            qty: dec!(0.023),
            old_stop: dec!(36912.15),
            stop_price: dec!(41000),
            limit_price: dec!(32800),
        },
        Notice::StopMoveFailed {
            symbol: sym("BTC"),
            old_stop: dec!(36912.15),
            outcome: MoveFailure::OldStands,
            reason: Some("Filter failure: PRICE_FILTER (-1013)".into()),
        },
        Notice::StopMoveFailed {
            symbol: sym("BTC"),
            old_stop: dec!(36912.15),
            outcome: MoveFailure::Restoring,
            reason: None,
        },
        Notice::StopMoveFailed {
            symbol: sym("BTC"),
            old_stop: dec!(36912.15),
            outcome: MoveFailure::OldGone,
            reason: None,
        },
        Notice::StopRestored {
            symbol: sym("BTC"),
            qty: dec!(0.023),
            stop_price: dec!(36912.15),
            limit_price: dec!(29529.72),
        },
        Notice::Portfolio(PortfolioNotice::BnbLow {
            free: dec!(0.01),
            value: dec!(6.12),
            min: dec!(10),
            quote: "USDT".into(),
        }),
        Notice::Portfolio(PortfolioNotice::BnbOk { free: dec!(1), value: dec!(612), quote: "USDT".into() }),
        Notice::Portfolio(PortfolioNotice::Unexplained {
            assets: vec![
                UnexplainedBalance { asset: "ETH".into(), qty: dec!(0.5), value: dec!(1550.25) },
                UnexplainedBalance { asset: "XRP".into(), qty: dec!(30), value: dec!(12.5) },
            ],
            min: dec!(10),
            quote: "USDT".into(),
        }),
        Notice::Portfolio(PortfolioNotice::UnexplainedCleared),
    ]);
    out
}

/// The periodic report: BTC up with a stop, ETH down without a price, SOL without a stop.
fn performance_sample(open: bool) -> PerformanceReport {
    let line = |base: &str, price: Option<Decimal>, stop: Option<Decimal>| PerformanceLine {
        symbol: sym(base),
        qty: dec!(0.5),
        avg_entry: dec!(100),
        price,
        change_pct: price.map(|p| p - dec!(100)),
        pnl: price.map(|p| (p - dec!(100)) / dec!(2)),
        stop_price: stop,
        stop_distance_pct: price.zip(stop).map(|(p, s)| ((p - s) / p * dec!(100)).round_dp(2)),
    };
    let positions = if open {
        vec![
            line("BTC", Some(dec!(110)), Some(dec!(90))),
            line("SOL", Some(dec!(104)), None),
            line("ETH", None, Some(dec!(85))),
        ]
    } else {
        vec![]
    };
    PerformanceReport {
        positions,
        unrealized: dec!(7),
        portfolio: dec!(10017.91),
        previous: dec!(10000),
        previous_at: MAY_1,
        quote: "USDT".into(),
    }
}

/// Checks Telegram-HTML validity as Bert produces it: only `<b>`, `<code>`, balanced and
/// closed on the same line; every `&` starts one of the entities Telegram knows.
fn assert_valid_html(text: &str) {
    for line in text.lines() {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = line;
        while let Some(i) = rest.find(['<', '&']) {
            let tail = &rest[i..];
            if let Some(after) = tail.strip_prefix('&') {
                let ok = ["amp;", "lt;", "gt;", "quot;"].iter().any(|e| after.starts_with(e));
                assert!(ok, "bare & in {line:?}");
                rest = after;
                continue;
            }
            let Some(end) = tail.find('>') else { panic!("unclosed tag in {line:?}") };
            let tag = &tail[1..end];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "misnested in {line:?}");
            } else {
                assert!(["b", "code"].contains(&tag), "unexpected tag <{tag}> in {line:?}");
                stack.push(tag.to_owned());
            }
            rest = &tail[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed {stack:?} in {line:?}");
    }
}

fn assert_clean(text: &str, what: &str) {
    assert!(!text.trim().is_empty(), "{what}: empty");
    assert!(!text.contains('{') && !text.contains('}'), "{what}: unresolved Fluent placeable: {text}");
    assert!(!text.contains('\u{2068}') && !text.contains('\u{2069}'), "{what}: isolation marks");
    // A key that fell through to the key itself would show up as e.g. `entry-placed`.
    for prefix in ["refusal-", "entry-", "exit-", "stop-", "position-", "signal-", "status-", "breaker-", "error-"] {
        assert!(!text.contains(prefix), "{what}: raw key in {text}");
    }
}

#[test]
fn samples_cover_every_variant() {
    let notices: std::collections::BTreeSet<usize> = samples().iter().map(notice_index).collect();
    assert_eq!(notices.len(), NOTICE_VARIANTS, "missing Notice variants");
    let refusals: std::collections::BTreeSet<usize> = refusals().iter().map(refusal_index).collect();
    assert_eq!(refusals.len(), REFUSAL_VARIANTS, "missing Refusal variants");
}

#[test]
fn every_notice_renders_in_every_language_and_mode() {
    for lang in Lang::ALL {
        for notice in samples() {
            let plain = render(&notice, lang, Mode::Plain);
            let html = render(&notice, lang, Mode::Html);
            let what = format!("{lang:?} {notice:?}");
            assert_clean(&plain, &what);
            assert!(!plain.contains("<b>") && !plain.contains("&amp;"), "{what}: markup in plain: {plain}");
            assert_valid_html(&html);
            assert_eq!(plain.lines().count(), html.lines().count(), "{what}");
        }
    }
}

#[test]
fn the_languages_really_differ() {
    for notice in samples() {
        let en = render(&notice, Lang::En, Mode::Plain);
        for lang in [Lang::Ru, Lang::Es] {
            assert_ne!(render(&notice, lang, Mode::Plain), en, "{lang:?} {notice:?} is English");
        }
    }
}

#[test]
fn key_numbers_appear_formatted_for_the_language() {
    for lang in Lang::ALL {
        let m = |v| fmt_money(lang, v);
        let p = |v| fmt_price(lang, v);
        let q = |v| fmt_qty(lang, v);
        let checks: Vec<(Notice, Vec<String>)> = vec![
            (
                Notice::EntryPreview(plan()),
                vec![
                    q(dec!(0.023)),
                    p(dec!(43426.05)),
                    p(dec!(36912.1425)),
                    m(dec!(149.82)),
                    fmt_share(lang, dec!(1.5)),
                    m(dec!(9988)),
                    m(dec!(998.79915)),
                ],
            ),
            (
                samples()
                    .into_iter()
                    .find(|n| matches!(n, Notice::PositionClosed { days: 12, .. }))
                    .unwrap_or(Notice::Paused),
                vec![
                    fmt_signed_money(lang, dec!(-151.43)),
                    fmt_pct(lang, dec!(-15.16), true),
                    m(dec!(1.80)),
                    "12".into(),
                    p(dec!(43411.3)),
                    p(dec!(36900)),
                ],
            ),
            (
                Notice::Positions(vec![view("BTC", true, true)]),
                vec![
                    fmt_pct(lang, dec!(2.23), true),
                    fmt_signed_money(lang, dec!(480.25)),
                    p(dec!(36550)),
                    "2024-05-01".into(),
                ],
            ),
            (Notice::Refused(Refusal::BelowMinimum { value: dec!(4.5), min: dec!(5) }), vec![p(dec!(4.5)), p(dec!(5))]),
            (Notice::Refused(Refusal::MaxOpenPositions { max: 10 }), vec!["10".into()]),
            (Notice::Refused(Refusal::PortfolioRiskFull { max_pct: dec!(10) }), vec![fmt_share(lang, dec!(10))]),
            (
                Notice::StopFill {
                    symbol: sym("BTC"),
                    qty: dec!(0.023),
                    price: dec!(36900),
                    fee: dec!(0.8487),
                    fee_asset: "USDT".into(),
                },
                vec![p(dec!(36900)), q(dec!(0.023)), q(dec!(0.8487))],
            ),
        ];
        for (notice, needles) in checks {
            let text = render(&notice, lang, Mode::Plain);
            for needle in needles {
                assert!(text.contains(&needle), "{lang:?}: {needle:?} not in {text}");
            }
        }
    }
    // Russian numbers use its own separators.
    let ru = render(&Notice::EntryPreview(plan()), Lang::Ru, Mode::Plain);
    assert!(ru.contains("43\u{a0}426,05"), "{ru}");
}

#[test]
fn english_sentences() {
    let en = |n: &Notice| render(n, Lang::En, Mode::Plain);
    assert_eq!(
        en(&Notice::Refused(Refusal::AlreadyInPosition { symbol: sym("BTC") })),
        "⛔ You already hold BTC. Use /exit BTC first."
    );
    let signal = Notice::Signal {
        symbol: sym("BTC"),
        direction: Direction::Long,
        kind: SignalKind::Flip,
        level: dec!(43210),
        price: dec!(43500),
        candle_close: MAY_1,
        auto_trade: false,
    };
    assert_eq!(
        en(&signal),
        "📈 EDGE70 LONG ⬆ BTC: new 60-day high above 43,210.00 (close 43,500.00).\n\
         Daily candle of 2024-05-01.\n\
         To buy: /enter BTC"
    );
    let Notice::Signal { symbol, direction, level, price, candle_close, .. } = signal else { unreachable!() };
    let possible =
        Notice::Signal { symbol, direction, kind: SignalKind::Possible, level, price, candle_close, auto_trade: false };
    assert!(en(&possible).contains("Possible signal") && en(&possible).contains("check the chart manually"));
    let closed =
        samples().into_iter().find(|n| matches!(n, Notice::PositionClosed { days: 12, .. })).unwrap_or(Notice::Paused);
    assert_eq!(
        en(&closed),
        "🏁 BTC closed: -151.43 USDT (-15.16%), fees included.\n\
         Bought at 43,411.30, sold at 36,900.00, quantity 0.023. Fees 1.80 USDT. Held 12 days.\n\
         Why: the stop was hit."
    );
    assert_eq!(
        en(&Notice::EntryPreview(plan())),
        "📝 Enter BTC?\n\
         Buy 0.023 BTC at up to 43,426.05 USDT (last price 43,210.00).\n\
         Cost: up to 998.80 USDT.\n\
         Stop: 36,912.143 USDT.\n\
         Risk: 149.82 USDT, 1.5% of the portfolio (9,988.00 USDT).\n\
         Size limited by the maximum position size."
    );
    let one_day =
        samples().into_iter().find(|n| matches!(n, Notice::PositionClosed { days: 1, .. })).unwrap_or(Notice::Paused);
    assert!(en(&one_day).contains("Held 1 day."), "{}", en(&one_day));
    let same_day =
        samples().into_iter().find(|n| matches!(n, Notice::PositionClosed { days: 0, .. })).unwrap_or(Notice::Paused);
    assert!(en(&same_day).contains("Held less than a day."));
    let ru_closed = render(&closed, Lang::Ru, Mode::Plain);
    assert!(ru_closed.contains("12 дней"), "{ru_closed}");
    let partial = samples()
        .into_iter()
        .find(|n| matches!(n, Notice::EntryFill { fee, .. } if !fee.is_zero()))
        .unwrap_or(Notice::Paused);
    assert!(en(&partial).contains("Filled so far: 0.01 of 0.023 BTC") && en(&partial).contains("Fee: 0.00001 BTC"));
}

#[test]
fn html_marks_up_symbols_and_escapes_everything_else() {
    let nasty = "<b>&\"";
    let failed = Notice::EntryFailed { symbol: sym("BTC"), reason: Some(nasty.into()) };
    let html = render(&failed, Lang::En, Mode::Html);
    assert!(html.contains("&lt;b&gt;&amp;&quot;"), "{html}");
    assert!(html.contains("<b>BTC</b>"), "{html}");
    assert_valid_html(&html);
    let plain = render(&failed, Lang::En, Mode::Plain);
    assert!(plain.contains(nasty), "plain mode shows the text as is: {plain}");
    for r in [Refusal::Filters { detail: nasty.into() }, Refusal::NoFreeBalance { asset: nasty.into() }] {
        let html = render(&Notice::Refused(r), Lang::Ru, Mode::Html);
        assert!(html.contains("&lt;b&gt;&amp;"), "{html}");
        assert_valid_html(&html);
    }
    let balances = Notice::Balances {
        lines: vec![BalanceLine { asset: nasty.into(), total: dec!(1), value: None }],
        portfolio: dec!(1),
        quote: "<i>".into(),
    };
    assert_valid_html(&render(&balances, Lang::Es, Mode::Html));
    // The translation's own "P&L" is escaped by the HTML bundle.
    let exit = Notice::ExitPreview { symbol: sym("ETH"), qty: dec!(1), price: None, pnl: Some(dec!(5)) };
    let html = render(&exit, Lang::En, Mode::Html);
    assert!(html.contains("P&amp;L so far"), "{html}");
    assert_valid_html(&html);
    // Control characters from outside never reach the chat.
    let weird = Notice::StopLost { symbol: sym("BTC"), reason: Some("a\u{0}b\u{1b}c".into()) };
    assert!(render(&weird, Lang::En, Mode::Html).contains("Reason: abc"));
    // Ids are tap-to-copy code spans.
    let id = id_reply(Some(42), -100123, Lang::En, Mode::Html);
    assert_eq!(id, "Your id is <code>42</code>, this chat's id is <code>-100123</code>.");
}

#[test]
fn help_lists_what_the_role_may_use() {
    for lang in Lang::ALL {
        let trader = help(lang, Role::Trader, Mode::Plain);
        let viewer = help(lang, Role::Viewer, Mode::Plain);
        let stranger = help(lang, Role::Stranger, Mode::Plain);
        for spec in COMMANDS {
            let line = format!("\n/{} ", spec.name);
            assert!(trader.contains(&line), "{lang:?} trader help lacks /{}", spec.name);
            assert_eq!(viewer.contains(&line), spec.access != Access::Trade, "{lang:?} viewer /{}", spec.name);
            assert_eq!(stranger.contains(&line), spec.access == Access::Anyone, "{lang:?} stranger /{}", spec.name);
        }
        assert!(stranger.contains("/id"));
        assert_clean(&trader, "help");
        assert_valid_html(&help(lang, Role::Trader, Mode::Html));
        assert_valid_html(&start(lang, Role::Stranger, Mode::Html));
        assert_eq!(bot_commands(lang, Role::Trader).len(), COMMANDS.len());
        assert_eq!(bot_commands(lang, Role::Stranger).len(), 4);
        for (_, description) in bot_commands(lang, Role::Trader) {
            // Telegram's setMyCommands: 1-256 characters (3 in practice).
            let n = description.chars().count();
            assert!((3..=256).contains(&n), "{description}");
        }
    }
    let en = help(Lang::En, Role::Trader, Mode::Plain);
    assert!(en.contains("/stop SYMBOL PRICE — move a position's stop to a new price"), "{en}");
    assert!(en.contains("/lang [CODE] — change this chat's language"), "{en}");
    assert!(help(Lang::Ru, Role::Trader, Mode::Plain).contains("/stop СИМВОЛ ЦЕНА"));
}

#[test]
fn command_table_agrees_with_authorization() {
    let samples = [
        "/start",
        "/help",
        "/id",
        "/list",
        "/status",
        "/balance",
        "/performance",
        "/chart",
        "/alerts",
        "/enter btc",
        "/exit btc",
        "/stop btc 1",
        "/pause",
        "/resume",
        "/lang ru",
    ];
    assert_eq!(samples.len(), COMMANDS.len());
    for (spec, text) in COMMANDS.iter().zip(samples) {
        let cmd = parse(text, None, usdt());
        assert_eq!(cmd.as_ref().map(|c| c.name()), Ok(spec.name), "{text}");
        assert_eq!(cmd.as_ref().map(access), Ok(spec.access), "{text}");
    }
}

#[test]
fn replies_for_ids_authorization_and_language() {
    assert_eq!(id_reply(Some(42), 7, Lang::En, Mode::Plain), "Your id is 42, this chat's id is 7.");
    assert!(id_reply(None, 7, Lang::Ru, Mode::Plain).contains('7'));
    assert_eq!(not_authorized(Some(42), Lang::En, Mode::Plain), "🔒 Not authorized. Your id is 42.");
    assert!(not_authorized(None, Lang::En, Mode::Plain).contains("own account"));
    assert_eq!(viewer_refused(Lang::En, Mode::Plain), "🔒 Only traders can do that. You have read-only access.");
    assert_eq!(verdict_reply(Verdict::Allow, Some(1), true, Lang::En, Mode::Plain), None);
    assert_eq!(verdict_reply(Verdict::Stranger, Some(1), false, Lang::En, Mode::Plain), None, "silent in groups");
    assert!(verdict_reply(Verdict::Stranger, Some(1), true, Lang::En, Mode::Plain).is_some_and(|t| t.contains('1')));
    assert!(verdict_reply(Verdict::RefuseViewer, Some(1), false, Lang::En, Mode::Plain).is_some());
    assert_eq!(answer_lang(Some("ru-RU"), Lang::En, Mode::Plain), (Lang::Ru, "Язык: русский.".to_owned()));
    assert_eq!(answer_lang(Some("ES"), Lang::Ru, Mode::Plain), (Lang::Es, "Idioma: español.".to_owned()));
    let (lang, text) = answer_lang(Some("<de>"), Lang::Es, Mode::Html);
    assert_eq!(lang, Lang::Es);
    assert!(text.contains("&lt;de&gt;") && text.contains("Español"), "{text}");
    let (lang, text) = answer_lang(None, Lang::Ru, Mode::Plain);
    assert_eq!(lang, Lang::Ru);
    assert!(text.contains("en (English), ru (Русский), es (Español)"), "{text}");
    for lang in Lang::ALL {
        for t in [
            UiText::ButtonConfirm,
            UiText::ButtonCancel,
            UiText::ConfirmExpired,
            UiText::ConfirmNotYours,
            UiText::ConfirmCancelled,
        ] {
            assert_clean(&ui(t, lang, Mode::Plain), "ui");
        }
    }
    assert_eq!(ui(UiText::ButtonConfirm, Lang::Ru, Mode::Plain), "Подтвердить");
}

#[test]
fn every_parse_error_has_a_message() {
    let errors = [
        ParseError::NotACommand,
        ParseError::OtherBot,
        ParseError::Unknown("frob".into()),
        ParseError::MissingSymbol("enter"),
        ParseError::BadSymbol("<b>🚀".into()),
        ParseError::MissingPrice,
        ParseError::BadPrice("1e99".into()),
        ParseError::TooManyArgs("stop"),
        ParseError::TooLong,
    ];
    for lang in Lang::ALL {
        let mut seen = std::collections::BTreeSet::new();
        for e in &errors {
            let plain = render_error(e, lang, Mode::Plain);
            assert_clean(&plain, &format!("{e:?}"));
            assert!(seen.insert(plain.clone()), "{lang:?}: two errors share a message: {plain}");
            assert_valid_html(&render_error(e, lang, Mode::Html));
        }
    }
    assert_eq!(
        render_error(&ParseError::TooManyArgs("stop"), Lang::En, Mode::Plain),
        "⚠️ Too many words after /stop. Usage: /stop SYMBOL PRICE"
    );
    assert!(render_error(&ParseError::BadSymbol("<b>🚀".into()), Lang::En, Mode::Html).contains("&lt;b&gt;🚀"));
    assert!(render_error(&ParseError::BadPrice("1e99".into()), Lang::Es, Mode::Plain).contains("«1e99»"));
}

#[test]
fn a_long_list_splits_into_valid_html_parts() {
    let views: Vec<PositionView> =
        (0..200).map(|i| view(if i % 2 == 0 { "BTC" } else { "ETH" }, true, i % 3 != 0)).collect();
    let html = render(&Notice::Positions(views), Lang::Ru, Mode::Html);
    assert!(html.chars().count() > TELEGRAM_LIMIT);
    let parts = split_message(&html, TELEGRAM_LIMIT);
    assert!(parts.len() >= 2);
    for part in &parts {
        assert!(part.encode_utf16().count() <= TELEGRAM_LIMIT);
        assert_valid_html(part);
    }
    assert_eq!(parts.join("\n"), html);
}
