//! The test client's own reading of the wire messages back into the feeder gateway's JSON, so
//! Wharf's hashing (block hash, transaction hashes, commitments, class hashes) can recompute
//! what the messages claim. Written from `proto/starknet/` only, not from Wharf's mapping.

use std::io::Read as _;

use base64::Engine;
use serde_json::{json, Value};
use wharf::sync::starknet::proto::starknet::class::{class, Class};
use wharf::sync::starknet::proto::starknet::sync::receipt::receipt::{Common, Type};
use wharf::sync::starknet::proto::starknet::sync::receipt::Receipt;
use wharf::sync::starknet::proto::starknet::sync::transaction::transaction_in_block::Txn;
use wharf::sync::starknet::proto::starknet::transaction::{ResourceBounds, ResourceLimits};

use super::sn_client::{Event, SignedBlockHeader, StateDiffMessage, TransactionWithReceipt};

/// `0x` + the bytes in hex (the gateway's felts, with leading zeros).
pub fn hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn f<T: Elements>(x: &Option<T>) -> String {
    hex(x.as_ref().expect("required field set").elements())
}

fn list<T: Elements>(xs: &[T]) -> Vec<String> {
    xs.iter().map(|x| hex(x.elements())).collect()
}

/// The `elements` bytes of the felt-like messages.
pub trait Elements {
    fn elements(&self) -> &[u8];
}

macro_rules! elements {
    ($($t:ty),*) => {$(impl Elements for $t { fn elements(&self) -> &[u8] { &self.elements } })*};
}
use wharf::sync::starknet::proto::starknet::common::{Address, Felt252, Hash, Hash256};
use wharf::sync::starknet::proto::starknet::sync::receipt::EthereumAddress;
elements!(Address, Felt252, Hash, Hash256, EthereumAddress);

fn u128_hex(u: &Option<wharf::sync::starknet::proto::starknet::common::Uint128>) -> String {
    let u = u.as_ref().expect("gas price set");
    format!("{:#x}", (u128::from(u.high) << 64) | u128::from(u.low))
}

/// The header as Wharf's Starknet header JSON (commitments only where the version has them).
pub fn header_json(h: &SignedBlockHeader, poseidon: bool) -> Value {
    let sdc = h.state_diff_commitment.as_ref().expect("set");
    let price = |fri, wei| json!({"price_in_fri": u128_hex(fri), "price_in_wei": u128_hex(wei)});
    let mut v = json!({
        "block_number": h.number,
        "parent_block_hash": f(&h.parent_hash),
        "timestamp": h.time,
        "sequencer_address": f(&h.sequencer_address),
        "state_root": f(&h.state_root),
        "state_diff_length": sdc.state_diff_length,
        "transaction_commitment": f(&h.transactions.as_ref().unwrap().root),
        "transaction_count": h.transactions.as_ref().unwrap().n_leaves,
        "event_commitment": f(&h.events.as_ref().unwrap().root),
        "event_count": h.events.as_ref().unwrap().n_leaves,
        "l1_da_mode": if h.l1_data_availability_mode == 1 { "BLOB" } else { "CALLDATA" },
        "l1_gas_price": price(&h.l1_gas_price_fri, &h.l1_gas_price_wei),
        "l1_data_gas_price": price(&h.l1_data_gas_price_fri, &h.l1_data_gas_price_wei),
        "l2_gas_price": price(&h.l2_gas_price_fri, &h.l2_gas_price_wei),
    });
    if !h.protocol_version.is_empty() {
        v["starknet_version"] = json!(h.protocol_version);
    }
    if poseidon {
        v["state_diff_commitment"] = json!(f(&sdc.root));
        v["receipt_commitment"] = json!(f(&h.receipts));
    }
    if let Some(sig) = h.signatures.first() {
        v["signature"] = json!([f(&sig.r), f(&sig.s)]);
    }
    v
}

fn bounds(b: &Option<ResourceBounds>) -> Value {
    let b = b.as_ref().expect("resource bounds set");
    let one = |l: &ResourceLimits| json!({"max_amount": f(&l.max_amount), "max_price_per_unit": f(&l.max_price_per_unit)});
    let mut v = json!({"L1_GAS": one(b.l1_gas.as_ref().unwrap()), "L2_GAS": one(b.l2_gas.as_ref().unwrap())});
    if let Some(d) = &b.l1_data_gas {
        v["L1_DATA_GAS"] = one(d);
    }
    v
}

