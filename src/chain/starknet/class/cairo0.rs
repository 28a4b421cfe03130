//! The Cairo 0 (deprecated) class hash, as cairo-lang's `compute_deprecated_class_hash`:
//!
//! `pedersen_chain([0 (API version), h(EXTERNAL), h(L1_HANDLER), h(CONSTRUCTOR),
//! pedersen_chain(builtins as short strings), hinted class hash, pedersen_chain(program.data)])`
//! where `h(entry points) = pedersen_chain([selector, offset, selector, offset, ...])` and the
//! hinted class hash is `starknet_keccak` of the Python JSON of `{"abi", "program"}`
//! (see [`super::hinted`]).

use super::super::felt::{short_string, Felt};
use super::super::transaction::pedersen_chain;
use super::json::Node;
use super::{entry_point_felts, felt_list, felt_of, field_error, hinted, Path, ENTRY_POINT_TYPES};
use crate::chain::VerifyError;

/// The class hash of a parsed Cairo 0 definition (`root` is the whole answer).
pub fn class_hash(root: &Node<'_>) -> Result<Felt, VerifyError> {
    let program = root
        .get("program")
        .filter(|p| p.as_obj().is_some())
        .ok_or_else(|| field_error(&Path::root().key("program"), "missing or not an object"))?;
    let mut items = vec![Felt::ZERO];
    for kind in ENTRY_POINT_TYPES {
        let felts = entry_point_felts(root, kind, "offset", offset_felt)?;
        items.push(pedersen_chain(&felts));
    }
    let program_path = Path::root().key("program");
    let builtins = felt_list(program, &program_path, "builtins", builtin_felt)?;
    items.push(pedersen_chain(&builtins));
    items.push(hinted::hinted_class_hash(root.get("abi"), program)?);
    let data = felt_list(program, &program_path, "data", felt_of)?;
    items.push(pedersen_chain(&data));
    Ok(pedersen_chain(&items))
}

/// An entry point offset: a hex string, or (cairo-lang 0.11 classes) a decimal integer.
fn offset_felt(node: &Node<'_>) -> Result<Felt, &'static str> {
    match node {
        Node::Num(n) => n
            .parse::<u64>()
            .map(Felt::from)
            .map_err(|_| "not a non-negative integer"),
        _ => felt_of(node),
    }
}

/// A builtin name as a Cairo short string.
fn builtin_felt(node: &Node<'_>) -> Result<Felt, &'static str> {
    node.as_text()
        .and_then(|t| t.decode())
        .and_then(|s| short_string(&s))
        .ok_or("not a short ASCII string")
}
