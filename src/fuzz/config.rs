//! Fuzz targets of what an operator or an API client hands the relay: the TOML config file and
//! bearer tokens (the JWT verifier with an HS256 and an EdDSA key).

use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

use crate::api::Keyring;
use crate::chain::devnet::keypair_from_seed;
use crate::config::{ApiConfig, ApiKey, KeyAlg, Secret};
use crate::Config;

/// The HS256 key's id and secret, and the EdDSA key's id (its key derives from seed 1).
pub const TOKEN_KEYS: [(&str, KeyAlg); 2] =
    [("fuzz-hs", KeyAlg::HS256), ("fuzz-ed", KeyAlg::EdDSA)];
const HS_SECRET: &str = "fuzz-secret-0123456789abcdef-0123456789";
/// The issuer tokens must name (the default `[api]` one).
pub const TOKEN_ISSUER: &str = "wharf";

/// A config file's text, loaded as `wharf --config` does (defaults, the file, no overrides).
/// A config that loads serialises to TOML that loads again.
pub fn config_toml(data: &[u8]) {
    let Ok(config) = load(data) else {
        return;
    };
    let text = toml::to_string(&config).expect("a loaded config serialises");
    if let Err(e) = load(text.as_bytes()) {
        panic!("a loaded config does not load again: {e}\n{text}");
    }
}

fn load(text: &[u8]) -> Result<Config, crate::config::ConfigError> {
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    file.write_all(text).expect("writing a temporary file");
    Config::load(Some(file.path()), serde_json::json!({}))
}

/// A bearer token (the text after `Bearer `), checked by the API's verifier. No token without
/// a valid signature is accepted; an accepted one names a configured key and algorithm.
pub fn api_token(data: &[u8]) {
    let token = String::from_utf8_lossy(data);
    let Ok(principal) = token_keyring().verify(token.trim()) else {
        return;
    };
    assert!(!principal.admin || principal.read, "admin without read");
    let header = jsonwebtoken::decode_header(token.trim()).expect("an accepted token's header");
    let kid = header.kid.unwrap_or_default();
    assert!(
        TOKEN_KEYS.iter().any(|(k, _)| *k == kid),
        "accepted a token of unknown key `{kid}`"
    );
}

/// The keyring [`api_token`] verifies with; its keys can mint (seed tokens are minted with it).
pub fn token_keyring() -> &'static Keyring {
    static RING: OnceLock<Keyring> = OnceLock::new();
    RING.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let keypair = keypair_from_seed(1);
        let mut pkcs8 = hex::decode("302e020100300506032b657004220420").expect("hex");
        pkcs8.extend_from_slice(keypair.secret().as_ref());
        let mut spki = hex::decode("302a300506032b6570032100").expect("hex");
        spki.extend_from_slice(&keypair.public().to_bytes());
        let (private, public) = (dir.path().join("ed.key"), dir.path().join("ed.pub"));
        std::fs::write(&private, pem("PRIVATE KEY", &pkcs8)).expect("write key");
        std::fs::write(&public, pem("PUBLIC KEY", &spki)).expect("write key");
        let key = |(kid, alg): (&str, KeyAlg)| ApiKey {
            kid: kid.into(),
            alg,
            secret: (alg == KeyAlg::HS256).then(|| Secret::new(HS_SECRET)),
            secret_file: None,
            public_key_file: (alg == KeyAlg::EdDSA).then(|| public.clone()),
            private_key_file: (alg == KeyAlg::EdDSA).then(|| private.clone()),
        };
        let cfg = ApiConfig {
            keys: TOKEN_KEYS.map(key).to_vec(),
            issuer: TOKEN_ISSUER.into(),
            leeway: Duration::from_secs(30),
            ..ApiConfig::default()
        };
        Keyring::from_config(&cfg).expect("fuzz keys load")
    })
}

/// PEM armour (standard base64, one line) around DER bytes.
fn pem(label: &str, der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            let c = if i <= chunk.len() {
                ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            };
            b64.push(c);
        }
    }
    format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n")
}
