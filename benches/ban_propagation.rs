//! Ban propagation latency across two relays on one Postgres: time from calling `add_ban` on
//! relay A (the write included) to relay B's gate refusing the address; p50/p99 over many bans.
//! Run: `cargo bench --bench ban_propagation` (skips loudly without Postgres).

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use prometheus_client::registry::Registry;
use sqlx::{Connection, PgConnection};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wharf::control::{BanTarget, Control, ControlConfig, Expiry, NewBan};

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const SAMPLES: u32 = 300;

async fn admin(sql: String) -> Result<(), sqlx::Error> {
    let mut conn = PgConnection::connect(ADMIN_URL).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await?;
    Ok(())
}

async fn relay(
    cfg: &ControlConfig,
    dir: &std::path::Path,
    tracker: &TaskTracker,
    cancel: &CancellationToken,
) -> Control {
    let mut registry = Registry::default();
    Control::open(cfg, dir, &mut registry, cancel.clone(), tracker)
        .await
        .expect("control opens")
}

async fn measure(a: &Control, b: &Control, base: u32) -> Vec<Duration> {
    let gate = b.gatekeeper();
    let mut samples = Vec::new();
    for i in 0..SAMPLES {
        let ip = IpAddr::V4(Ipv4Addr::from(base + i));
        let new = NewBan {
            target: BanTarget::Ip(ip),
            reason: "bench".into(),
            created_by: "bench".into(),
            expiry: Expiry::Permanent,
        };
        let start = Instant::now();
        a.add_ban(new).await.expect("add ban");
        while !gate.is_ip_banned(ip) {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "ban never propagated"
            );
            tokio::time::sleep(Duration::from_micros(100)).await;
        }
        samples.push(start.elapsed());
    }
    samples.sort();
    samples
}

fn report(label: &str, s: &[Duration]) {
    let pct = |p: usize| s[(s.len() * p / 100).min(s.len() - 1)];
    println!(
        "ban propagation A -> B, {label}, {SAMPLES} bans: p50 {:?}  p99 {:?}  max {:?}",
        pct(50),
        pct(99),
        s[s.len() - 1]
    );
}

/// Inserts 100,000 IP bans (11.0.0.1 ...) behind the relays' backs and waits until B has them.
async fn preload(db: &str, b: &Control) {
    let url = format!("postgres://postgres@127.0.0.1:5432/{db}");
    let mut conn = PgConnection::connect(&url).await.expect("bench db");
    let sql = "INSERT INTO control_bans (kind, target, net, reason, created_by, created_at) \
               SELECT 'ip', host(ip), ip, 'preload', 'bench', now() \
               FROM (SELECT '11.0.0.0'::inet + g AS ip FROM generate_series(1, 100000) g) s";
    sqlx::raw_sql(sql)
        .execute(&mut conn)
        .await
        .expect("preload");
    let last = IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + 100_000));
    let gate = b.gatekeeper();
    let start = Instant::now();
    while !gate.is_ip_banned(last) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "preload never arrived"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::main]
async fn main() {
    let db = format!("wharf_bench_{:016x}", rand::random::<u64>());
    if let Err(e) = admin(format!("CREATE DATABASE {db}")).await {
        eprintln!("SKIPPED: Postgres not reachable at {ADMIN_URL}: {e}");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = ControlConfig {
        database_url: Some(format!("postgres://postgres@127.0.0.1:5432/{db}")),
        reconcile_interval: Duration::from_secs(3600),
        ..ControlConfig::default()
    };
    let (tracker, cancel) = (TaskTracker::new(), CancellationToken::new());
    let a = relay(&cfg, dir.path(), &tracker, &cancel).await;
    let b = relay(&cfg, dir.path(), &tracker, &cancel).await;
    report("empty index", &measure(&a, &b, 0x0a00_0000).await);
    preload(&db, &b).await;
    report("100k bans loaded", &measure(&a, &b, 0x0a01_0000).await);
    cancel.cancel();
    tracker.close();
    tracker.wait().await;
    let _ = admin(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
}
