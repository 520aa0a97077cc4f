//! Equity-curve charts rendered to PNG, for the bot to send as a photo.
//!
//! Rendering happens entirely in memory: plotters draws into an RGB buffer and the `image` crate
//! encodes it as PNG, so nothing touches the disk. All text uses DejaVu Sans, embedded in the
//! binary (`assets/DejaVuSans.ttf`, licence in `assets/DejaVuSans-LICENSE.txt`) and registered
//! with plotters' `ab_glyph` text backend: the bot needs no system fonts and no fontconfig at run
//! time, so it runs on a minimal image and draws the same text everywhere.
//!
//! Money is never computed in `f64` here. Equity values are converted to `f64` only to place
//! pixels and to print axis labels, where an error in the 16th significant digit is invisible.
//! Marks placed on the curve ([`trade_marks`]) are interpolated in [`Decimal`].
//!
//! Degenerate input never panics: no points draws an empty frame saying "no trades yet", one
//! point draws a dot, a flat curve gets a padded value axis, and timestamps are clamped to years
//! 1970..=9999 so the time axis stays printable.

use std::sync::OnceLock;

use chrono::{DateTime, Datelike, NaiveDate};
use image::ImageEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::domain::{ClosedTrade, Timestamp};
use crate::report::{EquityPoint, is_win};

/// The smallest chart accepted: below this the axis labels leave no room for the plot.
pub const MIN_WIDTH: u32 = 240;
pub const MIN_HEIGHT: u32 = 160;
/// The largest side accepted: 4096² RGB is 48 MiB of buffer, and Telegram shrinks photos far
/// below that anyway.
pub const MAX_SIDE: u32 = 4096;

/// The family name the embedded font is registered under (private, so it cannot clash with a
/// name another part of the program registers).
const FONT: &str = "bert-embedded-dejavu-sans";
static FONT_TTF: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// 9999-12-31T23:59:59.999Z: later instants would need 5-digit years on the axis.
const LATEST_MS: i64 = 253_402_300_799_999;
const DAY_MS: i64 = Timestamp::MS_PER_DAY;

const TEXT: RGBColor = RGBColor(40, 40, 40);
const AXIS: RGBColor = RGBColor(120, 120, 120);
const GRID: RGBColor = RGBColor(228, 228, 228);
/// The equity line. Public so a caller (or a test) can recognise it in the image.
pub const LINE: RGBColor = RGBColor(31, 100, 170);
const BASELINE: RGBColor = RGBColor(150, 150, 150);
/// Entry triangles.
pub const ENTRY: RGBColor = RGBColor(235, 140, 0);
/// Dots for exits with a profit.
pub const WIN: RGBColor = RGBColor(20, 150, 60);
/// Dots for exits without one.
pub const LOSS: RGBColor = RGBColor(210, 40, 40);

/// What a marker on the curve stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MarkKind {
    /// A position was opened (an upward triangle).
    Entry,
    /// A position was closed with `pnl > 0` (a green dot).
    ExitWin,
    /// A position was closed with `pnl <= 0` (a red dot).
    ExitLoss,
}

/// A marker drawn at `(time, equity)`, normally on the curve (see [`trade_marks`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeMark {
    pub time: Timestamp,
    pub equity: Decimal,
    pub kind: MarkKind,
}

/// Why no chart could be produced.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChartError {
    #[error(
        "chart size {width}x{height} is outside {min_w}x{min_h} to {max}x{max}",
        min_w = MIN_WIDTH,
        min_h = MIN_HEIGHT,
        max = MAX_SIDE
    )]
    BadSize { width: u32, height: u32 },
    /// The embedded font was rejected by the font parser (a build problem, not an input one).
    #[error("the embedded chart font could not be loaded")]
    Font,
    #[error("drawing the chart failed: {0}")]
    Draw(String),
    #[error("encoding the chart as PNG failed: {0}")]
    Encode(String),
}

/// Renders `points` as an equity line over time, with `marks` on top, as a `width`×`height` PNG.
///
/// Points and marks may come in any order (they are sorted by time). The value axis spans the
/// points and the marks with some padding; the time axis is labelled with months (`YYYY-MM`),
/// days (`YYYY-MM-DD`) or hours, whichever fits the span. A dashed grey line shows the first
/// point's value, so gains and losses since the start read at a glance. With no points and no
/// marks the image is an empty frame with the note "no trades yet", not an error: the bot can
/// answer `/chart` the same way before the first trade.
///
/// Legend and note texts are English. Rendering is CPU-bound (about 20 ms for 1000 points at
/// 1000×500 in a release build), so async callers should run it on a blocking thread.
pub fn equity_png(
    title: &str,
    points: &[EquityPoint],
    marks: &[TradeMark],
    width: u32,
    height: u32,
) -> Result<Vec<u8>, ChartError> {
    let rendered = render(title, points, marks, width, height)?;
    encode_png(&rendered.rgb, width, height)
}

/// One mark per trade entry and one per exit, placed on `curve` as [`equity_png`] draws it.
///
/// The height of a mark is the curve's value at that instant, interpolated linearly between the
/// neighbouring points exactly like the drawn line (in `Decimal`), so marks sit on the line even
/// when the curve is sampled coarsely; before the first or after the last point the end value is
/// used. An exit is a win when its P&L is positive ([`crate::report::is_win`]). Returns nothing
/// for an empty curve, since there is no line to put marks on.
pub fn trade_marks(trades: &[ClosedTrade], curve: &[EquityPoint]) -> Vec<TradeMark> {
    let mut sorted = curve.to_vec();
    sorted.sort_by_key(|p| p.time);
    let mut marks = Vec::with_capacity(trades.len() * 2);
    for t in trades {
        if let Some(equity) = equity_at(&sorted, t.opened_at) {
            marks.push(TradeMark { time: t.opened_at, equity, kind: MarkKind::Entry });
        }
        if let Some(equity) = equity_at(&sorted, t.closed_at) {
            let kind = if is_win(t) { MarkKind::ExitWin } else { MarkKind::ExitLoss };
            marks.push(TradeMark { time: t.closed_at, equity, kind });
        }
    }
    marks
}

