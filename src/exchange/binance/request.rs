//! Request parameters per endpoint, as pure functions (unit-tested without a network).
//!
//! Decimals are sent normalized and never in exponent form (`0.00010000` → `0.0001`,
//! `5E+1` → `50`): callers have already rounded to the tick and step, so the normalized form
//! has no more decimals than the filters allow (too many gives `-1111 BAD_PRECISION`).

use super::sign::QueryBuilder;
use crate::domain::{ClientOrderId, Order, OrderKind, Side, Symbol};
use crate::exchange::ExchangeError;
use rust_decimal::Decimal;

/// A decimal as Binance wants it: plain digits, no trailing zeros, no exponent.
pub fn fmt_decimal(d: Decimal) -> String {
    d.normalize().to_string()
}

fn local_reject(reason: &str) -> ExchangeError {
    // Code 0: refused by Bert before anything was sent.
    ExchangeError::Rejected { code: 0, reason: reason.to_string() }
}

/// `POST /api/v3/order` parameters for `order` (without `recvWindow`/`timestamp`/`signature`).
///
/// Always sends `newClientOrderId` (the engine's deterministic id, so a lost answer can be
/// resolved by query) and `newOrderRespType=RESULT` (status and cumulative quantities without
/// the fill list; fills come from the user stream and `myTrades`).
pub fn new_order(order: &Order) -> Result<QueryBuilder, ExchangeError> {
    if order.quantity <= Decimal::ZERO {
        return Err(local_reject("order quantity must be positive"));
    }
    let mut q = QueryBuilder::with_capacity(192);
    q.push("symbol", &order.symbol.pair()).push(
        "side",
        match order.side {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        },
    );
    match order.kind {
        OrderKind::LimitIoc => {
            let price = order.price.ok_or_else(|| local_reject("a LIMIT IOC order needs a price"))?;
            q.push("type", "LIMIT")
                .push("timeInForce", "IOC")
                .push("quantity", &fmt_decimal(order.quantity))
                .push("price", &fmt_decimal(price));
        }
        OrderKind::Market => {
            q.push("type", "MARKET").push("quantity", &fmt_decimal(order.quantity));
        }
        OrderKind::StopLossLimit => {
            let price = order.price.ok_or_else(|| local_reject("a STOP_LOSS_LIMIT order needs a limit price"))?;
            let stop = order.stop_price.ok_or_else(|| local_reject("a STOP_LOSS_LIMIT order needs a stop price"))?;
            q.push("type", "STOP_LOSS_LIMIT")
                .push("timeInForce", "GTC")
                .push("quantity", &fmt_decimal(order.quantity))
                .push("price", &fmt_decimal(price))
                .push("stopPrice", &fmt_decimal(stop));
        }
    }
    q.push("newClientOrderId", order.client_id.as_str()).push("newOrderRespType", "RESULT");
    Ok(q)
}

/// `POST /api/v3/order/cancelReplace`: cancel `old`, then place `new` (in `STOP_ON_FAILURE`
/// mode: if the cancel fails, the new order is not attempted).
pub fn cancel_replace(old: &ClientOrderId, new: &Order) -> Result<QueryBuilder, ExchangeError> {
    let mut q = new_order(new)?;
    q.push("cancelReplaceMode", "STOP_ON_FAILURE").push("cancelOrigClientOrderId", old.as_str());
    Ok(q)
}

/// `DELETE /api/v3/order` / `GET /api/v3/order` by the id Bert gave the order.
pub fn by_client_id(symbol: Symbol, client_id: &ClientOrderId) -> QueryBuilder {
    let mut q = QueryBuilder::with_capacity(64);
    q.push("symbol", &symbol.pair()).push("origClientOrderId", client_id.as_str());
    q
}

/// `GET /api/v3/openOrders`.
pub fn open_orders(symbol: Option<Symbol>) -> QueryBuilder {
    let mut q = QueryBuilder::default();
    if let Some(s) = symbol {
        q.push("symbol", &s.pair());
    }
    q
}

/// `GET /api/v3/myTrades` for one order, from trade id `from_id` on.
pub fn my_trades(symbol: Symbol, order_id: u64, from_id: Option<u64>, limit: u32) -> QueryBuilder {
    let mut q = QueryBuilder::default();
    q.push("symbol", &symbol.pair()).push("orderId", &order_id.to_string());
    if let Some(f) = from_id {
        q.push("fromId", &f.to_string());
    }
    q.push("limit", &limit.to_string());
    q
}

/// `GET /api/v3/exchangeInfo` for the given symbols (`symbols=["A","B"]`, percent-encoded).
pub fn exchange_info(symbols: &[Symbol]) -> QueryBuilder {
    let mut q = QueryBuilder::default();
    match symbols {
        [one] => {
            q.push("symbol", &one.pair());
        }
        many => {
            let list: Vec<String> = many.iter().map(|s| format!("\"{}\"", s.pair())).collect();
            q.push("symbols", &format!("[{}]", list.join(",")));
        }
    }
    q
}

