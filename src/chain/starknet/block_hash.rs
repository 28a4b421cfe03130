//! The block hash per protocol version, and the message the sequencer signs.
//!
//! - mainnet blocks below 833 (before 0.7, see `era.rs`): `pedersen_chain([number, state_root,
//!   0, 0, tx_count, tx_commitment, 0, 0, 0, 0, chain_id, parent_hash])`;
//! - before 0.13.2: `pedersen_chain([number, state_root, sequencer_address, timestamp,
//!   tx_count, tx_commitment, event_count, event_commitment, 0, 0, parent_hash])`;
//! - 0.13.2 and 0.13.3: `poseidon("STARKNET_BLOCK_HASH0", number, state_root,
//!   sequencer_address, timestamp, counts, state_diff_commitment, tx_commitment,
//!   event_commitment, receipt_commitment, l1_gas_wei, l1_gas_fri, l1_data_gas_wei,
//!   l1_data_gas_fri, version, 0, parent_hash)`;
//! - 0.13.4 on: `poseidon("STARKNET_BLOCK_HASH1", ..., receipt_commitment,
//!   gas_prices, version, 0, parent_hash)` with `gas_prices = poseidon(
//!   "STARKNET_GAS_PRICES0", l1 wei, l1 fri, l1 data wei, l1 data fri, l2 wei, l2 fri)`.
//!
//! `counts` = `tx_count (64 bits) | event_count (64) | state_diff_length (64) |
//! da_mode (1 bit, 1 = BLOB) | 63 zero bits`; `version` = the version string's ASCII
//! bytes as a felt.

use starknet_crypto::poseidon_hash_many;

use super::felt::Felt;
use super::header::{GasPrice, L1DaMode, StarknetHeader};
use super::transaction::pedersen_chain;
use super::version::Version;

/// The block hash of `h` under the rules of `version` (from [`StarknetHeader::validate`]).
pub fn block_hash(h: &StarknetHeader, version: Version) -> Felt {
    if !version.is_poseidon() {
        return pedersen_block_hash(h);
    }
    let v1 = version >= Version::V0_13_4;
    let prefix: &[u8] = if v1 {
        b"STARKNET_BLOCK_HASH1"
    } else {
        b"STARKNET_BLOCK_HASH0"
    };
    let l1 = h.l1_gas_price.unwrap_or_default();
    let l1_data = h.l1_data_gas_price.unwrap_or_default();
    let mut items = Vec::with_capacity(17);
    items.extend([
        Felt::from_bytes_be_slice(prefix),
        Felt::from(h.block_number),
        h.state_root.0,
        h.sequencer_address.0,
        Felt::from(h.timestamp),
        concat_counts(h),
        h.state_diff_commitment.unwrap_or_default().0,
        h.transaction_commitment.0,
        h.event_commitment.0,
        h.receipt_commitment.unwrap_or_default().0,
    ]);
    if v1 {
        items.push(gas_prices_hash(
            &l1,
            &l1_data,
            &h.l2_gas_price.unwrap_or_default(),
        ));
    } else {
        items.extend([
            l1.price_in_wei.0,
            l1.price_in_fri.0,
            l1_data.price_in_wei.0,
            l1_data.price_in_fri.0,
        ]);
    }
    let version_felt =
        Felt::from_bytes_be_slice(h.starknet_version.as_deref().unwrap_or("").as_bytes());
    items.extend([version_felt, Felt::ZERO, h.parent_block_hash.0]);
    poseidon_hash_many(&items)
}

/// The pre-0.7 block hash: the chain id is hashed in; the timestamp, sequencer address, event
/// count and event commitment are not (zero in their places).
pub fn pre_0_7_block_hash(h: &StarknetHeader, chain_id: &Felt) -> Felt {
    pedersen_chain(&[
        Felt::from(h.block_number),
        h.state_root.0,
        Felt::ZERO,
        Felt::ZERO,
        Felt::from(h.transaction_count),
        h.transaction_commitment.0,
        Felt::ZERO,
        Felt::ZERO,
        Felt::ZERO,
        Felt::ZERO,
        *chain_id,
        h.parent_block_hash.0,
    ])
}

fn pedersen_block_hash(h: &StarknetHeader) -> Felt {
    pedersen_chain(&[
        Felt::from(h.block_number),
        h.state_root.0,
        h.sequencer_address.0,
        Felt::from(h.timestamp),
        Felt::from(h.transaction_count),
        h.transaction_commitment.0,
        Felt::from(h.event_count),
        h.event_commitment.0,
        Felt::ZERO,
        Felt::ZERO,
        h.parent_block_hash.0,
    ])
}

fn concat_counts(h: &StarknetHeader) -> Felt {
    let mut bytes = [0u8; 32];
    bytes[0..8].copy_from_slice(&u64::from(h.transaction_count).to_be_bytes());
    bytes[8..16].copy_from_slice(&u64::from(h.event_count).to_be_bytes());
    bytes[16..24].copy_from_slice(&u64::from(h.state_diff_length).to_be_bytes());
    if h.l1_da_mode == L1DaMode::Blob {
        bytes[24] = 0x80;
    }
    Felt::from_bytes_be_slice(&bytes)
}

fn gas_prices_hash(l1: &GasPrice, l1_data: &GasPrice, l2: &GasPrice) -> Felt {
    poseidon_hash_many(&[
        Felt::from_bytes_be_slice(b"STARKNET_GAS_PRICES0"),
        l1.price_in_wei.0,
        l1.price_in_fri.0,
        l1_data.price_in_wei.0,
        l1_data.price_in_fri.0,
        l2.price_in_wei.0,
        l2.price_in_fri.0,
    ])
}

/// What the sequencer signs: the block hash, or `poseidon_many([block_hash,
/// state_diff_commitment])` in the legacy form with `signature_input`.
pub fn signed_message(h: &StarknetHeader, block_hash: Felt) -> Felt {
    match h.signed_state_diff_commitment {
        Some(sdc) => poseidon_hash_many(&[block_hash, sdc.0]),
        None => block_hash,
    }
}
