//! A test encoder from Wharf's stored Starknet parts to the Starknet sync messages, written from
//! `proto/starknet/` and the specs alone (not the production mapping), so the client's
//! wire → store mapping is checked against an independent encoder.

use std::io::Write;

use base64::Engine;
use serde_json::Value;
use wharf::chain::classes::decode_bundle;
use wharf::chain::starknet::StarknetAdapter;
use wharf::chain::{Block, ChainAdapter};
use wharf::sync::starknet::proto::starknet::class::{self as pcl, class::Class as ClassKind};
use wharf::sync::starknet::proto::starknet::common as pc;
use wharf::sync::starknet::proto::starknet::sync::{
    common::StateDiffCommitment, event::Event, header::SignedBlockHeader, receipt as pr, state,
    transaction as pt,
};
use wharf::sync::starknet::proto::starknet::transaction as ptx;

use pt::transaction_in_block::{self as tib, Txn};
use state::state_diffs_response::StateDiffMessage;

fn bytes_of(hex: &str) -> Vec<u8> {
    let f = starknet_crypto::Felt::from_hex(hex).unwrap_or_else(|_| panic!("felt {hex}"));
    let b = f.to_bytes_be();
    let first = b.iter().position(|x| *x != 0).unwrap_or(31);
    b[first..].to_vec()
}

fn f(v: &Value) -> Option<pc::Felt252> {
    Some(pc::Felt252 {
        elements: bytes_of(v.as_str().unwrap_or("0x0")),
    })
}
fn h(v: &Value) -> Option<pc::Hash> {
    Some(pc::Hash {
        elements: bytes_of(v.as_str().unwrap_or("0x0")),
    })
}
fn a(v: &Value) -> Option<pc::Address> {
    Some(pc::Address {
        elements: bytes_of(v.as_str().unwrap_or("0x0")),
    })
}
fn fl(v: &Value) -> Vec<pc::Felt252> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|x| f(x).unwrap())
        .collect()
}
fn sig(v: &Value) -> Option<ptx::AccountSignature> {
    Some(ptx::AccountSignature { parts: fl(v) })
}
fn u128_of(v: &Value) -> Option<pc::Uint128> {
    let n = u128::from_str_radix(v.as_str().unwrap_or("0x0").trim_start_matches("0x"), 16).unwrap();
    Some(pc::Uint128 {
        low: n as u64,
        high: (n >> 64) as u64,
    })
}
fn u64_of(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().unwrap(),
        Value::String(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap(),
        _ => 0,
    }
}

/// The `SignedBlockHeader` of a stored block.
pub fn header(adapter: &StarknetAdapter, block: &Block) -> SignedBlockHeader {
    let hash = adapter.block_hash(&block.header);
    let json: Value = serde_json::from_slice(&adapter.encode_header(&block.header)).unwrap();
    let price = |k: &str, unit: &str| u128_of(&json[k][unit]);
    let diff_root = json
        .get("state_diff_commitment")
        .or(json.get("signed_state_diff_commitment"))
        .cloned()
        .unwrap_or(Value::Null);
    let signatures = match json["signature"].as_array() {
        Some(rs) => vec![pc::ConsensusSignature {
            r: f(&rs[0]),
            s: f(&rs[1]),
        }],
        None => vec![],
    };
    SignedBlockHeader {
        block_hash: Some(pc::Hash {
            elements: hash.0.to_vec(),
        }),
        parent_hash: h(&json["parent_block_hash"]),
        number: block.header.number,
        time: json["timestamp"].as_u64().unwrap(),
        sequencer_address: a(&json["sequencer_address"]),
        state_root: h(&json["state_root"]),
        state_diff_commitment: Some(StateDiffCommitment {
            state_diff_length: json["state_diff_length"].as_u64().unwrap(),
            root: h(&diff_root),
        }),
        transactions: Some(pc::Patricia {
            n_leaves: json["transaction_count"].as_u64().unwrap(),
            root: h(&json["transaction_commitment"]),
        }),
        events: Some(pc::Patricia {
            n_leaves: json["event_count"].as_u64().unwrap(),
            root: h(&json["event_commitment"]),
        }),
        receipts: h(json.get("receipt_commitment").unwrap_or(&Value::Null)),
        protocol_version: json["starknet_version"].as_str().unwrap_or("").into(),
        l1_gas_price_fri: price("l1_gas_price", "price_in_fri"),
        l1_gas_price_wei: price("l1_gas_price", "price_in_wei"),
        l1_data_gas_price_fri: price("l1_data_gas_price", "price_in_fri"),
        l1_data_gas_price_wei: price("l1_data_gas_price", "price_in_wei"),
        l2_gas_price_fri: price("l2_gas_price", "price_in_fri"),
        l2_gas_price_wei: price("l2_gas_price", "price_in_wei"),
        l1_data_availability_mode: (json["l1_da_mode"] == "BLOB") as i32,
        signatures,
    }
}

