//! One face for the two kinds of upstream a feeder follows (devnet gateway, Starknet feeder
//! gateway), so the follow loop fetches, verifies and commits the same way for both.

use std::sync::Arc;

use bytes::Bytes;

use super::starknet::{self, StarknetRaw};
use super::{FeederConfig, FetchError, GatewayClient};
use crate::chain::starknet::StarknetAdapter;
use crate::chain::wire::decode_block;
use crate::chain::{Block, BlockNumber, ChainAdapter, ChainKind, ClassHash, VerifyError};
use crate::gateway::HeadResponse;

/// An upstream gateway and how to turn its answers into blocks.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// `wharf gateway`: `/head`, `/blocks/{n}` (a framed block), `/public-key`.
    Devnet(GatewayClient),
    /// A Starknet feeder gateway; the adapter maps its JSON onto Wharf's components.
    Starknet {
        /// The feeder-gateway client.
        client: GatewayClient,
        /// The Starknet rules (chain id, pinned key) that map and verify its blocks.
        adapter: Arc<StarknetAdapter>,
    },
}

/// One block as the upstream sent it, before decoding.
#[derive(Debug, Clone)]
pub enum RawBlock {
    /// A devnet block in `chain::wire` framing.
    Framed(Bytes),
    /// The three Starknet feeder-gateway answers.
    Starknet(StarknetRaw),
}

impl Upstream {
    /// A devnet upstream at `cfg.gateway_url`.
    pub fn devnet(cfg: &FeederConfig) -> Result<Self, FetchError> {
        Ok(Upstream::Devnet(GatewayClient::new(cfg)?))
    }

    /// A Starknet feeder gateway at `cfg.gateway_url`, verified with `adapter`.
    pub fn starknet(cfg: &FeederConfig, adapter: Arc<StarknetAdapter>) -> Result<Self, FetchError> {
        let client = GatewayClient::new(cfg)?;
        Ok(Upstream::Starknet { client, adapter })
    }

    /// The upstream's newest block.
    pub async fn head(&self) -> Result<HeadResponse, FetchError> {
        match self {
            Upstream::Devnet(client) => client.head().await,
            Upstream::Starknet { client, .. } => starknet::head(client).await,
        }
    }

    /// Everything the upstream has for block `number`.
    pub async fn block(&self, number: BlockNumber) -> Result<RawBlock, FetchError> {
        match self {
            Upstream::Devnet(client) => client.block(number).await.map(RawBlock::Framed),
            Upstream::Starknet { client, .. } => starknet::block(client, number)
                .await
                .map(RawBlock::Starknet),
        }
    }

    /// The definition of class `hash`, which block `number` brings (`get_class_by_hash`).
    pub async fn class(&self, hash: &ClassHash, number: BlockNumber) -> Result<Bytes, FetchError> {
        match self {
            Upstream::Devnet(_) => Err(FetchError::Garbage(
                "the devnet gateway serves no classes".into(),
            )),
            Upstream::Starknet { client, .. } => starknet::class(client, hash, number).await,
        }
    }

    /// Decodes (does not verify) a fetched block; `adapter` is the chain's adapter.
    pub fn decode(&self, adapter: &dyn ChainAdapter, raw: &RawBlock) -> Result<Block, VerifyError> {
        match (self, raw) {
            (_, RawBlock::Framed(bytes)) => decode_block(adapter, bytes),
            (Upstream::Starknet { adapter, .. }, RawBlock::Starknet(raw)) => {
                adapter.block_from_gateway(&raw.block, &raw.state_update, &raw.signature)
            }
            (Upstream::Devnet(_), RawBlock::Starknet(_)) => Err(VerifyError::malformed(
                "block",
                "Starknet answers from a devnet upstream",
            )),
        }
    }
}

/// Fetches the upstream's public key (to pin it on first use): the raw key bytes.
pub async fn fetch_public_key(cfg: &FeederConfig, kind: ChainKind) -> Result<Vec<u8>, FetchError> {
    let client = GatewayClient::new(cfg)?;
    match kind {
        ChainKind::Devnet => {
            let key = client.public_key().await?.public_key;
            let key = key
                .trim()
                .strip_prefix("0x")
                .unwrap_or(key.trim())
                .to_string();
            hex::decode(&key).map_err(|e| FetchError::Garbage(format!("public key: {e}")))
        }
        ChainKind::Starknet => starknet::public_key(&client).await,
    }
}
