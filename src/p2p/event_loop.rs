//! The one task that owns the swarm: it serves commands from `P2pHandle`s, reacts to swarm
//! events, re-dials static peers, and saves the peer book on shutdown.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use futures::StreamExt;
use libp2p::kad::QueryId;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, Swarm};
use libp2p::{Multiaddr, PeerId};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::behaviour::Behaviour;
use super::handle::{Command, NodeInfo, P2pError, Reply};
use super::peer_book;
use super::peers::PeerTable;
use super::protocols::Protocols;
use super::redial::Redialer;
use crate::metrics::P2pMetrics;

/// How often due static-peer re-dials are checked.
const REDIAL_TICK: Duration = Duration::from_millis(250);

/// State of the swarm task. Event handlers live in `events.rs`.
pub struct EventLoop {
    pub(super) swarm: Swarm<Behaviour>,
    pub(super) commands: mpsc::Receiver<Command>,
    pub(super) cancel: CancellationToken,
    pub(super) network: String,
    pub(super) protocols: Protocols,
    pub(super) data_dir: PathBuf,
    pub(super) peers: PeerTable,
    pub(super) redial: Redialer,
    pub(super) dials: HashMap<ConnectionId, Reply<Result<PeerId, P2pError>>>,
    pub(super) static_dials: HashMap<ConnectionId, PeerId>,
    pub(super) queries: HashMap<QueryId, Reply<Result<Vec<PeerId>, P2pError>>>,
    pub(super) libp2p_metrics: libp2p::metrics::Metrics,
    pub(super) metrics: P2pMetrics,
    pub(super) pnet: bool,
    pub(super) topic: libp2p::gossipsub::IdentTopic,
    pub(super) gossip_tx: mpsc::Sender<super::gossip::GossipMessage>,
    /// Peers announcing Wharf's sync protocols, and those announcing Starknet's.
    pub(super) sync_peers: [tokio::sync::watch::Sender<Vec<PeerId>>; 2],
    pub(super) events: crate::events::EventBus,
    pub(super) snapshot: tokio::sync::watch::Sender<Option<NodeInfo>>,
    pub(super) peer_ips: super::PeerIps,
}

impl EventLoop {
    /// Runs until the cancellation token fires or every handle is dropped.
    pub async fn run(mut self) {
        let mut tick = tokio::time::interval(REDIAL_TICK);
        loop {
            tokio::select! {
                _ = self.cancel.cancelled() => break,
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => break,
                },
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                _ = tick.tick() => self.on_tick(),
            }
        }
        self.save_peer_book();
        tracing::info!("p2p node stopped");
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Info(r) => {
                let _ = r.send(self.info());
            }
            Command::Peers(r) => {
                let _ = r.send(self.peers.all());
            }
            Command::Peer(p, r) => {
                let _ = r.send(self.peers.get(&p).cloned());
            }
            Command::RoutingTable(r) => {
                let _ = r.send(self.routing_table_peers());
            }
            Command::ClosestPeers(key, r) => {
                let id = self.swarm.behaviour_mut().kad.get_closest_peers(key);
                self.queries.insert(id, r);
            }
            Command::Dial(addr, r) => self.dial(addr, r),
            Command::Disconnect(p, r) => {
                let _ = r.send(self.swarm.disconnect_peer_id(p).is_ok());
            }
            Command::EnforcePolicy(r) => {
                let _ = r.send(self.swarm.behaviour_mut().gate.enforce_policy());
            }
            Command::Publish(data, r) => {
                let _ = r.send(self.publish(data));
            }
            Command::Validate(id, source, verdict) => self.report(&id, &source, verdict),
            Command::GossipScore(peer, r) => {
                let _ = r.send(self.swarm.behaviour().gossipsub.peer_score(&peer));
            }
            Command::GossipScores(r) => {
                let gs = &self.swarm.behaviour().gossipsub;
                let scores = self
                    .peers
                    .ids()
                    .into_iter()
                    .filter_map(|p| gs.peer_score(&p).map(|s| (p, s)))
                    .collect();
                let _ = r.send(scores);
            }
        }
    }

    fn info(&mut self) -> NodeInfo {
        let me = *self.swarm.local_peer_id();
        let with_id = |a: &Multiaddr| a.clone().with_p2p(me).unwrap_or_else(|a| a);
        NodeInfo {
            peer_id: me,
            network: self.network.clone(),
            listen_addrs: self.swarm.listeners().map(with_id).collect(),
            external_addrs: self.swarm.external_addresses().map(with_id).collect(),
            routing_table_size: self.routing_table_peers().len(),
            connected_peers: self.peers.len(),
        }
    }

    pub(super) fn routing_table_peers(&mut self) -> Vec<PeerId> {
        self.routing_table().into_iter().map(|(p, _)| p).collect()
    }

    pub(super) fn routing_table(&mut self) -> Vec<(PeerId, Vec<Multiaddr>)> {
        let mut out = Vec::new();
        for bucket in self.swarm.behaviour_mut().kad.kbuckets() {
            for entry in bucket.iter() {
                let addrs = entry.node.value.iter().cloned().collect();
                out.push((*entry.node.key.preimage(), addrs));
            }
        }
        out
    }

    fn dial(&mut self, addr: Multiaddr, reply: Reply<Result<PeerId, P2pError>>) {
        let opts = DialOpts::unknown_peer_id().address(addr).build();
        let id = opts.connection_id();
        match self.swarm.dial(opts) {
            Ok(()) => {
                self.dials.insert(id, reply);
            }
            Err(e) => {
                let _ = reply.send(Err(P2pError::Dial(e.to_string())));
            }
        }
    }

    /// Periodic work: due re-dials, and a fresh snapshot for readers that must not wait on us.
    fn on_tick(&mut self) {
        self.redial_due();
        let info = Some(self.info());
        self.snapshot.send_if_modified(|old| {
            let changed = *old != info;
            if changed {
                *old = info;
            }
            changed
        });
    }

    /// Dials every static peer whose backoff has elapsed.
    pub(super) fn redial_due(&mut self) {
        for (peer, addrs) in self.redial.due(Instant::now()) {
            let opts = DialOpts::peer_id(peer)
                .addresses(addrs)
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            let id = opts.connection_id();
            match self.swarm.dial(opts) {
                Ok(()) => {
                    self.static_dials.insert(id, peer);
                }
                Err(_) if self.swarm.is_connected(&peer) => self.redial.connected(&peer),
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "static peer dial not started");
                    self.redial.failed(&peer, Instant::now());
                }
            }
            self.metrics.redialed();
        }
    }

    /// Publishes the connected peers that serve block sync, if that set changed.
    pub(super) fn refresh_sync_peers(&mut self) {
        let probes = [
            self.protocols.sync_probe.to_string(),
            crate::sync::starknet::client::protocol_id(crate::chain::Component::Headers)
                .to_string(),
        ];
        for (probe, peers) in probes.iter().zip(&self.sync_peers) {
            let mut now = self.peers.announcing(probe);
            now.sort();
            peers.send_if_modified(|old| {
                let changed = *old != now;
                if changed {
                    *old = now;
                }
                changed
            });
        }
    }

    fn save_peer_book(&mut self) {
        let peers = self.routing_table();
        match peer_book::save(&self.data_dir, &peers) {
            Ok(()) => tracing::info!(peers = peers.len(), "peer book saved"),
            Err(e) => tracing::warn!(error = %e, "could not save the peer book"),
        }
    }
}