fn da(mode: i32) -> &'static str {
    if mode == 1 {
        "L2"
    } else {
        "L1"
    }
}

/// The receipt's contract address (DEPLOY and DEPLOY_ACCOUNT carry it there, not in the
/// transaction).
fn deployed_address(r: &Receipt) -> Option<String> {
    match r.r#type.as_ref()? {
        Type::DeprecatedDeploy(d) => Some(f(&d.contract_address)),
        Type::DeployAccount(d) => Some(f(&d.contract_address)),
        _ => None,
    }
}

/// The transaction as the gateway writes it.
pub fn tx_json(t: &TransactionWithReceipt) -> Value {
    let tib = t.transaction.as_ref().expect("set");
    let receipt = t.receipt.as_ref().expect("set");
    let hash = f(&tib.transaction_hash);
    let mut v = match tib.txn.as_ref().expect("set") {
        Txn::DeclareV0(x) => {
            json!({"type": "DECLARE", "version": "0x0", "sender_address": f(&x.sender), "max_fee": f(&x.max_fee), "signature": list(&x.signature.as_ref().unwrap().parts), "class_hash": f(&x.class_hash)})
        }
        Txn::DeclareV1(x) => {
            json!({"type": "DECLARE", "version": "0x1", "sender_address": f(&x.sender), "max_fee": f(&x.max_fee), "signature": list(&x.signature.as_ref().unwrap().parts), "class_hash": f(&x.class_hash), "nonce": f(&x.nonce)})
        }
        Txn::DeclareV2(x) => {
            json!({"type": "DECLARE", "version": "0x2", "sender_address": f(&x.sender), "max_fee": f(&x.max_fee), "signature": list(&x.signature.as_ref().unwrap().parts), "class_hash": f(&x.class_hash), "nonce": f(&x.nonce), "compiled_class_hash": f(&x.compiled_class_hash)})
        }
        Txn::DeclareV3(x) => {
            let c = x.common.as_ref().unwrap();
            json!({"type": "DECLARE", "version": "0x3", "sender_address": f(&c.sender), "signature": list(&c.signature.as_ref().unwrap().parts), "nonce": f(&c.nonce), "compiled_class_hash": f(&c.compiled_class_hash), "class_hash": f(&x.class_hash), "resource_bounds": bounds(&c.resource_bounds), "tip": format!("{:#x}", c.tip), "paymaster_data": list(&c.paymaster_data), "account_deployment_data": list(&c.account_deployment_data), "nonce_data_availability_mode": da(c.nonce_data_availability_mode), "fee_data_availability_mode": da(c.fee_data_availability_mode)})
        }
        Txn::Deploy(x) => {
            json!({"type": "DEPLOY", "version": format!("{:#x}", x.version), "class_hash": f(&x.class_hash), "contract_address_salt": f(&x.address_salt), "constructor_calldata": list(&x.calldata)})
        }
        Txn::DeployAccountV1(x) => {
            json!({"type": "DEPLOY_ACCOUNT", "version": "0x1", "max_fee": f(&x.max_fee), "signature": list(&x.signature.as_ref().unwrap().parts), "class_hash": f(&x.class_hash), "nonce": f(&x.nonce), "contract_address_salt": f(&x.address_salt), "constructor_calldata": list(&x.calldata)})
        }
        Txn::DeployAccountV3(x) => {
            json!({"type": "DEPLOY_ACCOUNT", "version": "0x3", "signature": list(&x.signature.as_ref().unwrap().parts), "class_hash": f(&x.class_hash), "nonce": f(&x.nonce), "contract_address_salt": f(&x.address_salt), "constructor_calldata": list(&x.calldata), "resource_bounds": bounds(&x.resource_bounds), "tip": format!("{:#x}", x.tip), "paymaster_data": list(&x.paymaster_data), "nonce_data_availability_mode": da(x.nonce_data_availability_mode), "fee_data_availability_mode": da(x.fee_data_availability_mode)})
        }
        Txn::InvokeV0(x) => {
            json!({"type": "INVOKE_FUNCTION", "version": "0x0", "max_fee": f(&x.max_fee), "signature": list(&x.signature.as_ref().unwrap().parts), "contract_address": f(&x.address), "entry_point_selector": f(&x.entry_point_selector), "calldata": list(&x.calldata)})
        }
        Txn::InvokeV1(x) => {
            json!({"type": "INVOKE_FUNCTION", "version": "0x1", "sender_address": f(&x.sender), "max_fee": f(&x.max_fee), "signature": list(&x.signature.as_ref().unwrap().parts), "calldata": list(&x.calldata), "nonce": f(&x.nonce)})
        }
        Txn::InvokeV3(x) => {
            json!({"type": "INVOKE_FUNCTION", "version": "0x3", "sender_address": f(&x.sender), "signature": list(&x.signature.as_ref().unwrap().parts), "calldata": list(&x.calldata), "resource_bounds": bounds(&x.resource_bounds), "tip": format!("{:#x}", x.tip), "paymaster_data": list(&x.paymaster_data), "account_deployment_data": list(&x.account_deployment_data), "nonce_data_availability_mode": da(x.nonce_data_availability_mode), "fee_data_availability_mode": da(x.fee_data_availability_mode), "nonce": f(&x.nonce)})
        }
        Txn::L1Handler(x) => {
            json!({"type": "L1_HANDLER", "version": "0x0", "nonce": f(&x.nonce), "contract_address": f(&x.address), "entry_point_selector": f(&x.entry_point_selector), "calldata": list(&x.calldata)})
        }
    };
    v["transaction_hash"] = json!(hash);
    if let Some(address) = deployed_address(receipt) {
        v["contract_address"] = json!(address);
    }
    v
}

