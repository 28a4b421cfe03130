//! Starknet contract classes: recomputes a class hash from the definition the feeder
//! gateway serves (`get_class_by_hash`), so a relay stores and serves only classes that
//! hash to the hash a state diff names.
//!
//! The definition is parsed once into a borrowed tree ([`json`]); a Sierra class (it has
//! `sierra_program`) is hashed by [`sierra`], a Cairo 0 class (it has `program`) by
//! [`cairo0`], whose hinted class hash ([`hinted`]) re-serialises the program and ABI the
//! way cairo-lang's Python does ([`pyjson`]) straight into Keccak.

mod cairo0;
mod hinted;
mod json;
mod pyjson;
mod sierra;

#[cfg(test)]
mod tests;

use std::fmt;

use super::felt::parse_felt;
pub use super::Felt;
use crate::chain::VerifyError;

/// Which class hash rules a definition follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassKind {
    /// Deprecated Cairo 0 class: Pedersen class hash with the hinted (Keccak) hash of
    /// the program and ABI.
    Cairo0,
    /// Cairo 1 class (Sierra): `CONTRACT_CLASS_V0.1.0` Poseidon class hash.
    Sierra,
}

impl ClassKind {
    /// Stable lowercase name (`cairo0`, `sierra`) for logs, the CLI and the API.
    pub fn name(self) -> &'static str {
        match self {
            ClassKind::Cairo0 => "cairo0",
            ClassKind::Sierra => "sierra",
        }
    }
}

/// A class hash recomputed from a definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputedClass {
    /// The rules the definition follows.
    pub kind: ClassKind,
    /// The recomputed class hash.
    pub hash: Felt,
}

/// Recomputes the class hash of `definition`, the raw body of a feeder-gateway
/// `get_class_by_hash` answer (Cairo 0 or Sierra, told apart by its fields).
/// A definition that does not parse is [`VerifyError::Malformed`] naming the field
/// (`at `program.data[3]`: ...`) or the byte offset of a JSON syntax error.
pub fn compute_class_hash(definition: &[u8]) -> Result<ComputedClass, VerifyError> {
    let root = json::parse(definition).map_err(|e| {
        VerifyError::malformed("class", format_args!("JSON at byte {}: {}", e.at, e.what))
    })?;
    if root.as_obj().is_none() {
        return Err(VerifyError::malformed("class", "not a JSON object"));
    }
    if root.get("sierra_program").is_some() {
        let hash = sierra::class_hash(&root)?;
        return Ok(ComputedClass {
            kind: ClassKind::Sierra,
            hash,
        });
    }
    if root.get("program").is_some() {
        let hash = cairo0::class_hash(&root)?;
        return Ok(ComputedClass {
            kind: ClassKind::Cairo0,
            hash,
        });
    }
    Err(VerifyError::malformed(
        "class",
        "neither `sierra_program` (Sierra) nor `program` (Cairo 0)",
    ))
}

/// Recomputes the class hash of `definition` and compares it with `expected` (the hash a
/// state diff names); a mismatch is [`VerifyError::ClassHash`] (`class_hash_mismatch`).
pub fn verify_class(expected: Felt, definition: &[u8]) -> Result<ClassKind, VerifyError> {
    let computed = compute_class_hash(definition)?;
    if computed.hash != expected {
        return Err(VerifyError::ClassHash {
            expected,
            computed: computed.hash,
        });
    }
    Ok(computed.kind)
}

/// A JSON path for error messages (`program.data[3]`), built only when reporting.
#[derive(Debug, Clone, Default)]
struct Path(String);

impl Path {
    fn root() -> Self {
        Path::default()
    }

    fn key(&self, key: &str) -> Self {
        if self.0.is_empty() {
            Path(key.to_string())
        } else {
            Path(format!("{}.{key}", self.0))
        }
    }

    fn index(&self, i: usize) -> Self {
        Path(format!("{}[{i}]", self.0))
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A malformed definition, naming the field.
fn field_error(path: &Path, detail: impl fmt::Display) -> VerifyError {
    VerifyError::malformed("class", format_args!("at `{path}`: {detail}"))
}

/// Entry point types in hashing order (both kinds).
const ENTRY_POINT_TYPES: [&str; 3] = ["EXTERNAL", "L1_HANDLER", "CONSTRUCTOR"];

/// `[selector, second, selector, second, ...]` of the entry points of type `kind` (empty when
/// the type is absent); `second` is the other field (`offset`, `function_idx`), read by `parse`.
fn entry_point_felts(
    root: &json::Node<'_>,
    kind: &'static str,
    second: &'static str,
    parse: FeltParser,
) -> Result<Vec<Felt>, VerifyError> {
    let path = Path::root().key("entry_points_by_type").key(kind);
    let Some(list) = root.get("entry_points_by_type").and_then(|t| t.get(kind)) else {
        return Ok(Vec::new());
    };
    let list = list
        .as_arr()
        .ok_or_else(|| field_error(&path, "not an array"))?;
    let mut felts = Vec::with_capacity(list.len() * 2);
    for (i, entry) in list.iter().enumerate() {
        let read = |field: &'static str, parse: FeltParser| {
            let felt = entry.get(field).ok_or("missing").and_then(parse);
            felt.map_err(|e| field_error(&path.index(i).key(field), e))
        };
        felts.push(read("selector", felt_of)?);
        felts.push(read(second, parse)?);
    }
    Ok(felts)
}

/// The array `parent[key]` (`parent` is at `at`) read item by item with `parse`; errors
/// name the item (`at.key[i]`).
fn felt_list(
    parent: &json::Node<'_>,
    at: &Path,
    key: &str,
    parse: FeltParser,
) -> Result<Vec<Felt>, VerifyError> {
    let path = at.key(key);
    let list = parent
        .get(key)
        .and_then(json::Node::as_arr)
        .ok_or_else(|| field_error(&path, "missing or not an array"))?;
    list.iter()
        .enumerate()
        .map(|(i, item)| parse(item).map_err(|e| field_error(&path.index(i), e)))
        .collect()
}

/// Reads one felt from a JSON value, or says why not.
type FeltParser = fn(&json::Node<'_>) -> Result<Felt, &'static str>;

/// A felt written as a `0x` hex string.
fn felt_of(node: &json::Node<'_>) -> Result<Felt, &'static str> {
    let text = node.as_text().ok_or("not a hex felt string")?;
    let s = text.decode().ok_or("not a hex felt string")?;
    parse_felt(&s)
}
