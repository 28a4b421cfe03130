//! Binds the sync traits to the real chain: the chain adapter verifies (stage 3), the block
//! store serves ranges ([`BlockSource`]) and commits verified blocks ([`BlockSink`]).

use std::sync::Arc;

use bytes::Bytes;

use crate::chain::classes::{bundle_slices, check_list};
use crate::chain::{
    BlockHash, BlockNumber, ChainAdapter, ClassHash, Component, Header, VerifyError,
};
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

    /// Bodies against the header; classes each against its hash (the class list against the
    /// state diff is a link, checked by [`BlockVerifier::verify_links`]).
    fn verify_body(
        &self,
        header: &CheckedHeader,
        component: Component,
        body: &Bytes,
    ) -> Result<(), VerifyError> {
        if component == Component::Classes {
            return verify_classes(&*self.0, body);
        }
        self.0.verify_body(&header.header, component, body)
    }

    fn verify_links(
        &self,
        _header: &CheckedHeader,
        parts: &[Bytes; 6],
    ) -> Result<(), (Component, VerifyError)> {
        let [_, transactions, receipts, events, state_diffs, classes] = parts.clone();
        let bodies = [transactions, receipts, events, state_diffs];
        self.0.verify_cross_links(&bodies).map_err(|e| {
            let component = match &e {
                VerifyError::TransactionLink { component, .. } => *component,
                _ => Component::Receipts,
            };
            (component, e)
        })?;
        verify_class_list(&*self.0, &bodies, &classes).map_err(|e| (Component::Classes, e))
    }
}

/// Every class of a bundle hashes to the hash it is listed under (none on chains without
/// classes: the adapter refuses any).
fn verify_classes(adapter: &dyn ChainAdapter, bundle: &Bytes) -> Result<(), VerifyError> {
    for (hash, definition) in bundle_slices(bundle)? {
        if definition.is_empty() {
            return Err(VerifyError::malformed("classes", "empty class definition"));
        }
        adapter.verify_class(&hash, definition)?;
    }
    Ok(())
}

/// The bundle lists exactly the classes the block's state diff makes it bring.
fn verify_class_list(
    adapter: &dyn ChainAdapter,
    bodies: &[Bytes; 4],
    bundle: &Bytes,
) -> Result<(), VerifyError> {
    let needs = adapter.class_needs(bodies)?;
    let listed: Vec<ClassHash> = bundle_slices(bundle)?.into_iter().map(|(h, _)| h).collect();
    check_list(&needs, &listed).map_err(|detail| VerifyError::ClassList { detail })
}

impl BlockSink<CheckedHeader> for BlockStore {
    type Error = StoreError;

    fn head(&self) -> Result<Option<(BlockNumber, BlockHash)>, StoreError> {
        Ok(BlockStore::head(self))
    }

    fn anchor(&self) -> Option<(BlockNumber, BlockHash)> {
        self.checkpoint().map(|cp| (cp.number, cp.hash))
    }

    /// Stores the parts as received, with the hash verification computed: no re-encoding.
    fn commit(&self, blocks: Vec<VerifiedBlock<CheckedHeader>>) -> Result<(), StoreError> {
        let raw: Vec<RawBlock<'_>> = blocks.iter().map(raw_block).collect();
        self.commit_raw(&raw).map(|_| ())
    }
}

/// A verified block in the store's wire form (the header bytes are exactly what was verified).
fn raw_block(block: &VerifiedBlock<CheckedHeader>) -> RawBlock<'_> {
    let [header, t, r, e, s, classes] = &block.parts;
    RawBlock {
        number: block.number,
        parent_hash: block.header.header.parent_hash,
        hash: block.hash,
        header,
        bodies: [t, r, e, s].map(|b| b.as_ref()),
        classes,
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
