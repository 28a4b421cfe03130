//! Score persistence shared by the Postgres and SQLite stores: the same tables, statements
//! (`$n` parameters, which SQLite accepts too), transactions and row mapping. The only dialect
//! is how a timestamp is kept ([`Scores::to_db`], [`Scores::from_db`]: SQLite keeps Unix
//! milliseconds).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use libp2p::PeerId;
use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

use super::{peer_from_row, StoreError, SCORE_EVENT_RETENTION};
use crate::control::score::{ScoreEventRecord, ScoreRecord};

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    Float(f64),
    Int(i64),
    Time(DateTime<Utc>),
}

/// The type a column is read as.
#[derive(Debug, Clone, Copy)]
pub enum Col {
    Text,
    Float,
    Time,
}

/// One statement with its arguments.
pub type Stmt = (&'static str, Vec<Value>);

/// The score tables of one database. The dialect is how that database keeps a timestamp.
#[derive(Debug)]
pub struct Scores<DB: Database, T> {
    pub pool: Pool<DB>,
    /// A timestamp as stored.
    pub to_db: fn(DateTime<Utc>) -> T,
    /// A stored timestamp read back.
    pub from_db: fn(T) -> Result<DateTime<Utc>, StoreError>,
}

impl<DB: Database, T> Clone for Scores<DB, T> {
    fn clone(&self) -> Self {
        Scores {
            pool: self.pool.clone(),
            ..*self
        }
    }
}

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

/// Score persistence as the control plane uses it (through [`super::ControlStore::scores`]).
#[async_trait]
pub trait ScoreStore: Send + Sync {
    /// Writes scores, appends score events and prunes old events, in one transaction.
    async fn save(
        &self,
        scores: &[ScoreRecord],
        events: &[(PeerId, ScoreEventRecord)],
    ) -> Result<(), StoreError>;
    /// Every stored score.
    async fn load(&self) -> Result<Vec<ScoreRecord>, StoreError>;
    /// The last `limit` score events of a peer, oldest first.
    async fn history(&self, peer: &PeerId, limit: u32)
        -> Result<Vec<ScoreEventRecord>, StoreError>;
    /// Deletes the scores and score events of `peers`, in one transaction.
    async fn delete(&self, peers: &[PeerId]) -> Result<(), StoreError>;
}

#[async_trait]
impl<S: Exec> ScoreStore for S {
    async fn save(
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

    async fn load(&self) -> Result<Vec<ScoreRecord>, StoreError> {
        let cols = [Col::Text, Col::Float, Col::Time];
        let rows = self.read(SELECT_SCORES, Vec::new(), &cols).await?;
        rows.into_iter().map(score_record).collect()
    }

    async fn history(
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

    async fn delete(&self, peers: &[PeerId]) -> Result<(), StoreError> {
        let stmts = peers.iter().flat_map(|p| {
            [
                (DELETE_SCORE, vec![peer(p)]),
                (DELETE_EVENTS, vec![peer(p)]),
            ]
        });
        self.write(stmts.collect()).await
    }
}

/// Running statements on one database: the bounds sqlx needs are stated once, here.
#[async_trait]
pub trait Exec: Send + Sync {
    /// Runs `stmts` in one transaction.
    async fn write(&self, stmts: Vec<Stmt>) -> Result<(), StoreError>;
    /// Runs one query; each row's columns read as `cols` says.
    async fn read(
        &self,
        sql: &'static str,
        args: Vec<Value>,
        cols: &[Col],
    ) -> Result<Vec<Vec<Value>>, StoreError>;
}

#[async_trait]
impl<DB, T> Exec for Scores<DB, T>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    String: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    f64: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    T: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB> + Send + Sync + 'static,
{
    async fn write(&self, stmts: Vec<Stmt>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for (sql, args) in stmts {
            query(sql, args, self.to_db).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn read(
        &self,
        sql: &'static str,
        args: Vec<Value>,
        cols: &[Col],
    ) -> Result<Vec<Vec<Value>>, StoreError> {
        let q = query(sql, args, self.to_db);
        let rows = q.fetch_all(&self.pool).await?;
        let get = |r: &DB::Row, i: usize, c: Col| -> Result<Value, StoreError> {
            Ok(match c {
                Col::Text => Value::Text(r.try_get(i)?),
                Col::Float => Value::Float(r.try_get(i)?),
                Col::Time => Value::Time((self.from_db)(r.try_get::<T, _>(i)?)?),
            })
        };
        let row = |r: &DB::Row| {
            cols.iter()
                .enumerate()
                .map(|(i, c)| get(r, i, *c))
                .collect()
        };
        rows.iter().map(row).collect()
    }
}

/// `sql` with `args` bound, timestamps as the database keeps them.
fn query<DB, T>(
    sql: &'static str,
    args: Vec<Value>,
    to_db: fn(DateTime<Utc>) -> T,
) -> Query<'static, DB, DB::Arguments>
where
    DB: Database,
    String: for<'q> Encode<'q, DB> + Type<DB>,
    f64: for<'q> Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    T: for<'q> Encode<'q, DB> + Type<DB>,
{
    let bind = |q: Query<'static, DB, DB::Arguments>, v| match v {
        Value::Text(s) => q.bind(s),
        Value::Float(f) => q.bind(f),
        Value::Int(i) => q.bind(i),
        Value::Time(t) => q.bind(to_db(t)),
    };
    args.into_iter().fold(sqlx::query::<DB>(sql), bind)
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

fn peer(p: &PeerId) -> Value {
    Value::Text(p.to_string())
}

fn corrupt() -> StoreError {
    StoreError::Corrupt {
        id: 0,
        reason: "score row of unexpected shape".into(),
    }
}
