//! Binance adapter hot paths: decoding an `executionReport` (target < 1 µs) and building and
//! signing an order request (target < 5 µs).

use bert::domain::{
    AssetCode, ClientOrderId, Decimal, Order, OrderKind, OrderRole, PositionId, Side, Symbol, Timestamp,
};
use bert::exchange::binance::request::new_order;
use bert::exchange::binance::sign::{Secret, Signer};
use bert::exchange::binance::symbols::SymbolMap;
use bert::exchange::binance::wire::{decode_execution_report, decode_user_frame};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::str::FromStr;

/// A TRADE report as Binance sends it (every field, including the conditional ones Bert
/// ignores).
const TRADE_EVENT: &str = r#"{"e":"executionReport","E":1719467634107,"s":"BTCUSDT","c":"bK3x9Q-16-e1","S":"BUY","o":"LIMIT","f":"IOC","q":"0.01000000","p":"50100.00000000","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":32,"l":"0.00400000","z":"0.00400000","L":"50000.00000000","n":"0.00000400","N":"BTC","T":1719467634105,"t":7,"I":63,"w":false,"m":false,"M":true,"O":1719467634105,"Z":"200.00000000","Y":"200.00000000","Q":"0.00000000","W":1719467634105,"V":"EXPIRE_MAKER"}"#;

fn btc() -> Symbol {
    Symbol::new(AssetCode::new("BTC").unwrap(), AssetCode::new("USDT").unwrap())
}

fn decode(c: &mut Criterion) {
    let symbols = SymbolMap::new();
    symbols.learn(btc());
    let frame = format!(r#"{{"subscriptionId":0,"event":{TRADE_EVENT}}}"#);
    assert!(decode_execution_report(TRADE_EVENT, &symbols).is_ok());
    c.bench_function("executionReport decode (event object)", |b| {
        b.iter(|| decode_execution_report(black_box(TRADE_EVENT), &symbols))
    });
    c.bench_function("executionReport decode (WebSocket frame, envelope included)", |b| {
        b.iter(|| decode_user_frame(black_box(&frame), &symbols))
    });
}

fn sign(c: &mut Criterion) {
    let signer = Signer::new(&Secret::new("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"));
    let d = |s: &str| Decimal::from_str(s).unwrap();
    let mut order = Order::intent(
        ClientOrderId::derive("K3x9Q", PositionId(42), OrderRole::Stop, 1),
        PositionId(42),
        btc(),
        Side::Sell,
        OrderKind::StopLossLimit,
        OrderRole::Stop,
        d("0.01234"),
        Timestamp(0),
    );
    order.price = Some(d("42000.10"));
    order.stop_price = Some(d("42100.50"));
    c.bench_function("order request build + sign", |b| {
        b.iter(|| {
            let mut q = new_order(black_box(&order)).unwrap();
            q.push("recvWindow", "5000").push("timestamp", "1719467634105");
            let signature = signer.sign_rest(q.as_str(), "");
            q.push("signature", &signature);
            q
        })
    });
}

criterion_group!(benches, decode, sign);
criterion_main!(benches);
