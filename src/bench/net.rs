//! The benchmark's swarms: the production TCP transport (Noise, Yamux, `TCP_NODELAY`) with
//! only the libp2p-stream behaviour, on 127.0.0.1. The sync tests use them too.

use std::time::Duration;

use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{Swarm, SwarmEvent};
use libp2p::{Multiaddr, PeerId};
use libp2p_stream::Control;
use tokio::task::JoinHandle;

use super::BenchError;

/// How long listening and connecting may take.
const SETUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections outlive any pause of the benchmark.
const IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// A running swarm: identity, listen address, stream control. Dropping it stops it.
pub struct BenchNode {
    /// Its peer id.
    pub peer: PeerId,
    /// Its bound listen address.
    pub addr: Multiaddr,
    /// Opens and accepts streams.
    pub control: Control,
    task: JoinHandle<()>,
}

impl BenchNode {
    /// Starts a swarm on a fresh loopback port, connected to every node of `dial`.
    pub async fn spawn(dial: &[&BenchNode]) -> Result<BenchNode, BenchError> {
        let peers: Vec<(PeerId, Multiaddr)> =
            dial.iter().map(|n| (n.peer, n.addr.clone())).collect();
        Self::spawn_dialing(&peers).await
    }

    /// The same, dialing peers known by id and address (e.g. in another process).
    pub async fn spawn_dialing(dial: &[(PeerId, Multiaddr)]) -> Result<BenchNode, BenchError> {
        let mut swarm = build()?;
        let listen: Multiaddr = "/ip4/127.0.0.1/tcp/0".parse().expect("valid multiaddr");
        swarm.listen_on(listen).map_err(net)?;
        let addr = until(&mut swarm, |e| match e {
            SwarmEvent::NewListenAddr { address, .. } => Some(address.clone()),
            _ => None,
        })
        .await?;
        for (target, addr) in dial {
            // a new source port: a redial from the listen port can hit the old one's TIME_WAIT
            let opts = DialOpts::unknown_peer_id()
                .address(addr.clone())
                .allocate_new_port()
                .build();
            swarm.dial(opts).map_err(net)?;
            let target = *target;
            until(&mut swarm, |e| match e {
                SwarmEvent::ConnectionEstablished { peer_id, .. } if *peer_id == target => Some(()),
                _ => None,
            })
            .await?;
        }
        let peer = *swarm.local_peer_id();
        let control = swarm.behaviour().new_control();
        let task = tokio::spawn(async move { while swarm.next().await.is_some() {} });
        Ok(BenchNode {
            peer,
            addr,
            control,
            task,
        })
    }
}

impl BenchNode {
    /// Kills the swarm: every connection drops, as when a relay process dies.
    pub async fn kill(mut self) {
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        task.abort();
        let _ = task.await;
    }
}

impl Drop for BenchNode {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn net(e: impl std::fmt::Display) -> BenchError {
    BenchError::Net(e.to_string())
}

/// A swarm with a fresh identity, the production TCP transport and the stream behaviour.
fn build() -> Result<Swarm<libp2p_stream::Behaviour>, BenchError> {
    let key = Keypair::generate_ed25519();
    let transport = crate::p2p::transport::tcp_transport(&key, None, SETUP_TIMEOUT).map_err(net)?;
    let cfg =
        libp2p::swarm::Config::with_tokio_executor().with_idle_connection_timeout(IDLE_TIMEOUT);
    let peer = key.public().to_peer_id();
    Ok(Swarm::new(
        transport,
        libp2p_stream::Behaviour::new(),
        peer,
        cfg,
    ))
}

/// Drives `swarm` until `pick` returns a value, within [`SETUP_TIMEOUT`].
async fn until<T>(
    swarm: &mut Swarm<libp2p_stream::Behaviour>,
    mut pick: impl FnMut(&SwarmEvent<()>) -> Option<T>,
) -> Result<T, BenchError> {
    let wait = async {
        loop {
            let event = swarm.select_next_some().await;
            if let SwarmEvent::OutgoingConnectionError { error, .. } = &event {
                return Err(net(error));
            }
            if let Some(v) = pick(&event) {
                return Ok(v);
            }
        }
    };
    tokio::time::timeout(SETUP_TIMEOUT, wait)
        .await
        .map_err(|_| net("swarm setup timed out"))?
}
