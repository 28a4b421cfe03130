//! What the node knows about each connected peer (addresses, direction, agent, protocols, rtt,
//! connected since): answers the admin API's peer listing without touching the swarm.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use libp2p::{identify, Multiaddr, PeerId};
use serde::Serialize;

/// One connected peer.
#[derive(Debug, Clone, Serialize)]
pub struct PeerInfo {
    /// The peer's id.
    #[serde(serialize_with = "crate::util::display")]
    pub peer_id: PeerId,
    /// Remote addresses of its open connections.
    #[serde(serialize_with = "crate::util::display_vec")]
    pub addresses: Vec<Multiaddr>,
    /// Direction of its first connection: `inbound` or `outbound`.
    pub direction: &'static str,
    /// identify agent version, once identify has run.
    pub agent: Option<String>,
    /// identify protocol version (`/wharf/<network>/1.0.0` for Wharf nodes).
    pub protocol_version: Option<String>,
    /// Protocols the peer announced through identify.
    pub protocols: Vec<String>,
    /// Listen addresses the peer announced through identify.
    #[serde(serialize_with = "crate::util::display_vec")]
    pub listen_addrs: Vec<Multiaddr>,
    /// Last measured ping round-trip, in milliseconds.
    pub rtt_ms: Option<f64>,
    /// When its first open connection was established.
    pub connected_since: DateTime<Utc>,
    /// Open connections with it.
    pub connections: u32,
}

/// Every connected peer.
#[derive(Debug, Default)]
pub struct PeerTable {
    peers: HashMap<PeerId, PeerInfo>,
}

impl PeerTable {
    pub fn connected(&mut self, peer: PeerId, remote: Multiaddr, inbound: bool) {
        let info = self.peers.entry(peer).or_insert_with(|| PeerInfo {
            peer_id: peer,
            addresses: Vec::new(),
            direction: if inbound { "inbound" } else { "outbound" },
            agent: None,
            protocol_version: None,
            protocols: Vec::new(),
            listen_addrs: Vec::new(),
            rtt_ms: None,
            connected_since: Utc::now(),
            connections: 0,
        });
        info.connections += 1;
        if !info.addresses.contains(&remote) {
            info.addresses.push(remote);
        }
    }

    /// A connection closed; `remaining` is how many the peer still has.
    pub fn disconnected(&mut self, peer: &PeerId, remote: &Multiaddr, remaining: u32) {
        if remaining == 0 {
            self.peers.remove(peer);
        } else if let Some(info) = self.peers.get_mut(peer) {
            info.connections = remaining;
            info.addresses.retain(|a| a != remote);
        }
    }

    pub fn identified(&mut self, peer: &PeerId, id: &identify::Info) {
        if let Some(info) = self.peers.get_mut(peer) {
            info.agent = Some(id.agent_version.clone());
            info.protocol_version = Some(id.protocol_version.clone());
            info.protocols = id.protocols.iter().map(|p| p.to_string()).collect();
            info.listen_addrs = id.listen_addrs.clone();
        }
    }

    pub fn pinged(&mut self, peer: &PeerId, rtt: Duration) {
        if let Some(info) = self.peers.get_mut(peer) {
            info.rtt_ms = Some(rtt.as_secs_f64() * 1000.0);
        }
    }

    pub fn get(&self, peer: &PeerId) -> Option<&PeerInfo> {
        self.peers.get(peer)
    }

    /// Ids of the connected peers that announced `protocol` (no clone of their info).
    pub fn announcing(&self, protocol: &str) -> Vec<PeerId> {
        self.peers
            .values()
            .filter(|p| p.protocols.iter().any(|x| x == protocol))
            .map(|p| p.peer_id)
            .collect()
    }

    /// Ids of every connected peer.
    pub fn ids(&self) -> Vec<PeerId> {
        self.peers.keys().copied().collect()
    }

    pub fn all(&self) -> Vec<PeerInfo> {
        self.peers.values().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.peers.len()
    }
}
