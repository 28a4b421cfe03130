//! Binds the sync traits to the real chain: the chain adapter verifies (stage 3), the block
//! store serves ranges ([`BlockSource`]) and commits verified blocks ([`BlockSink`]).

use std::sync::Arc;

use bytes::Bytes;

use crate::chain::classes::{bundle_slices, check_list};
use crate::chain::{
    check_number, check_size, BlockHash, BlockNumber, ChainAdapter, ClassHash, Component, Header,
    VerifiedBlock as Verified, VerifyError,
};
use crate::store::{BlockStore, StoreError};
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

impl BlockVerifier for ChainVerifier {
    type Header = CheckedHeader;
    type Error = VerifyError;

    fn verify_header(
        &self,
        number: BlockNumber,
        bytes: &Bytes,
    ) -> Result<CheckedHeader, VerifyError> {
        let header = self.0.decode_canonical_header(bytes)?;
        check_number(number, header.number)?;
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
            let header = self.0.decode_canonical_header(bytes).map_err(|e| (i, e))?;
            check_number(number, header.number).map_err(|e| (i, e))?;
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
            check_size("classes", body.len(), self.0.part_limit(component))?;
            return verify_classes(&*self.0, body);
        }
        self.0.verify_part(&header.header, component, body)
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

    /// Stores the parts as received (each checked canonical), with the hash verification
    /// computed: nothing re-encoded or re-hashed.
    fn commit(&self, blocks: Vec<VerifiedBlock<CheckedHeader>>) -> Result<(), StoreError> {
        let blocks: Vec<Verified> = blocks.into_iter().map(Verified::from).collect();
        self.commit_verified(&blocks).map(|_| ())
    }
}

impl From<VerifiedBlock<CheckedHeader>> for Verified {
    /// The pipeline's checked parts as the one verified-block form (moves, no copies).
    fn from(block: VerifiedBlock<CheckedHeader>) -> Verified {
        let [encoded_header, t, r, e, s, classes] = block.parts;
        Verified {
            header: block.header.header,
            hash: block.hash,
            encoded_header,
            bodies: [t, r, e, s],
            classes,
        }
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
