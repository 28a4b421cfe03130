//! Many light peers for attack tests: bare libp2p swarms (TCP + Noise + Yamux) and raw TCP
//! sockets bound to chosen 127.x.y.z source addresses. The sync tests use `swarm` too.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use futures::StreamExt;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{noise, tcp, yamux, Multiaddr, Swarm, SwarmBuilder};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A swarm driven by its own task until dropped.
pub struct Running {
    pub peer: libp2p::PeerId,
    /// Resolves once the first dial has succeeded (`true`) or failed (`false`).
    pub dialed: Option<oneshot::Receiver<bool>>,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A swarm with a fresh identity and `behaviour`, connections kept 60 s when idle.
pub fn swarm<B: NetworkBehaviour + Send>(
    behaviour: impl FnOnce(&libp2p::identity::Keypair) -> B,
) -> Swarm<B> {
    SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|key| behaviour(key))
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build()
}

/// Dials `target` and keeps driving the swarm; `tick` runs every 100 ms (e.g. to publish).
pub fn run<B>(
    mut swarm: Swarm<B>,
    target: Multiaddr,
    mut tick: impl FnMut(&mut Swarm<B>) + Send + 'static,
) -> Running
where
    B: NetworkBehaviour + Send,
    B::ToSwarm: Send,
{
    let peer = *swarm.local_peer_id();
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(async move {
        let mut tx = Some(tx);
        if swarm.dial(target).is_err() {
            let _ = tx.take().map(|t| t.send(false));
        }
        let mut every = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                event = swarm.select_next_some() => match event {
                    SwarmEvent::ConnectionEstablished { .. } => {
                        let _ = tx.take().map(|t| t.send(true));
                    }
                    SwarmEvent::OutgoingConnectionError { .. } => {
                        let _ = tx.take().map(|t| t.send(false));
                    }
                    _ => {}
                },
                _ = every.tick() => tick(&mut swarm),
            }
        }
    });
    Running {
        peer,
        dialed: Some(rx),
        task,
    }
}

/// The TCP socket address of a `/ip4/../tcp/..` multiaddr.
pub fn socket_addr(addr: &Multiaddr) -> SocketAddr {
    let mut ip = None;
    let mut port = None;
    for p in addr.iter() {
        match p {
            Protocol::Ip4(v4) => ip = Some(v4),
            Protocol::Tcp(p) => port = Some(p),
            _ => {}
        }
    }
    SocketAddr::from((ip.expect("ip4"), port.expect("tcp")))
}

/// A TCP connection to `to` from `from` that never sends a byte.
pub async fn idle_tcp(from: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((from, 0)))?;
    socket.connect(to).await
}
