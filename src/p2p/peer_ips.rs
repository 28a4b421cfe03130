//! The IP each connected peer connects from, shared with the sync server: a stream arrives with
//! only its peer id, and the server counts streams per IP and per subnet. The swarm task writes
//! on every connection event; readers hold the lock for one lookup.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use libp2p::{Multiaddr, PeerId};

use super::gate::ip_of;

/// See the module docs. Cheap to clone; all clones share one table.
#[derive(Debug, Clone, Default)]
pub struct PeerIps(Arc<RwLock<HashMap<PeerId, Entry>>>);

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The IP of the peer's first open connection (relayed connections have none).
    ip: Option<IpAddr>,
    connections: u32,
}

impl PeerIps {
    /// A connection with `peer` from or to `remote` opened.
    pub fn connected(&self, peer: PeerId, remote: &Multiaddr) {
        let mut map = self.0.write().expect("not poisoned");
        let entry = map.entry(peer).or_insert(Entry {
            ip: None,
            connections: 0,
        });
        entry.connections += 1;
        entry.ip = entry
            .ip
            .or_else(|| ip_of(remote).map(|ip| ip.to_canonical()));
    }

    /// A connection with `peer` closed.
    pub fn disconnected(&self, peer: &PeerId) {
        let mut map = self.0.write().expect("not poisoned");
        if let Some(entry) = map.get_mut(peer) {
            entry.connections -= 1;
            if entry.connections == 0 {
                map.remove(peer);
            }
        }
    }

    /// The IP `peer` is connected from, if it is connected over IP.
    pub fn ip(&self, peer: &PeerId) -> Option<IpAddr> {
        self.0.read().expect("not poisoned").get(peer)?.ip
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_ip_until_the_last_connection_closes() {
        let ips = PeerIps::default();
        let peer = PeerId::random();
        ips.connected(peer, &"/ip4/10.0.0.1/tcp/1".parse().unwrap());
        ips.connected(peer, &"/ip4/10.0.0.2/tcp/1".parse().unwrap());
        ips.disconnected(&peer);
        assert_eq!(ips.ip(&peer), Some("10.0.0.1".parse().unwrap()));
        ips.disconnected(&peer);
        assert_eq!(ips.ip(&peer), None);
    }
}
