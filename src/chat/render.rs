//! Turning engine notices and chat replies into text, in the chat's language.
//!
//! Every piece of text comes from the locale files; this module only picks the messages,
//! formats the numbers ([`crate::i18n`]) and applies the markup. In [`Mode::Html`] every
//! interpolated value is HTML-escaped (symbols, exchange error texts, user input), the
//! translation's own text is escaped by the HTML bundle, and the only tags are Bert's own:
//! `<b>` for the symbol and title of an alert, `<code>` for ids. Every tag opens and closes on
//! the same line, which is what lets [`split_message`] cut between lines safely.
//!
//! Icons are language-neutral and prefixed here, not in the locale files.

use super::auth::{Access, Role, Verdict, allows};
pub use super::format::Mode;
use super::format::{escape_html, sanitize};
use super::parse::ParseError;
pub use super::split::{TELEGRAM_LIMIT, split_message};
use crate::domain::{EntryReason, ExitReason, Symbol};
use crate::engine::{
    BalanceLine, BreakerReason, EntryPlan, Finding, Notice, PositionView, Refusal, SizeBound, StatusView,
};
use crate::i18n::{Arg, Lang, fmt_money, fmt_pct, fmt_price, fmt_qty, fmt_share, fmt_signed_money, tr, tr_html};
use crate::strategy::edge70::{Direction, SignalKind};
use rust_decimal::Decimal;
use std::borrow::Cow;

/// One command as `/help` lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    /// The name after the slash.
    pub name: &'static str,
    /// Argument placeholders as locale keys; `true` marks an optional one (shown in brackets).
    pub args: &'static [(&'static str, bool)],
    /// Who may use it (a test checks this agrees with [`super::auth::access`]).
    pub access: Access,
}

const SYMBOL: (&str, bool) = ("arg-symbol", false);
const PRICE: (&str, bool) = ("arg-price", false);
const CODE: (&str, bool) = ("arg-code", true);

/// Every command, in the order `/help` shows them. These names are the operator contract's.
pub const COMMANDS: [CommandSpec; 15] = [
    CommandSpec { name: "start", args: &[], access: Access::Anyone },
    CommandSpec { name: "help", args: &[], access: Access::Anyone },
    CommandSpec { name: "id", args: &[], access: Access::Anyone },
    CommandSpec { name: "list", args: &[], access: Access::Read },
    CommandSpec { name: "status", args: &[], access: Access::Read },
    CommandSpec { name: "balance", args: &[], access: Access::Read },
    CommandSpec { name: "performance", args: &[], access: Access::Read },
    CommandSpec { name: "chart", args: &[], access: Access::Read },
    CommandSpec { name: "alerts", args: &[], access: Access::Read },
    CommandSpec { name: "enter", args: &[SYMBOL], access: Access::Trade },
    CommandSpec { name: "exit", args: &[SYMBOL], access: Access::Trade },
    CommandSpec { name: "stop", args: &[SYMBOL, PRICE], access: Access::Trade },
    CommandSpec { name: "pause", args: &[], access: Access::Trade },
    CommandSpec { name: "resume", args: &[], access: Access::Trade },
    CommandSpec { name: "lang", args: &[CODE], access: Access::Anyone },
];

/// Short fixed texts of the confirmation flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UiText {
    /// The first button under a preview.
    ButtonConfirm,
    /// The second button.
    ButtonCancel,
    /// Pressed after the confirmation's 60 s.
    ConfirmExpired,
    /// Pressed by someone other than the user who asked.
    ConfirmNotYours,
    ConfirmCancelled,
}

/// Rendering context: the language and the markup.
struct Ctx {
    lang: Lang,
    mode: Mode,
}

impl Ctx {
    fn t(&self, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        match self.mode {
            Mode::Plain => tr(self.lang, key, args),
            Mode::Html => tr_html(self.lang, key, args),
        }
    }

