//! The sync client's memory budget for responses being received: a semaphore of bytes shared
//! by every fetch, so forty fetches of a hundred 16 MiB items cannot all be buffered at once.
//!
//! No hold-and-wait: a fetch that holds nothing waits for room; a fetch already holding bytes
//! that finds no room gives up ([`Exhausted`], not the peer's fault; the pipeline retries), so
//! fetches can never wait on each other for ever.

use std::sync::{Arc, OnceLock};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

/// See the module docs. Cloning shares the budget.
#[derive(Debug, Clone, Default)]
pub struct ByteBudget {
    bytes: Arc<OnceLock<Arc<Semaphore>>>,
}

/// Bytes held by one response; released when dropped.
#[derive(Debug, Default)]
pub struct Held {
    permit: Option<OwnedSemaphorePermit>,
}

/// No room left in the budget for a fetch that already holds some of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("sync client byte budget exhausted (sync.client.max_bytes_in_flight)")]
pub struct Exhausted;

impl ByteBudget {
    fn semaphore(&self, total_bytes: usize) -> Arc<Semaphore> {
        let total = total_bytes.clamp(1, Semaphore::MAX_PERMITS);
        self.bytes
            .get_or_init(|| Arc::new(Semaphore::new(total)))
            .clone()
    }

    /// Adds `bytes` (at most the whole budget of `total_bytes`) to `held`: waits for room when
    /// `held` is empty, fails at once when it is not and there is no room.
    pub async fn take(
        &self,
        total_bytes: usize,
        bytes: usize,
        held: &mut Held,
    ) -> Result<(), Exhausted> {
        let sem = self.semaphore(total_bytes);
        let want = u32::try_from(bytes.clamp(1, total_bytes.max(1))).unwrap_or(u32::MAX);
        let permit = match &held.permit {
            None => sem.acquire_many_owned(want).await.map_err(|_| Exhausted)?,
            Some(_) => sem.try_acquire_many_owned(want).map_err(|e| match e {
                TryAcquireError::Closed | TryAcquireError::NoPermits => Exhausted,
            })?,
        };
        match &mut held.permit {
            Some(p) => p.merge(permit),
            None => held.permit = Some(permit),
        }
        Ok(())
    }

    /// Bytes free now (tests and metrics).
    pub fn available(&self, total_bytes: usize) -> usize {
        self.semaphore(total_bytes).available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn an_empty_fetch_waits_for_room_and_a_holding_one_gives_up() {
        let budget = ByteBudget::default();
        let total = 8;
        let mut first = Held::default();
        budget.take(total, 5, &mut first).await.unwrap();
        budget.take(total, 3, &mut first).await.unwrap();
        assert_eq!(
            budget.take(total, 1, &mut first).await,
            Err(Exhausted),
            "no hold-and-wait"
        );
        assert_eq!(budget.available(total), 0);
        let shared = budget.clone();
        let second = tokio::spawn(async move {
            let mut held = Held::default();
            shared.take(total, 100, &mut held).await.unwrap(); // more than the whole budget
            held
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!second.is_finished(), "waits while the budget is taken");
        drop(first);
        let held = tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .expect("released bytes let it in")
            .unwrap();
        assert_eq!(budget.available(total), 0, "capped at the whole budget");
        drop(held);
        assert_eq!(budget.available(total), 8);
    }
}
