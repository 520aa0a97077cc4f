//! Binance failures → [`ExchangeError`], the split between *known* and *unknown* outcomes.
//!
//! The rule that protects money: a request that changes state (place, cancel) and may have
//! reached the matching engine is **Unknown** (timeout after sending, 5xx, `-1006`, `-1007`,
//! `-1000`, `-1001`, `-1008`, a connection dropped after the request was written). Its fate is
//! resolved by querying the client order id, never by sending it again. A request that
//! certainly did not execute is **Rejected** (with Binance's message for the user),
//! **NotFound**, **RateLimited** or **Unavailable** (safe to retry later).
//!
//! Reads (query, balances, ...) change nothing, so a lost read is simply **Unavailable**.

use crate::exchange::ExchangeError;
use serde::Deserialize;

/// What kind of request failed; the same failure means different things for each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Place,
    Cancel,
    /// `GET /api/v3/order`: `-2013` means not found (or not visible yet).
    Query,
    /// Any other read.
    Read,
}

impl Op {
    /// Whether the request can change state on the exchange.
    pub fn mutates(self) -> bool {
        matches!(self, Op::Place | Op::Cancel)
    }
}

/// Binance's error body: `{"code": -1121, "msg": "Invalid symbol."}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub code: i64,
    pub msg: String,
}

#[derive(Deserialize)]
struct ApiErrorWire {
    code: i64,
    #[serde(default)]
    msg: String,
}

/// Reads an error body; `None` for anything else (HTML from a proxy, empty bodies, ...).
pub fn parse_api_error(body: &[u8]) -> Option<ApiError> {
    serde_json::from_slice::<ApiErrorWire>(body).ok().map(|w| ApiError { code: w.code, msg: w.msg })
}

/// The failure when the outcome may or may not have happened: unknown for state changes,
/// merely unavailable for reads.
pub fn lost(op: Op, reason: impl Into<String>) -> ExchangeError {
    let reason = reason.into();
    if op.mutates() { ExchangeError::Unknown { reason } } else { ExchangeError::Unavailable { reason } }
}

/// Codes documented (or, for `-1000`/`-1001`/`-1008`, prudently treated) as "may have
/// executed".
fn is_unknown_code(code: i64) -> bool {
    matches!(code, -1000 | -1001 | -1006 | -1007 | -1008)
}

/// Default pause when a 429/418 carries no `Retry-After`: one minute, two for a ban (the
/// shortest ban Binance documents).
fn default_pause_ms(banned: bool) -> i64 {
    if banned { 120_000 } else { 60_000 }
}

/// Maps an HTTP error answer. `retry_after_secs` is the `Retry-After` header; `now_ms` the
/// local clock, so the result's `retry_after_ms` is an epoch time on the local clock.
pub fn map_http(op: Op, status: u16, body: &[u8], retry_after_secs: Option<u64>, now_ms: i64) -> ExchangeError {
    if status == 429 || status == 418 {
        let banned = status == 418;
        let pause = retry_after_secs
            .map(|s| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX))
            .unwrap_or_else(|| default_pause_ms(banned));
        return ExchangeError::RateLimited { retry_after_ms: now_ms.saturating_add(pause), banned };
    }
    let api = parse_api_error(body);
    if status >= 500 {
        let detail = api.map(|a| format!("{} {}", a.code, a.msg)).unwrap_or_default();
        return lost(op, format!("HTTP {status} {detail}").trim_end().to_string());
    }
    match api {
        Some(a) => map_code(op, a.code, a.msg),
        // A 403 without a Binance body is the WAF: nothing was executed, and it may pass later.
        None if status == 403 => {
            ExchangeError::Unavailable { reason: "HTTP 403: blocked by Binance's firewall".into() }
        }
        None => ExchangeError::Rejected { code: i64::from(status), reason: format!("HTTP {status}") },
    }
}

/// Maps a Binance error code and message (REST body or WebSocket API `error`).
pub fn map_code(op: Op, code: i64, msg: String) -> ExchangeError {
    if is_unknown_code(code) {
        return lost(op, format!("{code} {msg}"));
    }
    match code {
        // The client order id is already in use by an open order: since ids are derived from
        // the intent, that order is *ours*, from an earlier attempt whose answer was lost. Not a
        // rejection: its state must be queried.
        -2010 if op == Op::Place && msg.contains("Duplicate order") => {
            ExchangeError::duplicate_id(&format!("{code} {msg}"))
        }
        -2013 | -2026 => ExchangeError::NotFound,
        // "Unknown order sent.": the order is gone (filled, cancelled or never existed).
        -2011 if msg.contains("Unknown order") => ExchangeError::NotFound,
        // Timestamp outside recvWindow: checked before the matching engine, so not executed.
        -1021 => ExchangeError::Unavailable { reason: format!("{code} {msg} (clock skew)") },
        _ => ExchangeError::Rejected { code, reason: msg },
    }
}

