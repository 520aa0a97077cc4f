//! Rendering of `/stop` (moving a stop) and of the portfolio warnings.

use super::{Ctx, with_icon};
use crate::engine::{MoveFailure, Notice, PortfolioNotice, Refusal, StopPlan};
use crate::i18n::{Arg, fmt_money};

/// Lines of the notices this module owns; `false` for any other notice.
pub(super) fn render(c: &Ctx, notice: &Notice, lines: &mut Vec<String>) -> bool {
    match notice {
        Notice::MoveStopPreview(plan) => preview(c, plan, lines),
        Notice::StopMoved { symbol, qty, old_stop, stop_price, limit_price } => {
            let args = [
                ("base", c.base(symbol)),
                ("qty", c.qty(*qty)),
                ("old", c.price(*old_stop)),
                ("stop", c.price(*stop_price)),
                ("limit", c.price(*limit_price)),
                ("quote", c.quote(symbol)),
            ];
            lines.push(with_icon("🛡", c.t("stop-moved", &args)));
        }
        Notice::StopMoveFailed { symbol, old_stop, outcome, reason } => {
            let (icon, key) = match outcome {
                MoveFailure::OldStands => ("⚠️", "stop-move-failed-kept"),
                MoveFailure::Restoring => ("⚠️", "stop-move-failed-restoring"),
                MoveFailure::OldGone => ("❔", "stop-move-failed-gone"),
            };
            let args = [("base", c.base(symbol)), ("old", c.price(*old_stop)), ("quote", c.quote(symbol))];
            lines.push(with_icon(icon, c.t(key, &args)));
            c.reason_line(lines, reason);
        }
        Notice::StopRestored { symbol, qty, stop_price, limit_price } => {
            let args = [
                ("base", c.base(symbol)),
                ("qty", c.qty(*qty)),
                ("stop", c.price(*stop_price)),
                ("limit", c.price(*limit_price)),
                ("quote", c.quote(symbol)),
            ];
            lines.push(with_icon("🛡", c.t("stop-restored", &args)));
        }
        Notice::Portfolio(p) => portfolio(c, p, lines),
        _ => return false,
    }
    true
}

fn preview(c: &Ctx, plan: &StopPlan, lines: &mut Vec<String>) {
    let quote = || c.quote(&plan.symbol);
    lines.push(with_icon("📝", c.bold_line(c.t("stop-preview-title", &[("base", c.asset(&plan.symbol))]))));
    let args = [("old", c.price(plan.old_stop)), ("stop", c.price(plan.stop_price)), ("quote", quote())];
    lines.push(c.t("stop-preview-move", &args));
    let args = [
        ("qty", c.qty(plan.qty)),
        ("base", c.asset(&plan.symbol)),
        ("limit", c.price(plan.limit_price)),
        ("quote", quote()),
    ];
    lines.push(c.t("stop-preview-sell", &args));
    lines.push(c.t("stop-preview-price", &[("price", c.price(plan.price)), ("quote", quote())]));
    lines.push(c.t("stop-preview-pnl", &[("pnl", c.pnl(plan.pnl_at_stop)), ("quote", quote())]));
}

fn portfolio(c: &Ctx, p: &PortfolioNotice, lines: &mut Vec<String>) {
    match p {
        PortfolioNotice::BnbLow { free, value, min, quote } => {
            let args =
                [("free", c.qty(*free)), ("value", c.money(*value)), ("min", c.money(*min)), ("quote", c.text(quote))];
            lines.push(with_icon("⛽", c.t("warning-bnb-low", &args)));
        }
        PortfolioNotice::BnbOk { free, value, quote } => {
            let args = [("free", c.qty(*free)), ("value", c.money(*value)), ("quote", c.text(quote))];
            lines.push(with_icon("✅", c.t("warning-bnb-ok", &args)));
        }
        PortfolioNotice::Unexplained { assets, min, quote } => {
            let args = [("min", c.money(*min)), ("quote", c.text(quote)), ("count", Arg::from(assets.len() as u32))];
            lines.push(with_icon("⚠️", c.t("warning-unexplained", &args)));
            for a in assets {
                let args = [
                    ("asset", c.bold(&a.asset)),
                    ("qty", c.qty(a.qty)),
                    ("value", Arg::from(fmt_money(c.lang, a.value))),
                    ("quote", c.text(quote)),
                ];
                lines.push(c.t("warning-unexplained-line", &args));
            }
        }
        PortfolioNotice::UnexplainedCleared => lines.push(with_icon("✅", c.t("warning-unexplained-cleared", &[]))),
    }
}

/// The sentence of the refusals this module owns; `None` for any other.
pub(super) fn refusal(c: &Ctx, r: &Refusal) -> Option<String> {
    Some(match r {
        Refusal::StopNotBelowPrice { symbol, stop, price } => c.t(
            "refusal-stop-not-below-price",
            &[
                ("stop", c.price(*stop)),
                ("price", c.price(*price)),
                ("base", c.asset(symbol)),
                ("quote", c.quote(symbol)),
            ],
        ),
        Refusal::NoStopToMove { symbol } => c.t("refusal-no-stop-to-move", &[("base", c.asset(symbol))]),
        _ => return None,
    })
}
