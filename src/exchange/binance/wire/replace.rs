//! `POST /api/v3/order/cancelReplace` answers.
//!
//! The operation is not transactional. In `STOP_ON_FAILURE` mode Binance answers:
//! * 200: both done;
//! * 400 with a filter error and no `data`: refused before anything happened;
//! * 400 `-2022` with `data.cancelResult = FAILURE`: the cancel failed, the new order was not
//!   attempted, the old order is untouched;
//! * 409 `-2021` with `data.cancelResult = SUCCESS, newOrderResult = FAILURE`: the old order is
//!   **cancelled** and the new one refused, so the position it protected has no stop.

use super::DecodeError;
use super::order::decode_order;
use crate::domain::OrderReport;
use crate::exchange::binance::symbols::ResolveSymbol;
use serde_json::Value;

/// What a cancel-replace did, in domain terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplaceAnswer {
    /// The old order is cancelled and the new one placed.
    Replaced { canceled: OrderReport, placed: OrderReport },
    /// The old order is cancelled but the new one was refused (`code`, `reason`): whatever the
    /// old order protected is unprotected until another order is placed.
    CanceledOnly { canceled: Option<OrderReport>, code: i64, reason: String },
    /// The cancel failed (e.g. `-2011 Unknown order sent.`), so nothing was attempted.
    CancelFailed { code: i64, reason: String },
    /// Refused before anything happened (filters, parameters).
    Refused { code: i64, reason: String },
}

fn report(v: Option<&Value>, resolver: &impl ResolveSymbol) -> Option<Result<OrderReport, DecodeError>> {
    let v = v.filter(|v| v.is_object() && v.get("code").is_none())?;
    Some(decode_order(v.to_string().as_bytes(), resolver).map(|d| d.report))
}

fn error_of(v: Option<&Value>) -> (i64, String) {
    let code = v.and_then(|v| v.get("code")).and_then(Value::as_i64).unwrap_or(0);
    let msg = v.and_then(|v| v.get("msg")).and_then(Value::as_str).unwrap_or("").to_string();
    (code, msg)
}

/// Decodes an answer of any status below 500.
pub fn decode_replace(status: u16, body: &[u8], resolver: &impl ResolveSymbol) -> Result<ReplaceAnswer, DecodeError> {
    let v: Value = serde_json::from_slice(body)?;
    if (200..300).contains(&status) {
        let canceled = report(v.get("cancelResponse"), resolver)
            .ok_or_else(|| DecodeError("cancel-replace answer without cancelResponse".into()))??;
        let placed = report(v.get("newOrderResponse"), resolver)
            .ok_or_else(|| DecodeError("cancel-replace answer without newOrderResponse".into()))??;
        return Ok(ReplaceAnswer::Replaced { canceled, placed });
    }
    let (code, msg) = error_of(Some(&v));
    let Some(data) = v.get("data").filter(|d| d.is_object()) else {
        return Ok(ReplaceAnswer::Refused { code, reason: msg });
    };
    let result = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or("");
    match (result("cancelResult"), result("newOrderResult")) {
        ("SUCCESS", _) => {
            let (code, reason) = error_of(data.get("newOrderResponse"));
            let canceled = report(data.get("cancelResponse"), resolver).and_then(Result::ok);
            Ok(ReplaceAnswer::CanceledOnly { canceled, code, reason })
        }
        ("FAILURE", _) => {
            let (code, reason) = error_of(data.get("cancelResponse"));
            Ok(ReplaceAnswer::CancelFailed { code, reason })
        }
        _ => Ok(ReplaceAnswer::Refused { code, reason: msg }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrderStatus;
    use crate::exchange::binance::wire::test_util::resolver;

    const CANCEL: &str = r#"{"symbol":"BTCUSDT","origClientOrderId":"old-stop","orderId":4,"orderListId":-1,"clientOrderId":"cxl1","transactTime":1684804350068,"price":"40000.00000000","origQty":"1.00000000","executedQty":"0.00000000","cummulativeQuoteQty":"0.00000000","status":"CANCELED","timeInForce":"GTC","type":"STOP_LOSS_LIMIT","side":"SELL","selfTradePreventionMode":"NONE"}"#;
    const NEW: &str = r#"{"symbol":"BTCUSDT","orderId":5,"orderListId":-1,"clientOrderId":"new-stop","transactTime":1684804350068,"price":"41000.00000000","origQty":"1.00000000","executedQty":"0.00000000","cummulativeQuoteQty":"0.00000000","status":"NEW","timeInForce":"GTC","type":"STOP_LOSS_LIMIT","side":"SELL","selfTradePreventionMode":"NONE"}"#;

    #[test]
    fn both_done() {
        let body = format!(
            r#"{{"cancelResult":"SUCCESS","newOrderResult":"SUCCESS","cancelResponse":{CANCEL},"newOrderResponse":{NEW}}}"#
        );
        let ReplaceAnswer::Replaced { canceled, placed } = decode_replace(200, body.as_bytes(), &resolver).unwrap()
        else {
            panic!()
        };
        assert_eq!((canceled.client_id.as_str(), canceled.status), ("old-stop", OrderStatus::Canceled));
        assert_eq!((placed.client_id.as_str(), placed.status), ("new-stop", OrderStatus::New));
    }

    #[test]
    fn cancelled_but_new_order_refused() {
        let body = format!(
            r#"{{"code":-2021,"msg":"Order cancel-replace partially failed.","data":{{"cancelResult":"SUCCESS","newOrderResult":"FAILURE","cancelResponse":{CANCEL},"newOrderResponse":{{"code":-2010,"msg":"Order would trigger immediately."}}}}}}"#
        );
        let a = decode_replace(409, body.as_bytes(), &resolver).unwrap();
        let ReplaceAnswer::CanceledOnly { canceled: Some(c), code: -2010, reason } = a else { panic!("{a:?}") };
        assert_eq!(c.client_id.as_str(), "old-stop");
        assert_eq!(reason, "Order would trigger immediately.");
    }

    #[test]
    fn cancel_failed_or_refused() {
        let body = r#"{"code":-2022,"msg":"Order cancel-replace failed.","data":{"cancelResult":"FAILURE","newOrderResult":"NOT_ATTEMPTED","cancelResponse":{"code":-2011,"msg":"Unknown order sent."},"newOrderResponse":null}}"#;
        assert_eq!(
            decode_replace(400, body.as_bytes(), &resolver).unwrap(),
            ReplaceAnswer::CancelFailed { code: -2011, reason: "Unknown order sent.".into() }
        );
        let body = r#"{"code":-1013,"msg":"Filter failure: PRICE_FILTER"}"#;
        assert_eq!(
            decode_replace(400, body.as_bytes(), &resolver).unwrap(),
            ReplaceAnswer::Refused { code: -1013, reason: "Filter failure: PRICE_FILTER".into() }
        );
        assert!(decode_replace(400, b"<html>", &resolver).is_err());
        assert!(decode_replace(200, br#"{"cancelResult":"SUCCESS"}"#, &resolver).is_err());
    }
}
