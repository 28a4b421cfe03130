//! The connection gate: a `NetworkBehaviour` that runs before any other on every connection and
//! refuses it — before the handshake for inbound ones — when its IP or peer is banned or a limit
//! is reached. It also closes established connections on demand (a new ban) and keeps static
//! peers' connections alive.

mod counts;
mod handler;
mod policy;

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use libp2p::core::transport::PortUse;
use libp2p::core::{ConnectedPoint, Endpoint};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{
    CloseConnection, ConnectionClosed, ConnectionDenied, ConnectionId, DialFailure, FromSwarm,
    ListenFailure, NetworkBehaviour, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};

pub use counts::{subnet_of, Conn};
pub use handler::KeepAliveHandler;
pub use policy::{AccessPolicy, AllowAll};

use crate::metrics::P2pMetrics;
use crate::p2p::config::ConnectionLimits;
use counts::Counts;

/// Why the gate refused a connection; `label()` is the metrics reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("address or peer is banned")]
    Banned,
    #[error("too many inbound connections")]
    Inbound,
    #[error("too many outbound connections")]
    Outbound,
    #[error("too many pending inbound connections")]
    PendingInbound,
    #[error("too many pending outbound connections")]
    PendingOutbound,
    #[error("too many connections from this IP")]
    PerIp,
    #[error("too many connections from this subnet (IPv4 /24, IPv6 /64)")]
    PerSubnet,
    #[error("too many handshakes in progress from this IP")]
    PendingPerIp,
    #[error("too many handshakes in progress from this subnet (IPv4 /24, IPv6 /64)")]
    PendingPerSubnet,
    #[error("too many connections with this peer")]
    PerPeer,
}

impl Refusal {
    /// Value of the `reason` label of `wharf_connections_refused_total`.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::Banned => "ban",
            Refusal::Inbound => "limit_inbound",
            Refusal::Outbound => "limit_outbound",
            Refusal::PendingInbound => "limit_pending_inbound",
            Refusal::PendingOutbound => "limit_pending_outbound",
            Refusal::PerIp => "limit_per_ip",
            Refusal::PerSubnet => "limit_per_subnet",
            Refusal::PendingPerIp => "limit_pending_per_ip",
            Refusal::PendingPerSubnet => "limit_pending_per_subnet",
            Refusal::PerPeer => "limit_per_peer",
        }
    }
}

/// The IP a multiaddr starts with, if any (relayed addresses have none of their own).
pub fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

/// See the module docs.
pub struct Gate {
    limits: ConnectionLimits,
    policy: Arc<dyn AccessPolicy>,
    keep_alive: HashSet<PeerId>,
    counts: Counts,
    to_close: VecDeque<(PeerId, ConnectionId)>,
    waker: Option<Waker>,
    metrics: P2pMetrics,
}

impl Gate {
    pub fn new(
        limits: ConnectionLimits,
        policy: Arc<dyn AccessPolicy>,
        keep_alive: HashSet<PeerId>,
        metrics: P2pMetrics,
    ) -> Self {
        Self {
            limits,
            policy,
            keep_alive,
            counts: Counts::default(),
            to_close: VecDeque::new(),
            waker: None,
            metrics,
        }
    }

    /// Closes every established connection `pred` selects; returns how many.
    pub fn close_matching(&mut self, pred: impl Fn(&Conn) -> bool) -> usize {
        let victims = self.counts.matching(pred);
        let n = victims.len();
        self.to_close
            .extend(victims.into_iter().map(|(id, c)| (c.peer, id)));
        if let Some(w) = self.waker.take() {
            w.wake();
        }
        n
    }

    /// Closes every connection the current policy now refuses (after a ban was added).
    pub fn enforce_policy(&mut self) -> usize {
        let policy = self.policy.clone();
        self.close_matching(|c| {
            policy.peer_denied(&c.peer) || c.ip.is_some_and(|ip| policy.ip_denied(ip))
        })
    }

    fn refuse(&self, why: Refusal, remote: &Multiaddr) -> Result<(), ConnectionDenied> {
        tracing::debug!(%remote, reason = %why, "connection refused");
        self.metrics.refused(why.label());
        Err(ConnectionDenied::new(why))
    }

    /// Before the handshake: bans, the global pending and established limits (the established
    /// one is checked again when the handshake completes), then the per-IP and per-subnet ones.
    fn check_inbound(&self, remote: &Multiaddr) -> Result<(), ConnectionDenied> {
        let l = &self.limits;
        let ip = ip_of(remote);
        if ip.is_some_and(|ip| self.policy.ip_denied(ip)) {
            return self.refuse(Refusal::Banned, remote);
        }
        if self.counts.pending_inbound() >= l.max_pending_inbound as usize {
            return self.refuse(Refusal::PendingInbound, remote);
        }
        if self.counts.established_inbound() >= l.max_established_inbound {
            return self.refuse(Refusal::Inbound, remote);
        }
        match ip.and_then(|ip| self.source_limit(ip)) {
            Some(why) => self.refuse(why, remote),
            None => Ok(()),
        }
    }

