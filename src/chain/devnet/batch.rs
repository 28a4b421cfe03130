//! Ed25519 batch verification of header signatures (ed25519-dalek `verify_batch`): one
//! multi-scalar multiplication for a whole chunk instead of one check per header.
//!
//! A batch accepts exactly when every signature is valid, except with probability 2^-128 and
//! for cofactor edge cases (torsion components) that only the signing key's holder can
//! produce; the adapter falls back to one check per header whenever a batch fails.

use ed25519_dalek::{Signature, VerifyingKey};
use libp2p::identity::ed25519;

use crate::chain::{BlockHash, Header};

/// The pinned key in the form batch verification takes.
#[derive(Debug, Clone)]
pub struct Key(Option<VerifyingKey>);

impl Key {
    /// The batch form of `key` (`None` if dalek refuses bytes libp2p accepted: never batched).
    pub fn new(key: &ed25519::PublicKey) -> Self {
        Key(VerifyingKey::from_bytes(&key.to_bytes()).ok())
    }

    /// Whether every `headers[i].signature` is a valid signature of `hashes[i]` (false if any
    /// signature is malformed or the batch fails; the caller then checks one by one).
    pub fn verify(&self, hashes: &[BlockHash], headers: &[&Header]) -> bool {
        let Some(key) = self.0 else { return false };
        if headers.is_empty() {
            return true;
        }
        let signatures: Result<Vec<Signature>, _> = headers
            .iter()
            .map(|h| Signature::from_slice(&h.signature))
            .collect();
        let Ok(signatures) = signatures else {
            return false;
        };
        let messages: Vec<&[u8]> = hashes.iter().map(|h| h.as_bytes().as_slice()).collect();
        let keys = vec![key; headers.len()];
        ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
    }
}
