//! WebSocket API frames: responses to our requests and user data stream events.
//!
//! A frame with `id`/`status` answers a request; a frame with `event` is an event (wrapped as
//! `{"subscriptionId":0,"event":{...}}`, or without `subscriptionId` for connection events such
//! as `serverShutdown`). Bare event objects (`{"e":"executionReport",...}`, as Binance's FAQ
//! prints them) are accepted too.
//!
//! Decoding takes two passes over the text: the first reads only the envelope and the event
//! type `e`, the second reads the one event struct that type names. Both borrow strings from the
//! input, so a report allocates little beyond its client id.

use super::{DecodeError, asset, client_id, fast, non_negative, reason, status, symbol, trade_id};
use crate::domain::{Balance, Fill, OrderReport, Timestamp};
use crate::exchange::binance::symbols::ResolveSymbol;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::borrow::Cow;

/// The `id` we gave a request, echoed back (Binance accepts strings, integers or null).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(pub String);

/// Binance's error object: `{"code":-1003,"msg":"...","data":{"retryAfter":...}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiErrorBody {
    pub code: i64,
    pub msg: String,
    /// WebSocket API: epoch milliseconds (server clock) when requests may resume.
    pub retry_after_ms: Option<i64>,
}

/// An order list update (`listStatus`). Bert places no order lists; it is decoded for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListStatusSummary {
    pub symbol: String,
    pub order_list_id: i64,
    pub list_status_type: String,
    pub list_order_status: String,
    pub reject_reason: Option<String>,
}

/// A user data stream event in domain terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserEvent {
    /// `executionReport`, converted (cancel reports already carry the original client id).
    Order(OrderReport),
    /// `outboundAccountPosition`: the balances that changed.
    Balances(Vec<Balance>),
    /// `balanceUpdate`: a deposit, withdrawal or transfer changed `asset` by `delta`.
    BalanceDelta { asset: String, delta: Decimal, time: Timestamp },
    /// `externalLockUpdate`: part of the balance was locked or unlocked by another system.
    ExternalLock { asset: String, delta: Decimal, time: Timestamp },
    /// `listStatus`.
    ListStatus(ListStatusSummary),
    /// `eventStreamTerminated`: this subscription delivers nothing more.
    StreamTerminated { time: Timestamp },
    /// `serverShutdown`: this connection is about to close.
    ServerShutdown { time: Timestamp },
    /// An event type Bert does not know (kept for the log).
    Other { kind: String },
}

/// One decoded WebSocket API text frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserFrame {
    Response {
        id: Option<RequestId>,
        status: u16,
        /// `result.subscriptionId`, present in subscribe responses.
        subscription_id: Option<u64>,
        error: Option<ApiErrorBody>,
    },
    Event {
        subscription_id: Option<u64>,
        event: UserEvent,
    },
}

#[derive(Deserialize)]
struct FrameHead<'a> {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    result: Option<serde_json::Value>,
    #[serde(default)]
    error: Option<ErrorWire>,
    #[serde(rename = "subscriptionId", default)]
    subscription_id: Option<u64>,
    #[serde(borrow, default)]
    event: Option<EventHead<'a>>,
    /// Set when the frame is a bare event object.
    #[serde(rename = "e", borrow, default)]
    bare_kind: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct EventHead<'a> {
    #[serde(rename = "e", borrow)]
    kind: Cow<'a, str>,
}

#[derive(Deserialize)]
struct ErrorWire {
    code: i64,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    data: Option<ErrorData>,
}

#[derive(Deserialize)]
struct ErrorData {
    #[serde(rename = "retryAfter", default)]
    retry_after: Option<i64>,
}

#[derive(Deserialize)]
struct Envelope<T> {
    event: T,
}

