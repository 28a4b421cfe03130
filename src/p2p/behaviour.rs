//! The node's composed behaviour: the connection gate first (so it sees every connection before
//! the others), then Kademlia (ours, and on Starknet networks Starknet's under both spellings of
//! the chain id), identify, ping, AutoNAT (server), circuit relay v2 (server) and
//! block gossip and the stream protocols used by block sync.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::kad::store::MemoryStore;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{autonat, gossipsub, identify, kad, ping, relay, StreamProtocol};
use prometheus_client::registry::Registry;

use super::config::RelayConfig;
use super::gate::{AccessPolicy, Gate};
use super::protocols::Protocols;
use super::StartConfig;
use crate::metrics::P2pMetrics;

/// See the module docs.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    pub gate: Gate,
    pub kad: kad::Behaviour<MemoryStore>,
    /// Starknet's DHT, chain id as text (Starknet networks only).
    pub starknet_kad: Toggle<kad::Behaviour<MemoryStore>>,
    /// Starknet's DHT, chain id as hex (Starknet networks only).
    pub starknet_kad_hex: Toggle<kad::Behaviour<MemoryStore>>,
    pub identify: identify::Behaviour,
    pub ping: ping::Behaviour,
    pub autonat: autonat::v1::Behaviour,
    pub autonat_v2: autonat::v2::server::Behaviour,
    pub relay: Toggle<relay::Behaviour>,
    pub gossipsub: gossipsub::Behaviour,
    pub stream: libp2p_stream::Behaviour,
}

impl Behaviour {
    pub fn new(
        key: &Keypair,
        config: &StartConfig<'_>,
        protocols: &Protocols,
        policy: Arc<dyn AccessPolicy>,
        metrics: P2pMetrics,
        registry: &mut Registry,
    ) -> Self {
        let peer_id = key.public().to_peer_id();
        let static_peers = config.p2p.peers.iter().map(|p| p.peer_id).collect();
        Self {
            gate: Gate::new(config.p2p.limits.clone(), policy, static_peers, metrics),
            kad: kademlia(
                peer_id,
                protocols.kad.clone(),
                config.p2p.bootstrap_interval,
            ),
            starknet_kad: starknet_kad(peer_id, protocols, 0, config.p2p.bootstrap_interval),
            starknet_kad_hex: starknet_kad(peer_id, protocols, 1, config.p2p.bootstrap_interval),
            identify: identify::Behaviour::new(
                identify::Config::new(protocols.identify.clone(), key.public())
                    .with_agent_version(protocols.agent.clone())
                    .with_push_listen_addr_updates(true),
            ),
            ping: ping::Behaviour::new(ping::Config::new().with_interval(Duration::from_secs(15))),
            autonat: autonat::v1::Behaviour::new(peer_id, autonat_server_only()),
            autonat_v2: autonat::v2::server::Behaviour::default(),
            relay: config
                .relay
                .enabled
                .then(|| relay::Behaviour::new(peer_id, relay_config(config.relay)))
                .into(),
            gossipsub: super::gossip::behaviour(key, config.network, &config.p2p.gossip, registry),
            stream: libp2p_stream::Behaviour::new(),
        }
    }
}

/// Kademlia scoped to this network, forced into server mode (a bootstrap node must answer before
/// it knows its external address). The routing table is fed manually, from identify, with peers
/// that advertise this very protocol, so other networks' and IPFS peers never enter it.
fn kademlia(
    peer_id: libp2p::PeerId,
    proto: StreamProtocol,
    bootstrap: Duration,
) -> kad::Behaviour<MemoryStore> {
    let mut cfg = kad::Config::new(proto);
    cfg.set_kbucket_inserts(kad::BucketInserts::Manual);
    cfg.set_periodic_bootstrap_interval(Some(bootstrap));
    cfg.set_query_timeout(Duration::from_secs(30));
    let mut kad = kad::Behaviour::with_config(peer_id, MemoryStore::new(peer_id), cfg);
    kad.set_mode(Some(kad::Mode::Server));
    kad
}

/// The `index`-th Starknet Kademlia, if this network has Starknet ids (same rules as ours).
fn starknet_kad(
    peer_id: libp2p::PeerId,
    protocols: &Protocols,
    index: usize,
    bootstrap: Duration,
) -> Toggle<kad::Behaviour<MemoryStore>> {
    let proto = protocols.starknet_kad.get(index).cloned();
    proto.map(|p| kademlia(peer_id, p, bootstrap)).into()
}

/// AutoNAT v1 that only serves dial-back requests: it never probes on its own.
fn autonat_server_only() -> autonat::v1::Config {
    autonat::v1::Config {
        use_connected: false,
        ..Default::default()
    }
}

fn relay_config(c: &RelayConfig) -> relay::Config {
    let nz = |v: u32| NonZeroU32::new(v).expect("validated non-zero");
    relay::Config {
        max_reservations: c.max_reservations,
        max_reservations_per_peer: c.max_reservations_per_peer,
        reservation_duration: c.reservation_duration,
        reservation_rate_limiters: Vec::new(),
        max_circuits: c.max_circuits,
        max_circuits_per_peer: c.max_circuits_per_peer,
        max_circuit_duration: c.max_circuit_duration,
        max_circuit_bytes: c.max_circuit_bytes,
        circuit_src_rate_limiters: Vec::new(),
    }
    .reservation_rate_per_peer(nz(c.reservation_rate_per_peer), c.rate_interval)
    .reservation_rate_per_ip(nz(c.reservation_rate_per_ip), c.rate_interval)
    .circuit_src_per_peer(nz(c.circuit_rate_per_peer), c.rate_interval)
    .circuit_src_per_ip(nz(c.circuit_rate_per_ip), c.rate_interval)
}
