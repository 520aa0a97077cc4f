//! The read-only views answered from the store rather than by the engine: `/performance`,
//! `/chart` and `/alerts`. Pure (no I/O): the Telegram hook ([`crate::telegram::views`]) and
//! the console of `bert demo --interactive` ([`crate::console`]) both answer with these, so a
//! chat and a terminal show the same statistics, the same curve and the same settings.
//!
//! * `/performance`: statistics of the closed trades ([`crate::report::stats`]) overall and by
//!   month, as text.
//! * `/chart`: the data of the equity curve ([`chart_data`]), drawn by
//!   [`crate::chart::equity_png`] (the renderer of the demo and backtest charts).
//! * `/alerts`: which alert categories a chat receives ([`alerts_text`]); Telegram switches
//!   them with buttons ([`alerts_buttons`]), the console with `/alerts CATEGORY on|off`
//!   ([`parse_alerts_args`]).
//!
//! **The equity curve.** Bert does not record the account's value over time, and deposits or
//! withdrawals would make such a record jumpy anyway. The curve is built from what is known
//! exactly: the closed trades' P&L (fees included) in close order, starting from the *implied*
//! starting value `portfolio now − unrealized P&L of open positions − realized P&L`, i.e. the
//! account as if nothing had been deposited or withdrawn since. Its shape (and so the drawdown
//! in money) is exact; the level, and the drawdown in percent, are right when there were no
//! deposits or withdrawals. `/chart` adds a last point at "now" (the portfolio value with open
//! positions at their current price). When the portfolio is not known yet, the curve is the
//! cumulative P&L from 0 and the drawdown is shown in money only.

use super::format::{Mode, escape_html};
use crate::chart::{TradeMark, trade_marks};
use crate::domain::{ClosedTrade, Timestamp};
use crate::engine::{Category, Outgoing, PositionView};
use crate::i18n::{Arg, Lang, fmt_money, fmt_pct, fmt_signed_money, tr, tr_html};
use crate::report::{CurveSource, EquityPoint, cumulative_pnl_curve, stats};
use crate::store::{Button, ChatSettings};
use rust_decimal::Decimal;

/// The size of the `/chart` image (Telegram shows photos up to 1280 px wide without loss).
pub const CHART_WIDTH: u32 = 1200;
pub const CHART_HEIGHT: u32 = 600;

/// Callback data of the `/alerts` buttons: this prefix and the category's name.
const ALERTS_PREFIX: &str = "al:";

/// The categories `/alerts` offers, in the order shown. (`Category::Reply` is never muted.)
pub const MUTABLE: [Category; 4] = [Category::Fills, Category::Signals, Category::Performance, Category::Warnings];

/// The category's name in button data and in `/alerts CATEGORY on|off` (not translated: it is
/// typed, like a command).
pub fn category_name(c: Category) -> &'static str {
    match c {
        Category::Fills => "fills",
        Category::Signals => "signals",
        Category::Performance => "performance",
        Category::Warnings => "warnings",
        Category::Reply => "reply",
    }
}

/// The callback data of the button that flips `category`.
pub fn alerts_button_data(category: Category) -> String {
    format!("{ALERTS_PREFIX}{}", category_name(category))
}

/// Reads the data written by [`alerts_button_data`]; `None` for anything else.
pub fn parse_alerts_button(data: &str) -> Option<Category> {
    let name = data.strip_prefix(ALERTS_PREFIX)?;
    MUTABLE.into_iter().find(|c| category_name(*c) == name)
}

/// Flips `category` in `settings`; returns true if it is muted afterwards.
pub fn toggle(settings: &mut ChatSettings, category: Category) -> bool {
    set_muted(settings, category, !settings.muted.contains(&category))
}

/// Mutes or unmutes `category` in `settings`; returns true if it is muted afterwards.
pub fn set_muted(settings: &mut ChatSettings, category: Category, muted: bool) -> bool {
    settings.muted.retain(|c| *c != category);
    if muted {
        settings.muted.push(category);
    }
    muted
}

/// A switch typed as `/alerts CATEGORY [on|off]` (without `on`/`off`: flip it, as a button does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertsSwitch {
    pub category: Category,
    /// `Some(true)`: receive, `Some(false)`: mute, `None`: flip.
    pub on: Option<bool>,
}

