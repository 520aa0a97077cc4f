//! Trading strategies over closed candles.
//!
//! Architecture invariant: strategies are pure state machines. They take closed candles and
//! return signals; they do no I/O, read no clock and persist nothing themselves, so the live
//! service, the demo and the backtester run exactly the same code.
//!
//! * [`edge70`]: the Edge70 breakout strategy (60-day high in, 22-day low out).
//! * [`window`]: rolling max/min in amortized O(1), the building block of Edge70's channels.

pub mod edge70;
pub mod window;

pub use edge70::{Direction, Edge70, Edge70Params, Edge70Signal, SignalKind};
pub use window::{RollingMax, RollingMin};
