//! `/stop` end to end below the chat: the engine and its driver over the real Binance adapter
//! against the fake Binance (cancel-replace on the wire), with the store recording every step.

#[path = "support/binance_common/mod.rs"]
mod common;
#[path = "support/fake_binance/mod.rs"]
mod fake_binance;

use bert::app::driver::{self, DriverParts, EngineHandle, Metrics, Recipients, SystemClock};
use bert::domain::{Decimal, Order, OrderRole, OrderStatus, PositionStatus};
use bert::engine::{Command, Engine, Event, MoveFailure, Notice, Refusal, Requester, Settings};
use bert::exchange::Exchange;
use bert::store::{OutboxBody, Store};
use common::{setup, sym};
use fake_binance::{Endpoint, FakeBinance, Fault};
use rust_decimal_macros::dec;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

const TRADER: Requester = Requester { user: 7, chat: 70 };
const REPLACE: &str = "/api/v3/order/cancelReplace";

struct Rig {
    fake: FakeBinance,
    handle: EngineHandle,
    store: Arc<Store>,
    _dir: tempfile::TempDir,
}

/// The engine over the adapter, with a short retry so protection comes back within the test.
async fn rig() -> Rig {
    let (fake, ex) = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("bert.redb")).unwrap());
    let settings = Settings { retry_ms: 100, ..Settings::default() };
    let engine = Engine::new(settings, store.instance_tag());
    let exchange = Arc::new(ex);
    let (handle, _thread) = driver::start(DriverParts {
        engine,
        store: store.clone(),
        exchange: exchange.clone(),
        recipients: Recipients { alert_chats: vec![-100] },
        outbox: Arc::new(Notify::new()),
        metrics: Arc::new(Metrics::default()),
        clock: Arc::new(SystemClock),
    });
    handle.submit(Event::Filters(exchange.filters(&[sym("BTC")]).await.unwrap())).await.unwrap();
    handle.submit(Event::Balances(exchange.balances().await.unwrap())).await.unwrap();
    handle.submit(Event::Price { symbol: sym("BTC"), price: dec!(50000) }).await.unwrap();
    Rig { fake, handle, store, _dir: dir }
}

impl Rig {
    fn stops(&self) -> Vec<Order> {
        self.store.load().unwrap().orders.into_iter().filter(|o| o.role == OrderRole::Stop).collect()
    }

