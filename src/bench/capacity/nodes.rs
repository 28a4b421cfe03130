//! The two nodes under test: the Wharf relay (`wharf run` with a generated config, serving a
//! pre-minted devnet chain so a joiner can sync from it) and the bare rust-libp2p node
//! (`wharf bench bare-node`: the same TCP transport, identify, ping and Kademlia, nothing else).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::kad::store::MemoryStore;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{identify, kad, ping, Multiaddr, PeerId, StreamProtocol};

use super::dialer::Spread;
use super::process::{free_port, Node};
use crate::bench::BenchError;
use crate::p2p::Protocols;

/// The benchmark's network name (protocol ids `/wharf/bench/...`).
pub const NETWORK: &str = "bench";
/// Connections of the bare node outlive the benchmark (it has no keep-alive protocol).
const BARE_IDLE_TIMEOUT: Duration = Duration::from_secs(3600);

/// A running relay child and where to reach it.
pub struct Relay {
    /// The process.
    pub node: Node,
    /// Its identity.
    pub peer: PeerId,
    /// Its TCP listen address.
    pub p2p: SocketAddr,
    /// Its admin API address.
    pub api: SocketAddr,
}

/// Starts `wharf run` on 127.0.0.1 with its data in `data_dir` (which holds the pre-minted
/// store) and limits admitting `n` connections spread as `spread`.
pub async fn start_relay(
    data_dir: &Path,
    upstream_key_hex: &str,
    n: usize,
    spread: Spread,
) -> Result<Relay, BenchError> {
    let key = Keypair::generate_ed25519();
    let (p2p_port, api_port) = (free_port()?, free_port()?);
    let config = format!(
        r#"[node]
network = "{NETWORK}"
data_dir = "{dir}"

[p2p]
listen = ["/ip4/127.0.0.1/tcp/{p2p_port}"]
private_key = "{key}"
idle_connection_timeout = "1h"

[p2p.limits]
max_established_inbound = {max_in}
max_per_ip = {per_ip}
max_per_subnet = {per_subnet}

[metrics]
listen = "127.0.0.1:0"

[api]
listen = "127.0.0.1:{api_port}"

[feeder]
gateway_public_key = "{upstream_key_hex}"
"#,
        dir = data_dir.display(),
        key = crate::p2p::identity::keypair_to_hex(&key),
        max_in = n + 16,
        per_ip = spread.per_ip,
        per_subnet = spread.per_subnet,
    );
    let file = data_dir.join("relay.toml");
    std::fs::write(&file, config)?;
    let log = data_dir.join("relay.log");
    let file = file.to_string_lossy().into_owned();
    let mut node = Node::spawn(&["run", "--config", &file], &log)?;
    let p2p = SocketAddr::from(([127, 0, 0, 1], p2p_port));
    let api = SocketAddr::from(([127, 0, 0, 1], api_port));
    node.ready(p2p, &log).await?;
    node.ready(api, &log).await?;
    Ok(Relay {
        node,
        peer: key.public().to_peer_id(),
        p2p,
        api,
    })
}

/// Starts `wharf bench bare-node` on a free port of 127.0.0.1.
pub async fn start_bare(work: &Path) -> Result<(Node, SocketAddr), BenchError> {
    let port = free_port()?;
    let log = work.join("bare.log");
    let mut node = Node::spawn(&["bench", "bare-node", "--port", &port.to_string()], &log)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    node.ready(addr, &log).await?;
    Ok((node, addr))
}

/// The bare node's behaviours: identify, ping and Kademlia as the relay configures them.
#[derive(NetworkBehaviour)]
struct Bare {
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    kad: kad::Behaviour<MemoryStore>,
}

/// Runs the bare node on 127.0.0.1:`port` until the process is killed.
pub async fn run_bare(port: u16) -> Result<(), BenchError> {
    let key = Keypair::generate_ed25519();
    let peer = key.public().to_peer_id();
    let protocols = Protocols::new(NETWORK);
    let transport = crate::p2p::transport::tcp_transport(&key, None, Duration::from_secs(5))
        .map_err(|e| BenchError::Net(e.to_string()))?;
    let mut kad_cfg = kad::Config::new(StreamProtocol::clone(&protocols.kad));
    kad_cfg.set_kbucket_inserts(kad::BucketInserts::Manual);
    let mut kad = kad::Behaviour::with_config(peer, MemoryStore::new(peer), kad_cfg);
    kad.set_mode(Some(kad::Mode::Server));
    let behaviour = Bare {
        identify: identify::Behaviour::new(
            identify::Config::new(protocols.identify.clone(), key.public())
                .with_agent_version(protocols.agent.clone()),
        ),
        ping: ping::Behaviour::new(ping::Config::new().with_interval(Duration::from_secs(15))),
        kad,
    };
    let cfg = libp2p::swarm::Config::with_tokio_executor()
        .with_idle_connection_timeout(BARE_IDLE_TIMEOUT);
    let mut swarm = libp2p::Swarm::new(transport, behaviour, peer, cfg);
    let listen: Multiaddr = format!("/ip4/127.0.0.1/tcp/{port}")
        .parse()
        .expect("valid multiaddr");
    swarm
        .listen_on(listen)
        .map_err(|e| BenchError::Net(e.to_string()))?;
    while swarm.next().await.is_some() {}
    Ok(())
}
