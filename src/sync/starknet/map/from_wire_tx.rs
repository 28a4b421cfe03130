//! Wire → store for the `transactions` protocol: each `TransactionWithReceipt` becomes the
//! gateway-style transaction object (every field its hash needs) and its receipt (events
//! apart, as the store keeps them; see `from_wire_receipt`).

use serde_json::{json, Map, Value};

use super::from_wire::{felt, hex, hex_list, req};
use super::from_wire_receipt::receipt_json;
use super::MapError;
use crate::chain::starknet::{felt_hex, Felt};
use crate::sync::starknet::proto::starknet::common::VolitionDomain;
use crate::sync::starknet::proto::starknet::sync::receipt::receipt;
use crate::sync::starknet::proto::starknet::sync::transaction::transaction_in_block::Txn;
use crate::sync::starknet::proto::starknet::sync::transaction::TransactionWithReceipt;
use crate::sync::starknet::proto::starknet::transaction::{
    AccountSignature, DeclareV3Common, ResourceBounds, ResourceLimits,
};

type Obj = Map<String, Value>;

/// The stored transaction and receipt of the `index`-th transaction of a block.
pub fn transaction(t: &TransactionWithReceipt, index: u64) -> Result<(Value, Value), MapError> {
    let tx = req(&t.transaction, "transaction")?;
    let r = req(&t.receipt, "receipt")?;
    let kind = req(&r.r#type, "receipt.type")?;
    let hash = hex(&tx.transaction_hash, "transaction.transaction_hash")?;
    let mut obj = txn(req(&tx.txn, "transaction.txn")?, kind)?;
    obj.insert("transaction_hash".into(), hash.clone());
    let receipt = receipt_json(kind, hash, index)?;
    Ok((Value::Object(obj), receipt))
}

fn signature(s: &Option<AccountSignature>) -> Result<Value, MapError> {
    hex_list(&req(s, "signature")?.parts, "signature.parts")
}

fn obj(kind: &str, version: &str, fields: Vec<(&str, Value)>) -> Obj {
    let mut out = Obj::new();
    out.insert("type".into(), json!(kind));
    out.insert("version".into(), json!(version));
    for (k, v) in fields {
        out.insert(k.into(), v);
    }
    out
}

/// The address a DEPLOY or DEPLOY_ACCOUNT transaction deployed: its receipt carries it.
fn deployed_address(kind: &receipt::Type) -> Result<Value, MapError> {
    let address = match kind {
        receipt::Type::DeprecatedDeploy(d) => &d.contract_address,
        receipt::Type::DeployAccount(d) => &d.contract_address,
        _ => return Err(MapError::invalid("receipt.type", "not a deploy receipt")),
    };
    hex(address, "receipt.contract_address")
}

fn txn(t: &Txn, kind: &receipt::Type) -> Result<Obj, MapError> {
    match t {
        Txn::DeclareV0(_) | Txn::DeclareV1(_) | Txn::DeclareV2(_) | Txn::DeclareV3(_) => declare(t),
        Txn::Deploy(_) | Txn::DeployAccountV1(_) | Txn::DeployAccountV3(_) => deploy(t, kind),
        Txn::InvokeV0(_) | Txn::InvokeV1(_) | Txn::InvokeV3(_) | Txn::L1Handler(_) => invoke(t),
    }
}

fn declare(t: &Txn) -> Result<Obj, MapError> {
    Ok(match t {
        Txn::DeclareV0(d) => obj(
            "DECLARE",
            "0x0",
            vec![
                ("sender_address", hex(&d.sender, "declare.sender")?),
                ("max_fee", hex(&d.max_fee, "declare.max_fee")?),
                ("signature", signature(&d.signature)?),
                ("class_hash", hex(&d.class_hash, "declare.class_hash")?),
            ],
        ),
        Txn::DeclareV1(d) => obj(
            "DECLARE",
            "0x1",
            vec![
                ("sender_address", hex(&d.sender, "declare.sender")?),
                ("max_fee", hex(&d.max_fee, "declare.max_fee")?),
                ("signature", signature(&d.signature)?),
                ("class_hash", hex(&d.class_hash, "declare.class_hash")?),
                ("nonce", hex(&d.nonce, "declare.nonce")?),
            ],
        ),
        Txn::DeclareV2(d) => obj(
            "DECLARE",
            "0x2",
            vec![
                ("sender_address", hex(&d.sender, "declare.sender")?),
                ("max_fee", hex(&d.max_fee, "declare.max_fee")?),
                ("signature", signature(&d.signature)?),
                ("class_hash", hex(&d.class_hash, "declare.class_hash")?),
                ("nonce", hex(&d.nonce, "declare.nonce")?),
                (
                    "compiled_class_hash",
                    hex(&d.compiled_class_hash, "declare.compiled_class_hash")?,
                ),
            ],
        ),
        Txn::DeclareV3(d) => {
            let mut o = declare_v3(req(&d.common, "declare_v3.common")?)?;
            o.insert(
                "class_hash".into(),
                hex(&d.class_hash, "declare_v3.class_hash")?,
            );
            o
        }
        _ => unreachable!("dispatched by `txn`"),
    })
}

fn deploy(t: &Txn, kind: &receipt::Type) -> Result<Obj, MapError> {
    Ok(match t {
        Txn::Deploy(d) => obj(
            "DEPLOY",
            &format!("{:#x}", d.version),
            vec![
                ("class_hash", hex(&d.class_hash, "deploy.class_hash")?),
                (
                    "contract_address_salt",
                    hex(&d.address_salt, "deploy.address_salt")?,
                ),
                (
                    "constructor_calldata",
                    hex_list(&d.calldata, "deploy.calldata")?,
                ),
                ("contract_address", deployed_address(kind)?),
            ],
        ),
        Txn::DeployAccountV1(d) => obj(
            "DEPLOY_ACCOUNT",
            "0x1",
            vec![
                ("max_fee", hex(&d.max_fee, "deploy_account.max_fee")?),
                ("signature", signature(&d.signature)?),
                (
                    "class_hash",
                    hex(&d.class_hash, "deploy_account.class_hash")?,
                ),
                ("nonce", hex(&d.nonce, "deploy_account.nonce")?),
                (
                    "contract_address_salt",
                    hex(&d.address_salt, "deploy_account.address_salt")?,
                ),
                (
                    "constructor_calldata",
                    hex_list(&d.calldata, "deploy_account.calldata")?,
                ),
                ("contract_address", deployed_address(kind)?),
            ],
        ),
        Txn::DeployAccountV3(d) => {
            let mut o = obj(
                "DEPLOY_ACCOUNT",
                "0x3",
                vec![
                    ("signature", signature(&d.signature)?),
                    (
                        "class_hash",
                        hex(&d.class_hash, "deploy_account.class_hash")?,
                    ),
                    ("nonce", hex(&d.nonce, "deploy_account.nonce")?),
                    (
                        "contract_address_salt",
                        hex(&d.address_salt, "deploy_account.address_salt")?,
                    ),
                    (
                        "constructor_calldata",
                        hex_list(&d.calldata, "deploy_account.calldata")?,
                    ),
                    ("contract_address", deployed_address(kind)?),
                    (
                        "paymaster_data",
                        hex_list(&d.paymaster_data, "paymaster_data")?,
                    ),
                ],
            );
            v3_fields(&mut o, &d.resource_bounds, d.tip)?;
            da_modes(
                &mut o,
                d.nonce_data_availability_mode,
                d.fee_data_availability_mode,
            )?;
            o
        }
        _ => unreachable!("dispatched by `txn`"),
    })
}

fn invoke(t: &Txn) -> Result<Obj, MapError> {
    Ok(match t {
        Txn::InvokeV0(i) => obj(
            "INVOKE_FUNCTION",
            "0x0",
            vec![
                ("max_fee", hex(&i.max_fee, "invoke.max_fee")?),
                ("signature", signature(&i.signature)?),
                ("contract_address", hex(&i.address, "invoke.address")?),
                (
                    "entry_point_selector",
                    hex(&i.entry_point_selector, "invoke.entry_point_selector")?,
                ),
                ("calldata", hex_list(&i.calldata, "invoke.calldata")?),
            ],
        ),
        Txn::InvokeV1(i) => obj(
            "INVOKE_FUNCTION",
            "0x1",
            vec![
                ("sender_address", hex(&i.sender, "invoke.sender")?),
                ("max_fee", hex(&i.max_fee, "invoke.max_fee")?),
                ("signature", signature(&i.signature)?),
                ("calldata", hex_list(&i.calldata, "invoke.calldata")?),
                ("nonce", hex(&i.nonce, "invoke.nonce")?),
            ],
        ),
        Txn::InvokeV3(i) => {
            let mut o = obj(
                "INVOKE_FUNCTION",
                "0x3",
                vec![
                    ("sender_address", hex(&i.sender, "invoke.sender")?),
                    ("signature", signature(&i.signature)?),
                    ("calldata", hex_list(&i.calldata, "invoke.calldata")?),
                    ("nonce", hex(&i.nonce, "invoke.nonce")?),
                    (
                        "paymaster_data",
                        hex_list(&i.paymaster_data, "paymaster_data")?,
                    ),
                    (
                        "account_deployment_data",
                        hex_list(&i.account_deployment_data, "account_deployment_data")?,
                    ),
                ],
            );
            if !i.proof_facts.is_empty() {
                o.insert(
                    "proof_facts".into(),
                    hex_list(&i.proof_facts, "proof_facts")?,
                );
            }
            v3_fields(&mut o, &i.resource_bounds, i.tip)?;
            da_modes(
                &mut o,
                i.nonce_data_availability_mode,
                i.fee_data_availability_mode,
            )?;
            o
        }
        Txn::L1Handler(l) => obj(
            "L1_HANDLER",
            "0x0",
            vec![
                ("nonce", hex(&l.nonce, "l1_handler.nonce")?),
                ("contract_address", hex(&l.address, "l1_handler.address")?),
                (
                    "entry_point_selector",
                    hex(&l.entry_point_selector, "l1_handler.entry_point_selector")?,
                ),
                ("calldata", hex_list(&l.calldata, "l1_handler.calldata")?),
            ],
        ),
        _ => unreachable!("dispatched by `txn`"),
    })
}

fn declare_v3(c: &DeclareV3Common) -> Result<Obj, MapError> {
    let mut o = obj(
        "DECLARE",
        "0x3",
        vec![
            ("sender_address", hex(&c.sender, "declare_v3.sender")?),
            ("signature", signature(&c.signature)?),
            ("nonce", hex(&c.nonce, "declare_v3.nonce")?),
            (
                "compiled_class_hash",
                hex(&c.compiled_class_hash, "declare_v3.compiled_class_hash")?,
            ),
            (
                "paymaster_data",
                hex_list(&c.paymaster_data, "paymaster_data")?,
            ),
            (
                "account_deployment_data",
                hex_list(&c.account_deployment_data, "account_deployment_data")?,
            ),
        ],
    );
    v3_fields(&mut o, &c.resource_bounds, c.tip)?;
    da_modes(
        &mut o,
        c.nonce_data_availability_mode,
        c.fee_data_availability_mode,
    )?;
    Ok(o)
}

fn bound(limits: &ResourceLimits, what: &str) -> Result<Value, MapError> {
    Ok(json!({
        "max_amount": hex(&limits.max_amount, what)?,
        "max_price_per_unit": hex(&limits.max_price_per_unit, what)?,
    }))
}

/// `resource_bounds` and `tip` of a v3 transaction.
fn v3_fields(o: &mut Obj, b: &Option<ResourceBounds>, tip: u64) -> Result<(), MapError> {
    let b = req(b, "resource_bounds")?;
    let mut bounds = Obj::new();
    bounds.insert(
        "L1_GAS".into(),
        bound(req(&b.l1_gas, "resource_bounds.l1_gas")?, "l1_gas")?,
    );
    bounds.insert(
        "L2_GAS".into(),
        bound(req(&b.l2_gas, "resource_bounds.l2_gas")?, "l2_gas")?,
    );
    if let Some(data) = &b.l1_data_gas {
        bounds.insert("L1_DATA_GAS".into(), bound(data, "l1_data_gas")?);
    }
    o.insert("resource_bounds".into(), Value::Object(bounds));
    o.insert("tip".into(), json!(felt_hex(&Felt::from(tip))));
    Ok(())
}

fn da_modes(o: &mut Obj, nonce: i32, fee: i32) -> Result<(), MapError> {
    let name = |mode: i32, what: &str| match VolitionDomain::try_from(mode) {
        Ok(VolitionDomain::L1) => Ok(json!("L1")),
        Ok(VolitionDomain::L2) => Ok(json!("L2")),
        Err(_) => Err(MapError::invalid(what, "unknown data availability mode")),
    };
    o.insert(
        "nonce_data_availability_mode".into(),
        name(nonce, "nonce_data_availability_mode")?,
    );
    o.insert(
        "fee_data_availability_mode".into(),
        name(fee, "fee_data_availability_mode")?,
    );
    Ok(())
}

/// The transaction hash a wire transaction states (the events of a block are grouped by it).
pub fn transaction_hash(t: &TransactionWithReceipt) -> Result<Felt, MapError> {
    felt(
        &req(&t.transaction, "transaction")?.transaction_hash,
        "transaction.transaction_hash",
    )
}
