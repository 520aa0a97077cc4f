//! Languages, translated messages and number formatting for people.
//!
//! Messages live in Fluent files under `locales/<code>/bert.ftl`, one per language, embedded in
//! the binary with `include_str!` (not `rust-embed`: in debug builds `rust-embed` reads the
//! files from disk at run time, so a moved debug binary or a test run from another directory
//! would silently lose its texts; `include_str!` is the same in every build and fails the
//! build if a file is missing).
//!
//! Design choices:
//! * Fluent's Unicode isolation marks (U+2068/U+2069 around every argument) are off: Bert's
//!   text is left-to-right, and the marks would end up in every Telegram message and test.
//! * Numbers are formatted here, in Rust, on [`Decimal`] (string based, never `f64`), and passed
//!   to Fluent as ready strings, because fluent-bundle 0.16 does no digit grouping. Only counts
//!   that select a plural form (`{ $count -> [one] … }`) are passed as numbers ([`Arg::Int`]).
//! * Each language has two bundles: a plain one (console, logs) and an HTML one whose literal
//!   text is HTML-escaped by Fluent's transform hook, so a translation may say "P&L" or "<"
//!   without breaking Telegram's HTML parse mode. Arguments are *not* escaped by the HTML
//!   bundle: the caller (`chat::render`) escapes or decorates them, because only it knows which
//!   argument is user text and which is its own markup.
//! * Nothing here panics on a missing key or a formatting error: a key missing in Russian or
//!   Spanish falls back to English, a key missing everywhere comes back as the key itself, and
//!   a message with a missing argument is still rendered (Fluent writes `{$name}` in its place).
//!   Tests guarantee neither happens with the shipped files.

use crate::chat::format::escape_html;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::sync::LazyLock;
use unic_langid::{LanguageIdentifier, langid};

/// A language Bert speaks. English is the fallback for everything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ru,
    Es,
}

impl Lang {
    /// Every language, English first.
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Ru, Lang::Es];

    /// Reads a language tag leniently (`ru`, `ru-RU`, `RU_ru`, Telegram's `language_code`):
    /// anything unknown is English, so a user's client settings can never break a reply.
    pub fn from_code(code: &str) -> Lang {
        Lang::parse(code).unwrap_or(Lang::En)
    }

    /// Reads a language tag strictly: `None` when the primary subtag is not a language Bert
    /// speaks (for `/lang xx`, which should say so rather than silently pick English).
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next().unwrap_or("");
        match primary.to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "ru" => Some(Lang::Ru),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }

    /// The two-letter code, as `/lang` takes it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
            Lang::Es => "es",
        }
    }

    /// The language's own name for itself (shown in `/lang` lists, so everyone can find theirs).
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ru => "Русский",
            Lang::Es => "Español",
        }
    }

    fn langid(self) -> LanguageIdentifier {
        match self {
            Lang::En => langid!("en"),
            Lang::Ru => langid!("ru"),
            Lang::Es => langid!("es"),
        }
    }

    /// The embedded Fluent source.
    pub(crate) fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../locales/en/bert.ftl"),
            Lang::Ru => include_str!("../locales/ru/bert.ftl"),
            Lang::Es => include_str!("../locales/es/bert.ftl"),
        }
    }

    fn index(self) -> usize {
        match self {
            Lang::En => 0,
            Lang::Ru => 1,
            Lang::Es => 2,
        }
    }

    /// `en (English), ru (Русский), es (Español)`: the list `/lang` offers.
    pub fn list() -> String {
        Lang::ALL.iter().map(|l| format!("{} ({})", l.code(), l.native_name())).collect::<Vec<_>>().join(", ")
    }
}

/// One argument of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg<'a> {
    /// Text inserted as is (already formatted, and already escaped for HTML if needed).
    Str(Cow<'a, str>),
    /// A count: Fluent selects the plural form from it (`one`, `few`, `many`, `other`).
    Int(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Str(Cow::Borrowed(s))
    }
}

