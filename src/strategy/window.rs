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

use std::cmp::Reverse;
use std::collections::VecDeque;

/// The maximum of the last `capacity` pushed values.
#[derive(Clone, Debug)]
pub struct RollingMax<T> {
    capacity: usize,
    /// How many values were ever pushed; also the sequence number of the next value.
    pushed: u64,
    /// `(sequence number, value)`, values strictly decreasing from front to back.
    deque: VecDeque<(u64, T)>,
}

impl<T: Ord + Copy> RollingMax<T> {
    /// A window over the last `capacity` values. A capacity of zero is allowed: such a window
    /// is always full and always empty, so [`RollingMax::get`] is always `None`.
    pub fn new(capacity: usize) -> Self {
        RollingMax { capacity, pushed: 0, deque: VecDeque::with_capacity(capacity) }
    }

    /// Adds a value, evicting the oldest one once the window is full.
    #[inline]
    pub fn push(&mut self, value: T) {
        let seq = self.pushed;
        self.pushed += 1;
        if self.capacity == 0 {
            return;
        }
        while let Some(&(_, back)) = self.deque.back() {
            if back <= value {
                self.deque.pop_back();
            } else {
                break;
            }
        }
        self.deque.push_back((seq, value));
        // The window now covers sequence numbers `pushed - capacity ..= seq`. Only the front can
        // be older than that: entries are in push order and at most one slides out per push.
        let oldest_kept = self.pushed.saturating_sub(self.capacity as u64);
        if let Some(&(front_seq, _)) = self.deque.front() {
            if front_seq < oldest_kept {
                self.deque.pop_front();
            }
        }
    }

    /// The maximum of the values currently in the window, `None` when it is empty.
    #[inline]
    pub fn get(&self) -> Option<T> {
        self.deque.front().map(|&(_, v)| v)
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
        self.deque.clear();
    }
}

/// The minimum of the last `capacity` pushed values.
#[derive(Clone, Debug)]
pub struct RollingMin<T> {
    inner: RollingMax<Reverse<T>>,
}

impl<T: Ord + Copy> RollingMin<T> {
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
                prop_assert!(max.deque.len() <= n);
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
                max.push(v);
                min.push(v);
                let window = &values[(i + 1).saturating_sub(n)..=i];
                prop_assert_eq!(max.get(), window.iter().copied().max());
                prop_assert_eq!(min.get(), window.iter().copied().min());
            }
        }
    }
}
