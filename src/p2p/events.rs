//! Swarm event handlers of the event loop, one per behaviour.

use libp2p::core::ConnectedPoint;
use libp2p::kad::{self, GetClosestPeersError, QueryResult};
use libp2p::metrics::Recorder;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{ConnectionId, SwarmEvent};
use libp2p::{identify, ping, Multiaddr, PeerId};
use tokio::time::Instant;

use super::behaviour::BehaviourEvent;
use super::event_loop::EventLoop;
use super::gate::ip_of;
use super::handle::P2pError;
use crate::events::Event;

impl EventLoop {
    pub(super) fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        self.libp2p_metrics.record(&event);
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Kad(e)) => self.on_kad_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::StarknetKad(e))
            | SwarmEvent::Behaviour(BehaviourEvent::StarknetKadHex(e)) => {
                self.libp2p_metrics.record(&e)
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(e)) => self.on_identify_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::Ping(e)) => self.on_ping_event(e),
            SwarmEvent::Behaviour(BehaviourEvent::Relay(e)) => self.libp2p_metrics.record(&e),
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(e)) => self.on_gossip_event(e),
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                ..
            } => self.on_connected(peer_id, connection_id, endpoint),
            SwarmEvent::ConnectionClosed {
                peer_id,
                endpoint,
                num_established,
                ..
            } => self.on_disconnected(peer_id, endpoint, num_established),
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                peer_id,
                error,
            } => self.on_dial_error(connection_id, peer_id, error.to_string()),
            SwarmEvent::IncomingConnectionError {
                send_back_addr,
                error,
                ..
            } => self.on_incoming_error(&send_back_addr, &error),
            SwarmEvent::NewListenAddr { address, .. } => self.on_listen_addr(address),
            _ => {}
        }
    }

    fn on_connected(&mut self, peer: PeerId, id: ConnectionId, endpoint: ConnectedPoint) {
        tracing::debug!(%peer, remote = %endpoint.get_remote_address(), "connected");
        self.peer_ips.connected(peer, endpoint.get_remote_address());
        self.peers.connected(
            peer,
            endpoint.get_remote_address().clone(),
            endpoint.is_listener(),
        );
        self.redial.connected(&peer);
        self.static_dials.remove(&id);
        if self.peers.get(&peer).is_some_and(|p| p.connections == 1) {
            self.events.publish(Event::PeerConnected {
                peer_id: peer.to_string(),
                address: endpoint.get_remote_address().to_string(),
                direction: if endpoint.is_listener() {
                    "inbound"
                } else {
                    "outbound"
                },
            });
        }
        if let Some(reply) = self.dials.remove(&id) {
            let _ = reply.send(Ok(peer));
        }
    }

    fn on_disconnected(&mut self, peer: PeerId, endpoint: ConnectedPoint, remaining: u32) {
        tracing::debug!(%peer, remote = %endpoint.get_remote_address(), remaining, "disconnected");
        self.peer_ips.disconnected(&peer);
        self.peers
            .disconnected(&peer, endpoint.get_remote_address(), remaining);
        self.refresh_sync_peers();
        if remaining == 0 {
            let peer_id = peer.to_string();
            self.events.publish(Event::PeerDisconnected { peer_id });
        }
        if remaining == 0 && self.redial.is_static(&peer) {
            tracing::info!(%peer, "static peer disconnected; will re-dial");
            self.redial.disconnected(&peer, Instant::now());
        }
    }

    fn on_dial_error(&mut self, id: ConnectionId, peer: Option<PeerId>, error: String) {
        if let Some(reply) = self.dials.remove(&id) {
            let _ = reply.send(Err(P2pError::Dial(error.clone())));
        }
        if let Some(peer) = self.static_dials.remove(&id) {
            tracing::warn!(%peer, %error, "static peer dial failed; backing off");
            self.redial.failed(&peer, Instant::now());
        } else if let Some(peer) = peer {
            tracing::debug!(%peer, %error, "dial failed");
        }
    }

    fn on_incoming_error(&mut self, remote: &Multiaddr, error: &libp2p::swarm::ListenError) {
        use libp2p::swarm::ListenError;
        match error {
            // The gate already counted and logged its own refusals.
            ListenError::Denied { cause } => {
                tracing::debug!(%remote, reason = %cause, "inbound connection refused")
            }
            _ => {
                let reason = if self.pnet { "pnet" } else { "handshake" };
                self.metrics.refused(reason);
                tracing::info!(%remote, %error, reason, "inbound connection failed its handshake");
            }
        }
    }

    fn on_listen_addr(&mut self, address: Multiaddr) {
        let me = *self.swarm.local_peer_id();
        let full = address.with_p2p(me).unwrap_or_else(|a| a);
        tracing::info!("listening; joining peers can use: {full}");
    }

    fn on_identify_event(&mut self, event: identify::Event) {
        self.libp2p_metrics.record(&event);
        let identify::Event::Received { peer_id, info, .. } = event else {
            return;
        };
        self.peers.identified(&peer_id, &info);
        self.refresh_sync_peers();
        self.add_to_starknet_dht(&peer_id, &info);
        if !info.protocols.contains(&self.protocols.kad) {
            return;
        }
        let loopback_ok = self
            .peers
            .get(&peer_id)
            .and_then(|p| p.addresses.first())
            .and_then(ip_of)
            .is_some_and(|ip| ip.is_loopback());
        let was_empty = self.routing_table_len() == 0;
        for addr in info
            .listen_addrs
            .into_iter()
            .filter(|a| dialable(a, loopback_ok))
        {
            self.swarm.behaviour_mut().kad.add_address(&peer_id, addr);
        }
        if was_empty && self.routing_table_len() > 0 {
            let _ = self.swarm.behaviour_mut().kad.bootstrap();
        }
        let n = self.routing_table_len();
        self.metrics.set_routing_table(n);
    }

    /// A peer speaking one of Starknet's Kademlia ids enters that DHT with its listen addresses
    /// (Starknet nodes find sync peers there, and find a relay through it).
    fn add_to_starknet_dht(&mut self, peer: &PeerId, info: &identify::Info) {
        let ids = self.protocols.starknet_kad.clone();
        let b = self.swarm.behaviour_mut();
        let dhts = [b.starknet_kad.as_mut(), b.starknet_kad_hex.as_mut()];
        for (id, dht) in ids.iter().zip(dhts) {
            let Some(dht) = dht.filter(|_| info.protocols.contains(id)) else {
                continue;
            };
            for addr in &info.listen_addrs {
                dht.add_address(peer, addr.clone());
            }
        }
    }

    fn routing_table_len(&mut self) -> usize {
        self.swarm
            .behaviour_mut()
            .kad
            .kbuckets()
            .map(|b| b.num_entries())
            .sum()
    }

    fn on_ping_event(&mut self, event: ping::Event) {
        self.libp2p_metrics.record(&event);
        if let Ok(rtt) = event.result {
            self.peers.pinged(&event.peer, rtt);
        }
    }

    fn on_kad_event(&mut self, event: kad::Event) {
        self.libp2p_metrics.record(&event);
        match event {
            kad::Event::OutboundQueryProgressed {
                id,
                result: QueryResult::GetClosestPeers(result),
                step,
                ..
            } if step.last => self.on_closest_peers(id, result),
            kad::Event::RoutingUpdated { .. } => {
                let n = self.routing_table_len();
                self.metrics.set_routing_table(n);
            }
            _ => {}
        }
    }

    fn on_closest_peers(
        &mut self,
        id: kad::QueryId,
        result: Result<kad::GetClosestPeersOk, GetClosestPeersError>,
    ) {
        let Some(reply) = self.queries.remove(&id) else {
            return;
        };
        let out = match result {
            Ok(ok) => Ok(ok.peers.into_iter().map(|p| p.peer_id).collect()),
            Err(GetClosestPeersError::Timeout { peers, .. }) if !peers.is_empty() => {
                Ok(peers.into_iter().map(|p| p.peer_id).collect())
            }
            Err(e) => Err(P2pError::Query(e.to_string())),
        };
        let _ = reply.send(out);
    }
}

/// Whether an address a peer announced is worth keeping: never unspecified; loopback only when
/// the peer itself reached us over loopback (tests, single-host setups).
fn dialable(addr: &Multiaddr, loopback_ok: bool) -> bool {
    match ip_of(addr) {
        Some(ip) if ip.is_unspecified() => false,
        Some(ip) if ip.is_loopback() => loopback_ok,
        Some(_) => true,
        None => addr
            .iter()
            .any(|p| matches!(p, Protocol::Dns4(_) | Protocol::Dns6(_) | Protocol::Dns(_))),
    }
}
