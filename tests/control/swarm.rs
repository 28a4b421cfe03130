//! Enforcement on real libp2p swarms (TCP + noise + yamux on 127.0.0.1): a relay swarm with
//! `BanBehaviour` and a client swarm, run against both stores.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use futures::StreamExt;
use libp2p::swarm::{dummy, ListenError, NetworkBehaviour, SwarmEvent};
use libp2p::{noise, tcp, yamux, Multiaddr, PeerId, Swarm};
use tokio::sync::mpsc;
use wharf::control::{BanBehaviour, BanTarget, Expiry, NewBan};

use super::common::{wait_until, Backend, Env};

const SEC: Duration = Duration::from_secs(1);

/// What the tests need to see of a swarm.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Established(PeerId),
    Closed(PeerId),
    /// Refused by a behaviour; the peer id is `None` when refused before the handshake.
    InboundDenied(Option<PeerId>),
    InboundFailed(String),
    OutboundFailed,
}

/// A swarm running in its own task.
struct Node {
    peer: PeerId,
    addr: Multiaddr,
    events: mpsc::Receiver<Seen>,
    dial: mpsc::Sender<Multiaddr>,
}

fn summarise<E>(event: SwarmEvent<E>) -> Option<Seen> {
    match event {
        SwarmEvent::ConnectionEstablished { peer_id, .. } => Some(Seen::Established(peer_id)),
        SwarmEvent::ConnectionClosed { peer_id, .. } => Some(Seen::Closed(peer_id)),
        SwarmEvent::IncomingConnectionError {
            error: ListenError::Denied { .. },
            peer_id,
            ..
        } => Some(Seen::InboundDenied(peer_id)),
        SwarmEvent::IncomingConnectionError { error, .. } => {
            Some(Seen::InboundFailed(error.to_string()))
        }
        SwarmEvent::OutgoingConnectionError { .. } => Some(Seen::OutboundFailed),
        _ => None,
    }
}

fn swarm<B: NetworkBehaviour>(behaviour: B) -> Swarm<B> {
    libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .expect("tcp transport")
        .with_behaviour(|_| behaviour)
        .expect("behaviour")
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build()
}

async fn spawn<B>(mut swarm: Swarm<B>) -> Node
where
    B: NetworkBehaviour + Send,
    B::ToSwarm: Send,
{
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            break address;
        }
    };
    let (peer, (ev_tx, events), (dial, mut dials)) =
        (*swarm.local_peer_id(), mpsc::channel(64), mpsc::channel(8));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(addr) = dials.recv() => swarm.dial(addr).expect("dial starts"),
                ev = swarm.select_next_some() => {
                    let Some(seen) = summarise(ev) else { continue };
                    if ev_tx.send(seen).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    Node {
        peer,
        addr,
        events,
        dial,
    }
}

impl Node {
    async fn expect(&mut self, within: Duration, want: impl Fn(&Seen) -> bool) -> Seen {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let seen = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .expect("swarm event in time")
                .expect("swarm running");
            if want(&seen) {
                return seen;
            }
        }
    }

    async fn connect(&mut self, relay: &mut Node) {
        self.dial.send(relay.addr.clone()).await.unwrap();
        let peer = relay.peer;
        self.expect(5 * SEC, |s| *s == Seen::Established(peer))
            .await;
        let me = self.peer;
        relay.expect(5 * SEC, |s| *s == Seen::Established(me)).await;
    }
}

fn ban(target: BanTarget, expiry: Expiry) -> NewBan {
    NewBan {
        target,
        reason: "swarm test".into(),
        created_by: "tester".into(),
        expiry,
    }
}

fn localhost() -> BanTarget {
    BanTarget::Ip(IpAddr::from([127, 0, 0, 1]))
}

pub async fn existing_connection_closed_within_a_second(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let relay_cp = env.start(&env.config()).await;
    let c = &relay_cp.control;
    let mut relay = spawn(swarm(BanBehaviour::new(c.gatekeeper(), c.subscribe()))).await;
    let mut client = spawn(swarm(dummy::Behaviour)).await;
    client.connect(&mut relay).await;
    let start = Instant::now();
    c.add_ban(ban(localhost(), Expiry::Permanent))
        .await
        .unwrap();
    let relay_peer = relay.peer;
    client.expect(SEC, |s| *s == Seen::Closed(relay_peer)).await;
    let took = start.elapsed();
    assert!(took < SEC, "connection closed after {took:?}");
    relay_cp.stop().await;
    env.cleanup().await;
}

pub async fn banned_refused_before_handshake_until_expiry(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let relay_cp = env.start(&env.config()).await;
    let c = &relay_cp.control;
    let mut relay = spawn(swarm(BanBehaviour::new(c.gatekeeper(), c.subscribe()))).await;
    let mut client = spawn(swarm(dummy::Behaviour)).await;
    c.add_ban(ban(localhost(), Expiry::For(Duration::from_millis(800))))
        .await
        .unwrap();
    client.dial.send(relay.addr.clone()).await.unwrap();
    let decisive = |s: &Seen| matches!(s, Seen::InboundDenied(_) | Seen::Established(_));
    let seen = relay.expect(5 * SEC, decisive).await;
    assert_eq!(
        seen,
        Seen::InboundDenied(None),
        "refused before the handshake"
    );
    client.expect(5 * SEC, |s| *s == Seen::OutboundFailed).await;
    let gate = c.gatekeeper();
    wait_until(3 * SEC, || !gate.is_ip_banned(IpAddr::from([127, 0, 0, 1]))).await;
    client.connect(&mut relay).await; // allowed again after expiry, without any action
    let peer_ban = c
        .add_ban(ban(BanTarget::Peer(client.peer), Expiry::Permanent))
        .await;
    let relay_peer = relay.peer;
    client.expect(SEC, |s| *s == Seen::Closed(relay_peer)).await;
    client.dial.send(relay.addr.clone()).await.unwrap();
    let decisive = |s: &Seen| matches!(s, Seen::InboundDenied(_) | Seen::Established(_));
    let seen = relay.expect(5 * SEC, decisive).await;
    let expected = Seen::InboundDenied(Some(client.peer));
    assert_eq!(seen, expected, "a peer ban refuses once the id is known");
    c.remove_ban(peer_ban.unwrap().id).await.unwrap();
    client.connect(&mut relay).await;
    relay_cp.stop().await;
    env.cleanup().await;
}
