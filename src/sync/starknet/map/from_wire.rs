//! Wire → store, shared part: felts and required fields of the Starknet sync messages, and the
//! header (`SignedBlockHeader` → Wharf's canonical Starknet header JSON).
//!
//! Every output is in the encoding `crate::chain::starknet` documents, so the adapter verifies
//! it unchanged; nothing here checks a hash or a signature (the pipeline's verifier does).

use bytes::Bytes;
use serde_json::Value;

use super::MapError;
use crate::chain::starknet::{
    felt_hex, Felt, GasPrice, HexFelt, L1DaMode, StarknetHeader, Version,
};
use crate::sync::starknet::proto::starknet::common::{self as pc, L1DataAvailabilityMode};
use crate::sync::starknet::proto::starknet::sync::header::SignedBlockHeader;

/// A required nested message: `Some`, else [`MapError::missing`] naming `what`.
pub fn req<'a, T>(field: &'a Option<T>, what: &str) -> Result<&'a T, MapError> {
    field.as_ref().ok_or_else(|| MapError::missing(what))
}

/// A felt from big-endian bytes: at most 32 of them, below the field prime.
pub fn felt_of(bytes: &[u8], what: &str) -> Result<Felt, MapError> {
    if bytes.len() > 32 {
        return Err(MapError::invalid(what, "felt longer than 32 bytes"));
    }
    let mut buf = [0u8; 32];
    buf[32 - bytes.len()..].copy_from_slice(bytes);
    let felt = Felt::from_bytes_be(&buf);
    if felt.to_bytes_be() != buf {
        return Err(MapError::invalid(what, "felt not below the field prime"));
    }
    Ok(felt)
}

/// Anything carrying a felt in its `elements` (`Felt252`, `Hash`, `Address`, ...).
pub trait Elements {
    /// The big-endian bytes.
    fn elements(&self) -> &[u8];
}

macro_rules! elements {
    ($($t:ty),*) => {$(
        impl Elements for $t {
            fn elements(&self) -> &[u8] {
                &self.elements
            }
        }
    )*};
}
elements!(pc::Felt252, pc::Hash, pc::Address, pc::Hash256);

/// A required felt field.
pub fn felt<E: Elements>(field: &Option<E>, what: &str) -> Result<Felt, MapError> {
    felt_of(req(field, what)?.elements(), what)
}

/// A required felt field as the gateway writes it: minimal lowercase `0x` hex.
pub fn hex<E: Elements>(field: &Option<E>, what: &str) -> Result<Value, MapError> {
    Ok(Value::String(felt_hex(&felt(field, what)?)))
}

