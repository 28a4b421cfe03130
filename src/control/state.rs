//! The one owner of a relay's control-plane state (store, index, score book, events): every
//! change goes through its methods, so the handle (`service`), the penalties (`penalty`) and
//! the background loops (`tasks`) use it and it uses none of them.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};

use chrono::Utc;
use tokio::sync::{broadcast, Notify, RwLock};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::addrs::AddressBook;
use super::ban::Ban;
use super::cache::{CachedScore, Snapshot};
use super::escalate::Escalator;
use super::index::{Gatekeeper, IndexWriter};
use super::listing::JsonCache;
use super::metrics::ControlMetrics;
use super::score::ScoreBook;
use super::store::{ControlStore, StoreError};
use super::{ControlConfig, ControlError, ControlEvent};

/// Capacity of the event broadcast; slow subscribers see `Lagged` rather than grow memory.
const EVENT_CAPACITY: usize = 1024;

/// Shared state of one relay's control plane.
pub(super) struct Inner {
    pub(super) cfg: ControlConfig,
    pub(super) store: Box<dyn ControlStore>,
    pub(super) gate: Gatekeeper,
    pub(super) index: IndexWriter,
    /// JSON of listed bans, serialised once per ban version.
    pub(super) listing: JsonCache,
    pub(super) scores: ScoreBook,
    /// Where peers connect from (fed by the connection gate).
    pub(super) addrs: AddressBook,
    /// Escalates repeated automatic bans to address and subnet bans.
    pub(super) escalator: Escalator,
    pub(super) events: broadcast::Sender<ControlEvent>,
    pub(super) metrics: ControlMetrics,
    healthy: AtomicBool,
    pub(super) cancel: CancellationToken,
    pub(super) tracker: TaskTracker,
    /// Wakes the sync loop when the index changed, so it reschedules the expiry sweep.
    pub(super) index_changed: Notify,
    /// Wakes the cache writer when bans or scores changed.
    pub(super) cache_dirty: Notify,
    /// Bans version of the last full reload; a reconcile finding the same version skips it.
    synced: AtomicI64,
    /// Next id for a provisional (not yet stored) automatic ban; counts down from -1.
    pub(super) next_provisional: AtomicI64,
    /// Provisional bans still being persisted; removing one (API delete, clear all) cancels
    /// its write.
    pending: Mutex<HashSet<i64>>,
    /// Held shared while an automatic ban is written and swapped in, exclusively by "clear
    /// all": a write that lands during a clear can neither survive it nor be lost before it.
    pub(super) persist_gate: RwLock<()>,
}

/// What [`Inner::new`] starts from.
pub(super) struct Parts {
    pub(super) cfg: ControlConfig,
    pub(super) store: Box<dyn ControlStore>,
    pub(super) scores: ScoreBook,
    pub(super) metrics: ControlMetrics,
    /// Whether the store answered at start.
    pub(super) healthy: bool,
    /// Bans version of the store's active bans at start.
    pub(super) synced: i64,
    pub(super) cancel: CancellationToken,
    pub(super) tracker: TaskTracker,
}

impl Inner {
    /// The state over `parts` with an index holding `bans` (provisional ones included).
    pub(super) fn new(parts: Parts, bans: Vec<Ban>) -> Inner {
        let gate = Gatekeeper::default();
        let index = IndexWriter::new(gate.shared());
        let lowest = bans.iter().map(|b| b.id).min().unwrap_or(0);
        index.replace_all(bans, Utc::now(), 0);
        let inner = Inner {
            escalator: Escalator::new(&parts.cfg),
            cfg: parts.cfg,
            store: parts.store,
            gate,
            index,
            listing: Default::default(),
            scores: parts.scores,
            addrs: Default::default(),
            events: broadcast::channel(EVENT_CAPACITY).0,
            metrics: parts.metrics,
            healthy: AtomicBool::new(parts.healthy),
            cancel: parts.cancel,
            tracker: parts.tracker,
            index_changed: Notify::new(),
            cache_dirty: Notify::new(),
            synced: AtomicI64::new(parts.synced),
            next_provisional: AtomicI64::new(lowest.min(0) - 1),
            pending: Default::default(),
            persist_gate: Default::default(),
        };
        inner.metrics.set_active(inner.index.counts());
        inner
    }

    /// Whether the last store operation succeeded (false during an outage).
    pub(super) fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    pub(super) fn lock_pending(&self) -> MutexGuard<'_, HashSet<i64>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Cancels provisional ban `id`: no longer enforced, never written (if still pending).
    pub(super) fn cancel_pending(&self, id: i64) -> Option<Ban> {
        self.lock_pending().remove(&id);
        self.index.remove(id)
    }

