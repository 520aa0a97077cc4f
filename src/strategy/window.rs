//! Rolling maximum and minimum over the last `N` values, in amortized O(1) per push.
//!
//! Edge70 asks, for every closed daily candle, "is this high above the highest high of the
//! previous 59 candles?" Rescanning the window each time costs O(N) per candle; a backtest over
//! thousands of symbols and years of candles (and parameter sweeps on top) makes that the hot
//! loop. A *monotonic deque* answers the same question in amortized O(1):
//!
//! * the deque holds `(sequence number, value)` pairs whose values are strictly decreasing from
//!   front to back (for a maximum);
//! * a push first drops every back entry that is `<=` the new value (they can never be the
//!   maximum again: the new value is at least as large and stays in the window longer), then
//!   appends the new value, then drops the front entry if it has slid out of the window;
//! * the maximum is the front.
//!
//! Every value enters and leaves the deque at most once, hence amortized O(1). The deque never
//! holds more than `N` entries, so after the first allocation it never reallocates.
//!
//! The minimum is the maximum under reversed ordering ([`std::cmp::Reverse`]), so there is one
//! implementation. Values only need `Ord + Copy`: the windows are used with
//! [`rust_decimal::Decimal`] (exact, never `f64`) and tested with integers.

use rust_decimal::Decimal;
use std::cmp::{Ordering, Reverse};

/// The maximum of the last `capacity` pushed values.
#[derive(Clone, Debug)]
pub struct RollingMax<T> {
    capacity: usize,
    /// How many values were ever pushed; also the sequence number of the next value.
    pushed: u64,
    /// The deque, as a ring buffer whose size is a power of two at least `capacity`, so that
    /// positions wrap with a mask instead of a branch (this is the hot loop of every backtest).
    /// Holds `(sequence number, value)`, values strictly decreasing from front to back.
    ring: Box<[(u64, T)]>,
    mask: usize,
    /// Position counters of the deque's front and one past its back (masked on access);
    /// `back - front` is the deque's length, never more than `capacity`.
    front: usize,
    back: usize,
}

impl<T: Ord + Copy + Default> RollingMax<T> {
    /// A window over the last `capacity` values. A capacity of zero is allowed: such a window
    /// is always full and always empty, so [`RollingMax::get`] is always `None`.
    pub fn new(capacity: usize) -> Self {
        let size = capacity.max(1).next_power_of_two();
        RollingMax {
            capacity,
            pushed: 0,
            ring: vec![(0, T::default()); size].into_boxed_slice(),
            mask: size - 1,
            front: 0,
            back: 0,
        }
    }

    /// Adds a value, evicting the oldest one once the window is full.
    #[inline]
    pub fn push(&mut self, value: T) {
        let seq = self.pushed;
        self.pushed += 1;
        if self.capacity == 0 {
            return;
        }
        // After this push the window covers sequence numbers `pushed - capacity ..= seq`. Only
        // the front can be older than that (entries are in push order, and at most one slides
        // out per push). Evicting it *before* appending keeps the deque within `capacity`
        // entries, so the append can never overwrite the front slot of the ring.
        let oldest_kept = self.pushed.saturating_sub(self.capacity as u64);
        if self.back != self.front && self.ring[self.front & self.mask].0 < oldest_kept {
            self.front = self.front.wrapping_add(1);
        }
        // Drop every entry that can no longer be the maximum: the new value is at least as
        // large and stays in the window longer.
        while self.back != self.front && self.ring[self.back.wrapping_sub(1) & self.mask].1 <= value {
            self.back = self.back.wrapping_sub(1);
        }
        self.ring[self.back & self.mask] = (seq, value);
        self.back = self.back.wrapping_add(1);
    }

    /// The maximum of the values currently in the window, `None` when it is empty.
    #[inline]
    pub fn get(&self) -> Option<T> {
        if self.front == self.back { None } else { Some(self.ring[self.front & self.mask].1) }
    }

