//! `/performance`, `/chart` and `/alerts`: the bot's [`ChatHook`] for the read-only views that
//! are answered from the store rather than by the engine.
//!
//! * `/performance`: statistics of the closed trades ([`crate::report::stats`]) overall and by
//!   month, as text.
//! * `/chart`: the equity curve as a PNG ([`crate::chart::equity_png`], the renderer of the demo
//!   and backtest charts), entries and exits marked, sent as a photo through the outbox.
//! * `/alerts`: which alert categories the chat receives, with one button per category; a press
//!   flips it in the store (`ChatSettings::muted`, which the store's routing obeys) and edits
//!   the message to show the new state.
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
//!
//! Everything that can be pure is (texts, curve, buttons) and tested without Telegram; the hook
//! itself only reads the store and the engine on blocking threads.

use super::bot::{ChatHook, HookAnswer, HookPress, HookRequest};
use crate::app::driver::{Clock, EngineHandle};
use crate::chart::{TradeMark, equity_png, trade_marks};
use crate::chat::auth::Role;
use crate::chat::parse::ChatCommand;
use crate::domain::{AssetCode, ClosedTrade, Timestamp};
use crate::engine::Category;
use crate::i18n::{Arg, Lang, fmt_money, fmt_pct, fmt_signed_money, tr, tr_html};
use crate::report::{CurveSource, EquityPoint, cumulative_pnl_curve, stats};
use crate::store::{Button, ChatSettings, OutboxBody, Store};
use futures_util::future::BoxFuture;
use rust_decimal::Decimal;
use std::sync::Arc;

/// The size of the `/chart` image (Telegram shows photos up to 1280 px wide without loss).
pub const CHART_WIDTH: u32 = 1200;
pub const CHART_HEIGHT: u32 = 600;

/// Callback data of the `/alerts` buttons: this prefix and the category's name.
const ALERTS_PREFIX: &str = "al:";

/// The categories `/alerts` offers, in the order shown. (`Category::Reply` is never muted.)
pub const MUTABLE: [Category; 4] = [Category::Fills, Category::Signals, Category::Performance, Category::Warnings];

fn category_name(c: Category) -> &'static str {
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
    if settings.muted.contains(&category) {
        settings.muted.retain(|c| *c != category);
        false
    } else {
        settings.muted.push(category);
        true
    }
}

fn b(s: &str) -> String {
    format!("<b>{s}</b>")
}

