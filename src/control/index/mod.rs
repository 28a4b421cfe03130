//! The in-memory ban index: a lock-free gate for the connection path and the single writer
//! that keeps it in step with the store.
//!
//! Readers ([`Gatekeeper`]) load an immutable [`Snapshot`] through `ArcSwap`; expiry is checked
//! at lookup time, so an expired ban stops blocking without anyone touching the index.

mod snapshot;
mod writer;

use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use libp2p::PeerId;

use crate::control::ban::Ban;
pub(crate) use snapshot::Snapshot;
use snapshot::{now_millis, Lazy, PERMANENT};
pub(crate) use writer::IndexWriter;

/// Cheap, clonable, lock-free answer to "is this address or peer banned".
#[derive(Clone, Default)]
pub struct Gatekeeper {
    snapshot: Arc<ArcSwap<Snapshot>>,
}

impl std::fmt::Debug for Gatekeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gatekeeper").finish_non_exhaustive()
    }
}

impl Gatekeeper {
    /// A static gate over a fixed list of bans (benchmarks, tests, tooling).
    pub fn from_bans<'a>(bans: impl IntoIterator<Item = &'a Ban>) -> Gatekeeper {
        let mut snapshot = Snapshot::default();
        for ban in bans {
            let deadline = ban.expires_at.map_or(PERMANENT, |t| t.timestamp_millis());
            snapshot.set(&ban.target, Some(deadline));
        }
        Gatekeeper {
            snapshot: Arc::new(ArcSwap::from_pointee(snapshot)),
        }
    }

    /// Whether a connection from `ip` must be refused (exact IP or any containing CIDR; an
    /// IPv4-mapped IPv6 address is checked as IPv4).
    pub fn is_ip_banned(&self, ip: IpAddr) -> bool {
        self.snapshot
            .load()
            .ip_banned(ip, &mut Lazy::new(now_millis))
    }

    /// Whether `peer` is banned by peer id.
    pub fn is_peer_banned(&self, peer: &PeerId) -> bool {
        self.snapshot
            .load()
            .peer_banned(peer, &mut Lazy::new(now_millis))
    }

    /// Whether a connection from `ip` (if known) by `peer` is banned either way.
    pub fn is_banned(&self, ip: Option<IpAddr>, peer: &PeerId) -> bool {
        let snap = self.snapshot.load();
        let now = &mut Lazy::new(now_millis);
        snap.peer_banned(peer, now) || ip.is_some_and(|ip| snap.ip_banned(ip, now))
    }

    /// Whether `ban` (if still active) covers an existing connection from `ip` by `peer`;
    /// used on [`ControlEvent::BanAdded`](crate::control::ControlEvent) to find what to close.
    pub fn covers(&self, ban: &Ban, ip: Option<IpAddr>, peer: &PeerId) -> bool {
        ban.covers(ip, peer)
    }

    /// Distinct prefix lengths present (IPv4, IPv6): the hash probes an address lookup costs.
    pub fn prefix_lengths(&self) -> (usize, usize) {
        self.snapshot.load().prefix_lengths()
    }

    pub(crate) fn shared(&self) -> Arc<ArcSwap<Snapshot>> {
        self.snapshot.clone()
    }
}