impl AlertsSwitch {
    /// Applies the switch; returns true if the category is muted afterwards.
    pub fn apply(self, settings: &mut ChatSettings) -> bool {
        match self.on {
            Some(on) => set_muted(settings, self.category, !on),
            None => toggle(settings, self.category),
        }
    }
}

/// The arguments of `/alerts` (the words after the command): none shows the settings, a
/// category (any case) with an optional `on`/`off` switches it. `Err(())` for anything else
/// (the caller answers with [`alerts_usage`]).
#[allow(clippy::result_unit_err)] // one way to be wrong, answered with one usage text
pub fn parse_alerts_args(args: &[&str]) -> Result<Option<AlertsSwitch>, ()> {
    let Some(name) = args.first() else { return Ok(None) };
    let category = MUTABLE.into_iter().find(|c| category_name(*c).eq_ignore_ascii_case(name)).ok_or(())?;
    let on = match args.get(1).map(|w| w.to_ascii_lowercase()) {
        None => None,
        Some(w) if w == "on" => Some(true),
        Some(w) if w == "off" => Some(false),
        Some(_) => return Err(()),
    };
    if args.len() > 2 {
        return Err(());
    }
    Ok(Some(AlertsSwitch { category, on }))
}

/// How to switch a category by text, naming the categories.
pub fn alerts_usage(lang: Lang, mode: Mode) -> String {
    let names = MUTABLE.map(category_name).join(", ");
    let args = [("categories", Arg::from(names))];
    let text = match mode {
        Mode::Plain => tr(lang, "alerts-usage", &args),
        Mode::Html => tr_html(lang, "alerts-usage", &args),
    };
    format!("ℹ️ {text}")
}

/// The short confirmation of a switch ("Fills: off").
pub fn alerts_switched(category: Category, muted: bool, lang: Lang) -> String {
    let key = if muted { "alerts-switched-off" } else { "alerts-switched-on" };
    let name = tr(lang, &format!("alerts-name-{}", category_name(category)), &[]);
    tr(lang, key, &[("name", Arg::from(name))])
}

/// Whether a chat with `settings` receives `out`: the store's routing rule (a muted category
/// is not queued for the chat, except alerts that demand action; replies are never muted).
/// The console applies it to what it prints, as the store does to what it queues for Telegram.
pub fn receives(settings: &ChatSettings, out: &Outgoing) -> bool {
    out.notice.demands_action() || !settings.mutes(out.category)
}

/// Rendering helpers for one mode (the views' own little `Ctx`).
struct Marks {
    lang: Lang,
    mode: Mode,
}

impl Marks {
    fn t(&self, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        match self.mode {
            Mode::Plain => tr(self.lang, key, args),
            Mode::Html => tr_html(self.lang, key, args),
        }
    }

    /// Bold in HTML; `s` is already rendered for this mode.
    fn b(&self, s: &str) -> String {
        match self.mode {
            Mode::Plain => s.to_owned(),
            Mode::Html => format!("<b>{s}</b>"),
        }
    }

    /// Outside text (an asset code, the quote) made safe for this mode.
    fn text(&self, s: &str) -> String {
        match self.mode {
            Mode::Plain => s.to_owned(),
            Mode::Html => escape_html(s).into_owned(),
        }
    }
}

/// The `/alerts` text for a chat's settings. `title` is the locale key of the first line
/// (Telegram's says to tap a button, the console's how to type a switch).
pub fn alerts_text(settings: &ChatSettings, lang: Lang, mode: Mode, title: &str) -> String {
    let m = Marks { lang, mode };
    let mut lines = vec![format!("🔔 {}", m.b(&m.t(title, &[])))];
    for category in MUTABLE {
        let key = category_name(category);
        let muted = settings.mutes(category);
        let name = m.t(&format!("alerts-name-{key}"), &[]);
        let description = m.t(&format!("alerts-desc-{key}"), &[]);
        let (icon, line_key) = if muted { ("🔕", "alerts-line-off") } else { ("✅", "alerts-line-on") };
        let args = [("name", Arg::from(m.b(&name))), ("description", Arg::from(description))];
        lines.push(format!("{icon} {}", m.t(line_key, &args)));
    }
    lines.push(String::new());
    lines.push(m.t("alerts-footer", &[]));
    lines.join("\n")
}