    /// Outside text made safe: control characters dropped, and escaped for HTML.
    fn text<'a>(&self, s: &'a str) -> Arg<'a> {
        let clean = sanitize(s);
        match self.mode {
            Mode::Plain => Arg::Str(clean),
            Mode::Html => Arg::Str(Cow::Owned(escape_html(&clean).into_owned())),
        }
    }

    fn bold(&self, s: &str) -> Arg<'static> {
        match self.mode {
            Mode::Plain => Arg::Str(Cow::Owned(sanitize(s).into_owned())),
            Mode::Html => Arg::Str(Cow::Owned(format!("<b>{}</b>", escape_html(&sanitize(s))))),
        }
    }

    fn code(&self, s: &str) -> Arg<'static> {
        match self.mode {
            Mode::Plain => Arg::Str(Cow::Owned(sanitize(s).into_owned())),
            Mode::Html => Arg::Str(Cow::Owned(format!("<code>{}</code>", escape_html(&sanitize(s))))),
        }
    }

    /// A whole line in bold (titles). The line is already rendered for this mode.
    fn bold_line(&self, line: String) -> String {
        match self.mode {
            Mode::Plain => line,
            Mode::Html => format!("<b>{line}</b>"),
        }
    }

    /// The asset of a symbol, bold (the subject of an alert).
    fn base(&self, symbol: &Symbol) -> Arg<'static> {
        self.bold(symbol.base.as_str())
    }

    /// The asset of a symbol, unmarked (inside a sentence or a command such as `/exit BTC`).
    fn asset(&self, symbol: &Symbol) -> Arg<'static> {
        Arg::Str(Cow::Owned(symbol.base.as_str().to_owned()))
    }

    fn quote(&self, symbol: &Symbol) -> Arg<'static> {
        Arg::Str(Cow::Owned(symbol.quote.as_str().to_owned()))
    }

    // Formatted numbers contain only digits, signs, separators and `%`: nothing to escape.
    fn price(&self, v: Decimal) -> Arg<'static> {
        Arg::from(fmt_price(self.lang, v))
    }

    fn qty(&self, v: Decimal) -> Arg<'static> {
        Arg::from(fmt_qty(self.lang, v))
    }

    fn money(&self, v: Decimal) -> Arg<'static> {
        Arg::from(fmt_money(self.lang, v))
    }

    fn pnl(&self, v: Decimal) -> Arg<'static> {
        Arg::from(fmt_signed_money(self.lang, v))
    }

    fn pct(&self, v: Decimal) -> Arg<'static> {
        Arg::from(fmt_pct(self.lang, v, true))
    }

    fn id(&self, id: i64) -> Arg<'static> {
        self.code(&id.to_string())
    }

    /// `Reason: …` when the exchange gave one.
    fn reason_line(&self, lines: &mut Vec<String>, reason: &Option<String>) {
        if let Some(reason) = reason.as_deref().filter(|r| !r.trim().is_empty()) {
            lines.push(self.t("reason-line", &[("reason", self.text(reason))]));
        }
    }
}

fn with_icon(icon: &str, text: String) -> String {
    if icon.is_empty() { text } else { format!("{icon} {text}") }
}

