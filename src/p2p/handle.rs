//! The cloneable handle through which the rest of the program talks to the swarm task: a bounded
//! command channel with a oneshot reply per command. Nobody else touches the swarm.

use bytes::Bytes;
use libp2p::gossipsub::MessageId;
use libp2p::{Multiaddr, PeerId};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, watch};

use super::gossip::Verdict;
use super::peer_ips::PeerIps;
use super::peers::PeerInfo;

/// Why a request to the swarm task failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum P2pError {
    /// The swarm task has stopped (shutdown).
    #[error("the p2p node is not running")]
    Stopped,
    /// A dial failed.
    #[error("dial failed: {0}")]
    Dial(String),
    /// A Kademlia query failed.
    #[error("dht query failed: {0}")]
    Query(String),
    /// A gossip message could not be published (e.g. no peer subscribed yet, duplicate).
    #[error("publish failed: {0}")]
    Publish(String),
}

/// A snapshot of the node for operators and joining peers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeInfo {
    #[serde(serialize_with = "crate::util::display")]
    pub peer_id: PeerId,
    pub network: String,
    /// Listen addresses, each ending in `/p2p/<peer id>`: what joining peers use.
    #[serde(serialize_with = "crate::util::display_vec")]
    pub listen_addrs: Vec<Multiaddr>,
    /// Confirmed or configured external addresses, each ending in `/p2p/<peer id>`.
    #[serde(serialize_with = "crate::util::display_vec")]
    pub external_addrs: Vec<Multiaddr>,
    /// Peers in the Kademlia routing table.
    pub routing_table_size: usize,
    /// Peers with at least one open connection.
    pub connected_peers: usize,
}

pub(crate) type Reply<T> = oneshot::Sender<T>;

/// Requests the swarm task serves.
#[derive(Debug)]
pub(crate) enum Command {
    Info(Reply<NodeInfo>),
    Peers(Reply<Vec<PeerInfo>>),
    Peer(PeerId, Reply<Option<PeerInfo>>),
    RoutingTable(Reply<Vec<PeerId>>),
    ClosestPeers(PeerId, Reply<Result<Vec<PeerId>, P2pError>>),
    Dial(Multiaddr, Reply<Result<PeerId, P2pError>>),
    Disconnect(PeerId, Reply<bool>),
    EnforcePolicy(Reply<usize>),
    Publish(Bytes, Reply<Result<MessageId, P2pError>>),
    Validate(MessageId, PeerId, Verdict),
    GossipScore(PeerId, Reply<Option<f64>>),
    GossipScores(Reply<Vec<(PeerId, f64)>>),
}

/// See the module docs.
#[derive(Clone)]
pub struct P2pHandle {
    tx: mpsc::Sender<Command>,
    peer_id: PeerId,
    stream: libp2p_stream::Control,
    sync_peers: watch::Receiver<Vec<PeerId>>,
    starknet_peers: watch::Receiver<Vec<PeerId>>,
    snapshot: watch::Receiver<Option<NodeInfo>>,
    peer_ips: PeerIps,
}

impl std::fmt::Debug for P2pHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("P2pHandle")
            .field("peer_id", &self.peer_id)
            .finish()
    }
}

impl P2pHandle {
    pub(crate) fn new(
        tx: mpsc::Sender<Command>,
        peer_id: PeerId,
        stream: libp2p_stream::Control,
        sync_peers: [watch::Receiver<Vec<PeerId>>; 2],
        snapshot: watch::Receiver<Option<NodeInfo>>,
        peer_ips: PeerIps,
    ) -> Self {
        let [sync_peers, starknet_peers] = sync_peers;
        Self {
            tx,
            peer_id,
            stream,
            sync_peers,
            starknet_peers,
            snapshot,
            peer_ips,
        }
    }

    /// The IP each connected peer connects from (kept current by the swarm task).
    pub fn peer_ips(&self) -> PeerIps {
        self.peer_ips.clone()
    }

    /// The node as of the swarm task's last tick (at most 250 ms old); never waits on the swarm.
    /// `None` only before the task's first tick.
    pub fn snapshot(&self) -> Option<NodeInfo> {
        self.snapshot.borrow().clone()
    }

    /// Connected peers that serve the block sync protocols (updated as peers come and go).
    pub fn sync_peers(&self) -> watch::Receiver<Vec<PeerId>> {
        self.sync_peers.clone()
    }

    /// Connected peers that announced Starknet's own sync protocols
    /// (`/starknet/headers/0.1.0-rc.0`), sorted: whom `sync.protocol = "starknet"` syncs from.
    pub fn starknet_sync_peers(&self) -> watch::Receiver<Vec<PeerId>> {
        self.starknet_peers.clone()
    }

    /// This node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Opens and accepts streams of the sync protocols without going through the swarm task.
    pub fn stream_control(&self) -> libp2p_stream::Control {
        self.stream.clone()
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, P2pError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(make(tx))
            .await
            .map_err(|_| P2pError::Stopped)?;
        rx.await.map_err(|_| P2pError::Stopped)
    }

    pub async fn info(&self) -> Result<NodeInfo, P2pError> {
        self.ask(Command::Info).await
    }

    pub async fn peers(&self) -> Result<Vec<PeerInfo>, P2pError> {
        self.ask(Command::Peers).await
    }

    pub async fn peer(&self, peer: PeerId) -> Result<Option<PeerInfo>, P2pError> {
        self.ask(|r| Command::Peer(peer, r)).await
    }

    /// Peer ids in the Kademlia routing table.
    pub async fn routing_table(&self) -> Result<Vec<PeerId>, P2pError> {
        self.ask(Command::RoutingTable).await
    }

    /// Runs a closest-peers query for `key` through the DHT.
    pub async fn closest_peers(&self, key: PeerId) -> Result<Vec<PeerId>, P2pError> {
        self.ask(|r| Command::ClosestPeers(key, r)).await?
    }

    /// Dials `addr` and waits until the connection is established or fails.
    pub async fn dial(&self, addr: Multiaddr) -> Result<PeerId, P2pError> {
        self.ask(|r| Command::Dial(addr, r)).await?
    }

    /// Closes every connection with `peer`; false if it was not connected.
    pub async fn disconnect(&self, peer: PeerId) -> Result<bool, P2pError> {
        self.ask(|r| Command::Disconnect(peer, r)).await
    }

    /// Closes every connection the access policy now refuses (after a ban); returns how many.
    pub async fn enforce_policy(&self) -> Result<usize, P2pError> {
        self.ask(Command::EnforcePolicy).await
    }

    /// Publishes a block announcement on the block topic.
    pub async fn publish(&self, data: Bytes) -> Result<MessageId, P2pError> {
        self.ask(|r| Command::Publish(data, r)).await?
    }

    /// Gives the verdict on a received announcement (it is forwarded only if accepted).
    pub async fn validate(
        &self,
        id: MessageId,
        source: PeerId,
        verdict: Verdict,
    ) -> Result<(), P2pError> {
        let cmd = Command::Validate(id, source, verdict);
        self.tx.send(cmd).await.map_err(|_| P2pError::Stopped)
    }

    /// gossipsub's current score of every connected peer it scores.
    pub async fn gossip_scores(&self) -> Result<Vec<(PeerId, f64)>, P2pError> {
        self.ask(Command::GossipScores).await
    }

    /// gossipsub's current score of `peer`, if it is known.
    pub async fn gossip_score(&self, peer: PeerId) -> Result<Option<f64>, P2pError> {
        self.ask(|r| Command::GossipScore(peer, r)).await
    }
}