    /// How many values the window currently covers (at most the capacity).
    pub fn len(&self) -> usize {
        // Bounded by `capacity`, a `usize`, so the conversion back cannot truncate.
        self.pushed.min(self.capacity as u64) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once `capacity` values have been pushed: the maximum then covers a whole window.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.pushed >= self.capacity as u64
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Forgets every value (the capacity is kept).
    pub fn clear(&mut self) {
        self.pushed = 0;
        self.front = 0;
        self.back = 0;
    }

    /// The same window with every value converted by `f`, or `None` as soon as `f` returns
    /// `None`. `f` must be strictly increasing (`a < b` ⇒ `f(a) < f(b)`), e.g. a rescaling by a
    /// positive factor: the deque's order is then preserved and the result is a valid window
    /// over the converted values. Only the live entries are converted.
    pub fn try_map<U: Ord + Copy + Default>(&self, mut f: impl FnMut(T) -> Option<U>) -> Option<RollingMax<U>> {
        let mut ring = vec![(0, U::default()); self.ring.len()].into_boxed_slice();
        let mut pos = self.front;
        while pos != self.back {
            let (seq, value) = self.ring[pos & self.mask];
            ring[pos & self.mask] = (seq, f(value)?);
            pos = pos.wrapping_add(1);
        }
        Some(RollingMax {
            capacity: self.capacity,
            pushed: self.pushed,
            ring,
            mask: self.mask,
            front: self.front,
            back: self.back,
        })
    }

    /// Entries currently in the deque (for tests of the memory bound).
    #[cfg(test)]
    fn deque_len(&self) -> usize {
        self.back.wrapping_sub(self.front)
    }
}

/// The minimum of the last `capacity` pushed values.
#[derive(Clone, Debug)]
pub struct RollingMin<T> {
    inner: RollingMax<Reverse<T>>,
}

impl<T: Ord + Copy + Default> RollingMin<T> {
    /// A window over the last `capacity` values (see [`RollingMax::new`] for zero).
    pub fn new(capacity: usize) -> Self {
        RollingMin { inner: RollingMax::new(capacity) }
    }

    /// Adds a value, evicting the oldest one once the window is full.
    #[inline]
    pub fn push(&mut self, value: T) {
        self.inner.push(Reverse(value));
    }

    /// The minimum of the values currently in the window, `None` when it is empty.
    #[inline]
    pub fn get(&self) -> Option<T> {
        self.inner.get().map(|Reverse(v)| v)
    }

    pub fn len(&self) -> usize {
        self.inner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// True once `capacity` values have been pushed.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.inner.is_full()
    }

    pub fn capacity(&self) -> usize {
        self.inner.capacity()
    }

    /// Forgets every value (the capacity is kept).
    pub fn clear(&mut self) {
        self.inner.clear();
    }

    /// The same window with every value converted by the strictly increasing `f` (see
    /// [`RollingMax::try_map`]).
    pub fn try_map<U: Ord + Copy + Default>(&self, mut f: impl FnMut(T) -> Option<U>) -> Option<RollingMin<U>> {
        let inner = self.inner.try_map(|Reverse(v)| f(v).map(Reverse))?;
        Some(RollingMin { inner })
    }
}

/// A [`Decimal`] ordered by value, with a fast path for the common case.
///
/// `Decimal`'s own comparison is exact but general: it is an out-of-line call that checks zeros
/// and signs and rescales when the scales differ. Prices of one symbol nearly always share one
/// scale (the exchange's tick: Binance's kline dumps print 8 decimals, the synthetic market the
/// tick's), and then comparing the integer mantissas is the same comparison: with equal scales,
/// `a = ma / 10^s` and `b = mb / 10^s` order exactly as `ma` and `mb`. Different scales fall back
/// to `Decimal`'s comparison, so the ordering stays exact whatever the input. This roughly
/// halves the cost of a rolling window over decimals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DecimalKey(pub Decimal);

impl Ord for DecimalKey {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        if self.0.scale() == other.0.scale() {
            // The mantissa carries the sign, and `-0` and `0` both have mantissa 0.
            self.0.mantissa().cmp(&other.0.mantissa())
        } else {
            self.0.cmp(&other.0)
        }
    }
}

impl PartialOrd for DecimalKey {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    #[test]
    fn max_slides_out_of_the_window() {
        let mut w = RollingMax::new(3);
        assert_eq!(w.get(), None);
        assert!(w.is_empty() && !w.is_full());
        w.push(5);
        assert_eq!((w.get(), w.len(), w.is_full()), (Some(5), 1, false));
        w.push(1);
        w.push(2);
        assert_eq!((w.get(), w.len(), w.is_full()), (Some(5), 3, true));
        // 5 leaves the window: [1, 2, 3].
        w.push(3);
        assert_eq!(w.get(), Some(3));
        // [2, 3, 0]
        w.push(0);
        assert_eq!(w.get(), Some(3));
        // [3, 0, 0]
        w.push(0);
        assert_eq!(w.get(), Some(3));
        // [0, 0, 0]
        w.push(0);
        assert_eq!(w.get(), Some(0));
        assert_eq!(w.len(), 3);
    }

    #[test]
    fn min_slides_out_of_the_window() {
        let mut w = RollingMin::new(2);
        w.push(dec!(3.5));
        w.push(dec!(4));
        assert_eq!(w.get(), Some(dec!(3.5)));
        w.push(dec!(5));
        assert_eq!(w.get(), Some(dec!(4)));
        w.push(dec!(1.25));
        assert_eq!(w.get(), Some(dec!(1.25)));
        assert_eq!(w.capacity(), 2);
    }

    #[test]
    fn equal_values_are_kept_until_the_newest_leaves() {
        // Dropping `<=` entries keeps the newest of equal values, which leaves last.
        let mut w = RollingMax::new(2);
        w.push(7);
        w.push(7);
        w.push(1);
        assert_eq!(w.get(), Some(7));
        w.push(1);
        assert_eq!(w.get(), Some(1));
    }

