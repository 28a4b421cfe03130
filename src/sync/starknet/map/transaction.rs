//! `TransactionWithReceipt` for every transaction kind and version in Starknet's history, from
//! the stored `transactions` and `receipts` components (gateway JSON).

use serde_json::Value;

use super::json::{address, felt252, hash, parse, Obj};
use super::receipt::receipt_to_wire;
use super::MapError;
use crate::chain::starknet::Felt;
use crate::sync::starknet::proto::starknet::common::VolitionDomain;
use crate::sync::starknet::proto::starknet::sync::transaction::transaction_in_block::{
    DeclareV0WithoutClass, DeclareV1WithoutClass, DeclareV2WithoutClass, DeclareV3WithoutClass,
    Deploy, DeployAccountV1, InvokeV0, InvokeV1, Txn,
};
use crate::sync::starknet::proto::starknet::sync::transaction::{
    TransactionInBlock, TransactionWithReceipt,
};
use crate::sync::starknet::proto::starknet::transaction::{
    AccountSignature, DeclareV3Common, DeployAccountV3, InvokeV3, L1HandlerV0, ResourceBounds,
    ResourceLimits,
};

/// One message per transaction, in block order, each with its receipt.
pub fn transactions_to_wire(
    transactions: &[u8],
    receipts: &[u8],
) -> Result<Vec<TransactionWithReceipt>, MapError> {
    let txs = parse("transactions", transactions)?;
    let rcs = parse("receipts", receipts)?;
    let (Some(txs), Some(rcs)) = (txs.as_array(), rcs.as_array()) else {
        return Err(MapError::field("transactions", "not a list"));
    };
    if txs.len() != rcs.len() {
        let reason = format!("{} receipts for {} transactions", rcs.len(), txs.len());
        return Err(MapError::field("receipts", reason));
    }
    txs.iter()
        .zip(rcs)
        .enumerate()
        .map(|(i, (tx, rc))| {
            let path = format!("transactions[{i}]");
            let tx = Obj::new(tx, &path)?;
            let txn = txn(&tx)?;
            let rpath = format!("receipts[{i}]");
            let receipt = receipt_to_wire(&tx, &Obj::new(rc, &rpath)?)?;
            Ok(TransactionWithReceipt {
                transaction: Some(TransactionInBlock {
                    txn: Some(txn),
                    transaction_hash: Some(hash(&tx.felt("transaction_hash")?)),
                }),
                receipt: Some(receipt),
            })
        })
        .collect()
}

/// The transaction's version as a small number (query versions, 2^128 + v, are refused).
pub fn version(tx: &Obj<'_>) -> Result<u64, MapError> {
    tx.u64_or_zero("version")
}

fn txn(tx: &Obj<'_>) -> Result<Txn, MapError> {
    let kind = tx.str("type").unwrap_or("");
    let v = version(tx)?;
    let mapped = match kind {
        "DECLARE" => declare(tx, v)?,
        "DEPLOY" | "DEPLOY_ACCOUNT" => deploy(tx, kind, v)?,
        "INVOKE_FUNCTION" | "INVOKE" => invoke(tx, v)?,
        "L1_HANDLER" if v == 0 => Some(Txn::L1Handler(L1HandlerV0 {
            nonce: Some(felt252(&tx.felt_or_zero("nonce")?)),
            address: Some(address(&tx.felt("contract_address")?)),
            entry_point_selector: Some(felt252(&tx.felt("entry_point_selector")?)),
            calldata: tx.felts("calldata")?,
        })),
        _ => None,
    };
    mapped.ok_or_else(|| {
        let reason = format!("no wire form for {kind:?} version {v}");
        MapError::field(format!("{}.type", tx.path), reason)
    })
}

