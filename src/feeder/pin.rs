//! Gateway key pinning: the key that signs upstream blocks is fixed once (flag, Starknet
//! preset, or trust on first use written to `<data_dir>/gateway.pub`) and never silently
//! changes.

use std::path::{Path, PathBuf};

use super::backoff::Backoff;
use super::upstream::fetch_public_key;
use super::{FeederConfig, FeederError};
use crate::chain::{starknet_preset, ChainKind};

/// File holding the pinned gateway key (hex) inside the data directory.
pub const GATEWAY_KEY_FILE: &str = "gateway.pub";

/// The upstream key: configured, else a Starknet preset's pinned sequencer key, else pinned in
/// the data dir, else (feeders only) fetched from the gateway and pinned. `None` when no key is
/// known (a relay that only bootstraps).
pub async fn upstream_key(
    cfg: &FeederConfig,
    kind: ChainKind,
    network: &str,
    data_dir: &Path,
) -> Result<Option<Vec<u8>>, FeederError> {
    let preset = starknet_preset(network).filter(|_| kind == ChainKind::Starknet);
    if let (None, Some(preset)) = (&cfg.gateway_public_key, preset) {
        let key = starknet_crypto::Felt::from_hex(preset.public_key)
            .map_err(|e| FeederError::BadKey(e.to_string()))?;
        return Ok(Some(key.to_bytes_be().to_vec()));
    }
    if cfg.enabled {
        return Ok(Some(pin_with_retry(cfg, kind, data_dir).await?));
    }
    known_gateway_key(cfg, data_dir).await
}

/// The feeder's pinned key; while the gateway cannot be reached to fetch it (first start,
/// gateway not up yet) the fetch is retried with capped backoff, as every other gateway error is.
async fn pin_with_retry(
    cfg: &FeederConfig,
    kind: ChainKind,
    data_dir: &Path,
) -> Result<Vec<u8>, FeederError> {
    let mut backoff = Backoff::new(cfg.backoff_initial, cfg.backoff_max);
    loop {
        match pin_gateway_key(cfg, kind, data_dir).await {
            Err(FeederError::Gateway(e)) => {
                let delay = backoff.next_delay();
                tracing::warn!(gateway = %cfg.gateway_url, error = %e, retry_in = ?delay,
                    "gateway unreachable: cannot pin its public key yet");
                tokio::time::sleep(delay).await;
            }
            other => return other,
        }
    }
}

/// Returns the raw bytes of the gateway public key to verify blocks with: the
/// configured `gateway_public_key`, else the pinned file, else the key fetched from the
/// gateway (the `kind` of upstream says how to ask), which is then pinned to
/// `<data_dir>/gateway.pub` with a loud warning.
pub async fn pin_gateway_key(
    cfg: &FeederConfig,
    kind: ChainKind,
    data_dir: &Path,
) -> Result<Vec<u8>, FeederError> {
    match known_gateway_key(cfg, data_dir).await? {
        Some(key) => Ok(key),
        None => fetch_and_pin(cfg, kind, data_dir, data_dir.join(GATEWAY_KEY_FILE)).await,
    }
}

/// The configured key, else the pinned one; `None` if neither exists (never fetches: relays
/// that sync over P2P must not trust whoever answers first).
pub async fn known_gateway_key(
    cfg: &FeederConfig,
    data_dir: &Path,
) -> Result<Option<Vec<u8>>, FeederError> {
    let path = data_dir.join(GATEWAY_KEY_FILE);
    if let Some(configured) = &cfg.gateway_public_key {
        let key = decode(configured)?;
        warn_if_pinned_differs(&path, &key).await;
        return Ok(Some(key));
    }
    match tokio::fs::read_to_string(&path).await {
        Ok(pinned) => decode(&pinned).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FeederError::KeyFile { path, source: e }),
    }
}

async fn fetch_and_pin(
    cfg: &FeederConfig,
    kind: ChainKind,
    data_dir: &Path,
    path: PathBuf,
) -> Result<Vec<u8>, FeederError> {
    let key = fetch_public_key(cfg, kind).await?;
    let io = |source| FeederError::KeyFile {
        path: path.clone(),
        source,
    };
    tokio::fs::create_dir_all(data_dir).await.map_err(io)?;
    tokio::fs::write(&path, format!("{}\n", hex::encode(&key)))
        .await
        .map_err(io)?;
    tracing::warn!(
        key = %hex::encode(&key),
        gateway = %cfg.gateway_url,
        file = %path.display(),
        "TRUST ON FIRST USE: pinned the gateway public key fetched from the gateway; \
         check it out of band, set --gateway-public-key to pin it explicitly, or delete the file to re-pin"
    );
    Ok(key)
}

/// The configured key wins, but a different key pinned earlier deserves attention.
async fn warn_if_pinned_differs(path: &Path, key: &[u8]) {
    let Ok(pinned) = tokio::fs::read_to_string(path).await else {
        return;
    };
    if decode(&pinned).ok().as_deref() != Some(key) {
        tracing::warn!(file = %path.display(), configured = %hex::encode(key),
            "configured gateway public key differs from the key pinned earlier; using the configured key");
    }
}

fn decode(hex_key: &str) -> Result<Vec<u8>, FeederError> {
    let hex_key = hex_key.trim();
    let hex_key = hex_key.strip_prefix("0x").unwrap_or(hex_key);
    hex::decode(hex_key).map_err(|e| FeederError::BadKey(e.to_string()))
}
