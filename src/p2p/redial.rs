//! Static peers: dialed at start and re-dialed with capped exponential backoff whenever their
//! connection drops or a dial fails, for as long as the node runs.

use std::collections::HashMap;
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use tokio::time::Instant;

use super::config::PeerAddr;

#[derive(Debug)]
struct Entry {
    addrs: Vec<Multiaddr>,
    backoff: Duration,
    /// When to dial next; `None` while connected or while a dial is in flight.
    next: Option<Instant>,
}

/// See the module docs.
#[derive(Debug)]
pub struct Redialer {
    peers: HashMap<PeerId, Entry>,
    initial: Duration,
    max: Duration,
}

impl Redialer {
    /// Every static peer is due at once.
    pub fn new(peers: &[PeerAddr], initial: Duration, max: Duration) -> Self {
        let now = Instant::now();
        let mut map: HashMap<PeerId, Entry> = HashMap::new();
        for p in peers {
            let e = map.entry(p.peer_id).or_insert_with(|| Entry {
                addrs: Vec::new(),
                backoff: initial,
                next: Some(now),
            });
            e.addrs.push(p.addr.clone());
        }
        Self {
            peers: map,
            initial,
            max,
        }
    }

    pub fn is_static(&self, peer: &PeerId) -> bool {
        self.peers.contains_key(peer)
    }

    /// Peers whose dial is due; they are marked in flight until `connected`/`failed`.
    pub fn due(&mut self, now: Instant) -> Vec<(PeerId, Vec<Multiaddr>)> {
        let mut out = Vec::new();
        for (peer, e) in &mut self.peers {
            if e.next.is_some_and(|t| t <= now) {
                e.next = None;
                out.push((*peer, e.addrs.clone()));
            }
        }
        out
    }

    pub fn connected(&mut self, peer: &PeerId) {
        if let Some(e) = self.peers.get_mut(peer) {
            e.backoff = self.initial;
            e.next = None;
        }
    }

    /// The last connection closed: dial again after the current backoff.
    pub fn disconnected(&mut self, peer: &PeerId, now: Instant) {
        if let Some(e) = self.peers.get_mut(peer) {
            e.next = Some(now + e.backoff);
        }
    }

    /// A dial failed: double the backoff (capped) and try again after it.
    pub fn failed(&mut self, peer: &PeerId, now: Instant) {
        if let Some(e) = self.peers.get_mut(peer) {
            e.backoff = (e.backoff * 2).min(self.max);
            e.next = Some(now + e.backoff);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> PeerAddr {
        let id = PeerId::random();
        format!("/ip4/127.0.0.1/tcp/1/p2p/{id}").parse().unwrap()
    }

    #[test]
    fn backoff_doubles_and_caps_then_resets() {
        let p = peer();
        let mut r = Redialer::new(
            std::slice::from_ref(&p),
            Duration::from_secs(1),
            Duration::from_secs(4),
        );
        let t0 = Instant::now();
        assert_eq!(r.due(t0).len(), 1);
        assert!(r.due(t0).is_empty(), "in flight, not due twice");
        r.failed(&p.peer_id, t0);
        assert!(r.due(t0 + Duration::from_millis(1999)).is_empty());
        assert_eq!(r.due(t0 + Duration::from_secs(2)).len(), 1);
        r.failed(&p.peer_id, t0);
        r.due(t0 + Duration::from_secs(4));
        r.failed(&p.peer_id, t0);
        assert!(
            r.due(t0 + Duration::from_millis(3999)).is_empty(),
            "capped at 4s"
        );
        assert_eq!(r.due(t0 + Duration::from_secs(4)).len(), 1);
        r.connected(&p.peer_id);
        r.disconnected(&p.peer_id, t0);
        assert_eq!(
            r.due(t0 + Duration::from_secs(1)).len(),
            1,
            "reset to initial"
        );
    }
}
