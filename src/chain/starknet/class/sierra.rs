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
use super::json::Node;
use super::{entry_point_felts, felt_list, felt_of, field_error, Path, ENTRY_POINT_TYPES};
use crate::chain::VerifyError;

/// The only `contract_class_version` defined so far.
pub const CONTRACT_CLASS_VERSION: &str = "0.1.0";

/// The class hash of a parsed Sierra definition (`root` is the whole answer).
pub fn class_hash(root: &Node<'_>) -> Result<Felt, VerifyError> {
    let version = version_felt(root)?;
    let mut items = vec![version];
    for kind in ENTRY_POINT_TYPES {
        let felts = entry_point_felts(root, kind, "function_idx", index_felt)?;
        items.push(poseidon_hash_many(&felts));
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

/// A Sierra function index (a JSON integer).
fn index_felt(node: &Node<'_>) -> Result<Felt, &'static str> {
    match node {
        Node::Num(n) => n.parse::<u64>().map(Felt::from).ok(),
        _ => None,
    }
    .ok_or("not a non-negative integer")
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
    let felts = felt_list(root, &Path::root(), "sierra_program", felt_of)?;
    Ok(poseidon_hash_many(&felts))
}