/// The `executionReport` fields Bert uses (of ~35; the rest are skipped).
#[derive(Deserialize)]
pub(crate) struct ExecutionReportWire<'a> {
    #[serde(rename = "s", borrow)]
    pub(crate) symbol: Cow<'a, str>,
    #[serde(rename = "c", borrow)]
    pub(crate) client_id: Cow<'a, str>,
    #[serde(rename = "C", borrow, default)]
    pub(crate) orig_client_id: Option<Cow<'a, str>>,
    #[serde(rename = "x", borrow)]
    pub(crate) exec_type: Cow<'a, str>,
    #[serde(rename = "X", borrow)]
    pub(crate) status: Cow<'a, str>,
    #[serde(rename = "r", borrow, default)]
    pub(crate) reject_reason: Option<Cow<'a, str>>,
    #[serde(rename = "eR", borrow, default)]
    pub(crate) expiry_reason: Option<Cow<'a, str>>,
    #[serde(rename = "i")]
    pub(crate) order_id: u64,
    #[serde(rename = "l", with = "rust_decimal::serde::str")]
    pub(crate) last_qty: Decimal,
    #[serde(rename = "L", with = "rust_decimal::serde::str")]
    pub(crate) last_price: Decimal,
    #[serde(rename = "z", with = "rust_decimal::serde::str")]
    pub(crate) cum_qty: Decimal,
    #[serde(rename = "Z", with = "rust_decimal::serde::str")]
    pub(crate) cum_quote: Decimal,
    #[serde(rename = "n", with = "rust_decimal::serde::str_option", default)]
    pub(crate) commission: Option<Decimal>,
    #[serde(rename = "N", borrow, default)]
    pub(crate) commission_asset: Option<Cow<'a, str>>,
    #[serde(rename = "T")]
    pub(crate) transact_time: i64,
    #[serde(rename = "t")]
    pub(crate) trade_id: i64,
}

#[derive(Deserialize)]
struct BalanceWire<'a> {
    #[serde(rename = "a", borrow)]
    asset: Cow<'a, str>,
    #[serde(rename = "f", with = "rust_decimal::serde::str")]
    free: Decimal,
    #[serde(rename = "l", with = "rust_decimal::serde::str")]
    locked: Decimal,
}

#[derive(Deserialize)]
struct AccountPositionWire<'a> {
    #[serde(rename = "B", borrow)]
    balances: Vec<BalanceWire<'a>>,
}

#[derive(Deserialize)]
struct DeltaWire<'a> {
    #[serde(rename = "a", borrow)]
    asset: Cow<'a, str>,
    #[serde(rename = "d", with = "rust_decimal::serde::str")]
    delta: Decimal,
    #[serde(rename = "T", default)]
    time: i64,
}

#[derive(Deserialize)]
struct ListStatusWire<'a> {
    #[serde(rename = "s", borrow)]
    symbol: Cow<'a, str>,
    #[serde(rename = "g")]
    order_list_id: i64,
    #[serde(rename = "l", borrow)]
    list_status_type: Cow<'a, str>,
    #[serde(rename = "L", borrow)]
    list_order_status: Cow<'a, str>,
    #[serde(rename = "r", borrow, default)]
    reject_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct TimeOnlyWire {
    #[serde(rename = "E", default)]
    time: i64,
}

/// Decodes one WebSocket API text frame.
pub fn decode_user_frame(text: &str, resolver: &impl ResolveSymbol) -> Result<UserFrame, DecodeError> {
    if let Some((subscription_id, event)) = fast::envelope(text)
        && let Some(wire) = fast::execution_report(event)
    {
        return Ok(UserFrame::Event { subscription_id, event: UserEvent::Order(execution_report(wire, resolver)?) });
    }
    decode_user_frame_serde(text, resolver)
}

