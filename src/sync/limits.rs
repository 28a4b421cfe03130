//! Per-peer admission control of the sync server: concurrent streams and a request token bucket.
//!
//! State lives behind a std mutex that is only held for a few arithmetic operations, never across
//! an await. Idle entries are pruned so the map cannot grow without bound.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use libp2p::PeerId;

use crate::sync::config::SyncServerConfig;

/// Why a stream was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The peer has too many streams open.
    PeerBusy,
    /// All peers together have too many streams open.
    Busy,
    /// The peer's token bucket is empty.
    RateLimited,
}

#[derive(Debug)]
struct PeerState {
    active: u32,
    tokens: f64,
    refilled: Instant,
}

#[derive(Debug, Default)]
struct State {
    peers: HashMap<PeerId, PeerState>,
    active: u32,
}

/// Admission control shared by all protocol handlers of one server.
#[derive(Debug, Clone)]
pub struct Limiter {
    cfg: Arc<SyncServerConfig>,
    state: Arc<Mutex<State>>,
}

/// Proof of admission; releases the stream slot when dropped.
#[derive(Debug)]
pub struct Permit {
    peer: PeerId,
    limiter: Limiter,
}

impl Limiter {
    /// A limiter enforcing `cfg`'s per-peer and global limits.
    pub fn new(cfg: Arc<SyncServerConfig>) -> Self {
        Limiter {
            cfg,
            state: Arc::default(),
        }
    }

    /// Admits one more stream from `peer`, or says why not.
    pub fn admit(&self, peer: PeerId) -> Result<Permit, Refusal> {
        let now = Instant::now();
        let mut state = self.state.lock().expect("not poisoned");
        if state.active >= self.cfg.max_streams_total {
            return Err(Refusal::Busy);
        }
        if state.peers.len() > 4096 {
            prune(&mut state.peers, &self.cfg, now);
        }
        let burst = f64::from(self.cfg.request_burst);
        let entry = state.peers.entry(peer).or_insert(PeerState {
            active: 0,
            tokens: burst,
            refilled: now,
        });
        refill(entry, &self.cfg, now);
        if entry.active >= self.cfg.max_streams_per_peer {
            return Err(Refusal::PeerBusy);
        }
        if entry.tokens < 1.0 {
            return Err(Refusal::RateLimited);
        }
        entry.tokens -= 1.0;
        entry.active += 1;
        state.active += 1;
        Ok(Permit {
            peer,
            limiter: self.clone(),
        })
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut state = self.limiter.state.lock().expect("not poisoned");
        state.active = state.active.saturating_sub(1);
        if let Some(entry) = state.peers.get_mut(&self.peer) {
            entry.active = entry.active.saturating_sub(1);
        }
    }
}

/// Adds the tokens earned since the last refill, capped at the burst size.
fn refill(peer: &mut PeerState, cfg: &SyncServerConfig, now: Instant) {
    let earned = now.duration_since(peer.refilled).as_secs_f64() * cfg.requests_per_second;
    peer.tokens = (peer.tokens + earned).min(f64::from(cfg.request_burst));
    peer.refilled = now;
}

/// Drops peers with no open stream whose bucket would be full again (they lose nothing).
fn prune(peers: &mut HashMap<PeerId, PeerState>, cfg: &SyncServerConfig, now: Instant) {
    peers.retain(|_, p| {
        refill(p, cfg, now);
        p.active > 0 || p.tokens < f64::from(cfg.request_burst)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_peer: u32, burst: u32) -> Limiter {
        let cfg = SyncServerConfig {
            max_streams_per_peer: per_peer,
            request_burst: burst,
            requests_per_second: 0.0,
            ..SyncServerConfig::default()
        };
        Limiter::new(Arc::new(cfg))
    }

    #[test]
    fn limits_concurrent_streams_per_peer_and_releases_on_drop() {
        let l = limiter(2, 100);
        let peer = PeerId::random();
        let a = l.admit(peer).unwrap();
        let _b = l.admit(peer).unwrap();
        assert_eq!(l.admit(peer).unwrap_err(), Refusal::PeerBusy);
        assert!(l.admit(PeerId::random()).is_ok(), "other peers unaffected");
        drop(a);
        assert!(l.admit(peer).is_ok());
    }

    #[test]
    fn empties_the_token_bucket() {
        let l = limiter(100, 3);
        let peer = PeerId::random();
        for _ in 0..3 {
            drop(l.admit(peer).unwrap());
        }
        assert_eq!(l.admit(peer).unwrap_err(), Refusal::RateLimited);
    }
}
