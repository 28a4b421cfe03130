//! Circuit relay v2: a node behind the relay reserves a slot and another node reaches it through
//! `/p2p-circuit`, with the relay's limits applied.

use std::time::Duration;

use futures::StreamExt;
use libp2p::core::multiaddr::Protocol;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{identity, noise, ping, relay, tcp, yamux, Multiaddr, PeerId, Swarm};
use wharf::App;

use crate::common::config;

#[derive(NetworkBehaviour)]
struct Client {
    relay: relay::client::Behaviour,
    ping: ping::Behaviour,
}

fn client() -> Swarm<Client> {
    libp2p::SwarmBuilder::with_existing_identity(identity::Keypair::generate_ed25519())
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .unwrap()
        .with_behaviour(|_, relay| Client {
            relay,
            ping: ping::Behaviour::default(),
        })
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(30)))
        .build()
}

/// A free TCP port on 127.0.0.1 (the relay must know its address before it starts, to put it in
/// reservations).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Drives `swarm` until `pick` returns a value; panics naming `what` after 20 s.
async fn until<T>(
    swarm: &mut Swarm<Client>,
    what: &str,
    mut pick: impl FnMut(&SwarmEvent<ClientEvent>) -> Option<T>,
) -> T {
    let wait = async {
        loop {
            if let Some(v) = pick(&swarm.select_next_some().await) {
                return v;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for: {what}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_behind_the_relay_is_reached_through_a_circuit() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    let addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/{}", free_port())
        .parse()
        .unwrap();
    cfg.p2p.listen = vec![addr.clone()];
    cfg.p2p.external_addrs = vec![addr.clone()];
    let relay = App::start(cfg).await.unwrap();
    let relay_addr = addr.with(Protocol::P2p(relay.peer_id()));

    let mut listener = client();
    let listener_id: PeerId = *listener.local_peer_id();
    listener
        .listen_on(relay_addr.clone().with(Protocol::P2pCircuit))
        .unwrap();
    until(
        &mut listener,
        "reservation accepted by the relay",
        |e| match e {
            SwarmEvent::Behaviour(ClientEvent::Relay(
                relay::client::Event::ReservationReqAccepted { .. },
            )) => Some(()),
            _ => None,
        },
    )
    .await;

    let mut dialer = client();
    let circuit = relay_addr
        .with(Protocol::P2pCircuit)
        .with(Protocol::P2p(listener_id));
    dialer.dial(circuit).unwrap();
    let listener_task = tokio::spawn(async move {
        until(&mut listener, "inbound circuit connection", |e| match e {
            SwarmEvent::ConnectionEstablished {
                endpoint: libp2p::core::ConnectedPoint::Listener { local_addr, .. },
                ..
            } => local_addr
                .iter()
                .any(|p| p == Protocol::P2pCircuit)
                .then_some(()),
            _ => None,
        })
        .await;
        listener
    });
    let via = until(&mut dialer, "outbound circuit connection", |e| match e {
        SwarmEvent::ConnectionEstablished {
            peer_id, endpoint, ..
        } if *peer_id == listener_id => Some(endpoint.get_remote_address().clone()),
        _ => None,
    })
    .await;
    assert!(
        via.iter().any(|p| p == Protocol::P2pCircuit),
        "connected through the relay: {via}"
    );
    let _listener = listener_task.await.unwrap();
    until(&mut dialer, "a ping over the circuit", |e| match e {
        SwarmEvent::Behaviour(ClientEvent::Ping(ping::Event {
            peer,
            result: Ok(_),
            ..
        })) if *peer == listener_id => Some(()),
        _ => None,
    })
    .await;
    relay.shutdown().await;
}