/// One button per category, showing its state; a press flips it.
pub fn alerts_buttons(settings: &ChatSettings, lang: Lang) -> Vec<Vec<Button>> {
    MUTABLE
        .into_iter()
        .map(|category| {
            let icon = if settings.mutes(category) { "🔕" } else { "✅" };
            let label = format!("{icon} {}", tr(lang, &format!("alerts-name-{}", category_name(category)), &[]));
            vec![Button { text: label, data: alerts_button_data(category) }]
        })
        .collect()
}

/// The Telegram `/alerts` message for a chat's settings: its HTML and one button per category.
pub fn alerts_prompt(settings: &ChatSettings, lang: Lang) -> (String, Vec<Vec<Button>>) {
    (alerts_text(settings, lang, Mode::Html, "alerts-title"), alerts_buttons(settings, lang))
}

/// What the views need of the account, from the engine's open positions and portfolio value:
/// the portfolio value (`None` while no balance is known) and the open positions' unrealized
/// P&L.
pub fn account_of(portfolio: Decimal, positions: &[PositionView]) -> (Option<Decimal>, Decimal) {
    let open_pnl = positions.iter().filter_map(|p| p.pnl).sum();
    (Some(portfolio).filter(|p| *p > Decimal::ZERO), open_pnl)
}

/// The value the account would have started from if nothing was deposited or withdrawn: the
/// portfolio now minus the open positions' unrealized P&L and the closed trades' P&L. `None`
/// when the portfolio is unknown or the result is not positive (then only P&L can be charted).
pub fn implied_start(trades: &[ClosedTrade], portfolio: Option<Decimal>, open_pnl: Decimal) -> Option<Decimal> {
    let portfolio = portfolio.filter(|p| *p > Decimal::ZERO)?;
    let realized: Decimal = trades.iter().map(|t| t.pnl).sum();
    Some(portfolio - open_pnl - realized).filter(|s| *s > Decimal::ZERO)
}

/// The equity curve of the closed trades (see the module docs); empty without trades.
pub fn closed_curve(trades: &[ClosedTrade], start: Option<Decimal>) -> Vec<EquityPoint> {
    cumulative_pnl_curve(start.unwrap_or_default(), trades)
}

/// What `/chart` draws: the closed-trade curve plus "now", and a mark per entry and exit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartData {
    pub points: Vec<EquityPoint>,
    pub marks: Vec<TradeMark>,
}

/// The chart's data. With a known portfolio the last point is the portfolio value `now`
/// (open positions included), after the last close.
pub fn chart_data(trades: &[ClosedTrade], portfolio: Option<Decimal>, open_pnl: Decimal, now: Timestamp) -> ChartData {
    let start = implied_start(trades, portfolio, open_pnl);
    let mut points = closed_curve(trades, start);
    let marks = trade_marks(trades, &points);
    if let (Some(_), Some(value), Some(last)) = (start, portfolio, points.last())
        && now > last.time
    {
        points.push(EquityPoint { time: now, equity: value });
    }
    ChartData { points, marks }
}

/// The caption under the chart: the portfolio now, or that there is nothing to draw yet.
pub fn chart_caption(
    trades: &[ClosedTrade],
    portfolio: Option<Decimal>,
    quote: &str,
    lang: Lang,
    mode: Mode,
) -> String {
    let m = Marks { lang, mode };
    if trades.is_empty() {
        return m.t("chart-caption-empty", &[]);
    }
    let value = Arg::from(fmt_money(lang, portfolio.unwrap_or_default()));
    m.t("chart-caption", &[("value", value), ("quote", Arg::from(m.text(quote)))])
}

