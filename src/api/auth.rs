//! Bearer JWT authentication: HS256 secrets and EdDSA public keys selected by `kid` (several at
//! once, so keys rotate without downtime), algorithm pinned per key, `iss`/`aud`/`exp`/`iat`/`sub`
//! required, scopes `read` and `admin` (admin includes read).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::config::{ApiConfig, ApiKey, KeyAlg};
use super::error::ApiError;
use super::ApiState;

/// A key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("api.keys (kid `{kid}`): {path}: {source}")]
    Io {
        kid: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("api.keys (kid `{kid}`): {reason}")]
    Invalid { kid: String, reason: String },
    #[error("no api key can mint tokens{0}")]
    CannotMint(String),
}

/// Claims every token must carry.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub exp: u64,
    pub iat: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Space-separated scopes: `read`, `admin`.
    #[serde(default)]
    pub scope: String,
}

/// Who made a request (its token's subject) and what it may do.
#[derive(Debug, Clone)]
pub struct Principal {
    pub sub: String,
    pub admin: bool,
    pub read: bool,
}

struct VerifyKey {
    alg: Algorithm,
    key: DecodingKey,
}

/// The keys of `[[api.keys]]`, ready to verify (and, where the secret is known, mint) tokens.
pub struct Keyring {
    verify: HashMap<String, VerifyKey>,
    mint: HashMap<String, (Algorithm, EncodingKey)>,
    issuer: String,
    audience: String,
    leeway: Duration,
}

fn read(kid: &str, path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Io {
        kid: kid.into(),
        path: path.into(),
        source,
    })
}

fn invalid(kid: &str, e: impl std::fmt::Display) -> KeyError {
    KeyError::Invalid {
        kid: kid.into(),
        reason: e.to_string(),
    }
}

impl Keyring {
    /// Loads every configured key (reading secret and PEM files).
    pub fn from_config(cfg: &ApiConfig) -> Result<Self, KeyError> {
        let mut ring = Keyring {
            verify: HashMap::new(),
            mint: HashMap::new(),
            issuer: cfg.issuer.clone(),
            audience: cfg.audience.clone(),
            leeway: cfg.leeway,
        };
        for k in &cfg.keys {
            ring.load(k)?;
        }
        Ok(ring)
    }

    fn load(&mut self, k: &ApiKey) -> Result<(), KeyError> {
        let kid = k.kid.as_str();
        match k.alg {
            KeyAlg::HS256 => {
                let secret = match (&k.secret, &k.secret_file) {
                    (Some(s), _) => s.expose().as_bytes().to_vec(),
                    (None, Some(p)) => trim(read(kid, p)?),
                    (None, None) => return Err(invalid(kid, "no secret")),
                };
                if secret.len() < 32 {
                    return Err(invalid(kid, "HS256 secret must be at least 32 bytes"));
                }
                let vk = VerifyKey {
                    alg: Algorithm::HS256,
                    key: DecodingKey::from_secret(&secret),
                };
                self.verify.insert(kid.into(), vk);
                self.mint.insert(
                    kid.into(),
                    (Algorithm::HS256, EncodingKey::from_secret(&secret)),
                );
            }
            KeyAlg::EdDSA => {
                let path = k
                    .public_key_file
                    .as_ref()
                    .ok_or_else(|| invalid(kid, "no public_key_file"))?;
                let key =
                    DecodingKey::from_ed_pem(&read(kid, path)?).map_err(|e| invalid(kid, e))?;
                self.verify.insert(
                    kid.into(),
                    VerifyKey {
                        alg: Algorithm::EdDSA,
                        key,
                    },
                );
                if let Some(p) = &k.private_key_file {
                    let ek =
                        EncodingKey::from_ed_pem(&read(kid, p)?).map_err(|e| invalid(kid, e))?;
                    self.mint.insert(kid.into(), (Algorithm::EdDSA, ek));
                }
            }
        }
        Ok(())
    }

    /// True when no key is configured: no token can be valid.
    pub fn is_empty(&self) -> bool {
        self.verify.is_empty()
    }

