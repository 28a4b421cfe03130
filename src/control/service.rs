//! The `Control` handle: ban and score operations for the API and the swarm, on top of the
//! store, the index and the score book. Background work lives in `tasks`.

use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use chrono::Utc;
use prometheus_client::registry::Registry;
use tokio::sync::{broadcast, mpsc, Notify};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::ban::{Ban, BanFilter, BanKind, BanPage, BanRecord, NewBan};
use super::cache::{self, CachedScore, Snapshot, CACHE_FILE};
use super::index::{Gatekeeper, IndexWriter};
use super::metrics::ControlMetrics;
use super::score::{ScoreBook, ScoreRecord};
use super::store::{open_store, ActiveBans, ControlStore, PgStore, StoreError};
use super::{ControlConfig, ControlError, ControlEvent};

/// Capacity of the event broadcast; slow subscribers see `Lagged` rather than grow memory.
const EVENT_CAPACITY: usize = 1024;
/// Capacity of the store change feed.
const FEED_CAPACITY: usize = 1024;

/// Shared state of one relay's control plane.
pub(super) struct Inner {
    pub(super) cfg: ControlConfig,
    pub(super) store: Box<dyn ControlStore>,
    pub(super) gate: Gatekeeper,
    pub(super) index: IndexWriter,
    /// JSON of listed bans, serialised once per ban version.
    listing: super::listing::JsonCache,
    pub(super) scores: ScoreBook,
    /// Where peers connect from (fed by the connection gate).
    pub(super) addrs: super::addrs::AddressBook,
    /// Escalates repeated automatic bans to address and subnet bans.
    pub(super) escalator: super::escalate::Escalator,
    pub(super) events: broadcast::Sender<ControlEvent>,
    pub(super) metrics: ControlMetrics,
    pub(super) healthy: AtomicBool,
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
    pub(super) pending: std::sync::Mutex<std::collections::HashSet<i64>>,
    /// Held shared while an automatic ban is written and swapped in, exclusively by "clear
    /// all": a write that lands during a clear can neither survive it nor be lost before it.
    pub(super) persist_gate: tokio::sync::RwLock<()>,
}

/// Cheap clonable handle to the control plane.
#[derive(Clone)]
pub struct Control {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control").finish_non_exhaustive()
    }
}

impl Control {
    /// Opens the store (migrating it), loads bans and scores, and starts the background
    /// tasks (change feed, reconcile, expiry sweep, score flush) on `tracker`. When `cancel`
    /// fires, scores are flushed and the store is closed.
    pub async fn open(
        cfg: &ControlConfig,
        data_dir: &Path,
        registry: &mut Registry,
        cancel: CancellationToken,
        tracker: &TaskTracker,
    ) -> Result<Control, ControlError> {
        let metrics = ControlMetrics::register(registry);
        Self::open_with_metrics(cfg, data_dir, metrics, cancel, tracker).await
    }

    /// Like [`Control::open`] with metrics registered by the caller (e.g. with
    /// [`ControlMetrics::register_with_store`] when another store already registered the
    /// shared store counters).
    pub async fn open_with_metrics(
        cfg: &ControlConfig,
        data_dir: &Path,
        metrics: ControlMetrics,
        cancel: CancellationToken,
        tracker: &TaskTracker,
    ) -> Result<Control, ControlError> {
        tokio::fs::create_dir_all(data_dir)
            .await
            .map_err(ControlError::DataDir)?;
        let cached = cfg
            .database_url
            .as_ref()
            .and_then(|_| cache::load(data_dir));
        let start = match load_store(cfg, data_dir).await {
            Ok(start) => start,
            Err(e) if e.is_unavailable() => degraded_start(cfg, cached.as_ref(), e)?,
            Err(e) => return Err(e.into()),
        };
        let Start {
            store,
            active,
            scores,
            healthy,
        } = start;
        let cached = cached.unwrap_or_default();
        let (scores, newer) = cache::merge_scores(scores, cached.score_records());
        let scores = ScoreBook::new(cfg, scores);
        scores.restore(&newer, Vec::new());
        let provisional = unpersisted(&cached, &active);
        let synced = AtomicI64::new(active.version);
        let gate = Gatekeeper::default();
        let index = IndexWriter::new(gate.shared());
        let mut bans = active.bans;
        bans.extend(provisional.iter().cloned());
        index.replace_all(bans, Utc::now(), 0);
        let lowest = provisional.iter().map(|b| b.id).min().unwrap_or(0);
        let inner = Arc::new(Inner {
            cfg: cfg.clone(),
            store,
            gate,
            index,
            listing: Default::default(),
            scores,
            addrs: Default::default(),
            escalator: super::escalate::Escalator::new(cfg),
            events: broadcast::channel(EVENT_CAPACITY).0,
            metrics,
            healthy: AtomicBool::new(healthy),
            cancel,
            tracker: tracker.clone(),
            index_changed: Notify::new(),
            cache_dirty: Notify::new(),
            synced,
            next_provisional: AtomicI64::new(lowest.min(0) - 1),
            pending: Default::default(),
            persist_gate: Default::default(),
        });
        inner.metrics.set_active(inner.index.counts());
        let (tx, rx) = mpsc::channel(FEED_CAPACITY);
        inner.store.spawn_feed(tx, inner.cancel.clone(), tracker);
        tracker.spawn(super::tasks::sync_loop(inner.clone(), rx));
        tracker.spawn(super::tasks::flush_loop(inner.clone()));
        for ban in provisional {
            let rec = BanRecord {
                target: ban.target,
                reason: ban.reason,
                created_by: ban.created_by,
                created_at: ban.created_at,
                expires_at: ban.expires_at,
            };
            inner.spawn_persist(ban.id, rec);
        }
        if cfg.database_url.is_some() {
            let dir = data_dir.to_path_buf();
            tracker.spawn(cache::cache_loop(inner.clone(), dir));
            inner.cache_dirty.notify_one();
        }
        Ok(Control { inner })
    }