impl From<String> for Arg<'_> {
    fn from(s: String) -> Self {
        Arg::Str(Cow::Owned(s))
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Int(n)
    }
}

impl From<u32> for Arg<'_> {
    fn from(n: u32) -> Self {
        Arg::Int(i64::from(n))
    }
}

impl From<usize> for Arg<'_> {
    fn from(n: usize) -> Self {
        Arg::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

type Bundle = FluentBundle<FluentResource>;

struct Bundles {
    plain: [Bundle; 3],
    html: [Bundle; 3],
}

static BUNDLES: LazyLock<Bundles> =
    LazyLock::new(|| Bundles { plain: Lang::ALL.map(|l| build(l, false)), html: Lang::ALL.map(|l| build(l, true)) });

fn html_transform(text: &str) -> Cow<'_, str> {
    escape_html(text)
}

fn build(lang: Lang, html: bool) -> Bundle {
    let mut bundle = FluentBundle::new_concurrent(vec![lang.langid()]);
    bundle.set_use_isolating(false);
    if html {
        bundle.set_transform(Some(html_transform));
    }
    // A syntax error still yields the messages that did parse; the test
    // `every_locale_parses_cleanly` guarantees there are none in the shipped files.
    let resource = match FluentResource::try_new(lang.source().to_owned()) {
        Ok(r) => r,
        Err((r, _)) => r,
    };
    // Errors here are only duplicate ids, which keep the first definition; tested as well.
    let _ = bundle.add_resource(resource);
    bundle
}

fn fluent_args<'a>(args: &'a [(&'a str, Arg<'a>)]) -> FluentArgs<'a> {
    let mut out = FluentArgs::with_capacity(args.len());
    for (name, value) in args {
        let v: FluentValue<'a> = match value {
            Arg::Str(s) => FluentValue::String(Cow::Borrowed(s.as_ref())),
            Arg::Int(n) => FluentValue::from(*n),
        };
        out.set(*name, v);
    }
    out
}

/// Formats `key` in `lang`, returning the Fluent errors as strings (for tests and logs).
fn format(bundles: &[Bundle; 3], lang: Lang, key: &str, args: &[(&str, Arg<'_>)]) -> Result<String, Vec<String>> {
    let fargs = fluent_args(args);
    for candidate in [lang, Lang::En] {
        let bundle = &bundles[candidate.index()];
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else { continue };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&fargs), &mut errors).into_owned();
        if errors.is_empty() {
            return Ok(text);
        }
        let errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        tracing::warn!(key, lang = candidate.code(), ?errors, "message formatted with errors");
        return Err(vec![text].into_iter().chain(errors).collect());
    }
    tracing::warn!(key, lang = lang.code(), "missing message");
    Err(vec![key.to_owned(), "missing message".to_owned()])
}

fn best_effort(result: Result<String, Vec<String>>) -> String {
    match result {
        Ok(text) => text,
        // The first element is the best-effort text (or the key); see `format`.
        Err(mut parts) => parts.swap_remove(0),
    }
}

