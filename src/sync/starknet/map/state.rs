//! `Event`s from the stored events component and the `ContractDiff` / `DeclaredClass`
//! messages of a stored state diff (contracts in address order, then declared classes:
//! Sierra, then Cairo 0).

use std::collections::BTreeMap;

use super::json::{address, felt252, hash, parse, Obj};
use super::MapError;
use crate::chain::starknet::Felt;
use crate::sync::starknet::proto::starknet::common::VolitionDomain;
use crate::sync::starknet::proto::starknet::sync::event::Event;
use crate::sync::starknet::proto::starknet::sync::state::state_diffs_response::StateDiffMessage;
use crate::sync::starknet::proto::starknet::sync::state::{
    ContractDiff, ContractStoredValue, DeclaredClass, StateDiffsResponse,
};

/// Every event of the block, in order, each with the hash of the transaction that emitted it.
pub fn events_to_wire(events: &[u8]) -> Result<Vec<Event>, MapError> {
    let groups = parse("events", events)?;
    let groups = groups
        .as_array()
        .ok_or_else(|| MapError::field("events", "not a list"))?;
    let mut out = Vec::new();
    for (i, group) in groups.iter().enumerate() {
        let path = format!("events[{i}]");
        let group = Obj::new(group, &path)?;
        let tx_hash = hash(&group.felt("transaction_hash")?);
        let list = group.get("events").and_then(|v| v.as_array());
        for (j, e) in list.into_iter().flatten().enumerate() {
            let epath = format!("{path}.events[{j}]");
            let e = Obj::new(e, &epath)?;
            out.push(Event {
                transaction_hash: Some(tx_hash.clone()),
                from_address: Some(felt252(&e.felt("from_address")?)),
                keys: e.felts("keys")?,
                data: e.felts("data")?,
            });
        }
    }
    Ok(out)
}

/// One entry per touched contract, then one per declared class.
pub fn state_diff_to_wire(state_diff: &[u8]) -> Result<Vec<StateDiffsResponse>, MapError> {
    let diff = parse("state_diffs", state_diff)?;
    let diff = Obj::new(&diff, "state_diff")?;
    let mut contracts: BTreeMap<[u8; 32], ContractDiff> = BTreeMap::new();
    storage(&diff, &mut contracts)?;
    nonces(&diff, &mut contracts)?;
    for key in ["deployed_contracts", "replaced_classes"] {
        classes(&diff, key, &mut contracts)?;
    }
    let mut out: Vec<StateDiffsResponse> = contracts
        .into_values()
        .map(|c| message(StateDiffMessage::ContractDiff(c)))
        .collect();
    out.extend(
        declared(&diff)?
            .into_iter()
            .map(StateDiffMessage::DeclaredClass)
            .map(message),
    );
    Ok(out)
}

fn message(m: StateDiffMessage) -> StateDiffsResponse {
    StateDiffsResponse {
        state_diff_message: Some(m),
    }
}

fn entry<'m>(map: &'m mut BTreeMap<[u8; 32], ContractDiff>, at: &Felt) -> &'m mut ContractDiff {
    map.entry(at.to_bytes_be()).or_insert_with(|| ContractDiff {
        address: Some(address(at)),
        nonce: None,
        class_hash: None,
        values: Vec::new(),
        domain: VolitionDomain::L1 as i32,
    })
}

/// The object `key` of the diff as (felt key, value) pairs.
fn pairs<'a>(diff: &Obj<'a>, key: &str) -> Result<Vec<(Felt, &'a serde_json::Value)>, MapError> {
    let Some(map) = diff.get(key).and_then(|v| v.as_object()) else {
        return Ok(Vec::new());
    };
    map.iter()
        .map(|(k, v)| {
            let at = crate::chain::starknet::parse_felt(k)
                .map_err(|e| MapError::field(format!("state_diff.{key}.{k}"), e))?;
            Ok((at, v))
        })
        .collect()
}

fn storage(diff: &Obj<'_>, out: &mut BTreeMap<[u8; 32], ContractDiff>) -> Result<(), MapError> {
    for (at, entries) in pairs(diff, "storage_diffs")? {
        let path = format!("state_diff.storage_diffs.{at:#x}");
        let entries = entries
            .as_array()
            .ok_or_else(|| MapError::field(&path, "not a list"))?;
        if entries.is_empty() {
            continue;
        }
        let mut values = Vec::with_capacity(entries.len());
        for e in entries {
            let e = Obj::new(e, &path)?;
            values.push(ContractStoredValue {
                key: Some(felt252(&e.felt("key")?)),
                value: Some(felt252(&e.felt("value")?)),
            });
        }
        entry(out, &at).values = values;
    }
    Ok(())
}

fn nonces(diff: &Obj<'_>, out: &mut BTreeMap<[u8; 32], ContractDiff>) -> Result<(), MapError> {
    for (at, nonce) in pairs(diff, "nonces")? {
        let nonce = super::json::felt_of(nonce)
            .map_err(|e| MapError::field(format!("state_diff.nonces.{at:#x}"), e))?;
        entry(out, &at).nonce = Some(felt252(&nonce));
    }
    Ok(())
}

fn classes(
    diff: &Obj<'_>,
    key: &str,
    out: &mut BTreeMap<[u8; 32], ContractDiff>,
) -> Result<(), MapError> {
    let list = diff.get(key).and_then(|v| v.as_array());
    for (i, item) in list.into_iter().flatten().enumerate() {
        let path = format!("state_diff.{key}[{i}]");
        let item = Obj::new(item, &path)?;
        let class = item.felt("class_hash")?;
        entry(out, &item.felt("address")?).class_hash = Some(hash(&class));
    }
    Ok(())
}

fn declared(diff: &Obj<'_>) -> Result<Vec<DeclaredClass>, MapError> {
    let mut out = Vec::new();
    let sierra = diff.get("declared_classes").and_then(|v| v.as_array());
    for (i, item) in sierra.into_iter().flatten().enumerate() {
        let path = format!("state_diff.declared_classes[{i}]");
        let item = Obj::new(item, &path)?;
        out.push(DeclaredClass {
            class_hash: Some(hash(&item.felt("class_hash")?)),
            compiled_class_hash: Some(hash(&item.felt("compiled_class_hash")?)),
        });
    }
    let cairo0 = diff
        .get("old_declared_contracts")
        .and_then(|v| v.as_array());
    for (i, item) in cairo0.into_iter().flatten().enumerate() {
        let class = super::json::felt_of(item)
            .map_err(|e| MapError::field(format!("state_diff.old_declared_contracts[{i}]"), e))?;
        out.push(DeclaredClass {
            class_hash: Some(hash(&class)),
            compiled_class_hash: None,
        });
    }
    Ok(out)
}