/// [`decode_user_frame`] without the fast path (the reference the fast path is tested against).
pub(crate) fn decode_user_frame_serde(text: &str, resolver: &impl ResolveSymbol) -> Result<UserFrame, DecodeError> {
    let head: FrameHead<'_> = serde_json::from_str(text)?;
    if let Some(ev) = &head.event {
        let event = decode_event_body(&ev.kind, text, true, resolver)?;
        return Ok(UserFrame::Event { subscription_id: head.subscription_id, event });
    }
    if let Some(kind) = &head.bare_kind {
        let event = decode_event_body(kind, text, false, resolver)?;
        return Ok(UserFrame::Event { subscription_id: head.subscription_id, event });
    }
    let Some(status) = head.status else {
        return Err(DecodeError("frame is neither a response nor an event".into()));
    };
    let id = match head.id {
        Some(serde_json::Value::String(s)) => Some(RequestId(s)),
        Some(serde_json::Value::Number(n)) => Some(RequestId(n.to_string())),
        _ => None,
    };
    let subscription_id = head.result.as_ref().and_then(|r| r.get("subscriptionId")).and_then(|v| v.as_u64());
    let error = head.error.map(|e| ApiErrorBody {
        code: e.code,
        msg: e.msg,
        retry_after_ms: e.data.and_then(|d| d.retry_after),
    });
    Ok(UserFrame::Response { id, status, subscription_id, error })
}

fn parse_event<'a, T: Deserialize<'a>>(text: &'a str, wrapped: bool) -> Result<T, DecodeError> {
    if wrapped { Ok(serde_json::from_str::<Envelope<T>>(text)?.event) } else { Ok(serde_json::from_str::<T>(text)?) }
}

fn decode_event_body(
    kind: &str,
    text: &str,
    wrapped: bool,
    resolver: &impl ResolveSymbol,
) -> Result<UserEvent, DecodeError> {
    Ok(match kind {
        "executionReport" => UserEvent::Order(execution_report(parse_event(text, wrapped)?, resolver)?),
        "outboundAccountPosition" => {
            let w: AccountPositionWire<'_> = parse_event(text, wrapped)?;
            UserEvent::Balances(balances(w.balances))
        }
        "balanceUpdate" => {
            let w: DeltaWire<'_> = parse_event(text, wrapped)?;
            UserEvent::BalanceDelta { asset: w.asset.into_owned(), delta: w.delta, time: Timestamp(w.time) }
        }
        "externalLockUpdate" => {
            let w: DeltaWire<'_> = parse_event(text, wrapped)?;
            UserEvent::ExternalLock { asset: w.asset.into_owned(), delta: w.delta, time: Timestamp(w.time) }
        }
        "listStatus" => {
            let w: ListStatusWire<'_> = parse_event(text, wrapped)?;
            UserEvent::ListStatus(ListStatusSummary {
                symbol: w.symbol.into_owned(),
                order_list_id: w.order_list_id,
                list_status_type: w.list_status_type.into_owned(),
                list_order_status: w.list_order_status.into_owned(),
                reject_reason: reason(w.reject_reason.as_deref()),
            })
        }
        "eventStreamTerminated" => {
            let w: TimeOnlyWire = parse_event(text, wrapped)?;
            UserEvent::StreamTerminated { time: Timestamp(w.time) }
        }
        "serverShutdown" => {
            let w: TimeOnlyWire = parse_event(text, wrapped)?;
            UserEvent::ServerShutdown { time: Timestamp(w.time) }
        }
        other => UserEvent::Other { kind: other.to_string() },
    })
}

/// Balances in the domain; an asset code Bert cannot represent (e.g. the testnet's non-ASCII
/// test asset) cannot be one of Bert's positions, so it is skipped rather than failing the
/// whole update.
fn balances(wire: Vec<BalanceWire<'_>>) -> Vec<Balance> {
    wire.into_iter()
        .filter_map(|b| match asset(&b.asset) {
            Ok(a) => Some(Balance { asset: a, free: b.free, locked: b.locked }),
            Err(e) => {
                tracing::debug!(reason = %e, "skipping a balance Bert cannot represent");
                None
            }
        })
        .collect()
}

/// Decodes a bare `executionReport` object (the `event` of a frame).
pub fn decode_execution_report(text: &str, resolver: &impl ResolveSymbol) -> Result<OrderReport, DecodeError> {
    match fast::execution_report(text) {
        Some(wire) => execution_report(wire, resolver),
        None => execution_report_serde(text, resolver),
    }
}

