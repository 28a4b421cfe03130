//! End to end with the real pieces: devnet blocks in a redb store, served by two relays,
//! synced through the pipeline with the devnet adapter into a fresh store.

use std::sync::Arc;

use bytes::BytesMut;
use prometheus_client::registry::Registry;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use wharf::chain::devnet::{keypair_from_seed, DevnetMinter, MintParams};
use wharf::chain::{Block, ChainAdapter, Component};
use wharf::store::{BlockStore, StoreMetrics};
use wharf::sync::pipeline::SyncPipeline;
use wharf::sync::{
    ChainVerifier, MemorySource, PeerReport, SyncConfig, SyncMetrics, SyncServerConfig,
};

use crate::fixtures::{deadline, Recorder};
use crate::net::Node;
use crate::{serving, NETWORK};

/// `n` signed devnet blocks from genesis.
fn mint(n: u64) -> (Vec<Block>, Arc<dyn ChainAdapter>) {
    let params = MintParams {
        seed: 11,
        txs_per_block: 8,
        tx_size: 128,
    };
    let minter = DevnetMinter::new(keypair_from_seed(11), params);
    let mut blocks: Vec<Block> = Vec::new();
    for i in 0..n {
        let parent = blocks.last().map(|b| &b.header);
        blocks.push(minter.mint(parent, 1_700_000_000_000 + i * 1000));
    }
    (blocks, Arc::new(minter.adapter().clone()))
}

fn open_store(dir: &tempfile::TempDir, adapter: &Arc<dyn ChainAdapter>) -> BlockStore {
    let metrics = StoreMetrics::register(&mut Registry::default());
    BlockStore::open(dir.path(), adapter.clone(), metrics).unwrap()
}

/// A relay whose transactions are tampered with (valid framing, wrong commitment), and whose
/// headers carry a broken signature every 7th block (so a batch signature check fails).
fn tampering_source(blocks: &[Block], adapter: &Arc<dyn ChainAdapter>) -> Arc<MemorySource> {
    let source = MemorySource::default();
    for b in blocks {
        let mut txs = BytesMut::from(&b.bodies[0][..]);
        let last = txs.len() - 1;
        txs[last] ^= 0x55;
        let [_, r, e, s] = b.bodies.clone();
        let mut header = BytesMut::from(&adapter.encode_header(&b.header)[..]);
        if b.header.number % 7 == 3 {
            let last = header.len() - 1;
            header[last] ^= 0x01;
        }
        let header = header.freeze();
        source.insert(
            b.header.number,
            [header, txs.freeze(), r, e, s, b.classes.clone()],
        );
    }
    Arc::new(source)
}

/// A relay padding every part: a space after the header (the signature does not cover it) and
/// after each body (a framing the devnet body format has no room for).
fn padding_source(blocks: &[Block], adapter: &Arc<dyn ChainAdapter>) -> Arc<MemorySource> {
    let source = MemorySource::default();
    let padded = |bytes: &[u8]| bytes::Bytes::from([bytes, b" "].concat());
    for b in blocks {
        let header = padded(&adapter.encode_header(&b.header));
        let [t, r, e, s] = b.bodies.each_ref().map(|body| padded(body));
        source.insert(b.header.number, [header, t, r, e, s, b.classes.clone()]);
    }
    Arc::new(source)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_devnet_blocks_from_store_to_store_despite_a_tampering_relay() {
    let (blocks, adapter) = mint(450);
    let bad = tampering_source(&blocks, &adapter);
    sync_despite(&blocks, &adapter, bad).await;
}

/// Padded parts are refused and their relay blamed; the store holds exactly the honest relay's
/// bytes, part by part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_padding_every_part_is_blamed_and_nothing_it_sent_is_stored() {
    let (blocks, adapter) = mint(250);
    let bad = padding_source(&blocks, &adapter);
    sync_despite(&blocks, &adapter, bad).await;
}

/// Syncs `blocks` from an honest relay and `bad` (asked first) into a fresh store; checks the
/// stored chain part by part against the honest relay's and that `bad` was reported.
async fn sync_despite(blocks: &[Block], adapter: &Arc<dyn ChainAdapter>, bad: Arc<MemorySource>) {
    let top = blocks.len() as u64 - 1;
    let source_dir = tempfile::tempdir().unwrap();
    let source = open_store(&source_dir, adapter);
    source.commit_batch(blocks).unwrap();
    let served = Arc::new(source.clone());
    let honest = serving(served, Recorder::new(), SyncServerConfig::default())
        .await
        .0;
    let bad = serving(bad, Recorder::new(), SyncServerConfig::default())
        .await
        .0;
    let client = Node::spawn(&[&honest, &bad]).await.unwrap();

    let target_dir = tempfile::tempdir().unwrap();
    let target = Arc::new(open_store(&target_dir, adapter));
    let recorder = Recorder::new();
    let metrics = SyncMetrics::register(&mut Registry::default());
    let verifier = Arc::new(ChainVerifier(adapter.clone()));
    let cfg = SyncConfig::default();
    let mut p = SyncPipeline::new(
        client.control.clone(),
        NETWORK,
        verifier,
        target.clone(),
        recorder.clone(),
        metrics,
        cfg,
    );
    let (_tx, peers) = watch::channel(vec![bad.peer, honest.peer]);
    let synced = tokio::time::timeout(
        deadline(),
        p.sync_to(top, &peers, &CancellationToken::new()),
    )
    .await;
    assert_eq!(synced.expect("sync within the deadline").unwrap(), top);

    assert_eq!(target.head(), source.head());
    for n in 0..=top {
        assert_eq!(
            target.block(n).unwrap(),
            source.block(n).unwrap(),
            "block {n}"
        );
        for c in Component::ALL {
            assert_eq!(
                target.body(n, c).unwrap(),
                source.body(n, c).unwrap(),
                "{c} of {n}"
            );
        }
    }
    recorder.wait_for(bad.peer, PeerReport::InvalidData).await;
}
