//! Felts as the feeder gateway writes them (`0x`-hex strings), short strings,
//! `starknet_keccak`, and JSON helpers that parse without copying and name the
//! offending field when the input is garbage.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};
use sha3::{Digest, Keccak256};
pub use starknet_crypto::Felt;

use crate::chain::VerifyError;

/// The field prime `2^251 + 17 * 2^192 + 1`, big-endian.
const PRIME_BE: [u8; 32] = {
    let mut p = [0u8; 32];
    p[0] = 0x08;
    p[7] = 0x11;
    p[31] = 0x01;
    p
};

/// Parses a hex felt (1 to 64 digits, value below the prime), `0x`-prefixed or not: the
/// gateway's early mainnet answers write `state_root`, `new_root` and `old_root` unprefixed.
pub fn parse_felt(s: &str) -> Result<Felt, &'static str> {
    let bytes = parse_hex32(s)?;
    if bytes >= PRIME_BE {
        return Err("felt is not below the field prime");
    }
    Ok(Felt::from_bytes_be(&bytes))
}

/// Parses (`0x`) + 1..=64 hex digits into 32 big-endian bytes.
fn parse_hex32(s: &str) -> Result<[u8; 32], &'static str> {
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if digits.is_empty() || digits.len() > 64 {
        return Err("felt must have 1 to 64 hex digits");
    }
    let mut out = [0u8; 32];
    for (i, c) in digits.bytes().rev().enumerate() {
        let v = hex_digit(c).ok_or("felt has a non-hex digit")?;
        out[31 - i / 2] |= if i % 2 == 0 { v } else { v << 4 };
    }
    Ok(out)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Minimal lowercase `0x` hex (`0x0` for zero), the gateway's own spelling.
pub fn felt_hex(f: &Felt) -> String {
    format!("{f:#x}")
}

/// A Cairo short string (at most 31 ASCII bytes) as a felt, e.g. a chain id.
pub fn short_string(s: &str) -> Option<Felt> {
    (s.len() <= 31 && s.is_ascii()).then(|| Felt::from_bytes_be_slice(s.as_bytes()))
}

/// `starknet_keccak`: Keccak-256 truncated to its low 250 bits.
pub fn starknet_keccak(data: &[u8]) -> Felt {
    let mut digest: [u8; 32] = Keccak256::digest(data).into();
    digest[0] &= 0x03;
    Felt::from_bytes_be(&digest)
}

/// A felt in JSON: a hex string, parsed without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct F(pub Felt);

impl<'de> Deserialize<'de> for F {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = F;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a hex felt string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<F, E> {
                parse_felt(s)
                    .map(F)
                    .map_err(|e| E::custom(format_args!("{e}: {s:.80}")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<F, E> {
                Ok(F(Felt::from(v)))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for F {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&felt_hex(&self.0))
    }
}

/// Felts of a JSON list.
pub fn felts(list: &[F]) -> impl ExactSizeIterator<Item = &Felt> + Clone {
    list.iter().map(|f| &f.0)
}

/// Deserializes `bytes` as `T`. On failure parses again with path tracking so the
/// [`VerifyError::Malformed`] names the field (e.g. `[3].calldata[1]`); the fast
/// path pays nothing for that.
pub fn from_json<'a, T: Deserialize<'a>>(
    what: &'static str,
    bytes: &'a [u8],
) -> Result<T, VerifyError> {
    match serde_json::from_slice(bytes) {
        Ok(value) => Ok(value),
        Err(plain) => {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Err(e) => Err(VerifyError::malformed(
                    what,
                    format_args!("at `{}`: {}", e.path(), e.inner()),
                )),
                Ok(_) => Err(VerifyError::malformed(what, plain)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_range() {
        let f = parse_felt("0x1a2B").unwrap();
        assert_eq!(f, Felt::from(0x1a2bu64));
        assert_eq!(felt_hex(&f), "0x1a2b");
        assert_eq!(felt_hex(&Felt::ZERO), "0x0");
        assert!(parse_felt("0x").is_err());
        assert!(parse_felt("").is_err());
        assert_eq!(parse_felt("021870ba").unwrap(), Felt::from(0x21870bau64));
        assert!(parse_felt("0xg").is_err());
        let p = "0x800000000000011000000000000000000000000000000000000000000000001";
        assert!(parse_felt(p).is_err());
        let p_minus_1 = "0x800000000000011000000000000000000000000000000000000000000000000";
        assert_eq!(parse_felt(p_minus_1).unwrap(), Felt::MAX);
    }

    #[test]
    fn short_strings_and_keccak() {
        assert_eq!(
            short_string("SN_SEPOLIA").unwrap(),
            Felt::from_hex_unchecked("0x534e5f5345504f4c4941")
        );
        assert!(short_string(&"x".repeat(32)).is_none());
        // sn_keccak("constructor"), the constructor entry point selector.
        assert_eq!(
            starknet_keccak(b"constructor"),
            Felt::from_hex_unchecked(
                "0x28ffe4ff0f226a9107253e17a904099aa4f63a02a5621de0576e5aa71bc5194"
            )
        );
    }
}