/// The value of the time-sorted polyline `curve` at `time`.
fn equity_at(curve: &[EquityPoint], time: Timestamp) -> Option<Decimal> {
    let first = curve.first()?;
    let last = curve.last()?;
    if time <= first.time {
        return Some(first.equity);
    }
    if time >= last.time {
        return Some(last.equity);
    }
    // first.time < time < last.time, so 1 <= i < len: both neighbours exist.
    let i = curve.partition_point(|p| p.time <= time);
    let a = curve.get(i.checked_sub(1)?)?;
    let b = curve.get(i)?;
    let frac = Decimal::from(time.since(a.time)).checked_div(Decimal::from(b.time.since(a.time)))?;
    let value = b
        .equity
        .checked_sub(a.equity)
        .and_then(|rise| rise.checked_mul(frac))
        .and_then(|step| a.equity.checked_add(step));
    // Only values near Decimal's limits (~7.9e28) can overflow; the left neighbour is then the
    // best available height.
    Some(value.unwrap_or(a.equity))
}

/// Registers the embedded font with plotters once per process.
fn ensure_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| register_font(FONT, FontStyle::Normal, FONT_TTF).is_ok());
    if ok { Ok(()) } else { Err(ChartError::Font) }
}

/// Decimal → f64 for pixel placement only. Every `Decimal` (at most ~7.9e28 in magnitude) fits
/// in an `f64`, so the conversion cannot fail; 0 is a harmless fallback if it ever did.
fn to_px(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// Keeps times where the axis labels stay 4-digit years (and where chrono can format them).
fn clamp_time(t: Timestamp) -> i64 {
    t.0.clamp(0, LATEST_MS)
}

/// The spacing of the time-axis ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimeStep {
    Hours(i64),
    Days(i64),
    Months(i64),
}

/// Candidate spacings, finest first; the finest one whose ticks fit is used.
const TIME_STEPS: [TimeStep; 19] = [
    TimeStep::Hours(1),
    TimeStep::Hours(2),
    TimeStep::Hours(3),
    TimeStep::Hours(6),
    TimeStep::Hours(12),
    TimeStep::Days(1),
    TimeStep::Days(2),
    TimeStep::Days(7),
    TimeStep::Days(14),
    TimeStep::Months(1),
    TimeStep::Months(2),
    TimeStep::Months(3),
    TimeStep::Months(6),
    TimeStep::Months(12),
    TimeStep::Months(24),
    TimeStep::Months(60),
    TimeStep::Months(120),
    TimeStep::Months(600),
    TimeStep::Months(1200),
];

impl TimeStep {
    /// Tick instants in `lo..=hi`, aligned to the step (midnight UTC, the 1st of a month, a
    /// multiple of the step since the epoch), stopping after `limit` ticks.
    fn ticks(self, lo: i64, hi: i64, limit: usize) -> Vec<i64> {
        let mut out = Vec::new();
        match self {
            TimeStep::Hours(n) | TimeStep::Days(n) => {
                let unit = if matches!(self, TimeStep::Hours(_)) { Timestamp::MS_PER_HOUR } else { DAY_MS };
                let step = n * unit;
                let mut t = lo.div_euclid(step) * step;
                if t < lo {
                    t += step;
                }
                while t <= hi && out.len() < limit {
                    out.push(t);
                    t += step;
                }
            }
            TimeStep::Months(n) => {
                let Some(start) = DateTime::from_timestamp_millis(lo) else {
                    return out;
                };
                // Months since year 0, rounded up to a multiple of n: the first tick at or after lo.
                let mut index = i64::from(start.year()) * 12 + i64::from(start.month0());
                index = (index + n - 1).div_euclid(n) * n;
                while out.len() < limit {
                    let Some(t) = month_start_ms(index) else { break };
                    if t > hi {
                        break;
                    }
                    if t >= lo {
                        out.push(t);
                    }
                    index += n;
                }
            }
        }
        out
    }

    fn label(self, ms: i64) -> String {
        let format = match self {
            TimeStep::Hours(_) => "%m-%d %H:%M",
            TimeStep::Days(_) => "%Y-%m-%d",
            TimeStep::Months(_) => "%Y-%m",
        };
        match DateTime::from_timestamp_millis(ms) {
            Some(t) => t.format(format).to_string(),
            None => String::new(),
        }
    }
}

/// Milliseconds of 00:00 UTC on the 1st of the month `index` (= year × 12 + month − 1).
fn month_start_ms(index: i64) -> Option<i64> {
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
    let date = NaiveDate::from_ymd_opt(year, month, 1)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// The finest tick spacing that puts at most `max` ticks in `lo..=hi`.
fn time_ticks(lo: i64, hi: i64, max: usize) -> (Vec<i64>, TimeStep) {
    let max = max.max(2);
    for step in TIME_STEPS {
        let ticks = step.ticks(lo, hi, max + 1);
        if ticks.len() <= max {
            return (ticks, step);
        }
    }
    // Only reachable for spans of more than ~100 centuries, which clamping rules out; still,
    // the coarsest step with its ticks cut to `max` is a fine answer.
    let step = TimeStep::Months(1200);
    (step.ticks(lo, hi, max), step)
}

/// How value-axis labels are printed: fixed decimals with thousands separators, or scientific
/// notation for magnitudes where the digits would not fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueFormat {
    Fixed { decimals: usize },
    Scientific { decimals: usize },
}

impl ValueFormat {
    fn label(self, v: f64) -> String {
        match self {
            ValueFormat::Scientific { decimals } => format!("{v:.decimals$e}"),
            ValueFormat::Fixed { decimals } => {
                let digits = format!("{:.decimals$}", v.abs());
                let (int, frac) = match digits.split_once('.') {
                    Some((i, f)) => (i, Some(f)),
                    None => (digits.as_str(), None),
                };
                let mut out = String::with_capacity(digits.len() + int.len() / 3 + 1);
                // No "-0.00": a value that rounds to zero prints without a sign.
                if v < 0.0 && digits.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
                    out.push('-');
                }
                for (i, c) in int.chars().enumerate() {
                    if i > 0 && (int.len() - i) % 3 == 0 {
                        out.push(',');
                    }
                    out.push(c);
                }
                if let Some(frac) = frac {
                    out.push('.');
                    out.push_str(frac);
                }
                out
            }
        }
    }
}

