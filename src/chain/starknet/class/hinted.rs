//! The hinted class hash of a Cairo 0 class: `starknet_keccak` of
//! `json.dumps({"abi": abi, "program": program}, sort_keys=True)` as cairo-lang writes it
//! (`compute_hinted_class_hash`), with the program as cairo-lang's `Program.dump()` gives it:
//!
//! - `debug_info` is `null` (whatever the answer holds);
//! - `attributes` is left out when empty or absent; in each attribute an empty
//!   `accessible_scopes` and a `null` `flow_tracking_data` are left out (fields added in
//!   cairo-lang 0.8 that older classes were hashed without);
//! - `compiler_version` is left out when absent or `null` (it appeared in 0.10);
//! - without `compiler_version` (classes compiled before 0.10), the named-tuple types in
//!   `identifiers` and `reference_manager` (strings under a `cairo_type` or `value` key) are
//!   written with the old `a : felt` spacing instead of `a: felt`;
//! - `hints` keys are program counters, ordered numerically (not as strings).
//!
//! The rules match Pathfinder's `class-hash` crate and starknet-rs's `legacy.rs`; the
//! fixtures of `tests.rs` (pre-0.10, 0.10, 0.12 classes) pin them.

use std::borrow::Cow;

use sha3::{Digest, Keccak256};

use super::super::felt::Felt;
use super::json::{Node, Text};
use super::pyjson::{WriteError, Writer};
use super::{field_error, Path};
use crate::chain::VerifyError;

/// Keccak of the Python JSON of `{"abi": abi, "program": program}`, truncated to 250 bits.
pub fn hinted_class_hash(abi: Option<&Node<'_>>, program: &Node<'_>) -> Result<Felt, VerifyError> {
    let mut keccak = Keccak256::new();
    let mut w = Writer::new(&mut keccak);
    w.raw(b"{\"abi\": ");
    w.value(abi.unwrap_or(&Node::Null))
        .map_err(|e| write_error(&Path::root().key("abi"), e))?;
    w.raw(b", \"program\": ");
    write_program(&mut w, program)?;
    w.raw(b"}");
    w.finish();
    let mut digest: [u8; 32] = keccak.finalize().into();
    digest[0] &= 0x03;
    Ok(Felt::from_bytes_be(&digest))
}

fn write_error(path: &Path, e: WriteError) -> VerifyError {
    let detail = match e {
        WriteError::BadString => "string with a lone surrogate escape",
        WriteError::NotInteger => "number that is not an integer",
        WriteError::BadHintKey => "key that is not a decimal program counter",
    };
    field_error(path, detail)
}

/// One member of the program object as written for the hash.
enum Member<'n, 'a> {
    /// Written as is.
    Plain(&'n Node<'a>),
    /// `debug_info`: always `null`.
    Null,
    /// `attributes` with the 0.8 fields filtered.
    Attributes(&'n [Node<'a>]),
    /// `hints`, ordered by program counter.
    Hints(&'n Node<'a>),
    /// `identifiers` or `reference_manager` of a pre-0.10 class (old tuple spacing).
    OldSpacing(&'n Node<'a>),
}