/// `GET /api/v3/klines`.
pub fn klines(symbol: Symbol, interval: &str, limit: usize, end_time: Option<i64>) -> QueryBuilder {
    let mut q = QueryBuilder::default();
    q.push("symbol", &symbol.pair()).push("interval", interval).push("limit", &limit.to_string());
    if let Some(e) = end_time {
        q.push("endTime", &e.to_string());
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AssetCode, OrderRole, PositionId, Timestamp};
    use rust_decimal_macros::dec;

    fn btc() -> Symbol {
        Symbol::new(AssetCode::new("BTC").unwrap(), AssetCode::new("USDT").unwrap())
    }

    fn order(kind: OrderKind, price: Option<Decimal>, stop: Option<Decimal>) -> Order {
        let side = if kind == OrderKind::LimitIoc { Side::Buy } else { Side::Sell };
        let id = ClientOrderId::derive("K3x9Q", PositionId(42), OrderRole::Entry, 1);
        let mut o =
            Order::intent(id, PositionId(42), btc(), side, kind, OrderRole::Entry, dec!(0.00150000), Timestamp(0));
        o.price = price;
        o.stop_price = stop;
        o
    }

    #[test]
    fn decimals_are_plain_and_normalized() {
        assert_eq!(fmt_decimal(dec!(0.00010000)), "0.0001");
        assert_eq!(fmt_decimal(dec!(50000.00)), "50000");
        assert_eq!(fmt_decimal(Decimal::from_scientific("5e1").unwrap()), "50");
        assert_eq!(fmt_decimal(Decimal::from_scientific("1e-8").unwrap()), "0.00000001");
        assert_eq!(fmt_decimal(dec!(123.450)), "123.45");
    }

    #[test]
    fn each_order_kind() {
        let q = new_order(&order(OrderKind::LimitIoc, Some(dec!(50123.40)), None)).unwrap();
        assert_eq!(
            q.as_str(),
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=IOC&quantity=0.0015&price=50123.4&newClientOrderId=bK3x9Q-16-e1&newOrderRespType=RESULT"
        );
        let q = new_order(&order(OrderKind::Market, None, None)).unwrap();
        assert_eq!(
            q.as_str(),
            "symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.0015&newClientOrderId=bK3x9Q-16-e1&newOrderRespType=RESULT"
        );
        let q = new_order(&order(OrderKind::StopLossLimit, Some(dec!(42000)), Some(dec!(42100.50)))).unwrap();
        assert_eq!(
            q.as_str(),
            "symbol=BTCUSDT&side=SELL&type=STOP_LOSS_LIMIT&timeInForce=GTC&quantity=0.0015&price=42000&stopPrice=42100.5&newClientOrderId=bK3x9Q-16-e1&newOrderRespType=RESULT"
        );
    }

    #[test]
    fn incomplete_orders_are_refused_locally() {
        for o in [
            order(OrderKind::LimitIoc, None, None),
            order(OrderKind::StopLossLimit, Some(dec!(1)), None),
            order(OrderKind::StopLossLimit, None, Some(dec!(1))),
        ] {
            assert!(matches!(new_order(&o), Err(ExchangeError::Rejected { code: 0, .. })));
        }
        let mut zero = order(OrderKind::Market, None, None);
        zero.quantity = dec!(0);
        assert!(new_order(&zero).is_err());
    }

    #[test]
    fn other_requests() {
        let id = ClientOrderId::parse("bK3x9Q-16-s1").unwrap();
        assert_eq!(by_client_id(btc(), &id).as_str(), "symbol=BTCUSDT&origClientOrderId=bK3x9Q-16-s1");
        let new = order(OrderKind::StopLossLimit, Some(dec!(42000)), Some(dec!(42100)));
        assert!(cancel_replace(&id, &new).unwrap().as_str().ends_with(
            "&newOrderRespType=RESULT&cancelReplaceMode=STOP_ON_FAILURE&cancelOrigClientOrderId=bK3x9Q-16-s1"
        ));
        assert_eq!(open_orders(None).as_str(), "");
        assert_eq!(my_trades(btc(), 7, Some(9), 1000).as_str(), "symbol=BTCUSDT&orderId=7&fromId=9&limit=1000");
        let eth = Symbol::new(AssetCode::new("ETH").unwrap(), AssetCode::new("USDT").unwrap());
        assert_eq!(exchange_info(&[btc()]).as_str(), "symbol=BTCUSDT");
        assert_eq!(exchange_info(&[btc(), eth]).as_str(), "symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D");
        assert_eq!(klines(btc(), "1d", 201, Some(5)).as_str(), "symbol=BTCUSDT&interval=1d&limit=201&endTime=5");
    }
}
