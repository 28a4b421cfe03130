//! Background work of the control plane, each loop owned by the caller's `TaskTracker` and
//! stopped by its `CancellationToken`: applying the fleet's change feed, periodic reconcile,
//! expiry sweeps, score flushes, the local cache file, and persisting automatic bans through
//! outages.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::ban::{Ban, BanRecord};
use super::cache;
use super::event::ControlEvent;
use super::state::Inner;
use super::store::StoreChange;
use super::ControlError;

/// A burst of more changes than this is applied as one full reconcile.
const MAX_INCREMENTAL: usize = 64;
/// Longest sleep between expiry sweeps when no ban expires sooner.
const MAX_SWEEP_WAIT: Duration = Duration::from_secs(60);
/// Shortest time between two cache writes: a burst of ban changes costs one write.
const MIN_WRITE_INTERVAL: Duration = Duration::from_secs(1);

/// Applies store changes, reconciles periodically and sweeps expired bans until cancelled.
pub(super) async fn sync_loop(inner: Arc<Inner>, mut rx: mpsc::Receiver<StoreChange>) {
    let mut reconcile = tokio::time::interval(inner.cfg.reconcile_interval);
    reconcile.set_missed_tick_behavior(MissedTickBehavior::Delay);
    reconcile.tick().await; // the index was just loaded by `open`
    loop {
        tokio::select! {
            _ = inner.cancel.cancelled() => return,
            Some(change) = rx.recv() => apply_changes(&inner, change, &mut rx).await,
            _ = reconcile.tick() => {
                if let Err(e) = inner.reconcile(false).await {
                    tracing::debug!(error = %e, "control reconcile failed");
                }
            }
            _ = tokio::time::sleep(until_next_expiry(&inner)) => sweep(&inner),
            _ = inner.index_changed.notified() => {} // reschedule the sweep

        }
    }
}

fn until_next_expiry(inner: &Inner) -> Duration {
    let Some(at) = inner.index.next_expiry() else {
        return MAX_SWEEP_WAIT;
    };
    let wait = (at - Utc::now()).to_std().unwrap_or_default();
    // one extra millisecond so the ban is past its expiry when we look
    (wait + Duration::from_millis(1)).min(MAX_SWEEP_WAIT)
}

fn sweep(inner: &Inner) {
    let expired = inner.index.sweep_expired(Utc::now());
    for ban in &expired {
        tracing::info!(id = ban.id, target = %ban.target, "ban expired");
    }
    inner.changed(expired.into_iter().map(ControlEvent::BanExpired).collect());
}

/// Applies `first` and whatever else is already queued; a big burst becomes one reconcile.
async fn apply_changes(inner: &Inner, first: StoreChange, rx: &mut mpsc::Receiver<StoreChange>) {
    let mut batch = vec![first];
    while batch.len() <= MAX_INCREMENTAL {
        match rx.try_recv() {
            Ok(change) => batch.push(change),
            Err(_) => break,
        }
    }
    let resync = batch.len() > MAX_INCREMENTAL || batch.contains(&StoreChange::Resync);
    if resync {
        while rx.try_recv().is_ok() {}
        if let Err(e) = inner.reconcile(true).await {
            tracing::debug!(error = %e, "control resync failed; the periodic reconcile retries");
        }
        return;
    }
    for change in batch {
        apply_one(inner, change).await;
    }
}

async fn apply_one(inner: &Inner, change: StoreChange) {
    match change {
        StoreChange::Upserted(id) => {
            let seen = inner.index.epoch();
            match inner.op("get_ban", inner.store.get_ban(id)).await {
                Ok(Some(ban)) => inner.upsert(ban, Some(seen)),
                Ok(None) => inner.remove_with(id, ControlEvent::BanRemoved),
                Err(e) => tracing::debug!(id, error = %e, "cannot fetch ban; reconcile repairs"),
            }
        }
        StoreChange::Deleted(id) => inner.remove_with(id, ControlEvent::BanRemoved),
        StoreChange::Resync => unreachable!("resync batches are reconciled"),
    }
}

