//! The libp2p node: transports, identity, the connection gate, Kademlia bootstrap, identify,
//! ping, AutoNAT and circuit relay, all owned by one task (`EventLoop`) and driven through a
//! cloneable `P2pHandle`.

mod behaviour;
pub mod config;
mod event_loop;
mod events;
pub mod fd_limit;
pub mod gate;
mod gated_transport;
pub mod gossip;
mod gossip_events;
mod handle;
pub mod identity;
pub mod peer_book;
mod peer_ips;
mod peers;
pub mod protocols;
pub mod psk;
mod redial;
pub(crate) mod transport;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{Swarm, SwarmEvent};
use libp2p::Multiaddr;
use prometheus_client::registry::Registry;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use config::{ConnectionLimits, GossipConfig, P2pConfig, PeerAddr, RelayConfig};
pub use gate::{AccessPolicy, AllowAll};
pub use gossip::{GossipMessage, Verdict};
pub use handle::{NodeInfo, P2pError, P2pHandle};
pub use peer_ips::PeerIps;
pub use peers::PeerInfo;
pub use protocols::Protocols;

use crate::metrics::P2pMetrics;
use behaviour::Behaviour;
use event_loop::EventLoop;
use redial::Redialer;

/// Capacity of the command channel of the swarm task.
const COMMAND_QUEUE: usize = 256;
/// How long start-up waits for every listener to report its bound address.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Identity(#[from] identity::IdentityError),
    #[error(transparent)]
    Psk(#[from] psk::PskError),
    #[error("transport: {0}")]
    Transport(#[from] transport::TransportError),
    #[error("cannot listen on {addr}: {reason}")]
    Listen { addr: Multiaddr, reason: String },
}

/// A started node: its handle, its bound listen addresses, and the task to run.
pub struct Started {
    pub handle: P2pHandle,
    /// Bound listen addresses (ports resolved), without `/p2p/`.
    pub listen_addrs: Vec<Multiaddr>,
    /// Received block announcements, each waiting for `P2pHandle::validate`.
    pub gossip_rx: mpsc::Receiver<GossipMessage>,
    pub event_loop: EventLoop,
}

/// What [`start`] takes from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct StartConfig<'a> {
    /// The `[p2p]` section.
    pub p2p: &'a P2pConfig,
    /// The `[relay]` section (circuit relay server limits).
    pub relay: &'a RelayConfig,
    /// Network name; scopes every protocol id and the gossip topic.
    pub network: &'a str,
    /// Where the node key and the peer book live.
    pub data_dir: &'a Path,
    /// The Starknet chain id (e.g. `SN_SEPOLIA`) on Starknet networks: Starknet's Kademlia
    /// protocol ids are served too.
    pub starknet_chain_id: Option<&'a str>,
}

/// Builds the swarm, binds every listener, and prepares the event loop (not yet running).
pub async fn start(
    config: StartConfig<'_>,
    key: Keypair,
    policy: Arc<dyn AccessPolicy>,
    registry: &mut Registry,
    events: crate::events::EventBus,
    cancel: CancellationToken,
) -> Result<Started, StartError> {
    fd_limit::raise_for(&config.p2p.limits);
    let protocols = Protocols::new(config.network).with_starknet(config.starknet_chain_id);
    let metrics = P2pMetrics::register(registry);
    let built = build_swarm(&config, &key, &protocols, policy, registry, &metrics).await?;
    let (mut swarm, listen_addrs, pnet) = built;
    load_peer_book(&mut swarm, config.data_dir);
    let peer_id = key.public().to_peer_id();
    let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
    let (gossip_tx, gossip_rx) = mpsc::channel(config.p2p.gossip.validation_queue);
    let (sync_peers_tx, sync_peers_rx) = tokio::sync::watch::channel(Vec::new());
    let (starknet_peers_tx, starknet_peers_rx) = tokio::sync::watch::channel(Vec::new());
    let control = swarm.behaviour().stream.new_control();
    let (snapshot_tx, snapshot_rx) = tokio::sync::watch::channel(None);
    let peer_ips = PeerIps::default();
    let handle = P2pHandle::new(
        tx,
        peer_id,
        control,
        [sync_peers_rx, starknet_peers_rx],
        snapshot_rx,
        peer_ips.clone(),
    );
    let p2p = &config.p2p;
    let backoff = (p2p.redial_initial_backoff, p2p.redial_max_backoff);
    let event_loop = EventLoop {
        swarm,
        commands: rx,
        cancel,
        network: config.network.to_owned(),
        protocols,
        data_dir: config.data_dir.to_path_buf(),
        peers: Default::default(),
        redial: Redialer::new(&p2p.peers, backoff.0, backoff.1),
        dials: HashMap::new(),
        static_dials: HashMap::new(),
        queries: HashMap::new(),
        libp2p_metrics: libp2p::metrics::Metrics::new(registry),
        metrics,
        pnet,
        topic: gossip::topic(config.network),
        gossip_tx,
        sync_peers: [sync_peers_tx, starknet_peers_tx],
        events,
        snapshot: snapshot_tx,
        peer_ips,
    };
    Ok(Started {
        handle,
        listen_addrs,
        gossip_rx,
        event_loop,
    })
}

