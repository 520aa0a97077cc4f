//! Start-up calls to the exchange that wait out transient refusals instead of failing.
//!
//! Why: `bert run` makes a handful of requests before it serves (clock, account, candle
//! history, filters, balances). If one of them is refused because the request-weight window
//! is nearly used, a 429/418 halt is running, or the exchange is briefly unreachable, exiting
//! makes the supervisor restart Bert at once, and every restart spends more weight: a restart
//! loop that never gets out (found by the crash campaign, tests/crash_campaign.rs). Waiting is
//! safe here: nothing is traded before start-up finishes.

use super::AppError;
use crate::domain::Timestamp;
use crate::exchange::ExchangeError;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant; // tokio's, so tests can run with paused time
use tokio_util::sync::CancellationToken;

/// How long start-up keeps waiting before it gives up and exits with the error.
pub const PATIENCE: Duration = Duration::from_secs(600);
/// First wait after an `Unavailable`; doubles up to [`MAX_STEP`].
const FIRST_STEP: Duration = Duration::from_millis(500);
const MAX_STEP: Duration = Duration::from_secs(10);

/// Runs `call` until it succeeds, fails for a reason waiting cannot fix, `patience` runs out,
/// or `shutdown` is cancelled. `what` prefixes the error ("cannot load candle history").
pub async fn patiently<T, Fut>(
    what: &str,
    patience: Duration,
    shutdown: &CancellationToken,
    mut call: impl FnMut() -> Fut,
) -> Result<T, AppError>
where
    Fut: Future<Output = Result<T, ExchangeError>>,
{
    let started = Instant::now();
    let mut step = FIRST_STEP;
    loop {
        let e = match call().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let wait = match &e {
            ExchangeError::Unavailable { .. } => step,
            ExchangeError::RateLimited { retry_after_ms, .. } => {
                let ms = retry_after_ms.saturating_sub(Timestamp::now().0).clamp(100, 60_000);
                Duration::from_millis(u64::try_from(ms).unwrap_or(60_000))
            }
            _ => return Err(AppError::Failed(format!("{what}: {e}"))),
        };
        if started.elapsed() + wait > patience {
            return Err(AppError::Failed(format!("{what}: {e}")));
        }
        tracing::warn!(error = %e, wait_ms = wait.as_millis() as u64, "{what}; waiting and retrying");
        tokio::select! {
            _ = shutdown.cancelled() => return Err(AppError::Failed(format!("{what}: {e}"))),
            _ = tokio::time::sleep(wait) => {}
        }
        step = (step * 2).min(MAX_STEP);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn unavailable() -> ExchangeError {
        ExchangeError::Unavailable { reason: "near the limit".into() }
    }

    #[tokio::test(start_paused = true)]
    async fn waits_out_transient_refusals() {
        let calls = AtomicU32::new(0);
        let token = CancellationToken::new();
        let got = patiently("x", PATIENCE, &token, || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                match n {
                    0 | 1 => Err(unavailable()),
                    2 => Err(ExchangeError::RateLimited { retry_after_ms: Timestamp::now().0 + 2_000, banned: false }),
                    _ => Ok(n),
                }
            }
        })
        .await;
        assert_eq!(got.unwrap(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_fail_at_once_and_patience_runs_out() {
        let token = CancellationToken::new();
        let rejected = patiently("x", PATIENCE, &token, || async {
            Err::<(), _>(ExchangeError::Rejected { code: -2015, reason: "bad key".into() })
        })
        .await;
        assert!(matches!(rejected, Err(AppError::Failed(m)) if m.contains("bad key")));
        let calls = AtomicU32::new(0);
        let gave_up = patiently("cannot load", Duration::from_secs(30), &token, || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(unavailable()) }
        })
        .await;
        assert!(matches!(gave_up, Err(AppError::Failed(m)) if m.starts_with("cannot load")));
        assert!((3..10).contains(&calls.load(Ordering::SeqCst)), "{calls:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_ends_the_wait() {
        let token = CancellationToken::new();
        token.cancel();
        let r = patiently("x", PATIENCE, &token, || async { Err::<(), _>(unavailable()) }).await;
        assert!(r.is_err());
    }
}