fn common(r: &Receipt) -> &Common {
    let c = match r.r#type.as_ref().expect("set") {
        Type::Invoke(x) => &x.common,
        Type::L1Handler(x) => &x.common,
        Type::Declare(x) => &x.common,
        Type::DeprecatedDeploy(x) => &x.common,
        Type::DeployAccount(x) => &x.common,
    };
    c.as_ref().expect("common set")
}

/// The receipt as the gateway writes it (what the receipt commitment reads). The wire has no
/// total L1 data gas: the data-availability one stands in (they are equal in every block).
pub fn receipt_json(t: &TransactionWithReceipt, index: usize) -> Value {
    let c = common(t.receipt.as_ref().unwrap());
    let er = c.execution_resources.as_ref().expect("set");
    let gas = |g: &Option<Felt252>| u64::from_str_radix(f(g).trim_start_matches("0x"), 16).unwrap();
    let messages: Vec<Value> = c.messages_sent.iter().map(|m| json!({"from_address": f(&m.from_address), "to_address": f(&m.to_address), "payload": list(&m.payload)})).collect();
    let mut v = json!({
        "transaction_hash": f(&t.transaction.as_ref().unwrap().transaction_hash),
        "transaction_index": index,
        "actual_fee": f(&c.actual_fee),
        "l2_to_l1_messages": messages,
        "execution_status": if c.revert_reason.is_some() { "REVERTED" } else { "SUCCEEDED" },
        "execution_resources": {"total_gas_consumed": {"l1_gas": gas(&er.total_l1_gas), "l1_data_gas": gas(&er.l1_data_gas)}},
    });
    if let Some(reason) = &c.revert_reason {
        v["revert_error"] = json!(reason);
    }
    v
}

/// The events component: one entry per transaction, its events in order.
pub fn events_json(events: &[Event], tx_hashes: &[String]) -> Value {
    let groups: Vec<Value> = tx_hashes
        .iter()
        .map(|h| {
            let mine: Vec<Value> = events
                .iter()
                .filter(|e| &f(&e.transaction_hash) == h)
                .map(|e| json!({"from_address": f(&e.from_address), "keys": list(&e.keys), "data": list(&e.data)}))
                .collect();
            json!({"transaction_hash": h, "events": mine})
        })
        .collect();
    json!(groups)
}

