//! Abrupt kills: a feeder process killed with SIGKILL at random moments of its sync, several
//! times in a row on the same store, reopens each time at (or past) the last head it reported
//! committed, with a chain identical to the gateway's, and finally resumes to the tip.

use std::path::Path;
use std::time::Duration;

use crate::child::{kill_after_head, Child};
use crate::helpers::{assert_same_chain, feeder_config, gateway, open_store, TestFeeder};

const CHILD_ENV: &str = "WHARF_TEST_CRASH_CHILD";
const NEVER: Duration = Duration::from_secs(3600);
const TIP: u64 = 2000;
const ROUNDS: usize = 4;

/// Runs in the child process only: syncs and prints every committed head until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of killed_feeder_reopens_at_its_last_commit"]
async fn crash_child_feeder() {
    let spec = std::env::var(CHILD_ENV).expect("run by the parent test");
    let (url, dir) = spec.split_once('|').unwrap();
    let mut cfg = feeder_config(url.to_string());
    cfg.batch_size = 4;
    let feeder = TestFeeder::start(cfg, Path::new(dir)).await;
    let mut heads = feeder.handle.subscribe();
    loop {
        let number = heads.borrow_and_update().as_ref().map(|h| h.number);
        if let Some(n) = number {
            println!("HEAD {n}");
        }
        if heads.changed().await.is_err() {
            break;
        }
    }
}

/// Starts a child on `dir`, waits until it reports a head of at least `target`, lets it run a
/// random few milliseconds more (so the kill lands anywhere in a commit), kills it; returns
/// the highest head it reported.
fn run_and_kill(url: &str, dir: &Path, target: u64) -> u64 {
    let child = Child::spawn(
        "crash::crash_child_feeder",
        &[(CHILD_ENV, format!("{url}|{}", dir.display()))],
    );
    kill_after_head(child, target, Duration::from_millis(15))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_feeder_reopens_at_its_last_commit() {
    let gw = gateway(TIP, NEVER).await;
    let dir = tempfile::tempdir().unwrap();
    let adapter = std::sync::Arc::new(gw.chain().minter().adapter().clone());
    let mut head = 0;
    for round in 0..ROUNDS {
        let target = head + 20 + rand::random::<u64>() % 120;
        let (url, path) = (gw.url(), dir.path().to_path_buf());
        let reported = tokio::task::spawn_blocking(move || run_and_kill(&url, &path, target))
            .await
            .unwrap();
        let store = open_store(dir.path(), adapter.clone());
        let (stored, _) = store.head().expect("blocks survived the kill");
        assert!(
            stored >= reported,
            "round {round}: head {reported} was reported committed, the store has {stored}"
        );
        assert!(
            stored < TIP,
            "round {round}: killed mid-sync, not at the tip"
        );
        assert_same_chain(&store, &gw, stored);
        head = stored;
    }
    let feeder = TestFeeder::start(feeder_config(gw.url()), dir.path()).await;
    feeder.wait_head(TIP).await;
    assert_eq!(feeder.metrics.blocks_committed.get(), TIP - head);
    let store = feeder.stop().await;
    assert_same_chain(&store, &gw, TIP);
}
