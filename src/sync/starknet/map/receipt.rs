//! `Receipt` from a stored gateway receipt and its transaction (the kind decides the variant,
//! the version the fee unit: FRI for v3, WEI before).

use sha3::{Digest, Keccak256};

use super::json::{felt252, Obj};
use super::transaction::version;
use super::MapError;
use crate::chain::starknet::Felt;
use crate::sync::starknet::proto::starknet::common::Hash256;
use crate::sync::starknet::proto::starknet::sync::receipt::receipt::execution_resources::BuiltinCounter;
use crate::sync::starknet::proto::starknet::sync::receipt::receipt::{
    Common, Declare, Deploy, DeployAccount, ExecutionResources, Invoke, L1Handler, Type,
};
use crate::sync::starknet::proto::starknet::sync::receipt::{
    EthereumAddress, MessageToL1, PriceUnit, Receipt,
};

/// The receipt of `tx`.
pub fn receipt_to_wire(tx: &Obj<'_>, rc: &Obj<'_>) -> Result<Receipt, MapError> {
    let common = Some(common(tx, rc)?);
    let kind = tx.str("type").unwrap_or("");
    let r#type = match kind {
        "DECLARE" => Type::Declare(Declare { common }),
        "DEPLOY" => Type::DeprecatedDeploy(Deploy {
            common,
            contract_address: Some(felt252(&tx.felt("contract_address")?)),
        }),
        "DEPLOY_ACCOUNT" => Type::DeployAccount(DeployAccount {
            common,
            contract_address: Some(felt252(&tx.felt("contract_address")?)),
        }),
        "L1_HANDLER" => Type::L1Handler(L1Handler {
            common,
            msg_hash: Some(Hash256 {
                elements: l1_message_hash(tx)?.to_vec(),
            }),
        }),
        _ => Type::Invoke(Invoke { common }),
    };
    Ok(Receipt {
        r#type: Some(r#type),
    })
}

fn common(tx: &Obj<'_>, rc: &Obj<'_>) -> Result<Common, MapError> {
    let unit = match version(tx)? {
        3 => PriceUnit::Fri,
        _ => PriceUnit::Wei,
    };
    let reverted = rc.str("execution_status") == Some("REVERTED");
    let revert_reason = reverted.then(|| rc.str("revert_error").unwrap_or("").to_string());
    Ok(Common {
        actual_fee: Some(felt252(&rc.felt_or_zero("actual_fee")?)),
        price_unit: unit as i32,
        messages_sent: messages(rc)?,
        execution_resources: Some(resources(rc)?),
        revert_reason,
    })
}

fn messages(rc: &Obj<'_>) -> Result<Vec<MessageToL1>, MapError> {
    let Some(list) = rc.get("l2_to_l1_messages").and_then(|v| v.as_array()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let path = format!("{}.l2_to_l1_messages[{i}]", rc.path);
        let m = Obj::new(m, &path)?;
        let to = m.felt("to_address")?.to_bytes_be();
        out.push(MessageToL1 {
            from_address: Some(felt252(&m.felt("from_address")?)),
            payload: m.felts("payload")?,
            // The spec types it as a 20-byte Ethereum address (Pathfinder does the same).
            to_address: Some(EthereumAddress {
                elements: to[12..].to_vec(),
            }),
        });
    }
    Ok(out)
}

fn resources(rc: &Obj<'_>) -> Result<ExecutionResources, MapError> {
    let path = format!("{}.execution_resources", rc.path);
    let empty = serde_json::Value::Object(Default::default());
    let er = match rc.obj("execution_resources", &path)? {
        Some(er) => er,
        None => Obj::new(&empty, &path)?,
    };
    let gas = |key: &str, which: &str| -> Result<Felt, MapError> {
        let sub = format!("{path}.{key}");
        match er.obj(key, &sub)? {
            Some(o) => Ok(Felt::from(o.u64_or_zero(which)?)),
            None => Ok(Felt::ZERO),
        }
    };
    Ok(ExecutionResources {
        builtins: Some(builtins(&er)?),
        steps: small(er.u64_or_zero("n_steps")?, &path)?,
        memory_holes: small(er.u64_or_zero("n_memory_holes")?, &path)?,
        l1_gas: Some(felt252(&gas("data_availability", "l1_gas")?)),
        l1_data_gas: Some(felt252(&gas("data_availability", "l1_data_gas")?)),
        l2_gas: Some(felt252(&gas("total_gas_consumed", "l2_gas")?)),
        total_l1_gas: Some(felt252(&gas("total_gas_consumed", "l1_gas")?)),
    })
}

fn builtins(er: &Obj<'_>) -> Result<BuiltinCounter, MapError> {
    let path = format!("{}.builtin_instance_counter", er.path);
    let Some(b) = er.obj("builtin_instance_counter", &path)? else {
        return Ok(BuiltinCounter::default());
    };
    let n = |name: &str| -> Result<u32, MapError> { small(b.u64_or_zero(name)?, &path) };
    Ok(BuiltinCounter {
        bitwise: n("bitwise_builtin")?,
        ecdsa: n("ecdsa_builtin")?,
        ec_op: n("ec_op_builtin")?,
        pedersen: n("pedersen_builtin")?,
        range_check: n("range_check_builtin")?,
        poseidon: n("poseidon_builtin")?,
        keccak: n("keccak_builtin")?,
        output: n("output_builtin")?,
        add_mod: n("add_mod_builtin")?,
        mul_mod: n("mul_mod_builtin")?,
        range_check96: n("range_check96_builtin")?,
    })
}

/// A counter the wire carries as `uint32`.
fn small(n: u64, path: &str) -> Result<u32, MapError> {
    u32::try_from(n).map_err(|_| MapError::field(path, format!("{n} does not fit in 32 bits")))
}

/// The L1→L2 message hash of an L1 handler: Keccak-256 of the L1 sender (`calldata[0]`), the
/// contract, the nonce, the selector, the payload length and the payload, 32 bytes each.
fn l1_message_hash(tx: &Obj<'_>) -> Result<[u8; 32], MapError> {
    let calldata = tx.felts("calldata")?;
    let Some((from, payload)) = calldata.split_first() else {
        return Err(MapError::field(format!("{}.calldata", tx.path), "empty"));
    };
    let mut k = Keccak256::new();
    k.update(&from.elements);
    k.update(tx.felt("contract_address")?.to_bytes_be());
    k.update(tx.felt_or_zero("nonce")?.to_bytes_be());
    k.update(tx.felt("entry_point_selector")?.to_bytes_be());
    k.update(Felt::from(payload.len() as u64).to_bytes_be());
    payload.iter().for_each(|p| k.update(&p.elements));
    Ok(k.finalize().into())
}
