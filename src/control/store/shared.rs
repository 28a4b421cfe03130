//! What the Postgres and SQLite stores do alike: scores and score events, bans by id and ban
//! pages. The same tables, statements (`$n` parameters, which SQLite accepts too), transactions
//! and row mapping; the dialect is data in [`super::exec::SqlStore`] (how a timestamp is kept,
//! how a snapshot transaction begins).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use libp2p::PeerId;

use super::exec::{corrupt, Col, Exec, Value};
use super::{ban_from_row, peer_from_row, ActiveBans, StoreError, SCORE_EVENT_RETENTION};
use crate::control::ban::{Ban, BanFilter, BanPage};
use crate::control::score::{ScoreEventRecord, ScoreRecord};

const UPSERT_SCORE: &str = "INSERT INTO control_scores (peer, score, updated_at) \
     VALUES ($1, $2, $3) ON CONFLICT (peer) DO UPDATE SET score = $2, updated_at = $3";
const INSERT_EVENT: &str = "INSERT INTO control_score_events (peer, at, event, delta, score) \
     VALUES ($1, $2, $3, $4, $5)";
const PRUNE_EVENTS: &str = "DELETE FROM control_score_events WHERE at < $1";
const SELECT_SCORES: &str = "SELECT peer, score, updated_at FROM control_scores";
const SELECT_HISTORY: &str = "SELECT at, event, delta, score FROM control_score_events \
     WHERE peer = $1 ORDER BY id DESC LIMIT $2";
const DELETE_SCORE: &str = "DELETE FROM control_scores WHERE peer = $1";
const DELETE_EVENTS: &str = "DELETE FROM control_score_events WHERE peer = $1";
const GET_BAN: &str = "SELECT id, target, reason, created_by, created_at, expires_at \
     FROM control_bans WHERE id = $1";
const REMOVE_BAN: &str = "DELETE FROM control_bans WHERE id = $1 \
     RETURNING id, target, reason, created_by, created_at, expires_at";
const COUNT_BANS: &str = "SELECT count(*) FROM control_bans \
     WHERE ($1 OR expires_at IS NULL OR expires_at > $2) \
     AND (CAST($3 AS TEXT) IS NULL OR kind = $3)";
const PAGE_BANS: &str = "SELECT id, target, reason, created_by, created_at, expires_at \
     FROM control_bans WHERE ($1 OR expires_at IS NULL OR expires_at > $2) \
     AND (CAST($3 AS TEXT) IS NULL OR kind = $3) ORDER BY id LIMIT $5 OFFSET $4";
const PRUNE_BANS: &str = "DELETE FROM control_bans WHERE expires_at < $1 RETURNING id";
const PING: &str = "SELECT 1";
const BANS_VERSION: &str = "SELECT bans_version FROM control_meta";
const ACTIVE_BANS: &str = "SELECT id, target, reason, created_by, created_at, expires_at \
     FROM control_bans WHERE expires_at IS NULL OR expires_at > $1 ORDER BY id";
/// How a ban row is read.
const BAN_COLS: [Col; 6] = [
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Time,
    Col::OptTime,
];

/// What both stores run alike (through [`super::ControlStore::sql`]).
#[async_trait]
pub trait SharedSql: Send + Sync {
    /// Writes scores, appends score events and prunes old events, in one transaction.
    async fn save_scores(
        &self,
        scores: &[ScoreRecord],
        events: &[(PeerId, ScoreEventRecord)],
    ) -> Result<(), StoreError>;
    /// Every stored score.
    async fn load_scores(&self) -> Result<Vec<ScoreRecord>, StoreError>;
    /// The last `limit` score events of a peer, oldest first.
    async fn score_history(
        &self,
        peer: &PeerId,
        limit: u32,
    ) -> Result<Vec<ScoreEventRecord>, StoreError>;
    /// Deletes the scores and score events of `peers`, in one transaction.
    async fn delete_scores(&self, peers: &[PeerId]) -> Result<(), StoreError>;
    /// One ban by id, active or expired.
    async fn get_ban(&self, id: i64) -> Result<Option<Ban>, StoreError>;
    /// Deletes one ban, returning it.
    async fn remove_ban(&self, id: i64) -> Result<Option<Ban>, StoreError>;
    /// A page of bans matching `filter`, with the total count.
    async fn list_bans(&self, f: &BanFilter, now: DateTime<Utc>) -> Result<BanPage, StoreError>;
    /// Deletes bans that expired before `before`; returns how many.
    async fn prune_expired_bans(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Cheap round trip telling whether the database is reachable.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Every ban active at `now`, with the bans version, from one snapshot.
    async fn active_bans(&self, now: DateTime<Utc>) -> Result<ActiveBans, StoreError>;
}

#[async_trait]
impl<S: Exec> SharedSql for S {
    async fn save_scores(
        &self,
        scores: &[ScoreRecord],
        events: &[(PeerId, ScoreEventRecord)],
    ) -> Result<(), StoreError> {
        let upserts = scores.iter().map(|s| {
            let args = vec![
                peer(&s.peer),
                Value::Float(s.score),
                Value::Time(s.updated_at),
            ];
            (UPSERT_SCORE, args)
        });
        let inserts = events.iter().map(|(p, e)| {
            let args = vec![
                peer(p),
                Value::Time(e.at),
                Value::Text(e.event.clone()),
                Value::Float(e.delta),
                Value::Float(e.score),
            ];
            (INSERT_EVENT, args)
        });
        let prune = (
            PRUNE_EVENTS,
            vec![Value::Time(Utc::now() - SCORE_EVENT_RETENTION)],
        );
        self.write(upserts.chain(inserts).chain([prune]).collect())
            .await
    }