fn declare(tx: &Obj<'_>, v: u64) -> Result<Option<Txn>, MapError> {
    let sender = || -> Result<_, MapError> { Ok(Some(address(&tx.felt("sender_address")?))) };
    let class_hash = || -> Result<_, MapError> { Ok(Some(hash(&tx.felt("class_hash")?))) };
    Ok(Some(match v {
        0 => Txn::DeclareV0(DeclareV0WithoutClass {
            sender: sender()?,
            max_fee: Some(felt252(&tx.felt_or_zero("max_fee")?)),
            signature: Some(signature(tx)?),
            class_hash: class_hash()?,
        }),
        1 => Txn::DeclareV1(DeclareV1WithoutClass {
            sender: sender()?,
            max_fee: Some(felt252(&tx.felt("max_fee")?)),
            signature: Some(signature(tx)?),
            class_hash: class_hash()?,
            nonce: Some(felt252(&tx.felt("nonce")?)),
        }),
        2 => Txn::DeclareV2(DeclareV2WithoutClass {
            sender: sender()?,
            max_fee: Some(felt252(&tx.felt("max_fee")?)),
            signature: Some(signature(tx)?),
            class_hash: class_hash()?,
            nonce: Some(felt252(&tx.felt("nonce")?)),
            compiled_class_hash: Some(hash(&tx.felt("compiled_class_hash")?)),
        }),
        3 => Txn::DeclareV3(DeclareV3WithoutClass {
            common: Some(declare_v3(tx)?),
            class_hash: class_hash()?,
        }),
        _ => return Ok(None),
    }))
}

fn deploy(tx: &Obj<'_>, kind: &str, v: u64) -> Result<Option<Txn>, MapError> {
    Ok(Some(match (kind, v) {
        ("DEPLOY", 0 | 1) => Txn::Deploy(Deploy {
            class_hash: Some(hash(&tx.felt("class_hash")?)),
            address_salt: Some(felt252(&tx.felt_or_zero("contract_address_salt")?)),
            calldata: tx.felts("constructor_calldata")?,
            version: v as u32,
        }),
        ("DEPLOY_ACCOUNT", 0 | 1) => Txn::DeployAccountV1(DeployAccountV1 {
            max_fee: Some(felt252(&tx.felt("max_fee")?)),
            signature: Some(signature(tx)?),
            class_hash: Some(hash(&tx.felt("class_hash")?)),
            nonce: Some(felt252(&tx.felt("nonce")?)),
            address_salt: Some(felt252(&tx.felt("contract_address_salt")?)),
            calldata: tx.felts("constructor_calldata")?,
        }),
        ("DEPLOY_ACCOUNT", 3) => Txn::DeployAccountV3(deploy_account_v3(tx)?),
        _ => return Ok(None),
    }))
}

fn invoke(tx: &Obj<'_>, v: u64) -> Result<Option<Txn>, MapError> {
    Ok(Some(match v {
        0 => Txn::InvokeV0(InvokeV0 {
            max_fee: Some(felt252(&tx.felt_or_zero("max_fee")?)),
            signature: Some(signature(tx)?),
            address: Some(address(&sender_or_contract(tx)?)),
            entry_point_selector: Some(felt252(&tx.felt("entry_point_selector")?)),
            calldata: tx.felts("calldata")?,
        }),
        1 => Txn::InvokeV1(InvokeV1 {
            sender: Some(address(&tx.felt("sender_address")?)),
            max_fee: Some(felt252(&tx.felt("max_fee")?)),
            signature: Some(signature(tx)?),
            calldata: tx.felts("calldata")?,
            nonce: Some(felt252(&tx.felt("nonce")?)),
        }),
        3 => Txn::InvokeV3(invoke_v3(tx)?),
        _ => return Ok(None),
    }))
}

/// INVOKE v0 names its account `contract_address` (older answers) or `sender_address`.
fn sender_or_contract(tx: &Obj<'_>) -> Result<Felt, MapError> {
    match tx.get("sender_address") {
        Some(_) => tx.felt("sender_address"),
        None => tx.felt("contract_address"),
    }
}

fn signature(tx: &Obj<'_>) -> Result<AccountSignature, MapError> {
    Ok(AccountSignature {
        parts: tx.felts("signature")?,
    })
}

fn declare_v3(tx: &Obj<'_>) -> Result<DeclareV3Common, MapError> {
    let v3 = V3::read(tx)?;
    Ok(DeclareV3Common {
        sender: Some(address(&tx.felt("sender_address")?)),
        signature: Some(signature(tx)?),
        nonce: Some(felt252(&tx.felt("nonce")?)),
        compiled_class_hash: Some(hash(&tx.felt("compiled_class_hash")?)),
        resource_bounds: Some(v3.bounds),
        tip: v3.tip,
        paymaster_data: tx.felts("paymaster_data")?,
        account_deployment_data: tx.felts("account_deployment_data")?,
        nonce_data_availability_mode: v3.nonce_da as i32,
        fee_data_availability_mode: v3.fee_da as i32,
    })
}

