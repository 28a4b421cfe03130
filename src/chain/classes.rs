//! Contract classes a block brings (Starknet; other chains have none), in the two forms the
//! rest of Wharf moves them in: a **class list** (the class hashes, 32 bytes each, in the
//! block's order) and a **class bundle** (each hash with its definition, as the feeder gateway
//! served it).
//!
//! The bundle is Wharf's internal form (store reads, the sync pipeline's `classes` part, the
//! feeder's commit): `hash (32 bytes) || len (u32 big-endian) || definition` per class. An empty
//! definition in a bundle handed to the store means "already stored" (the commit checks it).
//! The wire form of the `classes` sync component is in `proto/README.md`.

use bytes::{BufMut, Bytes, BytesMut};

use super::VerifyError;

/// A class hash: the felt, 32 bytes big-endian.
pub type ClassHash = [u8; 32];

/// One class of a block: its hash and its definition (empty: already stored, see module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassEntry {
    /// The class hash the state diff names.
    pub hash: ClassHash,
    /// The `get_class_by_hash` answer, byte for byte.
    pub definition: Bytes,
}

/// Which classes a block's state diff makes it bring (see the README, "Contract classes").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassNeeds {
    /// Declared in the block (`declared_classes`, `old_declared_contracts`): always listed.
    pub declared: Vec<ClassHash>,
    /// Class hashes of `deployed_contracts` that are not declared in the block: listed only by
    /// the block that first brings them (old blocks deployed undeclared Cairo 0 classes).
    pub deployed: Vec<ClassHash>,
}

/// Encodes a class list: the hashes concatenated.
pub fn encode_list(hashes: impl IntoIterator<Item = ClassHash>) -> Vec<u8> {
    hashes.into_iter().flatten().collect()
}

/// Decodes a class list; `Malformed` unless its length is a multiple of 32.
pub fn decode_list(bytes: &[u8]) -> Result<Vec<ClassHash>, VerifyError> {
    if !bytes.len().is_multiple_of(32) {
        return Err(VerifyError::malformed(
            "classes",
            "class list is not a multiple of 32 bytes",
        ));
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|c| c.try_into().expect("32 bytes"))
        .collect())
}

/// Encodes a class bundle (module docs).
pub fn encode_bundle(entries: &[ClassEntry]) -> Bytes {
    let len = entries.iter().map(|e| 36 + e.definition.len()).sum();
    let mut out = BytesMut::with_capacity(len);
    for entry in entries {
        out.put_slice(&entry.hash);
        out.put_u32(entry.definition.len() as u32);
        out.put_slice(&entry.definition);
    }
    out.freeze()
}

/// Decodes a class bundle without copying the definitions.
pub fn decode_bundle(bytes: &Bytes) -> Result<Vec<ClassEntry>, VerifyError> {
    Ok(bundle_slices(bytes)?
        .into_iter()
        .map(|(hash, definition)| ClassEntry {
            hash,
            definition: bytes.slice_ref(definition),
        })
        .collect())
}

/// Decodes a class bundle into (hash, definition) slices of `bytes`.
pub fn bundle_slices(bytes: &[u8]) -> Result<Vec<(ClassHash, &[u8])>, VerifyError> {
    let bad = |detail| VerifyError::malformed("classes", detail);
    let mut entries = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let head = rest.get(..36).ok_or_else(|| bad("truncated entry"))?;
        let hash: ClassHash = head[..32].try_into().expect("32 bytes");
        let len = u32::from_be_bytes(head[32..].try_into().expect("4 bytes")) as usize;
        let definition = rest
            .get(36..36 + len)
            .ok_or_else(|| bad("truncated definition"))?;
        entries.push((hash, definition));
        rest = &rest[36 + len..];
    }
    Ok(entries)
}

/// A class hash as the gateway writes it: `0x` and lowercase hex without leading zeros.
pub fn class_hash_hex(hash: &ClassHash) -> String {
    let hex = hex::encode(hash);
    let trimmed = hex.trim_start_matches('0');
    format!("0x{}", if trimmed.is_empty() { "0" } else { trimmed })
}

/// Parses `0x` + 1..=64 hex digits into a class hash (left-padded).
pub fn parse_class_hash(s: &str) -> Option<ClassHash> {
    let digits = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if digits.is_empty() || digits.len() > 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let padded = format!("{digits:0>64}");
    hex::decode(padded).ok()?.try_into().ok()
}

/// Checks a block's class list against what its state diff makes it bring: every declared class
/// listed, nothing listed twice, nothing listed that the block neither declares nor deploys.
pub fn check_list(needs: &ClassNeeds, listed: &[ClassHash]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::with_capacity(listed.len());
    for hash in listed {
        if !seen.insert(hash) {
            return Err(format!("class {} listed twice", class_hash_hex(hash)));
        }
        if !needs.declared.contains(hash) && !needs.deployed.contains(hash) {
            return Err(format!(
                "class {} is neither declared nor deployed by the block",
                class_hash_hex(hash)
            ));
        }
    }
    match needs.declared.iter().find(|h| !seen.contains(h)) {
        Some(missing) => Err(format!(
            "declared class {} is missing",
            class_hash_hex(missing)
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(byte: u8, def: &'static [u8]) -> ClassEntry {
        ClassEntry {
            hash: [byte; 32],
            definition: Bytes::from_static(def),
        }
    }

    #[test]
    fn bundles_round_trip_and_refuse_truncation() {
        let entries = vec![entry(1, b"{\"a\":1}"), entry(2, b"")];
        let bytes = encode_bundle(&entries);
        assert_eq!(decode_bundle(&bytes).unwrap(), entries);
        assert!(decode_bundle(&bytes.slice(..bytes.len() - 1)).is_err());
        assert!(decode_bundle(&Bytes::new()).unwrap().is_empty());
    }

    #[test]
    fn hashes_parse_and_print_like_the_gateway() {
        let hash =
            parse_class_hash("0x1b661756bf7d16210fc611626e1af4569baa1781ffc964bd018f4585ae241c1")
                .unwrap();
        assert_eq!(hash[0], 0x01);
        assert_eq!(
            class_hash_hex(&hash),
            "0x1b661756bf7d16210fc611626e1af4569baa1781ffc964bd018f4585ae241c1"
        );
        assert!(parse_class_hash("1b66").is_none());
        assert!(parse_class_hash("0x").is_none());
        assert!(parse_class_hash("0xzz").is_none());
        assert!(parse_class_hash(&format!("0x{}", "1".repeat(65))).is_none());
    }

    #[test]
    fn lists_must_match_the_state_diff() {
        let needs = ClassNeeds {
            declared: vec![[1; 32]],
            deployed: vec![[2; 32]],
        };
        assert!(check_list(&needs, &[[1; 32]]).is_ok());
        assert!(check_list(&needs, &[[2; 32], [1; 32]]).is_ok());
        assert!(check_list(&needs, &[[2; 32]]).is_err(), "declared missing");
        assert!(check_list(&needs, &[[1; 32], [1; 32]]).is_err(), "twice");
        assert!(check_list(&needs, &[[1; 32], [3; 32]]).is_err(), "stranger");
    }
}
