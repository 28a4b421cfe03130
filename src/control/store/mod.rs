//! Persistence of bans and scores behind one interface with two implementations: Postgres
//! (production, shared by a fleet, with change notifications) and SQLite (zero-setup default).

mod exec;
mod pg_feed;
mod postgres;
mod shared;
mod sqlite;

use std::net::IpAddr;
use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use libp2p::PeerId;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::control::ban::{Ban, BanFilter, BanPage, BanRecord, BanTarget};
use crate::control::config::ControlConfig;
pub use postgres::PgStore;
pub use shared::SharedSql;
pub use sqlite::SqliteStore;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (connection refused or lost, pool timeout).
    #[error("control store unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The database answered with an error.
    #[error("control store error: {0}")]
    Database(#[source] sqlx::Error),
    /// Applying the embedded migrations failed.
    #[error("control store migration failed: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    /// A stored row does not parse (e.g. a target written by a newer version).
    #[error("control store row {id} is invalid: {reason}")]
    Corrupt {
        /// The row id.
        id: i64,
        /// What is wrong.
        reason: String,
    },
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::Error::*;
        match e {
            Io(_) | Tls(_) | Protocol(_) | PoolTimedOut | PoolClosed | WorkerCrashed => {
                StoreError::Unavailable(e)
            }
            Database(ref db) if is_connection_state(db.code().as_deref()) => {
                StoreError::Unavailable(e)
            }
            Database(ref db) if is_sqlite_busy(db.as_ref()) => StoreError::Unavailable(e),
            e => StoreError::Database(e),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    /// A migration that could not reach the database is an outage, not a broken migration.
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        match e {
            sqlx::migrate::MigrateError::Execute(inner) => match StoreError::from(inner) {
                StoreError::Database(inner) => {
                    StoreError::Migrate(sqlx::migrate::MigrateError::Execute(inner))
                }
                other => other,
            },
            e => StoreError::Migrate(e),
        }
    }
}

/// SQLSTATEs meaning "the server cannot serve you now": connection exceptions (08), operator
/// intervention such as admin shutdown (57), insufficient resources (53), and a database that
/// refuses connections (55000) or is gone (3D000).
fn is_connection_state(code: Option<&str>) -> bool {
    let class = |c: &str| ["08", "57", "53"].iter().any(|p| c.starts_with(p));
    code.is_some_and(|c| class(c) || c == "55000" || c == "3D000")
}

/// SQLite's `SQLITE_BUSY` (5) and `SQLITE_LOCKED` (6), with their extended codes: another
/// writer held the file past `busy_timeout`. Retryable, so an automatic ban is never dropped.
fn is_sqlite_busy(db: &dyn sqlx::error::DatabaseError) -> bool {
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_none() {
        return false;
    }
    let code = db.code().and_then(|c| c.parse::<i32>().ok());
    code.is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

impl StoreError {
    /// Whether this is an outage (the caller may retry later) rather than a bad request.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

/// The active bans and the bans version they were read at.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveBans {
    /// Active bans, ordered by id.
    pub bans: Vec<Ban>,
    /// The bans version of this snapshot.
    pub version: i64,
}

/// A change another writer made, as announced by the store's change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChange {
    /// The ban with this id was inserted or updated.
    Upserted(i64),
    /// The ban with this id was deleted.
    Deleted(i64),
    /// Anything may have changed (all bans cleared, or notifications were lost while the
    /// feed was reconnecting): reload everything.
    Resync,
}

/// Operations the control plane needs from its database.
#[async_trait]
pub trait ControlStore: Send + Sync + 'static {
    /// Adds a ban; if an active ban has the same target, extends it instead (the later expiry
    /// wins, permanent beats any; a ban is never shortened; reason and creator are kept).
    async fn add_ban(&self, rec: &BanRecord, now: DateTime<Utc>) -> Result<Ban, StoreError>;
    /// One ban by id, active or expired.
    async fn get_ban(&self, id: i64) -> Result<Option<Ban>, StoreError> {
        self.sql().get_ban(id).await
    }
    /// A page of bans matching `filter`, with the total count.
    async fn list_bans(
        &self,
        filter: &BanFilter,
        now: DateTime<Utc>,
    ) -> Result<BanPage, StoreError> {
        self.sql().list_bans(filter, now).await
    }
    /// Deletes one ban, returning it.
    async fn remove_ban(&self, id: i64) -> Result<Option<Ban>, StoreError> {
        self.sql().remove_ban(id).await
    }
    /// Deletes every ban, active or expired; returns how many there were.
    async fn clear_bans(&self) -> Result<u64, StoreError>;
    /// Every ban active at `now` (what the index is built from), with the bans version it
    /// was read at (one consistent snapshot).
    async fn active_bans(&self, now: DateTime<Utc>) -> Result<ActiveBans, StoreError> {
        self.sql().active_bans(now).await
    }
    /// The current bans version, bumped by every change to bans.
    async fn bans_version(&self) -> Result<i64, StoreError>;
    /// Active IP and CIDR bans covering `ip`.
    async fn bans_covering(&self, ip: IpAddr, now: DateTime<Utc>) -> Result<Vec<Ban>, StoreError>;
    /// The statements both stores run alike (scores, bans by id, ban pages).
    fn sql(&self) -> &dyn SharedSql;
    /// Deletes bans that expired before `before`; returns how many.
    async fn prune_expired_bans(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.sql().prune_expired_bans(before).await
    }
    /// Cheap round trip telling whether the database is reachable.
    async fn ping(&self) -> Result<(), StoreError> {
        self.sql().ping().await
    }
    /// Starts announcing other writers' changes on `tx` (no-op for a single-process store).
    fn spawn_feed(
        &self,
        _tx: mpsc::Sender<StoreChange>,
        _cancel: CancellationToken,
        _tracker: &TaskTracker,
    ) {
    }
    /// Closes the connections once everything is flushed.
    async fn close(&self);
}

/// Opens the configured store: Postgres when `database_url` is set, otherwise SQLite at
/// `<data_dir>/control.sqlite`. Migrations are applied before returning.
pub async fn open_store(
    cfg: &ControlConfig,
    data_dir: &Path,
) -> Result<Box<dyn ControlStore>, StoreError> {
    match &cfg.database_url {
        Some(url) => Ok(Box::new(PgStore::connect(url, cfg).await?)),
        None => Ok(Box::new(
            SqliteStore::open(&data_dir.join("control.sqlite"), cfg).await?,
        )),
    }
}

/// Builds a [`Ban`] from stored columns, validating the target.
pub(crate) fn ban_from_row(
    id: i64,
    target: &str,
    reason: String,
    created_by: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<Ban, StoreError> {
    let target: BanTarget = target.parse().map_err(
        |e: crate::control::ban::TargetParseError| StoreError::Corrupt {
            id,
            reason: e.to_string(),
        },
    )?;
    Ok(Ban {
        id,
        target,
        reason,
        created_by,
        created_at,
        expires_at,
    })
}

/// The expiry after merging a request into an existing active ban: never shorter.
pub(crate) fn merged_expiry(
    old: Option<DateTime<Utc>>,
    new: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    match (old, new) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    }
}

/// Parses a stored peer id.
pub(crate) fn peer_from_row(s: &str) -> Result<PeerId, StoreError> {
    s.parse().map_err(|e| StoreError::Corrupt {
        id: 0,
        reason: format!("peer id `{s}`: {e}"),
    })
}

/// Score events older than this are pruned on flush.
pub(crate) const SCORE_EVENT_RETENTION: chrono::Duration = chrono::Duration::days(7);
