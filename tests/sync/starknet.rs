//! Real Sepolia blocks (the Starknet fixtures) served from a redb store and synced over P2P with
//! the Starknet adapter, despite a relay serving a tampered transaction, event and state diff.

use std::sync::Arc;

use prometheus_client::registry::Registry;
use serde_json::json;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use wharf::chain::starknet::StarknetAdapter;
use wharf::chain::{Block, ChainAdapter};
use wharf::store::{BlockStore, StoreMetrics};
use wharf::sync::pipeline::SyncPipeline;
use wharf::sync::{
    ChainVerifier, MemorySource, PeerReport, SyncConfig, SyncMetrics, SyncServerConfig,
};

use crate::fixtures::{deadline, Recorder};
use crate::mock::{fixture, public_key, Answers};
use crate::net::Node;
use crate::{serving, NETWORK};

fn adapter() -> Arc<StarknetAdapter> {
    let key = starknet_crypto::Felt::from_hex(&public_key("sepolia")).unwrap();
    Arc::new(StarknetAdapter::new("SN_SEPOLIA", &key.to_bytes_be()).unwrap())
}

fn to_block(adapter: &StarknetAdapter, a: &Answers) -> Block {
    let bytes = |v: &serde_json::Value| serde_json::to_vec(v).unwrap();
    adapter
        .block_from_gateway(
            &bytes(&a.block),
            &bytes(&a.state_update),
            &bytes(&a.signature),
        )
        .unwrap()
}

/// Blocks 0..=7 of Sepolia, verified one after the other as a feeder would.
fn sepolia(adapter: &StarknetAdapter) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    for n in 0..=7 {
        let block = to_block(adapter, &fixture("sepolia", n));
        let parent = blocks.last().map(|b| &b.header);
        adapter
            .verify_block(&block, parent)
            .expect("real block verifies");
        blocks.push(block);
    }
    blocks
}

/// Block `n` with one field changed; returns the component index that changed.
fn tampered(adapter: &StarknetAdapter, n: u64) -> (usize, Block) {
    let mut a = fixture("sepolia", n);
    let index = match n {
        4 => {
            a.block["transactions"][0]["calldata"][1] = json!("0x1234");
            0
        }
        5 => {
            a.block["transaction_receipts"][0]["events"][0]["data"][0] = json!("0x99");
            2
        }
        7 => {
            // before 0.13.2 no commitment covers receipts: only the link to the transactions
            let other = a.block["transactions"][1]["transaction_hash"].clone();
            a.block["transaction_receipts"][0]["transaction_hash"] = other;
            1
        }
        _ => {
            let diffs = a.state_update["state_diff"]["storage_diffs"]
                .as_object_mut()
                .unwrap();
            diffs.values_mut().next().unwrap()[0]["value"] = json!("0x4242");
            3
        }
    };
    (index, to_block(adapter, &a))
}

/// A relay serving the honest blocks except those in `which`: a changed transaction (block 4),
/// event (block 5), storage value (block 0) or a receipt naming the wrong transaction (block 7).
fn tampering_source(
    adapter: &StarknetAdapter,
    blocks: &[Block],
    which: &[u64],
) -> Arc<MemorySource> {
    let source = MemorySource::default();
    for b in blocks {
        let mut bodies = b.bodies.clone();
        if which.contains(&b.header.number) {
            let (index, bad) = tampered(adapter, b.header.number);
            assert_ne!(
                bodies[index], bad.bodies[index],
                "tampering changes the bytes"
            );
            bodies[index] = bad.bodies[index].clone();
        }
        let [t, r, e, s] = bodies;
        let header = adapter.encode_header(&b.header).into();
        source.insert(b.header.number, [header, t, r, e, s]);
    }
    Arc::new(source)
}

