//! Leaf hashes of the transaction, event and receipt commitment tries, per protocol
//! version, and the typed receipts and events they are computed from.

use std::borrow::Cow;

use serde::Deserialize;
use starknet_crypto::{pedersen_hash, poseidon_hash_many, PoseidonHasher};

use super::felt::{felts, starknet_keccak, Felt, F};
use super::transaction::{is_invoke, is_unsigned, pedersen_chain};
use super::version::Version;

/// Transaction-commitment leaf.
/// - before 0.11.1: `pedersen(tx_hash, pedersen_chain(signature))`, only INVOKE signatures
///   counted (others hash the empty list);
/// - before 0.13.2: the same with every kind's signature (DEPLOY, L1_HANDLER: empty);
/// - from 0.13.2: `poseidon(tx_hash, signature...)`, an empty signature being `[0]`
///   before 0.13.4.
pub fn transaction_leaf(version: Version, kind: &str, tx_hash: &Felt, signature: &[F]) -> Felt {
    let signature = if is_unsigned(kind) {
        &[][..]
    } else {
        signature
    };
    if version.is_poseidon() {
        if signature.is_empty() && version < Version::V0_13_4 {
            return poseidon_hash_many(&[*tx_hash, Felt::ZERO]);
        }
        return poseidon_hash_many([tx_hash].into_iter().chain(felts(signature)));
    }
    let counted = version >= Version::V0_11_1 || is_invoke(kind);
    let signature = if counted { signature } else { &[][..] };
    pedersen_hash(tx_hash, &pedersen_chain(felts(signature)))
}

/// One event as the gateway writes it.
#[derive(Debug, Deserialize)]
pub struct Event {
    /// Emitting contract.
    pub from_address: F,
    /// Keys.
    #[serde(default)]
    pub keys: Vec<F>,
    /// Data.
    #[serde(default)]
    pub data: Vec<F>,
}

/// Event-commitment leaf: `pedersen_chain([from, pedersen_chain(keys), pedersen_chain(data)])`
/// before 0.13.2, `poseidon(from, tx_hash, |keys|, keys..., |data|, data...)` from 0.13.2.
pub fn event_leaf(version: Version, event: &Event, tx_hash: &Felt) -> Felt {
    if !version.is_poseidon() {
        let keys = pedersen_chain(felts(&event.keys));
        let data = pedersen_chain(felts(&event.data));
        return pedersen_chain([&event.from_address.0, &keys, &data]);
    }
    let mut h = PoseidonHasher::new();
    h.update(event.from_address.0);
    h.update(*tx_hash);
    h.update(Felt::from(event.keys.len() as u64));
    felts(&event.keys).for_each(|k| h.update(*k));
    h.update(Felt::from(event.data.len() as u64));
    felts(&event.data).for_each(|d| h.update(*d));
    h.finalize()
}

/// One receipt as the gateway writes it (events moved to the events component).
#[derive(Debug, Deserialize)]
pub struct Receipt<'a> {
    /// The transaction it belongs to.
    pub transaction_hash: F,
    /// Position in the block, when stated.
    pub transaction_index: Option<u64>,
    #[serde(default)]
    actual_fee: F,
    #[serde(default)]
    l2_to_l1_messages: Vec<Message>,
    #[serde(borrow)]
    execution_status: Option<Cow<'a, str>>,
    #[serde(borrow)]
    revert_error: Option<Cow<'a, str>>,
    execution_resources: Option<Resources>,
}

#[derive(Debug, Deserialize)]
struct Message {
    from_address: F,
    to_address: F,
    #[serde(default)]
    payload: Vec<F>,
}

#[derive(Debug, Deserialize)]
struct Resources {
    total_gas_consumed: Option<Gas>,
}

#[derive(Debug, Default, Deserialize)]
struct Gas {
    #[serde(default)]
    l1_gas: u64,
    #[serde(default)]
    l1_data_gas: u64,
}

/// Receipt-commitment leaf (0.13.2 on): `poseidon(tx_hash, actual_fee, messages_hash,
/// starknet_keccak(revert_error) or 0, 0, l1_gas, l1_data_gas)` with
/// `messages_hash = poseidon(n, (from, to, |payload|, payload...)...)`.
pub fn receipt_leaf(r: &Receipt<'_>) -> Felt {
    let mut messages = PoseidonHasher::new();
    messages.update(Felt::from(r.l2_to_l1_messages.len() as u64));
    for m in &r.l2_to_l1_messages {
        messages.update(m.from_address.0);
        messages.update(m.to_address.0);
        messages.update(Felt::from(m.payload.len() as u64));
        felts(&m.payload).for_each(|p| messages.update(*p));
    }
    let revert = match r.execution_status.as_deref() {
        Some("REVERTED") => starknet_keccak(r.revert_error.as_deref().unwrap_or("").as_bytes()),
        _ => Felt::ZERO,
    };
    let gas = r
        .execution_resources
        .as_ref()
        .and_then(|e| e.total_gas_consumed.as_ref());
    let (l1, l1_data) = gas.map_or((0, 0), |g| (g.l1_gas, g.l1_data_gas));
    poseidon_hash_many(&[
        r.transaction_hash.0,
        r.actual_fee.0,
        messages.finalize(),
        revert,
        Felt::ZERO,
        Felt::from(l1),
        Felt::from(l1_data),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(hex: &str) -> Felt {
        Felt::from_hex_unchecked(hex)
    }

    /// cairo-lang `calculate_event_hash(0xdeadbeef, [1, 2, 3, 4], [5, 6, 7, 8, 9])`.
    #[test]
    fn pedersen_event_leaf_vector() {
        let event = Event {
            from_address: F(f("0xdeadbeef")),
            keys: (1u64..=4).map(|k| F(Felt::from(k))).collect(),
            data: (5u64..=9).map(|d| F(Felt::from(d))).collect(),
        };
        assert_eq!(
            event_leaf(Version::V0_11_1, &event, &Felt::ZERO),
            f("0xdb96455b3a61f9139f7921667188d31d1e1d49fb60a1aa3dbf3756dbe3a9b4")
        );
    }

    /// cairo-lang `calculate_single_tx_hash_with_signature(1, [2, 3], pedersen)`.
    #[test]
    fn pedersen_transaction_leaf_vector() {
        let sig = [F(Felt::TWO), F(Felt::THREE)];
        assert_eq!(
            transaction_leaf(Version::V0_11_1, "INVOKE_FUNCTION", &Felt::ONE, &sig),
            f("0x259c3bd5a1951eafb2f41e0b783eab92cfe4e108b2b1f071e3736f06b909431")
        );
    }

    /// starknet-api `transaction_commitment_test`: invoke with `[2, 3]`, L1 handler unsigned.
    #[test]
    fn poseidon_transaction_leaf_vectors() {
        let sig = [F(Felt::TWO), F(Felt::THREE)];
        assert_eq!(
            transaction_leaf(Version::V0_13_2, "INVOKE_FUNCTION", &Felt::ONE, &sig),
            f("0x2f0d8840bcf3bc629598d8a6cc80cb7c0d9e52d93dab244bbf9cd0dca0ad082")
        );
        assert_eq!(
            transaction_leaf(Version::V0_13_2, "L1_HANDLER", &Felt::ONE, &[]),
            f("0x00a93bf5e58b9378d093aa86ddc2f61a3295a1d1e665bd0ef3384dd07b30e033")
        );
    }
}
