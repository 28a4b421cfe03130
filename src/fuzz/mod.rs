//! Fuzz entry points: one `fn(&[u8])` per decoder that reads bytes from the network, the
//! gateway or an operator, each asserting the invariants that must hold for any input.
//!
//! They live in the library (not in `fuzz/`) so that two drivers share them: the cargo-fuzz
//! crate in `fuzz/` runs them coverage-guided, and `tests/fuzz.rs` replays the committed corpora
//! and mutates them for a few seconds under the normal test run (CI cannot afford an
//! instrumented build). A panic in any of them is a bug: decoders return typed errors.

mod chain;
mod config;
mod starknet;
mod sync;

pub use chain::{devnet_codec, gossip_header};
pub use config::{api_token, config_toml, token_keyring, TOKEN_KEYS};
pub use starknet::{
    starknet_bodies, starknet_class, starknet_gateway, starknet_header, starknet_p2p,
};
pub use sync::{head_message, sync_client, sync_frames};

use std::sync::{Arc, OnceLock};

use crate::chain::devnet::{keypair_from_seed, DevnetAdapter};
use crate::chain::starknet::StarknetAdapter;
use crate::chain::{starknet_preset, ChainAdapter};

/// A fuzz target: takes any bytes, panics only on a broken invariant.
pub type Target = fn(&[u8]);

/// Every fuzz target by name, as `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/` call it.
pub const TARGETS: &[(&str, Target)] = &[
    ("sync_frames", sync_frames),
    ("sync_client", sync_client),
    ("head_message", head_message),
    ("gossip_header", gossip_header),
    ("devnet_codec", devnet_codec),
    ("starknet_gateway", starknet_gateway),
    ("starknet_header", starknet_header),
    ("starknet_bodies", starknet_bodies),
    ("starknet_p2p", starknet_p2p),
    ("starknet_class", starknet_class),
    ("config_toml", config_toml),
    ("api_token", api_token),
];

/// Seed of the devnet key the targets verify with (seed corpora are signed with it).
pub const DEVNET_SEED: u64 = 7;

/// Separates the parts of a multi-part input (`0xff` never occurs in UTF-8 JSON).
pub const PART_SEPARATOR: u8 = 0xff;

/// The devnet adapter pinned to [`DEVNET_SEED`]'s key.
pub fn devnet_adapter() -> &'static DevnetAdapter {
    static ADAPTER: OnceLock<DevnetAdapter> = OnceLock::new();
    ADAPTER.get_or_init(|| DevnetAdapter::new(keypair_from_seed(DEVNET_SEED).public()))
}

/// The Starknet adapter of a preset network (`sepolia`, `sepolia-integration`).
pub fn starknet_adapter(network: &str) -> Arc<StarknetAdapter> {
    static SEPOLIA: OnceLock<Arc<StarknetAdapter>> = OnceLock::new();
    static INTEGRATION: OnceLock<Arc<StarknetAdapter>> = OnceLock::new();
    let cell = match network {
        "sepolia" => &SEPOLIA,
        _ => &INTEGRATION,
    };
    cell.get_or_init(|| {
        let preset = starknet_preset(network).expect("a preset network");
        let hex = preset.public_key.trim_start_matches("0x");
        let key = hex::decode(format!("{hex:0>64}")).expect("preset key is hex");
        Arc::new(StarknetAdapter::new(preset.chain_id, &key).expect("preset key is valid"))
    })
    .clone()
}

/// Both adapters a relay may run, as `&dyn ChainAdapter`.
fn adapters() -> [(&'static str, Arc<dyn ChainAdapter>); 2] {
    [
        ("devnet", Arc::new(devnet_adapter().clone())),
        ("starknet", starknet_adapter("sepolia")),
    ]
}

/// Splits a multi-part input at [`PART_SEPARATOR`]; `None` unless there are exactly `N` parts.
fn parts<const N: usize>(data: &[u8]) -> Option<[&[u8]; N]> {
    let split: Vec<&[u8]> = data.split(|b| *b == PART_SEPARATOR).collect();
    split.try_into().ok()
}

/// What every header decoder must guarantee (as the gossip `Judge` and the head protocol use
/// it): a decoded header re-encodes to bytes that decode to the same header, the encoding is
/// stable, and signature checks (single and batch) agree and never panic. Devnet headers are
/// canonical: the re-encoding is the input itself.
fn check_header(name: &str, adapter: &dyn ChainAdapter, bytes: &[u8]) {
    let Ok(header) = adapter.decode_header(bytes) else {
        return;
    };
    let encoded = adapter.encode_header(&header);
    let again = adapter
        .decode_header(&encoded)
        .unwrap_or_else(|e| panic!("{name}: re-encoded header does not decode: {e}"));
    assert_eq!(again, header, "{name}: header changed in a round trip");
    assert_eq!(adapter.encode_header(&again), encoded, "{name}: unstable");
    if name == "devnet" {
        assert_eq!(encoded, bytes, "devnet: a decoded header is not canonical");
    }
    let single = adapter.verify_header_signature(&header);
    let batch = adapter.verify_header_signatures(&[&header]);
    assert_eq!(
        single.as_ref().ok(),
        batch.as_ref().ok().and_then(|h| h.first()),
        "{name}: batch and single signature checks disagree"
    );
}

/// Runs `fut` to completion on this thread's runtime (time enabled for the wire timeouts).
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    thread_local! {
        static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread runtime");
    }
    RT.with(|rt| rt.block_on(fut))
}
