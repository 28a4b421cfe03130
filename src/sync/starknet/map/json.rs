//! Typed reads of the stored gateway JSON, each failure a [`MapError`] naming the field.

use serde_json::{Map, Value};

use super::MapError;
use crate::chain::starknet::{parse_felt, Felt};
use crate::sync::starknet::proto::starknet::common::{Address, Felt252, Hash, Uint128};

/// Parses one stored part.
pub fn parse(part: &'static str, bytes: &[u8]) -> Result<Value, MapError> {
    serde_json::from_slice(bytes).map_err(|e| MapError::Json {
        part,
        detail: e.to_string(),
    })
}

/// A JSON object and its path, for error messages.
#[derive(Clone, Copy)]
pub struct Obj<'a> {
    pub map: &'a Map<String, Value>,
    pub path: &'a str,
}

impl<'a> Obj<'a> {
    /// `value` as an object at `path`.
    pub fn new(value: &'a Value, path: &'a str) -> Result<Self, MapError> {
        let map = value
            .as_object()
            .ok_or_else(|| MapError::field(path, "not an object"))?;
        Ok(Obj { map, path })
    }

    fn name(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// The member `key`, if present and not null.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A required felt.
    pub fn felt(&self, key: &str) -> Result<Felt, MapError> {
        let v = self
            .get(key)
            .ok_or_else(|| MapError::field(self.name(key), "missing"))?;
        felt_of(v).map_err(|e| MapError::field(self.name(key), e))
    }

    /// A felt that defaults to zero when absent (fields the oldest blocks lack).
    pub fn felt_or_zero(&self, key: &str) -> Result<Felt, MapError> {
        match self.get(key) {
            None => Ok(Felt::ZERO),
            Some(_) => self.felt(key),
        }
    }

    /// A list of felts (absent: empty).
    pub fn felts(&self, key: &str) -> Result<Vec<Felt252>, MapError> {
        let Some(v) = self.get(key) else {
            return Ok(Vec::new());
        };
        let items = v
            .as_array()
            .ok_or_else(|| MapError::field(self.name(key), "not a list"))?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                felt_of(item)
                    .map(|f| felt252(&f))
                    .map_err(|e| MapError::field(format!("{}[{i}]", self.name(key)), e))
            })
            .collect()
    }

    /// A required unsigned integer (JSON number or hex string).
    pub fn u64(&self, key: &str) -> Result<u64, MapError> {
        let v = self
            .get(key)
            .ok_or_else(|| MapError::field(self.name(key), "missing"))?;
        u64_of(v).map_err(|e| MapError::field(self.name(key), e))
    }

    /// An unsigned integer that defaults to zero when absent.
    pub fn u64_or_zero(&self, key: &str) -> Result<u64, MapError> {
        match self.get(key) {
            None => Ok(0),
            Some(_) => self.u64(key),
        }
    }

    /// A nested object, if present.
    pub fn obj(&self, key: &str, path: &'a str) -> Result<Option<Obj<'a>>, MapError> {
        self.get(key).map(|v| Obj::new(v, path)).transpose()
    }

    /// A string member, if present.
    pub fn str(&self, key: &str) -> Option<&'a str> {
        self.get(key).and_then(Value::as_str)
    }
}

/// A felt from a hex string or a JSON number.
pub fn felt_of(v: &Value) -> Result<Felt, String> {
    match v {
        Value::String(s) => parse_felt(s).map_err(|e| format!("{e}: {s:.80}")),
        Value::Number(n) => n
            .as_u64()
            .map(Felt::from)
            .ok_or_else(|| format!("not an unsigned integer: {n}")),
        _ => Err("not a felt".into()),
    }
}

/// A `u64` from a JSON number or a hex string.
pub fn u64_of(v: &Value) -> Result<u64, String> {
    let felt = felt_of(v)?;
    let bytes = felt.to_bytes_be();
    if bytes[..24].iter().any(|b| *b != 0) {
        return Err("does not fit in 64 bits".into());
    }
    Ok(u64::from_be_bytes(bytes[24..].try_into().expect("8 bytes")))
}

/// A felt as the wire writes it: 32 bytes, big-endian (as Pathfinder and Juno do).
pub fn felt252(f: &Felt) -> Felt252 {
    Felt252 {
        elements: f.to_bytes_be().to_vec(),
    }
}

/// A hash (32 bytes, big-endian).
pub fn hash(f: &Felt) -> Hash {
    Hash {
        elements: f.to_bytes_be().to_vec(),
    }
}

/// An address (32 bytes, big-endian).
pub fn address(f: &Felt) -> Address {
    Address {
        elements: f.to_bytes_be().to_vec(),
    }
}

/// A felt below 2^128 as `Uint128`; `Err` when it does not fit.
pub fn uint128(f: &Felt, field: &str) -> Result<Uint128, MapError> {
    let bytes = f.to_bytes_be();
    if bytes[..16].iter().any(|b| *b != 0) {
        return Err(MapError::field(field, "does not fit in 128 bits"));
    }
    let high = u64::from_be_bytes(bytes[16..24].try_into().expect("8 bytes"));
    let low = u64::from_be_bytes(bytes[24..].try_into().expect("8 bytes"));
    Ok(Uint128 { low, high })
}
