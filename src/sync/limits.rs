//! Admission control of the sync server: concurrent streams per peer, per IP, per subnet and in
//! total, a fair share of the total once it is contended, and a request token bucket per peer.
//!
//! Sharing once contended: past half of `max_streams_total`, a source (an IPv4 /24 or IPv6 /64,
//! or a peer id when the IP is unknown) may hold at most `max_streams_total / (n + 2)` streams,
//! `n` being the number of other sources holding streams; and the last quarter of the slots only
//! admits sources holding fewer than `max_streams_per_peer`. Slots taken early are not taken
//! back, but the quarter is always there for a newcomer: an honest peer gets served while many
//! connections (slow readers, say) hold the rest until their response deadlines.
//!
//! State lives behind a std mutex that is only held for a few arithmetic operations, never across
//! an await. Idle entries are pruned so the maps cannot grow without bound.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use libp2p::PeerId;

use crate::p2p::gate::subnet_of;
use crate::sync::config::SyncServerConfig;

/// Where a stream's peer connects from; the server only learns the peer id from the stream.
pub trait PeerAddresses: Send + Sync + 'static {
    /// The IP `peer` is connected from, if known.
    fn ip(&self, peer: &PeerId) -> Option<IpAddr>;
}

/// No address known (every peer is its own source).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAddresses;

impl PeerAddresses for NoAddresses {
    fn ip(&self, _: &PeerId) -> Option<IpAddr> {
        None
    }
}

impl PeerAddresses for crate::p2p::PeerIps {
    fn ip(&self, peer: &PeerId) -> Option<IpAddr> {
        crate::p2p::PeerIps::ip(self, peer)
    }
}

/// Why a stream was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The peer has too many streams open.
    PeerBusy,
    /// The peer's IP or subnet has too many streams open, or its fair share.
    SourceBusy,
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

/// Who shares a fair share: a subnet, or a peer whose IP is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    Subnet(IpAddr),
    Peer(PeerId),
}

#[derive(Debug, Default)]
struct State {
    peers: HashMap<PeerId, PeerState>,
    ips: HashMap<IpAddr, u32>,
    sources: HashMap<Source, u32>,
    active: u32,
}

/// Admission control shared by all protocol handlers of one server.
#[derive(Clone)]
pub struct Limiter {
    cfg: Arc<SyncServerConfig>,
    addrs: Arc<dyn PeerAddresses>,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter").field("cfg", &self.cfg).finish()
    }
}

/// Proof of admission; releases the stream slot when dropped.
#[derive(Debug)]
pub struct Permit {
    peer: PeerId,
    ip: Option<IpAddr>,
    source: Source,
    limiter: Limiter,
}

impl Limiter {
    /// A limiter enforcing `cfg`'s limits, learning peers' IPs from `addrs`.
    pub fn new(cfg: Arc<SyncServerConfig>, addrs: Arc<dyn PeerAddresses>) -> Self {
        Limiter {
            cfg,
            addrs,
            state: Arc::default(),
        }
    }

    /// Admits one more stream from `peer`, or says why not.
    pub fn admit(&self, peer: PeerId) -> Result<Permit, Refusal> {
        let ip = self.addrs.ip(&peer);
        let source = ip.map_or(Source::Peer(peer), |ip| Source::Subnet(subnet_of(ip)));
        let now = Instant::now();
        let mut state = self.state.lock().expect("not poisoned");
        if state.active >= self.cfg.max_streams_total {
            return Err(Refusal::Busy);
        }
        self.check_source(&state, ip, source)?;
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
        *state.sources.entry(source).or_default() += 1;
        if let Some(ip) = ip {
            *state.ips.entry(ip).or_default() += 1;
        }
        Ok(Permit {
            peer,
            ip,
            source,
            limiter: self.clone(),
        })
    }

