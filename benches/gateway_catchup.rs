//! Gateway catch-up of a Starknet feeder relay, release mode:
//! `cargo bench --bench gateway_catchup [-- ROUNDS RATE]`. A loopback mock feeder gateway
//! (`tests/starknet/mock.rs`) serves the 8 real Sepolia blocks (0-7, every answer byte for
//! byte); a fresh feeder relay (real `App`, full verification, redb store) catches up from
//! genesis, ROUNDS times (default 20), first against the instant mock, then against the mock
//! rate-limited to RATE requests/s (default 10; over it: `429` with `Retry-After: 1`, as the
//! public gateway), with the default `fetch_concurrency` (8) and with 1. Reports blocks/s
//! (8 blocks per round; each block is 3 requests: `get_block`, `get_state_update`,
//! `get_signature`, so RATE/3 blocks/s is the ceiling).

#[path = "../tests/starknet/mock.rs"]
#[allow(dead_code)]
mod mock;

use std::time::{Duration, Instant};

use mock::MockGateway;
use wharf::{App, Config};

const LAST: u64 = 7;

fn config(dir: &std::path::Path, gw: &MockGateway, concurrency: usize) -> Config {
    let mut c = Config::default();
    c.node.data_dir = dir.to_path_buf();
    c.node.network = "sepolia".into();
    c.p2p.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    c.metrics.listen = "127.0.0.1:0".parse().unwrap();
    c.api.listen = "127.0.0.1:0".parse().unwrap();
    c.feeder.enabled = true;
    c.feeder.gateway_url = gw.url();
    c.feeder.poll_interval = Duration::from_millis(50);
    c.feeder.backoff_initial = Duration::from_millis(20);
    c.feeder.backoff_max = Duration::from_secs(2);
    c.feeder.fetch_concurrency = concurrency;
    c
}

/// One catch-up from genesis to block 7 with a fresh store: seconds.
async fn round(gw: &MockGateway, concurrency: usize) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let app = App::start(config(dir.path(), gw, concurrency))
        .await
        .unwrap();
    let store = app.store.clone().unwrap();
    let start = Instant::now();
    while store.head().map(|h| h.0) != Some(LAST) {
        assert!(start.elapsed() < Duration::from_secs(120), "no catch-up");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    app.shutdown().await;
    secs
}

async fn measure(gw: &MockGateway, rounds: u32, concurrency: usize, what: &str) {
    let before = gw.throttled();
    let mut times = Vec::new();
    for _ in 0..rounds {
        times.push(round(gw, concurrency).await);
    }
    times.sort_by(f64::total_cmp);
    let total: f64 = times.iter().sum();
    let blocks = (LAST + 1) as f64;
    let median = times[times.len() / 2];
    println!(
        "{what}, fetch_concurrency {concurrency}: {:.1} blocks/s overall ({} rounds of {blocks} blocks), median round {:.1} ms = {:.1} blocks/s, 429s served {}",
        blocks * rounds as f64 / total,
        rounds,
        median * 1000.0,
        blocks / median,
        gw.throttled() - before,
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rounds = args.first().and_then(|a| a.parse().ok()).unwrap_or(20);
    let rate = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average before: {}",
        load.split_whitespace().next().unwrap_or("?")
    );
    let instant = MockGateway::start("sepolia", LAST, LAST).await;
    measure(&instant, rounds, 8, "instant loopback gateway").await;
    let limited = MockGateway::start("sepolia", LAST, LAST).await;
    limited.rate_limit(rate);
    let what = format!("gateway limited to {rate} requests/s");
    let rounds = (rounds / 4).max(2);
    for concurrency in [8, 1] {
        measure(&limited, rounds, concurrency, &what).await;
    }
}