/// "Nice" value ticks (1, 2 or 5 × 10^k apart), at most `max` of them, and how to print them.
fn value_ticks(lo: f64, hi: f64, max: usize) -> (Vec<f64>, ValueFormat) {
    let max = max.max(2);
    let span = hi - lo;
    let start = (span / max as f64).log10().floor() as i32;
    // Each round multiplies the step by 10 and starts from at most ~max ticks' worth of span,
    // so the second round fits at the latest; the bound only guards against a non-finite span.
    let fit = (start..start.saturating_add(8)).find_map(|exp| {
        let base = 10f64.powi(exp);
        [1.0, 2.0, 5.0].into_iter().map(|m| m * base).find_map(|step| {
            let first = (lo / step).ceil();
            let last = (hi / step).floor();
            (step > 0.0 && last - first + 1.0 <= max as f64).then_some((step, first, last))
        })
    });
    let Some((step, first, last)) = fit else {
        return (Vec::new(), ValueFormat::Fixed { decimals: 2 });
    };
    // first..=last has at most `max` entries (checked above), so this loop is short.
    let ticks: Vec<f64> = (0..=((last - first).max(-1.0) as i64)).map(|i| (first + i as f64) * step).collect();
    let magnitude = lo.abs().max(hi.abs());
    let format = if magnitude >= 1e12 {
        // Enough significant digits that neighbouring ticks differ.
        let digits = (magnitude / step).log10().ceil().clamp(1.0, 12.0) as usize;
        ValueFormat::Scientific { decimals: digits }
    } else {
        ValueFormat::Fixed { decimals: (-(step.log10().floor() as i32)).clamp(0, 12) as usize }
    };
    (ticks, format)
}

