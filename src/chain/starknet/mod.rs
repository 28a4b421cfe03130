//! The Starknet adapter: verifies real Starknet blocks (feeder-gateway JSON) with the
//! hashing rules of each block's protocol version, so a relay can feed and serve Starknet.
//!
//! STUB: the interface is fixed here; the implementation lands with issue 7.

use super::{Block, BlockHash, ChainAdapter, Component, Header, VerifyError};

/// Starknet rules for one chain (chain id) with the pinned sequencer public key.
#[derive(Debug, Clone)]
pub struct StarknetAdapter {
    chain_id: String,
    public_key: [u8; 32],
}

impl StarknetAdapter {
    /// An adapter for `chain_id` (the short string, e.g. `SN_SEPOLIA`) that accepts blocks
    /// signed by the sequencer key `public_key` (a felt, big-endian, at most 32 bytes).
    pub fn new(chain_id: &str, public_key: &[u8]) -> Result<Self, VerifyError> {
        let mut key = [0u8; 32];
        if public_key.len() > 32 {
            return Err(VerifyError::malformed("public key", "longer than 32 bytes"));
        }
        key[32 - public_key.len()..].copy_from_slice(public_key);
        Ok(StarknetAdapter {
            chain_id: chain_id.to_string(),
            public_key: key,
        })
    }

    /// The chain id short string.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// Maps the three feeder-gateway answers for one block (`get_block`, `get_state_update`,
    /// `get_signature` response bodies) onto a Wharf block: the header (with signature) and the
    /// four body components, each in this adapter's documented encoding. Parses and maps only;
    /// [`ChainAdapter::verify_block`] does the verification.
    pub fn block_from_gateway(
        &self,
        block: &[u8],
        state_update: &[u8],
        signature: &[u8],
    ) -> Result<Block, VerifyError> {
        let _ = (block, state_update, signature);
        Err(VerifyError::malformed(
            "block",
            "starknet adapter not built yet",
        ))
    }
}

impl ChainAdapter for StarknetAdapter {
    fn name(&self) -> &'static str {
        "starknet"
    }

    fn decode_header(&self, _bytes: &[u8]) -> Result<Header, VerifyError> {
        Err(VerifyError::malformed(
            "header",
            "starknet adapter not built yet",
        ))
    }

    fn encode_header(&self, _header: &Header) -> Vec<u8> {
        Vec::new()
    }

    fn block_hash(&self, _header: &Header) -> BlockHash {
        BlockHash::ZERO
    }

    fn verify_header_signature(&self, _header: &Header) -> Result<BlockHash, VerifyError> {
        Err(VerifyError::BadSignature)
    }

    fn verify_body(
        &self,
        _header: &Header,
        component: Component,
        _body: &[u8],
    ) -> Result<(), VerifyError> {
        Err(VerifyError::CommitmentMismatch { component })
    }
}
