//! The one way integration tests wait: poll a probe until it yields, with a deadline (never a
//! fixed sleep).

use std::future::Future;
use std::time::Duration;

use tokio::time::{sleep, Instant};

/// First and longest pause between two probes: short at first so fast conditions are seen
/// fast, longer later so slow ones do not burn the CPU the nodes under test need.
const FIRST_POLL: Duration = Duration::from_millis(10);
const MAX_POLL: Duration = Duration::from_millis(50);

/// Polls `probe` until it returns `Some`, and returns that value; panics naming `what` once
/// `within` has passed. The probe is async; wrap a plain check in `std::future::ready`.
pub async fn wait_for<T, Fut>(within: Duration, what: &str, mut probe: impl FnMut() -> Fut) -> T
where
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    let mut pause = FIRST_POLL;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for: {what}"
        );
        sleep(pause).await;
        pause = (pause * 2).min(MAX_POLL);
    }
}

/// [`wait_for`] on a plain condition.
pub async fn wait_until_true(within: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    wait_for(within, what, || std::future::ready(cond().then_some(()))).await
}
