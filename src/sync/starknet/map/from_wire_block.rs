//! Wire → store for the `state_diffs` and `events` protocols: one block's `ContractDiff` and
//! `DeclaredClass` messages become the gateway's `state_diff` object, and its events become
//! the store's one entry per transaction.
//!
//! The wire does not tell a deployed contract from a replaced class (`ContractDiff.class_hash`
//! covers both): every class update is stored under `deployed_contracts`. Both state-diff
//! commitments and the length hash the two lists as one, so verification is unaffected; the
//! classes a block brings are its declared ones, which the wire does tell apart.

use serde_json::{json, Map, Value};

use super::from_wire::{felt, felt_of, hex, hex_list};
use super::MapError;
use crate::chain::starknet::write_canonical;
use crate::chain::starknet::{felt_hex, Felt};
use crate::sync::starknet::proto::starknet::sync::event::Event;
use crate::sync::starknet::proto::starknet::sync::state::state_diffs_response::StateDiffMessage;

/// How many items of `state_diff_length` a state-diff message accounts for.
pub fn diff_items(m: &StateDiffMessage) -> u64 {
    match m {
        StateDiffMessage::ContractDiff(d) => {
            d.values.len() as u64 + u64::from(d.nonce.is_some()) + u64::from(d.class_hash.is_some())
        }
        StateDiffMessage::DeclaredClass(_) => 1,
        StateDiffMessage::Fin(_) => 0,
    }
}

/// The stored state diff of one block's messages.
pub fn state_diff(messages: &[StateDiffMessage]) -> Result<Value, MapError> {
    let (mut storage, mut nonces) = (Map::new(), Map::new());
    let (mut deployed, mut declared, mut old_declared) = (vec![], vec![], vec![]);
    for m in messages {
        match m {
            StateDiffMessage::ContractDiff(d) => {
                let address = hex(&d.address, "contract_diff.address")?;
                let key = address.as_str().unwrap_or_default().to_string();
                if let Some(n) = &d.nonce {
                    let nonce = felt_hex(&felt_of(&n.elements, "contract_diff.nonce")?);
                    nonces.insert(key.clone(), json!(nonce));
                }
                if let Some(c) = &d.class_hash {
                    let class = felt_hex(&felt_of(&c.elements, "contract_diff.class_hash")?);
                    deployed.push(json!({"address": address, "class_hash": class}));
                }
                if !d.values.is_empty() {
                    let values = d.values.iter().map(|v| {
                        Ok(json!({
                            "key": hex(&v.key, "contract_diff.values.key")?,
                            "value": hex(&v.value, "contract_diff.values.value")?,
                        }))
                    });
                    let values = values.collect::<Result<Vec<_>, MapError>>()?;
                    if storage.insert(key, Value::Array(values)).is_some() {
                        return Err(MapError::invalid("contract_diff", "contract sent twice"));
                    }
                }
            }
            StateDiffMessage::DeclaredClass(c) => {
                let class = hex(&c.class_hash, "declared_class.class_hash")?;
                match &c.compiled_class_hash {
                    Some(compiled) => {
                        let compiled =
                            felt_of(&compiled.elements, "declared_class.compiled_class_hash")?;
                        let compiled = json!(felt_hex(&compiled));
                        declared
                            .push(json!({"class_hash": class, "compiled_class_hash": compiled}));
                    }
                    None => old_declared.push(class),
                }
            }
            StateDiffMessage::Fin(_) => {
                return Err(MapError::invalid("state_diff", "Fin inside a block"))
            }
        }
    }
    Ok(json!({
        "storage_diffs": storage,
        "nonces": nonces,
        "deployed_contracts": deployed,
        "replaced_classes": [],
        "declared_classes": declared,
        "old_declared_contracts": old_declared,
    }))
}

/// The class hashes one block's state-diff messages declare, Sierra and Cairo 0, in order.
pub fn declared_classes(messages: &[StateDiffMessage]) -> Result<Vec<Felt>, MapError> {
    messages
        .iter()
        .filter_map(|m| match m {
            StateDiffMessage::DeclaredClass(c) => {
                Some(felt(&c.class_hash, "declared_class.class_hash"))
            }
            _ => None,
        })
        .collect()
}

fn event(e: &Event) -> Result<Value, MapError> {
    Ok(json!({
        "from_address": hex(&e.from_address, "event.from_address")?,
        "keys": hex_list(&e.keys, "event.keys")?,
        "data": hex_list(&e.data, "event.data")?,
    }))
}

/// The stored events of one block: one entry per transaction of `tx_hashes` (in order), each
/// with the events that name it. Events must come in transaction order.
pub fn events(events: &[Event], tx_hashes: &[Felt]) -> Result<Value, MapError> {
    let mut groups: Vec<Vec<Value>> = vec![Vec::new(); tx_hashes.len()];
    let mut at = 0;
    for e in events {
        let hash = felt(&e.transaction_hash, "event.transaction_hash")?;
        while at < tx_hashes.len() && tx_hashes[at] != hash {
            at += 1;
        }
        let Some(group) = groups.get_mut(at) else {
            let detail = format!(
                "{} is not a later transaction of the block",
                felt_hex(&hash)
            );
            return Err(MapError::invalid("event.transaction_hash", detail));
        };
        group.push(event(e)?);
    }
    let entries = groups
        .into_iter()
        .zip(tx_hashes)
        .map(|(events, hash)| json!({"events": events, "transaction_hash": felt_hex(hash)}));
    Ok(Value::Array(entries.collect()))
}

/// Serialises a stored part as the store keeps it: canonical JSON (compact, keys sorted).
pub fn to_bytes(v: &Value) -> bytes::Bytes {
    let mut out = Vec::new();
    write_canonical(v, &mut out);
    bytes::Bytes::from(out)
}