    /// The per-IP or per-subnet limit a new inbound connection from `ip` would pass, if any.
    fn source_limit(&self, ip: IpAddr) -> Option<Refusal> {
        let l = &self.limits;
        let (host, net) = (self.counts.slots_of_ip(ip), self.counts.slots_of_subnet(ip));
        if host.pending >= l.max_pending_per_ip {
            Some(Refusal::PendingPerIp)
        } else if net.pending >= l.max_pending_per_subnet {
            Some(Refusal::PendingPerSubnet)
        } else if host.total >= l.max_per_ip {
            Some(Refusal::PerIp)
        } else if net.total >= l.max_per_subnet {
            Some(Refusal::PerSubnet)
        } else {
            None
        }
    }

    fn check_outbound(
        &self,
        peer: Option<PeerId>,
        addrs: &[Multiaddr],
    ) -> Result<(), ConnectionDenied> {
        let l = &self.limits;
        let first = addrs.first().cloned().unwrap_or_else(Multiaddr::empty);
        if peer.is_some_and(|p| self.policy.peer_denied(&p)) {
            return self.refuse(Refusal::Banned, &first);
        }
        let ips: Vec<IpAddr> = addrs.iter().filter_map(ip_of).collect();
        if !ips.is_empty()
            && ips.len() == addrs.len()
            && ips.iter().all(|ip| self.policy.ip_denied(*ip))
        {
            return self.refuse(Refusal::Banned, &first);
        }
        if self.counts.pending_outbound() >= l.max_pending_outbound as usize {
            return self.refuse(Refusal::PendingOutbound, &first);
        }
        if self.counts.established_outbound() >= l.max_established_outbound {
            return self.refuse(Refusal::Outbound, &first);
        }
        Ok(())
    }

    /// After the handshake, both directions: bans (the peer id is known now) and the per-peer
    /// limit.
    fn check_established(
        &self,
        peer: &PeerId,
        remote: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        if self.policy.peer_denied(peer)
            || ip_of(remote).is_some_and(|ip| self.policy.ip_denied(ip))
        {
            self.refuse(Refusal::Banned, remote)?;
        }
        if self.counts.with_peer(peer) >= self.limits.max_established_per_peer {
            self.refuse(Refusal::PerPeer, remote)?;
        }
        Ok(KeepAliveHandler::new(self.keep_alive.contains(peer)))
    }

    /// Inbound, after the handshake: the established limit again, since every handshake that
    /// started below it may complete (up to `max_pending_inbound` over it otherwise).
    fn check_established_inbound(
        &self,
        peer: &PeerId,
        remote: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        if self.counts.established_inbound() >= self.limits.max_established_inbound {
            self.refuse(Refusal::Inbound, remote)?;
        }
        self.check_established(peer, remote)
    }

    fn on_established(&mut self, peer: PeerId, id: ConnectionId, endpoint: &ConnectedPoint) {
        let inbound = endpoint.is_listener();
        let ip = ip_of(endpoint.get_remote_address());
        self.counts.establish(id, Conn { peer, ip, inbound });
        self.policy
            .connection_established(&peer, endpoint.get_remote_address());
        self.metrics
            .connection_opened(inbound, endpoint.get_remote_address());
    }

    fn on_closed(&mut self, peer: PeerId, id: ConnectionId, endpoint: &ConnectedPoint) {
        self.counts.close(id);
        self.policy.connection_closed(&peer);
        self.metrics
            .connection_closed(endpoint.is_listener(), endpoint.get_remote_address());
    }
}

impl NetworkBehaviour for Gate {
    type ConnectionHandler = KeepAliveHandler;
    type ToSwarm = Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        id: ConnectionId,
        _local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        self.check_inbound(remote)?;
        self.counts.add_pending_in(id, ip_of(remote));
        Ok(())
    }

    fn handle_established_inbound_connection(
        &mut self,
        _id: ConnectionId,
        peer: PeerId,
        _local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.check_established_inbound(&peer, remote)
    }

    fn handle_pending_outbound_connection(
        &mut self,
        id: ConnectionId,
        peer: Option<PeerId>,
        addrs: &[Multiaddr],
        _role: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        self.check_outbound(peer, addrs)?;
        self.counts.add_pending_out(id);
        Ok(Vec::new())
    }

    fn handle_established_outbound_connection(
        &mut self,
        _id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        _role: Endpoint,
        _port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.check_established(&peer, addr)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionEstablished(e) => {
                self.on_established(e.peer_id, e.connection_id, e.endpoint)
            }
            FromSwarm::ConnectionClosed(ConnectionClosed {
                peer_id,
                connection_id,
                endpoint,
                ..
            }) => self.on_closed(peer_id, connection_id, endpoint),
            FromSwarm::ListenFailure(ListenFailure { connection_id, .. }) => {
                self.counts.drop_pending_in(connection_id)
            }
            FromSwarm::DialFailure(DialFailure { connection_id, .. }) => {
                self.counts.drop_pending_out(connection_id)
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        match self.to_close.pop_front() {
            Some((peer_id, id)) => Poll::Ready(ToSwarm::CloseConnection {
                peer_id,
                connection: CloseConnection::One(id),
            }),
            None => {
                self.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
