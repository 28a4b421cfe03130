//! Block-store range-read throughput (the serving hot path), release mode:
//! `cargo bench --bench store`. Mints ~8 KiB devnet blocks, commits them in batches of
//! 100, then reads 100-block ranges of every component, on one and on two threads.

use std::sync::Arc;
use std::time::Instant;

use prometheus_client::registry::Registry;
use wharf::chain::devnet::{keypair_from_seed, DevnetMinter, MintParams};
use wharf::chain::{Block, ChainAdapter, Component};
use wharf::store::{BlockStore, StoreMetrics};

const BLOCKS: u64 = 20_000;
const RANGE: u64 = 100;

fn mint(minter: &DevnetMinter) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::with_capacity(BLOCKS as usize);
    for n in 0..BLOCKS {
        let parent = blocks.last().map(|b| &b.header);
        blocks.push(minter.mint(parent, 1_700_000_000_000 + n * 1000));
    }
    blocks
}

/// Reads every block once as 100-block ranges of all five components; returns bytes read.
fn read_all(store: &BlockStore) -> usize {
    let mut bytes = 0;
    for start in (0..BLOCKS).step_by(RANGE as usize) {
        for component in Component::ALL {
            let range = store.range(component, start, RANGE).expect("range");
            assert_eq!(range.len() as u64, RANGE);
            bytes += range.iter().map(|b| b.len()).sum::<usize>();
        }
    }
    bytes
}

fn report(what: &str, blocks: u64, bytes: usize, secs: f64) {
    let mib = bytes as f64 / (1024.0 * 1024.0);
    println!(
        "{what:<34} {:>10.0} blocks/s {:>8.1} MiB/s",
        blocks as f64 / secs,
        mib / secs
    );
}

fn main() {
    let params = MintParams {
        seed: 1,
        txs_per_block: 16,
        tx_size: 400,
    };
    let minter = DevnetMinter::new(keypair_from_seed(1), params);
    let adapter: Arc<dyn ChainAdapter> = Arc::new(minter.adapter().clone());
    let blocks = mint(&minter);
    let size: usize = blocks
        .iter()
        .map(|b| b.bodies.iter().map(|x| x.len()).sum::<usize>())
        .sum();
    println!(
        "{BLOCKS} blocks, {:.1} KiB of bodies per block",
        size as f64 / BLOCKS as f64 / 1024.0
    );

    let mut dirs = Vec::new();
    let mut store = None;
    for batch in [1000, 100] {
        let dir = tempfile::tempdir().expect("tempdir");
        let metrics = StoreMetrics::register(&mut Registry::default());
        let fresh = BlockStore::open(dir.path(), adapter.clone(), metrics).expect("open");
        let t = Instant::now();
        for chunk in blocks.chunks(batch) {
            fresh.commit_batch(chunk).expect("commit");
        }
        report(
            &format!("commit (batches of {batch})"),
            BLOCKS,
            size,
            t.elapsed().as_secs_f64(),
        );
        dirs.push(dir);
        store = Some(fresh);
    }
    let store = store.expect("a store");

    let t = Instant::now();
    let bytes = read_all(&store);
    report(
        "range read, 1 thread",
        BLOCKS,
        bytes,
        t.elapsed().as_secs_f64(),
    );

    let t = Instant::now();
    let bytes: usize = std::thread::scope(|s| {
        let readers: Vec<_> = (0..2).map(|_| s.spawn(|| read_all(&store))).collect();
        readers.into_iter().map(|r| r.join().expect("reader")).sum()
    });
    report(
        "range read, 2 threads (total)",
        2 * BLOCKS,
        bytes,
        t.elapsed().as_secs_f64(),
    );
}
