//! Orders, their status transition table, exchange reports and fills.

use super::{AssetCode, ClientOrderId, PositionId, Symbol, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Side {
    Buy,
    Sell,
}

/// The three order types Bert uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderKind {
    /// Entry: a LIMIT buy with time-in-force IOC, so it never rests on the book.
    LimitIoc,
    /// Exits and emergency sells.
    Market,
    /// The exchange-side protective stop (STOP_LOSS_LIMIT, GTC).
    StopLossLimit,
}

/// Why an order exists. Part of the client order id, so an order found on the exchange after a
/// crash can be matched to its purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderRole {
    Entry,
    Stop,
    Exit,
    /// The market sell that replaces a stop the exchange would not accept.
    Dump,
}

/// Order status. `PendingNew` is Bert's own: the intent is durable but the exchange has not
/// confirmed it yet. The others are Binance's (`PENDING_CANCEL` is unused by Binance).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderStatus {
    PendingNew,
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Rejected,
    Expired,
    ExpiredInMatch,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 8] = [
        OrderStatus::PendingNew,
        OrderStatus::New,
        OrderStatus::PartiallyFilled,
        OrderStatus::Filled,
        OrderStatus::Canceled,
        OrderStatus::Rejected,
        OrderStatus::Expired,
        OrderStatus::ExpiredInMatch,
    ];

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Canceled
                | OrderStatus::Rejected
                | OrderStatus::Expired
                | OrderStatus::ExpiredInMatch
        )
    }

    /// Position of a status in the lattice the transition table is built on: progress first
    /// (pending < acknowledged < partially filled < done), then, among terminal states, how much
    /// each one tells us (a fill is hard evidence; a rejection tells the least).
    fn rank(self) -> (u8, u8) {
        match self {
            OrderStatus::PendingNew => (0, 0),
            OrderStatus::New => (1, 0),
            OrderStatus::PartiallyFilled => (2, 0),
            OrderStatus::Rejected => (3, 1),
            OrderStatus::ExpiredInMatch => (3, 2),
            OrderStatus::Expired => (3, 3),
            OrderStatus::Canceled => (3, 4),
            OrderStatus::Filled => (3, 5),
        }
    }

    /// The transition table: the status after `self` receives a report of `reported`.
    ///
    /// Reports can arrive twice (stream and REST response, reconnect replays, reconciliation) and
    /// out of order (a REST reply overtaking the stream). The table is a *join*: it keeps the
    /// higher of the two in the lattice above. A join is commutative, associative and idempotent,
    /// so every ordering and every duplication of the same set of reports converges to one
    /// status. In words:
    ///
    /// * a late `New` after `PartiallyFilled` or any terminal state changes nothing;
    /// * a duplicate report changes nothing;
    /// * a terminal state is final, except that `Filled` overrides `Canceled`/`Expired`/
    ///   `Rejected` (the real-world case: the cancel report overtook the last fill);
    /// * `PendingNew` is never reported by an exchange; receiving it changes nothing.
    pub fn transition(self, reported: OrderStatus) -> OrderStatus {
        if reported.rank() > self.rank() { reported } else { self }
    }

    /// Binance's name of the status.
    pub fn wire_name(self) -> &'static str {
        match self {
            OrderStatus::PendingNew => "PENDING_NEW",
            OrderStatus::New => "NEW",
            OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
            OrderStatus::Filled => "FILLED",
            OrderStatus::Canceled => "CANCELED",
            OrderStatus::Rejected => "REJECTED",
            OrderStatus::Expired => "EXPIRED",
            OrderStatus::ExpiredInMatch => "EXPIRED_IN_MATCH",
        }
    }

    pub fn from_wire(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|st| st.wire_name() == s)
    }
}

/// One trade against an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    /// The exchange's trade id; with the symbol, the key that makes fills apply once.
    pub trade_id: u64,
    pub price: Decimal,
    pub qty: Decimal,
    pub fee: Decimal,
    pub fee_asset: AssetCode,
    pub time: Timestamp,
}

/// What the exchange says about one order: an execution report, a query answer, or a REST
/// response, converted from the wire at the adapter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderReport {
    pub symbol: Symbol,
    /// The id Bert gave the order (for cancel reports the adapter has already resolved Binance's
    /// `c`/`C` swap, so this is always the original id).
    pub client_id: ClientOrderId,
    pub exchange_id: Option<u64>,
    pub status: OrderStatus,
    /// Cumulative filled base quantity (`z`): the truth about how much filled.
    pub cum_qty: Decimal,
    /// Cumulative quote quantity (`Z`).
    pub cum_quote: Decimal,
    /// The trade this report carries, if it is a trade report.
    pub fill: Option<Fill>,
    /// Reject or expiry reason, in the exchange's words.
    pub reason: Option<String>,
    pub time: Timestamp,
}

