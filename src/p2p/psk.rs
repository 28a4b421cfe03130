//! Private networks: the libp2p pre-shared key, from 64 hex chars or a `swarm.key` file.

use std::path::Path;
use std::str::FromStr;

use libp2p::pnet::PreSharedKey;

/// Why a shared key could not be used.
#[derive(Debug, thiserror::Error)]
#[error("p2p.shared_key: {0}")]
pub struct PskError(String);

/// Parses 64 hex chars, or reads a `/key/swarm/psk/1.0.0/` file at that path.
pub fn parse(value: &str) -> Result<PreSharedKey, PskError> {
    let v = value.trim();
    if v.len() == 64 && v.chars().all(|c| c.is_ascii_hexdigit()) {
        let mut key = [0u8; 32];
        hex::decode_to_slice(v, &mut key).map_err(|e| PskError(e.to_string()))?;
        return Ok(PreSharedKey::new(key));
    }
    let path = Path::new(v);
    if !path.exists() {
        return Err(PskError(
            "neither 64 hex characters nor the path of an existing swarm.key file".into(),
        ));
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| PskError(format!("{}: {e}", path.display())))?;
    PreSharedKey::from_str(&text).map_err(|e| PskError(format!("{}: {e}", path.display())))
}

/// A fresh key in the `swarm.key` file format (what `wharf psk` prints).
pub fn generate() -> String {
    let key: [u8; 32] = rand::random();
    PreSharedKey::new(key).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_format_and_hex_agree() {
        let text = generate();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("swarm.key");
        std::fs::write(&path, &text).unwrap();
        let from_file = parse(path.to_str().unwrap()).unwrap();
        let hex_line = text.lines().last().unwrap();
        let from_hex = parse(hex_line).unwrap();
        assert_eq!(
            from_file.fingerprint().to_string(),
            from_hex.fingerprint().to_string()
        );
    }

    #[test]
    fn garbage_is_refused() {
        assert!(parse("not-a-key").is_err());
        assert!(parse(&"g".repeat(64)).is_err());
    }
}
