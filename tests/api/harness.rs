//! A relay with an HS256 key and an EdDSA key, a client, and token helpers.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use libp2p::identity::ed25519;
use serde_json::{json, Value};
use wharf::config::{ApiKey, KeyAlg, Secret};
use wharf::{App, Config};

use crate::common;

pub const HS_KID: &str = "hs-2026";
pub const HS_SECRET: &str = "0123456789abcdef0123456789abcdef-test-secret";
pub const ED_KID: &str = "ed-2026";

pub struct Api {
    pub app: App,
    pub base: String,
    pub http: reqwest::Client,
    pub ed_private_pem: String,
    _dir: tempfile::TempDir,
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n")
}

/// Writes an Ed25519 key pair as PKCS#8 / SPKI PEM files; returns the private PEM.
fn write_ed_keys(dir: &Path) -> String {
    let kp = ed25519::Keypair::generate();
    let secret = kp.secret();
    let mut pkcs8 = hex::decode("302e020100300506032b657004220420").unwrap();
    pkcs8.extend_from_slice(secret.as_ref());
    let mut spki = hex::decode("302a300506032b6570032100").unwrap();
    spki.extend_from_slice(&kp.public().to_bytes());
    let private = pem("PRIVATE KEY", &pkcs8);
    std::fs::write(dir.join("ed.key"), &private).unwrap();
    std::fs::write(dir.join("ed.pub"), pem("PUBLIC KEY", &spki)).unwrap();
    private
}

pub fn api_config(dir: &Path) -> Config {
    let mut c = common::config(dir);
    c.api.keys = vec![
        ApiKey {
            kid: HS_KID.into(),
            alg: KeyAlg::HS256,
            secret: Some(Secret::new(HS_SECRET)),
            secret_file: None,
            public_key_file: None,
            private_key_file: None,
        },
        ApiKey {
            kid: ED_KID.into(),
            alg: KeyAlg::EdDSA,
            secret: None,
            secret_file: None,
            public_key_file: Some(dir.join("ed.pub")),
            private_key_file: None,
        },
    ];
    c
}

impl Api {
    pub async fn start() -> Api {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Api {
        let dir = tempfile::tempdir().unwrap();
        let ed_private_pem = write_ed_keys(dir.path());
        let mut cfg = api_config(dir.path());
        tweak(&mut cfg);
        let app = App::start(cfg).await.unwrap();
        let base = format!("http://{}", app.api_addr);
        Api {
            app,
            base,
            http: reqwest::Client::new(),
            ed_private_pem,
            _dir: dir,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, token: &str) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Opens `GET /api/v1/events` with a read token.
    pub async fn events(&self) -> reqwest::Response {
        let url = format!("{}/api/v1/events", self.base);
        self.http
            .get(url)
            .bearer_auth(read_token())
            .send()
            .await
            .unwrap()
    }

    pub fn app_data_dir(&self) -> &Path {
        self._dir.path()
    }

    pub async fn stop(self) {
        self.app.shutdown().await;
    }
}

pub fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// Standard valid claims with `scope`, overridden by `extra`.
pub fn claims(scope: &str, extra: Value) -> Value {
    let mut c = json!({
        "sub": "tester", "iss": "wharf", "aud": "wharf-admin",
        "iat": now(), "exp": now() + 600, "scope": scope,
    });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

pub fn hs_token(kid: Option<&str>, secret: &str, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::HS256);
    h.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&h, claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

pub fn admin_token() -> String {
    hs_token(Some(HS_KID), HS_SECRET, &claims("admin", json!({})))
}

pub fn read_token() -> String {
    hs_token(Some(HS_KID), HS_SECRET, &claims("read", json!({})))
}

pub fn ed_token(private_pem: &str, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::EdDSA);
    h.kid = Some(ED_KID.into());
    let key = EncodingKey::from_ed_pem(private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&h, claims, &key).unwrap()
}

/// A token with `alg: none` and no signature.
pub fn none_token() -> String {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let header = json!({"alg": "none", "typ": "JWT", "kid": HS_KID});
    format!("{}.{}.", b64(&header), b64(&claims("admin", json!({}))))
}

pub const LONG: Duration = Duration::from_secs(10);