/// The `/alerts` message for a chat's settings: its HTML and one button per category.
pub fn alerts_prompt(settings: &ChatSettings, lang: Lang) -> (String, Vec<Vec<Button>>) {
    let mut lines = vec![format!("🔔 {}", b(&tr_html(lang, "alerts-title", &[])))];
    let mut buttons = Vec::new();
    for category in MUTABLE {
        let key = category_name(category);
        let muted = settings.mutes(category);
        let name = tr_html(lang, &format!("alerts-name-{key}"), &[]);
        let description = tr_html(lang, &format!("alerts-desc-{key}"), &[]);
        let (icon, line_key) = if muted { ("🔕", "alerts-line-off") } else { ("✅", "alerts-line-on") };
        let args = [("name", Arg::from(b(&name))), ("description", Arg::from(description))];
        lines.push(format!("{icon} {}", tr_html(lang, line_key, &args)));
        let label = format!("{icon} {}", tr(lang, &format!("alerts-name-{key}"), &[]));
        buttons.push(vec![Button { text: label, data: alerts_button_data(category) }]);
    }
    lines.push(String::new());
    lines.push(tr_html(lang, "alerts-footer", &[]));
    (lines.join("\n"), buttons)
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

/// The `/performance` text (HTML): statistics overall, then by month.
pub fn performance_text(trades: &[ClosedTrade], start: Option<Decimal>, quote: &str, lang: Lang) -> String {
    if trades.is_empty() {
        return format!("📈 {}", tr_html(lang, "stats-none", &[]));
    }
    let curve = match start {
        Some(_) => closed_curve(trades, start),
        None => Vec::new(),
    };
    let s = stats(trades, &curve);
    let q = || Arg::from(quote.to_owned());
    let money = |v: Decimal| Arg::from(fmt_money(lang, v));
    let signed = |v: Decimal| Arg::from(fmt_signed_money(lang, v));
    let pct = |v: Decimal, sign: bool| Arg::from(fmt_pct(lang, v, sign));
    let mut lines = vec![format!("📈 {}", b(&tr_html(lang, "stats-title", &[("count", Arg::from(s.trades))])))];
    lines.push(tr_html(
        lang,
        "stats-wins",
        &[("wins", Arg::from(s.wins)), ("losses", Arg::from(s.losses)), ("rate", pct(s.win_rate_pct, false))],
    ));
    lines.push(tr_html(
        lang,
        "stats-pnl",
        &[("total", signed(s.total_pnl)), ("avg", signed(s.avg_pnl)), ("quote", q())],
    ));
    lines.push(tr_html(lang, "stats-fees", &[("fees", money(s.total_fees)), ("quote", q())]));
    for (key, trade) in [("stats-best", &s.best), ("stats-worst", &s.worst)] {
        if let Some(t) = trade {
            let args = [
                ("base", Arg::from(b(t.symbol.base.as_str()))),
                ("pnl", signed(t.pnl)),
                ("quote", q()),
                ("pct", pct(t.pnl_pct, true)),
                ("date", Arg::from(t.closed_at.date())),
            ];
            lines.push(tr_html(lang, key, &args));
        }
    }
    lines.push(match s.curve {
        CurveSource::Equity => tr_html(
            lang,
            "stats-drawdown",
            &[("amount", money(s.max_drawdown)), ("quote", q()), ("pct", pct(s.max_drawdown_pct, false))],
        ),
        // A percentage of a peak *profit* would mislead: money only.
        CurveSource::CumulativePnl => {
            tr_html(lang, "stats-drawdown-amount", &[("amount", money(s.max_drawdown)), ("quote", q())])
        }
    });
    lines.push(String::new());
    lines.push(b(&tr_html(lang, "stats-months", &[])));
    for m in &s.by_month {
        let args = [
            ("month", Arg::from(m.month.clone())),
            ("trades", Arg::from(m.trades)),
            ("wins", Arg::from(m.wins)),
            (
                "rate",
                pct((Decimal::from(m.wins) * Decimal::ONE_HUNDRED / Decimal::from(m.trades.max(1))).round_dp(2), false),
            ),
            ("pnl", signed(m.pnl)),
            ("quote", q()),
        ];
        lines.push(tr_html(lang, "stats-month", &args));
    }
    lines.join("\n")
}

/// The hook: see the module docs.
pub struct Views {
    store: Arc<Store>,
    engine: EngineHandle,
    clock: Arc<dyn Clock>,
    quote: AssetCode,
}

impl Views {
    pub fn new(store: Arc<Store>, engine: EngineHandle, clock: Arc<dyn Clock>, quote: AssetCode) -> Views {
        Views { store, engine, clock, quote }
    }
}

/// What the engine knows that the views need: the portfolio value (`None` while no balance is
/// known) and the open positions' unrealized P&L.
async fn account(engine: &EngineHandle) -> (Option<Decimal>, Decimal) {
    match engine.view().await {
        Ok(v) => {
            let open_pnl = v.positions.iter().filter_map(|p| p.pnl).sum();
            (Some(v.portfolio).filter(|p| *p > Decimal::ZERO), open_pnl)
        }
        Err(_) => (None, Decimal::ZERO),
    }
}

async fn closed_trades(store: &Arc<Store>) -> Option<Vec<ClosedTrade>> {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || store.closed_trades()).await {
        Ok(Ok(t)) => Some(t),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "cannot read the closed trades");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read the closed trades");
            None
        }
    }
}

fn text(html: String) -> Vec<OutboxBody> {
    vec![OutboxBody::Text { html }]
}

