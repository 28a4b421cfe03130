//! Ban enforcement on the connection path as a libp2p `NetworkBehaviour`: refuses banned
//! addresses before the handshake, refuses banned peers once their id is known (inbound and
//! outbound), and closes existing connections a new ban covers. Compose it into the relay's
//! behaviour; it has no protocol of its own.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::IpAddr;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::FutureExt;
use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{
    dummy, CloseConnection, ConnectionClosed, ConnectionDenied, ConnectionId, FromSwarm,
    NetworkBehaviour, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};
use tokio::sync::broadcast::{self, error::RecvError};

use super::{ControlEvent, Gatekeeper};

/// Why a connection was denied (the `cause` of `ConnectionDenied`).
#[derive(Debug, thiserror::Error)]
#[error("connection refused: {0} is banned")]
pub struct Banned(pub String);

type NextEvent = BoxFuture<
    'static,
    (
        Result<ControlEvent, RecvError>,
        broadcast::Receiver<ControlEvent>,
    ),
>;

/// Enforces bans for one swarm. Build it with [`BanBehaviour::new`] from
/// `control.gatekeeper()` and `control.subscribe()`.
pub struct BanBehaviour {
    gate: Gatekeeper,
    next: NextEvent,
    connections: HashMap<ConnectionId, (PeerId, Option<IpAddr>)>,
    to_close: VecDeque<(PeerId, ConnectionId)>,
}

/// The IP address in a multiaddr, if it has one.
pub fn multiaddr_ip(addr: &Multiaddr) -> Option<IpAddr> {
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

fn recv(mut rx: broadcast::Receiver<ControlEvent>) -> NextEvent {
    async move { (rx.recv().await, rx) }.boxed()
}

impl BanBehaviour {
    /// A behaviour enforcing `gate`, closing connections on the bans announced by `events`.
    pub fn new(gate: Gatekeeper, events: broadcast::Receiver<ControlEvent>) -> Self {
        BanBehaviour {
            gate,
            next: recv(events),
            connections: HashMap::new(),
            to_close: VecDeque::new(),
        }
    }

    fn check(
        &mut self,
        id: ConnectionId,
        peer: PeerId,
        remote: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        let ip = multiaddr_ip(remote);
        if self.gate.is_banned(ip, &peer) {
            tracing::debug!(%peer, %remote, "refusing banned peer");
            return Err(ConnectionDenied::new(Banned(format!("{peer} at {remote}"))));
        }
        self.connections.insert(id, (peer, ip));
        Ok(())
    }

    /// Queues every connection matching `covered` for closing.
    fn close_where(&mut self, covered: impl Fn(&PeerId, Option<IpAddr>) -> bool) {
        for (id, (peer, ip)) in &self.connections {
            if covered(peer, *ip) {
                tracing::info!(%peer, ip = ?ip, "closing connection covered by a ban");
                self.to_close.push_back((*peer, *id));
            }
        }
    }

    fn on_control_event(&mut self, event: Result<ControlEvent, RecvError>) {
        match event {
            Ok(ControlEvent::BanAdded(ban)) => self.close_where(|p, ip| ban.covers(ip, p)),
            Err(RecvError::Lagged(_)) => {
                let gate = self.gate.clone();
                self.close_where(|p, ip| gate.is_banned(ip, p));
            }
            _ => {}
        }
    }
}

impl NetworkBehaviour for BanBehaviour {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        _id: ConnectionId,
        _local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        match multiaddr_ip(remote) {
            Some(ip) if self.gate.is_ip_banned(ip) => {
                tracing::debug!(%remote, "refusing banned address before the handshake");
                Err(ConnectionDenied::new(Banned(remote.to_string())))
            }
            _ => Ok(()),
        }
    }

    fn handle_established_inbound_connection(
        &mut self,
        id: ConnectionId,
        peer: PeerId,
        _local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.check(id, peer, remote)
            .map(|()| dummy::ConnectionHandler)
    }

    fn handle_pending_outbound_connection(
        &mut self,
        _id: ConnectionId,
        peer: Option<PeerId>,
        addresses: &[Multiaddr],
        _role: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        if let Some(peer) = peer.filter(|p| self.gate.is_peer_banned(p)) {
            return Err(ConnectionDenied::new(Banned(peer.to_string())));
        }
        // refuse a dial whose every address is banned; mixed lists are checked per
        // connection once established
        let banned = |a: &Multiaddr| multiaddr_ip(a).is_some_and(|ip| self.gate.is_ip_banned(ip));
        if !addresses.is_empty() && addresses.iter().all(banned) {
            return Err(ConnectionDenied::new(Banned(addresses[0].to_string())));
        }
        Ok(Vec::new())
    }

    fn handle_established_outbound_connection(
        &mut self,
        id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        _role: Endpoint,
        _port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.check(id, peer, addr)
            .map(|()| dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        if let FromSwarm::ConnectionClosed(ConnectionClosed { connection_id, .. }) = event {
            self.connections.remove(&connection_id);
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _peer: PeerId,
        _id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Infallible, THandlerInEvent<Self>>> {
        while let Poll::Ready((event, rx)) = self.next.poll_unpin(cx) {
            let closed = matches!(event, Err(RecvError::Closed));
            self.on_control_event(event);
            if closed {
                self.next = futures::future::pending().boxed();
                break;
            }
            self.next = recv(rx);
        }
        match self.to_close.pop_front() {
            Some((peer_id, id)) => Poll::Ready(ToSwarm::CloseConnection {
                peer_id,
                connection: CloseConnection::One(id),
            }),
            None => Poll::Pending,
        }
    }
}