fn bounds(t: &Value) -> Option<ptx::ResourceBounds> {
    let rb = &t["resource_bounds"];
    let limit = |k: &str| {
        rb.get(k)
            .filter(|v| !v.is_null())
            .map(|b| ptx::ResourceLimits {
                max_amount: f(&b["max_amount"]),
                max_price_per_unit: f(&b["max_price_per_unit"]),
            })
    };
    Some(ptx::ResourceBounds {
        l1_gas: limit("L1_GAS"),
        l1_data_gas: limit("L1_DATA_GAS"),
        l2_gas: limit("L2_GAS"),
    })
}

fn da(v: &Value) -> i32 {
    (v == "L2" || v == 1) as i32
}

fn txn(t: &Value) -> Txn {
    let v = u64_of(&t["version"]);
    match (t["type"].as_str().unwrap(), v) {
        ("DECLARE", 0) => Txn::DeclareV0(tib::DeclareV0WithoutClass {
            sender: a(&t["sender_address"]),
            max_fee: f(&t["max_fee"]),
            signature: sig(&t["signature"]),
            class_hash: h(&t["class_hash"]),
        }),
        ("DECLARE", 1) => Txn::DeclareV1(tib::DeclareV1WithoutClass {
            sender: a(&t["sender_address"]),
            max_fee: f(&t["max_fee"]),
            signature: sig(&t["signature"]),
            class_hash: h(&t["class_hash"]),
            nonce: f(&t["nonce"]),
        }),
        ("DECLARE", 2) => Txn::DeclareV2(tib::DeclareV2WithoutClass {
            sender: a(&t["sender_address"]),
            max_fee: f(&t["max_fee"]),
            signature: sig(&t["signature"]),
            class_hash: h(&t["class_hash"]),
            nonce: f(&t["nonce"]),
            compiled_class_hash: h(&t["compiled_class_hash"]),
        }),
        ("DECLARE", 3) => Txn::DeclareV3(tib::DeclareV3WithoutClass {
            common: Some(ptx::DeclareV3Common {
                sender: a(&t["sender_address"]),
                signature: sig(&t["signature"]),
                nonce: f(&t["nonce"]),
                compiled_class_hash: h(&t["compiled_class_hash"]),
                resource_bounds: bounds(t),
                tip: u64_of(&t["tip"]),
                paymaster_data: fl(&t["paymaster_data"]),
                account_deployment_data: fl(&t["account_deployment_data"]),
                nonce_data_availability_mode: da(&t["nonce_data_availability_mode"]),
                fee_data_availability_mode: da(&t["fee_data_availability_mode"]),
            }),
            class_hash: h(&t["class_hash"]),
        }),
        ("DEPLOY_ACCOUNT", 1) => Txn::DeployAccountV1(tib::DeployAccountV1 {
            max_fee: f(&t["max_fee"]),
            signature: sig(&t["signature"]),
            class_hash: h(&t["class_hash"]),
            nonce: f(&t["nonce"]),
            address_salt: f(&t["contract_address_salt"]),
            calldata: fl(&t["constructor_calldata"]),
        }),
        ("INVOKE_FUNCTION", 0) => Txn::InvokeV0(tib::InvokeV0 {
            max_fee: f(&t["max_fee"]),
            signature: sig(&t["signature"]),
            address: a(&t["contract_address"]),
            entry_point_selector: f(&t["entry_point_selector"]),
            calldata: fl(&t["calldata"]),
        }),
        ("INVOKE_FUNCTION", 1) => Txn::InvokeV1(tib::InvokeV1 {
            sender: a(&t["sender_address"]),
            max_fee: f(&t["max_fee"]),
            signature: sig(&t["signature"]),
            calldata: fl(&t["calldata"]),
            nonce: f(&t["nonce"]),
        }),
        ("INVOKE_FUNCTION", 3) => Txn::InvokeV3(ptx::InvokeV3 {
            sender: a(&t["sender_address"]),
            signature: sig(&t["signature"]),
            calldata: fl(&t["calldata"]),
            resource_bounds: bounds(t),
            tip: u64_of(&t["tip"]),
            paymaster_data: fl(&t["paymaster_data"]),
            account_deployment_data: fl(&t["account_deployment_data"]),
            nonce_data_availability_mode: da(&t["nonce_data_availability_mode"]),
            fee_data_availability_mode: da(&t["fee_data_availability_mode"]),
            nonce: f(&t["nonce"]),
            proof_facts: vec![],
        }),
        ("L1_HANDLER", _) => Txn::L1Handler(ptx::L1HandlerV0 {
            nonce: f(&t["nonce"]),
            address: a(&t["contract_address"]),
            entry_point_selector: f(&t["entry_point_selector"]),
            calldata: fl(&t["calldata"]),
        }),
        (kind, v) => panic!("no fixture has {kind} v{v}"),
    }
}