/// The `/performance` text: statistics overall, then by month.
pub fn performance_text(trades: &[ClosedTrade], start: Option<Decimal>, quote: &str, lang: Lang, mode: Mode) -> String {
    let m = Marks { lang, mode };
    if trades.is_empty() {
        return format!("📈 {}", m.t("stats-none", &[]));
    }
    let curve = match start {
        Some(_) => closed_curve(trades, start),
        None => Vec::new(),
    };
    let s = stats(trades, &curve);
    let q = || Arg::from(m.text(quote));
    let money = |v: Decimal| Arg::from(fmt_money(lang, v));
    let signed = |v: Decimal| Arg::from(fmt_signed_money(lang, v));
    let pct = |v: Decimal, sign: bool| Arg::from(fmt_pct(lang, v, sign));
    let mut lines = vec![format!("📈 {}", m.b(&m.t("stats-title", &[("count", Arg::from(s.trades))])))];
    lines.push(m.t(
        "stats-wins",
        &[("wins", Arg::from(s.wins)), ("losses", Arg::from(s.losses)), ("rate", pct(s.win_rate_pct, false))],
    ));
    lines.push(m.t("stats-pnl", &[("total", signed(s.total_pnl)), ("avg", signed(s.avg_pnl)), ("quote", q())]));
    lines.push(m.t("stats-fees", &[("fees", money(s.total_fees)), ("quote", q())]));
    for (key, trade) in [("stats-best", &s.best), ("stats-worst", &s.worst)] {
        if let Some(t) = trade {
            let args = [
                ("base", Arg::from(m.b(&m.text(t.symbol.base.as_str())))),
                ("pnl", signed(t.pnl)),
                ("quote", q()),
                ("pct", pct(t.pnl_pct, true)),
                ("date", Arg::from(t.closed_at.date())),
            ];
            lines.push(m.t(key, &args));
        }
    }
    lines.push(match s.curve {
        CurveSource::Equity => m.t(
            "stats-drawdown",
            &[("amount", money(s.max_drawdown)), ("quote", q()), ("pct", pct(s.max_drawdown_pct, false))],
        ),
        // A percentage of a peak *profit* would mislead: money only.
        CurveSource::CumulativePnl => {
            m.t("stats-drawdown-amount", &[("amount", money(s.max_drawdown)), ("quote", q())])
        }
    });
    lines.push(String::new());
    lines.push(m.b(&m.t("stats-months", &[])));
    for month in &s.by_month {
        let args = [
            ("month", Arg::from(month.month.clone())),
            ("trades", Arg::from(month.trades)),
            ("wins", Arg::from(month.wins)),
            (
                "rate",
                pct(
                    (Decimal::from(month.wins) * Decimal::ONE_HUNDRED / Decimal::from(month.trades.max(1))).round_dp(2),
                    false,
                ),
            ),
            ("pnl", signed(month.pnl)),
            ("quote", q()),
        ];
        lines.push(m.t("stats-month", &args));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_arguments() {
        assert_eq!(parse_alerts_args(&[]), Ok(None));
        let s = |category, on| Ok(Some(AlertsSwitch { category, on }));
        assert_eq!(parse_alerts_args(&["fills", "off"]), s(Category::Fills, Some(false)));
        assert_eq!(parse_alerts_args(&["Signals", "ON"]), s(Category::Signals, Some(true)));
        assert_eq!(parse_alerts_args(&["warnings"]), s(Category::Warnings, None));
        for bad in [&["reply", "off"][..], &["fills", "maybe"], &["fills", "off", "now"], &["all"]] {
            assert_eq!(parse_alerts_args(bad), Err(()), "{bad:?}");
        }
        let mut settings = ChatSettings::default();
        assert!(AlertsSwitch { category: Category::Fills, on: Some(false) }.apply(&mut settings));
        assert!(AlertsSwitch { category: Category::Fills, on: Some(false) }.apply(&mut settings), "idempotent");
        assert_eq!(settings.muted, vec![Category::Fills]);
        assert!(!AlertsSwitch { category: Category::Fills, on: None }.apply(&mut settings));
        assert!(settings.muted.is_empty());
        let usage = alerts_usage(Lang::En, Mode::Plain);
        assert!(usage.contains("fills, signals, performance, warnings"), "{usage}");
    }

    #[test]
    fn plain_and_html_say_the_same() {
        let settings = ChatSettings { muted: vec![Category::Signals], ..ChatSettings::default() };
        let html = alerts_text(&settings, Lang::En, Mode::Html, "alerts-title");
        let plain = alerts_text(&settings, Lang::En, Mode::Plain, "alerts-title");
        assert!(html.contains("<b>Signals</b>") && !plain.contains('<'), "{plain}");
        assert!(plain.contains("🔕 Signals: off"), "{plain}");
        assert_eq!(html.replace("<b>", "").replace("</b>", ""), plain);
    }
}
