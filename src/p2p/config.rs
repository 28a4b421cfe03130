//! `[p2p]` and `[relay]` sections: what the libp2p node listens on, whom it dials, and the limits
//! it enforces.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use serde::{Deserialize, Serialize};

use crate::secret::Secret;
use crate::util::serde_str;

/// A peer to dial: a multiaddr that ends in `/p2p/<peer id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerAddr {
    /// The peer's identity, taken from the trailing `/p2p/` component.
    pub peer_id: PeerId,
    /// The full address, `/p2p/` included.
    pub addr: Multiaddr,
}

impl FromStr for PeerAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let addr: Multiaddr = s.parse().map_err(|e| format!("not a multiaddr: {e}"))?;
        match addr.iter().last() {
            Some(Protocol::P2p(peer_id)) => Ok(PeerAddr { peer_id, addr }),
            _ => Err("missing the trailing /p2p/<peer id> component".into()),
        }
    }
}

impl fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.addr.fmt(f)
    }
}

/// `[p2p]`: transports, identity, peers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct P2pConfig {
    /// Listen multiaddrs. Default TCP and QUIC on port 7777, all IPv4 interfaces.
    #[serde(with = "serde_str::vec")]
    pub listen: Vec<Multiaddr>,
    /// Addresses to announce to peers (e.g. a public IP behind NAT). Default none.
    #[serde(with = "serde_str::vec")]
    pub external_addrs: Vec<Multiaddr>,
    /// Static peers (`/ip4|ip6|dns4/.../p2p/<id>`), dialed at start and re-dialed whenever the
    /// connection drops. Default none.
    #[serde(with = "serde_str::vec")]
    pub peers: Vec<PeerAddr>,
    /// Ed25519 private key as hex (Juno `--p2p-private-key` format: 64 bytes secret||public, or
    /// the 32-byte secret). Default: a key generated once and kept in `<data_dir>/identity.key`.
    pub private_key: Option<Secret>,
    /// Private network pre-shared key: 64 hex chars or a path to a `swarm.key` file
    /// (`/key/swarm/psk/1.0.0/`). Turns on libp2p pnet and turns QUIC off. Default none.
    pub shared_key: Option<Secret>,
    /// Interval of the periodic Kademlia bootstrap (random walk). Default 5m.
    #[serde(with = "humantime_serde")]
    pub bootstrap_interval: Duration,
    /// Time an inbound or outbound connection has for its whole handshake (TCP: multistream,
    /// Noise and Yamux, pnet included; QUIC: the TLS handshake) before it is dropped and its
    /// pending slot freed. Short, so idle half-open connections cannot hold the pending slots.
    /// Default 5s.
    #[serde(with = "humantime_serde")]
    pub handshake_timeout: Duration,
    /// A connection with no open stream and no keep-alive reason closes after this. Default 60s.
    #[serde(with = "humantime_serde")]
    pub idle_connection_timeout: Duration,
    /// First re-dial delay after a static peer drops. Default 1s.
    #[serde(with = "humantime_serde")]
    pub redial_initial_backoff: Duration,
    /// Cap of the exponential re-dial backoff. Default 60s.
    #[serde(with = "humantime_serde")]
    pub redial_max_backoff: Duration,
    /// Connection limits, enforced before the handshake where possible.
    pub limits: ConnectionLimits,
    /// Block announcements over GossipSub.
    pub gossip: GossipConfig,
}

/// `[p2p.gossip]`: the block-announcement topic.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GossipConfig {
    /// Expected time between announcements (the chain's block time); scoring is tuned to it.
    /// Default 1s.
    #[serde(with = "humantime_serde")]
    pub message_interval: Duration,
    /// Largest announcement accepted or sent, in bytes. Default 65536.
    pub max_message_bytes: usize,
    /// Received announcements queued for validation; past it they are ignored. Default 1024.
    pub validation_queue: usize,
}

impl Default for GossipConfig {
    fn default() -> Self {
        Self {
            message_interval: Duration::from_secs(1),
            max_message_bytes: 64 * 1024,
            validation_queue: 1024,
        }
    }
}

impl Default for P2pConfig {
    fn default() -> Self {
        Self {
            listen: vec![
                "/ip4/0.0.0.0/tcp/7777".parse().expect("valid"),
                "/ip4/0.0.0.0/udp/7777/quic-v1".parse().expect("valid"),
            ],
            external_addrs: Vec::new(),
            peers: Vec::new(),
            private_key: None,
            shared_key: None,
            bootstrap_interval: Duration::from_secs(300),
            handshake_timeout: Duration::from_secs(5),
            idle_connection_timeout: Duration::from_secs(60),
            redial_initial_backoff: Duration::from_secs(1),
            redial_max_backoff: Duration::from_secs(60),
            limits: ConnectionLimits::default(),
            gossip: GossipConfig::default(),
        }
    }
}

impl P2pConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.listen.is_empty() {
            return Err("p2p.listen: at least one address".into());
        }
        if self.redial_initial_backoff.is_zero()
            || self.redial_max_backoff < self.redial_initial_backoff
        {
            return Err(
                "p2p.redial_initial_backoff must be > 0 and <= p2p.redial_max_backoff".into(),
            );
        }
        if self.handshake_timeout.is_zero() {
            return Err("p2p.handshake_timeout must be > 0".into());
        }
        if self.bootstrap_interval.is_zero() {
            return Err("p2p.bootstrap_interval must be > 0".into());
        }
        if self.gossip.message_interval.is_zero() || self.gossip.validation_queue == 0 {
            return Err(
                "p2p.gossip.message_interval and p2p.gossip.validation_queue must be > 0".into(),
            );
        }
        self.limits.validate()
    }
}

