//! Wire → store for receipts (sent with their transactions on the `transactions` protocol):
//! the gateway-style receipt, events apart.
//!
//! Not on the wire, so not in the stored receipt: the L1 → L2 message an L1 handler consumed
//! (only its hash travels; it is recomputed from the transaction, so not stored), the price unit (implied by the transaction
//! version) and the data-availability split of L2 gas. None of them is bound by a block
//! commitment; what the 0.13.2 receipt commitment hashes (fee, messages, revert reason, L1 gas
//! and L1 data gas) is all there.

use serde_json::{json, Map, Value};

use super::from_wire::{felt_of, hex, hex_list, req};
use super::MapError;
use crate::chain::starknet::felt_hex;
use crate::sync::starknet::proto::starknet::sync::receipt::{self as pr, receipt};

type Obj = Map<String, Value>;

fn common(kind: &receipt::Type) -> &Option<receipt::Common> {
    match kind {
        receipt::Type::Invoke(r) => &r.common,
        receipt::Type::L1Handler(r) => &r.common,
        receipt::Type::Declare(r) => &r.common,
        receipt::Type::DeprecatedDeploy(r) => &r.common,
        receipt::Type::DeployAccount(r) => &r.common,
    }
}

/// A gas amount (a felt on the wire) as the JSON number the gateway writes.
fn gas(
    field: &Option<crate::sync::starknet::proto::starknet::common::Felt252>,
    what: &str,
) -> Result<Value, MapError> {
    let Some(f) = field else {
        return Ok(json!(0));
    };
    let value = felt_of(&f.elements, what)?;
    let bytes = value.to_bytes_be();
    if bytes[..24].iter().any(|b| *b != 0) {
        return Err(MapError::invalid(what, "gas amount over u64"));
    }
    Ok(json!(u64::from_be_bytes(
        bytes[24..].try_into().expect("8 bytes")
    )))
}

fn resources(e: &receipt::ExecutionResources) -> Result<Value, MapError> {
    let mut builtins = Obj::new();
    if let Some(b) = &e.builtins {
        for (name, n) in [
            ("bitwise", b.bitwise),
            ("ecdsa", b.ecdsa),
            ("ec_op", b.ec_op),
            ("pedersen", b.pedersen),
            ("range_check", b.range_check),
            ("poseidon", b.poseidon),
            ("keccak", b.keccak),
            ("output", b.output),
            ("add_mod", b.add_mod),
            ("mul_mod", b.mul_mod),
            ("range_check96", b.range_check96),
        ] {
            if n > 0 {
                builtins.insert(format!("{name}_builtin"), json!(n));
            }
        }
    }
    let l1_data = gas(&e.l1_data_gas, "execution_resources.l1_data_gas")?;
    Ok(json!({
        "builtin_instance_counter": builtins,
        "n_steps": e.steps,
        "n_memory_holes": e.memory_holes,
        "data_availability": {
            "l1_gas": gas(&e.l1_gas, "execution_resources.l1_gas")?,
            "l1_data_gas": l1_data.clone(),
        },
        "total_gas_consumed": {
            "l1_gas": gas(&e.total_l1_gas, "execution_resources.total_l1_gas")?,
            "l1_data_gas": l1_data,
            "l2_gas": gas(&e.l2_gas, "execution_resources.l2_gas")?,
        },
    }))
}

fn message(m: &pr::MessageToL1) -> Result<Value, MapError> {
    let to = req(&m.to_address, "message.to_address")?;
    Ok(json!({
        "from_address": hex(&m.from_address, "message.from_address")?,
        "to_address": felt_hex(&felt_of(&to.elements, "message.to_address")?),
        "payload": hex_list(&m.payload, "message.payload")?,
    }))
}

/// The stored receipt of the `index`-th transaction of a block, whose hash is `hash`.
pub fn receipt_json(kind: &receipt::Type, hash: Value, index: u64) -> Result<Value, MapError> {
    let c = req(common(kind), "receipt.common")?;
    let messages = c
        .messages_sent
        .iter()
        .map(message)
        .collect::<Result<Vec<_>, _>>()?;
    let mut o = Obj::new();
    o.insert("transaction_hash".into(), hash);
    o.insert("transaction_index".into(), json!(index));
    o.insert(
        "actual_fee".into(),
        hex(&c.actual_fee, "receipt.actual_fee")?,
    );
    o.insert("l2_to_l1_messages".into(), Value::Array(messages));
    let used = req(&c.execution_resources, "receipt.execution_resources")?;
    o.insert("execution_resources".into(), resources(used)?);
    let status = match &c.revert_reason {
        None => "SUCCEEDED",
        Some(reason) => {
            o.insert("revert_error".into(), json!(reason));
            "REVERTED"
        }
    };
    o.insert("execution_status".into(), json!(status));
    if let receipt::Type::L1Handler(l) = kind {
        // required on the wire, but not stored: it is the hash of the L1 message the
        // transaction itself carries (the server recomputes it), and a stored receipt holds
        // only the keys a gateway receipt has (`known_keys`)
        req(&l.msg_hash, "receipt.msg_hash")?;
    }
    Ok(Value::Object(o))
}
