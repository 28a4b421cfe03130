//! SIGKILL while storing blocks with classes: a real child process feeder follows the loopback
//! gateway (Sepolia 0-6, whose first three blocks declare four Cairo 0 classes, 1.6 MB) and is
//! killed at times spread from its class requests to past its commit; every time the reopened
//! store holds either nothing or whole blocks with every class they declare, and no class of a
//! block it does not hold. The child's exit status must be SIGKILL (not a panic).

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::registry::Registry;
use wharf::chain::classes::parse_class_hash;
use wharf::chain::starknet::StarknetAdapter;
use wharf::store::{BlockStore, StoreMetrics};
use wharf::App;

use crate::classes::DECLARED;
use crate::mock::{class_fixtures, public_key, MockGateway};
use crate::sepolia_config;

const CHILD_ENV: &str = "WHARF_TEST_CLASS_CRASH_CHILD";

/// Runs in the child process only: a Sepolia feeder printing every committed head until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of a_feeder_killed_while_storing_classes_keeps_whole_blocks"]
async fn crash_child_feeder() {
    let spec = std::env::var(CHILD_ENV).expect("run by the parent test");
    let (url, dir) = spec.split_once('|').unwrap();
    let app = App::start(sepolia_config(Path::new(dir), url, &[], true))
        .await
        .unwrap();
    eprintln!("child: feeder started on {dir}");
    let mut heads = app.store.as_ref().unwrap().subscribe_head();
    loop {
        // wakes every 5 s to log progress (the parent shows the log if the test fails)
        let changed = tokio::time::timeout(Duration::from_secs(5), heads.changed()).await;
        eprintln!(
            "child: {changed:?}, head {:?}",
            app.store.as_ref().unwrap().head()
        );
        let head = *heads.borrow_and_update();
        if let Some((number, _)) = head {
            println!("HEAD {number}");
        }
    }
}

/// The child process, SIGKILLed when dropped (a failing parent leaves no child behind).
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the child on `dir`; its stderr goes to `<dir>.log` (shown if the test fails).
fn spawn_child(url: &str, dir: &Path) -> ChildGuard {
    let log = std::fs::File::create(dir.with_extension("log")).unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "crash::crash_child_feeder"])
        .args(["--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, format!("{url}|{}", dir.display()))
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    ChildGuard(child)
}

fn child_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.with_extension("log")).unwrap_or_default()
}

/// Waits (1 ms polls, 60 s deadline) until block 0's two classes were requested once more.
async fn classes_requested(gw: &MockGateway, before: [u32; 2]) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(60);
    while (0..2).any(|i| gw.class_requests(DECLARED[i]) <= before[i]) {
        assert!(
            Instant::now() < deadline,
            "the child never asked for classes"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Instant::now()
}

/// Starts a child on a fresh `dir`, SIGKILLs it `kill_after` past its class requests (or once
/// it reports block 0 committed); returns its exit status and when it reported block 0, if seen.
async fn run_child(
    gw: &MockGateway,
    dir: &Path,
    kill_after: Option<Duration>,
) -> (ExitStatus, Option<Duration>) {
    let before = [0, 1].map(|i| gw.class_requests(DECLARED[i]));
    let mut child = spawn_child(&gw.url(), dir);
    let stdout = BufReader::new(child.0.stdout.take().unwrap());
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if line.starts_with("HEAD ") && tx.blocking_send(Instant::now()).is_err() {
                return;
            }
        }
    });
    let asked = classes_requested(gw, before).await;
    let committed = match kill_after {
        Some(delay) => {
            tokio::time::sleep_until((asked + delay).into()).await;
            None
        }
        None => {
            let at = tokio::time::timeout(Duration::from_secs(180), rx.recv()).await;
            let at = at.ok().flatten();
            let requests = DECLARED.map(|h| gw.class_requests(h));
            let at = at.unwrap_or_else(|| {
                panic!(
                    "no head reported ({requests:?} class requests): {}",
                    child_log(dir)
                )
            });
            Some(at - asked)
        }
    };
    child.0.kill().unwrap();
    (child.0.wait().unwrap(), committed)
}

/// What the killed child left: nothing, or whole blocks with their classes. Returns the head.
fn check_store(dir: &Path) -> Option<u64> {
    let key = starknet_crypto::Felt::from_hex(&public_key("sepolia")).unwrap();
    let adapter = Arc::new(StarknetAdapter::new("SN_SEPOLIA", &key.to_bytes_be()).unwrap());
    let metrics = StoreMetrics::register(&mut Registry::default());
    let store = BlockStore::open(dir, adapter, metrics).unwrap();
    let head = store.head().map(|(n, _)| n);
    let fixtures = class_fixtures("sepolia");
    // DECLARED[0..2] come with block 0, [2] with block 1, [3] with block 2.
    for (i, hash) in DECLARED.iter().enumerate() {
        let declared_by = i.saturating_sub(1) as u64;
        let class = store.class(&parse_class_hash(hash).unwrap()).unwrap();
        let expected = head
            .is_some_and(|h| h >= declared_by)
            .then(|| fixtures[*hash].clone());
        assert_eq!(
            class.map(|b| b.to_vec()),
            expected,
            "class {hash}, head {head:?}"
        );
    }
    head
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feeder_killed_while_storing_classes_keeps_whole_blocks() {
    let gw = MockGateway::start("sepolia", 6, 6).await;
    let dir = tempfile::tempdir().unwrap();
    let (status, committed) = run_child(&gw, dir.path(), None).await;
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status:?}");
    let to_commit = committed.expect("block 0 reported");
    assert!(check_store(dir.path()).is_some());
    let mut outcomes = Vec::new();
    for step in 0..6u32 {
        let delay = to_commit * step / 3;
        let dir = tempfile::tempdir().unwrap();
        let (status, _) = run_child(&gw, dir.path(), Some(delay)).await;
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status:?}");
        outcomes.push((delay, check_store(dir.path())));
    }
    eprintln!("block 0 committed {to_commit:?} after its classes were asked; kills: {outcomes:?}");
    assert!(
        outcomes.iter().any(|(_, head)| head.is_none()),
        "some kill landed before the commit: {outcomes:?}"
    );
    assert!(
        outcomes.iter().any(|(_, head)| head.is_some()),
        "some kill landed after the commit: {outcomes:?}"
    );
}