/// The swarm over the (gated, optionally pnet) transport, listening on every configured
/// address; returns it with its bound listen addresses and whether pnet is on.
async fn build_swarm(
    config: &StartConfig<'_>,
    key: &Keypair,
    protocols: &Protocols,
    policy: Arc<dyn AccessPolicy>,
    registry: &mut Registry,
    metrics: &P2pMetrics,
) -> Result<(Swarm<Behaviour>, Vec<Multiaddr>, bool), StartError> {
    let psk = config
        .p2p
        .shared_key
        .as_ref()
        .map(|k| psk::parse(k.expose()))
        .transpose()?;
    if let Some(psk) = &psk {
        tracing::warn!(fingerprint = %psk.fingerprint(), "private network: pnet on, QUIC off (pnet cannot protect it)");
    }
    let timeout = config.p2p.handshake_timeout;
    let transport = transport::build(key, psk, timeout, policy.clone(), registry)?;
    let behaviour = Behaviour::new(key, config, protocols, policy, metrics.clone(), registry);
    let peer_id = key.public().to_peer_id();
    let swarm_cfg = libp2p::swarm::Config::with_tokio_executor()
        .with_idle_connection_timeout(config.p2p.idle_connection_timeout);
    let mut swarm = Swarm::new(transport, behaviour, peer_id, swarm_cfg);
    let listen_addrs = listen(&mut swarm, &config.p2p.listen, psk.is_some()).await?;
    for addr in &config.p2p.external_addrs {
        swarm.add_external_address(addr.clone());
    }
    Ok((swarm, listen_addrs, psk.is_some()))
}

fn is_quic(addr: &Multiaddr) -> bool {
    addr.iter()
        .any(|p| matches!(p, Protocol::QuicV1 | Protocol::Quic))
}

/// Starts every listener and waits until each has reported its bound address.
async fn listen(
    swarm: &mut Swarm<Behaviour>,
    addrs: &[Multiaddr],
    pnet: bool,
) -> Result<Vec<Multiaddr>, StartError> {
    let mut waiting = HashMap::new();
    for addr in addrs {
        if pnet && is_quic(addr) {
            tracing::warn!(%addr, "QUIC listen address ignored: a pre-shared key is set");
            continue;
        }
        let id = swarm
            .listen_on(addr.clone())
            .map_err(|e| StartError::Listen {
                addr: addr.clone(),
                reason: e.to_string(),
            })?;
        waiting.insert(id, addr.clone());
    }
    let mut bound = Vec::new();
    let deadline = tokio::time::sleep(LISTEN_TIMEOUT);
    tokio::pin!(deadline);
    while !waiting.is_empty() {
        tokio::select! {
            event = swarm.select_next_some() => on_startup_event(event, &mut waiting, &mut bound)?,
            _ = &mut deadline => {
                let addr = waiting.into_values().next().expect("non-empty");
                return Err(StartError::Listen { addr, reason: "no address reported in time".into() });
            }
        }
    }
    Ok(bound)
}

fn on_startup_event(
    event: SwarmEvent<behaviour::BehaviourEvent>,
    waiting: &mut HashMap<libp2p::core::transport::ListenerId, Multiaddr>,
    bound: &mut Vec<Multiaddr>,
) -> Result<(), StartError> {
    match event {
        SwarmEvent::NewListenAddr {
            listener_id,
            address,
        } => {
            tracing::info!(%address, "listening");
            waiting.remove(&listener_id);
            bound.push(address);
            Ok(())
        }
        SwarmEvent::ListenerClosed {
            listener_id,
            reason,
            ..
        } => match waiting.remove(&listener_id) {
            Some(addr) => Err(StartError::Listen {
                addr,
                reason: format!("{reason:?}"),
            }),
            None => Ok(()),
        },
        SwarmEvent::ListenerError { listener_id, error } => match waiting.remove(&listener_id) {
            Some(addr) => Err(StartError::Listen {
                addr,
                reason: error.to_string(),
            }),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

fn load_peer_book(swarm: &mut Swarm<Behaviour>, data_dir: &Path) {
    let book = peer_book::load(data_dir);
    if !book.is_empty() {
        tracing::info!(peers = book.len(), "loaded the peer book");
    }
    for (peer, addrs) in book {
        for addr in addrs {
            swarm.behaviour_mut().kad.add_address(&peer, addr);
        }
    }
}