    async fn load_scores(&self) -> Result<Vec<ScoreRecord>, StoreError> {
        let cols = [Col::Text, Col::Float, Col::Time];
        let rows = self.read(SELECT_SCORES, Vec::new(), &cols).await?;
        rows.into_iter().map(score_record).collect()
    }

    async fn score_history(
        &self,
        peer_id: &PeerId,
        limit: u32,
    ) -> Result<Vec<ScoreEventRecord>, StoreError> {
        let cols = [Col::Time, Col::Text, Col::Float, Col::Float];
        let args = vec![peer(peer_id), Value::Int(i64::from(limit))];
        let rows = self.read(SELECT_HISTORY, args, &cols).await?;
        let mut out = rows
            .into_iter()
            .map(event_record)
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.reverse();
        Ok(out)
    }

    async fn delete_scores(&self, peers: &[PeerId]) -> Result<(), StoreError> {
        let stmts = peers.iter().flat_map(|p| {
            [
                (DELETE_SCORE, vec![peer(p)]),
                (DELETE_EVENTS, vec![peer(p)]),
            ]
        });
        self.write(stmts.collect()).await
    }

    async fn get_ban(&self, id: i64) -> Result<Option<Ban>, StoreError> {
        let rows = self.read(GET_BAN, vec![Value::Int(id)], &BAN_COLS).await?;
        rows.into_iter().next().map(ban_record).transpose()
    }

    async fn remove_ban(&self, id: i64) -> Result<Option<Ban>, StoreError> {
        let rows = self
            .read(REMOVE_BAN, vec![Value::Int(id)], &BAN_COLS)
            .await?;
        rows.into_iter().next().map(ban_record).transpose()
    }

    async fn list_bans(&self, f: &BanFilter, now: DateTime<Utc>) -> Result<BanPage, StoreError> {
        let kind = f.kind.map(|k| k.as_str().to_owned());
        let filter = vec![
            Value::Bool(f.include_expired),
            Value::Time(now),
            Value::OptText(kind),
        ];
        let count = self.read(COUNT_BANS, filter.clone(), &[Col::Int]).await?;
        let Some([Value::Int(total)]) = count.first().map(Vec::as_slice) else {
            return Err(corrupt());
        };
        let total = *total as u64;
        let offset = f.offset.min(i64::MAX as u64) as i64;
        let limit = f.limit.map_or(i64::MAX, |l| l.min(i64::MAX as u64) as i64);
        let args = filter
            .into_iter()
            .chain([Value::Int(offset), Value::Int(limit)]);
        let rows = self.read(PAGE_BANS, args.collect(), &BAN_COLS).await?;
        let bans = rows.into_iter().map(ban_record).collect::<Result<_, _>>()?;
        Ok(BanPage { bans, total })
    }

    async fn prune_expired_bans(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let args = vec![Value::Time(before)];
        let pruned = self.read(PRUNE_BANS, args, &[Col::Int]).await?;
        Ok(pruned.len() as u64)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(PING, Vec::new(), &[]).await.map(drop)
    }

    async fn active_bans(&self, now: DateTime<Utc>) -> Result<ActiveBans, StoreError> {
        let version = (BANS_VERSION, Vec::new(), &[Col::Int][..]);
        let active = (ACTIVE_BANS, vec![Value::Time(now)], &BAN_COLS[..]);
        let [version, active] = self.read_snapshot([version, active]).await?;
        let Some([Value::Int(version)]) = version.first().map(Vec::as_slice) else {
            return Err(corrupt());
        };
        let bans = active
            .into_iter()
            .map(ban_record)
            .collect::<Result<_, _>>()?;
        Ok(ActiveBans {
            bans,
            version: *version,
        })
    }
}

fn score_record(row: Vec<Value>) -> Result<ScoreRecord, StoreError> {
    match <[Value; 3]>::try_from(row) {
        Ok([Value::Text(p), Value::Float(score), Value::Time(updated_at)]) => Ok(ScoreRecord {
            peer: peer_from_row(&p)?,
            score,
            updated_at,
        }),
        _ => Err(corrupt()),
    }
}

fn event_record(row: Vec<Value>) -> Result<ScoreEventRecord, StoreError> {
    match <[Value; 4]>::try_from(row) {
        Ok([Value::Time(at), Value::Text(event), Value::Float(delta), Value::Float(score)]) => {
            Ok(ScoreEventRecord {
                at,
                event,
                delta,
                score,
            })
        }
        _ => Err(corrupt()),
    }
}

fn ban_record(row: Vec<Value>) -> Result<Ban, StoreError> {
    use Value::{Int, OptTime, Text, Time};
    match <[Value; 6]>::try_from(row) {
        Ok([Int(id), Text(target), Text(reason), Text(by), Time(at), OptTime(expires)]) => {
            ban_from_row(id, &target, reason, by, at, expires)
        }
        _ => Err(corrupt()),
    }
}

fn peer(p: &PeerId) -> Value {
    Value::Text(p.to_string())
}
