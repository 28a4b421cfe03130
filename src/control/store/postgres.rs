//! Postgres store: native `cidr` column with a GiST index for containment, triggers that
//! NOTIFY every change so the fleet stays in step (see `pg_feed`).

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::Postgres;
use sqlx::Row;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::exec::SqlStore;
use super::shared::SharedSql;
use super::{ban_from_row, merged_expiry, ControlStore, StoreChange, StoreError};
use crate::control::ban::{Ban, BanRecord};
use crate::control::config::ControlConfig;

const BAN_COLUMNS: &str = "id, target, reason, created_by, created_at, expires_at";

/// The fleet's shared store.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    /// False when opened while the database was down: migrations run on the first round trip.
    migrated: Arc<AtomicBool>,
    /// The statements both stores run alike, with this database's dialect.
    sql: SqlStore<Postgres, DateTime<Utc>>,
}

fn ban(row: &PgRow) -> Result<Ban, StoreError> {
    ban_from_row(
        row.try_get("id")?,
        row.try_get::<&str, _>("target")?,
        row.try_get("reason")?,
        row.try_get("created_by")?,
        row.try_get("created_at")?,
        row.try_get("expires_at")?,
    )
}

fn pool_options(cfg: &ControlConfig) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(cfg.max_connections.max(1))
        .acquire_timeout(cfg.store_timeout)
        .idle_timeout(Some(Duration::from_secs(300)))
        .test_before_acquire(true)
}

fn bans(rows: &[PgRow]) -> Result<Vec<Ban>, StoreError> {
    rows.iter().map(ban).collect()
}

impl PgStore {
    fn new(pool: PgPool, migrated: bool) -> PgStore {
        let sql = SqlStore {
            pool: pool.clone(),
            to_db: |t| t,
            from_db: Ok,
            begin_snapshot: Some("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
        };
        PgStore {
            pool,
            migrated: Arc::new(AtomicBool::new(migrated)),
            sql,
        }
    }

    /// Connects lazily-tolerant (the pool retries on use) and applies the migrations.
    pub async fn connect(url: &str, cfg: &ControlConfig) -> Result<PgStore, StoreError> {
        let pool = pool_options(cfg).connect(url).await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(PgStore::new(pool, true))
    }

    /// A store for a database that is down now: nothing is connected until first use, and the
    /// migrations run on the first successful bans-version round trip (every reconcile makes one).
    pub fn lazy(url: &str, cfg: &ControlConfig) -> Result<PgStore, StoreError> {
        let pool = pool_options(cfg).connect_lazy(url)?;
        Ok(PgStore::new(pool, false))
    }

    async fn ensure_migrated(&self) -> Result<(), StoreError> {
        if !self.migrated.load(Ordering::Acquire) {
            sqlx::migrate!("migrations/postgres")
                .run(&self.pool)
                .await?;
            self.migrated.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// The underlying pool (tests use it to inspect connections).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn extend(
        tx: &mut sqlx::PgConnection,
        old: Ban,
        rec: &BanRecord,
    ) -> Result<Ban, StoreError> {
        let expires = merged_expiry(old.expires_at, rec.expires_at);
        if expires == old.expires_at {
            return Ok(old);
        }
        let sql = "UPDATE control_bans SET expires_at = $2 WHERE id = $1 \
                   RETURNING id, target, reason, created_by, created_at, expires_at";
        let row = sqlx::query(sql)
            .bind(old.id)
            .bind(expires)
            .fetch_one(tx)
            .await?;
        ban(&row)
    }

    async fn insert(tx: &mut sqlx::PgConnection, rec: &BanRecord) -> Result<Ban, StoreError> {
        let sql = "INSERT INTO control_bans \
                   (kind, target, net, reason, created_by, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7) \
                   RETURNING id, target, reason, created_by, created_at, expires_at";
        let row = sqlx::query(sql)
            .bind(rec.target.kind().as_str())
            .bind(rec.target.to_string())
            .bind(rec.target.network())
            .bind(&rec.reason)
            .bind(&rec.created_by)
            .bind(rec.created_at)
            .bind(rec.expires_at)
            .fetch_one(tx)
            .await?;
        ban(&row)
    }
}

#[async_trait]
impl ControlStore for PgStore {
    async fn add_ban(&self, rec: &BanRecord, now: DateTime<Utc>) -> Result<Ban, StoreError> {
        let mut tx = self.pool.begin().await?;
        // serialise concurrent adds of the same target across the fleet
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(rec.target.to_string())
            .execute(&mut *tx)
            .await?;
        let sql = "SELECT id, target, reason, created_by, created_at, expires_at \
                   FROM control_bans WHERE target = $1 \
                   AND (expires_at IS NULL OR expires_at > $2) ORDER BY id LIMIT 1";
        let existing = sqlx::query(sql)
            .bind(rec.target.to_string())
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
        let result = match existing {
            Some(row) => Self::extend(&mut tx, ban(&row)?, rec).await?,
            None => Self::insert(&mut tx, rec).await?,
        };
        tx.commit().await?;
        Ok(result)
    }

    async fn clear_bans(&self) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM control_bans")
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("TRUNCATE control_bans")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(n as u64)
    }

    async fn bans_version(&self) -> Result<i64, StoreError> {
        self.ensure_migrated().await?;
        let sql = "SELECT bans_version FROM control_meta";
        Ok(sqlx::query_scalar(sql).fetch_one(&self.pool).await?)
    }

    async fn bans_covering(&self, ip: IpAddr, now: DateTime<Utc>) -> Result<Vec<Ban>, StoreError> {
        let sql = format!(
            "SELECT {BAN_COLUMNS} FROM control_bans WHERE net >>= $1 \
             AND (expires_at IS NULL OR expires_at > $2) ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ipnetwork::IpNetwork::from(ip.to_canonical()))
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        bans(&rows)
    }

    fn sql(&self) -> &dyn SharedSql {
        &self.sql
    }

    fn spawn_feed(
        &self,
        tx: mpsc::Sender<StoreChange>,
        cancel: CancellationToken,
        tracker: &TaskTracker,
    ) {
        tracker.spawn(super::pg_feed::run(self.pool.clone(), tx, cancel));
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