/// The value axis: a linear `f64` range whose grid lines and labels sit exactly at our own
/// ticks. (plotters' `with_key_points` cannot be used on an `f64` range with a custom label
/// formatter in 0.3, so this small coordinate type does the same job.)
struct ValueAxis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for ValueAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        let frac = if span > 0.0 { (value - self.lo) / span } else { 0.5 };
        // `as` saturates, so even a wild value lands on some pixel instead of wrapping.
        (f64::from(limit.0) + frac * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// Everything the renderer needs, computed without touching plotters (so it can be tested).
#[derive(Debug)]
struct Plan {
    /// The equity line, sorted by time, in chart coordinates (ms, value).
    line: Vec<(i64, f64)>,
    marks: Vec<(i64, f64, MarkKind)>,
    x_range: (i64, i64),
    x_ticks: Vec<i64>,
    x_step: TimeStep,
    y_range: (f64, f64),
    y_ticks: Vec<f64>,
    y_format: ValueFormat,
    /// The first point's value, drawn as a dashed reference line.
    baseline: Option<f64>,
}

/// Lays the chart out, or returns `None` when there is nothing to draw.
fn plan(points: &[EquityPoint], marks: &[TradeMark], width: u32, height: u32) -> Option<Plan> {
    let mut sorted: Vec<&EquityPoint> = points.iter().collect();
    sorted.sort_by_key(|p| p.time);
    let line: Vec<(i64, f64)> = sorted.iter().map(|p| (clamp_time(p.time), to_px(p.equity))).collect();
    let mut marks: Vec<(i64, f64, MarkKind)> =
        marks.iter().map(|m| (clamp_time(m.time), to_px(m.equity), m.kind)).collect();
    marks.sort_by_key(|m| m.0);

    let xs = line.iter().map(|p| p.0).chain(marks.iter().map(|m| m.0));
    let x_lo = xs.clone().min()?;
    let x_hi = xs.max()?;
    let ys = line.iter().map(|p| p.1).chain(marks.iter().map(|m| m.1));
    let y_lo = ys.clone().fold(f64::INFINITY, f64::min);
    let y_hi = ys.fold(f64::NEG_INFINITY, f64::max);

    // At least a day of time axis, so a single point or a burst of trades in one minute still
    // gets a readable axis; then 2 % on each side so end markers are not cut in half.
    let (mut x_lo, mut x_hi) = (x_lo, x_hi);
    if x_hi - x_lo < DAY_MS {
        let mid = x_lo + (x_hi - x_lo) / 2;
        x_lo = mid - DAY_MS / 2;
        x_hi = x_lo + DAY_MS;
    }
    let pad = (x_hi - x_lo) / 50;
    let x_range = (x_lo - pad, x_hi + pad);

    // A flat (or numerically flat) curve gets ±5 % of its level, or ±1 around zero; otherwise
    // 8 % of the span on each side.
    let span = y_hi - y_lo;
    let magnitude = y_lo.abs().max(y_hi.abs());
    let y_range = if span <= magnitude * 1e-6 || span < 1e-9 {
        let mid = y_lo + span / 2.0;
        let pad = if magnitude * 0.05 > 1e-9 { magnitude * 0.05 } else { 1.0 };
        (mid - pad, mid + pad)
    } else {
        (y_lo - span * 0.08, y_hi + span * 0.08)
    };

    let max_x_labels = (width.saturating_sub(140) / 120).max(2) as usize;
    let max_y_labels = (height.saturating_sub(110) / 45).clamp(3, 12) as usize;
    let (x_ticks, x_step) = time_ticks(x_range.0, x_range.1, max_x_labels);
    let (y_ticks, y_format) = value_ticks(y_range.0, y_range.1, max_y_labels);
    let baseline = if line.len() >= 2 { line.first().map(|p| p.1) } else { None };

    Some(Plan { line, marks, x_range, x_ticks, x_step, y_range, y_ticks, y_format, baseline })
}

/// Font sizes and spacing scaled to the image, so small and large charts both read well.
struct Sizes {
    text: u32,
    title: u32,
    margin: u32,
    mark: u32,
}

impl Sizes {
    fn for_image(width: u32, height: u32) -> Sizes {
        let base = (width.min(height.saturating_mul(2)) as f64 / 1000.0 * 15.0).clamp(11.0, 26.0);
        Sizes {
            text: base.round() as u32,
            title: (base * 1.45).round() as u32,
            margin: (base * 0.9).round() as u32,
            mark: (base * 0.4).round().max(3.0) as u32,
        }
    }
}

/// The raw result of drawing, kept apart from PNG encoding so tests can inspect pixels.
/// The pixel positions are only read by tests; computing them costs microseconds.
#[cfg_attr(not(test), allow(dead_code))]
struct Rendered {
    /// `width × height × 3` bytes, row-major RGB.
    rgb: Vec<u8>,
    /// Pixel positions of the line's vertices, in drawing order (one per point).
    line_px: Vec<(i32, i32)>,
    /// Pixel positions of the marks, in time order.
    marks_px: Vec<(i32, i32, MarkKind)>,
}

fn draw_err<E: std::fmt::Display>(e: E) -> ChartError {
    ChartError::Draw(e.to_string())
}

fn render(
    title: &str,
    points: &[EquityPoint],
    marks: &[TradeMark],
    width: u32,
    height: u32,
) -> Result<Rendered, ChartError> {
    if !(MIN_WIDTH..=MAX_SIDE).contains(&width) || !(MIN_HEIGHT..=MAX_SIDE).contains(&height) {
        return Err(ChartError::BadSize { width, height });
    }
    ensure_font()?;
    let sizes = Sizes::for_image(width, height);
    // Both sides are at most MAX_SIDE, so this is at most 48 MiB and cannot overflow.
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    let (line_px, marks_px) = {
        let backend: BitMapBackend<'_> =
            BitMapBackend::with_buffer_and_format(&mut rgb, (width, height)).map_err(draw_err)?;
        let root = backend.into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let drawn = match plan(points, marks, width, height) {
            Some(plan) => draw_plan(&root, title, &plan, &sizes)?,
            None => {
                draw_empty(&root, title, &sizes)?;
                (Vec::new(), Vec::new())
            }
        };
        root.present().map_err(draw_err)?;
        drawn
    };
    Ok(Rendered { rgb, line_px, marks_px })
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn text_style(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&TEXT)
}

fn draw_empty(root: &Area<'_>, title: &str, sizes: &Sizes) -> Result<(), ChartError> {
    let m = sizes.margin;
    let body = root.margin(m, 0, 0, 0).titled(title, text_style(sizes.title)).map_err(draw_err)?;
    let (w, h) = body.dim_in_pixel();
    let m = sizes.margin as i32;
    body.draw(&Rectangle::new([(m, m / 2), (w as i32 - m, h as i32 - m)], AXIS.stroke_width(1))).map_err(draw_err)?;
    let note = text_style(sizes.text * 3 / 2).pos(Pos::new(HPos::Center, VPos::Center));
    body.draw(&Text::new("no trades yet", (w as i32 / 2, h as i32 / 2), note)).map_err(draw_err)?;
    Ok(())
}

/// Pixel positions of the line's vertices and of the marks, as drawn.
type Drawn = (Vec<(i32, i32)>, Vec<(i32, i32, MarkKind)>);

fn draw_plan(root: &Area<'_>, title: &str, plan: &Plan, sizes: &Sizes) -> Result<Drawn, ChartError> {
    let label_style = text_style(sizes.text);
    let y_labels: Vec<String> = plan.y_ticks.iter().map(|v| plan.y_format.label(*v)).collect();
    let widest = y_labels
        .iter()
        .filter_map(|s| root.estimate_text_size(s, &label_style).ok())
        .map(|(w, _)| w)
        .max()
        .unwrap_or(0);
    let (width, _) = root.dim_in_pixel();
    let y_area = (widest + sizes.text).min(width / 3);

    let mut chart = ChartBuilder::on(root)
        .margin(sizes.margin)
        .margin_right(sizes.margin * 2)
        .caption(title, text_style(sizes.title))
        .x_label_area_size(sizes.text * 2)
        .y_label_area_size(y_area)
        .build_cartesian_2d(
            (plan.x_range.0..plan.x_range.1).with_key_points(plan.x_ticks.clone()),
            ValueAxis { lo: plan.y_range.0, hi: plan.y_range.1, ticks: plan.y_ticks.clone() },
        )
        .map_err(draw_err)?;

    let x_label = |ms: &i64| plan.x_step.label(*ms);
    let y_label = |v: &f64| plan.y_format.label(*v);
    chart
        .configure_mesh()
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style(label_style.clone())
        .axis_style(AXIS)
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(draw_err)?;

    let bottom = plan.y_range.0;
    if plan.line.len() >= 2 {
        // A light fill under the line makes rises and falls readable even in a thumbnail.
        let mut area: Vec<(i64, f64)> = Vec::with_capacity(plan.line.len() + 2);
        area.extend(plan.line.first().map(|p| (p.0, bottom)));
        area.extend(plan.line.iter().copied());
        area.extend(plan.line.last().map(|p| (p.0, bottom)));
        chart.draw_series(std::iter::once(Polygon::new(area, LINE.mix(0.12).filled()))).map_err(draw_err)?;
    }
    if let Some(base) = plan.baseline {
        let ends = [(plan.x_range.0, base), (plan.x_range.1, base)];
        chart.draw_series(DashedLineSeries::new(ends, 6, 5, BASELINE.stroke_width(1))).map_err(draw_err)?;
    }
    chart
        .draw_series(LineSeries::new(plan.line.iter().copied(), LINE.stroke_width(2)))
        .map_err(draw_err)?
        .label("equity")
        .legend(|(x, y)| PathElement::new(vec![(x - 8, y), (x + 8, y)], LINE.stroke_width(2)));
    if let [only] = plan.line.as_slice() {
        // A single point has no segment to draw, so it becomes a dot.
        chart.draw_series(std::iter::once(Circle::new(*only, sizes.mark, LINE.filled()))).map_err(draw_err)?;
    }

    let r = sizes.mark as i32;
    let of_kind = |kind: MarkKind| plan.marks.iter().filter(move |m| m.2 == kind).map(|m| (m.0, m.1));
    if plan.marks.iter().any(|m| m.2 == MarkKind::Entry) {
        chart
            .draw_series(of_kind(MarkKind::Entry).map(|c| {
                EmptyElement::at(c)
                    + TriangleMarker::new((0, 0), r + 3, WHITE.filled())
                    + TriangleMarker::new((0, 0), r + 1, ENTRY.filled())
            }))
            .map_err(draw_err)?
            .label("entry")
            .legend(move |(x, y)| TriangleMarker::new((x, y), r + 1, ENTRY.filled()));
    }
    for (kind, colour, name) in [(MarkKind::ExitWin, WIN, "exit, profit"), (MarkKind::ExitLoss, LOSS, "exit, loss")] {
        if plan.marks.iter().any(|m| m.2 == kind) {
            chart
                .draw_series(of_kind(kind).map(|c| {
                    EmptyElement::at(c)
                        + Circle::new((0, 0), r + 2, WHITE.filled())
                        + Circle::new((0, 0), r, colour.filled())
                }))
                .map_err(draw_err)?
                .label(name)
                .legend(move |(x, y)| Circle::new((x, y), r, colour.filled()));
        }
    }
    if plan.marks.is_empty() {
        // A legend naming only the line would explain nothing.
        return Ok(pixels(&chart, plan));
    }
    chart
        .configure_series_labels()
        .position(legend_corner(plan))
        .margin(sizes.margin)
        .background_style(WHITE.mix(0.85))
        .border_style(GRID)
        .label_font(label_style)
        .draw()
        .map_err(draw_err)?;

    Ok(pixels(&chart, plan))
}

/// Where the line's vertices and the marks landed in the image.
fn pixels<X: Ranged<ValueType = i64>, Y: Ranged<ValueType = f64>>(
    chart: &ChartContext<'_, BitMapBackend<'_>, Cartesian2d<X, Y>>,
    plan: &Plan,
) -> Drawn {
    let line_px = plan.line.iter().map(|p| chart.backend_coord(p)).collect();
    let marks_px = plan
        .marks
        .iter()
        .map(|m| {
            let (x, y) = chart.backend_coord(&(m.0, m.1));
            (x, y, m.2)
        })
        .collect();
    (line_px, marks_px)
}

/// The first plot corner (upper left, upper right, lower left, lower right) whose quarter of
/// the width and third of the height neither the line nor a mark passes through, so the legend
/// hides no data; upper left if every corner is busy.
fn legend_corner(plan: &Plan) -> SeriesLabelPosition {
    let (x_lo, x_hi) = (plan.x_range.0 as f64, plan.x_range.1 as f64);
    let (y_lo, y_hi) = plan.y_range;
    // Fractions of the plot, 0 at the left and bottom.
    let at = |x: i64, y: f64| ((x as f64 - x_lo) / (x_hi - x_lo), (y - y_lo) / (y_hi - y_lo));
    let vertices: Vec<(f64, f64)> = plan.line.iter().map(|p| at(p.0, p.1)).collect();
    let marks: Vec<(f64, f64)> = plan.marks.iter().map(|m| at(m.0, m.1)).collect();
    // Each segment, plus a lone point or a mark as a segment of zero length.
    let segments: Vec<((f64, f64), (f64, f64))> = vertices
        .windows(2)
        .map(|w| (w[0], w[1]))
        .chain(vertices.iter().take(usize::from(vertices.len() == 1)).map(|&v| (v, v)))
        .chain(marks.iter().map(|&m| (m, m)))
        .collect();
    [
        ((0.0, 0.25), (0.67, 1.0), SeriesLabelPosition::UpperLeft),
        ((0.75, 1.0), (0.67, 1.0), SeriesLabelPosition::UpperRight),
        ((0.0, 0.25), (0.0, 0.33), SeriesLabelPosition::LowerLeft),
        ((0.75, 1.0), (0.0, 0.33), SeriesLabelPosition::LowerRight),
    ]
    .into_iter()
    .find(|&(xs, ys, _)| !segments.iter().any(|&(a, b)| segment_meets_box(a, b, xs, ys)))
    .map_or(SeriesLabelPosition::UpperLeft, |(_, _, corner)| corner)
}

/// Whether the segment `a`–`b` touches the box `xs × ys` (Liang–Barsky clipping: shrink the
/// segment's parameter interval edge by edge; it meets the box if anything is left).
fn segment_meets_box(a: (f64, f64), b: (f64, f64), xs: (f64, f64), ys: (f64, f64)) -> bool {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dx, a.0 - xs.0), (dx, xs.1 - a.0), (-dy, a.1 - ys.0), (dy, ys.1 - a.1)] {
        if p == 0.0 {
            // Parallel to this edge: inside its half-plane or never.
            if q < 0.0 {
                return false;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
            if t0 > t1 {
                return false;
            }
        }
    }
    true
}

