//! `[api]` section: the admin REST API listener, its JWT keys and its limits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// Signature algorithm of one API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyAlg {
    /// HMAC-SHA256 with a shared secret.
    HS256,
    /// Ed25519 signatures; the API holds only the public key.
    EdDSA,
}

/// `[[api.keys]]`: one key that may sign admin tokens, selected by the token header's `kid`.
/// Several keys at once let operators rotate without downtime.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// Key id; tokens name it in their `kid` header.
    pub kid: String,
    /// `HS256` or `EdDSA`; a token signed with any other algorithm is refused.
    pub alg: KeyAlg,
    /// HS256: the secret itself (prefer `secret_file` or the env).
    #[serde(default)]
    pub secret: Option<Secret>,
    /// HS256: a file holding the secret (trailing whitespace ignored).
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// EdDSA: PEM file of the Ed25519 public key (verifies tokens).
    #[serde(default)]
    pub public_key_file: Option<PathBuf>,
    /// EdDSA: PEM file of the Ed25519 private key (only `wharf token` needs it, to mint).
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
}

/// `[api]`: see the module docs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Listen address. Default `127.0.0.1:8080`. Without keys it must be a loopback address.
    pub listen: SocketAddr,
    /// Required `iss` claim. Default `wharf`.
    pub issuer: String,
    /// Required `aud` claim. Default `wharf-admin`.
    pub audience: String,
    /// Keys accepted for bearer tokens. Default none (then `/api/v1` answers 401).
    pub keys: Vec<ApiKey>,
    /// Clock skew tolerated on `exp`, `nbf`, `iat`. Default 30s.
    #[serde(with = "humantime_serde")]
    pub leeway: Duration,
    /// Requests per second one client IP may make (token bucket refill). Default 50.
    pub rate_limit_per_second: u32,
    /// Burst a client IP may make at once. Default 100.
    pub rate_limit_burst: u32,
    /// Largest request body accepted, in bytes. Default 65536.
    pub max_body_bytes: usize,
    /// `/readyz` fails when the local head trails the best known head by more blocks. Default 10.
    pub ready_max_lag_blocks: u64,
    /// A client must send a request's complete headers within this time or is disconnected
    /// (slow-loris defence). Default `10s`.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Open connections to the API at most; further ones wait in the listen backlog until one
    /// closes. Default 1024.
    pub max_connections: usize,
    /// Concurrent `/api/v1/events` subscribers at most; one more gets 503. Default 64.
    pub max_event_subscribers: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            issuer: "wharf".into(),
            audience: "wharf-admin".into(),
            keys: Vec::new(),
            leeway: Duration::from_secs(30),
            rate_limit_per_second: 50,
            rate_limit_burst: 100,
            max_body_bytes: 64 * 1024,
            ready_max_lag_blocks: 10,
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            max_event_subscribers: 64,
        }
    }
}

impl ApiConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.keys.is_empty() && !self.listen.ip().is_loopback() {
            return Err(format!(
                "api.listen: {} is not loopback and no api.keys are configured; \
                 refusing to expose the admin API without authentication",
                self.listen
            ));
        }
        if self.max_connections == 0 || self.header_read_timeout.is_zero() {
            return Err(
                "api.max_connections and api.header_read_timeout must be greater than zero".into(),
            );
        }
        if self.rate_limit_per_second == 0 || self.rate_limit_burst == 0 {
            return Err(
                "api.rate_limit_per_second and api.rate_limit_burst must be at least 1".into(),
            );
        }
        self.keys.iter().try_for_each(validate_key)
    }
}

fn validate_key(k: &ApiKey) -> Result<(), String> {
    let bad = |what: &str| format!("api.keys (kid `{}`): {what}", k.kid);
    match k.alg {
        KeyAlg::HS256 if k.secret.is_none() == k.secret_file.is_none() => {
            Err(bad("HS256 needs exactly one of secret, secret_file"))
        }
        KeyAlg::EdDSA if k.public_key_file.is_none() => Err(bad("EdDSA needs public_key_file")),
        _ if k.kid.is_empty() => Err(bad("kid must not be empty")),
        _ => Ok(()),
    }
}
