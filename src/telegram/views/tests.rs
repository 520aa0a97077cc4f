use super::*;
use crate::domain::Timestamp;
use crate::engine::Category;
use crate::report::EquityPoint;
use crate::report::tests::day;
use rust_decimal_macros::dec;

/// `report`'s trade with this view's percentage (a tenth of the P&L, so the % column differs).
fn trade(id: u64, base: &str, opened: Timestamp, closed: Timestamp, pnl: Decimal, fees: Decimal) -> ClosedTrade {
    ClosedTrade { pnl_pct: pnl / dec!(10), ..crate::report::tests::trade(id, base, opened, closed, pnl, fees) }
}

/// The hand-built list of `report`'s tests, out of close order:
///
/// | id | symbol | closed     | pnl    | fees |
/// |----|--------|------------|--------|------|
/// | 1  | BTC    | 2023-11-20 | +50    | 1.0  |
/// | 2  | ETH    | 2023-12-05 | −20    | 0.5  |
/// | 3  | BTC    | 2023-12-28 | +30.5  | 0.8  |
/// | 4  | SOL    | 2024-01-03 | 0      | 0.4  |
/// | 5  | ETH    | 2024-01-15 | −45.25 | 0.6  |
/// | 6  | BTC    | 2024-02-01 | +50    | 1.2  |
///
/// 3 wins (1, 3, 6), 3 losses; total +65.25, average 10.875 → +10.88; fees 4.50. Best #1 (+50,
/// the earlier of two), worst #5. From a start of 1000 the curve is 1000, 1050, 1030, 1060.5,
/// 1060.5, 1015.25, 1065.25: the deepest fall is 1060.5 → 1015.25 = 45.25, 4.27 % of 1060.5.
fn sample() -> Vec<ClosedTrade> {
    vec![
        trade(4, "SOL", day(2023, 12, 30), day(2024, 1, 3), dec!(0), dec!(0.4)),
        trade(1, "BTC", day(2023, 11, 1), day(2023, 11, 20), dec!(50), dec!(1.0)),
        trade(6, "BTC", day(2024, 1, 20), day(2024, 2, 1), dec!(50), dec!(1.2)),
        trade(3, "BTC", day(2023, 12, 10), day(2023, 12, 28), dec!(30.5), dec!(0.8)),
        trade(2, "ETH", day(2023, 11, 25), day(2023, 12, 5), dec!(-20), dec!(0.5)),
        trade(5, "ETH", day(2024, 1, 4), day(2024, 1, 15), dec!(-45.25), dec!(0.6)),
    ]
}

#[test]
fn implied_start_takes_out_open_and_closed_pnl() {
    // 1100 now, of which 34.75 unrealized and 65.25 realized: the account started at 1000.
    assert_eq!(implied_start(&sample(), Some(dec!(1100)), dec!(34.75)), Some(dec!(1000)));
    assert_eq!(implied_start(&sample(), None, dec!(0)), None);
    assert_eq!(implied_start(&sample(), Some(dec!(0)), dec!(0)), None);
    // A portfolio smaller than the P&L (money was withdrawn): no meaningful level.
    assert_eq!(implied_start(&sample(), Some(dec!(50)), dec!(0)), None);
}

#[test]
fn performance_text_matches_the_hand_computed_figures() {
    let text = performance_text(&sample(), Some(dec!(1000)), "USDT", Lang::En, Mode::Html);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        vec![
            "📈 <b>Closed trades: 6</b>",
            "Wins 3, losses 3, win rate 50.00%.",
            "P&amp;L +65.25 USDT, on average +10.88 USDT per trade, fees included.",
            "Fees paid: 4.50 USDT.",
            "Best: <b>BTC</b> +50.00 USDT (+5.00%), closed 2023-11-20.",
            "Worst: <b>ETH</b> -45.25 USDT (-4.53%), closed 2024-01-15.",
            "Maximum drawdown: 45.25 USDT (4.27%).",
            "",
            "<b>By month:</b>",
            "2023-11: 1 trade, 1 won (100.00%), +50.00 USDT",
            "2023-12: 2 trades, 1 won (50.00%), +10.50 USDT",
            "2024-01: 2 trades, 0 won (0.00%), -45.25 USDT",
            "2024-02: 1 trade, 1 won (100.00%), +50.00 USDT",
        ],
        "{text}"
    );
}

