//! Abrupt kill: a feeder process killed with SIGKILL mid-sync reopens at its last
//! committed block, with a valid chain, and resumes from there.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::helpers::{assert_same_chain, feeder_config, gateway, open_store, TestFeeder};

const CHILD_ENV: &str = "WHARF_TEST_CRASH_CHILD";
const NEVER: Duration = Duration::from_secs(3600);

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
    while heads.changed().await.is_ok() {
        let number = heads.borrow().as_ref().map(|h| h.number);
        println!("HEAD {}", number.unwrap_or_default());
    }
}

fn spawn_child(url: &str, dir: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "crash::crash_child_feeder",
            "--nocapture",
        ])
        .env(CHILD_ENV, format!("{url}|{}", dir.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Reads the child's output until it reports a head of at least `target`.
fn wait_for_head(child: &mut Child, target: u64) {
    let stdout = BufReader::new(child.stdout.take().unwrap());
    for line in stdout.lines() {
        let line = line.unwrap();
        let head = line
            .strip_prefix("HEAD ")
            .and_then(|n| n.parse::<u64>().ok());
        if head.is_some_and(|n| n >= target) {
            return;
        }
    }
    panic!("child exited before reaching head {target}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_feeder_reopens_at_its_last_commit() {
    let gw = gateway(2000, NEVER).await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_child(&gw.url(), dir.path());
    let reader = tokio::task::spawn_blocking(move || {
        wait_for_head(&mut child, 200);
        child.kill().unwrap();
        child.wait().unwrap()
    });
    let status = tokio::time::timeout(Duration::from_secs(120), reader)
        .await
        .unwrap()
        .unwrap();
    assert!(!status.success(), "the child was killed, not finished");
    let adapter = std::sync::Arc::new(gw.chain().minter().adapter().clone());
    let store = open_store(dir.path(), adapter);
    let (head, _) = store.head().expect("blocks survived the kill");
    assert!((200..2000).contains(&head), "killed mid-sync at {head}");
    assert_same_chain(&store, &gw, head);
    drop(store);
    let feeder = TestFeeder::start(feeder_config(gw.url()), dir.path()).await;
    feeder.wait_head(2000).await;
    assert_eq!(feeder.metrics.blocks_committed.get(), 2000 - head);
    let store = feeder.stop().await;
    assert_same_chain(&store, &gw, 2000);
}