    pub(super) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    /// The lock-free gate for the connection path.
    pub fn gatekeeper(&self) -> Gatekeeper {
        self.inner.gate.clone()
    }

    /// The gate by reference (the connection path avoids a clone per lookup).
    pub(crate) fn gate(&self) -> &Gatekeeper {
        &self.inner.gate
    }

    /// Events for changes made by this relay and by the rest of the fleet.
    pub fn subscribe(&self) -> broadcast::Receiver<ControlEvent> {
        self.inner.events.subscribe()
    }

    /// Whether the last store operation succeeded (false during an outage).
    pub fn store_healthy(&self) -> bool {
        self.inner.healthy.load(Ordering::Relaxed)
    }

    /// Adds a ban, or extends the active ban on the same target (never shortening it).
    pub async fn add_ban(&self, new: NewBan) -> Result<Ban, ControlError> {
        let now = Utc::now();
        let rec = BanRecord {
            expires_at: new.expiry.resolve(now)?,
            target: new.target,
            reason: new.reason,
            created_by: new.created_by,
            created_at: now,
        };
        let ban = self
            .inner
            .op("add_ban", self.inner.store.add_ban(&rec, now))
            .await?;
        self.inner.upsert(ban.clone(), None);
        Ok(ban)
    }

    /// Removes a ban by id; `None` if there is no such ban. A negative id is an automatic ban
    /// not yet stored: it is dropped from the index and its pending write cancelled.
    pub async fn remove_ban(&self, id: i64) -> Result<Option<Ban>, ControlError> {
        if id < 0 {
            let ban = self.inner.cancel_pending(id);
            let gone = ban.clone().map(ControlEvent::BanRemoved);
            self.inner.changed(gone.into_iter().collect());
            return Ok(ban);
        }
        let removed = self
            .inner
            .op("remove_ban", self.inner.store.remove_ban(id))
            .await?;
        if let Some(ban) = self.inner.index.remove(id) {
            self.inner.changed(vec![ControlEvent::BanRemoved(ban)]);
        }
        Ok(removed)
    }

    /// Removes every ban (active and expired, pending automatic bans included); returns how
    /// many there were.
    pub async fn clear_bans(&self) -> Result<u64, ControlError> {
        let _writes_paused = self.inner.persist_gate.write().await;
        let seen = self.inner.index.epoch();
        let n = self
            .inner
            .op("clear_bans", self.inner.store.clear_bans())
            .await?;
        let mut events = self.inner.index.replace_all(Vec::new(), Utc::now(), seen);
        let pending = self.inner.index.provisional_ids();
        let cancelled: Vec<Ban> = pending
            .into_iter()
            .filter_map(|id| self.inner.cancel_pending(id))
            .collect();
        let extra = cancelled.len() as u64;
        events.extend(cancelled.into_iter().map(ControlEvent::BanRemoved));
        self.inner.changed(events);
        Ok(n + extra)
    }