    /// The per-IP and per-subnet caps, then the fair share once the total is contended.
    fn check_source(
        &self,
        state: &State,
        ip: Option<IpAddr>,
        source: Source,
    ) -> Result<(), Refusal> {
        let cfg = &self.cfg;
        if ip.is_some_and(|ip| state.ips.get(&ip).copied().unwrap_or(0) >= cfg.max_streams_per_ip) {
            return Err(Refusal::SourceBusy);
        }
        let held = state.sources.get(&source).copied().unwrap_or(0);
        if matches!(source, Source::Subnet(_)) && held >= cfg.max_streams_per_subnet {
            return Err(Refusal::SourceBusy);
        }
        let total = cfg.max_streams_total;
        if state.active >= total - total / 4 && held >= cfg.max_streams_per_peer {
            return Err(Refusal::SourceBusy);
        }
        if state.active < total / 2 {
            return Ok(());
        }
        let others = state.sources.len() - usize::from(held > 0);
        let share = (total as usize / (others + 2)).max(1);
        if held as usize >= share {
            return Err(Refusal::SourceBusy);
        }
        Ok(())
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut state = self.limiter.state.lock().expect("not poisoned");
        state.active = state.active.saturating_sub(1);
        if let Some(entry) = state.peers.get_mut(&self.peer) {
            entry.active = entry.active.saturating_sub(1);
        }
        decrement(&mut state.sources, self.source);
        if let Some(ip) = self.ip {
            decrement(&mut state.ips, ip);
        }
    }
}

/// Lowers a count, dropping the entry at zero (so the map holds only active keys).
fn decrement<K: std::hash::Hash + Eq>(map: &mut HashMap<K, u32>, key: K) {
    if let Some(n) = map.get_mut(&key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(&key);
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

    /// Peers' IPs as a test sets them.
    #[derive(Default)]
    struct Table(Mutex<HashMap<PeerId, IpAddr>>);

    impl PeerAddresses for Table {
        fn ip(&self, peer: &PeerId) -> Option<IpAddr> {
            self.0.lock().unwrap().get(peer).copied()
        }
    }

    fn limiter_with(cfg: SyncServerConfig) -> (Limiter, Arc<Table>) {
        let table = Arc::new(Table::default());
        (Limiter::new(Arc::new(cfg), table.clone()), table)
    }

    fn limiter(per_peer: u32, burst: u32) -> Limiter {
        let cfg = SyncServerConfig {
            max_streams_per_peer: per_peer,
            request_burst: burst,
            requests_per_second: 0.0,
            ..SyncServerConfig::default()
        };
        limiter_with(cfg).0
    }

    fn peer_at(table: &Table, ip: &str) -> PeerId {
        let peer = PeerId::random();
        table.0.lock().unwrap().insert(peer, ip.parse().unwrap());
        peer
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

    #[test]
    fn caps_streams_per_ip_and_per_subnet() {
        let cfg = SyncServerConfig {
            max_streams_per_ip: 3,
            max_streams_per_subnet: 5,
            ..SyncServerConfig::default()
        };
        let (l, table) = limiter_with(cfg);
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(l.admit(peer_at(&table, "10.0.0.1")).unwrap());
        }
        let same_ip = peer_at(&table, "10.0.0.1");
        assert_eq!(l.admit(same_ip).unwrap_err(), Refusal::SourceBusy);
        for _ in 0..2 {
            held.push(l.admit(peer_at(&table, "10.0.0.2")).unwrap());
        }
        let same_net = peer_at(&table, "10.0.0.3");
        assert_eq!(l.admit(same_net).unwrap_err(), Refusal::SourceBusy);
        assert!(l.admit(peer_at(&table, "10.0.1.1")).is_ok());
        held.clear();
        assert!(l.admit(same_net).is_ok(), "released with the permits");
    }

    #[test]
    fn a_contended_total_keeps_room_for_a_newcomer() {
        let cfg = SyncServerConfig {
            max_streams_total: 64,
            max_streams_per_peer: 4,
            max_streams_per_ip: 8,
            max_streams_per_subnet: 16,
            ..SyncServerConfig::default()
        };
        let (l, table) = limiter_with(cfg);
        let mut held = Vec::new();
        for net in 1..=8 {
            for _ in 0..20 {
                if let Ok(p) = l.admit(peer_at(&table, &format!("10.0.{net}.1"))) {
                    held.push(p);
                }
            }
        }
        // 4 x 8 freely, then 8 + 8 under the fair share, then 4 + 4 in the last quarter.
        assert_eq!(held.len(), 56);
        let newcomer = peer_at(&table, "10.9.9.9");
        let got: Vec<_> = (0..4).map_while(|_| l.admit(newcomer).ok()).collect();
        assert_eq!(got.len(), 4, "the newcomer gets its per-peer maximum");
    }
}