fn deploy_account_v3(tx: &Obj<'_>) -> Result<DeployAccountV3, MapError> {
    let v3 = V3::read(tx)?;
    Ok(DeployAccountV3 {
        signature: Some(signature(tx)?),
        class_hash: Some(hash(&tx.felt("class_hash")?)),
        nonce: Some(felt252(&tx.felt("nonce")?)),
        address_salt: Some(felt252(&tx.felt("contract_address_salt")?)),
        calldata: tx.felts("constructor_calldata")?,
        resource_bounds: Some(v3.bounds),
        tip: v3.tip,
        paymaster_data: tx.felts("paymaster_data")?,
        nonce_data_availability_mode: v3.nonce_da as i32,
        fee_data_availability_mode: v3.fee_da as i32,
    })
}

fn invoke_v3(tx: &Obj<'_>) -> Result<InvokeV3, MapError> {
    let v3 = V3::read(tx)?;
    Ok(InvokeV3 {
        sender: Some(address(&tx.felt("sender_address")?)),
        signature: Some(signature(tx)?),
        calldata: tx.felts("calldata")?,
        resource_bounds: Some(v3.bounds),
        tip: v3.tip,
        paymaster_data: tx.felts("paymaster_data")?,
        account_deployment_data: tx.felts("account_deployment_data")?,
        nonce_data_availability_mode: v3.nonce_da as i32,
        fee_data_availability_mode: v3.fee_da as i32,
        nonce: Some(felt252(&tx.felt("nonce")?)),
        proof_facts: tx.felts("proof_facts")?,
    })
}

/// The fee fields every v3 transaction has.
struct V3 {
    bounds: ResourceBounds,
    tip: u64,
    nonce_da: VolitionDomain,
    fee_da: VolitionDomain,
}

impl V3 {
    fn read(tx: &Obj<'_>) -> Result<Self, MapError> {
        let path = format!("{}.resource_bounds", tx.path);
        let rb = tx
            .obj("resource_bounds", &path)?
            .ok_or_else(|| MapError::field(&path, "missing"))?;
        let bounds = ResourceBounds {
            l1_gas: Some(
                limits(&rb, "L1_GAS")?.ok_or_else(|| MapError::field(&path, "no L1_GAS"))?,
            ),
            l1_data_gas: limits(&rb, "L1_DATA_GAS")?,
            l2_gas: Some(
                limits(&rb, "L2_GAS")?.ok_or_else(|| MapError::field(&path, "no L2_GAS"))?,
            ),
        };
        Ok(V3 {
            bounds,
            tip: tx.u64_or_zero("tip")?,
            nonce_da: domain(tx, "nonce_data_availability_mode")?,
            fee_da: domain(tx, "fee_data_availability_mode")?,
        })
    }
}

fn limits(rb: &Obj<'_>, key: &str) -> Result<Option<ResourceLimits>, MapError> {
    let path = format!("{}.{key}", rb.path);
    let Some(b) = rb.obj(key, &path)? else {
        return Ok(None);
    };
    Ok(Some(ResourceLimits {
        max_amount: Some(felt252(&b.felt("max_amount")?)),
        max_price_per_unit: Some(felt252(&b.felt("max_price_per_unit")?)),
    }))
}

/// `L1`/`L2` or `0`/`1`.
fn domain(tx: &Obj<'_>, key: &str) -> Result<VolitionDomain, MapError> {
    match tx.get(key) {
        None => Ok(VolitionDomain::L1),
        Some(Value::String(s)) if s == "L1" => Ok(VolitionDomain::L1),
        Some(Value::String(s)) if s == "L2" => Ok(VolitionDomain::L2),
        Some(v) if v.as_u64() == Some(0) => Ok(VolitionDomain::L1),
        Some(v) if v.as_u64() == Some(1) => Ok(VolitionDomain::L2),
        Some(_) => Err(MapError::field(
            format!("{}.{key}", tx.path),
            "not L1 or L2",
        )),
    }
}
