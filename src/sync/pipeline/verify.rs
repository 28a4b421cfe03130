//! Stage 3: verify a complete chunk, naming the component (hence the peer) at fault.

use bytes::Bytes;

use crate::chain::{par, BlockHash, BlockNumber, Component};
use crate::sync::pipeline::{BlockVerifier, VerifiedBlock};

/// Which component of which block failed, and why.
#[derive(Debug)]
pub struct Blame {
    /// The component whose sender is at fault.
    pub component: Component,
    /// The first block that failed.
    pub number: BlockNumber,
    /// The verifier's reason.
    pub reason: String,
}

/// A chunk that failed verification: who is to blame, and its parts handed back for a retry.
#[derive(Debug)]
pub struct Rejected {
    /// The component and block at fault.
    pub blame: Blame,
    /// All six components' data, as received.
    pub parts: [Vec<Bytes>; 6],
}

/// Outcome of verifying a chunk: its blocks, or why not.
pub type Verified<H> = Result<Vec<VerifiedBlock<H>>, Box<Rejected>>;

/// Verifies every block of a chunk starting at `start`: headers alone (signature batches
/// spread over the cores), parent links inside the chunk, then each block's bodies against its
/// header and against each other (blocks spread over the cores). Runs on a blocking thread.
pub fn verify_chunk<V: BlockVerifier>(
    verifier: &V,
    start: BlockNumber,
    parts: [Vec<Bytes>; 6],
) -> Verified<V::Header> {
    let threads = par::cores();
    let checked = verify_headers(verifier, start, &parts[0], threads).and_then(|headers| {
        verify_blocks(verifier, start, &headers, &parts, threads).map(|_| headers)
    });
    match checked {
        Ok(headers) => Ok(assemble(verifier, start, headers, parts)),
        Err(blame) => Err(Box::new(Rejected { blame, parts })),
    }
}

/// Decodes and checks the headers (signatures in one batch per thread), then the parent links
/// between them.
fn verify_headers<V: BlockVerifier>(
    verifier: &V,
    start: BlockNumber,
    raw: &[Bytes],
    threads: usize,
) -> Result<Vec<V::Header>, Blame> {
    let blame = |number, reason: String| Blame {
        component: Component::Headers,
        number,
        reason,
    };
    let batches = par::map_slices(raw, threads, |offset, slice| {
        let first = start + offset as u64;
        let checked = verifier.verify_headers(first, slice);
        checked.map_err(|(i, e)| blame(first + i as u64, e.to_string()))
    });
    let mut headers = Vec::with_capacity(raw.len());
    for batch in batches {
        headers.extend(batch?);
    }
    let mut previous: Option<BlockHash> = None;
    for (number, header) in (start..).zip(&headers) {
        if previous.is_some_and(|hash| hash != verifier.parent_hash(header)) {
            return Err(blame(
                number,
                "parent hash does not match the previous block".into(),
            ));
        }
        previous = Some(verifier.block_hash(header));
    }
    Ok(headers)
}

/// Checks each block's bodies against its header, then against each other; blocks in
/// parallel, the first failing block (by number) is blamed.
fn verify_blocks<V: BlockVerifier>(
    verifier: &V,
    start: BlockNumber,
    headers: &[V::Header],
    parts: &[Vec<Bytes>; 6],
    threads: usize,
) -> Result<(), Blame> {
    par::try_each(headers, threads, |i, header| {
        let number = start + i as u64;
        let block = parts
            .each_ref()
            .map(|c| c.get(i).cloned().unwrap_or_default());
        let blame = |component, reason: String| Blame {
            component,
            number,
            reason,
        };
        for (component, body) in Component::ALL.into_iter().zip(&block).skip(1) {
            verifier
                .verify_body(header, component, body)
                .map_err(|e| blame(component, e.to_string()))?;
        }
        verifier
            .verify_links(header, &block)
            .map_err(|(component, e)| blame(component, e.to_string()))
    })
}

/// Zips verified headers and parts into blocks.
fn assemble<V: BlockVerifier>(
    verifier: &V,
    start: BlockNumber,
    headers: Vec<V::Header>,
    parts: [Vec<Bytes>; 6],
) -> Vec<VerifiedBlock<V::Header>> {
    let mut columns = parts.map(Vec::into_iter);
    let mut blocks = Vec::with_capacity(headers.len());
    for (number, header) in (start..).zip(headers) {
        let parts = columns.each_mut().map(|c| c.next().unwrap_or_default());
        let hash = verifier.block_hash(&header);
        blocks.push(VerifiedBlock {
            number,
            hash,
            header,
            parts,
        });
    }
    blocks
}
