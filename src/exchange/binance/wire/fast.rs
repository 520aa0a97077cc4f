//! A fast path for the one hot frame: an `executionReport`, bare or in its
//! `{"subscriptionId":N,"event":{...}}` envelope.
//!
//! Binance's events are flat JSON objects of strings, numbers, booleans and nulls. This scanner
//! reads such an object in one pass without building anything, then fills the same
//! `ExecutionReportWire` the serde path fills. Whenever the input is anything but the plain
//! shape (an escape sequence, a nested value where none is expected, an unexpected key or type,
//! a duplicate field, trailing garbage) it gives up and returns `None`, and the caller decodes
//! with serde, which then accepts or reports the error. So the fast path never accepts what the
//! serde path would refuse, and never decodes differently (tested below).

use super::event::ExecutionReportWire;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::str::FromStr;

/// A raw value: the text between its delimiters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Raw<'a> {
    Str(&'a str),
    Num(&'a str),
    Bool(bool),
    Null,
}

struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.pos += 1)
    }

    /// A string without escapes or control characters (those go to serde).
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.pos;
        let rest = self.text.as_bytes().get(start..)?;
        let len = rest.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        if rest[len] != b'"' {
            return None;
        }
        self.pos = start + len + 1;
        self.text.get(start..start + len)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A number, checked against JSON's grammar.
    fn number(&mut self) -> Option<&'a str> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        self.text.get(start..self.pos)
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let end = self.pos + word.len();
        (self.text.get(self.pos..end)? == word).then(|| self.pos = end)
    }

    fn value(&mut self) -> Option<Raw<'a>> {
        Some(match self.peek()? {
            b'"' => Raw::Str(self.string()?),
            b't' => {
                self.literal("true")?;
                Raw::Bool(true)
            }
            b'f' => {
                self.literal("false")?;
                Raw::Bool(false)
            }
            b'n' => {
                self.literal("null")?;
                Raw::Null
            }
            b'-' | b'0'..=b'9' => Raw::Num(self.number()?),
            _ => return None,
        })
    }

    /// Reads `{ "key": value, ... }`, calling `f` for each pair.
    fn object(&mut self, mut f: impl FnMut(&'a str, Raw<'a>) -> Option<()>) -> Option<()> {
        self.ws();
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            self.ws();
            let key = self.string()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            let value = self.value()?;
            f(key, value)?;
            self.ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// Scans a whole document that is one object; nothing but whitespace may follow.
pub(crate) fn scan_object<'a>(text: &'a str, f: impl FnMut(&'a str, Raw<'a>) -> Option<()>) -> Option<()> {
    let mut s = Scanner { text, pos: 0 };
    s.object(f)?;
    s.ws();
    (s.pos == text.len()).then_some(())
}

/// The `event` object of `{"subscriptionId":N,"event":{...}}`, with the subscription id, when
/// the frame has exactly that shape with `event` last (as Binance sends it).
///
/// The event is taken to run to the frame's closing brace without scanning it here: the caller
/// scans that text as one flat object with nothing after it, so a frame where `event` is not
/// last (or is not flat) fails there and goes to serde.
pub(crate) fn envelope(text: &str) -> Option<(Option<u64>, &str)> {
    let mut s = Scanner { text, pos: 0 };
    s.ws();
    s.eat(b'{')?;
    let mut sub: Option<Option<u64>> = None;
    loop {
        s.ws();
        let key = s.string()?;
        s.ws();
        s.eat(b':')?;
        s.ws();
        match key {
            "subscriptionId" if sub.is_none() => match s.value()? {
                Raw::Num(n) => sub = Some(Some(n.parse().ok()?)),
                Raw::Null => sub = Some(None),
                _ => return None,
            },
            "event" => {
                if s.peek()? != b'{' {
                    return None;
                }
                let closing = text.trim_end().strip_suffix('}')?.len();
                let event = text.get(s.pos..closing)?.trim_end();
                return Some((sub.flatten(), event));
            }
            _ => return None,
        }
        s.ws();
        s.eat(b',')?;
    }
}

fn put<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None; // duplicate field: let serde report it
    }
    *slot = Some(value);
    Some(())
}

fn dec(v: Raw<'_>) -> Option<Decimal> {
    match v {
        Raw::Str(s) => Decimal::from_str(s).ok(),
        _ => None,
    }
}