/// Encodes an RGB buffer as PNG. The fast deflate setting keeps a 1000×500 chart well under
/// the time budget; charts are mostly flat colour, so the files stay small anyway.
fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ChartError> {
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Sub)
        .write_image(rgb, width, height, image::ColorType::Rgb8)
        .map_err(|e| ChartError::Encode(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::cumulative_pnl_curve;
    use crate::report::tests::day;
    use rust_decimal_macros::dec;

    const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

    fn pt(time: Timestamp, equity: Decimal) -> EquityPoint {
        EquityPoint { time, equity }
    }

    fn pixel(r: &Rendered, width: u32, (x, y): (i32, i32)) -> RGBColor {
        let i = (y as usize * width as usize + x as usize) * 3;
        RGBColor(r.rgb[i], r.rgb[i + 1], r.rgb[i + 2])
    }

    fn decode(png: &[u8]) -> image::RgbImage {
        assert_eq!(png[..8], PNG_SIGNATURE);
        image::load_from_memory_with_format(png, image::ImageFormat::Png).unwrap().to_rgb8()
    }

    /// A deterministic wobbly curve: `n` daily points from 2023-10-01, no floats involved.
    fn wobbly(n: usize) -> Vec<EquityPoint> {
        let start = day(2023, 10, 1);
        let mut equity = dec!(1000);
        let mut state: u64 = 42;
        (0..n)
            .map(|i| {
                // A random walk in whole cents, from a fixed linear congruential sequence.
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let cents = ((state >> 33) % 4001) as i64 - 1950;
                equity += Decimal::new(cents, 2);
                pt(start.plus_millis(i as i64 * DAY_MS), equity)
            })
            .collect()
    }

    fn trade(id: u64, opened: Timestamp, closed: Timestamp, pnl: Decimal) -> ClosedTrade {
        crate::report::tests::trade(id, "BTC", opened, closed, pnl, dec!(0.1))
    }

    /// Trades over five months across a year boundary, with their cumulative curve from 1000.
    fn sample_trades() -> Vec<ClosedTrade> {
        let pnls = [
            dec!(42.5),
            dec!(-18.2),
            dec!(65),
            dec!(-30.75),
            dec!(-12),
            dec!(88.1),
            dec!(0),
            dec!(-45.3),
            dec!(120),
            dec!(-20),
            dec!(35.4),
            dec!(-60),
        ];
        pnls.iter()
            .enumerate()
            .map(|(i, pnl)| {
                let open = day(2023, 10, 2).plus_millis(i as i64 * 12 * DAY_MS);
                trade(i as u64 + 1, open, open.plus_millis(6 * DAY_MS + 3 * Timestamp::MS_PER_HOUR), *pnl)
            })
            .collect()
    }

    #[test]
    fn png_has_the_signature_and_the_asked_size() {
        let png = equity_png("Equity", &wobbly(60), &[], 800, 400).unwrap();
        let img = decode(&png);
        assert_eq!((img.width(), img.height()), (800, 400));
        let png = equity_png("Equity", &wobbly(60), &[], 333, 777).unwrap();
        let img = decode(&png);
        assert_eq!((img.width(), img.height()), (333, 777));
    }

    /// Every point becomes one vertex of the line, in time order, inside the image, whatever
    /// order the points came in.
    #[test]
    fn every_point_is_drawn_once_in_time_order() {
        let mut points = wobbly(37);
        points.reverse();
        points.swap(3, 20);
        let r = render("t", &points, &[], 900, 450).unwrap();
        assert_eq!(r.line_px.len(), 37);
        assert!(r.line_px.windows(2).all(|w| w[0].0 < w[1].0), "x must increase: {:?}", r.line_px);
        assert!(r.line_px.iter().all(|&(x, y)| (0..900).contains(&x) && (0..450).contains(&y)));
        // Higher equity is drawn higher (smaller y): compare the extremes.
        let sorted = {
            let mut p = points.clone();
            p.sort_by_key(|p| p.time);
            p
        };
        let top = sorted.iter().enumerate().max_by_key(|(_, p)| p.equity).unwrap().0;
        let low = sorted.iter().enumerate().min_by_key(|(_, p)| p.equity).unwrap().0;
        assert!(r.line_px[top].1 < r.line_px[low].1);
    }

    #[test]
    fn line_vertices_have_the_line_colour() {
        let r = render("t", &wobbly(50), &[], 1000, 500).unwrap();
        for &p in &r.line_px {
            assert_eq!(pixel(&r, 1000, p), LINE, "vertex {p:?}");
        }
    }

    #[test]
    fn marks_are_drawn_in_their_colours() {
        let trades = sample_trades();
        let curve = cumulative_pnl_curve(dec!(1000), &trades);
        let marks = trade_marks(&trades, &curve);
        let r = render("t", &curve, &marks, 1000, 500).unwrap();
        assert_eq!(r.line_px.len(), curve.len());
        assert_eq!(r.marks_px.len(), 24);
        // Exits are drawn after entries, so an exit's centre shows the exit colour. Entries may
        // be covered by an exit at the same spot, so check the ones that stand alone.
        for &(x, y, kind) in &r.marks_px {
            let colour = pixel(&r, 1000, (x, y));
            match kind {
                MarkKind::ExitWin => assert_eq!(colour, WIN),
                MarkKind::ExitLoss => assert_eq!(colour, LOSS),
                MarkKind::Entry => {
                    let alone = r
                        .marks_px
                        .iter()
                        .all(|&(ox, oy, k)| k == MarkKind::Entry || (ox - x).abs() + (oy - y).abs() > 20);
                    if alone {
                        assert_eq!(colour, ENTRY, "entry at {x},{y}");
                    }
                }
            }
        }
    }

    #[test]
    fn no_points_draws_an_empty_frame_with_a_note() {
        let r = render("Equity", &[], &[], 600, 300).unwrap();
        assert!(r.line_px.is_empty() && r.marks_px.is_empty());
        // The note is drawn: the middle band of the image is not blank.
        let inked =
            (100..200).flat_map(|y| (150..450).map(move |x| (x, y))).filter(|&p| pixel(&r, 600, p) != WHITE).count();
        assert!(inked > 200, "only {inked} non-white pixels in the middle");
        let img = decode(&equity_png("Equity", &[], &[], 600, 300).unwrap());
        assert_eq!((img.width(), img.height()), (600, 300));
    }

    #[test]
    fn one_point_is_a_dot() {
        let points = [pt(day(2024, 5, 1), dec!(1234.56))];
        let r = render("t", &points, &[], 500, 300).unwrap();
        assert_eq!(r.line_px.len(), 1);
        assert_eq!(pixel(&r, 500, r.line_px[0]), LINE);
        let p = plan(&points, &[], 500, 300).unwrap();
        assert!(p.y_range.0 < 1234.56 && 1234.56 < p.y_range.1);
        assert!(p.x_range.1 - p.x_range.0 >= DAY_MS);
        assert!(p.baseline.is_none());
        decode(&equity_png("t", &points, &[], 500, 300).unwrap());
    }

    /// A flat curve gets a padded value axis with ticks, and the line sits in the middle.
    #[test]
    fn flat_curve_is_padded() {
        let points: Vec<EquityPoint> = (1..=10).map(|d| pt(day(2024, 2, d), dec!(500))).collect();
        let p = plan(&points, &[], 800, 400).unwrap();
        assert_eq!(p.y_range, (475.0, 525.0));
        assert!(p.y_ticks.len() >= 2 && p.y_ticks.iter().all(|t| (475.0..=525.0).contains(t)));
        let r = render("t", &points, &[], 800, 400).unwrap();
        let ys: Vec<i32> = r.line_px.iter().map(|p| p.1).collect();
        assert!(ys.windows(2).all(|w| w[0] == w[1]));
        let zero: Vec<EquityPoint> = (1..=3).map(|d| pt(day(2024, 2, d), dec!(0))).collect();
        assert_eq!(plan(&zero, &[], 800, 400).unwrap().y_range, (-1.0, 1.0));
    }

    #[test]
    fn extreme_values_and_times_do_not_panic() {
        let cases: Vec<Vec<EquityPoint>> = vec![
            vec![pt(Timestamp(i64::MIN), Decimal::MIN), pt(Timestamp(i64::MAX), Decimal::MAX)],
            vec![pt(day(2024, 1, 1), Decimal::MAX), pt(day(2024, 1, 2), Decimal::MAX)],
            vec![pt(day(2024, 1, 1), dec!(-5000)), pt(day(2024, 3, 1), dec!(-12000.5))],
            vec![pt(day(2024, 1, 1), dec!(1e20)), pt(day(2024, 1, 2), dec!(1e20) + dec!(1))],
            vec![pt(day(2024, 1, 1), dec!(0.00000001)), pt(day(2024, 1, 1), dec!(0.00000002))],
            vec![pt(Timestamp(-5), dec!(1)), pt(Timestamp(0), dec!(2))],
        ];
        for points in cases {
            let marks = [TradeMark { time: Timestamp(i64::MAX), equity: Decimal::MIN, kind: MarkKind::ExitLoss }];
            let png = equity_png("extreme", &points, &marks, 640, 320).unwrap_or_else(|e| panic!("{points:?}: {e}"));
            let img = decode(&png);
            assert_eq!((img.width(), img.height()), (640, 320));
        }
    }

    /// The legend goes to the first corner the data leaves free.
    #[test]
    fn legend_avoids_the_data() {
        let at = |pairs: &[(u32, Decimal)]| -> Vec<EquityPoint> {
            pairs.iter().map(|&(d, e)| pt(day(2024, 1, d), e)).collect()
        };
        let marks = |points: &[EquityPoint]| {
            vec![TradeMark { time: points[0].time, equity: points[0].equity, kind: MarkKind::Entry }]
        };
        let rising = at(&[(1, dec!(100)), (10, dec!(150)), (20, dec!(200))]);
        let p = plan(&rising, &marks(&rising), 1000, 500).unwrap();
        assert_eq!(legend_corner(&p), SeriesLabelPosition::UpperLeft);
        let falling = at(&[(1, dec!(200)), (10, dec!(150)), (20, dec!(100))]);
        let p = plan(&falling, &marks(&falling), 1000, 500).unwrap();
        assert_eq!(legend_corner(&p), SeriesLabelPosition::UpperRight);
        let valley = at(&[(1, dec!(200)), (10, dec!(100)), (20, dec!(200))]);
        let p = plan(&valley, &marks(&valley), 1000, 500).unwrap();
        assert_eq!(legend_corner(&p), SeriesLabelPosition::LowerLeft);
        // No vertex in the upper left, but the first segment runs through it.
        let steep = at(&[(1, dec!(150)), (11, dec!(200)), (20, dec!(100))]);
        let p = plan(&steep, &[], 1000, 500).unwrap();
        assert_ne!(legend_corner(&p), SeriesLabelPosition::UpperLeft);
    }

    #[test]
    fn segments_meet_boxes() {
        let unit = ((0.0, 1.0), (0.0, 1.0));
        assert!(segment_meets_box((-1.0, 0.5), (2.0, 0.5), unit.0, unit.1));
        assert!(segment_meets_box((0.5, 0.5), (0.5, 0.5), unit.0, unit.1));
        assert!(segment_meets_box((-0.5, 0.5), (0.5, 1.5), unit.0, unit.1));
        assert!(!segment_meets_box((-0.5, 0.6), (0.4, 1.5), unit.0, unit.1));
        assert!(!segment_meets_box((2.0, 2.0), (2.0, 2.0), unit.0, unit.1));
        assert!(!segment_meets_box((1.5, -1.0), (1.5, 2.0), unit.0, unit.1));
    }

    #[test]
    fn sizes_out_of_bounds_are_refused() {
        let p = wobbly(3);
        for (w, h) in [(0, 0), (MIN_WIDTH - 1, 300), (600, MIN_HEIGHT - 1), (MAX_SIDE + 1, 300), (600, u32::MAX)] {
            assert_eq!(equity_png("t", &p, &[], w, h), Err(ChartError::BadSize { width: w, height: h }));
        }
        assert!(equity_png("t", &p, &[], MIN_WIDTH, MIN_HEIGHT).is_ok());
    }

    /// Marks sit on the drawn line: exits exactly on the cumulative curve's steps, entries
    /// interpolated between the neighbouring points.
    #[test]
    fn trade_marks_follow_the_curve() {
        let trades = [
            trade(1, day(2024, 1, 1), day(2024, 1, 11), dec!(10)),
            trade(2, day(2024, 1, 16), day(2024, 1, 21), dec!(-4)),
            trade(3, day(2024, 1, 21), day(2024, 1, 22), dec!(0)),
        ];
        // Curve: 2024-01-01 100, 01-11 110, 01-21 106, 01-22 106.
        let curve = cumulative_pnl_curve(dec!(100), &trades);
        let marks = trade_marks(&trades, &curve);
        let got: Vec<(Timestamp, Decimal, MarkKind)> = marks.iter().map(|m| (m.time, m.equity, m.kind)).collect();
        assert_eq!(
            got,
            vec![
                (day(2024, 1, 1), dec!(100), MarkKind::Entry),
                (day(2024, 1, 11), dec!(110), MarkKind::ExitWin),
                // Halfway from 110 (01-11) to 106 (01-21).
                (day(2024, 1, 16), dec!(108), MarkKind::Entry),
                (day(2024, 1, 21), dec!(106), MarkKind::ExitLoss),
                (day(2024, 1, 21), dec!(106), MarkKind::Entry),
                (day(2024, 1, 22), dec!(106), MarkKind::ExitLoss),
            ]
        );
        assert!(trade_marks(&trades, &[]).is_empty());
    }

    #[test]
    fn time_ticks_pick_months_days_or_hours() {
        let (ticks, step) = time_ticks(day(2023, 10, 5).millis(), day(2024, 3, 20).millis(), 8);
        assert_eq!(step, TimeStep::Months(1));
        let labels: Vec<String> = ticks.iter().map(|t| step.label(*t)).collect();
        assert_eq!(labels, ["2023-11", "2023-12", "2024-01", "2024-02", "2024-03"]);

        // 2021-01-01 00:00 is before the start (noon), so half-years from July fit in 6.
        let (ticks, step) = time_ticks(day(2021, 1, 1).millis(), day(2024, 6, 1).millis(), 6);
        assert_eq!(step, TimeStep::Months(6));
        let labels: Vec<String> = ticks.iter().map(|t| step.label(*t)).collect();
        assert_eq!(labels, ["2021-07", "2022-01", "2022-07", "2023-01", "2023-07", "2024-01"]);
        let (ticks, step) = time_ticks(day(2021, 1, 1).millis(), day(2024, 6, 1).millis(), 5);
        assert_eq!(step, TimeStep::Months(12));
        assert_eq!(ticks.iter().map(|t| step.label(*t)).collect::<Vec<_>>(), ["2022-01", "2023-01", "2024-01"]);

        let (ticks, step) = time_ticks(day(2024, 2, 27).millis(), day(2024, 3, 2).millis(), 8);
        assert_eq!(step, TimeStep::Days(1));
        let labels: Vec<String> = ticks.iter().map(|t| step.label(*t)).collect();
        assert_eq!(labels, ["2024-02-28", "2024-02-29", "2024-03-01", "2024-03-02"]);

        let (_, step) = time_ticks(day(2024, 1, 1).millis(), day(2024, 1, 2).millis(), 8);
        assert_eq!(step, TimeStep::Hours(6));
        for (lo, hi, max) in [(0, LATEST_MS, 5), (0, 1, 3), (day(2024, 1, 1).millis(), day(2024, 12, 31).millis(), 2)] {
            let (ticks, _) = time_ticks(lo, hi, max);
            assert!(ticks.len() <= max.max(2), "{lo}..{hi}: {}", ticks.len());
            assert!(ticks.iter().all(|t| (lo..=hi).contains(t)));
        }
    }

    #[test]
    fn value_ticks_are_round_and_labelled_readably() {
        let (ticks, format) = value_ticks(950.0, 1260.0, 8);
        // 50 apart: 25 would give 13 ticks, more than 8.
        assert_eq!(ticks, [950.0, 1000.0, 1050.0, 1100.0, 1150.0, 1200.0, 1250.0]);
        assert_eq!(format, ValueFormat::Fixed { decimals: 0 });
        assert_eq!(format.label(1250.0), "1,250");

        // 0.0002 apart would give 9 ticks, so 0.0005: 0.0125, 0.0130, 0.0135.
        let (ticks, format) = value_ticks(0.0121, 0.0139, 5);
        assert_eq!(ticks.len(), 3);
        assert_eq!(format, ValueFormat::Fixed { decimals: 4 });
        assert_eq!(format.label(ticks[0]), "0.0125");
        assert_eq!(format.label(ticks[1]), "0.0130");

        let fixed = ValueFormat::Fixed { decimals: 2 };
        assert_eq!(fixed.label(-1234567.891), "-1,234,567.89");
        assert_eq!(fixed.label(-0.001), "0.00");
        assert_eq!(fixed.label(999.999), "1,000.00");
        assert_eq!(ValueFormat::Fixed { decimals: 0 }.label(-100.0), "-100");

        let (_, format) = value_ticks(-8e28, 8e28, 6);
        assert!(matches!(format, ValueFormat::Scientific { .. }));
    }

    /// The brief's budget is 50 ms for 1000 points at 1000×500 in a release build; a debug
    /// build is several times slower, so this only catches gross regressions. Run with
    /// `cargo test --release --lib chart::tests::render_time -- --nocapture` to see the time.
    #[test]
    fn render_time() {
        let points = wobbly(1000);
        let trades = sample_trades();
        let marks = trade_marks(&trades, &points);
        let _ = equity_png("warm-up", &points[..10], &[], 1000, 500).unwrap();
        let start = std::time::Instant::now();
        let png = equity_png("Equity, 1000 points", &points, &marks, 1000, 500).unwrap();
        let elapsed = start.elapsed();
        println!("rendered 1000 points at 1000x500 in {elapsed:?} ({} bytes)", png.len());
        assert!(elapsed < std::time::Duration::from_secs(2), "{elapsed:?}");
    }

    /// Writes a sample chart to /tmp/sample_chart.png for a human to look at:
    /// `cargo test --lib chart::tests::write_sample_chart -- --ignored`.
    #[test]
    #[ignore = "writes a file for manual inspection"]
    fn write_sample_chart() {
        let trades = sample_trades();
        let curve = cumulative_pnl_curve(dec!(1000), &trades);
        let marks = trade_marks(&trades, &curve);
        let png = equity_png("Bert · equity (USDT)", &curve, &marks, 1000, 500).unwrap();
        std::fs::write("/tmp/sample_chart.png", png).unwrap();
        let png = equity_png("Bert · equity (USDT)", &[], &[], 1000, 500).unwrap();
        std::fs::write("/tmp/sample_chart_empty.png", png).unwrap();
        let png = equity_png("Daily equity", &wobbly(400), &[], 1000, 500).unwrap();
        std::fs::write("/tmp/sample_chart_long.png", png).unwrap();
        let png = equity_png("Small", &curve, &marks, 400, 240).unwrap();
        std::fs::write("/tmp/sample_chart_small.png", png).unwrap();
        // A losing streak within two days: the legend must move off the falling line.
        let losers: Vec<ClosedTrade> = (0..6)
            .map(|i| {
                let open = day(2024, 6, 1).plus_millis(i * 7 * Timestamp::MS_PER_HOUR);
                trade(i as u64 + 1, open, open.plus_millis(5 * Timestamp::MS_PER_HOUR), Decimal::new(-150 - 40 * i, 1))
            })
            .collect();
        let curve = cumulative_pnl_curve(dec!(250), &losers);
        let png = equity_png("Losing streak", &curve, &trade_marks(&losers, &curve), 1000, 500).unwrap();
        std::fs::write("/tmp/sample_chart_falling.png", png).unwrap();
    }
}