impl ChatHook for Views {
    fn command(&self, request: HookRequest) -> BoxFuture<'static, Option<Vec<OutboxBody>>> {
        let (store, engine, clock, quote) =
            (self.store.clone(), self.engine.clone(), self.clock.clone(), self.quote.to_string());
        let lang = request.lang;
        Box::pin(async move {
            match request.command {
                ChatCommand::Performance => {
                    let Some(trades) = closed_trades(&store).await else {
                        return Some(text(format!("⚠️ {}", tr_html(lang, "stats-unavailable", &[]))));
                    };
                    let (portfolio, open_pnl) = account(&engine).await;
                    let start = implied_start(&trades, portfolio, open_pnl);
                    Some(text(performance_text(&trades, start, &quote, lang)))
                }
                ChatCommand::Chart => {
                    let Some(trades) = closed_trades(&store).await else {
                        return Some(text(format!("⚠️ {}", tr_html(lang, "stats-unavailable", &[]))));
                    };
                    let (portfolio, open_pnl) = account(&engine).await;
                    let data = chart_data(&trades, portfolio, open_pnl, clock.now());
                    let caption = if trades.is_empty() {
                        tr_html(lang, "chart-caption-empty", &[])
                    } else {
                        let value = Arg::from(fmt_money(lang, portfolio.unwrap_or_default()));
                        tr_html(lang, "chart-caption", &[("value", value), ("quote", Arg::from(quote.clone()))])
                    };
                    let title = tr(lang, "chart-title", &[]);
                    // Drawing is CPU work (tens of milliseconds): off the async workers.
                    let drawn = tokio::task::spawn_blocking(move || {
                        equity_png(&title, &data.points, &data.marks, CHART_WIDTH, CHART_HEIGHT)
                    })
                    .await;
                    match drawn {
                        Ok(Ok(png)) => Some(vec![OutboxBody::Photo { png, caption }]),
                        Ok(Err(e)) => {
                            tracing::error!(error = %e, "cannot draw the chart");
                            Some(text(format!("⚠️ {}", tr_html(lang, "chart-failed", &[]))))
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "cannot draw the chart");
                            Some(text(format!("⚠️ {}", tr_html(lang, "chart-failed", &[]))))
                        }
                    }
                }
                ChatCommand::Alerts => {
                    let chat = request.chat;
                    let settings = {
                        let store = store.clone();
                        match tokio::task::spawn_blocking(move || store.chat_settings(chat)).await {
                            Ok(Ok(s)) => s,
                            _ => ChatSettings::default(),
                        }
                    };
                    let (html, buttons) = alerts_prompt(&settings, lang);
                    Some(vec![OutboxBody::Prompt { html, buttons, token: None }])
                }
                _ => None,
            }
        })
    }

    fn callback(&self, press: HookPress) -> BoxFuture<'static, Option<HookAnswer>> {
        let store = self.store.clone();
        Box::pin(async move {
            let category = parse_alerts_button(&press.data)?;
            let (chat, message_id) = press.message?;
            let lang = {
                let store = store.clone();
                match tokio::task::spawn_blocking(move || store.chat_settings(chat)).await {
                    Ok(Ok(s)) => s.language.as_deref().map(Lang::from_code).unwrap_or_default(),
                    _ => Lang::default(),
                }
            };
            if press.role == Role::Stranger {
                let text = tr(lang, "alerts-not-allowed", &[]);
                return Some(HookAnswer { text: Some(text), alert: true, messages: Vec::new() });
            }
            let updated = tokio::task::spawn_blocking(move || {
                let mut muted = false;
                let settings = store.update_chat_settings(chat, |s| muted = toggle(s, category))?;
                Ok::<_, crate::store::StoreError>((settings, muted))
            })
            .await;
            let (settings, muted) = match updated {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    tracing::error!(chat, error = %e, "cannot save the chat's alert settings");
                    return Some(HookAnswer::default());
                }
                Err(e) => {
                    tracing::error!(chat, error = %e, "cannot save the chat's alert settings");
                    return Some(HookAnswer::default());
                }
            };
            tracing::info!(chat, presser = press.presser, ?category, muted, "alert category switched");
            let (html, buttons) = alerts_prompt(&settings, lang);
            let key = if muted { "alerts-switched-off" } else { "alerts-switched-on" };
            let name = tr(lang, &format!("alerts-name-{}", category_name(category)), &[]);
            Some(HookAnswer {
                text: Some(tr(lang, key, &[("name", Arg::from(name))])),
                alert: false,
                messages: vec![OutboxBody::Edit { message_id: Some(message_id), token: None, html, buttons }],
            })
        })
    }
}

#[cfg(test)]
mod tests;
