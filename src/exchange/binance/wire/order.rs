//! REST order answers (place with `RESULT`/`FULL`, cancel, query, open orders) and `myTrades`.

use super::{DecodeError, asset, client_id, non_negative, reason, status, symbol, trade_id};
use crate::domain::{Fill, OrderReport, Side, Timestamp, Trade};
use crate::exchange::binance::symbols::ResolveSymbol;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::borrow::Cow;

/// An order answer: the report, plus the fills a `FULL` answer lists (empty otherwise).
///
/// `OrderReport` carries at most one fill, and the user stream is the source of fills, so the
/// adapter asks for `RESULT`; `FULL` is decoded for completeness and for reconciliation code
/// that wants the fills of a placement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedOrder {
    pub report: OrderReport,
    pub fills: Vec<Fill>,
}

#[derive(Deserialize)]
struct OrderWire<'a> {
    #[serde(borrow)]
    symbol: Cow<'a, str>,
    #[serde(rename = "orderId")]
    order_id: u64,
    #[serde(rename = "clientOrderId", borrow)]
    client_order_id: Cow<'a, str>,
    /// Only in cancel answers: the order's own id (`clientOrderId` is then the cancel's id).
    #[serde(rename = "origClientOrderId", borrow, default)]
    orig_client_order_id: Option<Cow<'a, str>>,
    #[serde(rename = "executedQty", with = "rust_decimal::serde::str")]
    executed_qty: Decimal,
    #[serde(rename = "cummulativeQuoteQty", with = "rust_decimal::serde::str")]
    cum_quote: Decimal,
    #[serde(borrow)]
    status: Cow<'a, str>,
    #[serde(rename = "transactTime", default)]
    transact_time: Option<i64>,
    #[serde(rename = "updateTime", default)]
    update_time: Option<i64>,
    #[serde(default)]
    time: Option<i64>,
    #[serde(rename = "expiryReason", borrow, default)]
    expiry_reason: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    fills: Vec<FillWire<'a>>,
}

#[derive(Deserialize)]
struct FillWire<'a> {
    #[serde(with = "rust_decimal::serde::str")]
    price: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    qty: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    commission: Decimal,
    #[serde(rename = "commissionAsset", borrow)]
    commission_asset: Cow<'a, str>,
    #[serde(rename = "tradeId")]
    trade_id: i64,
}

#[derive(Deserialize)]
struct TradeWire<'a> {
    #[serde(borrow)]
    symbol: Cow<'a, str>,
    id: i64,
    #[serde(rename = "orderId")]
    order_id: u64,
    #[serde(with = "rust_decimal::serde::str")]
    price: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    qty: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    commission: Decimal,
    #[serde(rename = "commissionAsset", borrow)]
    commission_asset: Cow<'a, str>,
    time: i64,
    #[serde(rename = "isBuyer")]
    is_buyer: bool,
}

fn convert(w: OrderWire<'_>, resolver: &impl ResolveSymbol) -> Result<DecodedOrder, DecodeError> {
    // A cancel answer's `clientOrderId` is the cancel's own id; the order is `origClientOrderId`.
    let id = match w.orig_client_order_id.as_deref() {
        Some(orig) if !orig.is_empty() => orig,
        _ => &w.client_order_id,
    };
    let time = w.transact_time.or(w.update_time).or(w.time).unwrap_or(0);
    let fills = w
        .fills
        .into_iter()
        .map(|f| {
            Ok(Fill {
                trade_id: trade_id(f.trade_id)?,
                price: non_negative("price", f.price)?,
                qty: non_negative("quantity", f.qty)?,
                fee: f.commission,
                fee_asset: asset(&f.commission_asset)?,
                time: Timestamp(time),
            })
        })
        .collect::<Result<Vec<_>, DecodeError>>()?;
    let report = OrderReport {
        symbol: symbol(resolver, &w.symbol)?,
        client_id: client_id(id)?,
        exchange_id: Some(w.order_id),
        status: status(&w.status)?,
        cum_qty: non_negative("executed quantity", w.executed_qty)?,
        // "For some historical orders cummulativeQuoteQty will be < 0, meaning the data is not
        // available": zero is the honest floor (cumulative values only ever grow in `Order`).
        cum_quote: w.cum_quote.max(Decimal::ZERO),
        fill: None,
        reason: reason(w.expiry_reason.as_deref()),
        time: Timestamp(time),
    };
    Ok(DecodedOrder { report, fills })
}

/// One order answer: `POST /api/v3/order` (`RESULT` or `FULL`), `DELETE /api/v3/order`,
/// `GET /api/v3/order`. (`ACK` answers carry no status and are refused.)
pub fn decode_order(body: &[u8], resolver: &impl ResolveSymbol) -> Result<DecodedOrder, DecodeError> {
    convert(serde_json::from_slice(body)?, resolver)
}