/// Renders an engine notice for a chat. Covers every [`Notice`] and [`Refusal`] variant.
pub fn render(notice: &Notice, lang: Lang, mode: Mode) -> String {
    let c = Ctx { lang, mode };
    let mut lines: Vec<String> = Vec::new();
    match notice {
        Notice::Refused(r) => lines.push(with_icon("⛔", refusal(&c, r))),
        Notice::EntryPreview(plan) => {
            lines.push(with_icon("📝", c.bold_line(c.t("entry-preview-title", &[("base", c.asset(&plan.symbol))]))));
            plan_lines(&c, plan, true, &mut lines);
        }
        Notice::ExitPreview { symbol, qty, price, pnl } => {
            lines.push(with_icon("📝", c.bold_line(c.t("exit-preview-title", &[("base", c.asset(symbol))]))));
            lines.push(c.t("exit-preview-sell", &[("qty", c.qty(*qty)), ("base", c.asset(symbol))]));
            match price {
                Some(p) => lines.push(c.t("exit-preview-price", &[("price", c.price(*p)), ("quote", c.quote(symbol))])),
                None => lines.push(c.t("exit-preview-no-price", &[])),
            }
            if let Some(pnl) = pnl {
                lines.push(c.t("exit-preview-pnl", &[("pnl", c.pnl(*pnl)), ("quote", c.quote(symbol))]));
            }
        }
        Notice::Positions(views) => positions(&c, views, &mut lines),
        Notice::Status(view) => status(&c, view, &mut lines),
        Notice::Balances { lines: balances, portfolio, quote } => {
            balance_lines(&c, balances, *portfolio, quote, &mut lines)
        }
        Notice::Paused => lines.push(with_icon("⏸", c.t("paused", &[]))),
        Notice::Resumed => lines.push(with_icon("▶️", c.t("resumed", &[]))),
        Notice::EntryPlaced { plan, reason } => {
            let args = [
                ("qty", c.qty(plan.qty)),
                ("base", c.base(&plan.symbol)),
                ("limit", c.price(plan.limit_price)),
                ("quote", c.quote(&plan.symbol)),
            ];
            lines.push(with_icon("🟢", c.t("entry-placed", &args)));
            plan_lines(&c, plan, false, &mut lines);
            lines.push(match reason {
                EntryReason::Manual { user } => c.t("entry-reason-manual", &[("user", c.id(*user))]),
                EntryReason::Signal => c.t("entry-reason-signal", &[]),
            });
        }
        Notice::EntryFill { symbol, qty, price, avg_price, filled, ordered, fee, fee_asset } => {
            let key = if filled >= ordered { "entry-fill-full" } else { "entry-fill-partial" };
            let args = [
                ("qty", c.qty(*qty)),
                ("base", c.base(symbol)),
                ("price", c.price(*price)),
                ("quote", c.quote(symbol)),
                ("filled", c.qty(*filled)),
                ("ordered", c.qty(*ordered)),
                ("avg", c.price(*avg_price)),
            ];
            lines.push(with_icon("✅", c.t(key, &args)));
            if !fee.is_zero() {
                lines.push(c.t("fill-fee", &[("fee", c.qty(*fee)), ("asset", c.text(fee_asset))]));
            }
        }
        Notice::EntryFailed { symbol, reason } => {
            lines.push(with_icon("❌", c.t("entry-failed", &[("base", c.base(symbol))])));
            c.reason_line(&mut lines, reason);
        }
        Notice::StopPlaced { symbol, qty, stop_price, limit_price } => {
            let args = [
                ("qty", c.qty(*qty)),
                ("base", c.base(symbol)),
                ("stop", c.price(*stop_price)),
                ("limit", c.price(*limit_price)),
                ("quote", c.quote(symbol)),
            ];
            lines.push(with_icon("🛡", c.t("stop-placed", &args)));
        }
        Notice::StopRefused { symbol, reason } => {
            lines.push(with_icon("⚠️", c.t("stop-refused", &[("base", c.base(symbol))])));
            c.reason_line(&mut lines, reason);
        }
        Notice::StopLost { symbol, reason } => {
            lines.push(with_icon("⚠️", c.t("stop-lost", &[("base", c.base(symbol))])));
            c.reason_line(&mut lines, reason);
        }
        Notice::StopFillsPending { symbol } => {
            lines.push(with_icon("⚠️", c.t("stop-fills-pending", &[("base", c.base(symbol))])));
        }
        Notice::StopVanished { symbol } => {
            lines.push(with_icon("⚠️", c.t("stop-vanished", &[("base", c.base(symbol))])));
        }
        Notice::StopFill { symbol, qty, price, fee, fee_asset } => {
            let args = [
                ("qty", c.qty(*qty)),
                ("base", c.base(symbol)),
                ("price", c.price(*price)),
                ("quote", c.quote(symbol)),
            ];
            lines.push(with_icon("🔻", c.t("stop-fill", &args)));
            if !fee.is_zero() {
                lines.push(c.t("fill-fee", &[("fee", c.qty(*fee)), ("asset", c.text(fee_asset))]));
            }
        }
        Notice::ExitPlaced { symbol, qty, reason } => {
            lines.push(with_icon("🔴", c.t("exit-placed", &[("qty", c.qty(*qty)), ("base", c.base(symbol))])));
            lines.push(c.t("position-closed-reason", &[("reason", Arg::from(exit_reason(&c, reason)))]));
        }
        Notice::ExitFill { symbol, qty, price, fee, fee_asset } => {
            let args = [
                ("qty", c.qty(*qty)),
                ("base", c.base(symbol)),
                ("price", c.price(*price)),
                ("quote", c.quote(symbol)),
            ];
            lines.push(with_icon("✅", c.t("exit-fill", &args)));
            if !fee.is_zero() {
                lines.push(c.t("fill-fee", &[("fee", c.qty(*fee)), ("asset", c.text(fee_asset))]));
            }
        }
        Notice::ExitFailed { symbol, reason } => {
            lines.push(with_icon("⚠️", c.t("exit-failed", &[("base", c.base(symbol))])));
            c.reason_line(&mut lines, reason);
        }
        Notice::Unprotected { symbol, reason } => {
            lines.push(with_icon("🚨", c.t("unprotected", &[("base", c.base(symbol))])));
            c.reason_line(&mut lines, reason);
        }
        Notice::PositionClosed { symbol, reason, qty, avg_entry, avg_exit, pnl, pnl_pct, fees, days } => {
            let args =
                [("base", c.base(symbol)), ("pnl", c.pnl(*pnl)), ("quote", c.quote(symbol)), ("pct", c.pct(*pnl_pct))];
            lines.push(with_icon("🏁", c.t("position-closed", &args)));
            let held = c.t("days", &[("days", Arg::Int(*days))]);
            let args = [
                ("entry", c.price(*avg_entry)),
                ("exit", c.price(*avg_exit)),
                ("qty", c.qty(*qty)),
                ("fees", c.money(*fees)),
                ("quote", c.quote(symbol)),
                ("held", Arg::from(held)),
            ];
            lines.push(c.t("position-closed-details", &args));
            if let Some(reason) = reason {
                lines.push(c.t("position-closed-reason", &[("reason", Arg::from(exit_reason(&c, reason)))]));
            }
        }
        Notice::Signal { symbol, direction, kind, level, price, candle_close, auto_trade } => {
            let (icon, key, auto_key, hint_key) = match direction {
                Direction::Long => ("📈", "signal-long", "signal-auto-long", "signal-hint-long"),
                Direction::Short => ("📉", "signal-short", "signal-auto-short", "signal-hint-short"),
            };
            let args = [("base", c.base(symbol)), ("level", c.price(*level)), ("price", c.price(*price))];
            lines.push(with_icon(icon, c.t(key, &args)));
            if *kind == SignalKind::Possible {
                lines.push(c.t("signal-possible", &[]));
            }
            lines.push(c.t("signal-candle", &[("date", Arg::from(candle_close.date()))]));
            if *auto_trade {
                lines.push(c.t(auto_key, &[]));
            } else {
                lines.push(c.t(hint_key, &[("base", c.asset(symbol))]));
            }
        }
        Notice::OrderOutcomeUnknown { symbol, client_id } => {
            let args = [("id", c.code(client_id)), ("base", c.base(symbol))];
            lines.push(with_icon("❔", c.t("order-outcome-unknown", &args)));
        }
        Notice::BreakerOpened { reason } => {
            let reason = breaker_reason(&c, reason);
            lines.push(with_icon("🛑", c.t("breaker-opened", &[("reason", Arg::from(reason))])));
        }
        Notice::BreakerClosed => lines.push(with_icon("✅", c.t("breaker-closed", &[]))),
        Notice::RateLimitHalt { until, banned } => {
            let key = if *banned { "rate-limit-banned" } else { "rate-limit-halt" };
            let until = Arg::from(performance::date_time(*until));
            lines.push(with_icon("⏸", c.t(key, &[("until", until)])));
        }
        Notice::Reconciliation(finding) => lines.push(with_icon("🔎", reconciliation(&c, finding))),
        Notice::Started { open_positions } => {
            lines.push(with_icon("🚀", c.t("started", &[("count", Arg::from(*open_positions as u32))])))
        }
        Notice::Stopping => lines.push(with_icon("💤", c.t("stopping", &[]))),
        Notice::Performance(report) => performance::performance(&c, report, &mut lines),
        other => {
            stops_warnings::render(&c, other, &mut lines);
        }
    }
    lines.join("\n")
}