/// An order as Bert tracks it, from intent to terminal state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub client_id: ClientOrderId,
    pub exchange_id: Option<u64>,
    pub position: PositionId,
    pub symbol: Symbol,
    pub side: Side,
    pub kind: OrderKind,
    pub role: OrderRole,
    pub quantity: Decimal,
    /// Limit price (LIMIT IOC, STOP_LOSS_LIMIT).
    pub price: Option<Decimal>,
    /// Trigger price (STOP_LOSS_LIMIT).
    pub stop_price: Option<Decimal>,
    pub status: OrderStatus,
    /// Cumulative executed quantity and quote amount, as reported (max over all reports).
    pub executed_qty: Decimal,
    pub executed_quote: Decimal,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set when the request's outcome was lost (timeout, 5xx, `-1007`, crash): the order's fate
    /// must be asked of the exchange by its client id, never by sending it again.
    pub unknown_since: Option<Timestamp>,
    /// Bert asked the exchange to cancel this order.
    pub cancel_requested: bool,
    pub reason: Option<String>,
    /// Base quantity of the fills applied to the position so far (each trade id once). When the
    /// order is terminal and this is behind `executed_qty`, fills were missed and are fetched.
    #[serde(default)]
    pub applied_qty: Decimal,
    /// The order's final outcome has been acted on (stop placed, position closed, ...), so a
    /// repeated terminal report does nothing.
    #[serde(default)]
    pub settled: bool,
    /// When the pending follow-up (query, cancel, re-send, trade fetch) is due.
    #[serde(default)]
    pub retry_at: Option<Timestamp>,
    /// When the intent was last sent again (after a provable non-send, or a provable absence).
    /// "Not found" shortly after a send may mean "still in flight", so the grace before an
    /// absence counts is measured from here (from `created_at` when it was sent only once).
    #[serde(default)]
    pub resent_at: Option<Timestamp>,
    /// The user was told that this (ended) order's fills cannot be read yet.
    #[serde(default)]
    pub pending_told: bool,
}

impl Order {
    /// A new intent: `PendingNew`, nothing executed, no price set (set `price` / `stop_price`
    /// for limit and stop orders). It is written to the store before any request leaves.
    #[allow(clippy::too_many_arguments)]
    pub fn intent(
        client_id: ClientOrderId,
        position: PositionId,
        symbol: Symbol,
        side: Side,
        kind: OrderKind,
        role: OrderRole,
        quantity: Decimal,
        now: Timestamp,
    ) -> Order {
        Order {
            client_id,
            exchange_id: None,
            position,
            symbol,
            side,
            kind,
            role,
            quantity,
            price: None,
            stop_price: None,
            status: OrderStatus::PendingNew,
            executed_qty: Decimal::ZERO,
            executed_quote: Decimal::ZERO,
            created_at: now,
            updated_at: now,
            unknown_since: None,
            resent_at: None,
            pending_told: false,
            cancel_requested: false,
            reason: None,
            applied_qty: Decimal::ZERO,
            settled: false,
            retry_at: None,
        }
    }

    /// Applies a report's status and cumulative quantities. Returns true if anything changed.
    /// Fills are not applied here: the engine de-duplicates them by trade id first.
    pub fn apply(&mut self, report: &OrderReport) -> bool {
        let before = (self.status, self.executed_qty, self.executed_quote, self.exchange_id);
        self.status = self.status.transition(report.status);
        // Cumulative quantities only grow; a stale report cannot shrink them.
        self.executed_qty = self.executed_qty.max(report.cum_qty);
        self.executed_quote = self.executed_quote.max(report.cum_quote);
        if self.exchange_id.is_none() {
            self.exchange_id = report.exchange_id;
        }
        if report.reason.is_some() && report.status.is_terminal() && self.reason.is_none() {
            self.reason = report.reason.clone();
        }
        let changed = before != (self.status, self.executed_qty, self.executed_quote, self.exchange_id);
        if changed {
            self.updated_at = self.updated_at.max(report.time);
        }
        if self.status != OrderStatus::PendingNew {
            self.unknown_since = None;
        }
        changed
    }