fn receipt(t: &Value, r: &Value) -> pr::Receipt {
    use pr::receipt::{self as rc, Type};
    let res = &r["execution_resources"];
    let b = &res["builtin_instance_counter"];
    let n = |k: &str| b[format!("{k}_builtin")].as_u64().unwrap_or(0) as u32;
    let gas = |v: &Value| f(&Value::String(format!("{:#x}", v.as_u64().unwrap_or(0))));
    let common = Some(rc::Common {
        actual_fee: f(&r["actual_fee"]),
        price_unit: 0,
        messages_sent: r["l2_to_l1_messages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| pr::MessageToL1 {
                from_address: f(&m["from_address"]),
                payload: fl(&m["payload"]),
                to_address: Some(pr::EthereumAddress {
                    elements: bytes_of(m["to_address"].as_str().unwrap()),
                }),
            })
            .collect(),
        execution_resources: Some(rc::ExecutionResources {
            builtins: Some(rc::execution_resources::BuiltinCounter {
                bitwise: n("bitwise"),
                ecdsa: n("ecdsa"),
                ec_op: n("ec_op"),
                pedersen: n("pedersen"),
                range_check: n("range_check"),
                poseidon: n("poseidon"),
                keccak: n("keccak"),
                output: n("output"),
                add_mod: n("add_mod"),
                mul_mod: n("mul_mod"),
                range_check96: n("range_check96"),
            }),
            steps: res["n_steps"].as_u64().unwrap_or(0) as u32,
            memory_holes: res["n_memory_holes"].as_u64().unwrap_or(0) as u32,
            l1_gas: gas(&res["data_availability"]["l1_gas"]),
            l1_data_gas: gas(&res["total_gas_consumed"]["l1_data_gas"]),
            l2_gas: gas(&res["total_gas_consumed"]["l2_gas"]),
            total_l1_gas: gas(&res["total_gas_consumed"]["l1_gas"]),
        }),
        revert_reason: (r["execution_status"] == "REVERTED")
            .then(|| r["revert_error"].as_str().unwrap_or("").to_string()),
    });
    let kind = match t["type"].as_str().unwrap() {
        "DECLARE" => Type::Declare(rc::Declare { common }),
        "DEPLOY_ACCOUNT" => Type::DeployAccount(rc::DeployAccount {
            common,
            contract_address: f(&t["contract_address"]),
        }),
        "DEPLOY" => Type::DeprecatedDeploy(rc::Deploy {
            common,
            contract_address: f(&t["contract_address"]),
        }),
        "L1_HANDLER" => Type::L1Handler(rc::L1Handler {
            common,
            msg_hash: Some(pc::Hash256 {
                elements: vec![0; 32],
            }),
        }),
        _ => Type::Invoke(rc::Invoke { common }),
    };
    pr::Receipt { r#type: Some(kind) }
}

/// The `TransactionWithReceipt` messages of a stored block.
pub fn transactions(block: &Block) -> Vec<pt::TransactionWithReceipt> {
    let txs: Vec<Value> = serde_json::from_slice(&block.bodies[0]).unwrap();
    let receipts: Vec<Value> = serde_json::from_slice(&block.bodies[1]).unwrap();
    txs.iter()
        .zip(&receipts)
        .map(|(t, r)| pt::TransactionWithReceipt {
            transaction: Some(pt::TransactionInBlock {
                txn: Some(txn(t)),
                transaction_hash: h(&t["transaction_hash"]),
            }),
            receipt: Some(receipt(t, r)),
        })
        .collect()
}