    /// What the local cache holds: the active bans and every score.
    pub(super) fn cache_snapshot(&self) -> Snapshot {
        let (bans, _) = self
            .index
            .active_page(None, Utc::now(), 0, usize::MAX, Ban::clone);
        let scores = self.scores.records();
        Snapshot {
            version: self.synced.load(Ordering::Relaxed),
            bans,
            scores: scores.iter().map(CachedScore::from).collect(),
        }
    }

    /// Runs a store operation, counting it and tracking store health.
    pub(super) async fn op<T>(
        &self,
        name: &'static str,
        fut: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, ControlError> {
        let res = fut.await;
        self.metrics.store_op(name, res.is_ok());
        match &res {
            Ok(_) => self.healthy.store(true, Ordering::Relaxed),
            Err(e) if e.is_unavailable() => self.healthy.store(false, Ordering::Relaxed),
            Err(e) => tracing::warn!(op = name, error = %e, "control store operation failed"),
        }
        res.map_err(ControlError::from)
    }

    /// Publishes events and refreshes the active-ban gauges.
    pub(super) fn changed(&self, events: Vec<ControlEvent>) {
        if events.is_empty() {
            return;
        }
        self.metrics.set_active(self.index.counts());
        self.index_changed.notify_one();
        self.cache_dirty.notify_one();
        for event in events {
            let _ = self.events.send(event);
        }
    }

    /// Drops ban `id` from the index, publishing `event(ban)` if it was there.
    pub(super) fn remove_with(&self, id: i64, event: fn(Ban) -> ControlEvent) {
        let gone = self.index.remove(id).map(event);
        self.changed(gone.into_iter().collect());
    }

    /// Puts one ban in the index (or drops it if it is no longer active): after a local
    /// write (`seen = None`), or as read from the store after epoch `seen`.
    pub(super) fn upsert(&self, ban: Ban, seen: Option<u64>) {
        if !ban.is_active_at(Utc::now()) {
            return self.remove_with(ban.id, ControlEvent::BanExpired);
        }
        let event = match seen {
            None => self.index.upsert(ban),
            Some(seen) => self.index.upsert_since(ban, seen),
        };
        self.changed(event.into_iter().collect());
    }

    /// Makes the index equal to the store's active bans, unless (`force` unset) nothing
    /// changed since the last reload.
    pub(super) async fn reconcile(&self, force: bool) -> Result<(), ControlError> {
        let version = self.op("bans_version", self.store.bans_version()).await?;
        if !force && version == self.synced.load(Ordering::Relaxed) {
            return Ok(());
        }
        let seen = self.index.epoch();
        let now = Utc::now();
        let active = self.op("active_bans", self.store.active_bans(now)).await?;
        self.changed(self.index.replace_all(active.bans, now, seen));
        self.synced.store(active.version, Ordering::Relaxed);
        Ok(())
    }

    /// Writes dirty scores; on failure they stay dirty for the next attempt.
    pub(super) async fn flush(&self) -> Result<(), ControlError> {
        let (records, events) = self.scores.take_dirty();
        if records.is_empty() && events.is_empty() {
            return Ok(());
        }
        self.cache_dirty.notify_one();
        let res = self
            .op(
                "save_scores",
                self.store.sql().save_scores(&records, &events),
            )
            .await;
        if res.is_err() {
            self.scores.restore(&records, events);
        }
        res
    }

    /// Deletes neutral scores older than `score_retention` and bans expired for longer than
    /// `expired_ban_retention`; returns (scores, bans) deleted.
    pub(super) async fn gc(&self) -> Result<(usize, u64), ControlError> {
        let now = Utc::now();
        let age =
            |d: std::time::Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        let since = now.checked_sub_signed(age(self.cfg.score_retention));
        let neutral = since.map_or_else(Vec::new, |t| self.scores.take_neutral(now, t));
        if !neutral.is_empty() {
            let fut = self.store.sql().delete_scores(&neutral);
            self.op("delete_scores", fut).await?;
            self.cache_dirty.notify_one();
        }
        let bans = match now.checked_sub_signed(age(self.cfg.expired_ban_retention)) {
            Some(before) => {
                let fut = self.store.prune_expired_bans(before);
                self.op("prune_expired_bans", fut).await?
            }
            None => 0,
        };
        if !neutral.is_empty() || bans > 0 {
            tracing::info!(
                scores = neutral.len(),
                bans,
                "control plane garbage collected"
            );
        }
        Ok((neutral.len(), bans))
    }
}