fn refusal(c: &Ctx, r: &Refusal) -> String {
    match r {
        Refusal::Paused => c.t("refusal-paused", &[]),
        Refusal::BreakerOpen => c.t("refusal-breaker-open", &[]),
        Refusal::AlreadyInPosition { symbol } => c.t("refusal-already-in-position", &[("base", c.asset(symbol))]),
        Refusal::NoPosition { symbol } => c.t("refusal-no-position", &[("base", c.asset(symbol))]),
        Refusal::Busy { symbol } => c.t("refusal-busy", &[("base", c.asset(symbol))]),
        Refusal::UnknownSymbol { symbol } => c.t("refusal-unknown-symbol", &[("pair", Arg::from(symbol.pair()))]),
        Refusal::NoPrice { symbol } => c.t("refusal-no-price", &[("base", c.asset(symbol))]),
        Refusal::MaxOpenPositions { max } => c.t("refusal-max-open-positions", &[("max", Arg::from(*max))]),
        Refusal::PortfolioRiskFull { max_pct } => {
            c.t("refusal-portfolio-risk-full", &[("max", Arg::from(fmt_share(c.lang, *max_pct)))])
        }
        Refusal::NoFreeBalance { asset } => c.t("refusal-no-free-balance", &[("asset", c.text(asset))]),
        Refusal::BelowMinimum { value, min } => {
            c.t("refusal-below-minimum", &[("value", c.price(*value)), ("min", c.price(*min))])
        }
        Refusal::Filters { detail } => c.t("refusal-filters", &[("detail", c.text(detail))]),
        Refusal::NoPortfolio => c.t("refusal-no-portfolio", &[]),
        Refusal::NotReconciled => c.t("refusal-not-reconciled", &[]),
        other => stops_warnings::refusal(c, other).unwrap_or_default(),
    }
}