#[test]
fn without_a_portfolio_the_drawdown_is_money_only() {
    // Cumulative P&L from 0: 0, 50, 30, 60.5, 60.5, 15.25, 65.25 → 45.25.
    let text = performance_text(&sample(), None, "USDT", Lang::En, Mode::Html);
    assert!(text.contains("Maximum drawdown: 45.25 USDT."), "{text}");
    assert!(!text.contains("74.79"), "a percentage of a peak profit is not shown: {text}");
}

#[test]
fn performance_text_without_trades_and_in_other_languages() {
    assert_eq!(
        performance_text(&[], None, "USDT", Lang::En, Mode::Html),
        format!("📈 {}", tr_html(Lang::En, "stats-none", &[]))
    );
    for lang in Lang::ALL {
        let text = performance_text(&sample(), Some(dec!(1000)), "USDT", lang, Mode::Html);
        assert!(text.contains("2024-02") && text.contains("65"), "{lang:?}: {text}");
        assert!(!text.contains('{') && !text.contains("stats-"), "{lang:?}: {text}");
    }
}

/// Width and height from a PNG's signature and IHDR chunk.
pub(crate) fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    if png.len() < 24 || png[..8] != SIGNATURE || &png[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(png[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(png[20..24].try_into().ok()?);
    Some((w, h))
}

#[test]
fn chart_has_a_point_per_close_plus_start_and_now_and_a_mark_per_entry_and_exit() {
    let now = day(2024, 3, 1);
    let data = chart_data(&sample(), Some(dec!(1100)), dec!(34.75), now);
    // The first open, six closes, now.
    assert_eq!(data.points.len(), 8);
    assert_eq!(data.points[0], EquityPoint { time: day(2023, 11, 1), equity: dec!(1000) });
    assert_eq!(data.points[6], EquityPoint { time: day(2024, 2, 1), equity: dec!(1065.25) });
    assert_eq!(data.points[7], EquityPoint { time: now, equity: dec!(1100) });
    assert_eq!(data.marks.len(), 12);
    let exits = data.marks.iter().filter(|m| m.kind != crate::chart::MarkKind::Entry).count();
    assert_eq!(exits, 6);
    let png = equity_png("t", &data.points, &data.marks, CHART_WIDTH, CHART_HEIGHT).unwrap();
    assert_eq!(png_size(&png), Some((CHART_WIDTH, CHART_HEIGHT)));
    // No trades: an empty frame, still a valid PNG of the size.
    let empty = chart_data(&[], Some(dec!(1000)), dec!(0), now);
    assert!(empty.points.is_empty() && empty.marks.is_empty());
    let png = equity_png("t", &empty.points, &empty.marks, CHART_WIDTH, CHART_HEIGHT).unwrap();
    assert_eq!(png_size(&png), Some((CHART_WIDTH, CHART_HEIGHT)));
}

#[test]
fn alerts_buttons_round_trip_and_toggle() {
    for c in MUTABLE {
        let data = alerts_button_data(c);
        assert!(data.len() <= 64);
        assert_eq!(parse_alerts_button(&data), Some(c));
    }
    for bad in ["", "al:", "al:reply", "al:FILLS", "bc:abc:y", "fills"] {
        assert_eq!(parse_alerts_button(bad), None, "{bad}");
    }
    let mut s = ChatSettings::default();
    assert!(toggle(&mut s, Category::Signals));
    assert!(s.mutes(Category::Signals));
    let (html, buttons) = alerts_prompt(&s, Lang::En);
    assert!(html.contains("🔕 <b>Signals</b>: off"), "{html}");
    assert!(html.contains("✅ <b>Fills</b>: on"), "{html}");
    let labels: Vec<&str> = buttons.iter().flatten().map(|b| b.text.as_str()).collect();
    assert_eq!(labels, ["✅ Fills", "🔕 Signals", "✅ Performance", "✅ Warnings"]);
    assert!(!toggle(&mut s, Category::Signals));
    assert!(s.muted.is_empty());
}