fn write_program<S: super::pyjson::Sink>(
    w: &mut Writer<'_, S>,
    program: &Node<'_>,
) -> Result<(), VerifyError> {
    let path = Path::root().key("program");
    let members = program.as_obj().unwrap_or_default();
    let old = !matches!(program.get("compiler_version"), Some(v) if *v != Node::Null);
    let mut out: Vec<(Text<'_>, Member<'_, '_>)> = Vec::with_capacity(members.len() + 1);
    for (key, value) in members {
        let member = match key.decode().as_deref() {
            Some("debug_info") => continue,
            Some("compiler_version") if *value == Node::Null => continue,
            Some("attributes") => match value.as_arr() {
                Some([]) => continue,
                Some(list) => Member::Attributes(list),
                None => return Err(field_error(&path.key("attributes"), "not an array")),
            },
            Some("hints") => Member::Hints(value),
            Some("identifiers" | "reference_manager") if old => Member::OldSpacing(value),
            _ => Member::Plain(value),
        };
        out.push((*key, member));
    }
    out.push((DEBUG_INFO, Member::Null));
    w.object(out, |w, member| match member {
        Member::Plain(v) => w.value(v),
        Member::Null => {
            w.raw(b"null");
            Ok(())
        }
        Member::Attributes(list) => write_attributes(w, list),
        Member::Hints(v) => write_hints(w, v),
        Member::OldSpacing(v) => write_old_spacing(w, v, false),
    })
    .map_err(|e| write_error(&path, e))
}

const DEBUG_INFO: Text<'static> = Text::plain("debug_info");

fn write_attributes<S: super::pyjson::Sink>(
    w: &mut Writer<'_, S>,
    list: &[Node<'_>],
) -> Result<(), WriteError> {
    w.raw(b"[");
    for (i, attr) in list.iter().enumerate() {
        if i > 0 {
            w.raw(b", ");
        }
        let Some(members) = attr.as_obj() else {
            w.value(attr)?;
            continue;
        };
        let kept = members
            .iter()
            .filter(|(k, v)| {
                !(k.is("accessible_scopes") && v.as_arr().is_some_and(<[_]>::is_empty)
                    || k.is("flow_tracking_data") && *v == Node::Null)
            })
            .map(|(k, v)| (*k, v))
            .collect();
        w.object(kept, |w, v| w.value(v))?;
    }
    w.raw(b"]");
    Ok(())
}

fn write_hints<S: super::pyjson::Sink>(
    w: &mut Writer<'_, S>,
    hints: &Node<'_>,
) -> Result<(), WriteError> {
    let Some(members) = hints.as_obj() else {
        return w.value(hints);
    };
    let mut numbered = Vec::with_capacity(members.len());
    for (key, value) in members {
        let pc: u64 = key
            .decode()
            .and_then(|k| k.parse().ok())
            .ok_or(WriteError::BadHintKey)?;
        numbered.push((pc, *key, value));
    }
    numbered.sort_by_key(|(pc, _, _)| *pc);
    w.raw(b"{");
    for (i, (_, key, value)) in numbered.into_iter().enumerate() {
        if i > 0 {
            w.raw(b", ");
        }
        w.text(&key)?;
        w.raw(b": ");
        w.value(value)?;
    }
    w.raw(b"}");
    Ok(())
}

/// Writes `node`, rewriting strings under `cairo_type`/`value` keys to the pre-0.10
/// named-tuple spacing (`(a : felt)`); `typed` says the current string is under such a key.
fn write_old_spacing<S: super::pyjson::Sink>(
    w: &mut Writer<'_, S>,
    node: &Node<'_>,
    typed: bool,
) -> Result<(), WriteError> {
    match node {
        Node::Str(t) if typed => {
            let s = t.decode().ok_or(WriteError::BadString)?;
            w.str(&old_tuple_spacing(&s));
            Ok(())
        }
        Node::Arr(items) => {
            w.raw(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    w.raw(b", ");
                }
                write_old_spacing(w, item, false)?;
            }
            w.raw(b"]");
            Ok(())
        }
        Node::Obj(members) => {
            let refs = members
                .iter()
                .map(|(k, v)| (*k, (k.is("cairo_type") || k.is("value"), v)))
                .collect();
            w.object(refs, |w, (typed, v)| write_old_spacing(w, v, typed))
        }
        other => w.value(other),
    }
}

/// `a: felt` -> `a : felt`, leaving an existing ` : ` as it is (Pathfinder's two
/// replacements, applied to every such string).
fn old_tuple_spacing(s: &str) -> Cow<'_, str> {
    if !s.contains(':') {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.replace(": ", " : ").replace("  :", " :"))
}

#[cfg(test)]
mod tests {
    use super::super::json::parse;
    use super::*;

    fn program_json(input: &str) -> String {
        let node = parse(input.as_bytes()).unwrap();
        let mut out = Vec::new();
        let mut w = Writer::new(&mut out);
        write_program(&mut w, &node).unwrap();
        w.finish();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn program_quirks() {
        let p = r#"{"hints": {"10": [1], "9": [2]}, "debug_info": {"x": 1},
            "attributes": [{"accessible_scopes": [], "flow_tracking_data": null, "name": "a"}],
            "identifiers": {"t": {"cairo_type": "(a: felt, b : felt)", "value": 3}},
            "reference_manager": {"references": [{"value": "cast(x, (a: felt))"}]},
            "data": ["0x1"]}"#;
        assert_eq!(
            program_json(p),
            r#"{"attributes": [{"name": "a"}], "data": ["0x1"], "debug_info": null, "hints": {"9": [2], "10": [1]}, "identifiers": {"t": {"cairo_type": "(a : felt, b : felt)", "value": 3}}, "reference_manager": {"references": [{"value": "cast(x, (a : felt))"}]}}"#
        );
    }

    #[test]
    fn new_classes_keep_their_spacing_and_drop_empty_attributes() {
        let p = r#"{"compiler_version": "0.10.3", "attributes": [],
            "identifiers": {"t": {"cairo_type": "(a: felt)"}}}"#;
        assert_eq!(
            program_json(p),
            r#"{"compiler_version": "0.10.3", "debug_info": null, "identifiers": {"t": {"cairo_type": "(a: felt)"}}}"#
        );
        let p = r#"{"compiler_version": null}"#;
        assert_eq!(program_json(p), r#"{"debug_info": null}"#);
    }
}