/// `GET /api/v3/openOrders`. Orders on pairs Bert cannot name or with foreign ids Bert could
/// not have sent are skipped (and logged), so one odd foreign order cannot blind
/// reconciliation to Bert's own.
pub fn decode_orders(body: &[u8], resolver: &impl ResolveSymbol) -> Result<Vec<OrderReport>, DecodeError> {
    let wire: Vec<OrderWire<'_>> = serde_json::from_slice(body)?;
    let mut out = Vec::with_capacity(wire.len());
    for w in wire {
        match convert(w, resolver) {
            Ok(d) => out.push(d.report),
            Err(e) => tracing::warn!(reason = %e, "skipping an open order Bert cannot read"),
        }
    }
    Ok(out)
}

/// `GET /api/v3/myTrades` → our trades, oldest first as Binance lists them.
pub fn decode_my_trades(body: &[u8], resolver: &impl ResolveSymbol) -> Result<Vec<Trade>, DecodeError> {
    let wire: Vec<TradeWire<'_>> = serde_json::from_slice(body)?;
    wire.into_iter()
        .map(|t| {
            Ok(Trade {
                symbol: symbol(resolver, &t.symbol)?,
                order_id: t.order_id,
                side: if t.is_buyer { Side::Buy } else { Side::Sell },
                fill: Fill {
                    trade_id: trade_id(t.id)?,
                    price: non_negative("price", t.price)?,
                    qty: non_negative("quantity", t.qty)?,
                    fee: t.commission,
                    fee_asset: asset(&t.commission_asset)?,
                    time: Timestamp(t.time),
                },
            })
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::OrderStatus;
    use crate::exchange::binance::wire::test_util::resolver;
    use rust_decimal_macros::dec;

    /// §6.2 FULL response, verbatim (comment stripped).
    pub(crate) const FULL_RESPONSE: &str = r#"{
    "symbol": "BTCUSDT", "orderId": 28, "orderListId": -1, "clientOrderId": "6gCrw2kRUAF9CvJDGP16IP",
    "transactTime": 1507725176595, "price": "0.00000000", "origQty": "10.00000000",
    "executedQty": "10.00000000", "origQuoteOrderQty": "0.000000", "cummulativeQuoteQty": "10.00000000",
    "status": "FILLED", "timeInForce": "GTC", "type": "MARKET", "side": "SELL",
    "workingTime": 1507725176595, "selfTradePreventionMode": "NONE",
    "fills": [
        {"price": "4000.00000000", "qty": "1.00000000", "commission": "4.00000000", "commissionAsset": "USDT", "tradeId": 56},
        {"price": "3999.00000000", "qty": "5.00000000", "commission": "19.99500000", "commissionAsset": "USDT", "tradeId": 57},
        {"price": "3998.00000000", "qty": "2.00000000", "commission": "7.99600000", "commissionAsset": "USDT", "tradeId": 58},
        {"price": "3997.00000000", "qty": "1.00000000", "commission": "3.99700000", "commissionAsset": "USDT", "tradeId": 59},
        {"price": "3995.00000000", "qty": "1.00000000", "commission": "3.99500000", "commissionAsset": "USDT", "tradeId": 60}
    ]
}"#;

    const RESULT_RESPONSE: &str = r#"{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"6gCrw2kRUAF9CvJDGP16IP","transactTime":1507725176595,"price":"0.00000000","origQty":"10.00000000","executedQty":"10.00000000","origQuoteOrderQty":"0.000000","cummulativeQuoteQty":"10.00000000","status":"FILLED","timeInForce":"GTC","type":"MARKET","side":"SELL","workingTime":1507725176595,"selfTradePreventionMode":"NONE"}"#;

    /// §5.4 MARKET answer that expired after filling 4 of 6.
    const EXPIRED_MARKET: &str = r#"{"symbol":"LTCBNB","orderId":32,"orderListId":-1,"clientOrderId":"8LGC97RRgNPVQk979VIhjt","transactTime":1719467634105,"price":"0.00000000","origQty":"6.00000000","executedQty":"4.00000000","cummulativeQuoteQty":"4.00000000","status":"EXPIRED","timeInForce":"GTC","type":"MARKET","side":"BUY","workingTime":1719467634105,"fills":[{"price":"1.00000000","qty":"2.00000000","commission":"0.00100000","commissionAsset":"BNB","tradeId":7},{"price":"1.00000000","qty":"2.00000000","commission":"0.00100000","commissionAsset":"BNB","tradeId":8}],"selfTradePreventionMode":"NONE","expiryReason":"INSUFFICIENT_LIQUIDITY"}"#;

    /// §6.5 query answer.
    const QUERY_RESPONSE: &str = r#"{"symbol":"LTCBTC","orderId":1,"orderListId":-1,"clientOrderId":"myOrder1","price":"0.1","origQty":"1.0","executedQty":"0.0","cummulativeQuoteQty":"0.0","status":"NEW","timeInForce":"GTC","type":"LIMIT","side":"BUY","stopPrice":"0.0","icebergQty":"0.0","time":1499827319559,"updateTime":1499827319559,"isWorking":true,"workingTime":1499827319559,"origQuoteOrderQty":"0.000000","selfTradePreventionMode":"NONE"}"#;

    /// §6.6 cancel answer.
    const CANCEL_RESPONSE: &str = r#"{"symbol":"LTCBTC","origClientOrderId":"myOrder1","orderId":4,"orderListId":-1,"clientOrderId":"cancelMyOrder1","transactTime":1684804350068,"price":"2.00000000","origQty":"1.00000000","executedQty":"0.00000000","origQuoteOrderQty":"0.000000","cummulativeQuoteQty":"0.00000000","status":"CANCELED","timeInForce":"GTC","type":"LIMIT","side":"BUY","selfTradePreventionMode":"NONE"}"#;

    /// §6.9 myTrades.
    const MY_TRADES: &str = r#"[{"symbol":"BNBBTC","id":28457,"orderId":100234,"orderListId":-1,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012","commission":"10.10000000","commissionAsset":"BNB","time":1499865549590,"isBuyer":true,"isMaker":false,"isBestMatch":true}]"#;

    #[test]
    fn full_response_with_fills() {
        let d = decode_order(FULL_RESPONSE.as_bytes(), &resolver).unwrap();
        assert_eq!(d.report.status, OrderStatus::Filled);
        assert_eq!(d.report.exchange_id, Some(28));
        assert_eq!(d.report.cum_qty, dec!(10));
        assert_eq!(d.report.time, Timestamp(1507725176595));
        assert_eq!(d.fills.iter().map(|f| f.trade_id).collect::<Vec<_>>(), [56, 57, 58, 59, 60]);
        assert_eq!(d.fills[1].fee, dec!(19.995));
        assert_eq!(d.fills.iter().map(|f| f.qty).sum::<Decimal>(), dec!(10));
    }

    #[test]
    fn result_response() {
        let d = decode_order(RESULT_RESPONSE.as_bytes(), &resolver).unwrap();
        assert_eq!(d.report.client_id.as_str(), "6gCrw2kRUAF9CvJDGP16IP");
        assert!(d.fills.is_empty());
        assert_eq!(d.report.cum_quote, dec!(10));
    }

    #[test]
    fn expired_market_keeps_the_expiry_reason() {
        let d = decode_order(EXPIRED_MARKET.as_bytes(), &resolver).unwrap();
        assert_eq!(d.report.status, OrderStatus::Expired);
        assert_eq!(d.report.cum_qty, dec!(4));
        assert_eq!(d.report.reason.as_deref(), Some("INSUFFICIENT_LIQUIDITY"));
        assert_eq!(d.fills.len(), 2);
    }

    #[test]
    fn query_and_cancel_answers() {
        let q = decode_order(QUERY_RESPONSE.as_bytes(), &resolver).unwrap().report;
        assert_eq!((q.status, q.exchange_id, q.time), (OrderStatus::New, Some(1), Timestamp(1499827319559)));
        let c = decode_order(CANCEL_RESPONSE.as_bytes(), &resolver).unwrap().report;
        assert_eq!(c.client_id.as_str(), "myOrder1", "cancel answers name the original order");
        assert_eq!(c.status, OrderStatus::Canceled);
        let list = format!("[{QUERY_RESPONSE},{}]", QUERY_RESPONSE.replace("LTCBTC", "NOSUCHPAIRX"));
        let open = decode_orders(list.as_bytes(), &resolver).unwrap();
        assert_eq!(open.len(), 1, "an unreadable foreign order is skipped, not fatal");
    }

    #[test]
    fn negative_historical_quote_is_floored() {
        let body = QUERY_RESPONSE.replace(r#""cummulativeQuoteQty":"0.0""#, r#""cummulativeQuoteQty":"-1.00000000""#);
        assert_eq!(decode_order(body.as_bytes(), &resolver).unwrap().report.cum_quote, dec!(0));
    }

    #[test]
    fn my_trades() {
        let t = decode_my_trades(MY_TRADES.as_bytes(), &resolver).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].order_id, t[0].side, t[0].fill.trade_id), (100234, Side::Buy, 28457));
        assert_eq!((t[0].fill.price, t[0].fill.qty, t[0].fill.fee), (dec!(4.000001), dec!(12), dec!(10.1)));
        assert_eq!(t[0].fill.fee_asset.as_str(), "BNB");
    }

    #[test]
    fn ack_and_garbage_are_errors() {
        let ack = r#"{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"6gCrw2kRUAF9CvJDGP16IP","transactTime":1507725176595}"#;
        assert!(decode_order(ack.as_bytes(), &resolver).is_err());
        assert!(decode_order(b"<html>", &resolver).is_err());
        assert!(decode_my_trades(b"{}", &resolver).is_err());
        let bad_status = RESULT_RESPONSE.replace("FILLED", "WHATEVER");
        assert!(decode_order(bad_status.as_bytes(), &resolver).is_err());
    }
}