/// Maps a transport failure. `sent` is false when the connection was never established (the
/// request certainly did not leave), true otherwise.
///
/// The message never includes the URL: a signed URL's query carries the signature, the
/// timestamp and the order, and must stay out of logs.
pub fn map_transport(op: Op, err: reqwest::Error) -> ExchangeError {
    let connect = err.is_connect();
    let timeout = err.is_timeout();
    let err = err.without_url();
    let detail = error_chain(&err);
    if connect {
        return ExchangeError::Unavailable { reason: format!("cannot connect: {detail}") };
    }
    if err.is_builder() {
        return ExchangeError::Unavailable { reason: format!("request not built: {detail}") };
    }
    if timeout {
        return lost(op, format!("no answer in time: {detail}"));
    }
    lost(op, format!("connection lost after sending: {detail}"))
}

/// `err` and its sources, joined, so "error sending request" comes with its real cause.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: i64, msg: &str) -> Vec<u8> {
        format!(r#"{{"code":{code},"msg":"{msg}"}}"#).into_bytes()
    }

    #[test]
    fn unknown_outcomes_for_state_changes() {
        for (status, code) in [(500, -1000), (503, -1001), (400, -1006), (408, -1007), (503, -1007), (400, -1000)] {
            for op in [Op::Place, Op::Cancel] {
                let e = map_http(op, status, &body(code, "x"), None, 0);
                assert!(e.is_unknown_outcome(), "{op:?} {status} {code}: {e:?}");
            }
            let e = map_http(Op::Read, status, &body(code, "x"), None, 0);
            assert!(matches!(e, ExchangeError::Unavailable { .. }), "{e:?}");
        }
        // A 5xx with an HTML body is unknown too.
        assert!(map_http(Op::Place, 502, b"<html>bad gateway</html>", None, 0).is_unknown_outcome());
        assert!(matches!(map_http(Op::Query, 504, b"", None, 0), ExchangeError::Unavailable { .. }));
    }

    #[test]
    fn rejections_carry_the_exchange_message() {
        let e =
            map_http(Op::Place, 400, &body(-2010, "Account has insufficient balance for requested action."), None, 0);
        assert_eq!(
            e,
            ExchangeError::Rejected {
                code: -2010,
                reason: "Account has insufficient balance for requested action.".into()
            }
        );
        let e = map_http(Op::Place, 400, &body(-1013, "Filter failure: LOT_SIZE"), None, 0);
        assert_eq!(e, ExchangeError::Rejected { code: -1013, reason: "Filter failure: LOT_SIZE".into() });
        let e = map_http(Op::Cancel, 400, &body(-2011, "Order was not canceled due to cancel restrictions."), None, 0);
        assert!(matches!(e, ExchangeError::Rejected { code: -2011, .. }));
        let e = map_http(Op::Place, 400, &body(-1022, "Signature for this request is not valid."), None, 0);
        assert!(matches!(e, ExchangeError::Rejected { code: -1022, .. }));
        assert_eq!(
            map_http(Op::Read, 404, b"<html>", None, 0),
            ExchangeError::Rejected { code: 404, reason: "HTTP 404".into() }
        );
    }

    #[test]
    fn duplicate_order_means_an_earlier_attempt_landed() {
        let e = map_http(Op::Place, 400, &body(-2010, "Duplicate order sent."), None, 0);
        assert!(e.is_unknown_outcome(), "{e:?}");
    }

    #[test]
    fn not_found() {
        assert_eq!(map_http(Op::Cancel, 400, &body(-2011, "Unknown order sent."), None, 0), ExchangeError::NotFound);
        assert_eq!(map_http(Op::Query, 400, &body(-2013, "Order does not exist."), None, 0), ExchangeError::NotFound);
        assert_eq!(
            map_http(
                Op::Query,
                400,
                &body(
                    -2026,
                    "Order was canceled or expired with no executed qty over 90 days ago and has been archived."
                ),
                None,
                0
            ),
            ExchangeError::NotFound
        );
    }

    #[test]
    fn rate_limits_and_bans() {
        let e = map_http(Op::Read, 429, &body(-1003, "Too much request weight used"), Some(7), 1_000);
        assert_eq!(e, ExchangeError::RateLimited { retry_after_ms: 8_000, banned: false });
        let e = map_http(
            Op::Place,
            418,
            &body(-1003, "Way too much request weight used; IP banned until 1."),
            Some(120),
            0,
        );
        assert_eq!(e, ExchangeError::RateLimited { retry_after_ms: 120_000, banned: true });
        let e = map_http(Op::Place, 429, b"", None, 5);
        assert_eq!(e, ExchangeError::RateLimited { retry_after_ms: 60_005, banned: false });
        assert!(!e.is_unknown_outcome(), "a 429 was refused before execution");
    }

    #[test]
    fn clock_skew_and_waf() {
        assert!(matches!(
            map_http(Op::Place, 400, &body(-1021, "Timestamp for this request is outside of the recvWindow."), None, 0),
            ExchangeError::Unavailable { .. }
        ));
        assert!(matches!(map_http(Op::Place, 403, b"<html>", None, 0), ExchangeError::Unavailable { .. }));
    }
}
