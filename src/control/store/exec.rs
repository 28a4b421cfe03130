//! Running statements on either store's database: values bound and read back the same way, the
//! bounds sqlx needs stated once (`Exec`), and the dialect as data (`SqlStore`: how a timestamp
//! is kept, how a snapshot transaction begins).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::query::Query;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

use super::StoreError;

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone)]
pub enum Value {
    Bool(bool),
    Text(String),
    OptText(Option<String>),
    Float(f64),
    Int(i64),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
}

/// The type a column is read as.
#[derive(Debug, Clone, Copy)]
pub enum Col {
    Int,
    Text,
    Float,
    Time,
    OptTime,
}

/// One statement with its arguments.
pub type Stmt = (&'static str, Vec<Value>);

/// One database with its dialect.
#[derive(Debug)]
pub struct SqlStore<DB: Database, T> {
    pub pool: Pool<DB>,
    /// A timestamp as stored.
    pub to_db: fn(DateTime<Utc>) -> T,
    /// A stored timestamp read back.
    pub from_db: fn(T) -> Result<DateTime<Utc>, StoreError>,
    /// How a transaction that reads one consistent snapshot begins (`None`: a plain `BEGIN`).
    pub begin_snapshot: Option<&'static str>,
}

impl<DB: Database, T> Clone for SqlStore<DB, T> {
    fn clone(&self) -> Self {
        SqlStore {
            pool: self.pool.clone(),
            ..*self
        }
    }
}

/// Running statements on one database.
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
    /// Runs two queries on one snapshot (a read transaction).
    async fn read_snapshot(&self, queries: [Read<'_>; 2]) -> Result<[Rows; 2], StoreError>;
}

/// One query: its SQL, its arguments and how its columns are read.
pub type Read<'a> = (&'static str, Vec<Value>, &'a [Col]);
/// Rows as read.
pub type Rows = Vec<Vec<Value>>;

#[async_trait]
impl<DB, T> Exec for SqlStore<DB, T>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    bool: for<'q> Encode<'q, DB> + Type<DB>,
    String: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    f64: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    T: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB> + Send + Sync + 'static,
    Option<String>: for<'q> Encode<'q, DB> + Type<DB>,
    Option<T>: for<'q> Encode<'q, DB> + Type<DB>,
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
        let rows = query(sql, args, self.to_db).fetch_all(&self.pool).await?;
        self.decode(&rows, cols)
    }

    async fn read_snapshot(&self, queries: [Read<'_>; 2]) -> Result<[Rows; 2], StoreError> {
        let mut tx = match self.begin_snapshot {
            Some(begin) => self.pool.begin_with(begin).await?,
            None => self.pool.begin().await?,
        };
        let mut out: [Rows; 2] = Default::default();
        for (slot, (sql, args, cols)) in out.iter_mut().zip(queries) {
            let rows = query(sql, args, self.to_db).fetch_all(&mut *tx).await?;
            *slot = self.decode(&rows, cols)?;
        }
        tx.commit().await?;
        Ok(out)
    }
}

impl<DB: Database, T> SqlStore<DB, T>
where
    usize: ColumnIndex<DB::Row>,
    String: for<'r> Decode<'r, DB> + Type<DB>,
    f64: for<'r> Decode<'r, DB> + Type<DB>,
    i64: for<'r> Decode<'r, DB> + Type<DB>,
    T: for<'r> Decode<'r, DB> + Type<DB>,
{
    /// Each row's columns read as `cols` says.
    fn decode(&self, rows: &[DB::Row], cols: &[Col]) -> Result<Rows, StoreError> {
        let get = |r: &DB::Row, i: usize, c: Col| -> Result<Value, StoreError> {
            let from_db = self.from_db;
            Ok(match c {
                Col::Int => Value::Int(r.try_get(i)?),
                Col::Text => Value::Text(r.try_get(i)?),
                Col::Float => Value::Float(r.try_get(i)?),
                Col::Time => Value::Time(from_db(r.try_get::<T, _>(i)?)?),
                Col::OptTime => {
                    let stored = r.try_get::<Option<T>, _>(i)?;
                    Value::OptTime(stored.map(from_db).transpose()?)
                }
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
    bool: for<'q> Encode<'q, DB> + Type<DB>,
    String: for<'q> Encode<'q, DB> + Type<DB>,
    f64: for<'q> Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    T: for<'q> Encode<'q, DB> + Type<DB>,
    Option<String>: for<'q> Encode<'q, DB> + Type<DB>,
    Option<T>: for<'q> Encode<'q, DB> + Type<DB>,
{
    let bind = |q: Query<'static, DB, DB::Arguments>, v| match v {
        Value::Bool(b) => q.bind(b),
        Value::Text(s) => q.bind(s),
        Value::OptText(s) => q.bind(s),
        Value::Float(f) => q.bind(f),
        Value::Int(i) => q.bind(i),
        Value::Time(t) => q.bind(to_db(t)),
        Value::OptTime(t) => q.bind(t.map(to_db)),
    };
    args.into_iter().fold(sqlx::query::<DB>(sql), bind)
}

/// A row that is not what its query reads.
pub fn corrupt() -> StoreError {
    StoreError::Corrupt {
        id: 0,
        reason: "row of unexpected shape".into(),
    }
}
