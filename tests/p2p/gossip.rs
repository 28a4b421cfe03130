//! Block gossip: accepted announcements travel on, rejected ones stop and cost the sender.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use wharf::p2p::Verdict;
use wharf::App;

use crate::common::{config, config_with_peers, eventually, peer_addr};

/// Runs a validator on `app`: accepts payloads starting with `ok`, rejects the rest, and
/// records what it saw.
fn validate_ok_prefix(app: &mut App) -> Arc<Mutex<Vec<Bytes>>> {
    let mut rx = app.take_gossip().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (p2p, log) = (app.p2p.clone(), seen.clone());
    tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            let verdict = if m.data.starts_with(b"ok") {
                Verdict::Accept
            } else {
                Verdict::Reject
            };
            log.lock().unwrap().push(m.data.clone());
            let _ = p2p.validate(m.id, m.source, verdict).await;
        }
    });
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_announcements_are_forwarded_rejected_ones_penalised() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    // a -- b -- c in a line: c only hears a through b's verdicts. One outbound connection each
    // keeps a and c from dialing each other after they meet in the DHT.
    let mut b = App::start(config(dirs[1].path())).await.unwrap();
    let b_seen = validate_ok_prefix(&mut b);
    let line = |dir: &std::path::Path| {
        let mut cfg = config_with_peers(dir, &[peer_addr(&b)]);
        cfg.p2p.limits.max_established_outbound = 1;
        cfg.p2p.limits.max_pending_outbound = 1;
        cfg
    };
    let mut a = App::start(line(dirs[0].path())).await.unwrap();
    let _a_seen = validate_ok_prefix(&mut a);
    let mut c = App::start(line(dirs[2].path())).await.unwrap();
    let c_seen = validate_ok_prefix(&mut c);

    // Publish fresh valid announcements until one reaches c: meshes form over a few heartbeats.
    let n = std::sync::atomic::AtomicU32::new(0);
    eventually(
        Duration::from_secs(30),
        "a valid announcement reaches c through b",
        || async {
            let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let _ = a.p2p.publish(Bytes::from(format!("ok-warmup-{i}"))).await;
            c_seen
                .lock()
                .unwrap()
                .iter()
                .any(|d| d.starts_with(b"ok-warmup"))
        },
    )
    .await;

    a.p2p.publish(Bytes::from_static(b"forged")).await.unwrap();
    a.p2p.publish(Bytes::from_static(b"ok-2")).await.unwrap();
    eventually(
        Duration::from_secs(20),
        "c receives the later valid one",
        || async { c_seen.lock().unwrap().iter().any(|d| d.as_ref() == b"ok-2") },
    )
    .await;
    assert!(
        b_seen
            .lock()
            .unwrap()
            .iter()
            .any(|d| d.as_ref() == b"forged"),
        "b judged it"
    );
    assert!(
        !c_seen
            .lock()
            .unwrap()
            .iter()
            .any(|d| d.as_ref() == b"forged"),
        "a rejected announcement was forwarded"
    );
    eventually(
        Duration::from_secs(10),
        "b's gossipsub score of a is negative",
        || async {
            b.p2p
                .gossip_score(a.peer_id())
                .await
                .unwrap()
                .is_some_and(|s| s < 0.0)
        },
    )
    .await;
    assert!(
        c.p2p.peer(a.peer_id()).await.unwrap().is_none(),
        "a and c must not be connected"
    );
    for app in [a, b, c] {
        app.shutdown().await;
    }
}
