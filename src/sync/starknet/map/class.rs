//! `Class` messages from a stored class bundle: Cairo 0 (ABI as JSON text, program as
//! `base64(gzip(JSON))`, entry points with offsets) and Cairo 1 (Sierra program as felts).
//! The ABI and program are copied byte for byte from the definition the class hash was
//! verified on, never re-serialised (numbers of any size stay as written).

use std::ops::Range;

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use super::gzip::gzip_stored;
use super::json::{felt252, felt_of, hash, u64_of};
use super::MapError;
use crate::chain::classes::bundle_slices;
use crate::chain::starknet::Felt;
use crate::sync::starknet::proto::starknet::class::{
    class, Cairo0Class, Cairo1Class, Cairo1EntryPoints, Class, EntryPoint, SierraEntryPoint,
};

/// One message per class of the bundle, in the bundle's order.
pub fn classes_to_wire(bundle: &[u8]) -> Result<Vec<Class>, MapError> {
    let entries = bundle_slices(bundle).map_err(|e| MapError::Json {
        part: "classes",
        detail: e.to_string(),
    })?;
    entries
        .into_iter()
        .map(|(class_hash, definition)| {
            let body = class_body(definition)?;
            Ok(Class {
                class: Some(body),
                domain: 0,
                class_hash: Some(hash(&Felt::from_bytes_be(&class_hash))),
            })
        })
        .collect()
}

#[derive(Deserialize)]
struct EntryPoints {
    #[serde(rename = "EXTERNAL", default)]
    external: Vec<Value>,
    #[serde(rename = "L1_HANDLER", default)]
    l1_handler: Vec<Value>,
    #[serde(rename = "CONSTRUCTOR", default)]
    constructor: Vec<Value>,
}

/// The members a class needs beyond its ABI and program text.
#[derive(Deserialize)]
struct Definition {
    entry_points_by_type: EntryPoints,
    #[serde(default)]
    sierra_program: Option<Vec<Value>>,
    #[serde(default)]
    contract_class_version: Option<String>,
    #[serde(default)]
    abi: Option<Value>,
}

fn class_body(definition: &[u8]) -> Result<class::Class, MapError> {
    let def: Definition = serde_json::from_slice(definition).map_err(|e| MapError::Json {
        part: "class",
        detail: e.to_string(),
    })?;
    match def.sierra_program {
        Some(program) => cairo1(
            def.entry_points_by_type,
            program,
            def.contract_class_version,
            def.abi,
        ),
        None => cairo0(definition, &def.entry_points_by_type),
    }
}

fn cairo1(
    eps: EntryPoints,
    program: Vec<Value>,
    version: Option<String>,
    abi: Option<Value>,
) -> Result<class::Class, MapError> {
    let program = program
        .iter()
        .enumerate()
        .map(|(i, f)| {
            felt_of(f)
                .map(|f| felt252(&f))
                .map_err(|e| MapError::field(format!("class.sierra_program[{i}]"), e))
        })
        .collect::<Result<_, _>>()?;
    let abi = match abi {
        Some(Value::String(s)) => s,
        None => String::new(),
        Some(_) => return Err(MapError::field("class.abi", "not a string")),
    };
    let list = |l: &[Value], name: &str| -> Result<Vec<SierraEntryPoint>, MapError> {
        l.iter()
            .map(|e| {
                Ok(SierraEntryPoint {
                    index: entry_u64(e, "function_idx", name)?,
                    selector: Some(felt252(&entry_felt(e, "selector", name)?)),
                })
            })
            .collect()
    };
    Ok(class::Class::Cairo1(Cairo1Class {
        abi,
        entry_points: Some(Cairo1EntryPoints {
            externals: list(&eps.external, "EXTERNAL")?,
            l1_handlers: list(&eps.l1_handler, "L1_HANDLER")?,
            constructors: list(&eps.constructor, "CONSTRUCTOR")?,
        }),
        program,
        contract_class_version: version.unwrap_or_default(),
    }))
}

