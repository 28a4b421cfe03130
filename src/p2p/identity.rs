//! The node's Ed25519 identity: parsed from hex (Juno's `--p2p-private-key` format) or created
//! once in the data dir (mode 0600) and reused, so the PeerID survives restarts.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use libp2p::identity::{ed25519, Keypair};

/// File in the data dir that holds the generated key as hex.
pub const KEY_FILE: &str = "identity.key";

/// Why an identity could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The hex did not decode to a valid Ed25519 key.
    #[error("p2p.private_key: {0}")]
    BadKey(String),
    /// The key file could not be read or written.
    #[error("key file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Decodes a hex private key: 64 bytes (secret || public, as Juno and go-libp2p print it) or the
/// 32-byte secret alone. An optional `0x` prefix is accepted.
pub fn keypair_from_hex(hex_str: &str) -> Result<Keypair, IdentityError> {
    let trimmed = hex_str.trim().trim_start_matches("0x");
    let mut bytes =
        hex::decode(trimmed).map_err(|e| IdentityError::BadKey(format!("not hex: {e}")))?;
    let kp = match bytes.len() {
        64 => ed25519::Keypair::try_from_bytes(&mut bytes)
            .map_err(|e| IdentityError::BadKey(format!("bad 64-byte key: {e}")))?,
        32 => ed25519::SecretKey::try_from_bytes(&mut bytes)
            .map(ed25519::Keypair::from)
            .map_err(|e| IdentityError::BadKey(format!("bad 32-byte key: {e}")))?,
        n => {
            return Err(IdentityError::BadKey(format!(
                "expected 64 bytes (128 hex chars) or 32 bytes, got {n} bytes"
            )))
        }
    };
    Ok(kp.into())
}

/// Hex of the 64-byte secret||public form (what `wharf keygen` prints).
pub fn keypair_to_hex(kp: &Keypair) -> String {
    let ed = kp
        .clone()
        .try_into_ed25519()
        .expect("wharf keys are ed25519");
    hex::encode(ed.to_bytes())
}

/// Hex of the 32-byte Ed25519 public key.
pub fn public_key_hex(kp: &Keypair) -> String {
    let ed = kp
        .clone()
        .try_into_ed25519()
        .expect("wharf keys are ed25519");
    hex::encode(ed.public().to_bytes())
}

/// The configured key if any; else the one in `<data_dir>/identity.key`, created on first use.
pub fn load_or_create(configured: Option<&str>, data_dir: &Path) -> Result<Keypair, IdentityError> {
    if let Some(hex_str) = configured {
        return keypair_from_hex(hex_str);
    }
    let path = data_dir.join(KEY_FILE);
    let io = |source| IdentityError::Io {
        path: path.clone(),
        source,
    };
    match fs::read_to_string(&path) {
        Ok(text) => keypair_from_hex(&text)
            .map_err(|e| IdentityError::BadKey(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(data_dir).map_err(io)?;
            let kp = Keypair::generate_ed25519();
            write_private(&path, &keypair_to_hex(&kp)).map_err(io)?;
            tracing::info!(path = %path.display(), peer_id = %kp.public().to_peer_id(), "created node key");
            Ok(kp)
        }
        Err(e) => Err(io(e)),
    }
}

/// Writes a secret file readable by the owner only; never overwrites.
pub(crate) fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_keeps_peer_id() {
        let kp = Keypair::generate_ed25519();
        let back = keypair_from_hex(&keypair_to_hex(&kp)).unwrap();
        assert_eq!(kp.public().to_peer_id(), back.public().to_peer_id());
    }

    #[test]
    fn secret_only_form_is_accepted() {
        let kp = Keypair::generate_ed25519();
        let full = keypair_to_hex(&kp);
        let back = keypair_from_hex(&full[..64]).unwrap();
        assert_eq!(kp.public().to_peer_id(), back.public().to_peer_id());
    }

    #[test]
    fn bad_hex_names_the_key() {
        let err = keypair_from_hex("zz").unwrap_err().to_string();
        assert!(err.contains("p2p.private_key"), "{err}");
        let err = keypair_from_hex("abcd").unwrap_err().to_string();
        assert!(err.contains("got 2 bytes"), "{err}");
    }

    #[test]
    fn mismatched_public_half_is_refused() {
        let a = keypair_to_hex(&Keypair::generate_ed25519());
        let b = keypair_to_hex(&Keypair::generate_ed25519());
        let spliced = format!("{}{}", &a[..64], &b[64..]);
        assert!(keypair_from_hex(&spliced).is_err());
    }
}
