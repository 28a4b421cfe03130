//! The chain data path end to end on real swarms (127.0.0.1): a devnet gateway, two feeder
//! relays, a plain relay and a joining node that knows only the plain relay.

mod common;

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use wharf::chain::{BlockNumber, ChainAdapter};
use wharf::config::PeerAddr;
use wharf::gateway::{Gateway, GatewayConfig, RunningGateway};
use wharf::{App, Config};

use common::{config, eventually, peer_addr};

async fn gateway(premint: u64) -> RunningGateway {
    let cfg = GatewayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        block_time: Duration::from_millis(250),
        txs_per_block: 4,
        tx_size: 200,
        premint,
        seed: 11,
        ..GatewayConfig::default()
    };
    Gateway::start(cfg, CancellationToken::new()).await.unwrap()
}

fn key_hex(gw: &RunningGateway) -> String {
    hex::encode(gw.chain().minter().adapter().public_key().to_bytes())
}

fn node(dir: &std::path::Path, gw: &RunningGateway, peers: &[PeerAddr], feeder: bool) -> Config {
    let mut c = config(dir);
    c.p2p.peers = peers.to_vec();
    c.feeder.gateway_public_key = Some(key_hex(gw));
    c.feeder.enabled = feeder;
    c.feeder.gateway_url = gw.url();
    c
}

fn head(app: &App) -> Option<BlockNumber> {
    app.store.as_ref().and_then(|s| s.head()).map(|h| h.0)
}

/// Every block of `app`'s store up to its head equals the gateway's, hash by hash.
fn assert_same_chain(app: &App, gw: &RunningGateway) {
    let store = app.store.as_ref().unwrap();
    let adapter = gw.chain().minter().adapter();
    let top = head(app).unwrap();
    for n in 0..=top {
        let want = adapter.block_hash(&gw.chain().block(n).unwrap().header);
        assert_eq!(store.hash(n).unwrap(), Some(want), "block {n} differs");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_node_syncs_2000_blocks_then_follows_new_heads() {
    let gw = gateway(2_000).await;
    let dirs: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let f1 = App::start(node(dirs[0].path(), &gw, &[], true))
        .await
        .unwrap();
    let f2 = App::start(node(dirs[1].path(), &gw, &[peer_addr(&f1)], true))
        .await
        .unwrap();
    let relay = App::start(node(
        dirs[2].path(),
        &gw,
        &[peer_addr(&f1), peer_addr(&f2)],
        false,
    ))
    .await
    .unwrap();
    let joiner = App::start(node(dirs[3].path(), &gw, &[peer_addr(&relay)], false))
        .await
        .unwrap();
    eventually(
        Duration::from_secs(120),
        "joining node reaches block 2000",
        || async { head(&joiner).is_some_and(|h| h >= 2_000) },
    )
    .await;
    let synced = head(&joiner).unwrap();
    eventually(
        Duration::from_secs(30),
        "joining node follows new heads",
        || async { head(&joiner).is_some_and(|h| h >= synced + 3) },
    )
    .await;
    assert_same_chain(&joiner, &gw);
    for app in [joiner, relay, f2, f1] {
        app.shutdown().await;
    }
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_killed_mid_sync_the_joiner_completes_from_the_other() {
    let gw = gateway(1_500).await;
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let f1 = App::start(node(dirs[0].path(), &gw, &[], true))
        .await
        .unwrap();
    let f2 = App::start(node(dirs[1].path(), &gw, &[peer_addr(&f1)], true))
        .await
        .unwrap();
    eventually(Duration::from_secs(60), "feeders caught up", || async {
        head(&f1).is_some_and(|h| h >= 1_500) && head(&f2).is_some_and(|h| h >= 1_500)
    })
    .await;
    let joiner = App::start(node(
        dirs[2].path(),
        &gw,
        &[peer_addr(&f1), peer_addr(&f2)],
        false,
    ))
    .await
    .unwrap();
    eventually(Duration::from_secs(60), "sync under way", || async {
        head(&joiner).is_some_and(|h| h >= 100)
    })
    .await;
    f1.shutdown().await;
    eventually(
        Duration::from_secs(120),
        "joiner completes from the remaining relay",
        || async { head(&joiner).is_some_and(|h| h >= 1_500) },
    )
    .await;
    assert_same_chain(&joiner, &gw);

    // A restart resumes from the last committed block.
    let before = head(&joiner).unwrap();
    joiner.shutdown().await;
    let joiner = App::start(node(dirs[2].path(), &gw, &[peer_addr(&f2)], false))
        .await
        .unwrap();
    assert!(
        head(&joiner).unwrap() >= before,
        "restart lost committed blocks"
    );
    eventually(
        Duration::from_secs(30),
        "restarted joiner keeps syncing",
        || async { head(&joiner).is_some_and(|h| h > before) },
    )
    .await;
    assert_same_chain(&joiner, &gw);
    joiner.shutdown().await;
    f2.shutdown().await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeder_started_before_its_gateway_waits_for_it_then_syncs() {
    // A free port for the gateway that is not up yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.feeder.enabled = true;
    cfg.feeder.gateway_url = format!("http://127.0.0.1:{port}");
    cfg.feeder.backoff_max = Duration::from_millis(500);
    let mut feeder = tokio::spawn(App::start(cfg));
    // With no gateway the key cannot be pinned: start keeps retrying instead of failing.
    let early = tokio::time::timeout(Duration::from_millis(700), &mut feeder).await;
    assert!(
        early.is_err(),
        "start returned without a gateway: {:?}",
        early.map(|r| r.map(|a| a.is_ok()))
    );
    let gcfg = GatewayConfig {
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        block_time: Duration::from_millis(200),
        premint: 20,
        seed: 3,
        ..GatewayConfig::default()
    };
    let gw = Gateway::start(gcfg, CancellationToken::new())
        .await
        .unwrap();
    let feeder = tokio::time::timeout(Duration::from_secs(20), feeder)
        .await
        .expect("start waits, then returns")
        .unwrap()
        .unwrap();
    eventually(
        Duration::from_secs(30),
        "feeder syncs once the gateway is up",
        || async { head(&feeder).is_some_and(|h| h >= 20) },
    )
    .await;
    assert_same_chain(&feeder, &gw);
    feeder.shutdown().await;
    gw.stop().await;
}
