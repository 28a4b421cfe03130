//! Serving throughput of Starknet's sync protocols next to Wharf's own, in one run, on the same
//! store and the same blocks: `cargo bench --bench starknet_serve`. A relay's redb store holds
//! real Sepolia blocks 0-6 with their classes; one libp2p node (TCP, Noise, Yamux) serves both
//! protocol families with one limiter, a second node on loopback fetches every part of blocks
//! 0-6 (one request per protocol, 7 blocks each) over and over. Reports blocks/s (all parts of
//! a block fetched) and MiB/s (response bytes) per family.

use std::sync::Arc;
use std::time::Instant;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use prometheus_client::registry::Registry;
use prost::Message;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use wharf::bench::BenchNode;
use wharf::chain::classes::{class_hash_hex, encode_bundle};
use wharf::chain::starknet::{parse_felt, StarknetAdapter};
use wharf::chain::{ChainAdapter, ClassEntry, Component};
use wharf::store::{BlockStore, StoreMetrics};
use wharf::sync::starknet::proto::starknet::sync::common::{iteration, Iteration};
use wharf::sync::starknet::proto::starknet::sync::header::BlockHeadersRequest;
use wharf::sync::starknet::{Protocol, StarknetServer};
use wharf::sync::{fetch, FetchConfig, NoopReporter, SyncMetrics, SyncServer, SyncServerConfig};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/starknet");
const NETWORK: &str = "bench";
const BLOCKS: u64 = 7;
/// Minimum wall time of one measurement, seconds.
const MIN_SECS: f64 = 3.0;

fn read(path: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{path}")).expect("fixture")
}

/// Sepolia blocks 0-6 with the classes they declare, committed to a fresh store.
fn store(dir: &std::path::Path) -> BlockStore {
    let key: String = serde_json::from_slice(&read("sepolia/public_key.json")).unwrap();
    let key = parse_felt(&key).unwrap().to_bytes_be();
    let adapter = Arc::new(StarknetAdapter::new("SN_SEPOLIA", &key).unwrap());
    let metrics = StoreMetrics::register(&mut Registry::default());
    let store = BlockStore::open(dir, adapter.clone(), metrics).unwrap();
    for n in 0..BLOCKS {
        let part = |kind: &str| read(&format!("sepolia/{kind}/{n}.json"));
        let mut block = adapter
            .block_from_gateway(&part("block"), &part("state_update"), &part("signature"))
            .unwrap();
        let needs = adapter.class_needs(&block.bodies).unwrap();
        let entries: Vec<ClassEntry> = needs
            .declared
            .iter()
            .map(|hash| ClassEntry {
                hash: *hash,
                definition: read(&format!("classes/sepolia/{}.json", class_hash_hex(hash))).into(),
            })
            .collect();
        block.classes = encode_bundle(&entries);
        store.commit(&block).unwrap();
    }
    store
}

/// One node serving both families from `store`, without rate limits.
async fn serve(store: &BlockStore) -> BenchNode {
    let node = BenchNode::spawn(&[]).await.unwrap();
    let cfg = SyncServerConfig {
        requests_per_second: 1e9,
        request_burst: u32::MAX,
        ..SyncServerConfig::default()
    };
    let metrics = SyncMetrics::default();
    let source = Arc::new(store.clone());
    let wharf = SyncServer::new(
        NETWORK,
        source.clone(),
        Arc::new(NoopReporter),
        metrics.clone(),
        cfg.clone(),
    );
    let starknet = StarknetServer::new(
        source,
        Arc::new(NoopReporter),
        metrics,
        cfg,
        wharf.limiter(),
    );
    let (tracker, cancel, mut control) = (
        TaskTracker::new(),
        CancellationToken::new(),
        node.control.clone(),
    );
    starknet
        .spawn(&mut control, &tracker, cancel.clone())
        .unwrap();
    wharf.spawn(&mut control, &tracker, cancel).unwrap();
    node
}

/// Fetches every part of blocks 0-6 over Wharf's protocols; returns the payload bytes.
async fn wharf_round(client: &mut BenchNode, server: &BenchNode) -> usize {
    let cfg = FetchConfig::default();
    let mut bytes = 0;
    for component in Component::ALL {
        let items = fetch(
            &mut client.control,
            server.peer,
            NETWORK,
            component,
            0,
            BLOCKS,
            1,
            &cfg,
        )
        .await
        .unwrap();
        assert_eq!(items.len() as u64, BLOCKS, "{component}");
        bytes += items.iter().map(|(_, b)| b.len()).sum::<usize>();
    }
    bytes
}

/// Fetches every part of blocks 0-6 over Starknet's protocols; returns the response bytes.
async fn starknet_round(client: &mut BenchNode, server: &BenchNode) -> usize {
    let it = Iteration {
        start: Some(iteration::Start::BlockNumber(0)),
        direction: 0,
        limit: BLOCKS,
        step: 1,
    };
    let request = BlockHeadersRequest {
        iteration: Some(it),
    }
    .encode_to_vec();
    let mut bytes = 0;
    for p in Protocol::ALL {
        let mut stream = client
            .control
            .open_stream(server.peer, p.id())
            .await
            .unwrap();
        stream.write_all(&request).await.unwrap();
        stream.close().await.unwrap();
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).await.unwrap();
        assert!(reply.len() > 3, "{} served data", p.name());
        bytes += reply.len();
    }
    bytes
}

fn report(name: &str, rounds: u64, bytes: usize, secs: f64) {
    let blocks = (rounds * BLOCKS) as f64 / secs;
    let mib = bytes as f64 / secs / (1 << 20) as f64;
    println!("{name:<28} {blocks:>10.0} blocks/s {mib:>8.1} MiB/s ({rounds} rounds of {BLOCKS} blocks, {bytes} bytes)");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let server = serve(&store).await;
    let mut client = BenchNode::spawn(&[&server]).await.unwrap();
    println!("serving Sepolia blocks 0-6 (with classes) from one redb store over loopback libp2p");
    for family in ["wharf (6 protocols)", "starknet (5 protocols)"] {
        let (started, mut rounds, mut bytes) = (Instant::now(), 0u64, 0usize);
        while started.elapsed().as_secs_f64() < MIN_SECS {
            bytes += match family.starts_with("wharf") {
                true => wharf_round(&mut client, &server).await,
                false => starknet_round(&mut client, &server).await,
            };
            rounds += 1;
        }
        report(family, rounds, bytes, started.elapsed().as_secs_f64());
    }
}