/// The body of an entry plan: what is bought (preview only), stop, risk, and the limiting rule.
fn plan_lines(c: &Ctx, plan: &EntryPlan, preview: bool, lines: &mut Vec<String>) {
    let quote = || c.quote(&plan.symbol);
    if preview {
        let args = [
            ("qty", c.qty(plan.qty)),
            ("base", c.asset(&plan.symbol)),
            ("limit", c.price(plan.limit_price)),
            ("quote", quote()),
            ("reference", c.price(plan.reference_price)),
        ];
        lines.push(c.t("entry-preview-buy", &args));
        lines.push(c.t("entry-preview-value", &[("value", c.money(plan.value)), ("quote", quote())]));
    }
    lines.push(c.t("entry-preview-stop", &[("stop", c.price(plan.stop_price)), ("quote", quote())]));
    let args = [
        ("risk", c.money(plan.risk)),
        ("quote", quote()),
        ("risk_pct", Arg::from(fmt_share(c.lang, plan.risk_pct))),
        ("portfolio", c.money(plan.portfolio)),
    ];
    lines.push(c.t("entry-preview-risk", &args));
    if preview {
        let bound = match plan.bound {
            SizeBound::Risk => "bound-risk",
            SizeBound::MaxPosition => "bound-max-position",
            SizeBound::FreeBalance => "bound-free-balance",
            SizeBound::PortfolioRisk => "bound-portfolio-risk",
        };
        lines.push(c.t("entry-preview-bound", &[("bound", Arg::from(c.t(bound, &[])))]));
    }
}

