//! The periodic performance report (issue 6), kept apart from the other notices.

use super::{Ctx, with_icon};
use crate::engine::PerformanceReport;
use crate::i18n::Arg;

/// `YYYY-MM-DD HH:MM UTC`: reports come every few hours, so the date alone is not enough.
pub(super) fn date_time(t: crate::domain::Timestamp) -> String {
    match chrono::DateTime::from_timestamp_millis(t.millis()) {
        Some(d) => d.format("%Y-%m-%d %H:%M UTC").to_string(),
        None => t.date(),
    }
}

pub(super) fn performance(c: &Ctx, r: &PerformanceReport, lines: &mut Vec<String>) {
    let quote = || c.text(&r.quote);
    if r.positions.is_empty() {
        lines.push(with_icon("📊", c.bold_line(c.t("performance-title-none", &[]))));
    } else {
        let count = Arg::from(r.positions.len());
        lines.push(with_icon("📊", c.bold_line(c.t("performance-title", &[("count", count)]))));
    }
    for p in &r.positions {
        let line = match (p.price, p.change_pct, p.pnl) {
            (Some(price), Some(pct), Some(pnl)) => c.t(
                "performance-line",
                &[
                    ("base", c.base(&p.symbol)),
                    ("pct", c.pct(pct)),
                    ("entry", c.price(p.avg_entry)),
                    ("price", c.price(price)),
                    ("pnl", c.pnl(pnl)),
                    ("quote", quote()),
                ],
            ),
            _ => c.t(
                "position-line-no-price",
                &[("base", c.base(&p.symbol)), ("qty", c.qty(p.qty)), ("entry", c.price(p.avg_entry))],
            ),
        };
        lines.push(line);
        let stop = match (p.stop_price, p.stop_distance_pct) {
            (Some(stop), Some(distance)) => c.t(
                "performance-stop",
                &[("stop", c.price(stop)), ("distance", Arg::from(crate::i18n::fmt_pct(c.lang, distance, false)))],
            ),
            (Some(stop), None) => c.t("performance-stop-no-price", &[("stop", c.price(stop))]),
            (None, _) => with_icon("⚠️", c.t("performance-no-stop", &[])),
        };
        lines.push(format!("    {stop}"));
    }
    if !r.positions.is_empty() {
        lines.push(c.t("performance-unrealized", &[("pnl", c.pnl(r.unrealized)), ("quote", quote())]));
    }
    let args = [
        ("value", c.money(r.portfolio)),
        ("quote", quote()),
        ("change", c.pnl(r.change())),
        ("pct", c.pct(r.change_pct())),
        ("since", Arg::from(date_time(r.previous_at))),
    ];
    lines.push(c.t("performance-portfolio", &args));
}