/// The `Event` messages of a stored block.
pub fn events(block: &Block) -> Vec<Event> {
    let groups: Vec<Value> = serde_json::from_slice(&block.bodies[2]).unwrap();
    groups
        .iter()
        .flat_map(|g| {
            g["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| Event {
                    transaction_hash: h(&g["transaction_hash"]),
                    from_address: f(&e["from_address"]),
                    keys: fl(&e["keys"]),
                    data: fl(&e["data"]),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The state-diff messages of a stored block: one `ContractDiff` per contract, then classes.
pub fn state_diff(block: &Block) -> Vec<StateDiffMessage> {
    let d: Value = serde_json::from_slice(&block.bodies[3]).unwrap();
    let mut contracts: std::collections::BTreeMap<Vec<u8>, state::ContractDiff> =
        Default::default();
    fn slot<'m>(
        contracts: &'m mut std::collections::BTreeMap<Vec<u8>, state::ContractDiff>,
        addr: &str,
    ) -> &'m mut state::ContractDiff {
        contracts
            .entry(bytes_of(addr))
            .or_insert_with(|| state::ContractDiff {
                address: a(&Value::String(addr.into())),
                ..Default::default()
            })
    }
    for (addr, kvs) in d["storage_diffs"].as_object().into_iter().flatten() {
        let values = kvs.as_array().unwrap().iter();
        slot(&mut contracts, addr).values = values
            .map(|kv| state::ContractStoredValue {
                key: f(&kv["key"]),
                value: f(&kv["value"]),
            })
            .collect();
    }
    for (addr, nonce) in d["nonces"].as_object().into_iter().flatten() {
        slot(&mut contracts, addr).nonce = f(nonce);
    }
    let deployed = d["deployed_contracts"].as_array().into_iter().flatten();
    for dc in deployed.chain(d["replaced_classes"].as_array().into_iter().flatten()) {
        slot(&mut contracts, dc["address"].as_str().unwrap()).class_hash = h(&dc["class_hash"]);
    }
    let mut out: Vec<StateDiffMessage> = contracts
        .into_values()
        .map(StateDiffMessage::ContractDiff)
        .collect();
    for c in d["declared_classes"].as_array().into_iter().flatten() {
        out.push(StateDiffMessage::DeclaredClass(state::DeclaredClass {
            class_hash: h(&c["class_hash"]),
            compiled_class_hash: h(&c["compiled_class_hash"]),
        }));
    }
    for c in d["old_declared_contracts"].as_array().into_iter().flatten() {
        out.push(StateDiffMessage::DeclaredClass(state::DeclaredClass {
            class_hash: h(c),
            compiled_class_hash: None,
        }));
    }
    out
}

/// The raw JSON text of the top-level `key` of an object (strings and nesting respected).
fn raw_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let b = json.as_bytes();
    let (mut depth, mut i, mut in_str) = (0i32, 0usize, false);
    let needle = format!("\"{key}\"");
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                _ => {}
            }
        } else if c == b'"' {
            if depth == 1 && json[i..].starts_with(&needle) {
                let rest = json[i + needle.len()..]
                    .trim_start()
                    .strip_prefix(':')?
                    .trim_start();
                let start = json.len() - rest.len();
                return Some(&json[start..start + value_len(rest)?]);
            }
            in_str = true;
        } else if c == b'{' || c == b'[' {
            depth += 1;
        } else if c == b'}' || c == b']' {
            depth -= 1;
        }
        i += 1;
    }
    None
}

fn value_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let (mut depth, mut in_str, mut i) = (0i32, false, 0usize);
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => {
                    in_str = false;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        } else {
            match c {
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                b',' if depth == 0 => return Some(i),
                _ => {}
            }
        }
        i += 1;
    }
    Some(b.len())
}

/// The `Class` messages of a stored block's class bundle.
pub fn classes(block: &Block) -> Vec<pcl::Class> {
    decode_bundle(&block.classes)
        .unwrap()
        .into_iter()
        .map(|e| {
            let text = std::str::from_utf8(&e.definition).unwrap();
            let json: Value = serde_json::from_str(text).unwrap();
            let kind = if json.get("sierra_program").is_some() {
                let ep = |k: &str| {
                    json["entry_points_by_type"][k]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|p| pcl::SierraEntryPoint {
                            index: p["function_idx"].as_u64().unwrap(),
                            selector: f(&p["selector"]),
                        })
                        .collect()
                };
                ClassKind::Cairo1(pcl::Cairo1Class {
                    abi: json["abi"].as_str().unwrap_or("").into(),
                    entry_points: Some(pcl::Cairo1EntryPoints {
                        externals: ep("EXTERNAL"),
                        l1_handlers: ep("L1_HANDLER"),
                        constructors: ep("CONSTRUCTOR"),
                    }),
                    program: fl(&json["sierra_program"]),
                    contract_class_version: json["contract_class_version"].as_str().unwrap().into(),
                })
            } else {
                let ep = |k: &str| {
                    json["entry_points_by_type"][k]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|p| pcl::EntryPoint {
                            selector: f(&p["selector"]),
                            offset: u64_of(&p["offset"]),
                        })
                        .collect()
                };
                let program = raw_field(text, "program").unwrap();
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(program.as_bytes()).unwrap();
                ClassKind::Cairo0(pcl::Cairo0Class {
                    abi: raw_field(text, "abi").unwrap_or("").into(),
                    externals: ep("EXTERNAL"),
                    l1_handlers: ep("L1_HANDLER"),
                    constructors: ep("CONSTRUCTOR"),
                    program: base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap()),
                })
            };
            pcl::Class {
                class: Some(kind),
                domain: 0,
                class_hash: Some(pc::Hash {
                    elements: e.hash.to_vec(),
                }),
            }
        })
        .collect()
}