/// A repeated felt field as a JSON array of hex strings.
pub fn hex_list<E: Elements>(items: &[E], what: &str) -> Result<Value, MapError> {
    items
        .iter()
        .map(|e| felt_of(e.elements(), what).map(|f| Value::String(felt_hex(&f))))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// A `u128` gas price (or amount) as a felt.
fn uint128(field: &Option<pc::Uint128>, what: &str) -> Result<Felt, MapError> {
    let v = req(field, what)?;
    Ok(Felt::from((u128::from(v.high) << 64) | u128::from(v.low)))
}

fn gas_price(
    fri: &Option<pc::Uint128>,
    wei: &Option<pc::Uint128>,
    what: &str,
) -> Result<GasPrice, MapError> {
    Ok(GasPrice {
        price_in_fri: HexFelt(uint128(fri, what)?),
        price_in_wei: HexFelt(uint128(wei, what)?),
    })
}

fn is_zero(p: &GasPrice) -> bool {
    p.price_in_fri.0 == Felt::ZERO && p.price_in_wei.0 == Felt::ZERO
}

/// The stored header of a wire header, in canonical form.
///
/// Before 0.13.2 the block hash covers no state-diff commitment, and the sequencer signed
/// either the block hash alone or (legacy form) `poseidon(block_hash, state_diff_commitment)`.
/// The wire does not say which: `legacy_signed` picks the form (the client tries the legacy
/// form first when the header carries a non-zero `state_diff_commitment.root`, see
/// [`header_forms`]). Gas prices the gateway leaves out for old blocks (L1 data gas before
/// it was priced, L2 gas before 0.13.4) are left out when zero.
pub fn header(h: &SignedBlockHeader, legacy_signed: bool) -> Result<Bytes, MapError> {
    let version = match h.protocol_version.as_str() {
        "" => None,
        s => Some(s.to_string()),
    };
    let v = match &version {
        None => Version::default(),
        Some(s) => Version::parse(s)
            .ok_or_else(|| MapError::invalid("header.protocol_version", format!("`{s:.40}`")))?,
    };
    let diff = req(&h.state_diff_commitment, "header.state_diff_commitment")?;
    let diff_root = felt(&diff.root, "header.state_diff_commitment.root")?;
    let txs = req(&h.transactions, "header.transactions")?;
    let events = req(&h.events, "header.events")?;
    let l1 = gas_price(
        &h.l1_gas_price_fri,
        &h.l1_gas_price_wei,
        "header.l1_gas_price",
    )?;
    let l1_data = gas_price(
        &h.l1_data_gas_price_fri,
        &h.l1_data_gas_price_wei,
        "header.l1_data_gas_price",
    )?;
    let l2 = gas_price(
        &h.l2_gas_price_fri,
        &h.l2_gas_price_wei,
        "header.l2_gas_price",
    )?;
    let count = |n: u64, what: &str| u32::try_from(n).map_err(|_| MapError::invalid(what, n));
    let signature = match h.signatures.as_slice() {
        [] => None,
        [sig] => Some([
            HexFelt(felt(&sig.r, "header.signatures.r")?),
            HexFelt(felt(&sig.s, "header.signatures.s")?),
        ]),
        _ => return Err(MapError::invalid("header.signatures", "more than one")),
    };
    let poseidon = v.is_poseidon();
    let out = StarknetHeader {
        block_number: h.number,
        event_commitment: HexFelt(felt(&events.root, "header.events.root")?),
        event_count: count(events.n_leaves, "header.events.n_leaves")?,
        l1_da_mode: match L1DataAvailabilityMode::try_from(h.l1_data_availability_mode) {
            Ok(L1DataAvailabilityMode::Blob) => L1DaMode::Blob,
            Ok(L1DataAvailabilityMode::Calldata) => L1DaMode::Calldata,
            Err(_) => {
                return Err(MapError::invalid(
                    "header.l1_data_availability_mode",
                    "unknown",
                ))
            }
        },
        l1_data_gas_price: (!is_zero(&l1_data) || poseidon).then_some(l1_data),
        l1_gas_price: Some(l1),
        l2_gas_price: (!is_zero(&l2) || v >= Version::V0_13_4).then_some(l2),
        parent_block_hash: HexFelt(felt(&h.parent_hash, "header.parent_hash")?),
        receipt_commitment: match poseidon {
            true => Some(HexFelt(felt(&h.receipts, "header.receipts")?)),
            false => None,
        },
        sequencer_address: HexFelt(felt(&h.sequencer_address, "header.sequencer_address")?),
        signature,
        signed_state_diff_commitment: (!poseidon && legacy_signed && diff_root != Felt::ZERO)
            .then_some(HexFelt(diff_root)),
        starknet_version: version,
        state_diff_commitment: poseidon.then_some(HexFelt(diff_root)),
        state_diff_length: count(
            diff.state_diff_length,
            "header.state_diff_commitment.length",
        )?,
        state_root: HexFelt(felt(&h.state_root, "header.state_root")?),
        timestamp: h.time,
        transaction_commitment: HexFelt(felt(&txs.root, "header.transactions.root")?),
        transaction_count: count(txs.n_leaves, "header.transactions.n_leaves")?,
    };
    felt(&h.block_hash, "header.block_hash")?;
    // Through the generic header and back: exactly the adapter's canonical encoding.
    let generic = out
        .to_header()
        .map_err(|e| MapError::invalid("header", e))?;
    let canonical =
        StarknetHeader::from_header(&generic).map_err(|e| MapError::invalid("header", e))?;
    Ok(Bytes::from(canonical.encode()))
}

/// The stored forms a wire header may stand for, most likely first: for a block before 0.13.2
/// with a non-zero state-diff root, the legacy signature form, then the plain one; else one.
pub fn header_forms(h: &SignedBlockHeader) -> Result<Vec<Bytes>, MapError> {
    let plain = header(h, false)?;
    let legacy = header(h, true)?;
    Ok(match legacy == plain {
        true => vec![plain],
        false => vec![legacy, plain],
    })
}

/// A stored pre-0.13.2 header in the legacy signature form, signing `commitment` (computed by
/// the client from the block's state diff when the wire header's root is another commitment).
pub fn with_signed_commitment(header: &[u8], commitment: Felt) -> Result<Bytes, MapError> {
    let mut h = StarknetHeader::decode(header).map_err(|e| MapError::invalid("header", e))?;
    h.signed_state_diff_commitment = Some(HexFelt(commitment));
    let generic = h.to_header().map_err(|e| MapError::invalid("header", e))?;
    let canonical =
        StarknetHeader::from_header(&generic).map_err(|e| MapError::invalid("header", e))?;
    Ok(Bytes::from(canonical.encode()))
}