fn exit_reason(c: &Ctx, reason: &ExitReason) -> String {
    match reason {
        ExitReason::Manual { user } => c.t("exit-reason-manual", &[("user", c.id(*user))]),
        ExitReason::Signal => c.t("exit-reason-signal", &[]),
        ExitReason::StopHit => c.t("exit-reason-stop-hit", &[]),
        ExitReason::Unprotectable => c.t("exit-reason-unprotectable", &[]),
    }
}

fn reconciliation(c: &Ctx, finding: &Finding) -> String {
    match finding {
        Finding::OrderChanged { symbol, client_id, status } => c.t(
            "reconcile-order-changed",
            &[("id", c.code(client_id)), ("base", c.base(symbol)), ("status", c.text(status))],
        ),
        Finding::UnknownOrder { symbol, client_id } => {
            c.t("reconcile-unknown-order", &[("id", c.code(client_id)), ("base", c.base(symbol))])
        }
        Finding::BalanceShort { symbol, position, held } => c.t(
            "reconcile-balance-short",
            &[("base", c.base(symbol)), ("position", c.qty(*position)), ("held", c.qty(*held))],
        ),
    }
}

fn breaker_reason(c: &Ctx, reason: &BreakerReason) -> String {
    match reason {
        BreakerReason::StreamDown => c.t("breaker-reason-stream-down", &[]),
        BreakerReason::RequestFailures { count } => {
            c.t("breaker-reason-request-failures", &[("count", Arg::from(*count))])
        }
        BreakerReason::Reconciliation => c.t("breaker-reason-reconciliation", &[]),
    }
}

fn positions(c: &Ctx, views: &[PositionView], lines: &mut Vec<String>) {
    if views.is_empty() {
        lines.push(with_icon("📊", c.t("positions-none", &[])));
        return;
    }
    lines.push(with_icon("📊", c.bold_line(c.t("positions-header", &[("count", Arg::from(views.len()))]))));
    for v in views {
        let line = match (v.price, v.pnl, v.pnl_pct) {
            (Some(price), Some(pnl), Some(pct)) => {
                let args = [
                    ("base", c.base(&v.symbol)),
                    ("qty", c.qty(v.qty)),
                    ("entry", c.price(v.avg_entry)),
                    ("price", c.price(price)),
                    ("pct", c.pct(pct)),
                    ("pnl", c.pnl(pnl)),
                    ("quote", c.quote(&v.symbol)),
                ];
                c.t("position-line", &args)
            }
            _ => {
                let args = [("base", c.base(&v.symbol)), ("qty", c.qty(v.qty)), ("entry", c.price(v.avg_entry))];
                c.t("position-line-no-price", &args)
            }
        };
        lines.push(line);
        let date = Arg::from(v.opened_at.date());
        let detail = match v.stop_price {
            Some(stop) => c.t("position-stop", &[("stop", c.price(stop)), ("date", date)]),
            None => with_icon("⚠️", c.t("position-no-stop", &[("date", date)])),
        };
        lines.push(format!("    {detail}"));
    }
}

fn status(c: &Ctx, v: &StatusView, lines: &mut Vec<String>) {
    lines.push(with_icon("ℹ️", c.bold_line(c.t("status-title", &[]))));
    lines.push(c.t(if v.paused { "status-trading-paused" } else { "status-trading-active" }, &[]));
    lines.push(c.t(if v.stream_up { "status-stream-up" } else { "status-stream-down" }, &[]));
    lines.push(match &v.breaker {
        None => c.t("status-breaker-closed", &[]),
        Some(reason) => c.t("status-breaker-open", &[("reason", Arg::from(breaker_reason(c, reason)))]),
    });
    let args = [
        ("positions", Arg::from(v.open_positions)),
        ("orders", Arg::from(v.open_orders)),
        ("symbols", Arg::from(v.symbols)),
    ];
    lines.push(c.t("status-counts", &args));
    lines.push(c.t(if v.auto_trade { "status-auto-on" } else { "status-auto-off" }, &[]));
}

