//! Capped exponential retry delay with jitter, so a struggling gateway is not hammered.

use std::time::Duration;

use rand::Rng;

/// Delay that doubles per consecutive failure up to a cap.
#[derive(Debug)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max,
            current: initial,
        }
    }

    /// The next delay: the current one with ±25 % jitter, then doubled (capped).
    pub(crate) fn next_delay(&mut self) -> Duration {
        let jitter = rand::thread_rng().gen_range(0.75..1.25);
        let delay = self.current.mul_f64(jitter).min(self.max);
        self.current = (self.current * 2).min(self.max);
        delay
    }

    /// Back to the initial delay after a success.
    pub(crate) fn reset(&mut self) {
        self.current = self.initial;
    }
}
