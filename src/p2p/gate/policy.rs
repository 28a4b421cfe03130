//! What the gate asks before letting a connection in or out: is this IP or peer id banned?
//! The control plane implements it with its lock-free ban index.

use std::net::IpAddr;

use libp2p::{Multiaddr, PeerId};

/// A ban lookup on the connection path; must be cheap and never block.
pub trait AccessPolicy: Send + Sync + 'static {
    /// True if connections from or to `ip` must be refused.
    fn ip_denied(&self, ip: IpAddr) -> bool;
    /// True if connections with `peer` must be refused.
    fn peer_denied(&self, peer: &PeerId) -> bool;
    /// A connection with `peer` from (or to) `remote` was established: lets the policy learn
    /// where peers connect from, so penalties known only by peer id can reach the address.
    fn connection_established(&self, _peer: &PeerId, _remote: &Multiaddr) {}
    /// A connection with `peer` closed.
    fn connection_closed(&self, _peer: &PeerId) {}
}

/// The policy with no bans (nodes started without a control plane, and tests).
#[derive(Debug, Default, Clone, Copy)]
pub struct AllowAll;

impl AccessPolicy for AllowAll {
    fn ip_denied(&self, _: IpAddr) -> bool {
        false
    }

    fn peer_denied(&self, _: &PeerId) -> bool {
        false
    }
}
