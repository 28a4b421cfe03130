//! SQLite store: the zero-setup default for a single relay, a WAL-mode file in the data dir.
//! Same behaviour as Postgres except there is no fleet, so no change feed.

use std::net::IpAddr;
use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::sqlite::{SqliteRow, SqliteSynchronous};
use sqlx::{Row, Sqlite};

use super::exec::SqlStore;
use super::shared::SharedSql;
use super::{ban_from_row, merged_expiry, ControlStore, StoreError};
use crate::control::ban::{Ban, BanRecord};
use crate::control::config::ControlConfig;

const BAN_COLUMNS: &str = "id, target, reason, created_by, created_at, expires_at";

/// Single-relay store in one SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The statements both stores run alike, with this database's dialect.
    sql: SqlStore<Sqlite, i64>,
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn time(id: i64, v: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| StoreError::Corrupt {
        id,
        reason: format!("timestamp {v}"),
    })
}

fn ban(row: &SqliteRow) -> Result<Ban, StoreError> {
    let id: i64 = row.try_get("id")?;
    let expires: Option<i64> = row.try_get("expires_at")?;
    ban_from_row(
        id,
        row.try_get::<&str, _>("target")?,
        row.try_get("reason")?,
        row.try_get("created_by")?,
        time(id, row.try_get("created_at")?)?,
        expires.map(|v| time(id, v)).transpose()?,
    )
}

fn bans(rows: &[SqliteRow]) -> Result<Vec<Ban>, StoreError> {
    rows.iter().map(ban).collect()
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies the migrations.
    pub async fn open(path: &Path, cfg: &ControlConfig) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(cfg.store_timeout);
        let pool = SqlitePoolOptions::new()
            .max_connections(cfg.max_connections.max(1))
            .acquire_timeout(cfg.store_timeout)
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        let sql = SqlStore {
            pool: pool.clone(),
            to_db: ms,
            from_db: |v| time(0, v),
            begin_snapshot: None,
        };
        Ok(SqliteStore { pool, sql })
    }

    async fn fetch_bans(&self, sql: String, now: DateTime<Utc>) -> Result<Vec<Ban>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ms(now))
            .fetch_all(&self.pool)
            .await?;
        bans(&rows)
    }
}

#[async_trait]
impl ControlStore for SqliteStore {
    async fn add_ban(&self, rec: &BanRecord, now: DateTime<Utc>) -> Result<Ban, StoreError> {
        // BEGIN IMMEDIATE takes the write lock up front, serialising concurrent adds
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let sql = format!(
            "SELECT {BAN_COLUMNS} FROM control_bans WHERE target = ?1 \
             AND (expires_at IS NULL OR expires_at > ?2) ORDER BY id LIMIT 1"
        );
        let existing = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(rec.target.to_string())
            .bind(ms(now))
            .fetch_optional(&mut *tx)
            .await?;
        let id = match existing {
            Some(row) => {
                let old = ban(&row)?;
                let expires = merged_expiry(old.expires_at, rec.expires_at);
                sqlx::query("UPDATE control_bans SET expires_at = ?2 WHERE id = ?1")
                    .bind(old.id)
                    .bind(expires.map(ms))
                    .execute(&mut *tx)
                    .await?;
                old.id
            }
            None => sqlx::query(
                "INSERT INTO control_bans \
                 (kind, target, reason, created_by, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(rec.target.kind().as_str())
            .bind(rec.target.to_string())
            .bind(&rec.reason)
            .bind(&rec.created_by)
            .bind(ms(rec.created_at))
            .bind(rec.expires_at.map(ms))
            .execute(&mut *tx)
            .await?
            .last_insert_rowid(),
        };
        tx.commit().await?;
        self.get_ban(id).await?.ok_or(StoreError::Corrupt {
            id,
            reason: "ban vanished after insert".into(),
        })
    }

    async fn clear_bans(&self) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM control_bans")
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn bans_version(&self) -> Result<i64, StoreError> {
        let sql = "SELECT bans_version FROM control_meta";
        Ok(sqlx::query_scalar(sql).fetch_one(&self.pool).await?)
    }

    async fn bans_covering(&self, ip: IpAddr, now: DateTime<Utc>) -> Result<Vec<Ban>, StoreError> {
        let sql = format!(
            "SELECT {BAN_COLUMNS} FROM control_bans WHERE kind IN ('ip', 'cidr') \
             AND (expires_at IS NULL OR expires_at > ?1) ORDER BY id"
        );
        let ip = ip.to_canonical();
        let all = self.fetch_bans(sql, now).await?;
        let covers = |b: &Ban| b.target.network().is_some_and(|net| net.contains(ip));
        Ok(all.into_iter().filter(covers).collect())
    }

    fn sql(&self) -> &dyn SharedSql {
        &self.sql
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
