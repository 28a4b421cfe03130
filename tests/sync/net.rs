//! Real libp2p swarms on 127.0.0.1 (tcp + noise + yamux + libp2p-stream only).

use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{noise, tcp, yamux, Multiaddr, PeerId, Swarm};
use libp2p_stream::Control;
use tokio::task::JoinHandle;

/// Deadline for anything the tests wait on.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A running swarm: its identity, address and stream control. Dropping it kills it.
pub struct Node {
    pub peer: PeerId,
    pub addr: Multiaddr,
    pub control: Control,
    task: JoinHandle<()>,
}

impl Node {
    /// Starts a node listening on a fresh port, connected to every node in `dial`.
    pub async fn spawn(dial: &[&Node]) -> Node {
        let mut swarm = build();
        swarm
            .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
            .unwrap();
        let addr = until(&mut swarm, |e| match e {
            SwarmEvent::NewListenAddr { address, .. } => Some(address.clone()),
            _ => None,
        })
        .await;
        for node in dial {
            swarm.dial(node.addr.clone()).unwrap();
            let target = node.peer;
            until(&mut swarm, |e| match e {
                SwarmEvent::ConnectionEstablished { peer_id, .. } if *peer_id == target => Some(()),
                _ => None,
            })
            .await;
        }
        let peer = *swarm.local_peer_id();
        let control = swarm.behaviour().new_control();
        let task = tokio::spawn(async move { while swarm.next().await.is_some() {} });
        Node {
            peer,
            addr,
            control,
            task,
        }
    }

    /// Kills the swarm: every connection drops, as when a relay process dies.
    pub async fn kill(mut self) {
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        task.abort();
        let _ = task.await;
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A swarm with only the stream behaviour.
fn build() -> Swarm<libp2p_stream::Behaviour> {
    libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| libp2p_stream::Behaviour::new())
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(300)))
        .build()
}

/// Drives `swarm` until `pick` returns a value, within [`DEADLINE`].
async fn until<T>(
    swarm: &mut Swarm<libp2p_stream::Behaviour>,
    mut pick: impl FnMut(&SwarmEvent<()>) -> Option<T>,
) -> T {
    let wait = async {
        loop {
            let event = swarm.select_next_some().await;
            if let Some(v) = pick(&event) {
                return v;
            }
        }
    };
    tokio::time::timeout(DEADLINE, wait)
        .await
        .expect("swarm event within the deadline")
}
