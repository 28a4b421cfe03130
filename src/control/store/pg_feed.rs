//! The fleet's change feed: LISTEN on the channel the ban triggers NOTIFY, translate payloads
//! into [`StoreChange`]s, and reconnect with backoff when the connection drops. Every
//! (re)connection starts with a `Resync`, because notifications sent while nobody was
//! listening are gone. When the consumer falls behind (a bulk import), notifications are
//! dropped and replaced by one `Resync`: a single reload covers them all, instead of a queue
//! of thousands of single-ban fetches.

use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_util::sync::CancellationToken;

use super::StoreChange;

/// The channel the `control_bans` triggers notify on.
const CHANNEL: &str = "wharf_control_bans";
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Runs until `cancel` fires or the receiver is dropped.
pub(super) async fn run(pool: PgPool, tx: mpsc::Sender<StoreChange>, cancel: CancellationToken) {
    let mut backoff = MIN_BACKOFF;
    while !cancel.is_cancelled() && !tx.is_closed() {
        match listen(&pool, &tx, &cancel, &mut backoff).await {
            Ok(()) => return,
            Err(e) => tracing::warn!(error = %e, retry_in = ?backoff, "control change feed lost"),
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection's lifetime; `Ok` only when cancelled or the receiver is gone.
async fn listen(
    pool: &PgPool,
    tx: &mpsc::Sender<StoreChange>,
    cancel: &CancellationToken,
    backoff: &mut Duration,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    *backoff = MIN_BACKOFF;
    tracing::debug!("control change feed listening");
    if tx.send(StoreChange::Resync).await.is_err() {
        return Ok(());
    }
    let mut overflowed = false;
    loop {
        let next = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            next = listener.try_recv() => next?,
        };
        let Some(notification) = next else {
            return Err(sqlx::Error::Protocol("listener connection lost".into()));
        };
        let change = if overflowed {
            StoreChange::Resync
        } else {
            parse(notification.payload())
        };
        match tx.try_send(change) {
            Ok(()) => overflowed = false,
            Err(TrySendError::Full(_)) => overflowed = true,
            Err(TrySendError::Closed(_)) => return Ok(()),
        }
    }
}

/// `u:<id>` upserted, `d:<id>` deleted, anything else (`c` = cleared) means resync.
fn parse(payload: &str) -> StoreChange {
    let id = |s: &str| s.parse::<i64>().ok();
    match payload.split_once(':') {
        Some(("u", n)) => id(n).map_or(StoreChange::Resync, StoreChange::Upserted),
        Some(("d", n)) => id(n).map_or(StoreChange::Resync, StoreChange::Deleted),
        _ => StoreChange::Resync,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_parse() {
        assert_eq!(parse("u:42"), StoreChange::Upserted(42));
        assert_eq!(parse("d:7"), StoreChange::Deleted(7));
        assert_eq!(parse("c"), StoreChange::Resync);
        assert_eq!(parse("u:x"), StoreChange::Resync);
    }
}
