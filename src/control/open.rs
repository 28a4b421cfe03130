//! Starting the control plane: open and migrate the store (or start degraded from the local
//! cache while Postgres is down), load bans and scores, and start the background tasks.

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::ban::{Ban, BanRecord};
use super::cache::{self, Snapshot, CACHE_FILE};
use super::metrics::ControlMetrics;
use super::score::{ScoreBook, ScoreRecord};
use super::state::{Inner, Parts};
use super::store::{open_store, ActiveBans, ControlStore, PgStore, StoreError};
use super::tasks;
use super::{ControlConfig, ControlError};

/// Capacity of the store change feed.
const FEED_CAPACITY: usize = 1024;

/// Opens the store, builds the state and starts its tasks on `tracker`.
pub(super) async fn start(
    cfg: &ControlConfig,
    data_dir: &Path,
    metrics: ControlMetrics,
    cancel: CancellationToken,
    tracker: &TaskTracker,
) -> Result<Arc<Inner>, ControlError> {
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
    let cached = cached.unwrap_or_default();
    let (scores, newer) = cache::merge_scores(start.scores, cached.score_records());
    let scores = ScoreBook::new(cfg, scores);
    scores.restore(&newer, Vec::new());
    let provisional = unpersisted(&cached, &start.active);
    let parts = Parts {
        cfg: cfg.clone(),
        store: start.store,
        scores,
        metrics,
        healthy: start.healthy,
        synced: start.active.version,
        cancel,
        tracker: tracker.clone(),
    };
    let mut bans = start.active.bans;
    bans.extend(provisional.iter().cloned());
    let inner = Arc::new(Inner::new(parts, bans));
    spawn_tasks(&inner, data_dir, provisional);
    Ok(inner)
}

/// The change feed, sync, flush and (with Postgres) cache loops, and the writes of the
/// automatic bans the last run had not stored.
fn spawn_tasks(inner: &Arc<Inner>, data_dir: &Path, provisional: Vec<Ban>) {
    let tracker = &inner.tracker;
    let (tx, rx) = mpsc::channel(FEED_CAPACITY);
    inner.store.spawn_feed(tx, inner.cancel.clone(), tracker);
    tracker.spawn(tasks::sync_loop(inner.clone(), rx));
    tracker.spawn(tasks::flush_loop(inner.clone()));
    for ban in provisional {
        tasks::spawn_persist(inner, ban.id, BanRecord::from(&ban));
    }
    if inner.cfg.database_url.is_some() {
        tracker.spawn(tasks::cache_loop(inner.clone(), data_dir.to_path_buf()));
        inner.cache_dirty.notify_one();
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
    let scores = store.sql().load_scores().await?;
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
