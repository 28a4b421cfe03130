//! Configuration: built-in defaults < TOML file < `WHARF_SECTION__KEY` env < CLI flags.
//!
//! Every field is typed at the edge (multiaddrs, peer addresses, durations), so a bad value fails
//! at start with a message naming its key. `config.example.toml` documents every key.

mod api;
mod p2p;
mod secret;
mod serde_str;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

pub use api::{ApiConfig, ApiKey, KeyAlg};
pub use p2p::{ConnectionLimits, GossipConfig, P2pConfig, PeerAddr, RelayConfig};
pub use secret::Secret;

/// Errors while assembling the configuration. The message names the offending key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A layer could not be read or a key was unknown or had a bad value.
    #[error("configuration: {0}")]
    Invalid(String),
}

impl From<figment::Error> for ConfigError {
    fn from(err: figment::Error) -> Self {
        let msgs: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
        ConfigError::Invalid(msgs.join("; "))
    }
}

/// The whole configuration of one Wharf process.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Identity of the node within its network and where it keeps state.
    pub node: NodeConfig,
    /// libp2p: transports, identity, peers, limits.
    pub p2p: P2pConfig,
    /// Circuit relay v2 server limits.
    pub relay: RelayConfig,
    /// Prometheus metrics endpoint.
    pub metrics: MetricsConfig,
    /// Admin REST API.
    pub api: ApiConfig,
    /// Feeder mode: the upstream gateway to follow.
    pub feeder: crate::feeder::FeederConfig,
    /// `wharf gateway` / `wharf devnet`: the devnet upstream.
    pub gateway: crate::gateway::GatewayConfig,
    /// Bans and peer scores.
    pub control: crate::control::ControlConfig,
    /// Block sync protocols: serving limits, client timeouts, pipeline concurrency.
    pub sync: crate::sync::SyncConfig,
}

/// `[node]`: network name and data directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    /// Network name; scopes every protocol id (`/wharf/<network>/...`). Default `devnet`.
    pub network: String,
    /// Directory for the node key, the peer book and the stores. Default `./wharf-data`.
    pub data_dir: PathBuf,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            network: "devnet".into(),
            data_dir: PathBuf::from("./wharf-data"),
        }
    }
}

/// `[metrics]`: the Prometheus scrape endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Address of the `/metrics` listener. Default `127.0.0.1:9100`; port 0 picks a free port.
    pub listen: SocketAddr,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9100)),
        }
    }
}

impl Config {
    /// Assembles the layers. `overrides` holds CLI flags as a nested JSON object
    /// (`{"p2p": {"listen": [...]}}`); absent keys keep the lower layers' values.
    pub fn load(file: Option<&Path>, overrides: serde_json::Value) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Invalid(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            fig = fig.merge(Toml::file_exact(path));
        }
        let fig = fig
            .merge(Env::prefixed("WHARF_").split("__"))
            .merge(Serialized::defaults(overrides));
        let config: Config = fig.extract()?;
        config.validate()?;
        Ok(config)
    }

    /// Cross-field checks serde cannot express.
    fn validate(&self) -> Result<(), ConfigError> {
        let net = &self.node.network;
        let ok = !net.is_empty()
            && net
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
        if !ok {
            return Err(ConfigError::Invalid(format!(
                "node.network: `{net}` must be non-empty ASCII letters, digits, '-', '_' or '.'"
            )));
        }
        self.p2p.validate()?;
        self.relay.validate()?;
        self.api.validate()
    }
}
