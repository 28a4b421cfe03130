//! Rough throughput figure (not a timed assertion): run with
//! `cargo test --release --test sync throughput -- --ignored --nocapture`.

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
    let client = Node::spawn(&[&a, &b]).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run in release with --ignored --nocapture"]
async fn throughput_of_devnet_blocks_into_a_redb_store() {
    use wharf::chain::devnet::{keypair_from_seed, DevnetMinter, MintParams};
    use wharf::chain::{Block, ChainAdapter};
    use wharf::store::{BlockStore, StoreMetrics};
    use wharf::sync::{ChainVerifier, MemorySource};

    let n = 20_000u64;
    let minter = DevnetMinter::new(
        keypair_from_seed(3),
        MintParams {
            seed: 3,
            txs_per_block: 16,
            tx_size: 400,
        },
    );
    let adapter: Arc<dyn ChainAdapter> = Arc::new(minter.adapter().clone());
    let (src, mut parent, mut bytes) = (MemorySource::default(), None::<Block>, 0usize);
    for i in 0..n {
        let block = minter.mint(parent.as_ref().map(|b| &b.header), i * 1000);
        let [t, r, e, s] = block.bodies.clone();
        let parts = [adapter.encode_header(&block.header).into(), t, r, e, s];
        bytes += parts.iter().map(|p: &bytes::Bytes| p.len()).sum::<usize>();
        src.insert(i, parts);
        parent = Some(block);
    }
    if std::env::var("WHARF_PROFILE").is_ok() {
        profile(&src, &adapter, n);
    }
    let src = Arc::new(src);
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
    let client = Node::spawn(&[&a, &b]).await;
    let dir = tempfile::tempdir().unwrap();
    let store = BlockStore::open(
        dir.path(),
        adapter.clone(),
        StoreMetrics::register(&mut Registry::default()),
    )
    .unwrap();
    let store = Arc::new(store);
    let metrics = SyncMetrics::register(&mut Registry::default());
    let verifier = Arc::new(ChainVerifier(adapter));
    let mut p = SyncPipeline::new(
        client.control.clone(),
        NETWORK,
        verifier,
        store.clone(),
        Arc::new(NoopReporter),
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
        "devnet: synced {n} blocks ({:.1} KiB each) into redb in {secs:.2}s: {:.0} blocks/s, {:.1} MiB/s",
        bytes as f64 / n as f64 / 1024.0,
        n as f64 / secs,
        bytes as f64 / secs / (1024.0 * 1024.0),
    );
    assert_eq!(store.head().map(|(h, _)| h), Some(n - 1));
}

/// Times verification and store commits alone, to see which stage bounds the pipeline.
fn profile(src: &wharf::sync::MemorySource, adapter: &Arc<dyn wharf::chain::ChainAdapter>, n: u64) {
    use wharf::chain::Component;
    use wharf::sync::pipeline::BlockVerifier;
    use wharf::sync::BlockSource;
    let v = wharf::sync::ChainVerifier(adapter.clone());
    let started = Instant::now();
    let mut blocks = Vec::new();
    for start in (0..n).step_by(100) {
        let parts: Vec<Vec<(u64, bytes::Bytes)>> = Component::ALL
            .iter()
            .map(|c| src.range(*c, start, 100, 1).unwrap())
            .collect();
        for i in 0..parts[0].len() {
            let h = v.verify_header(start + i as u64, &parts[0][i].1).unwrap();
            for (c, p) in Component::ALL.iter().zip(&parts).skip(1) {
                v.verify_body(&h, *c, &p[i].1).unwrap();
            }
            let [t, r, e, s] = [1, 2, 3, 4].map(|c| parts[c][i].1.clone());
            blocks.push(wharf::chain::Block {
                header: h.header,
                bodies: [t, r, e, s],
            });
        }
    }
    eprintln!(
        "verify alone: {:.0} blocks/s",
        n as f64 / started.elapsed().as_secs_f64()
    );
    let dir = tempfile::tempdir().unwrap();
    let metrics = wharf::store::StoreMetrics::register(&mut Registry::default());
    let store = wharf::store::BlockStore::open(dir.path(), adapter.clone(), metrics).unwrap();
    let started = Instant::now();
    for batch in blocks.chunks(800) {
        store.commit_batch(batch).unwrap();
    }
    eprintln!(
        "redb commit alone (800/batch): {:.0} blocks/s",
        n as f64 / started.elapsed().as_secs_f64()
    );
}