    /// One ban by id, active or expired (a negative id: an automatic ban not yet stored).
    pub async fn get_ban(&self, id: i64) -> Result<Option<Ban>, ControlError> {
        if id < 0 {
            return Ok(self.inner.index.get(id));
        }
        self.inner.op("get_ban", self.inner.store.get_ban(id)).await
    }

    /// A page of bans.
    /// Active bans from the in-memory index as the JSON of their `BanView`s, and how many there
    /// are (no store round trip: works during an outage).
    pub fn active_bans_json(
        &self,
        kind: Option<BanKind>,
        offset: u64,
        limit: u64,
    ) -> (Vec<Arc<str>>, u64) {
        let inner = self.inner();
        let now = Utc::now();
        let json = |b: &Ban| inner.listing.active_json(b);
        inner
            .index
            .active_page(kind, now, offset as usize, limit as usize, json)
    }

    pub async fn list_bans(&self, filter: &BanFilter) -> Result<BanPage, ControlError> {
        let fut = self.inner.store.list_bans(filter, Utc::now());
        self.inner.op("list_bans", fut).await
    }

    /// Active IP/CIDR bans covering `ip` (answered by the store's containment index).
    pub async fn bans_covering(&self, ip: IpAddr) -> Result<Vec<Ban>, ControlError> {
        let fut = self.inner.store.bans_covering(ip, Utc::now());
        self.inner.op("bans_covering", fut).await
    }

    /// Rebuilds the index from the store now (also done periodically, skipped then when the
    /// store's bans version has not moved since the last reload).
    pub async fn reconcile(&self) -> Result<(), ControlError> {
        self.inner.reconcile(true).await
    }
}

/// What the control plane starts from.
struct Start {
    store: Box<dyn ControlStore>,
    active: ActiveBans,
    scores: Vec<ScoreRecord>,
    healthy: bool,
}

async fn load_store(cfg: &ControlConfig, data_dir: &Path) -> Result<Start, StoreError> {
    let store = open_store(cfg, data_dir).await?;
    let active = store.active_bans(Utc::now()).await?;
    let scores = store.load_scores().await?;
    Ok(Start {
        store,
        active,
        scores,
        healthy: true,
    })
}

/// Postgres is down at start: with a cache from an earlier run, start from it (every ban it
/// knew is enforced, writes answer 503) on a lazy connection that catches up when the database
/// is back; without one there is nothing safe to enforce, so the start fails.
fn degraded_start(
    cfg: &ControlConfig,
    cached: Option<&Snapshot>,
    error: StoreError,
) -> Result<Start, ControlError> {
    let (Some(url), Some(cached)) = (&cfg.database_url, cached) else {
        return Err(error.into());
    };
    tracing::error!(%error, bans = cached.bans.len(), scores = cached.scores.len(), file = CACHE_FILE,
        "CONTROL STORE DOWN AT START: enforcing the cached bans; ban writes answer 503 until the database is back");
    let bans = cached.bans.iter().filter(|b| b.id > 0).cloned().collect();
    Ok(Start {
        store: Box::new(PgStore::lazy(url, cfg)?),
        active: ActiveBans {
            bans,
            version: cached.version,
        },
        scores: Vec::new(),
        healthy: false,
    })
}

/// Automatic bans the last run enforced but had not yet written to the store.
fn unpersisted(cached: &Snapshot, active: &ActiveBans) -> Vec<Ban> {
    let now = Utc::now();
    let stored = |b: &Ban| active.bans.iter().any(|s| s.target == b.target);
    cached
        .bans
        .iter()
        .filter(|b| b.id < 0 && b.is_active_at(now) && !stored(b))
        .cloned()
        .collect()
}

impl Inner {
    pub(super) fn lock_pending(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<i64>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers provisional ban `id` as pending and spawns its persisting task.
    pub(super) fn spawn_persist(self: &Arc<Self>, id: i64, rec: BanRecord) {
        self.lock_pending().insert(id);
        let task = super::tasks::persist_auto_ban(self.clone(), id, rec);
        self.tracker.spawn(task);
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

    /// Puts one ban in the index (or drops it if it is no longer active): after a local
    /// write (`seen = None`), or as read from the store after epoch `seen`.
    pub(super) fn upsert(&self, ban: Ban, seen: Option<u64>) {
        if !ban.is_active_at(Utc::now()) {
            let gone = self.index.remove(ban.id).map(ControlEvent::BanExpired);
            return self.changed(gone.into_iter().collect());
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
}