    /// Waits (bounded) until exactly one stop works, at `trigger`; returns it.
    async fn working_stop_at(&self, trigger: Decimal) -> Order {
        for _ in 0..500 {
            let working: Vec<Order> = self.stops().into_iter().filter(|o| o.status == OrderStatus::New).collect();
            if working.len() == 1 && working[0].stop_price == Some(trigger) {
                return working[0].clone();
            }
            let _ = self.handle.view().await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no single working stop at {trigger}: {:?}", self.stops());
    }

    async fn command(&self, command: Command) -> Vec<Notice> {
        let out = self.handle.submit(Event::Command { from: TRADER, command }).await.unwrap();
        out.into_iter().map(|m| m.notice).collect()
    }

    async fn wait_notice(&self, what: &str, pred: impl Fn(&Notice) -> bool) -> Notice {
        for _ in 0..500 {
            let rows = self.store.outbox_peek(1000).unwrap();
            if let Some(n) = rows.into_iter().find_map(|(_, r)| match r.body {
                OutboxBody::Notice(n) if pred(&n) => Some(n),
                _ => None,
            }) {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no {what} notice");
    }

    /// Enters BTC at 50 000 and waits for its stop (15% below: 42 500).
    async fn protected(&self) -> Order {
        let n = self.command(Command::Enter(sym("BTC"))).await;
        assert!(matches!(n[..], [Notice::EntryPlaced { .. }]), "{n:?}");
        self.working_stop_at(dec!(42500)).await
    }

    fn open_on_exchange(&self) -> Vec<String> {
        let s = self.fake.state();
        s.orders.iter().filter(|o| o.is_open()).map(|o| o.client_id.clone()).collect()
    }
}

fn move_to(price: Decimal) -> Command {
    Command::MoveStop { symbol: sym("BTC"), price }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_moves_with_one_cancel_replace_at_rounded_prices() {
    let rig = rig().await;
    let old = rig.protected().await;
    // Refusals are decided before anything is sent.
    let n = rig.command(move_to(dec!(50000))).await;
    assert!(matches!(n[..], [Notice::Refused(Refusal::StopNotBelowPrice { .. })]), "{n:?}");
    let n = rig.command(move_to(dec!(0.01))).await;
    assert!(matches!(n[..], [Notice::Refused(Refusal::Filters { .. })]), "{n:?}");
    let n = rig.command(Command::MoveStop { symbol: sym("ETH"), price: dec!(100) }).await;
    assert!(matches!(n[..], [Notice::Refused(Refusal::NoPosition { .. })]), "{n:?}");
    assert_eq!(rig.fake.count("POST", REPLACE), 0);

    // 47 000.005 → the trigger rounds up to the tick, the limit (80%) down.
    assert!(rig.command(move_to(dec!(47000.005))).await.is_empty());
    let new = rig.working_stop_at(dec!(47000.01)).await;
    assert_eq!(new.price, Some(dec!(37600)));
    assert_eq!(rig.fake.count("POST", REPLACE), 1, "exactly one cancel-replace");
    assert_eq!(rig.fake.count("POST", "/api/v3/order"), 2, "the entry and the first stop only");
    let p = rig.fake.last_params(REPLACE).unwrap();
    assert_eq!(
        (p["cancelOrigClientOrderId"].as_str(), p["stopPrice"].as_str(), p["price"].as_str()),
        (old.client_id.as_str(), "47000.01", "37600")
    );
    assert_eq!(p["newClientOrderId"], new.client_id.as_str());
    // The old stop is gone from the exchange; only the new one works there.
    assert_eq!(rig.fake.orders_with_id(old.client_id.as_str())[0].status, "CANCELED");
    assert_eq!(rig.open_on_exchange(), vec![new.client_id.to_string()]);
    let moved = rig.wait_notice("stop moved", |n| matches!(n, Notice::StopMoved { .. })).await;
    assert_eq!(
        moved,
        Notice::StopMoved {
            symbol: sym("BTC"),
            qty: new.quantity,
            old_stop: dec!(42500),
            stop_price: dec!(47000.01),
            limit_price: dec!(37600)
        }
    );
    let pos = rig.store.load().unwrap().positions.into_iter().find(|p| p.status == PositionStatus::Open).unwrap();
    assert_eq!(pos.stop.map(|s| s.client_id), Some(new.client_id));
    rig.fake.assert_no_signature_errors();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_move_leaves_the_old_stop_in_place() {
    let rig = rig().await;
    let old = rig.protected().await;
    rig.fake.fault(
        Endpoint::CancelReplace,
        Fault::Reject { status: 400, code: -1013, msg: "Filter failure: PRICE_FILTER".into(), retry_after: None },
    );
    rig.command(move_to(dec!(47000))).await;
    let n = rig.wait_notice("move failed", |n| matches!(n, Notice::StopMoveFailed { .. })).await;
    let Notice::StopMoveFailed { outcome: MoveFailure::OldStands, reason: Some(reason), .. } = n else {
        panic!("{n:?}")
    };
    assert!(reason.contains("PRICE_FILTER"), "{reason}");
    assert_eq!(rig.open_on_exchange(), vec![old.client_id.to_string()], "the old stop still stands");
    assert_eq!(rig.working_stop_at(dec!(42500)).await.client_id, old.client_id);
}

/// The market fell behind Bert's back: Binance cancels the old stop and refuses the new one
/// (it would trigger at once), so the old stop is placed again. When even that is refused,
/// people are told at once that the position has no stop, and protection is retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_the_exchange_half_does_restores_the_old_stop_or_says_unprotected() {
    let rig = rig().await;
    let old = rig.protected().await;
    // Under the new stop (47 500), above the old one (42 500): the old one comes back.
    rig.fake.set_price("BTCUSDT", dec!(46000));
    rig.command(move_to(dec!(47500))).await;
    rig.wait_notice("restoring", |n| matches!(n, Notice::StopMoveFailed { outcome: MoveFailure::Restoring, .. })).await;
    rig.wait_notice("restored", |n| matches!(n, Notice::StopRestored { .. })).await;
    assert_eq!(rig.fake.count("POST", REPLACE), 1);
    assert_eq!(rig.fake.orders_with_id(old.client_id.as_str())[0].status, "CANCELED");
    let restored = rig.working_stop_at(dec!(42500)).await;
    assert_ne!(restored.client_id, old.client_id);
    assert_eq!(rig.open_on_exchange(), vec![restored.client_id.to_string()]);

    // Again, and this time the exchange refuses the old stop too: "unprotected" at once.
    rig.fake.fault(
        Endpoint::Place,
        Fault::Reject { status: 400, code: -2010, msg: "Order would trigger immediately.".into(), retry_after: None },
    );
    rig.command(move_to(dec!(47500))).await;
    rig.wait_notice("unprotected", |n| matches!(n, Notice::Unprotected { .. })).await;
    assert_eq!(rig.fake.count("POST", REPLACE), 2);
    assert!(rig.open_on_exchange().is_empty(), "nothing protects the position now");
    assert!(rig.stops().iter().all(|o| o.status != OrderStatus::New), "{:?}", rig.stops());
    // The engine's timer retries protection (at the configured stop).
    tokio::time::sleep(Duration::from_millis(150)).await;
    rig.handle.submit(Event::Tick).await.unwrap();
    let again = rig.working_stop_at(dec!(42500)).await;
    assert_eq!(rig.open_on_exchange(), vec![again.client_id.to_string()]);
}

/// The cancel-replace is done but its answer is lost: Bert asks about the new stop and finishes
/// the move; the request is never sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_asked_about_never_resent() {
    let rig = rig().await;
    let old = rig.protected().await;
    rig.fake.fault(Endpoint::CancelReplace, Fault::AcceptThenHang);
    rig.command(move_to(dec!(47000))).await;
    rig.wait_notice("outcome unknown", |n| matches!(n, Notice::OrderOutcomeUnknown { .. })).await;
    let new = rig.working_stop_at(dec!(47000)).await;
    rig.wait_notice("stop moved", |n| matches!(n, Notice::StopMoved { .. })).await;
    assert_eq!(rig.fake.count("POST", REPLACE), 1, "never sent again");
    assert!(rig.fake.count("GET", "/api/v3/order") >= 1, "asked about it");
    assert_eq!(rig.open_on_exchange(), vec![new.client_id.to_string()]);
    assert_eq!(rig.fake.orders_with_id(old.client_id.as_str())[0].status, "CANCELED");
}
