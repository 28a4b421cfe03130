//! The `[control]` section of the configuration: where bans and scores live and how peer
//! scores turn into automatic bans.

use std::time::Duration;

use libp2p::PeerId;
use serde::{Deserialize, Serialize};

/// Control-plane settings (section `[control]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlConfig {
    /// Postgres URL shared by the fleet (`postgres://user@host/db`). Default: none, meaning an
    /// embedded SQLite store at `<data_dir>/control.sqlite`.
    pub database_url: Option<String>,
    /// How often the index is rebuilt from the store, repairing missed notifications.
    /// Default `10s`.
    #[serde(with = "humantime_serde")]
    pub reconcile_interval: Duration,
    /// How long a store operation may wait for a connection before failing as unavailable.
    /// Default `3s`.
    #[serde(with = "humantime_serde")]
    pub store_timeout: Duration,
    /// Maximum connections in the store pool. Default `4`.
    pub max_connections: u32,
    /// Score at or below which a peer is banned automatically (negative). Default `-100`.
    pub ban_threshold: f64,
    /// Highest score good behaviour can earn (positive). Default `20`.
    pub max_score: f64,
    /// Time for a score to decay halfway back to zero. Default `10m`.
    #[serde(with = "humantime_serde")]
    pub decay_half_life: Duration,
    /// Duration of an automatic ban. Default `24h`.
    #[serde(with = "humantime_serde")]
    pub auto_ban_duration: Duration,
    /// Also ban the peer's IP address on every automatic ban. Default `false` (greylisting
    /// below bans the address once several of its peers were banned).
    pub auto_ban_ip: bool,
    /// Greylisting: automatic peer bans from one IP within `escalation_window` after which the
    /// IP itself is banned (for `auto_ban_duration`); `0` disables. Default `3`.
    pub ip_ban_after: u32,
    /// Greylisting: automatic IP bans within one subnet (see `subnet_prefix_v4`/`_v6`) within
    /// `escalation_window` after which the whole subnet is banned; `0` disables. Default `4`.
    pub subnet_ban_after: u32,
    /// Window in which automatic bans from one address or subnet are counted. Default `1h`.
    #[serde(with = "humantime_serde")]
    pub escalation_window: Duration,
    /// Prefix length, in bits, of the IPv4 subnet greylisting escalates to. Default `24`.
    pub subnet_prefix_v4: u8,
    /// Prefix length, in bits, of the IPv6 subnet greylisting escalates to. Default `64`.
    pub subnet_prefix_v6: u8,
    /// A score back within 1 point of zero and unchanged this long is deleted (memory and
    /// store), so the score table stays bounded by recent misbehaviour. Default `24h`.
    #[serde(with = "humantime_serde")]
    pub score_retention: Duration,
    /// Expired bans are deleted from the store this long after their expiry. Default `30d`.
    #[serde(with = "humantime_serde")]
    pub expired_ban_retention: Duration,
    /// How often neutral scores and long-expired bans are garbage-collected. Default `10m`.
    #[serde(with = "humantime_serde")]
    pub gc_interval: Duration,
    /// Peer ids never banned automatically (the fleet's own relays). Default empty.
    #[serde(with = "peer_ids")]
    pub trusted_peers: Vec<PeerId>,
    /// How often changed scores are written to the store. Default `30s`.
    #[serde(with = "humantime_serde")]
    pub flush_interval: Duration,
    /// Score events kept per peer in memory (and returned with a score). Default `16`.
    pub history_len: usize,
    /// Weight of each score event.
    pub weights: ScoreWeights,
}

impl Default for ControlConfig {
    fn default() -> Self {
        ControlConfig {
            database_url: None,
            reconcile_interval: Duration::from_secs(10),
            store_timeout: Duration::from_secs(3),
            max_connections: 4,
            ban_threshold: -100.0,
            max_score: 20.0,
            decay_half_life: Duration::from_secs(600),
            auto_ban_duration: Duration::from_secs(24 * 3600),
            auto_ban_ip: false,
            ip_ban_after: 3,
            subnet_ban_after: 4,
            escalation_window: Duration::from_secs(3600),
            subnet_prefix_v4: 24,
            subnet_prefix_v6: 64,
            score_retention: Duration::from_secs(24 * 3600),
            expired_ban_retention: Duration::from_secs(30 * 24 * 3600),
            gc_interval: Duration::from_secs(600),
            trusted_peers: Vec::new(),
            flush_interval: Duration::from_secs(30),
            history_len: 16,
            weights: ScoreWeights::default(),
        }
    }
}

/// Peer ids as their base58 strings (libp2p's own serde support is not enabled).
mod peer_ids {
    use libp2p::PeerId;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(peers: &[PeerId], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(peers.iter().map(|p| p.to_string()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PeerId>, D::Error> {
        let raw = Vec::<String>::deserialize(d)?;
        raw.iter()
            .map(|s| {
                s.parse()
                    .map_err(|e| D::Error::custom(format!("peer id `{s}`: {e}")))
            })
            .collect()
    }
}

/// Weight of each class of [`ScoreEvent`](super::ScoreEvent) (negative = penalty).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreWeights {
    /// Invalid data, bad signature, data after `Fin`, too many items. Default `-50`.
    pub severe: f64,
    /// Malformed or oversized message, protocol violation. Default `-20`.
    pub medium: f64,
    /// Timeout. Default `-5`.
    pub light: f64,
    /// Useful response. Default `+1`.
    pub useful: f64,
    /// Stream refused at the peer's stream or rate limit. Default `-1`.
    pub refused: f64,
    /// Refused streams alone never take a score below this (above `ban_threshold`, so an
    /// honest peer retrying is slowed down, never banned). Default `-50`.
    pub refused_floor: f64,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        ScoreWeights {
            severe: -50.0,
            medium: -20.0,
            light: -5.0,
            useful: 1.0,
            refused: -1.0,
            refused_floor: -50.0,
        }
    }
}
