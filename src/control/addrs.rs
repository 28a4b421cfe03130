//! Where each peer connects from, learnt from the connection gate: sync, heads and gossip only
//! know a misbehaving peer's id, so a penalty looks its address up here. Without it an automatic
//! ban could never reach the address, and a Sybil with fresh peer ids would never be stopped.
//!
//! Bounded: live entries go with their last connection; disconnected peers are remembered (a
//! verdict may land just after the stream closed) up to [`RECENT`] entries, oldest out first.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

/// Disconnected peers whose address is still remembered.
const RECENT: usize = 4096;

#[derive(Default)]
struct Book {
    /// Connected peers: the address of their latest connection and how many are open.
    live: HashMap<PeerId, (IpAddr, u32)>,
    /// Recently disconnected peers, and their order of departure.
    recent: HashMap<PeerId, IpAddr>,
    order: VecDeque<PeerId>,
}

/// See the module docs.
#[derive(Default)]
pub(crate) struct AddressBook {
    book: Mutex<Book>,
}

/// The IP a connection really comes from: none for a relayed (`/p2p-circuit`) connection,
/// whose first IP is the relay's, not the peer's.
pub(crate) fn remote_ip(addr: &Multiaddr) -> Option<IpAddr> {
    if addr.iter().any(|p| matches!(p, Protocol::P2pCircuit)) {
        return None;
    }
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

impl AddressBook {
    fn lock(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A connection with `peer` from `remote` was established.
    pub(crate) fn connected(&self, peer: PeerId, remote: &Multiaddr) {
        let Some(ip) = remote_ip(remote) else { return };
        let mut book = self.lock();
        let entry = book.live.entry(peer).or_insert((ip, 0));
        *entry = (ip.to_canonical(), entry.1 + 1);
    }

    /// A connection with `peer` closed; its address is kept a while after the last one.
    pub(crate) fn disconnected(&self, peer: PeerId) {
        let mut book = self.lock();
        let Some((ip, open)) = book.live.get_mut(&peer).map(|e| {
            e.1 = e.1.saturating_sub(1);
            *e
        }) else {
            return;
        };
        if open > 0 {
            return;
        }
        book.live.remove(&peer);
        if book.recent.insert(peer, ip).is_none() {
            book.order.push_back(peer);
        }
        while book.order.len() > RECENT {
            let old = book.order.pop_front().expect("non-empty");
            book.recent.remove(&old);
        }
    }

    /// The address `peer` connects (or last connected) from.
    pub(crate) fn ip_of(&self, peer: &PeerId) -> Option<IpAddr> {
        let book = self.lock();
        let live = book.live.get(peer).map(|e| e.0);
        live.or_else(|| book.recent.get(peer).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_live_and_recent_peers_but_not_relay_addresses() {
        let book = AddressBook::default();
        let (a, b) = (PeerId::random(), PeerId::random());
        book.connected(a, &"/ip4/10.0.0.1/tcp/1".parse().unwrap());
        let circuit = "/ip4/10.9.9.9/tcp/1/p2p/12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq/p2p-circuit";
        book.connected(b, &circuit.parse().unwrap());
        assert_eq!(book.ip_of(&a), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(book.ip_of(&b), None, "a relay's IP is not the peer's");
        book.disconnected(a);
        assert_eq!(book.ip_of(&a), Some("10.0.0.1".parse().unwrap()));
        for _ in 0..RECENT {
            let p = PeerId::random();
            book.connected(p, &"/ip4/10.0.0.2/tcp/1".parse().unwrap());
            book.disconnected(p);
        }
        assert_eq!(
            book.ip_of(&a),
            None,
            "the oldest departed peer is forgotten"
        );
        assert_eq!(book.lock().recent.len(), RECENT);
    }
}