fn open_store(dir: &tempfile::TempDir, adapter: Arc<dyn ChainAdapter>) -> BlockStore {
    let metrics = StoreMetrics::register(&mut Registry::default());
    BlockStore::open(dir.path(), adapter, metrics).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_sepolia_blocks_over_p2p_despite_a_tampering_relay() {
    sync_despite(&[0, 4, 5, 7], true).await;
}

/// Before 0.13.2 only the whole-block link check catches a receipt of another transaction (the
/// peer order makes the tampering relay the one asked for receipts; the test fails without the
/// check, as the stored chain then differs, or without the request, as no report names it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_linked_to_the_wrong_transaction_is_caught_by_the_link_check() {
    sync_despite(&[7], false).await;
}

async fn sync_despite(which: &[u64], bad_first: bool) {
    let starknet = adapter();
    let dyn_adapter: Arc<dyn ChainAdapter> = starknet.clone();
    let blocks = sepolia(&starknet);
    let source_dir = tempfile::tempdir().unwrap();
    let source = open_store(&source_dir, dyn_adapter.clone());
    source.commit_batch(&blocks).unwrap();
    let honest = serving(
        Arc::new(source.clone()),
        Recorder::new(),
        SyncServerConfig::default(),
    )
    .await
    .0;
    let bad_source = tampering_source(&starknet, &blocks, which);
    let bad = serving(bad_source, Recorder::new(), SyncServerConfig::default())
        .await
        .0;
    let client = Node::spawn(&[&honest, &bad]).await.unwrap();

    let target_dir = tempfile::tempdir().unwrap();
    let target = Arc::new(open_store(&target_dir, dyn_adapter.clone()));
    let recorder = Recorder::new();
    let mut pipeline = SyncPipeline::new(
        client.control.clone(),
        NETWORK,
        Arc::new(ChainVerifier(dyn_adapter)),
        target.clone(),
        recorder.clone(),
        SyncMetrics::register(&mut Registry::default()),
        SyncConfig::default(),
    );
    let order = if bad_first {
        vec![bad.peer, honest.peer]
    } else {
        vec![honest.peer, bad.peer]
    };
    let (_tx, peers) = watch::channel(order);
    let synced = tokio::time::timeout(
        deadline(),
        pipeline.sync_to(7, &peers, &CancellationToken::new()),
    )
    .await;
    assert_eq!(synced.expect("sync within the deadline").unwrap(), 7);
    for n in 0..=7 {
        assert_eq!(
            target.block(n).unwrap(),
            source.block(n).unwrap(),
            "block {n}"
        );
    }
    recorder.wait_for(bad.peer, PeerReport::InvalidData).await;
}

/// Header bytes are stored and served as received, so a relay must hold only what the
/// signature binds: whitespace or an unknown key around a real signed header, or a header over
/// the size limit, is refused (and the pipeline blames the relay that sent it).
#[test]
fn padded_or_oversized_headers_are_refused() {
    use wharf::sync::{BlockVerifier, ChainVerifier};
    let a = adapter();
    let blocks = sepolia(&a);
    let v = ChainVerifier(a.clone());
    let canonical = a.encode_header(&blocks[3].header);
    assert!(v.verify_header(3, &canonical.clone().into()).is_ok());
    let mut spaced = b" ".to_vec();
    spaced.extend_from_slice(&canonical);
    let mut keyed = br#"{"padding":"xxxxxxxx","#.to_vec();
    keyed.extend_from_slice(&canonical[1..]);
    let mut huge = canonical.clone();
    huge.extend(std::iter::repeat_n(b' ', 20_000));
    for (bad, why) in [(spaced, "canonical"), (keyed, "canonical"), (huge, "limit")] {
        let bad = bytes::Bytes::from(bad);
        let err = v.verify_header(3, &bad).unwrap_err();
        assert!(err.to_string().contains(why), "{err}");
        let (index, err) = v.verify_headers(3, &[bad]).unwrap_err();
        assert_eq!(index, 0);
        assert!(err.to_string().contains(why), "{err}");
    }
}