impl RelayConfig {
    pub(crate) fn validate(&self) -> Result<(), String> {
        let rates = [
            ("reservation_rate_per_peer", self.reservation_rate_per_peer),
            ("reservation_rate_per_ip", self.reservation_rate_per_ip),
            ("circuit_rate_per_peer", self.circuit_rate_per_peer),
            ("circuit_rate_per_ip", self.circuit_rate_per_ip),
        ];
        if let Some((name, _)) = rates.iter().find(|(_, v)| *v == 0) {
            return Err(format!("relay.{name} must be at least 1"));
        }
        if self.rate_interval.is_zero() {
            return Err("relay.rate_interval must be > 0".into());
        }
        Ok(())
    }
}

/// `[p2p.limits]`: connection counts. Over a limit a connection is refused (before the handshake
/// for inbound ones) and counted in `wharf_connections_refused_total{reason}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionLimits {
    /// Established inbound connections, all peers. Default 4096: about 280 MiB of resident
    /// memory at the 70 KiB per idle connection `wharf bench connections` measured (README,
    /// "Connection capacity"); raise it with the memory (and `ulimit -n`) to spare.
    pub max_established_inbound: u32,
    /// Established outbound connections, all peers. Default 256.
    pub max_established_outbound: u32,
    /// Established connections to one peer id, both directions. Default 2.
    pub max_established_per_peer: u32,
    /// Inbound connections (pending + established) from one IP address. Default 16.
    pub max_per_ip: u32,
    /// Inbound connections (pending + established) from one subnet: an IPv4 /24 or an IPv6 /64
    /// (what one host or one customer usually holds). Default 64.
    pub max_per_subnet: u32,
    /// Inbound connections still in their handshake, all peers. Default 128.
    pub max_pending_inbound: u32,
    /// Inbound connections still in their handshake from one IP address. Default 4.
    pub max_pending_per_ip: u32,
    /// Inbound connections still in their handshake from one IPv4 /24 or IPv6 /64. Default 8.
    pub max_pending_per_subnet: u32,
    /// Outbound dials still in their handshake. Default 128.
    pub max_pending_outbound: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_established_inbound: 4096,
            max_established_outbound: 256,
            max_established_per_peer: 2,
            max_per_ip: 16,
            max_per_subnet: 64,
            max_pending_inbound: 128,
            max_pending_per_ip: 4,
            max_pending_per_subnet: 8,
            max_pending_outbound: 128,
        }
    }
}

impl ConnectionLimits {
    fn validate(&self) -> Result<(), String> {
        let fields = [
            ("max_established_inbound", self.max_established_inbound),
            ("max_established_outbound", self.max_established_outbound),
            ("max_established_per_peer", self.max_established_per_peer),
            ("max_per_ip", self.max_per_ip),
            ("max_per_subnet", self.max_per_subnet),
            ("max_pending_inbound", self.max_pending_inbound),
            ("max_pending_per_ip", self.max_pending_per_ip),
            ("max_pending_per_subnet", self.max_pending_per_subnet),
            ("max_pending_outbound", self.max_pending_outbound),
        ];
        match fields.iter().find(|(_, v)| *v == 0) {
            Some((name, _)) => Err(format!("p2p.limits.{name} must be at least 1")),
            None => Ok(()),
        }
    }
}

/// `[relay]`: circuit relay v2 server limits (see libp2p-relay).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RelayConfig {
    /// Serve as a circuit relay at all. Default true.
    pub enabled: bool,
    /// Reservations held at once, all peers. Default 128.
    pub max_reservations: usize,
    /// Reservations one peer may hold. Default 4.
    pub max_reservations_per_peer: usize,
    /// How long a reservation lasts before it must be renewed. Default 1h.
    #[serde(with = "humantime_serde")]
    pub reservation_duration: Duration,
    /// Relayed circuits open at once, all peers. Default 16.
    pub max_circuits: usize,
    /// Relayed circuits per peer. Default 4.
    pub max_circuits_per_peer: usize,
    /// A circuit is closed after this long. Default 2m.
    #[serde(with = "humantime_serde")]
    pub max_circuit_duration: Duration,
    /// A circuit is closed after relaying this many bytes (each direction). Default 131072 (128 KiB).
    pub max_circuit_bytes: u64,
    /// New reservations one peer may make per `rate_interval`. Default 30.
    pub reservation_rate_per_peer: u32,
    /// New reservations one IP address may make per `rate_interval`. Default 60.
    pub reservation_rate_per_ip: u32,
    /// New circuits one source peer may open per `rate_interval`. Default 30.
    pub circuit_rate_per_peer: u32,
    /// New circuits one source IP address may open per `rate_interval`. Default 60.
    pub circuit_rate_per_ip: u32,
    /// Window of the two rate limits above. Default 2m.
    #[serde(with = "humantime_serde")]
    pub rate_interval: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_reservations: 128,
            max_reservations_per_peer: 4,
            reservation_duration: Duration::from_secs(3600),
            max_circuits: 16,
            max_circuits_per_peer: 4,
            max_circuit_duration: Duration::from_secs(120),
            max_circuit_bytes: 1 << 17,
            reservation_rate_per_peer: 30,
            reservation_rate_per_ip: 60,
            circuit_rate_per_peer: 30,
            circuit_rate_per_ip: 60,
            rate_interval: Duration::from_secs(120),
        }
    }
}
