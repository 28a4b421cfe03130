//! Configuration: built-in defaults < TOML file < `WHARF_SECTION__KEY` env < CLI flags.
//!
//! Every field is typed at the edge (multiaddrs, peer addresses, durations), so a bad value fails
//! at start with a message naming its key. `config.example.toml` documents every key.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::chain::{starknet_preset, ChainKind};

// Each section's type lives with the module it configures; these names are kept for callers.
pub use crate::api::{ApiConfig, ApiKey, KeyAlg};
pub use crate::metrics::MetricsConfig;
pub use crate::p2p::{ConnectionLimits, GossipConfig, P2pConfig, PeerAddr, RelayConfig};
pub use crate::secret::Secret;

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
    /// Starknet chain parameters (`node.chain = "starknet"`).
    pub starknet: StarknetConfig,
}

/// `[starknet]`: what a Starknet network needs beyond its name. The public networks
/// (`mainnet`, `sepolia`, `sepolia-integration`) come with presets; other names must set these.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StarknetConfig {
    /// Chain id short string (e.g. `SN_SEPOLIA`), part of every transaction hash. Default: the
    /// preset's for a public network; required for any other Starknet network.
    pub chain_id: Option<String>,
}

/// `[node]`: network name and data directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    /// Network name; scopes every protocol id (`/wharf/<network>/...`). Default `devnet`.
    /// `mainnet`, `sepolia` and `sepolia-integration` select the Starknet presets (chain id,
    /// pinned sequencer key, feeder-gateway URL).
    pub network: String,
    /// Chain rules: `devnet` or `starknet`. Default: `starknet` for the Starknet preset
    /// networks, `devnet` otherwise.
    pub chain: Option<ChainKind>,
    /// Directory for the node key, the peer book and the stores. Default `./wharf-data`.
    pub data_dir: PathBuf,
}

impl NodeConfig {
    /// The chain rules this network runs: configured, else implied by the network name.
    pub fn chain_kind(&self) -> ChainKind {
        self.chain
            .unwrap_or(if starknet_preset(&self.network).is_some() {
                ChainKind::Starknet
            } else {
                ChainKind::Devnet
            })
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            network: "devnet".into(),
            chain: None,
            data_dir: PathBuf::from("./wharf-data"),
        }
    }
}

impl Config {
    /// Assembles the layers. `overrides` holds CLI flags as a nested JSON object
    /// (`{"p2p": {"listen": [...]}}`); absent keys keep the lower layers' values.
    pub fn load(file: Option<&Path>, overrides: serde_json::Value) -> Result<Self, ConfigError> {
        let mut user = Figment::new();
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Invalid(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            user = user.merge(Toml::file_exact(path));
        }
        let user = user
            .merge(Env::prefixed("WHARF_").split("__"))
            .merge(Serialized::defaults(overrides));
        let fig = Figment::from(Serialized::defaults(Config::default())).merge(user.clone());
        let mut config: Config = fig.extract()?;
        if user.find_value("feeder.gateway_url").is_err() {
            config.feeder.gateway_url = config.default_gateway_url();
        }
        config.validate()?;
        Ok(config)
    }

    /// The feeder gateway of a Starknet preset network, else the devnet gateway's default.
    fn default_gateway_url(&self) -> String {
        match (self.node.chain_kind(), starknet_preset(&self.node.network)) {
            (ChainKind::Starknet, Some(preset)) => preset.gateway_url.to_string(),
            _ => crate::feeder::FeederConfig::default().gateway_url,
        }
    }

    /// The Starknet chain id: configured, else the preset's. `None` on devnet or when missing.
    pub fn starknet_chain_id(&self) -> Option<String> {
        if self.node.chain_kind() != ChainKind::Starknet {
            return None;
        }
        let preset = starknet_preset(&self.node.network).map(|p| p.chain_id.to_string());
        self.starknet.chain_id.clone().or(preset)
    }

    /// A Starknet network needs a chain id (preset or `starknet.chain_id`), a short string.
    fn validate_chain(&self) -> Result<(), ConfigError> {
        let kind = self.node.chain_kind();
        if kind == ChainKind::Devnet && self.starknet.chain_id.is_some() {
            return Err(ConfigError::Invalid(
                "starknet.chain_id is set but node.chain is `devnet`; set node.chain = \"starknet\"".into(),
            ));
        }
        if kind != ChainKind::Starknet {
            return Ok(());
        }
        let Some(id) = self.starknet_chain_id() else {
            return Err(ConfigError::Invalid(format!(
                "starknet.chain_id: required for Starknet network `{}` (presets: mainnet, sepolia, sepolia-integration)",
                self.node.network
            )));
        };
        if id.is_empty() || id.len() > 31 || !id.is_ascii() {
            return Err(ConfigError::Invalid(format!(
                "starknet.chain_id: `{id}` must be 1 to 31 ASCII characters (a Cairo short string)"
            )));
        }
        Ok(())
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
        self.validate_chain()?;
        let starknet_only = self.sync.protocol != crate::sync::SyncProtocol::Wharf;
        if starknet_only && self.node.chain_kind() != ChainKind::Starknet {
            return Err(ConfigError::Invalid(
                "sync.protocol: Starknet's protocols need node.chain = \"starknet\"".into(),
            ));
        }
        let client = &self.sync.client;
        if client.max_bytes_in_flight < client.max_response_bytes {
            return Err(ConfigError::Invalid(
                "sync.client.max_bytes_in_flight must be at least sync.client.max_response_bytes"
                    .into(),
            ));
        }
        self.p2p.validate().map_err(ConfigError::Invalid)?;
        self.relay.validate().map_err(ConfigError::Invalid)?;
        self.api.validate().map_err(ConfigError::Invalid)
    }
}
