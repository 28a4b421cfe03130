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
use super::{felt_of, field_error, hinted, Path};
use crate::chain::VerifyError;

/// Entry point types in hashing order.
pub const ENTRY_POINT_TYPES: [&str; 3] = ["EXTERNAL", "L1_HANDLER", "CONSTRUCTOR"];

/// The class hash of a parsed Cairo 0 definition (`root` is the whole answer).
pub fn class_hash(root: &Node<'_>) -> Result<Felt, VerifyError> {
    let program = root
        .get("program")
        .filter(|p| p.as_obj().is_some())
        .ok_or_else(|| field_error(&Path::root().key("program"), "missing or not an object"))?;
    let entry_points = root.get("entry_points_by_type");
    let mut items = vec![Felt::ZERO];
    for kind in ENTRY_POINT_TYPES {
        items.push(entry_points_hash(entry_points, kind)?);
    }
    items.push(builtins_hash(program)?);
    items.push(hinted::hinted_class_hash(root.get("abi"), program)?);
    items.push(data_hash(program)?);
    Ok(pedersen_chain(&items))
}

/// `pedersen_chain` over `[selector, offset, ...]` of one entry point type (absent: empty).
fn entry_points_hash(by_type: Option<&Node<'_>>, kind: &'static str) -> Result<Felt, VerifyError> {
    let path = Path::root().key("entry_points_by_type").key(kind);
    let Some(list) = by_type.and_then(|t| t.get(kind)) else {
        return Ok(pedersen_chain(std::iter::empty()));
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
        let offset = entry
            .get("offset")
            .ok_or_else(|| field_error(&at.key("offset"), "missing"))?;
        felts.push(offset_felt(offset, &at.key("offset"))?);
    }
    Ok(pedersen_chain(&felts))
}

/// An entry point offset: a hex string, or (cairo-lang 0.11 classes) a decimal integer.
fn offset_felt(node: &Node<'_>, path: &Path) -> Result<Felt, VerifyError> {
    match node {
        Node::Num(n) => n
            .parse::<u64>()
            .map(Felt::from)
            .map_err(|_| field_error(path, "not a non-negative integer")),
        _ => felt_of(node).map_err(|e| field_error(path, e)),
    }
}

/// `pedersen_chain` over the builtin names, each as a Cairo short string.
fn builtins_hash(program: &Node<'_>) -> Result<Felt, VerifyError> {
    let path = Path::root().key("program").key("builtins");
    let list = program
        .get("builtins")
        .and_then(Node::as_arr)
        .ok_or_else(|| field_error(&path, "missing or not an array"))?;
    let mut felts = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let name = item
            .as_text()
            .and_then(|t| t.decode())
            .and_then(|s| short_string(&s))
            .ok_or_else(|| field_error(&path.index(i), "not a short ASCII string"))?;
        felts.push(name);
    }
    Ok(pedersen_chain(&felts))
}

/// `pedersen_chain` over the program bytecode (`program.data`, hex felts).
fn data_hash(program: &Node<'_>) -> Result<Felt, VerifyError> {
    let path = Path::root().key("program").key("data");
    let list = program
        .get("data")
        .and_then(Node::as_arr)
        .ok_or_else(|| field_error(&path, "missing or not an array"))?;
    let mut felts = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        felts.push(felt_of(item).map_err(|e| field_error(&path.index(i), e))?);
    }
    Ok(pedersen_chain(&felts))
}
