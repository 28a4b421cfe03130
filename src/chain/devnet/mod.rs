//! The devnet adapter: a reference chain simple enough to implement in any language,
//! so the relay runs and is tested anywhere offline.
//!
//! # Byte formats (all integers big-endian)
//!
//! **Body** of a component: the concatenation of its items, each as
//! `len: u32 | item: len bytes`. The item count is the number of items.
//!
//! **Commitment** of a body: a binary SHA-256 Merkle root over its items.
//! `leaf_i = SHA-256(0x00 || item_i)`, `node = SHA-256(0x01 || left || right)`. Each
//! level pairs nodes left to right; an odd last node is carried up unchanged. The root
//! of one item is its leaf; the root of no items is 32 zero bytes.
//!
//! **Header** (the canonical encoding, stored and sent as is):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | number (u64) |
//! | 8 | 32 | parent_hash (zero for genesis) |
//! | 40 | 8 | timestamp_ms (u64, Unix milliseconds) |
//! | 48 | 4 × 36 | for transactions, receipts, events, state-diffs in that order: commitment (32) then count (u32) |
//! | 192 | 4 | extra_len (u32, 0 on devnet) |
//! | 196 | extra_len | extra |
//! | 196 + extra_len | 2 | sig_len (u16, 64 for devnet) |
//! | 198 + extra_len | sig_len | signature |
//!
//! **Block hash** = SHA-256 over the header bytes up to and excluding `sig_len`
//! (i.e. the first `196 + extra_len` bytes).
//!
//! **Signature** = Ed25519 (RFC 8032) by the gateway key over the 32 block-hash bytes.
//! The gateway publishes its 32-byte public key at `GET /public-key` as hex.

mod batch;
mod codec;
mod merkle;
mod mint;

pub use codec::{decode_items, encode_items, HEADER_FIXED_LEN};
pub use merkle::merkle_root;
pub use mint::{keypair_from_seed, DevnetMinter, MintParams};

use libp2p::identity::ed25519;
use sha2::{Digest, Sha256};

use super::{body_index, BlockHash, ChainAdapter, Component, Header, VerifyError};

/// Devnet rules with the pinned gateway public key.
#[derive(Debug, Clone)]
pub struct DevnetAdapter {
    key: ed25519::PublicKey,
    /// The same key for batch verification.
    batch_key: batch::Key,
}

impl DevnetAdapter {
    /// An adapter that accepts blocks signed by `key`.
    pub fn new(key: ed25519::PublicKey) -> Self {
        let batch_key = batch::Key::new(&key);
        DevnetAdapter { key, batch_key }
    }

    /// An adapter from the 32 raw public-key bytes (e.g. the pinned `gateway.pub`).
    pub fn from_key_bytes(bytes: &[u8]) -> Result<Self, VerifyError> {
        let key = ed25519::PublicKey::try_from_bytes(bytes)
            .map_err(|e| VerifyError::malformed("public key", e))?;
        Ok(Self::new(key))
    }

    /// The pinned public key.
    pub fn public_key(&self) -> &ed25519::PublicKey {
        &self.key
    }
}

impl ChainAdapter for DevnetAdapter {
    fn name(&self) -> &'static str {
        "devnet"
    }

    fn decode_header(&self, bytes: &[u8]) -> Result<Header, VerifyError> {
        codec::decode_header(bytes)
    }

    fn encode_header(&self, header: &Header) -> Vec<u8> {
        codec::encode_header(header)
    }

    fn block_hash(&self, header: &Header) -> BlockHash {
        let mut unsigned = Vec::with_capacity(HEADER_FIXED_LEN + header.extra.len());
        codec::encode_unsigned(header, &mut unsigned);
        BlockHash(Sha256::digest(&unsigned).into())
    }

    fn verify_header_signature(&self, header: &Header) -> Result<BlockHash, VerifyError> {
        let hash = self.block_hash(header);
        if !self.key.verify(hash.as_bytes(), &header.signature) {
            return Err(VerifyError::BadSignature);
        }
        Ok(hash)
    }

    /// One Ed25519 batch check for all headers; if the batch fails, each is checked alone to
    /// name the first bad one (and a batch rejection that every single check accepts is accepted).
    fn verify_header_signatures(
        &self,
        headers: &[&Header],
    ) -> Result<Vec<BlockHash>, (usize, VerifyError)> {
        let hashes: Vec<BlockHash> = headers.iter().map(|h| self.block_hash(h)).collect();
        if self.batch_key.verify(&hashes, headers) {
            return Ok(hashes);
        }
        for (i, (header, hash)) in headers.iter().zip(&hashes).enumerate() {
            if !self.key.verify(hash.as_bytes(), &header.signature) {
                return Err((i, VerifyError::BadSignature));
            }
        }
        Ok(hashes)
    }

    fn verify_body(
        &self,
        header: &Header,
        component: Component,
        body: &[u8],
    ) -> Result<(), VerifyError> {
        let index = body_index(component)
            .ok_or_else(|| VerifyError::malformed("body", "headers is not a body component"))?;
        let expected = header.bodies[index];
        let items = decode_items(body).map_err(|e| VerifyError::malformed(component.name(), e))?;
        let actual = u32::try_from(items.len()).unwrap_or(u32::MAX);
        if actual != expected.count {
            return Err(VerifyError::CountMismatch {
                component,
                expected: expected.count,
                actual,
            });
        }
        if merkle_root(&items) != expected.commitment {
            return Err(VerifyError::CommitmentMismatch { component });
        }
        Ok(())
    }
}