fn balance_lines(c: &Ctx, balances: &[BalanceLine], portfolio: Decimal, quote: &str, lines: &mut Vec<String>) {
    if balances.is_empty() {
        lines.push(with_icon("💰", c.t("balances-none", &[])));
    } else {
        lines.push(with_icon("💰", c.bold_line(c.t("balances-header", &[]))));
        for b in balances {
            lines.push(match b.value {
                Some(value) => c.t(
                    "balance-line",
                    &[
                        ("asset", c.text(&b.asset)),
                        ("total", c.qty(b.total)),
                        ("value", c.money(value)),
                        ("quote", c.text(quote)),
                    ],
                ),
                None => c.t("balance-line-no-value", &[("asset", c.text(&b.asset)), ("total", c.qty(b.total))]),
            });
        }
    }
    lines.push(c.bold_line(c.t("balances-total", &[("value", c.money(portfolio)), ("quote", c.text(quote))])));
}

// ----- chat-only replies --------------------------------------------------------------------

/// The localized message for a parse error. Callers decide whether to send it at all
/// ([`ParseError::is_silent`]: groups get nothing for plain text or other bots' commands).
pub fn render_error(err: &ParseError, lang: Lang, mode: Mode) -> String {
    let c = Ctx { lang, mode };
    let text = match err {
        ParseError::NotACommand => c.t("error-not-a-command", &[]),
        ParseError::OtherBot => c.t("error-other-bot", &[]),
        ParseError::Unknown(name) => c.t("error-unknown", &[("name", c.text(name))]),
        ParseError::MissingSymbol(cmd) => c.t("error-missing-symbol", &[("command", c.text(cmd))]),
        ParseError::BadSymbol(input) => c.t("error-bad-symbol", &[("input", c.text(input))]),
        ParseError::MissingPrice => c.t("error-missing-price", &[]),
        ParseError::BadPrice(input) => c.t("error-bad-price", &[("input", c.text(input))]),
        ParseError::TooManyArgs(cmd) => {
            let usage = usage(cmd, lang);
            c.t("error-too-many-args", &[("command", c.text(cmd)), ("usage", c.text(&usage))])
        }
        ParseError::TooLong => c.t("error-too-long", &[]),
    };
    with_icon("⚠️", text)
}

/// `/stop SYMBOL PRICE`, `/lang [CODE]`: a command with its localized argument placeholders.
pub fn usage(name: &str, lang: Lang) -> String {
    let Some(spec) = COMMANDS.iter().find(|s| s.name == name) else { return format!("/{name}") };
    let mut out = format!("/{}", spec.name);
    for (key, optional) in spec.args {
        let arg = tr(lang, key, &[]);
        if *optional {
            out.push_str(&format!(" [{arg}]"));
        } else {
            out.push(' ');
            out.push_str(&arg);
        }
    }
    out
}

/// The commands `role` may use with their localized descriptions, in `/help` order: for the
/// help text and for Telegram's `setMyCommands` (names without the slash).
pub fn bot_commands(lang: Lang, role: Role) -> Vec<(&'static str, String)> {
    COMMANDS
        .iter()
        .filter(|s| allows(role, s.access))
        .map(|s| (s.name, tr(lang, &format!("cmd-{}", s.name), &[])))
        .collect()
}