/// The message `key` in `lang`, plain text. Never panics: missing in `lang` → English;
/// missing everywhere → the key itself.
pub fn tr(lang: Lang, key: &str, args: &[(&str, Arg<'_>)]) -> String {
    best_effort(format(&BUNDLES.plain, lang, key, args))
}

/// The message `key` in `lang` for Telegram's HTML parse mode: the translation's own text is
/// escaped; the arguments are inserted verbatim, so the caller must escape them (or mark them
/// up on purpose).
pub fn tr_html(lang: Lang, key: &str, args: &[(&str, Arg<'_>)]) -> String {
    best_effort(format(&BUNDLES.html, lang, key, args))
}

/// Like [`tr`], but reports a missing key or any Fluent error instead of hiding it.
pub fn try_tr(lang: Lang, key: &str, args: &[(&str, Arg<'_>)]) -> Result<String, Vec<String>> {
    format(&BUNDLES.plain, lang, key, args)
}

// ----- numbers ------------------------------------------------------------------------------

/// Digit grouping and decimal separators of a language.
struct Separators {
    group: &'static str,
    decimal: char,
    /// Between the number and `%` (CLDR: none in English, a no-break space in Russian and
    /// Spanish).
    percent_gap: &'static str,
}

fn separators(lang: Lang) -> Separators {
    match lang {
        Lang::En => Separators { group: ",", decimal: '.', percent_gap: "" },
        // CLDR's Russian grouping separator is the no-break space U+00A0: it never wraps
        // inside a number and renders everywhere Telegram runs.
        Lang::Ru => Separators { group: "\u{a0}", decimal: ',', percent_gap: "\u{a0}" },
        // Spanish groups with a dot. (CLDR would leave four-digit numbers ungrouped; Bert
        // groups them too, so columns of prices read the same.)
        Lang::Es => Separators { group: ".", decimal: ',', percent_gap: "\u{a0}" },
    }
}

/// Rounds `v` to at most `max_dp` decimals (half away from zero), shows at least `min_dp`, and
/// groups the integer part. `signed` adds `+` to positive values.
fn format_decimal(v: Decimal, lang: Lang, min_dp: u32, max_dp: u32, signed: bool) -> String {
    let rounded = v.round_dp_with_strategy(max_dp, RoundingStrategy::MidpointAwayFromZero);
    // `Decimal`'s `Display` never uses an exponent: digits, an optional point, digits.
    let text = rounded.abs().to_string();
    let (int, frac) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let mut frac = frac.trim_end_matches('0').to_owned();
    while frac.len() < min_dp as usize {
        frac.push('0');
    }
    let seps = separators(lang);
    let mut out = String::with_capacity(text.len() + text.len() / 3 + 2);
    if rounded.is_sign_negative() && !rounded.is_zero() {
        out.push('-');
    } else if signed && !rounded.is_zero() {
        out.push('+');
    }
    let digits = int.len();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (digits - i) % 3 == 0 {
            out.push_str(seps.group);
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push(seps.decimal);
        out.push_str(&frac);
    }
    out
}

/// An amount of money in the quote asset (portfolio value, P&L, fees): two decimals, grouped, e.g.
/// `1,234.56`. A non-zero amount that would round to `0.00` (a tiny fee) keeps its
/// significant digits instead, so it does not read as nothing.
pub fn fmt_money(lang: Lang, v: Decimal) -> String {
    if !v.is_zero() && v.abs() < Decimal::new(5, 3) {
        return fmt_price(lang, v);
    }
    format_decimal(v, lang, 2, 2, false)
}

/// A signed quote amount for P&L: `+500.00`, `-12.30`, `0.00`.
pub fn fmt_signed_money(lang: Lang, v: Decimal) -> String {
    let s = fmt_money(lang, v);
    if v > Decimal::ZERO { format!("+{s}") } else { s }
}

/// A price: at least two decimals and about eight significant digits, so both `43,567.10`
/// and `0.00001234` read naturally (computed averages with 28 decimals are cut down).
pub fn fmt_price(lang: Lang, v: Decimal) -> String {
    const SIGNIFICANT: u32 = 8;
    const MAX_DP: u32 = 20;
    let a = v.abs();
    let dp = if a.is_zero() {
        2
    } else if a >= Decimal::ONE {
        let int_digits = a.trunc().to_string().len() as u32;
        SIGNIFICANT.saturating_sub(int_digits).max(2)
    } else {
        // Zeros between the point and the first significant digit.
        let text = a.to_string();
        let frac = text.split_once('.').map(|(_, f)| f).unwrap_or("");
        let zeros = frac.chars().take_while(|c| *c == '0').count() as u32;
        (zeros + SIGNIFICANT).min(MAX_DP)
    };
    format_decimal(v, lang, 2, dp, false)
}

/// A base-asset quantity: no trailing zeros, at most eight decimals (Binance's precision),
/// e.g. `0.5`, `1,250`.
pub fn fmt_qty(lang: Lang, v: Decimal) -> String {
    format_decimal(v, lang, 0, 8, false)
}

/// A percentage with two decimals: `3.25%` (English), `3,25 %` (Russian, Spanish); `signed`
/// adds `+` to positive values (`+3.25%`, for changes and P&L). `v` is in percent (`3.25`
/// means 3.25 %), as the engine computes it.
pub fn fmt_pct(lang: Lang, v: Decimal, signed: bool) -> String {
    format!("{}{}%", format_decimal(v, lang, 2, 2, signed), separators(lang).percent_gap)
}

/// An unsigned percentage for limits and shares, decimals only when needed: `1%`, `0.5%`.
pub fn fmt_share(lang: Lang, v: Decimal) -> String {
    format!("{}{}%", format_decimal(v, lang, 0, 2, false), separators(lang).percent_gap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use std::collections::BTreeSet;

    /// Message ids and the variables each uses, read from the Fluent source. A message starts
    /// at column 0 with `id =`; indented lines continue it; `#` lines are comments; `-` lines
    /// are terms (none are used).
    fn messages(src: &str) -> Vec<(String, BTreeSet<String>)> {
        let mut out: Vec<(String, BTreeSet<String>)> = Vec::new();
        for line in src.lines() {
            let first = line.chars().next();
            if first.is_some_and(|c| c.is_ascii_alphabetic()) {
                let id = line.split('=').next().unwrap_or("").trim().to_owned();
                out.push((id, BTreeSet::new()));
            } else if first.is_some_and(|c| c == '#' || c == '-') {
                continue;
            }
            if let Some((_, vars)) = out.last_mut() {
                let mut rest = line;
                while let Some(i) = rest.find('$') {
                    rest = &rest[i + 1..];
                    let name: String =
                        rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
                    if !name.is_empty() {
                        vars.insert(name);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn every_locale_parses_cleanly() {
        for lang in Lang::ALL {
            let parsed = FluentResource::try_new(lang.source().to_owned());
            assert!(parsed.is_ok(), "{lang:?}: {:?}", parsed.err().map(|(_, e)| e));
            let mut bundle = FluentBundle::new_concurrent(vec![lang.langid()]);
            if let Ok(res) = parsed {
                assert!(bundle.add_resource(res).is_ok(), "{lang:?}: duplicate ids");
            }
        }
    }

    #[test]
    fn every_locale_has_exactly_the_english_keys() {
        let english: BTreeSet<String> = messages(Lang::En.source()).into_iter().map(|(id, _)| id).collect();
        assert!(english.len() > 50, "the scanner found too few messages: {}", english.len());
        for lang in Lang::ALL {
            let ids: Vec<String> = messages(lang.source()).into_iter().map(|(id, _)| id).collect();
            let set: BTreeSet<String> = ids.iter().cloned().collect();
            assert_eq!(ids.len(), set.len(), "{lang:?} defines a key twice");
            let missing: Vec<_> = english.difference(&set).collect();
            let extra: Vec<_> = set.difference(&english).collect();
            assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
            assert!(extra.is_empty(), "{lang:?} has keys English lacks: {extra:?}");
            for id in &set {
                assert!(BUNDLES.plain[lang.index()].has_message(id), "{lang:?} {id}: scanner and Fluent disagree");
            }
        }
    }

    #[test]
    fn every_message_formats_without_errors_and_uses_the_same_variables() {
        let english: Vec<(String, BTreeSet<String>)> = messages(Lang::En.source());
        for lang in Lang::ALL {
            let vars_here: std::collections::BTreeMap<String, BTreeSet<String>> =
                messages(lang.source()).into_iter().collect();
            for (id, vars) in &english {
                let here = vars_here.get(id).cloned().unwrap_or_default();
                assert!(here.is_subset(vars), "{lang:?} {id} uses variables English does not pass: {here:?}");
                // Exercise every plural category: 0, 1, 2 (few), 5 (many), 21, 1000.
                for n in [0, 1, 2, 5, 21, 1000] {
                    let args: Vec<(&str, Arg<'_>)> = vars.iter().map(|v| (v.as_str(), Arg::Int(n))).collect();
                    let plain = try_tr(lang, id, &args);
                    assert!(plain.is_ok(), "{lang:?} {id} n={n}: {plain:?}");
                    let text = plain.unwrap_or_default();
                    assert!(!text.trim().is_empty(), "{lang:?} {id} is empty");
                    assert!(!text.contains('\u{2068}') && !text.contains('\u{2069}'), "isolation marks in {id}");
                }
            }
        }
    }

    #[test]
    fn russian_plurals_use_one_few_many() {
        let days = |n: i64| tr(Lang::Ru, "days", &[("days", Arg::Int(n))]);
        assert_eq!(days(1), "1 день");
        assert_eq!(days(2), "2 дня");
        assert_eq!(days(5), "5 дней");
        assert_eq!(days(11), "11 дней");
        assert_eq!(days(21), "21 день");
        assert_eq!(days(22), "22 дня");
        assert_eq!(days(0), "меньше дня");
        assert_eq!(tr(Lang::En, "days", &[("days", Arg::Int(1))]), "1 day");
        assert_eq!(tr(Lang::En, "days", &[("days", Arg::Int(3))]), "3 days");
        assert_eq!(tr(Lang::Es, "days", &[("days", Arg::Int(1))]), "1 día");
        assert_eq!(tr(Lang::Es, "days", &[("days", Arg::Int(4))]), "4 días");
    }

    #[test]
    fn missing_keys_fall_back_and_never_panic() {
        assert_eq!(tr(Lang::Ru, "no-such-key", &[]), "no-such-key");
        assert!(try_tr(Lang::Es, "no-such-key", &[]).is_err());
        // A missing argument still renders something.
        let text = tr(Lang::En, "not-authorized", &[]);
        assert!(text.contains("id"), "{text}");
    }

    #[test]
    fn html_bundle_escapes_the_translation_but_not_the_arguments() {
        // `refusal-filters` carries the exchange's own words, passed through here unescaped.
        let text = tr_html(Lang::En, "refusal-filters", &[("detail", Arg::from("<i>x</i>"))]);
        assert!(text.contains("<i>x</i>"), "{text}");
        let text = tr_html(Lang::En, "balances-total", &[("value", Arg::from("1")), ("quote", Arg::from("A&B"))]);
        assert!(text.contains("A&B"));
    }

    #[test]
    fn language_codes() {
        assert_eq!(Lang::from_code("ru-RU"), Lang::Ru);
        assert_eq!(Lang::from_code("RU"), Lang::Ru);
        assert_eq!(Lang::from_code("es_AR"), Lang::Es);
        assert_eq!(Lang::from_code("en-GB"), Lang::En);
        assert_eq!(Lang::from_code("de"), Lang::En);
        assert_eq!(Lang::from_code(""), Lang::En);
        assert_eq!(Lang::from_code("🦀"), Lang::En);
        assert_eq!(Lang::parse("de"), None);
        assert_eq!(Lang::parse(" es "), Some(Lang::Es));
        for l in Lang::ALL {
            assert_eq!(Lang::parse(l.code()), Some(l));
        }
        assert_eq!(serde_json::to_string(&Lang::Ru).unwrap_or_default(), "\"ru\"");
    }

    #[test]
    fn quote_amounts() {
        assert_eq!(fmt_money(Lang::En, dec!(1234.56)), "1,234.56");
        assert_eq!(fmt_money(Lang::Ru, dec!(1234.56)), "1\u{a0}234,56");
        assert_eq!(fmt_money(Lang::Es, dec!(1234.56)), "1.234,56");
        assert_eq!(fmt_money(Lang::En, dec!(1234567.891)), "1,234,567.89");
        assert_eq!(fmt_money(Lang::En, dec!(0.005)), "0.01");
        assert_eq!(fmt_money(Lang::En, dec!(12)), "12.00");
        assert_eq!(fmt_money(Lang::En, dec!(-1234.5)), "-1,234.50");
        assert_eq!(fmt_money(Lang::En, dec!(999.999)), "1,000.00");
        assert_eq!(fmt_money(Lang::En, dec!(0)), "0.00");
        assert_eq!(fmt_money(Lang::En, dec!(100)), "100.00");
        assert_eq!(fmt_money(Lang::En, dec!(0.0012)), "0.0012", "tiny amounts keep their digits");
        assert_eq!(fmt_signed_money(Lang::En, dec!(500)), "+500.00");
        assert_eq!(fmt_signed_money(Lang::Es, dec!(-12.3)), "-12,30");
        assert_eq!(fmt_signed_money(Lang::En, dec!(0)), "0.00");
        assert_eq!(fmt_money(Lang::En, Decimal::MAX), "79,228,162,514,264,337,593,543,950,335.00");
    }

    #[test]
    fn prices() {
        assert_eq!(fmt_price(Lang::En, dec!(43567.1)), "43,567.10");
        assert_eq!(fmt_price(Lang::Ru, dec!(43567.1)), "43\u{a0}567,10");
        assert_eq!(fmt_price(Lang::Es, dec!(43567.1)), "43.567,10");
        assert_eq!(fmt_price(Lang::En, dec!(0.00001234)), "0.00001234");
        assert_eq!(fmt_price(Lang::Ru, dec!(0.00001234)), "0,00001234");
        assert_eq!(fmt_price(Lang::En, dec!(0.5)), "0.50");
        assert_eq!(fmt_price(Lang::En, dec!(1.23456789123)), "1.2345679");
        assert_eq!(fmt_price(Lang::En, dec!(43567.123456789)), "43,567.123");
        assert_eq!(fmt_price(Lang::En, dec!(12345678.9)), "12,345,678.90");
        assert_eq!(fmt_price(Lang::En, dec!(100)), "100.00");
        assert_eq!(fmt_price(Lang::En, dec!(0)), "0.00");
        assert_eq!(fmt_price(Lang::En, dec!(-2.5)), "-2.50");
        assert_eq!(fmt_price(Lang::En, Decimal::new(1, 28)), "0.00");
        assert_eq!(fmt_price(Lang::En, dec!(1) / dec!(3)), "0.33333333");
    }

    #[test]
    fn quantities_and_percentages() {
        assert_eq!(fmt_qty(Lang::En, dec!(0.50000)), "0.5");
        assert_eq!(fmt_qty(Lang::En, dec!(1250.000)), "1,250");
        assert_eq!(fmt_qty(Lang::Ru, dec!(1250.25)), "1\u{a0}250,25");
        assert_eq!(fmt_qty(Lang::En, dec!(0.123456789)), "0.12345679");
        assert_eq!(fmt_pct(Lang::En, dec!(3.25), true), "+3.25%");
        assert_eq!(fmt_pct(Lang::En, dec!(-16.1), true), "-16.10%");
        assert_eq!(fmt_pct(Lang::En, dec!(0), true), "0.00%");
        assert_eq!(fmt_pct(Lang::En, dec!(3.25), false), "3.25%");
        assert_eq!(fmt_pct(Lang::En, dec!(-3.25), false), "-3.25%");
        assert_eq!(fmt_pct(Lang::Ru, dec!(3.25), true), "+3,25\u{a0}%");
        assert_eq!(fmt_pct(Lang::Es, dec!(3.25), true), "+3,25\u{a0}%");
        assert_eq!(fmt_share(Lang::En, dec!(1)), "1%");
        assert_eq!(fmt_share(Lang::Es, dec!(0.5)), "0,5\u{a0}%");
    }
}