/// The state diff as `get_state_update` writes it; also the declared class hashes.
pub fn state_diff_json(msgs: &[StateDiffMessage]) -> (Value, Vec<String>) {
    let (mut storage, mut nonces, mut deployed) = (json!({}), json!({}), vec![]);
    let (mut declared, mut old, mut hashes) = (vec![], vec![], vec![]);
    for m in msgs {
        match m {
            StateDiffMessage::ContractDiff(c) => {
                let at = f(&c.address);
                if !c.values.is_empty() {
                    let kv: Vec<Value> = c
                        .values
                        .iter()
                        .map(|s| json!({"key": f(&s.key), "value": f(&s.value)}))
                        .collect();
                    storage[&at] = json!(kv);
                }
                if let Some(n) = &c.nonce {
                    nonces[&at] = json!(hex(&n.elements));
                }
                if let Some(class) = &c.class_hash {
                    deployed.push(json!({"address": at, "class_hash": hex(&class.elements)}));
                }
            }
            StateDiffMessage::DeclaredClass(d) => {
                let class = f(&d.class_hash);
                hashes.push(class.clone());
                match &d.compiled_class_hash {
                    Some(c) => declared.push(
                        json!({"class_hash": class, "compiled_class_hash": hex(&c.elements)}),
                    ),
                    None => old.push(json!(class)),
                }
            }
            StateDiffMessage::Fin(_) => unreachable!("the client strips Fin"),
        }
    }
    // A deployment and a class replacement are the same on the wire and in both commitments.
    let diff = json!({"storage_diffs": storage, "nonces": nonces, "deployed_contracts": deployed,
        "old_declared_contracts": old, "declared_classes": declared, "replaced_classes": []});
    (diff, hashes)
}

/// Inflates a gzip member of stored deflate blocks (what the server writes; a real client
/// uses a full inflater, which reads these too), checking lengths and the size trailer.
fn gunzip_stored(gz: &[u8]) -> Vec<u8> {
    assert_eq!(&gz[..3], &[0x1f, 0x8b, 8], "gzip magic and deflate");
    assert_eq!(gz[3], 0, "no optional gzip fields");
    let (mut at, mut out) = (10, Vec::new());
    loop {
        let header = gz[at];
        assert_eq!(header & 6, 0, "stored block");
        let len = u16::from_le_bytes([gz[at + 1], gz[at + 2]]);
        let nlen = u16::from_le_bytes([gz[at + 3], gz[at + 4]]);
        assert_eq!(len, !nlen, "LEN and NLEN agree");
        out.extend_from_slice(&gz[at + 5..at + 5 + len as usize]);
        at += 5 + len as usize;
        if header & 1 == 1 {
            break;
        }
    }
    let size = u32::from_le_bytes(gz[at + 4..at + 8].try_into().unwrap());
    assert_eq!(size as usize, out.len(), "ISIZE");
    let mut copy = Vec::new();
    out.as_slice().read_to_end(&mut copy).unwrap();
    copy
}

/// The class as `get_class_by_hash` writes it, and its class hash (hex).
pub fn class_json(c: &Class) -> (Vec<u8>, String) {
    let hash = f(&c.class_hash);
    let text = match c.class.as_ref().expect("set") {
        class::Class::Cairo0(x) => {
            let eps = |l: &[wharf::sync::starknet::proto::starknet::class::EntryPoint]| -> Value {
                json!(l
                    .iter()
                    .map(|e| json!({"selector": f(&e.selector), "offset": e.offset}))
                    .collect::<Vec<_>>())
            };
            let program = base64::engine::general_purpose::STANDARD
                .decode(&x.program)
                .unwrap();
            let program = String::from_utf8(gunzip_stored(&program)).unwrap();
            let eps = json!({"CONSTRUCTOR": eps(&x.constructors), "EXTERNAL": eps(&x.externals), "L1_HANDLER": eps(&x.l1_handlers)});
            format!(
                r#"{{"abi": {}, "entry_points_by_type": {eps}, "program": {program}}}"#,
                x.abi
            )
        }
        class::Class::Cairo1(x) => {
            let e = x.entry_points.as_ref().unwrap();
            let eps =
                |l: &[wharf::sync::starknet::proto::starknet::class::SierraEntryPoint]| -> Value {
                    json!(l
                        .iter()
                        .map(|p| json!({"selector": f(&p.selector), "function_idx": p.index}))
                        .collect::<Vec<_>>())
                };
            json!({"abi": x.abi, "contract_class_version": x.contract_class_version, "sierra_program": list(&x.program),
                "entry_points_by_type": {"CONSTRUCTOR": eps(&e.constructors), "EXTERNAL": eps(&e.externals), "L1_HANDLER": eps(&e.l1_handlers)}})
            .to_string()
        }
    };
    (text.into_bytes(), hash)
}
