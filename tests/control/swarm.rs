//! Enforcement on the real relay: `App`'s connection gate consults the control plane's ban
//! index, so a banned address is refused before the handshake and a new ban closes the
//! connections it covers. Run against both stores.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use wharf::control::{BanTarget, Expiry, NewBan};
use wharf::App;

use super::common::{Backend, Env};
use crate::node::{config, eventually, sample, scrape};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A relay on `env`'s store and a client node, both on 127.0.0.1.
async fn pair(env: &Env) -> (App, App, tempfile::TempDir) {
    let mut cfg = config(env.dir.path());
    cfg.control = env.config();
    let relay = App::start(cfg).await.expect("relay starts");
    let client_dir = tempfile::tempdir().unwrap();
    let client = App::start(config(client_dir.path())).await.unwrap();
    (relay, client, client_dir)
}

fn ban(target: BanTarget, expiry: Expiry) -> NewBan {
    NewBan {
        target,
        reason: "test".into(),
        created_by: "tester".into(),
        expiry,
    }
}

async fn refused_for_ban(relay: &App) -> f64 {
    sample(
        &scrape(relay).await,
        r#"wharf_connections_refused_total{reason="ban"}"#,
    )
    .unwrap_or(0.0)
}

pub async fn existing_connection_closed_within_a_second(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let (relay, client, _dir) = pair(&env).await;
    client
        .p2p
        .dial(relay.join_addrs()[0].clone())
        .await
        .expect("connects before the ban");
    let client_id = client.peer_id();
    assert!(relay.p2p.peer(client_id).await.unwrap().is_some());
    let t0 = Instant::now();
    relay
        .control
        .add_ban(ban(BanTarget::Ip(LOCALHOST), Expiry::Permanent))
        .await
        .unwrap();
    eventually(Duration::from_secs(2), "connection closed", || async {
        relay.p2p.peer(client_id).await.unwrap().is_none()
    })
    .await;
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(1), "closed after {took:?}");
    client.shutdown().await;
    relay.shutdown().await;
    env.cleanup().await;
}

pub async fn banned_refused_before_handshake_until_expiry(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let (relay, client, _dir) = pair(&env).await;
    let addr = relay.join_addrs()[0].clone();
    let expiry = Expiry::For(Duration::from_secs(2));
    relay
        .control
        .add_ban(ban(BanTarget::Ip(LOCALHOST), expiry))
        .await
        .unwrap();
    assert!(
        client.p2p.dial(addr.clone()).await.is_err(),
        "a banned IP connected"
    );
    // Counted by the gate in handle_pending_inbound_connection, i.e. before any handshake;
    // the relay never learnt the client's peer id.
    assert!(refused_for_ban(&relay).await >= 1.0);
    assert!(relay.p2p.peer(client.peer_id()).await.unwrap().is_none());
    eventually(
        Duration::from_secs(10),
        "reconnect after expiry, with no action",
        || async { client.p2p.dial(addr.clone()).await.is_ok() },
    )
    .await;
    client.shutdown().await;
    relay.shutdown().await;
    env.cleanup().await;
}

pub async fn peer_id_ban_refuses_the_peer(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let (relay, client, _dir) = pair(&env).await;
    let target = BanTarget::Peer(client.peer_id());
    relay
        .control
        .add_ban(ban(target, Expiry::Permanent))
        .await
        .unwrap();
    // A peer id is only known after the handshake: the relay refuses the established connection.
    let _ = client.p2p.dial(relay.join_addrs()[0].clone()).await;
    eventually(
        Duration::from_secs(5),
        "relay refuses the banned peer",
        || async { refused_for_ban(&relay).await >= 1.0 },
    )
    .await;
    assert!(relay.p2p.peer(client.peer_id()).await.unwrap().is_none());
    eventually(
        Duration::from_secs(5),
        "client sees the connection gone",
        || async { client.p2p.peer(relay.peer_id()).await.unwrap().is_none() },
    )
    .await;
    client.shutdown().await;
    relay.shutdown().await;
    env.cleanup().await;
}

/// A `/dns4` address names no IP when the dial starts: the ban must apply to what it resolves to.
pub async fn outbound_dns_dial_to_a_banned_ip_is_refused(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let (relay, client, _dir) = pair(&env).await;
    let port = crate::node::tcp_port(&client);
    let dns: libp2p::Multiaddr = format!("/dns4/localhost/tcp/{port}/p2p/{}", client.peer_id())
        .parse()
        .unwrap();
    let banned = relay
        .control
        .add_ban(ban(BanTarget::Ip(LOCALHOST), Expiry::Permanent))
        .await
        .unwrap();
    let err = relay.p2p.dial(dns.clone()).await.unwrap_err();
    assert!(err.to_string().contains("banned"), "{err}");
    assert!(client.p2p.peer(relay.peer_id()).await.unwrap().is_none());
    relay.control.remove_ban(banned.id).await.unwrap();
    relay
        .p2p
        .dial(dns)
        .await
        .expect("the same name dials once unbanned");
    client.shutdown().await;
    relay.shutdown().await;
    env.cleanup().await;
}
