//! The Sierra (Cairo 1) class hash, as cairo-lang's `compute_class_hash`:
//!
//! `poseidon_hash_many([short_string("CONTRACT_CLASS_V0.1.0"), h(EXTERNAL), h(L1_HANDLER),
//! h(CONSTRUCTOR), starknet_keccak(abi), poseidon_hash_many(sierra_program)])`
//! where `h(entry points) = poseidon_hash_many([selector, function_idx, ...])` and `abi` is
//! the ABI string exactly as served (decoded from its JSON string, not re-serialised).
//!
//! `contract_class_version` must be `"0.1.0"`: it is the only Sierra class version, and the
//! version felt hashed is derived from it (`CONTRACT_CLASS_V` + version).

use sha3::{Digest, Keccak256};
use starknet_crypto::poseidon_hash_many;

use super::super::felt::{short_string, Felt};
use super::cairo0::ENTRY_POINT_TYPES;
use super::json::Node;
use super::{felt_of, field_error, Path};
use crate::chain::VerifyError;

/// The only `contract_class_version` defined so far.
pub const CONTRACT_CLASS_VERSION: &str = "0.1.0";

/// The class hash of a parsed Sierra definition (`root` is the whole answer).
pub fn class_hash(root: &Node<'_>) -> Result<Felt, VerifyError> {
    let version = version_felt(root)?;
    let mut items = vec![version];
    let entry_points = root.get("entry_points_by_type");
    for kind in ENTRY_POINT_TYPES {
        items.push(entry_points_hash(entry_points, kind)?);
    }
    items.push(abi_hash(root)?);
    items.push(program_hash(root)?);
    Ok(poseidon_hash_many(&items))
}

/// `CONTRACT_CLASS_V0.1.0` as a short string, after checking `contract_class_version`.
fn version_felt(root: &Node<'_>) -> Result<Felt, VerifyError> {
    let path = Path::root().key("contract_class_version");
    let version = root
        .get("contract_class_version")
        .and_then(Node::as_text)
        .ok_or_else(|| field_error(&path, "missing or not a string"))?;
    if !version.is(CONTRACT_CLASS_VERSION) {
        return Err(field_error(
            &path,
            "unsupported version (only \"0.1.0\" exists)",
        ));
    }
    short_string(&format!("CONTRACT_CLASS_V{CONTRACT_CLASS_VERSION}"))
        .ok_or_else(|| field_error(&path, "not a short string"))
}

/// `poseidon_hash_many` over `[selector, function_idx, ...]` of one type (absent: empty).
fn entry_points_hash(by_type: Option<&Node<'_>>, kind: &'static str) -> Result<Felt, VerifyError> {
    let path = Path::root().key("entry_points_by_type").key(kind);
    let Some(list) = by_type.and_then(|t| t.get(kind)) else {
        return Ok(poseidon_hash_many(&[]));
    };
    let list = list
        .as_arr()
        .ok_or_else(|| field_error(&path, "not an array"))?;
    let mut felts = Vec::with_capacity(list.len() * 2);
    for (i, entry) in list.iter().enumerate() {
        let at = path.index(i);
        let selector = entry
            .get("selector")
            .ok_or_else(|| field_error(&at.key("selector"), "missing"))?;
        felts.push(felt_of(selector).map_err(|e| field_error(&at.key("selector"), e))?);
        let index = match entry.get("function_idx") {
            Some(Node::Num(n)) => n.parse::<u64>().ok(),
            _ => None,
        };
        let index = index
            .ok_or_else(|| field_error(&at.key("function_idx"), "not a non-negative integer"))?;
        felts.push(Felt::from(index));
    }
    Ok(poseidon_hash_many(&felts))
}

/// `starknet_keccak` of the ABI string's bytes.
fn abi_hash(root: &Node<'_>) -> Result<Felt, VerifyError> {
    let path = Path::root().key("abi");
    let abi = root
        .get("abi")
        .and_then(Node::as_text)
        .and_then(|t| t.decode())
        .ok_or_else(|| field_error(&path, "missing or not a string"))?;
    let mut digest: [u8; 32] = Keccak256::digest(abi.as_bytes()).into();
    digest[0] &= 0x03;
    Ok(Felt::from_bytes_be(&digest))
}

/// `poseidon_hash_many` over `sierra_program` (hex felts).
fn program_hash(root: &Node<'_>) -> Result<Felt, VerifyError> {
    let path = Path::root().key("sierra_program");
    let list = root
        .get("sierra_program")
        .and_then(Node::as_arr)
        .ok_or_else(|| field_error(&path, "missing or not an array"))?;
    let mut felts = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        felts.push(felt_of(item).map_err(|e| field_error(&path.index(i), e))?);
    }
    Ok(poseidon_hash_many(&felts))
}
