//! Stage 1's peer choice: spread a chunk's components over different peers, respect a
//! per-peer request cap, and rest peers that just failed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// What the pipeline knows about each peer during one sync.
#[derive(Debug, Default)]
pub struct PeerBook {
    active: HashMap<PeerId, usize>,
    cooling: HashMap<PeerId, Instant>,
}

impl PeerBook {
    /// Picks a peer from `peers` for a request: not `excluded`, not cooling down, below
    /// `max_active`; preferring peers not in `avoid`, then the least busy, rotating by `salt`.
    pub fn pick(
        &self,
        peers: &[PeerId],
        excluded: &[PeerId],
        avoid: &[PeerId],
        max_active: usize,
        salt: usize,
    ) -> Option<PeerId> {
        let now = Instant::now();
        let n = peers.len();
        (0..n)
            .map(|i| peers[(i + salt) % n])
            .filter(|p| !excluded.contains(p) && !self.is_cooling(p, now))
            .filter(|p| self.active(p) < max_active)
            .min_by_key(|p| (avoid.contains(p), self.active(p)))
    }

    /// Whether some peer of `peers` outside `excluded` is not cooling down (maybe at its cap).
    pub fn any_awake(&self, peers: &[PeerId], excluded: &[PeerId]) -> bool {
        let now = Instant::now();
        peers
            .iter()
            .any(|p| !excluded.contains(p) && !self.is_cooling(p, now))
    }

    /// Requests running against `peer`.
    pub fn active(&self, peer: &PeerId) -> usize {
        self.active.get(peer).copied().unwrap_or(0)
    }

    /// A request to `peer` started.
    pub fn started(&mut self, peer: PeerId) {
        *self.active.entry(peer).or_default() += 1;
    }

    /// A request to `peer` ended.
    pub fn finished(&mut self, peer: PeerId) {
        if let Some(n) = self.active.get_mut(&peer) {
            *n = n.saturating_sub(1);
        }
    }

    /// Don't ask `peer` again for `cooldown`.
    pub fn cool_down(&mut self, peer: PeerId, cooldown: Duration) {
        self.cooling.insert(peer, Instant::now() + cooldown);
    }

    /// When the earliest cooldown ends, if any is running.
    pub fn next_wake(&self) -> Option<Instant> {
        let now = Instant::now();
        self.cooling.values().copied().filter(|t| *t > now).min()
    }

    fn is_cooling(&self, peer: &PeerId, now: Instant) -> bool {
        self.cooling.get(peer).is_some_and(|until| *until > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_unused_idle_peers_and_skips_cooling_ones() {
        let peers: Vec<PeerId> = (0..3).map(|_| PeerId::random()).collect();
        let mut book = PeerBook::default();
        book.started(peers[0]);
        assert_eq!(book.pick(&peers, &[], &[peers[1]], 4, 0), Some(peers[2]));
        book.cool_down(peers[2], Duration::from_secs(60));
        assert_eq!(book.pick(&peers, &[], &[peers[1]], 4, 0), Some(peers[0]));
        assert_eq!(book.pick(&peers, &[peers[0], peers[1]], &[], 4, 0), None);
        assert_eq!(
            book.pick(&peers, &[peers[1]], &[], 1, 0),
            None,
            "peer 0 at its cap"
        );
    }
}