    #[test]
    fn decimals_compare_by_value_not_by_scale() {
        let mut w = RollingMax::new(3);
        w.push(dec!(2.50));
        w.push(dec!(2.5));
        w.push(dec!(2.4999));
        assert_eq!(w.get(), Some(dec!(2.5)));
    }

    #[test]
    fn zero_capacity_never_has_a_value() {
        let mut w = RollingMax::new(0);
        assert!(w.is_full());
        w.push(1);
        assert_eq!(w.get(), None);
        assert_eq!(w.len(), 0);
        let mut m = RollingMin::new(0);
        m.push(1);
        assert_eq!(m.get(), None);
    }

    #[test]
    fn clear_starts_over() {
        let mut w = RollingMin::new(2);
        w.push(1);
        w.push(2);
        w.clear();
        assert!(w.is_empty() && !w.is_full());
        w.push(9);
        assert_eq!(w.get(), Some(9));
    }

    #[test]
    fn decreasing_run_at_a_power_of_two_capacity() {
        // The deque is exactly as long as the ring here: the oldest entry must leave before the
        // newest is written.
        let mut w = RollingMax::new(4);
        for (v, expected) in [(9, 9), (8, 9), (7, 9), (6, 9), (5, 8), (4, 7), (3, 6), (2, 5)] {
            w.push(v);
            assert_eq!(w.get(), Some(expected), "after {v}");
        }
    }

    #[test]
    fn try_map_keeps_the_window() {
        let mut max = RollingMax::new(3);
        let mut min = RollingMin::new(3);
        for v in [5i64, 1, 4, 2] {
            max.push(v);
            min.push(v);
        }
        let mut max10 = max.try_map(|v| v.checked_mul(10)).unwrap();
        let mut min10 = min.try_map(|v| v.checked_mul(10)).unwrap();
        assert_eq!((max10.get(), min10.get()), (Some(40), Some(10)));
        max10.push(30);
        min10.push(30);
        assert_eq!((max10.get(), min10.get()), (Some(40), Some(20)));
        max10.push(0);
        min10.push(0);
        assert_eq!((max10.get(), min10.get()), (Some(30), Some(0)));
        assert!(max.try_map(|v| if v > 3 { None } else { Some(v) }).is_none());
    }

    #[test]
    fn decimal_key_orders_by_value() {
        let k = DecimalKey;
        assert!(k(dec!(1.5)) == k(dec!(1.50)));
        assert_eq!(k(dec!(1.5)).cmp(&k(dec!(1.50))), Ordering::Equal);
        assert!(k(dec!(1.51)) > k(dec!(1.5)));
        assert!(k(dec!(-1.51)) < k(dec!(-1.50)));
        assert!(k(dec!(-0.01)) < k(dec!(0.00)));
        assert_eq!(k(-Decimal::ZERO).cmp(&k(Decimal::ZERO)), Ordering::Equal);
        assert!(k(Decimal::MAX) > k(dec!(79228162514264337593543950334)));
    }

    fn naive_max(values: &[i64], n: usize) -> Option<i64> {
        values[values.len().saturating_sub(n)..].iter().copied().max()
    }

    fn naive_min(values: &[i64], n: usize) -> Option<i64> {
        values[values.len().saturating_sub(n)..].iter().copied().min()
    }

    proptest! {
        #[test]
        fn matches_a_naive_scan(values in prop::collection::vec(-50i64..50, 0..300), n in 0usize..40) {
            let mut max = RollingMax::new(n);
            let mut min = RollingMin::new(n);
            for (i, &v) in values.iter().enumerate() {
                max.push(v);
                min.push(v);
                let seen = &values[..=i];
                prop_assert_eq!(max.get(), naive_max(seen, n));
                prop_assert_eq!(min.get(), naive_min(seen, n));
                prop_assert_eq!(max.len(), seen.len().min(n));
                prop_assert_eq!(max.is_full(), seen.len() >= n);
                prop_assert!(max.deque_len() <= n);
            }
        }

        #[test]
        fn matches_a_naive_scan_on_decimals(
            raw in prop::collection::vec((0i64..1_000_000, 0u32..6), 1..200),
            n in 1usize..30,
        ) {
            // Mixed scales on purpose: 1.5 and 1.50000 are the same price.
            let values: Vec<Decimal> = raw.iter().map(|&(m, s)| Decimal::new(m, s)).collect();
            let mut max = RollingMax::new(n);
            let mut min = RollingMin::new(n);
            for (i, &v) in values.iter().enumerate() {
                max.push(DecimalKey(v));
                min.push(DecimalKey(v));
                let window = &values[(i + 1).saturating_sub(n)..=i];
                prop_assert_eq!(max.get().map(|k| k.0), window.iter().copied().max());
                prop_assert_eq!(min.get().map(|k| k.0), window.iter().copied().min());
            }
        }
    }
}