    pub fn is_open(&self) -> bool {
        !self.status.is_terminal()
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;
    use proptest::prelude::*;

    /// Every pair of (current status, reported status) with the expected result, written out so
    /// a change to the table is a visible change to this test.
    #[test]
    fn transition_table_every_pair() {
        let t = |from: OrderStatus, rep: OrderStatus| from.transition(rep);
        // From PendingNew every exchange report is news.
        for rep in OrderStatus::ALL {
            assert_eq!(t(PendingNew, rep), rep);
        }
        // From New: progress moves forward, PendingNew and New change nothing.
        assert_eq!(t(New, PendingNew), New);
        assert_eq!(t(New, New), New);
        for rep in [PartiallyFilled, Filled, Canceled, Rejected, Expired, ExpiredInMatch] {
            assert_eq!(t(New, rep), rep);
        }
        // From PartiallyFilled: a late New is ignored, terminal states apply.
        for rep in [PendingNew, New, PartiallyFilled] {
            assert_eq!(t(PartiallyFilled, rep), PartiallyFilled);
        }
        for rep in [Filled, Canceled, Rejected, Expired, ExpiredInMatch] {
            assert_eq!(t(PartiallyFilled, rep), rep);
        }
        // Filled is final.
        for rep in OrderStatus::ALL {
            assert_eq!(t(Filled, rep), Filled);
        }
        // Other terminal states: only Filled (evidence of a trade) or a more informative
        // terminal state overrides them; progress reports never do.
        let terminal_order = [Rejected, ExpiredInMatch, Expired, Canceled, Filled];
        for (i, from) in terminal_order.iter().enumerate() {
            for rep in [PendingNew, New, PartiallyFilled] {
                assert_eq!(t(*from, rep), *from);
            }
            for (j, rep) in terminal_order.iter().enumerate() {
                let want = if j > i { *rep } else { *from };
                assert_eq!(t(*from, *rep), want, "{from:?} + {rep:?}");
            }
        }
        assert_eq!(t(Canceled, Filled), Filled);
        assert_eq!(t(Filled, Canceled), Filled);
    }

    fn status() -> impl Strategy<Value = OrderStatus> {
        prop::sample::select(OrderStatus::ALL.to_vec())
    }

    proptest! {
        /// Any ordering, with any duplication, of the same reports converges to the same status.
        #[test]
        fn reports_converge_in_any_order(reports in prop::collection::vec(status(), 0..12), seed in any::<u64>()) {
            let fold = |rs: &[OrderStatus]| rs.iter().fold(PendingNew, |s, r| s.transition(*r));
            let want = fold(&reports);
            let mut shuffled = reports.clone();
            // Deterministic shuffle plus duplicates from the seed.
            let mut x = seed | 1;
            for i in (1..shuffled.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                shuffled.swap(i, (x as usize) % (i + 1));
            }
            let dupes: Vec<_> = shuffled.iter().copied().step_by(2).collect();
            shuffled.extend(dupes);
            prop_assert_eq!(fold(&shuffled), want);
        }

        /// Cumulative quantities never go backwards, whatever the report order.
        #[test]
        fn executed_quantity_is_monotonic(cums in prop::collection::vec(0u32..1000, 1..10)) {
            let mut order = sample_order();
            let mut max = Decimal::ZERO;
            for c in cums {
                let q = Decimal::from(c);
                order.apply(&report(PartiallyFilled, q));
                max = max.max(q);
                prop_assert_eq!(order.executed_qty, max);
            }
        }
    }

    fn sample_order() -> Order {
        let sym = Symbol::parse("BTC", AssetCode::new("USDT").unwrap()).unwrap();
        let id = ClientOrderId::derive("t", PositionId(1), OrderRole::Entry, 1);
        let mut o = Order::intent(
            id,
            PositionId(1),
            sym,
            Side::Buy,
            OrderKind::LimitIoc,
            OrderRole::Entry,
            Decimal::from(1000),
            Timestamp(0),
        );
        o.price = Some(Decimal::from(10));
        o
    }

    fn report(status: OrderStatus, cum: Decimal) -> OrderReport {
        let o = sample_order();
        OrderReport {
            symbol: o.symbol,
            client_id: o.client_id,
            exchange_id: Some(7),
            status,
            cum_qty: cum,
            cum_quote: cum * Decimal::from(10),
            fill: None,
            reason: None,
            time: Timestamp(1),
        }
    }

    #[test]
    fn late_new_after_partial_changes_nothing() {
        let mut o = sample_order();
        assert!(o.apply(&report(PartiallyFilled, Decimal::from(5))));
        assert!(!o.apply(&report(New, Decimal::ZERO)));
        assert_eq!(o.status, PartiallyFilled);
        assert_eq!(o.executed_qty, Decimal::from(5));
        assert_eq!(o.exchange_id, Some(7));
    }

    #[test]
    fn wire_names_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::from_wire(s.wire_name()), Some(s));
        }
        assert_eq!(OrderStatus::from_wire("PENDING_CANCEL"), None);
    }
}
