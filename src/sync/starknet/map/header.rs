//! `SignedBlockHeader` from a stored Starknet header, and the two commitments a pre-0.13.2
//! header lacks, computed from the block's receipts and state diff the way Pathfinder does.

use super::json::{address, hash, uint128};
use super::MapError;
use crate::chain::starknet::{
    receipt_commitment, state_diff_commitment, Felt, GasPrice, L1DaMode, StarknetHeader,
};
use crate::chain::BlockHash;
use crate::sync::starknet::proto::starknet::common::{
    ConsensusSignature, L1DataAvailabilityMode, Patricia, Uint128,
};
use crate::sync::starknet::proto::starknet::sync::common::StateDiffCommitment;
use crate::sync::starknet::proto::starknet::sync::header::SignedBlockHeader;

fn decode(header: &[u8]) -> Result<StarknetHeader, MapError> {
    StarknetHeader::decode(header).map_err(|e| MapError::Json {
        part: "header",
        detail: e.to_string(),
    })
}

/// Whether the stored header predates 0.13.2 (no receipt or state-diff commitment of its own).
pub fn is_pre_0_13_2(header: &[u8]) -> Result<bool, MapError> {
    let h = decode(header)?;
    let v = h
        .version()
        .map_err(|e| MapError::field("header.starknet_version", e))?;
    Ok(!v.is_poseidon())
}

/// The wire header of block `hash` from its stored header. Before 0.13.2 the receipt and
/// state-diff commitments are zero here; [`fill_legacy_commitments`] computes them.
pub fn header_to_wire(hash_: &BlockHash, header: &[u8]) -> Result<SignedBlockHeader, MapError> {
    let h = decode(header)?;
    let felt = |f: Option<crate::chain::starknet::HexFelt>| f.map_or(Felt::ZERO, |f| f.0);
    let (l1_fri, l1_wei) = prices(h.l1_gas_price, "l1_gas_price")?;
    let (data_fri, data_wei) = prices(h.l1_data_gas_price, "l1_data_gas_price")?;
    let (l2_fri, l2_wei) = prices(h.l2_gas_price, "l2_gas_price")?;
    let signatures = h.signature.iter().map(|[r, s]| ConsensusSignature {
        r: Some(super::json::felt252(&r.0)),
        s: Some(super::json::felt252(&s.0)),
    });
    Ok(SignedBlockHeader {
        block_hash: Some(hash(&Felt::from_bytes_be(&hash_.0))),
        parent_hash: Some(hash(&h.parent_block_hash.0)),
        number: h.block_number,
        time: h.timestamp,
        sequencer_address: Some(address(&h.sequencer_address.0)),
        state_root: Some(hash(&h.state_root.0)),
        state_diff_commitment: Some(StateDiffCommitment {
            state_diff_length: u64::from(h.state_diff_length),
            root: Some(hash(&felt(h.state_diff_commitment))),
        }),
        transactions: Some(patricia(h.transaction_count, &h.transaction_commitment.0)),
        events: Some(patricia(h.event_count, &h.event_commitment.0)),
        receipts: Some(hash(&felt(h.receipt_commitment))),
        protocol_version: h.starknet_version.clone().unwrap_or_default(),
        l1_gas_price_fri: Some(l1_fri),
        l1_gas_price_wei: Some(l1_wei),
        l1_data_gas_price_fri: Some(data_fri),
        l1_data_gas_price_wei: Some(data_wei),
        l2_gas_price_fri: Some(l2_fri),
        l2_gas_price_wei: Some(l2_wei),
        l1_data_availability_mode: match h.l1_da_mode {
            L1DaMode::Calldata => L1DataAvailabilityMode::Calldata,
            L1DaMode::Blob => L1DataAvailabilityMode::Blob,
        } as i32,
        signatures: signatures.collect(),
    })
}

/// Fills a pre-0.13.2 header's receipt commitment and `state_diff_commitment.root` with the
/// 0.13.2 formulas over the block's stored receipts and state diff (Pathfinder's choice;
/// nothing in such a block's hash binds either).
pub fn fill_legacy_commitments(
    header: &mut SignedBlockHeader,
    receipts: &[u8],
    state_diff: &[u8],
) -> Result<(), MapError> {
    let receipt_root = receipt_commitment(receipts).map_err(|e| MapError::Json {
        part: "receipts",
        detail: e.to_string(),
    })?;
    let (length, root) = state_diff_commitment(state_diff).map_err(|e| MapError::Json {
        part: "state_diffs",
        detail: e.to_string(),
    })?;
    header.receipts = Some(hash(&receipt_root));
    header.state_diff_commitment = Some(StateDiffCommitment {
        state_diff_length: length,
        root: Some(hash(&root)),
    });
    Ok(())
}

fn patricia(count: u32, root: &Felt) -> Patricia {
    Patricia {
        n_leaves: u64::from(count),
        root: Some(hash(root)),
    }
}

/// (fri, wei) of a gas price; zero when the block predates the price.
fn prices(price: Option<GasPrice>, field: &str) -> Result<(Uint128, Uint128), MapError> {
    let p = price.unwrap_or_default();
    let fri = uint128(&p.price_in_fri.0, &format!("header.{field}.price_in_fri"))?;
    let wei = uint128(&p.price_in_wei.0, &format!("header.{field}.price_in_wei"))?;
    Ok((fri, wei))
}
