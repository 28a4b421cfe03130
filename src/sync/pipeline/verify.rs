//! Stage 3: verify a complete chunk, naming the component (hence the peer) at fault.

use bytes::Bytes;

use crate::chain::BlockHash;
use crate::chain::{BlockNumber, Component};
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

/// Verifies every block of a chunk starting at `start`: header alone, parent links inside the
/// chunk, then each body against its header. Runs on a blocking thread (hashing, signatures).
pub fn verify_chunk<V: BlockVerifier>(
    verifier: &V,
    start: BlockNumber,
    parts: [Vec<Bytes>; 6],
) -> Verified<V::Header> {
    let headers = match verify_headers(verifier, start, &parts[0]) {
        Ok(headers) => headers,
        Err(blame) => return Err(Box::new(Rejected { blame, parts })),
    };
    if let Err(blame) = verify_bodies(verifier, start, &headers, &parts) {
        return Err(Box::new(Rejected { blame, parts }));
    }
    if let Err(blame) = verify_links(verifier, start, &headers, &parts) {
        return Err(Box::new(Rejected { blame, parts }));
    }
    Ok(assemble(verifier, start, headers, parts))
}

/// Decodes and checks the headers (signatures possibly in one batch), then the parent links
/// between them.
fn verify_headers<V: BlockVerifier>(
    verifier: &V,
    start: BlockNumber,
    raw: &[Bytes],
) -> Result<Vec<V::Header>, Blame> {
    let blame = |number, reason: String| Blame {
        component: Component::Headers,
        number,
        reason,
    };
    let headers = verifier
        .verify_headers(start, raw)
        .map_err(|(i, e)| blame(start + i as u64, e.to_string()))?;
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

/// Checks every body component of every block against its header.
fn verify_bodies<V: BlockVerifier>(
    verifier: &V,
    start: BlockNumber,
    headers: &[V::Header],
    parts: &[Vec<Bytes>; 6],
) -> Result<(), Blame> {
    for (component, bodies) in Component::ALL.into_iter().zip(parts).skip(1) {
        for ((number, header), body) in (start..).zip(headers).zip(bodies) {
            if let Err(e) = verifier.verify_body(header, component, body) {
                return Err(Blame {
                    component,
                    number,
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Checks that each complete block's components agree with each other.
fn verify_links<V: BlockVerifier>(
    verifier: &V,
    start: BlockNumber,
    headers: &[V::Header],
    parts: &[Vec<Bytes>; 6],
) -> Result<(), Blame> {
    for (i, (number, header)) in (start..).zip(headers).enumerate() {
        let block = parts
            .each_ref()
            .map(|c| c.get(i).cloned().unwrap_or_default());
        if let Err((component, e)) = verifier.verify_links(header, &block) {
            return Err(Blame {
                component,
                number,
                reason: e.to_string(),
            });
        }
    }
    Ok(())
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
