//! `--profile`: the CPU cost per block of each stage alone, on one thread, without the network:
//! header checks (decode, hash, signature: one by one, and in batches of a request's blocks as
//! the pipeline does), body checks (commitments) and store commits.

use std::path::Path;
use std::time::Instant;

use bytes::Bytes;
use prometheus_client::registry::Registry;
use sha2::{Digest, Sha256};

use super::chain::Minted;
use super::BenchError;
use crate::chain::{BlockNumber, Component};
use crate::store::{BlockStore, StoreMetrics};
use crate::sync::pipeline::{BlockSink, BlockVerifier, VerifiedBlock};
use crate::sync::{BlockSource, ChainVerifier, CheckedHeader};

/// Blocks read (and verified) at a time, as one sync request carries.
const RANGE: u64 = 100;

/// Microseconds per block of each stage.
#[derive(Debug, Clone, Copy)]
pub struct StageCosts {
    /// Decode, hash and signature check of a header, one header at a time.
    pub header_us: f64,
    /// The same in batches of one request's blocks (the pipeline's way).
    pub header_batch_us: f64,
    /// Commitment checks of the four bodies.
    pub bodies_us: f64,
    /// The hardware floor of the body checks: one SHA-256 over the block's wire bytes (all six
    /// parts, 8.67 KiB by default) in one pass.
    pub sha256_us: f64,
    /// Commit into a fresh store (through the sync sink, batches of one window).
    pub commit_us: f64,
}

/// Times each stage over the whole minted chain, read back from the first relay's store.
pub fn run(minted: &Minted, dir: &Path) -> Result<StageCosts, BenchError> {
    let verifier = ChainVerifier(minted.adapter.clone());
    let n = minted.head.0 + 1;
    let ranges = read_all(&minted.relays[0], n)?;
    let started = Instant::now();
    let mut headers = Vec::with_capacity(n as usize);
    for (number, raw) in (0..).zip(&ranges[0]) {
        headers.push(check(verifier.verify_header(number, raw))?);
    }
    let header_us = per_block(started, n);
    let started = Instant::now();
    for (start, raw) in (0..)
        .step_by(RANGE as usize)
        .zip(ranges[0].chunks(RANGE as usize))
    {
        verifier
            .verify_headers(start, raw)
            .map_err(|(_, e)| e)
            .map(|_| ())
            .map_err(|e| BenchError::Wrong(format!("minted block fails verification: {e}")))?;
    }
    let header_batch_us = per_block(started, n);
    let started = Instant::now();
    for (c, bodies) in Component::ALL.into_iter().zip(&ranges).skip(1) {
        for (header, body) in headers.iter().zip(bodies) {
            check(verifier.verify_body(header, c, body))?;
        }
    }
    let bodies_us = per_block(started, n);
    let sha256_us = sha256_floor(&ranges, n);
    let blocks = verified(headers, ranges);
    let store = BlockStore::open(
        dir,
        minted.adapter.clone(),
        StoreMetrics::register(&mut Registry::default()),
    )?;
    let started = Instant::now();
    let mut blocks = blocks.into_iter().peekable();
    while blocks.peek().is_some() {
        let batch: Vec<_> = blocks.by_ref().take(8 * RANGE as usize).collect();
        BlockSink::commit(&store, batch)?;
    }
    let commit_us = per_block(started, n);
    Ok(StageCosts {
        header_us,
        header_batch_us,
        bodies_us,
        sha256_us,
        commit_us,
    })
}

/// Microseconds per block of one SHA-256 pass over each block's six parts.
fn sha256_floor(parts: &[Vec<Bytes>; 6], n: u64) -> f64 {
    let started = Instant::now();
    for i in 0..n as usize {
        let mut hasher = Sha256::new();
        for column in parts {
            hasher.update(column.get(i).map_or(&[][..], |b| b.as_ref()));
        }
        std::hint::black_box(hasher.finalize());
    }
    per_block(started, n)
}

/// Every component of blocks `0..n`, as the sync server reads them.
fn read_all(store: &BlockStore, n: BlockNumber) -> Result<[Vec<Bytes>; 6], BenchError> {
    let mut out: [Vec<Bytes>; 6] = Default::default();
    for (c, column) in Component::ALL.into_iter().zip(out.iter_mut()) {
        for start in (0..n).step_by(RANGE as usize) {
            let items = BlockSource::range(store, c, start, RANGE.min(n - start), 1)
                .map_err(|e| BenchError::Wrong(e.to_string()))?;
            column.extend(items.into_iter().map(|(_, b)| b));
        }
    }
    Ok(out)
}

fn verified(
    headers: Vec<CheckedHeader>,
    parts: [Vec<Bytes>; 6],
) -> Vec<VerifiedBlock<CheckedHeader>> {
    let mut columns = parts.map(Vec::into_iter);
    (0..)
        .zip(headers)
        .map(|(number, header)| VerifiedBlock {
            number,
            hash: header.hash,
            header,
            parts: columns.each_mut().map(|c| c.next().unwrap_or_default()),
        })
        .collect()
}

fn check<T>(r: Result<T, crate::chain::VerifyError>) -> Result<T, BenchError> {
    r.map_err(|e| BenchError::Wrong(format!("minted block fails verification: {e}")))
}

fn per_block(started: Instant, n: u64) -> f64 {
    started.elapsed().as_secs_f64() * 1e6 / n as f64
}
