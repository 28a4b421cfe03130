//! Block gossip with real signed devnet headers: valid announcements travel on, forged ones stop
//! at the first relay and cost the sender its gossipsub score.

use std::time::Duration;

use bytes::Bytes;
use wharf::chain::devnet::{keypair_from_seed, DevnetMinter, MintParams};
use wharf::chain::ChainAdapter;
use wharf::{App, Config};

use crate::common::{config_with_peers, eventually, peer_addr, sample, scrape};

const SEED: u64 = 7;

fn upstream_key_hex() -> String {
    hex::encode(keypair_from_seed(SEED).public().to_bytes())
}

/// A relay that knows the upstream key (so it judges announcements) and, with `line`, holds a
/// single outbound connection so a and c never meet directly.
fn relay_config(dir: &std::path::Path, peers: &[wharf::config::PeerAddr], line: bool) -> Config {
    let mut cfg = config_with_peers(dir, peers);
    cfg.feeder.gateway_public_key = Some(upstream_key_hex());
    if line {
        cfg.p2p.limits.max_established_outbound = 1;
        cfg.p2p.limits.max_pending_outbound = 1;
    }
    cfg
}

async fn count(app: &App, outcome: &str) -> f64 {
    let series = format!("wharf_gossip_messages_total{{outcome=\"{outcome}\"}}");
    sample(&scrape(app).await, &series).unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_announcements_travel_forged_ones_stop_and_cost_the_sender() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let b = App::start(relay_config(dirs[1].path(), &[], false))
        .await
        .unwrap();
    let a = App::start(relay_config(dirs[0].path(), &[peer_addr(&b)], true))
        .await
        .unwrap();
    let c = App::start(relay_config(dirs[2].path(), &[peer_addr(&b)], true))
        .await
        .unwrap();
    let minter = DevnetMinter::new(
        keypair_from_seed(SEED),
        MintParams {
            seed: SEED,
            txs_per_block: 2,
            tx_size: 64,
        },
    );
    let adapter = minter.adapter().clone();
    let mut parent = None;
    let mut n = 0u64;
    // Announce fresh valid headers until c has accepted one relayed by b.
    eventually(
        Duration::from_secs(30),
        "a valid announcement reaches c through b",
        || {
            let block = minter.mint(parent.as_ref(), 1_000 + n);
            n += 1;
            parent = Some(block.header.clone());
            let bytes = Bytes::from(adapter.encode_header(&block.header));
            async {
                let _ = a.p2p.publish(bytes).await;
                count(&c, "accepted").await >= 1.0
            }
        },
    )
    .await;

    let mut forged = minter.mint(parent.as_ref(), 1_000_000).header;
    forged.signature = Bytes::from(vec![0u8; 64]);
    a.p2p
        .publish(Bytes::from(adapter.encode_header(&forged)))
        .await
        .unwrap();
    eventually(
        Duration::from_secs(10),
        "b rejects the forged announcement",
        || async { count(&b, "rejected").await >= 1.0 },
    )
    .await;
    eventually(
        Duration::from_secs(10),
        "b's gossipsub score of a turns negative",
        || async {
            b.p2p
                .gossip_score(a.peer_id())
                .await
                .unwrap()
                .is_some_and(|s| s < 0.0)
        },
    )
    .await;
    assert_eq!(
        count(&c, "rejected").await,
        0.0,
        "the forged announcement was forwarded to c"
    );
    assert!(
        c.p2p.peer(a.peer_id()).await.unwrap().is_none(),
        "a and c must not be connected"
    );
    eventually(
        Duration::from_secs(30),
        "gossipsub's penalty reaches b's peer scores",
        || async {
            let score = b.control.score(&a.peer_id());
            score.is_some_and(|s| s.history.iter().any(|e| e.event == "gossip") && s.score < 0.0)
        },
    )
    .await;
    for app in [a, b, c] {
        app.shutdown().await;
    }
}
