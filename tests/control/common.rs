//! Test harness: one environment per test (temp data dir, and for Postgres its own database),
//! relays started in-process, and condition waits with deadlines.

use std::future::Future;
use std::time::{Duration, Instant};

use prometheus_client::registry::Registry;
use sqlx::{Connection, PgConnection};
use tempfile::TempDir;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wharf::control::{Control, ControlConfig, ControlEvent};

use crate::node::{wait_for, wait_until_true};

pub const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Which store a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A test's private storage: a data dir, plus a database for Postgres.
pub struct Env {
    pub dir: TempDir,
    pub db: Option<String>,
}

/// A running control plane and what stops it.
pub struct Relay {
    pub control: Control,
    pub cancel: CancellationToken,
    pub tracker: TaskTracker,
    pub registry: Registry,
}

impl Relay {
    /// Cancels and waits for every task (the final score flush included).
    pub async fn stop(self) {
        self.cancel.cancel();
        self.tracker.close();
        tokio::time::timeout(Duration::from_secs(10), self.tracker.wait())
            .await
            .expect("control tasks stop within 10 s");
    }
}

async fn admin() -> Option<PgConnection> {
    let connect = PgConnection::connect(ADMIN_URL);
    match tokio::time::timeout(Duration::from_secs(3), connect).await {
        Ok(Ok(conn)) => Some(conn),
        _ if std::env::var_os("CI").is_some() => panic!("Postgres not reachable at {ADMIN_URL}"),
        _ => {
            eprintln!("SKIPPED: Postgres not reachable at {ADMIN_URL}");
            None
        }
    }
}

/// Runs one admin statement (database names are generated, never user input).
pub async fn admin_exec(sql: String) {
    let mut conn = admin().await.expect("admin connection");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .expect("admin statement");
}

impl Env {
    /// A fresh environment, or `None` (after a loud SKIPPED line) without Postgres.
    pub async fn new(backend: Backend) -> Option<Env> {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let mut conn = admin().await?;
                let name = format!("wharf_test_{:016x}", rand::random::<u64>());
                let sql = format!("CREATE DATABASE {name}");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                    .ok()?;
                Some(name)
            }
        };
        Some(Env { dir, db })
    }

    /// The URL of this test's database.
    pub fn url(&self) -> Option<String> {
        self.db
            .as_ref()
            .map(|db| format!("postgres://postgres@127.0.0.1:5432/{db}"))
    }

    /// A config pointing at this environment's store, with test-friendly timings.
    pub fn config(&self) -> ControlConfig {
        ControlConfig {
            database_url: self.url(),
            store_timeout: Duration::from_secs(1),
            ..ControlConfig::default()
        }
    }

    /// Starts a relay's control plane on this environment.
    pub async fn start(&self, cfg: &ControlConfig) -> Relay {
        start_control(self.dir.path(), cfg).await
    }

    /// Drops the test database (also done on drop, so a failing test leaves nothing behind).
    pub async fn cleanup(mut self) {
        if let Some(db) = self.db.take() {
            admin_exec(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
        }
    }

    /// Makes the database refuse connections and kills the existing ones.
    pub async fn outage(&self) {
        let db = self.db.as_ref().expect("postgres env");
        admin_exec(format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false")).await;
        let kill = format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"
        );
        admin_exec(kill).await;
    }

    /// Ends the outage.
    pub async fn recover(&self) {
        let db = self.db.as_ref().expect("postgres env");
        admin_exec(format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true")).await;
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let Some(db) = self.db.take() else { return };
        // a panicking test cannot await: drop the database from a helper thread
        let dropper = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let sql = format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)");
            rt.expect("runtime").block_on(admin_exec(sql));
        });
        let _ = dropper.join();
    }
}

/// Starts a control plane with its state in `dir` (crash tests' child processes use it on
/// the parent's environment, which they must not own or drop).
pub async fn start_control(dir: &std::path::Path, cfg: &ControlConfig) -> Relay {
    let mut registry = Registry::default();
    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    let control = Control::open(cfg, dir, &mut registry, cancel.clone(), &tracker)
        .await
        .expect("control opens");
    Relay {
        control,
        cancel,
        tracker,
        registry,
    }
}

/// Polls `cond` until it holds or `within` passes; returns the time it took. Kept for the
/// tests that call it: new tests use [`wait_for`].
pub async fn wait_until(within: Duration, cond: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    wait_until_true(within, "condition", cond).await;
    start.elapsed()
}

/// Retries an async operation until it returns `Some` or `within` passes. Kept for the tests
/// that call it: new tests use [`wait_for`].
pub async fn eventually<T, F: Future<Output = Option<T>>>(
    within: Duration,
    f: impl FnMut() -> F,
) -> T {
    wait_for(within, "operation", f).await
}

/// Receives events until one matches `pred`, failing after `within`.
pub async fn next_event(
    rx: &mut broadcast::Receiver<ControlEvent>,
    within: Duration,
    mut pred: impl FnMut(&ControlEvent) -> bool,
) -> ControlEvent {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("expected event not received in time")
            .expect("event channel open");
        if pred(&ev) {
            return ev;
        }
    }
}
