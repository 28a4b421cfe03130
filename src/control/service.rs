//! The `Control` handle: ban operations for the API and the swarm on top of the state in
//! `state` (score operations are in `penalty`, starting in `open`, background work in `tasks`).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use prometheus_client::registry::Registry;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::ban::{Ban, BanFilter, BanKind, BanPage, BanRecord, NewBan};
use super::index::Gatekeeper;
use super::metrics::ControlMetrics;
use super::state::Inner;
use super::{ControlConfig, ControlError, ControlEvent};

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
        let inner = super::open::start(cfg, data_dir, metrics, cancel, tracker).await?;
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
        self.inner.healthy()
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

    /// A page of bans.
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