/// [`decode_execution_report`] without the fast path.
pub(crate) fn execution_report_serde(text: &str, resolver: &impl ResolveSymbol) -> Result<OrderReport, DecodeError> {
    execution_report(serde_json::from_str(text)?, resolver)
}

fn execution_report(w: ExecutionReportWire<'_>, resolver: &impl ResolveSymbol) -> Result<OrderReport, DecodeError> {
    let sym = symbol(resolver, &w.symbol)?;
    // On a cancel report Binance puts the cancel request's id in `c` and the order's own id in
    // `C`; the domain report always names the order by the id Bert gave it.
    let id = match w.orig_client_id.as_deref() {
        Some(orig) if w.exec_type == "CANCELED" && !orig.is_empty() => orig,
        _ => &w.client_id,
    };
    let fill = if w.exec_type == "TRADE" {
        let fee = w.commission.unwrap_or(Decimal::ZERO);
        let fee_asset = match w.commission_asset.as_deref() {
            Some(a) if !a.is_empty() => asset(a)?,
            // No asset is only plausible with no fee; which asset a zero fee is in is moot.
            _ if fee.is_zero() => sym.quote,
            _ => return Err(DecodeError("trade with a commission but no commission asset".into())),
        };
        Some(Fill {
            trade_id: trade_id(w.trade_id)?,
            price: non_negative("price", w.last_price)?,
            qty: non_negative("quantity", w.last_qty)?,
            fee,
            fee_asset,
            time: Timestamp(w.transact_time),
        })
    } else {
        None
    };
    Ok(OrderReport {
        symbol: sym,
        client_id: client_id(id)?,
        exchange_id: Some(w.order_id),
        status: status(&w.status)?,
        cum_qty: non_negative("cumulative quantity", w.cum_qty)?,
        cum_quote: w.cum_quote,
        fill,
        reason: reason(w.reject_reason.as_deref()).or_else(|| reason(w.expiry_reason.as_deref())),
        time: Timestamp(w.transact_time),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::{AssetCode, OrderStatus};
    use crate::exchange::binance::wire::test_util::resolver;
    use rust_decimal_macros::dec;

    /// §5.3, verbatim (comments stripped).
    pub(crate) const EXECUTION_NEW: &str = r#"{
    "subscriptionId": 0,
    "event": {
        "e": "executionReport", "E": 1499405658658, "s": "ETHBTC", "c": "mUvoqJxFIILMdfAW5iGSOW",
        "S": "BUY", "o": "LIMIT", "f": "GTC", "q": "1.00000000", "p": "0.10264410", "P": "0.00000000",
        "F": "0.00000000", "g": -1, "C": "", "x": "NEW", "X": "NEW", "r": "NONE", "i": 4293153,
        "l": "0.00000000", "z": "0.00000000", "L": "0.00000000", "n": "0", "N": null,
        "T": 1499405658657, "t": -1, "v": 3, "I": 8641984, "w": true, "m": false, "M": false,
        "O": 1499405658657, "Z": "0.00000000", "Y": "0.00000000", "Q": "0.00000000",
        "W": 1499405658657, "V": "NONE"
    }
}"#;

    /// §5.4: the five frames of a MARKET buy for 6 that finds 4 (bare events, as the FAQ prints).
    const MARKET_SEQUENCE: [&str; 5] = [
        r#"{"e":"executionReport","E":1719467634107,"s":"LTCBNB","c":"8LGC97RRgNPVQk979VIhjt","S":"BUY","o":"MARKET","f":"GTC","q":"6.00000000","p":"0.00000000","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"NEW","X":"NEW","r":"NONE","i":32,"l":"0.00000000","z":"0.00000000","L":"0.00000000","n":"0","N":null,"T":1719467634105,"t":-1,"I":62,"w":true,"m":false,"M":false,"O":1719467634105,"Z":"0.00000000","Y":"0.00000000","Q":"0.00000000","W":1719467634105,"V":"NONE"}"#,
        r#"{"e":"executionReport","E":1719467634107,"s":"LTCBNB","c":"8LGC97RRgNPVQk979VIhjt","S":"BUY","o":"MARKET","f":"GTC","q":"6.00000000","p":"0.00000000","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":32,"l":"2.00000000","z":"2.00000000","L":"1.00000000","n":"0.00100000","N":"BNB","T":1719467634105,"t":7,"I":63,"w":false,"m":false,"M":true,"O":1719467634105,"Z":"2.00000000","Y":"2.00000000","Q":"0.00000000","W":1719467634105,"V":"NONE"}"#,
        r#"{"e":"executionReport","E":1719467634107,"s":"LTCBNB","c":"8LGC97RRgNPVQk979VIhjt","S":"BUY","o":"MARKET","f":"GTC","q":"6.00000000","p":"0.00000000","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":32,"l":"2.00000000","z":"4.00000000","L":"1.00000000","n":"0.00100000","N":"BNB","T":1719467634105,"t":8,"I":65,"w":false,"m":false,"M":true,"O":1719467634105,"Z":"4.00000000","Y":"2.00000000","Q":"0.00000000","W":1719467634105,"V":"NONE"}"#,
        r#"{"e":"executionReport","E":1719467634107,"s":"LTCBNB","c":"8LGC97RRgNPVQk979VIhjt","S":"BUY","o":"MARKET","f":"GTC","q":"6.00000000","p":"0.00000000","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"EXPIRED","X":"EXPIRED","r":"NONE","i":32,"l":"0.00000000","z":"4.00000000","L":"0.00000000","n":"0","N":null,"T":1719467634105,"t":-1,"I":67,"w":false,"m":false,"M":false,"O":1719467634105,"Z":"4.00000000","Y":"0.00000000","Q":"0.00000000","W":1719467634105,"V":"NONE"}"#,
        r#"{"e":"outboundAccountPosition","E":1719467634107,"u":1719467634105,"B":[{"a":"LTC","f":"3011.11745670","l":"0.00000000"},{"a":"BNB","f":"996.11865670","l":"0.00000000"}]}"#,
    ];

    fn event(text: &str) -> (Option<u64>, UserEvent) {
        match decode_user_frame(text, &resolver).unwrap() {
            UserFrame::Event { subscription_id, event } => (subscription_id, event),
            other => panic!("not an event: {other:?}"),
        }
    }

    fn order(text: &str) -> OrderReport {
        match event(text).1 {
            UserEvent::Order(r) => r,
            other => panic!("not an order: {other:?}"),
        }
    }

    #[test]
    fn new_report_from_the_reference() {
        let (sub, ev) = event(EXECUTION_NEW);
        assert_eq!(sub, Some(0));
        let UserEvent::Order(r) = ev else { panic!("{ev:?}") };
        assert_eq!(r.symbol.pair(), "ETHBTC");
        assert_eq!(r.client_id.as_str(), "mUvoqJxFIILMdfAW5iGSOW");
        assert_eq!(r.exchange_id, Some(4293153));
        assert_eq!(r.status, OrderStatus::New);
        assert_eq!(r.cum_qty, dec!(0));
        assert_eq!(r.fill, None);
        assert_eq!(r.reason, None);
        assert_eq!(r.time, Timestamp(1499405658657));
    }

    #[test]
    fn market_sequence_partial_fills_then_expired() {
        let reports: Vec<OrderReport> = MARKET_SEQUENCE[..4].iter().map(|t| order(t)).collect();
        assert_eq!(
            reports.iter().map(|r| r.status).collect::<Vec<_>>(),
            [OrderStatus::New, OrderStatus::PartiallyFilled, OrderStatus::PartiallyFilled, OrderStatus::Expired]
        );
        // z/Z are cumulative; each TRADE carries its own fill (t, l, L, n, N).
        assert_eq!(reports.iter().map(|r| r.cum_qty).collect::<Vec<_>>(), [dec!(0), dec!(2), dec!(4), dec!(4)]);
        assert_eq!(reports[2].cum_quote, dec!(4));
        let f = reports[1].fill.as_ref().unwrap();
        assert_eq!((f.trade_id, f.qty, f.price, f.fee), (7, dec!(2), dec!(1), dec!(0.001)));
        assert_eq!(f.fee_asset, AssetCode::new("BNB").unwrap());
        assert_eq!(f.time, Timestamp(1719467634105));
        assert_eq!(reports[2].fill.as_ref().unwrap().trade_id, 8);
        assert_eq!(reports[3].fill, None);
        let (_, ev) = event(MARKET_SEQUENCE[4]);
        let UserEvent::Balances(b) = ev else { panic!("{ev:?}") };
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].asset.as_str(), b[0].free, b[0].locked), ("LTC", dec!(3011.11745670), dec!(0)));
    }

    #[test]
    fn cancel_report_names_the_original_order() {
        let text = EXECUTION_NEW
            .replace(r#""C": """#, r#""C": "bK3x9Q-16-s1""#)
            .replace(r#""c": "mUvoqJxFIILMdfAW5iGSOW""#, r#""c": "cancelMyOrder1""#)
            .replace(r#""x": "NEW", "X": "NEW""#, r#""x": "CANCELED", "X": "CANCELED""#);
        let r = order(&text);
        assert_eq!(r.client_id.as_str(), "bK3x9Q-16-s1");
        assert_eq!(r.status, OrderStatus::Canceled);
        // An empty C on a cancel (it happens for exchange-side cancels) falls back to c.
        let text = EXECUTION_NEW.replace(r#""x": "NEW", "X": "NEW""#, r#""x": "CANCELED", "X": "CANCELED""#);
        assert_eq!(order(&text).client_id.as_str(), "mUvoqJxFIILMdfAW5iGSOW");
    }

    #[test]
    fn reject_and_expiry_reasons_are_kept() {
        let rejected = EXECUTION_NEW.replace(
            r#""x": "NEW", "X": "NEW", "r": "NONE""#,
            r#""x": "REJECTED", "X": "REJECTED", "r": "INSUFFICIENT_BALANCES""#,
        );
        let r = order(&rejected);
        assert_eq!(r.status, OrderStatus::Rejected);
        assert_eq!(r.reason.as_deref(), Some("INSUFFICIENT_BALANCES"));
        let expired = EXECUTION_NEW
            .replace(r#""x": "NEW", "X": "NEW""#, r#""x": "EXPIRED", "X": "EXPIRED""#)
            .replace(r#""V": "NONE""#, r#""V": "NONE", "eR": "UNFILLED_IOC_QUANTITY_EXPIRED""#);
        assert_eq!(order(&expired).reason.as_deref(), Some("UNFILLED_IOC_QUANTITY_EXPIRED"));
    }

    #[test]
    fn other_events() {
        let (_, ev) = event(
            r#"{"subscriptionId":0,"event":{"e":"balanceUpdate","E":1573200697110,"a":"BTC","d":"100.00000000","T":1573200697068}}"#,
        );
        assert_eq!(
            ev,
            UserEvent::BalanceDelta { asset: "BTC".into(), delta: dec!(100), time: Timestamp(1573200697068) }
        );
        let (sub, ev) = event(r#"{"subscriptionId":3,"event":{"e":"eventStreamTerminated","E":1728973001334}}"#);
        assert_eq!((sub, ev), (Some(3), UserEvent::StreamTerminated { time: Timestamp(1728973001334) }));
        let (sub, ev) = event(r#"{"event":{"e":"serverShutdown","E":1770123456789}}"#);
        assert_eq!((sub, ev), (None, UserEvent::ServerShutdown { time: Timestamp(1770123456789) }));
        let (_, ev) = event(
            r#"{"subscriptionId":0,"event":{"e":"listStatus","E":1564035303637,"s":"ETHBTC","g":2,"c":"OCO","l":"EXEC_STARTED","L":"EXECUTING","r":"NONE","C":"F4QN4G8DlFATFlIUQ0cjdD","T":1564035303625,"O":[{"s":"ETHBTC","i":17,"c":"AJYsMjErWJesZvqlJCTUgL"},{"s":"ETHBTC","i":18,"c":"bfYPSQdLoqAJeNrOr9adzq"}]}}"#,
        );
        let UserEvent::ListStatus(l) = ev else { panic!("{ev:?}") };
        assert_eq!((l.order_list_id, l.list_status_type.as_str(), l.reject_reason), (2, "EXEC_STARTED", None));
        let (_, ev) = event(
            r#"{"subscriptionId":0,"event":{"e":"externalLockUpdate","E":1581557507324,"a":"NEO","d":"10.00000000","T":1581557507268}}"#,
        );
        assert!(matches!(ev, UserEvent::ExternalLock { .. }));
        let (_, ev) = event(r#"{"subscriptionId":0,"event":{"e":"somethingNew","E":1}}"#);
        assert_eq!(ev, UserEvent::Other { kind: "somethingNew".into() });
    }

    #[test]
    fn responses() {
        let f = decode_user_frame(
            r#"{"id":"d3df8a22-98ea-4fe0-9f4e-0fcea5d418b7","status":200,"result":{"subscriptionId":0}}"#,
            &resolver,
        )
        .unwrap();
        assert_eq!(
            f,
            UserFrame::Response {
                id: Some(RequestId("d3df8a22-98ea-4fe0-9f4e-0fcea5d418b7".into())),
                status: 200,
                subscription_id: Some(0),
                error: None
            }
        );
        // §7.7: the 418 ban frame, retryAfter as epoch milliseconds.
        let f = decode_user_frame(
            r#"{"id":"fc93a61a-a192-4cf4-bb2a-a8f0f0c51e06","status":418,"error":{"code":-1003,"msg":"Way too much request weight used; IP banned until 1659146400000. Please use WebSocket Streams for live updates to avoid bans.","data":{"serverTime":1659142907531,"retryAfter":1659146400000}},"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":2411}]}"#,
            &resolver,
        )
        .unwrap();
        let UserFrame::Response { status, error: Some(e), .. } = f else { panic!("{f:?}") };
        assert_eq!((status, e.code, e.retry_after_ms), (418, -1003, Some(1659146400000)));
        // §4.2: key revoked; id null.
        let f = decode_user_frame(
            r#"{"id":null,"status":401,"error":{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}}"#,
            &resolver,
        )
        .unwrap();
        assert!(matches!(
            f,
            UserFrame::Response { id: None, status: 401, error: Some(ApiErrorBody { code: -2015, .. }), .. }
        ));
    }

    #[test]
    fn bad_frames_are_errors() {
        for bad in [
            "",
            "{",
            "[]",
            "{}",
            r#"{"event":{}}"#,
            r#"{"event":{"e":"executionReport"}}"#,
            &EXECUTION_NEW.replace(r#""X": "NEW""#, r#""X": "PENDING_CANCEL""#),
            &EXECUTION_NEW.replace(r#""s": "ETHBTC""#, r#""s": "NOPE""#),
            &EXECUTION_NEW.replace(r#""z": "0.00000000""#, r#""z": 0.5"#),
            &EXECUTION_NEW.replace(r#""z": "0.00000000""#, r#""z": "-1""#),
            &EXECUTION_NEW.replace(r#""c": "mUvoqJxFIILMdfAW5iGSOW""#, r#""c": "bad id!""#),
            &MARKET_SEQUENCE[1].replace(r#""t":7"#, r#""t":-1"#),
            &MARKET_SEQUENCE[1].replace(r#""N":"BNB""#, r#""N":null"#),
        ] {
            assert!(decode_user_frame(bad, &resolver).is_err(), "{bad}");
        }
    }
}
