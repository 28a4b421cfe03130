//! Wire → store for the `classes` protocol: a `Class` becomes the `get_class_by_hash`-style
//! definition the class store keeps and `class::verify_class` hashes.
//!
//! A Cairo 0 class travels with its program gzip-compressed and base64-encoded, as the
//! gateway's `get_full_contract` gives it; it is inflated (at most [`MAX_PROGRAM_BYTES`]) and
//! spliced into the definition as received, never re-serialised: a Cairo 0 program holds
//! integers beyond any float, and its hinted class hash is computed over its exact values.

use std::io::Read;

use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::from_wire::{felt, hex, req};
use super::MapError;
use crate::chain::classes::ClassHash;
use crate::chain::starknet::write_canonical;
use crate::sync::starknet::proto::starknet::class::{class, Cairo0Class, Cairo1Class, Class};
use crate::sync::starknet::proto::starknet::class::{EntryPoint, SierraEntryPoint};

/// Largest inflated Cairo 0 program accepted, in bytes (the largest real ones are a few MiB).
pub const MAX_PROGRAM_BYTES: u64 = 64 << 20;

/// The class hash and stored definition of a wire class.
pub fn class(c: &Class) -> Result<(ClassHash, Bytes), MapError> {
    let hash = felt(&c.class_hash, "class.class_hash")?.to_bytes_be();
    let definition = match req(&c.class, "class.class")? {
        class::Class::Cairo0(c0) => cairo0(c0)?,
        class::Class::Cairo1(c1) => sierra(c1)?,
    };
    Ok((hash, definition))
}

fn cairo0_entry_points(list: &[EntryPoint]) -> Result<Value, MapError> {
    let entries = list.iter().map(|e| {
        Ok(json!({
            "offset": format!("{:#x}", e.offset),
            "selector": hex(&e.selector, "cairo0.entry_point.selector")?,
        }))
    });
    entries
        .collect::<Result<Vec<_>, MapError>>()
        .map(Value::Array)
}

/// Checks that `text` is exactly one JSON value.
fn one_json_value(text: &[u8], what: &str) -> Result<(), MapError> {
    serde_json::from_slice::<serde::de::IgnoredAny>(text)
        .map(drop)
        .map_err(|e| MapError::invalid(what, e))
}

fn inflate(program: &str) -> Result<Vec<u8>, MapError> {
    let what = "cairo0.program";
    let gz = base64::engine::general_purpose::STANDARD
        .decode(program)
        .map_err(|e| MapError::invalid(what, format!("not base64: {e}")))?;
    let mut out = Vec::new();
    let mut reader = flate2::read::GzDecoder::new(gz.as_slice()).take(MAX_PROGRAM_BYTES + 1);
    reader
        .read_to_end(&mut out)
        .map_err(|e| MapError::invalid(what, format!("not gzip: {e}")))?;
    if out.len() as u64 > MAX_PROGRAM_BYTES {
        return Err(MapError::invalid(what, "inflates beyond the limit"));
    }
    Ok(out)
}

fn cairo0(c: &Cairo0Class) -> Result<Bytes, MapError> {
    let program = inflate(&c.program)?;
    one_json_value(&program, "cairo0.program")?;
    let mut kinds = Map::new();
    kinds.insert("CONSTRUCTOR".into(), cairo0_entry_points(&c.constructors)?);
    kinds.insert("EXTERNAL".into(), cairo0_entry_points(&c.externals)?);
    kinds.insert("L1_HANDLER".into(), cairo0_entry_points(&c.l1_handlers)?);
    let mut out = Vec::with_capacity(program.len() + c.abi.len() + 1024);
    out.push(b'{');
    if !c.abi.is_empty() {
        one_json_value(c.abi.as_bytes(), "cairo0.abi")?;
        out.extend_from_slice(b"\"abi\":");
        out.extend_from_slice(c.abi.as_bytes());
        out.push(b',');
    }
    out.extend_from_slice(b"\"entry_points_by_type\":");
    write_canonical(&Value::Object(kinds), &mut out);
    out.extend_from_slice(b",\"program\":");
    out.extend_from_slice(&program);
    out.push(b'}');
    Ok(Bytes::from(out))
}

fn sierra_entry_points(list: &[SierraEntryPoint]) -> Result<Value, MapError> {
    let entries = list.iter().map(|e| {
        Ok(json!({
            "function_idx": e.index,
            "selector": hex(&e.selector, "cairo1.entry_point.selector")?,
        }))
    });
    entries
        .collect::<Result<Vec<_>, MapError>>()
        .map(Value::Array)
}

fn sierra(c: &Cairo1Class) -> Result<Bytes, MapError> {
    let points = req(&c.entry_points, "cairo1.entry_points")?;
    let program = super::from_wire::hex_list(&c.program, "cairo1.program")?;
    let definition = json!({
        "abi": c.abi,
        "contract_class_version": c.contract_class_version,
        "entry_points_by_type": {
            "CONSTRUCTOR": sierra_entry_points(&points.constructors)?,
            "EXTERNAL": sierra_entry_points(&points.externals)?,
            "L1_HANDLER": sierra_entry_points(&points.l1_handlers)?,
        },
        "sierra_program": program,
    });
    let mut out = Vec::new();
    write_canonical(&definition, &mut out);
    Ok(Bytes::from(out))
}