/// `/help`: the commands this user's role may use, one per line.
pub fn help(lang: Lang, role: Role, mode: Mode) -> String {
    let c = Ctx { lang, mode };
    let mut lines = vec![c.bold_line(c.t("help-header", &[]))];
    for spec in COMMANDS.iter().filter(|s| allows(role, s.access)) {
        let usage = usage(spec.name, lang);
        let description = c.t(&format!("cmd-{}", spec.name), &[]);
        let usage = match mode {
            Mode::Plain => usage,
            Mode::Html => escape_html(&usage).into_owned(),
        };
        lines.push(format!("{usage} — {description}"));
    }
    lines.push(String::new());
    lines.push(c.t("help-footer", &[]));
    if role == Role::Stranger {
        lines.push(c.t("help-stranger", &[]));
    }
    lines.join("\n")
}

/// `/start`: who Bert is, then the help.
pub fn start(lang: Lang, role: Role, mode: Mode) -> String {
    let c = Ctx { lang, mode };
    format!("{}\n\n{}", c.t("intro", &[]), help(lang, role, mode))
}

/// `/id`: the user's and the chat's ids (`None` user: sent on behalf of a group or channel).
pub fn id_reply(user: Option<i64>, chat: i64, lang: Lang, mode: Mode) -> String {
    let c = Ctx { lang, mode };
    match user {
        Some(user) => c.t("id-reply", &[("user", c.id(user)), ("chat", c.id(chat))]),
        None => c.t("id-reply-anonymous", &[("chat", c.id(chat))]),
    }
}

/// The reply to a stranger in a private chat.
pub fn not_authorized(user: Option<i64>, lang: Lang, mode: Mode) -> String {
    let c = Ctx { lang, mode };
    match user {
        Some(user) => with_icon("🔒", c.t("not-authorized", &[("user", c.id(user))])),
        None => with_icon("🔒", c.t("not-authorized-anonymous", &[])),
    }
}

/// The reply to a viewer who asked for a trade command.
pub fn viewer_refused(lang: Lang, mode: Mode) -> String {
    with_icon("🔒", Ctx { lang, mode }.t("viewer-refused", &[]))
}

/// What to answer for a refused authorization, if anything: viewers are told why; strangers
/// get their id in a private chat and silence in a group. `None` for [`Verdict::Allow`].
pub fn verdict_reply(
    verdict: Verdict,
    user: Option<i64>,
    private_chat: bool,
    lang: Lang,
    mode: Mode,
) -> Option<String> {
    match verdict {
        Verdict::Allow => None,
        Verdict::RefuseViewer => Some(viewer_refused(lang, mode)),
        Verdict::Stranger if private_chat => Some(not_authorized(user, lang, mode)),
        Verdict::Stranger => None,
    }
}

/// `/lang CODE` and `/lang`: the chat's language afterwards and the reply (in that language).
/// An unknown code keeps the current language and lists the available ones.
pub fn answer_lang(code: Option<&str>, current: Lang, mode: Mode) -> (Lang, String) {
    match code {
        None => {
            let c = Ctx { lang: current, mode };
            (current, c.t("lang-current", &[("list", c.text(&Lang::list()))]))
        }
        Some(code) => match Lang::parse(code) {
            Some(lang) => (lang, Ctx { lang, mode }.t("lang-set", &[])),
            None => {
                let c = Ctx { lang: current, mode };
                (current, c.t("lang-unknown", &[("code", c.text(code)), ("list", c.text(&Lang::list()))]))
            }
        },
    }
}

/// Fixed texts of the confirmation flow. Button labels are never parsed as HTML by Telegram,
/// so ask for them in [`Mode::Plain`].
pub fn ui(text: UiText, lang: Lang, mode: Mode) -> String {
    let key = match text {
        UiText::ButtonConfirm => "button-confirm",
        UiText::ButtonCancel => "button-cancel",
        UiText::ConfirmExpired => "confirm-expired",
        UiText::ConfirmNotYours => "confirm-not-yours",
        UiText::ConfirmCancelled => "confirm-cancelled",
    };
    Ctx { lang, mode }.t(key, &[])
}

mod performance;
mod stops_warnings;

#[cfg(test)]
mod tests;