fn cairo0(definition: &[u8], eps: &EntryPoints) -> Result<class::Class, MapError> {
    let text = |key: &str| member_span(definition, key).map(|r| &definition[r]);
    let program = text("program").ok_or_else(|| MapError::field("class.program", "missing"))?;
    let abi = text("abi").map_or_else(|| "null".to_string(), |a| String::from_utf8_lossy(a).into());
    let list = |l: &[Value], name: &str| -> Result<Vec<EntryPoint>, MapError> {
        l.iter()
            .map(|e| {
                Ok(EntryPoint {
                    selector: Some(felt252(&entry_felt(e, "selector", name)?)),
                    offset: entry_u64(e, "offset", name)?,
                })
            })
            .collect()
    };
    Ok(class::Class::Cairo0(Cairo0Class {
        abi,
        externals: list(&eps.external, "EXTERNAL")?,
        l1_handlers: list(&eps.l1_handler, "L1_HANDLER")?,
        constructors: list(&eps.constructor, "CONSTRUCTOR")?,
        program: base64::engine::general_purpose::STANDARD.encode(gzip_stored(program)),
    }))
}

fn entry_felt(e: &Value, key: &str, list: &str) -> Result<Felt, MapError> {
    let field = || format!("class.entry_points_by_type.{list}[].{key}");
    let v = e
        .get(key)
        .ok_or_else(|| MapError::field(field(), "missing"))?;
    felt_of(v).map_err(|err| MapError::field(field(), err))
}

fn entry_u64(e: &Value, key: &str, list: &str) -> Result<u64, MapError> {
    let field = || format!("class.entry_points_by_type.{list}[].{key}");
    let v = e
        .get(key)
        .ok_or_else(|| MapError::field(field(), "missing"))?;
    u64_of(v).map_err(|err| MapError::field(field(), err))
}

/// Byte range of the value of the top-level member `key` of a JSON object (the last one if
/// repeated, as Python keeps it). The definition was parsed when its hash was verified, so
/// this only needs to find boundaries: strings (with escapes), nesting and scalars.
fn member_span(text: &[u8], key: &str) -> Option<Range<usize>> {
    let mut i = skip_ws(text, 0);
    if text.get(i) != Some(&b'{') {
        return None;
    }
    let mut found = None;
    i += 1;
    loop {
        i = skip_ws(text, i);
        if text.get(i) != Some(&b'"') {
            return found;
        }
        let key_end = skip_string(text, i)?;
        let name = &text[i + 1..key_end - 1];
        i = skip_ws(text, key_end);
        if text.get(i) != Some(&b':') {
            return found;
        }
        let start = skip_ws(text, i + 1);
        let end = skip_value(text, start)?;
        if name == key.as_bytes() {
            found = Some(start..end);
        }
        i = skip_ws(text, end);
        match text.get(i) {
            Some(b',') => i += 1,
            _ => return found,
        }
    }
}

fn skip_ws(text: &[u8], mut i: usize) -> usize {
    while text.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// End (exclusive) of the string starting at `i` (its opening quote).
fn skip_string(text: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < text.len() {
        match text[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// End (exclusive) of the value starting at `i`.
fn skip_value(text: &[u8], i: usize) -> Option<usize> {
    match text.get(i)? {
        b'"' => skip_string(text, i),
        b'{' | b'[' => {
            let (mut depth, mut j) = (0usize, i);
            while j < text.len() {
                match text[j] {
                    b'"' => {
                        j = skip_string(text, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let len = text[i..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace())
                .unwrap_or(text.len() - i);
            Some(i + len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_raw_text_of_top_level_members() {
        let doc = br#" {"a": {"x": "}\"]", "y": [1, {"z": 2}]}, "abi" : [ 1 ,2], "n": 12345678901234567890123 } "#;
        let span = |k| member_span(doc, k).map(|r| std::str::from_utf8(&doc[r]).unwrap());
        assert_eq!(span("a"), Some(r#"{"x": "}\"]", "y": [1, {"z": 2}]}"#));
        assert_eq!(span("abi"), Some("[ 1 ,2]"));
        assert_eq!(span("n"), Some("12345678901234567890123"));
        assert_eq!(span("x"), None, "only top-level members");
    }
}