/// Periodically writes scores and collects garbage; on cancellation writes the scores a last
/// time and closes the store.
pub(super) async fn flush_loop(inner: Arc<Inner>) {
    let mut tick = tokio::time::interval(inner.cfg.flush_interval);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tick.tick().await;
    let mut gc = tokio::time::interval(inner.cfg.gc_interval);
    gc.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = inner.cancel.cancelled() => break,
            _ = tick.tick() => {
                if let Err(e) = inner.flush().await {
                    tracing::warn!(error = %e, "score flush failed; will retry");
                }
            }
            _ = gc.tick() => {
                if let Err(e) = inner.gc().await {
                    tracing::debug!(error = %e, "control garbage collection failed; will retry");
                }
            }
        }
    }
    if let Err(e) = inner.flush().await {
        tracing::error!(error = %e, "final score flush failed; recent score changes are lost");
    }
    inner.store.close().await;
}

/// Registers provisional ban `id` as pending and spawns the task that persists it.
pub(super) fn spawn_persist(inner: &Arc<Inner>, id: i64, rec: BanRecord) {
    inner.lock_pending().insert(id);
    inner
        .tracker
        .spawn(persist_auto_ban(inner.clone(), id, rec));
}

/// Writes an automatic ban to the store, retrying through outages (SQLite's `SQLITE_BUSY`
/// included); then swaps the provisional index entry `provisional_id` for the stored ban.
/// Stops when the provisional ban is removed meanwhile (and undoes a write that raced it).
async fn persist_auto_ban(inner: Arc<Inner>, provisional_id: i64, rec: BanRecord) {
    let mut backoff = Duration::from_millis(200);
    loop {
        let writing = inner.persist_gate.read().await;
        if !inner.lock_pending().contains(&provisional_id) {
            return;
        }
        let res = inner
            .op("add_ban", inner.store.add_ban(&rec, Utc::now()))
            .await;
        match res {
            Ok(ban) => return stored(&inner, provisional_id, &rec, ban).await,
            Err(ControlError::StoreUnavailable(_)) => {}
            Err(e) => {
                inner.lock_pending().remove(&provisional_id);
                return tracing::error!(error = %e, "auto-ban not persisted; enforced in memory only");
            }
        }
        drop(writing);
        tokio::select! {
            _ = inner.cancel.cancelled() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

/// The provisional ban `provisional_id` was stored as `ban`.
async fn stored(inner: &Inner, provisional_id: i64, rec: &BanRecord, ban: Ban) {
    if !inner.lock_pending().remove(&provisional_id) {
        // removed while being written: remove the stored copy too, unless the write only
        // extended an older ban of the same target
        if ban.created_at.timestamp_millis() == rec.created_at.timestamp_millis() {
            let _ = inner.op("remove_ban", inner.store.remove_ban(ban.id)).await;
        }
        return;
    }
    inner.upsert(ban, None);
    inner.index.remove(provisional_id);
    inner.metrics.set_active(inner.index.counts());
}

/// Rewrites the cache after every change (at most once per [`MIN_WRITE_INTERVAL`]) and once more
/// at shutdown.
pub(super) async fn cache_loop(inner: Arc<Inner>, dir: PathBuf) {
    loop {
        tokio::select! {
            _ = inner.cancel.cancelled() => break,
            _ = inner.cache_dirty.notified() => {}
        }
        write(&inner, &dir).await;
        tokio::select! {
            _ = inner.cancel.cancelled() => break,
            _ = tokio::time::sleep(MIN_WRITE_INTERVAL) => {}
        }
    }
    write(&inner, &dir).await;
}

async fn write(inner: &Arc<Inner>, dir: &Path) {
    let snapshot = inner.cache_snapshot();
    let dir = dir.to_path_buf();
    let res = tokio::task::spawn_blocking(move || cache::save(&dir, &snapshot)).await;
    match res {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "control cache not written"),
        Err(e) => tracing::warn!(error = %e, "control cache writer failed"),
    }
}