    /// Checks a bearer token; the error message says what is wrong with it.
    pub fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        let unauthorized = |m: String| ApiError::Unauthorized(m);
        if self.is_empty() {
            return Err(unauthorized(
                "no API keys are configured on this relay".into(),
            ));
        }
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| unauthorized(format!("malformed token: {e}")))?;
        let (kid, key) = self.key_for(header.kid.as_deref())?;
        if header.alg != key.alg {
            return Err(unauthorized(format!(
                "algorithm {:?} is not accepted for key `{kid}`",
                header.alg
            )));
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &self.validation(key.alg))
            .map_err(|e| unauthorized(describe(e.kind())))?
            .claims;
        let now = jsonwebtoken::get_current_timestamp();
        if claims.iat > now + self.leeway.as_secs() {
            return Err(unauthorized(
                "token not yet valid: iat is in the future".into(),
            ));
        }
        let scopes: Vec<&str> = claims.scope.split_whitespace().collect();
        let admin = scopes.contains(&"admin");
        Ok(Principal {
            sub: claims.sub,
            admin,
            read: admin || scopes.contains(&"read"),
        })
    }

    fn key_for(&self, kid: Option<&str>) -> Result<(String, &VerifyKey), ApiError> {
        match kid {
            Some(kid) => self
                .verify
                .get(kid)
                .map(|k| (kid.to_string(), k))
                .ok_or_else(|| ApiError::Unauthorized(format!("unknown key id `{kid}`"))),
            None if self.verify.len() == 1 => {
                let (kid, k) = self.verify.iter().next().expect("one key");
                Ok((kid.clone(), k))
            }
            None => Err(ApiError::Unauthorized("token header lacks `kid`".into())),
        }
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["iss", "aud", "exp", "iat", "sub"]);
        v.validate_nbf = true;
        v.leeway = self.leeway.as_secs();
        v
    }

    /// Mints a token (what `wharf token` prints) with the key `kid`, or the only mintable key.
    pub fn mint(
        &self,
        kid: Option<&str>,
        sub: &str,
        scope: &str,
        ttl: Duration,
    ) -> Result<String, KeyError> {
        let (kid, (alg, key)) = match kid {
            Some(k) => (
                k,
                self.mint.get(k).ok_or_else(|| {
                    KeyError::CannotMint(format!(" (kid `{k}` unknown or public only)"))
                })?,
            ),
            None if self.mint.len() == 1 => {
                let (k, v) = self.mint.iter().next().expect("one key");
                (k.as_str(), v)
            }
            None => return Err(KeyError::CannotMint(": pass --kid".into())),
        };
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: sub.into(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp: now + ttl.as_secs(),
            iat: now,
            nbf: None,
            scope: scope.into(),
        };
        let mut header = Header::new(*alg);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &claims, key).map_err(|e| invalid(kid, e))
    }
}

fn trim(mut bytes: Vec<u8>) -> Vec<u8> {
    while bytes.last().is_some_and(|b| b.is_ascii_whitespace()) {
        bytes.pop();
    }
    bytes
}

fn describe(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "token expired".into(),
        ErrorKind::ImmatureSignature => "token not yet valid (nbf)".into(),
        ErrorKind::InvalidSignature => "bad signature".into(),
        ErrorKind::InvalidAudience => "wrong audience".into(),
        ErrorKind::InvalidIssuer => "wrong issuer".into(),
        ErrorKind::InvalidAlgorithm => "algorithm not accepted".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("missing claim `{c}`"),
        other => format!("invalid token: {other:?}"),
    }
}

/// The token's principal, from the `Authorization: Bearer` header.
fn principal(ring: &Keyring, req: &Request) -> Result<Principal, ApiError> {
    let value = req
        .headers()
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::Unauthorized("Authorization must be `Bearer <token>`".into()))?;
    ring.verify(token.trim())
}

async fn require(
    keys: &Arc<Keyring>,
    admin: bool,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let p = principal(keys, &req)?;
    match (admin, p.admin, p.read) {
        (true, false, _) => Err(ApiError::Forbidden("admin")),
        (false, _, false) => Err(ApiError::Forbidden("read")),
        _ => {
            req.extensions_mut().insert(p);
            Ok(next.run(req).await)
        }
    }
}

/// Middleware: a token with the `read` scope (or `admin`).
pub async fn require_read(
    State(st): State<ApiState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    require(&st.keys, false, req, next).await
}

/// Middleware: a token with the `admin` scope.
pub async fn require_admin(
    State(st): State<ApiState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    require(&st.keys, true, req, next).await
}
