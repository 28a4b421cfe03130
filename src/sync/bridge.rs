//! Binds the sync traits to the real chain: the chain adapter verifies (stage 3), the block
//! store serves ranges ([`BlockSource`]) and commits verified blocks ([`BlockSink`]).

use std::sync::Arc;

use bytes::Bytes;

use crate::chain::{BlockHash, BlockNumber, ChainAdapter, Component, Header, VerifyError};
use crate::store::{BlockStore, RawBlock, StoreError};
use crate::sync::pipeline::{BlockSink, BlockVerifier, VerifiedBlock};
use crate::sync::source::{BlockSource, SourceError};

/// A header that passed the adapter's checks, with its hash computed once.
#[derive(Debug, Clone)]
pub struct CheckedHeader {
    /// The decoded header.
    pub header: Header,
    /// Its block hash (what its signature covers).
    pub hash: BlockHash,
}

/// [`BlockVerifier`] backed by the network's chain adapter (devnet, starknet, ...).
#[derive(Debug, Clone)]
pub struct ChainVerifier(pub Arc<dyn ChainAdapter>);

/// Largest header accepted from a peer, in bytes: real headers are a few hundred bytes
/// (devnet) to about 2 KiB (Starknet JSON).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

impl ChainVerifier {
    /// Decodes header bytes that are exactly the adapter's canonical encoding of what they
    /// decode to: the signature covers the decoded fields only, so whitespace, unknown keys
    /// or trailing bytes would otherwise be stored and served as received.
    fn decode_canonical(&self, bytes: &Bytes) -> Result<Header, VerifyError> {
        if bytes.len() > MAX_HEADER_BYTES {
            let detail = format!("{} bytes, limit {MAX_HEADER_BYTES}", bytes.len());
            return Err(VerifyError::malformed("header", detail));
        }
        let header = self.0.decode_header(bytes)?;
        if self.0.encode_header(&header) != bytes.as_ref() {
            return Err(VerifyError::malformed("header", "not in canonical form"));
        }
        Ok(header)
    }
}

impl BlockVerifier for ChainVerifier {
    type Header = CheckedHeader;
    type Error = VerifyError;

    fn verify_header(
        &self,
        number: BlockNumber,
        bytes: &Bytes,
    ) -> Result<CheckedHeader, VerifyError> {
        let header = self.decode_canonical(bytes)?;
        if header.number != number {
            return Err(VerifyError::WrongNumber {
                expected: number,
                actual: header.number,
            });
        }
        let hash = self.0.verify_header_signature(&header)?;
        Ok(CheckedHeader { header, hash })
    }

    /// Decodes every header and checks its number, then all signatures in one adapter call
    /// (a batch on devnet).
    fn verify_headers(
        &self,
        start: BlockNumber,
        raw: &[Bytes],
    ) -> Result<Vec<CheckedHeader>, (usize, VerifyError)> {
        let mut headers = Vec::with_capacity(raw.len());
        for (i, (number, bytes)) in (start..).zip(raw).enumerate() {
            let header = self.decode_canonical(bytes).map_err(|e| (i, e))?;
            if header.number != number {
                let actual = header.number;
                return Err((
                    i,
                    VerifyError::WrongNumber {
                        expected: number,
                        actual,
                    },
                ));
            }
            headers.push(header);
        }
        let refs: Vec<&Header> = headers.iter().collect();
        let hashes = self.0.verify_header_signatures(&refs)?;
        let checked = headers.into_iter().zip(hashes);
        Ok(checked
            .map(|(header, hash)| CheckedHeader { header, hash })
            .collect())
    }

    fn block_hash(&self, header: &CheckedHeader) -> BlockHash {
        header.hash
    }

    fn parent_hash(&self, header: &CheckedHeader) -> BlockHash {
        header.header.parent_hash
    }

    fn verify_body(
        &self,
        header: &CheckedHeader,
        component: Component,
        body: &Bytes,
    ) -> Result<(), VerifyError> {
        self.0.verify_body(&header.header, component, body)
    }

    fn verify_links(
        &self,
        _header: &CheckedHeader,
        parts: &[Bytes; 5],
    ) -> Result<(), (Component, VerifyError)> {
        let [_, transactions, receipts, events, state_diffs] = parts.clone();
        let bodies = [transactions, receipts, events, state_diffs];
        self.0.verify_cross_links(&bodies).map_err(|e| {
            let component = match &e {
                VerifyError::TransactionLink { component, .. } => *component,
                _ => Component::Receipts,
            };
            (component, e)
        })
    }
}

impl BlockSink<CheckedHeader> for BlockStore {
    type Error = StoreError;

    fn head(&self) -> Result<Option<(BlockNumber, BlockHash)>, StoreError> {
        Ok(BlockStore::head(self))
    }

    /// Stores the parts as received, with the hash verification computed: no re-encoding.
    fn commit(&self, blocks: Vec<VerifiedBlock<CheckedHeader>>) -> Result<(), StoreError> {
        let raw: Vec<RawBlock<'_>> = blocks.iter().map(raw_block).collect();
        self.commit_raw(&raw).map(|_| ())
    }
}

/// A verified block in the store's wire form (the header bytes are exactly what was verified).
fn raw_block(block: &VerifiedBlock<CheckedHeader>) -> RawBlock<'_> {
    let [header, t, r, e, s] = &block.parts;
    RawBlock {
        number: block.number,
        parent_hash: block.header.header.parent_hash,
        hash: block.hash,
        header,
        bodies: [t, r, e, s].map(|b| b.as_ref()),
    }
}

impl BlockSource for BlockStore {
    fn range(
        &self,
        component: Component,
        start: BlockNumber,
        limit: u64,
        step: u64,
    ) -> Result<Vec<(BlockNumber, Bytes)>, SourceError> {
        let failed = |e: StoreError| SourceError(e.to_string());
        if step == 1 {
            let items = BlockStore::range(self, component, start, limit).map_err(failed)?;
            return Ok((start..).zip(items).collect());
        }
        let mut out = Vec::new();
        for n in (0..limit).map(|i| start + i * step) {
            match self.body(n, component).map_err(failed)? {
                Some(bytes) => out.push((n, bytes)),
                None => break,
            }
        }
        Ok(out)
    }
}