fn opt_str(v: Raw<'_>) -> Option<Option<Cow<'_, str>>> {
    match v {
        Raw::Str(s) => Some(Some(Cow::Borrowed(s))),
        Raw::Null => Some(None),
        _ => None,
    }
}

fn string(v: Raw<'_>) -> Option<Cow<'_, str>> {
    match v {
        Raw::Str(s) => Some(Cow::Borrowed(s)),
        _ => None,
    }
}

/// The fast path for a bare `executionReport` object; `None` means "use serde".
pub(crate) fn execution_report(text: &str) -> Option<ExecutionReportWire<'_>> {
    let mut kind = None;
    let (mut symbol, mut client_id, mut orig, mut exec_type, mut status) = (None, None, None, None, None);
    let (mut reject, mut expiry, mut order_id) = (None, None, None);
    let (mut last_qty, mut last_price, mut cum_qty, mut cum_quote) = (None, None, None, None);
    let (mut commission, mut commission_asset, mut transact_time, mut trade_id) = (None, None, None, None);
    // Byte patterns: a length switch then a byte switch, much cheaper than comparing each
    // key against every name in turn.
    scan_object(text, |k, v| match k.as_bytes() {
        [b'e'] => put(&mut kind, string(v)?),
        [b's'] => put(&mut symbol, string(v)?),
        [b'c'] => put(&mut client_id, string(v)?),
        [b'C'] => put(&mut orig, opt_str(v)?),
        [b'x'] => put(&mut exec_type, string(v)?),
        [b'X'] => put(&mut status, string(v)?),
        [b'r'] => put(&mut reject, opt_str(v)?),
        [b'e', b'R'] => put(&mut expiry, opt_str(v)?),
        [b'i'] => match v {
            Raw::Num(n) => put(&mut order_id, n.parse::<u64>().ok()?),
            _ => None,
        },
        [b'l'] => put(&mut last_qty, dec(v)?),
        [b'L'] => put(&mut last_price, dec(v)?),
        [b'z'] => put(&mut cum_qty, dec(v)?),
        [b'Z'] => put(&mut cum_quote, dec(v)?),
        [b'n'] => put(
            &mut commission,
            match v {
                Raw::Null => None,
                Raw::Str("") => None,
                other => Some(dec(other)?),
            },
        ),
        [b'N'] => put(&mut commission_asset, opt_str(v)?),
        [b'T'] => match v {
            Raw::Num(n) => put(&mut transact_time, n.parse::<i64>().ok()?),
            _ => None,
        },
        [b't'] => match v {
            Raw::Num(n) => put(&mut trade_id, n.parse::<i64>().ok()?),
            _ => None,
        },
        _ => Some(()),
    })?;
    if kind? != "executionReport" {
        return None;
    }
    Some(ExecutionReportWire {
        symbol: symbol?,
        client_id: client_id?,
        orig_client_id: orig.flatten(),
        exec_type: exec_type?,
        status: status?,
        reject_reason: reject.flatten(),
        expiry_reason: expiry.flatten(),
        order_id: order_id?,
        last_qty: last_qty?,
        last_price: last_price?,
        cum_qty: cum_qty?,
        cum_quote: cum_quote?,
        commission: commission.flatten(),
        commission_asset: commission_asset.flatten(),
        transact_time: transact_time?,
        trade_id: trade_id?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::event::tests::EXECUTION_NEW;
    use super::*;
    use crate::exchange::binance::wire::event::{decode_user_frame_serde, execution_report_serde};
    use crate::exchange::binance::wire::test_util::resolver;
    use crate::exchange::binance::wire::{decode_execution_report, decode_user_frame};
    use proptest::prelude::*;

    #[test]
    fn scanner_reads_flat_objects_and_refuses_the_rest() {
        let mut seen = Vec::new();
        scan_object(r#" { "a" : "x", "b": -1.5e3, "c": true, "d": null } "#, |k, v| {
            seen.push((k, v));
            Some(())
        })
        .unwrap();
        assert_eq!(seen, [("a", Raw::Str("x")), ("b", Raw::Num("-1.5e3")), ("c", Raw::Bool(true)), ("d", Raw::Null)]);
        for bad in [
            r#"{"a":"x\"y"}"#,
            r#"{"a":[1]}"#,
            r#"{"a":{}}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":-}"#,
            r#"{"a":1e}"#,
            r#"{"a":tru}"#,
            r#"{"a":1,}"#,
            r#"{"a":1} x"#,
            r#"{"a" 1}"#,
            "{\"a\":\"\u{1}\"}",
            "",
            "{",
        ] {
            assert!(scan_object(bad, |_, _| Some(())).is_none(), "{bad}");
        }
        assert_eq!(envelope(r#"{"subscriptionId":3,"event":{"e":"x"}} "#), Some((Some(3), r#"{"e":"x"}"#)));
        assert_eq!(envelope(r#"{"id":1,"subscriptionId":3,"event":{"e":"x"}}"#), None);
        // `event` not last, or not flat: the envelope is cut at the wrong place and the flat
        // scan of the event refuses it.
        for frame in [r#"{"event":{"e":"executionReport"},"id":1}"#, r#"{"event":{"e":{"x":1}}}"#] {
            assert!(envelope(frame).and_then(|(_, e)| execution_report(e)).is_none(), "{frame}");
        }
    }

    #[test]
    fn fast_path_is_taken_for_real_reports() {
        let event = EXECUTION_NEW.split_once(r#""event": "#).unwrap().1.trim_end().trim_end_matches('}');
        assert!(execution_report(event).is_some());
        assert!(envelope(EXECUTION_NEW).is_some());
    }

    proptest! {
        /// Random edits of a real report: the fast and serde paths agree on every outcome.
        #[test]
        fn fast_and_serde_paths_agree(pos in 0usize..700, del in 0usize..4, ins in prop::sample::select(vec![
            "", "\"", "\\", "{", "}", "[", ",", ":", "1", "-", ".", "e", "null", "true", " ", "\"x\"", "\"C\":\"a\",", "\"z\":\"1\",",
        ])) {
            let event = EXECUTION_NEW.split_once(r#""event": "#).unwrap().1.trim_end().trim_end_matches('}').to_string();
            let at = pos.min(event.len());
            if let (Some(head), Some(tail)) = (event.get(..at), event.get((at + del).min(event.len())..)) {
                let mutated = format!("{head}{ins}{tail}");
                prop_assert_eq!(decode_execution_report(&mutated, &resolver), execution_report_serde(&mutated, &resolver));
                let frame = format!(r#"{{"subscriptionId":0,"event":{mutated}}}"#);
                prop_assert_eq!(decode_user_frame(&frame, &resolver), decode_user_frame_serde(&frame, &resolver));
            }
        }
    }
}
