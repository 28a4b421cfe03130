//! The Starknet feeder-gateway endpoints a feeder relay follows: the head, the three answers
//! that make up one block, the classes blocks bring, and the sequencer's public key.

use bytes::Bytes;
use serde::Deserialize;
use starknet_crypto::Felt;

use super::{FetchError, GatewayClient};
use crate::chain::classes::class_hash_hex;
use crate::chain::{BlockHash, BlockNumber, ClassHash};
use crate::gateway::HeadResponse;

/// The three feeder-gateway answers for one block, as received.
#[derive(Debug, Clone)]
pub struct StarknetRaw {
    /// `get_block?blockNumber=N`.
    pub block: Bytes,
    /// `get_state_update?blockNumber=N`.
    pub state_update: Bytes,
    /// `get_signature?blockNumber=N`.
    pub signature: Bytes,
}

/// The fields of a `get_block` answer the head needs (full or `headerOnly`); others are ignored.
#[derive(Deserialize)]
struct HeadFields {
    block_number: BlockNumber,
    block_hash: String,
    #[serde(default)]
    timestamp: Option<u64>,
}

/// `get_block?blockNumber=latest&headerOnly=true`: number and hash of the newest block.
pub async fn head(client: &GatewayClient) -> Result<HeadResponse, FetchError> {
    let head: HeadFields = client
        .json("/get_block?blockNumber=latest&headerOnly=true")
        .await?;
    Ok(HeadResponse {
        number: head.block_number,
        hash: felt_hash(&head.block_hash).map_err(FetchError::Garbage)?,
        timestamp_ms: head.timestamp.unwrap_or(0).saturating_mul(1000),
    })
}

/// The block, its state update and its signature, fetched concurrently.
pub async fn block(client: &GatewayClient, number: BlockNumber) -> Result<StarknetRaw, FetchError> {
    let paths = ["get_block", "get_state_update", "get_signature"]
        .map(|endpoint| format!("/{endpoint}?blockNumber={number}"));
    let (block, state_update, signature) = tokio::try_join!(
        client.bytes(&paths[0]),
        client.bytes(&paths[1]),
        client.bytes(&paths[2]),
    )?;
    Ok(StarknetRaw {
        block,
        state_update,
        signature,
    })
}

/// `get_class_by_hash?classHash=H&blockNumber=N`: the class definition as served (JSON). The
/// block that brings the class is named so the answer does not depend on the gateway's head.
pub async fn class(
    client: &GatewayClient,
    hash: &ClassHash,
    number: BlockNumber,
) -> Result<Bytes, FetchError> {
    let hash = class_hash_hex(hash);
    let path = format!("/get_class_by_hash?classHash={hash}&blockNumber={number}");
    client.bytes(&path).await
}

/// `get_public_key`: the sequencer key, a bare JSON string holding a hex felt.
pub async fn public_key(client: &GatewayClient) -> Result<Vec<u8>, FetchError> {
    let key: String = client.json("/get_public_key").await?;
    let felt = Felt::from_hex(&key).map_err(|e| FetchError::Garbage(format!("public key: {e}")))?;
    Ok(felt.to_bytes_be().to_vec())
}

/// A hex felt (`0x` + up to 64 digits, as the gateway writes hashes) as a 32-byte block hash.
pub fn felt_hash(hex: &str) -> Result<BlockHash, String> {
    let felt = Felt::from_hex(hex).map_err(|e| format!("block hash `{hex}`: {e}"))?;
    Ok(BlockHash(felt.to_bytes_be()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_felt_hashes_are_left_padded() {
        let hash =
            felt_hash("0x5c627d4aeb51280058bed93c7889bce78114d63baad1be0f0aeb32496d5f19c").unwrap();
        assert_eq!(
            hash.to_string(),
            "05c627d4aeb51280058bed93c7889bce78114d63baad1be0f0aeb32496d5f19c"
        );
        assert!(felt_hash("0xzz").is_err());
    }
}
