//! Rough throughput figure of the pipeline alone on a test chain without signatures (not a
//! timed assertion): `cargo test --release --test sync throughput -- --ignored --nocapture`.
//! The devnet figure (signatures, redb) is the benchmark: `wharf bench sync`.

use std::sync::Arc;
use std::time::Instant;

use prometheus_client::registry::Registry;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use wharf::sync::pipeline::SyncPipeline;
use wharf::sync::{NoopReporter, SyncConfig, SyncMetrics, SyncServerConfig};

use crate::fixtures::{chain, source, TestSink, TestVerifier};
use crate::net::Node;
use crate::{serving, NETWORK};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run in release with --ignored --nocapture"]
async fn throughput_of_8_kib_blocks_from_two_relays() {
    let n = 20_000u64;
    let blocks = chain(n, 2_000);
    let bytes: usize = blocks.iter().flat_map(|b| b.iter().map(|p| p.len())).sum();
    let src = source(&blocks);
    let a = serving(
        src.clone(),
        Arc::new(NoopReporter),
        SyncServerConfig::default(),
    )
    .await
    .0;
    let b = serving(src, Arc::new(NoopReporter), SyncServerConfig::default())
        .await
        .0;
    let client = Node::spawn(&[&a, &b]).await.unwrap();
    let sink = Arc::new(TestSink::default());
    let metrics = SyncMetrics::register(&mut Registry::default());
    let reporter = Arc::new(NoopReporter);
    let mut p = SyncPipeline::new(
        client.control.clone(),
        NETWORK,
        Arc::new(TestVerifier),
        sink.clone(),
        reporter,
        metrics,
        SyncConfig::default(),
    );
    let (_tx, peers) = watch::channel(vec![a.peer, b.peer]);
    let started = Instant::now();
    p.sync_to(n - 1, &peers, &CancellationToken::new())
        .await
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "synced {n} blocks ({:.1} KiB each) in {secs:.2}s: {:.0} blocks/s, {:.1} MiB/s",
        bytes as f64 / n as f64 / 1024.0,
        n as f64 / secs,
        bytes as f64 / secs / (1024.0 * 1024.0),
    );
    assert!(sink.parts() == blocks);
}
