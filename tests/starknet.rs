//! Starknet feeder relay end to end on 127.0.0.1: a loopback feeder gateway answers from real
//! Sepolia responses; a feeder relay syncs and verifies them, a joining relay syncs them over P2P
//! and verifies them again, and tampered answers are refused with their reason. Blocks 0-6 only:
//! block 7 declares ten classes, most of them in no public test data, so no feeder can pass it.

#[path = "starknet/classes.rs"]
mod classes;
mod common;
#[path = "starknet/crash.rs"]
mod crash;
#[path = "api/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "starknet/mock.rs"]
mod mock;
#[path = "starknet/p2p_serve.rs"]
mod p2p_serve;
#[path = "starknet/sn_client.rs"]
mod sn_client;
#[path = "starknet/sn_kad.rs"]
mod sn_kad;
#[path = "starknet/sn_rules.rs"]
mod sn_rules;
#[path = "starknet/sn_verify.rs"]
mod sn_verify;

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use wharf::chain::{BlockHash, ChainKind};
use wharf::config::PeerAddr;
use wharf::feeder::felt_hash;
use wharf::{App, Config};

use common::{config, eventually, peer_addr, sample, scrape};
use mock::{fixture, Answers, MockGateway};

const LIMIT: Duration = Duration::from_secs(60);

/// A Sepolia relay (the network name alone selects the Starknet preset) following `gw` if `feeder`.
fn sepolia_node(dir: &Path, gw: &MockGateway, peers: &[PeerAddr], feeder: bool) -> Config {
    sepolia_config(dir, &gw.url(), peers, feeder)
}

/// [`sepolia_node`] for the gateway at `url`.
fn sepolia_config(dir: &Path, url: &str, peers: &[PeerAddr], feeder: bool) -> Config {
    let mut c = config(dir);
    c.node.network = "sepolia".into();
    c.p2p.peers = peers.to_vec();
    c.feeder.enabled = feeder;
    c.feeder.gateway_url = url.to_string();
    c.feeder.poll_interval = Duration::from_millis(100);
    c.feeder.backoff_initial = Duration::from_millis(20);
    c.feeder.backoff_max = Duration::from_millis(200);
    c
}

/// A relay on `dir` that syncs from `feeder` over P2P (it knows the gateway but does not follow it).
async fn joiner(dir: &Path, gw: &MockGateway, feeder: &App) -> App {
    let cfg = sepolia_node(dir, gw, &[peer_addr(feeder)], false);
    App::start(cfg).await.unwrap()
}

fn head(app: &App) -> Option<u64> {
    app.store.as_ref().and_then(|s| s.head()).map(|h| h.0)
}

/// The gateway's `block_hash` of fixture block `n`.
fn fixture_hash(n: u64) -> BlockHash {
    felt_hash(fixture("sepolia", n).block["block_hash"].as_str().unwrap()).unwrap()
}

/// Every stored block up to `top` has the hash the Starknet gateway gave it.
fn assert_sepolia_chain(app: &App, top: u64) {
    let store = app.store.as_ref().unwrap();
    for n in 0..=top {
        assert_eq!(store.hash(n).unwrap(), Some(fixture_hash(n)), "block {n}");
    }
}

async fn wait_head(app: &App, n: u64, who: &str) {
    eventually(LIMIT, &format!("{who} reaches block {n}"), || async {
        head(app) == Some(n)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeder_verifies_sepolia_and_a_joining_relay_syncs_and_verifies_it_over_p2p() {
    let gw = MockGateway::start("sepolia", 6, 4).await;
    gw.throttle(3);
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let feeder = App::start(sepolia_node(dirs[0].path(), &gw, &[], true))
        .await
        .unwrap();
    wait_head(&feeder, 4, "feeder").await;
    assert_eq!(gw.throttled(), 3, "the 429 burst was served");
    let page = scrape(&feeder).await;
    let limited = sample(&page, "wharf_gateway_errors_total{kind=\"rate_limited\"}");
    assert!(
        limited.unwrap_or(0.0) >= 1.0,
        "429s are counted: {limited:?}"
    );

    let joiner = joiner(dirs[1].path(), &gw, &feeder).await;
    wait_head(&joiner, 4, "joining relay").await;

    gw.set_head(6);
    wait_head(&feeder, 6, "feeder (new heads)").await;
    wait_head(&joiner, 6, "joining relay (new heads)").await;
    assert_sepolia_chain(&feeder, 6);
    assert_sepolia_chain(&joiner, 6);
    let page = scrape(&joiner).await;
    let failures = sample(
        &page,
        "wharf_verification_failures_total{reason=\"bad_signature\"}",
    );
    assert_eq!(failures, Some(0.0), "nothing honest was refused");
    joiner.shutdown().await;
    feeder.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_api_key_is_sent_as_x_throttling_bypass() {
    let gw = MockGateway::start("sepolia", 2, 2).await;
    gw.throttle(u32::MAX);
    gw.accept_bypass_key("s3cret");
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = sepolia_node(dir.path(), &gw, &[], true);
    cfg.feeder.gateway_api_key = Some(wharf::config::Secret::new("s3cret"));
    let feeder = App::start(cfg).await.unwrap();
    wait_head(&feeder, 2, "feeder with the API key").await;
    assert_eq!(gw.throttled(), 0, "no request went without the key");
    feeder.shutdown().await;
}

/// One way to tamper with block 4's answers, and the reason it must be refused with.
struct Tamper {
    what: &'static str,
    apply: fn(&mut Answers),
    reason: &'static str,
}

const TAMPERS: [Tamper; 5] = [
    Tamper {
        what: "a calldata felt of a transaction",
        apply: |a| a.block["transactions"][0]["calldata"][1] = json!("0x1234"),
        reason: "transaction_hash_mismatch",
    },
    Tamper {
        what: "an event key",
        apply: |a| a.block["transaction_receipts"][0]["events"][0]["keys"][0] = json!("0x77"),
        reason: "commitment_mismatch",
    },
    Tamper {
        what: "a storage value in the state diff",
        apply: |a| {
            let diffs = a.state_update["state_diff"]["storage_diffs"]
                .as_object_mut()
                .unwrap();
            let first = diffs.values_mut().next().unwrap();
            first[0]["value"] = json!("0x4242");
        },
        reason: "commitment_mismatch",
    },
    Tamper {
        what: "the signature's s",
        apply: |a| a.signature["signature"][1] = json!("0x1"),
        reason: "bad_signature",
    },
    Tamper {
        what: "the parent hash",
        apply: |a| a.block["parent_block_hash"] = json!("0x1"),
        reason: "parent_mismatch",
    },
];

async fn refusals(app: &App, reason: &str) -> f64 {
    let series = format!("wharf_verification_failures_total{{reason=\"{reason}\"}}");
    sample(&scrape(app).await, &series).unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_answers_are_refused_with_their_reason_and_never_stored() {
    let gw = MockGateway::start("sepolia", 6, 6).await;
    let dir = tempfile::tempdir().unwrap();
    let original = fixture("sepolia", 4);
    let mut first = original.clone();
    (TAMPERS[0].apply)(&mut first);
    gw.tamper(4, first);
    let feeder = App::start(sepolia_node(dir.path(), &gw, &[], true))
        .await
        .unwrap();
    for tamper in &TAMPERS {
        let before = refusals(&feeder, tamper.reason).await;
        let mut answers = original.clone();
        (tamper.apply)(&mut answers);
        gw.tamper(4, answers);
        eventually(
            LIMIT,
            &format!("{} refused as {}", tamper.what, tamper.reason),
            || async { refusals(&feeder, tamper.reason).await > before },
        )
        .await;
        assert_eq!(
            head(&feeder),
            Some(3),
            "{}: block 4 must not be stored",
            tamper.what
        );
    }
    gw.untamper(4);
    wait_head(&feeder, 6, "feeder after the real block 4 is back").await;
    assert_sepolia_chain(&feeder, 6);
    feeder.shutdown().await;
}

#[test]
fn network_name_selects_the_starknet_preset_and_other_networks_need_a_chain_id() {
    let c = Config::load(None, json!({"node": {"network": "sepolia"}})).unwrap();
    assert_eq!(c.node.chain_kind(), ChainKind::Starknet);
    assert_eq!(c.starknet_chain_id().as_deref(), Some("SN_SEPOLIA"));
    assert_eq!(
        c.feeder.gateway_url,
        "https://feeder.alpha-sepolia.starknet.io/feeder_gateway"
    );
    let explicit =
        json!({"node": {"network": "sepolia"}, "feeder": {"gateway_url": "http://gw:1"}});
    let c = Config::load(None, explicit).unwrap();
    assert_eq!(c.feeder.gateway_url, "http://gw:1", "an explicit URL wins");

    let c = Config::load(None, json!({"node": {"network": "devnet"}})).unwrap();
    assert_eq!(c.node.chain_kind(), ChainKind::Devnet);
    assert_eq!(c.feeder.gateway_url, "http://127.0.0.1:9080");

    let custom = json!({"node": {"network": "appchain", "chain": "starknet"}});
    let err = Config::load(None, custom).unwrap_err().to_string();
    assert!(err.contains("starknet.chain_id"), "{err}");
    let custom = json!({"node": {"network": "appchain", "chain": "starknet"},
        "starknet": {"chain_id": "SN_APPCHAIN"}});
    let c = Config::load(None, custom).unwrap();
    assert_eq!(c.starknet_chain_id().as_deref(), Some("SN_APPCHAIN"));
    let long = json!({"node": {"chain": "starknet"}, "starknet": {"chain_id": "X".repeat(32)}});
    let err = Config::load(None, long).unwrap_err().to_string();
    assert!(err.contains("starknet.chain_id"), "{err}");
}

/// A mainnet relay (the preset: chain id `SN_MAIN`, the pinned sequencer key) following `gw`.
fn mainnet_feeder(dir: &Path, gw: &MockGateway) -> Config {
    let mut c = sepolia_node(dir, gw, &[], true);
    c.node.network = "mainnet".into();
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mainnet_feeder_commits_the_genesis_era_from_the_gateway() {
    let gw = MockGateway::start("mainnet", 1, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let feeder = App::start(mainnet_feeder(dir.path(), &gw)).await.unwrap();
    wait_head(&feeder, 1, "mainnet feeder").await;
    let store = feeder.store.as_ref().unwrap();
    for n in 0..=1 {
        let stated = fixture("mainnet", n).block["block_hash"].clone();
        let stated = felt_hash(stated.as_str().unwrap()).unwrap();
        assert_eq!(store.hash(n).unwrap(), Some(stated), "block {n}");
    }
    let page = scrape(&feeder).await;
    let events = sample(&page, "wharf_starknet_unverifiable_total{what=\"events\"}");
    assert_eq!(
        events,
        Some(2.0),
        "pre-0.7 events are counted as unverifiable"
    );
    feeder.shutdown().await;
}

fn checkpoint_at(n: u64) -> wharf::chain::Checkpoint {
    format!("{n}:0x{}", fixture_hash(n)).parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpointed_feeder_starts_there_refuses_a_wrong_parent_and_joiners_sync_from_it() {
    let gw = MockGateway::start("sepolia", 6, 6).await;
    let mut wrong_parent = fixture("sepolia", 5);
    wrong_parent.block["parent_block_hash"] = json!("0x1");
    gw.tamper(5, wrong_parent);
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut cfg = sepolia_node(dirs[0].path(), &gw, &[], true);
    cfg.feeder.checkpoint = Some(checkpoint_at(4));
    let feeder = App::start(cfg.clone()).await.unwrap();
    eventually(LIMIT, "block 5 with a wrong parent refused", || async {
        refusals(&feeder, "parent_mismatch").await >= 1.0
    })
    .await;
    let store = feeder.store.as_ref().unwrap();
    assert_eq!(
        head(&feeder),
        Some(4),
        "the checkpoint block is committed, block 5 is not"
    );
    assert_eq!(
        store.hash(3).unwrap(),
        None,
        "nothing before the checkpoint is held"
    );
    assert_eq!(store.history_from(), 4);
    let page = scrape(&feeder).await;
    assert_eq!(sample(&page, "wharf_chain_history_from"), Some(4.0));
    gw.untamper(5);
    wait_head(&feeder, 6, "checkpointed feeder").await;

    let mut joiner_cfg = sepolia_node(dirs[1].path(), &gw, &[peer_addr(&feeder)], false);
    joiner_cfg.sync.checkpoint = Some(checkpoint_at(4));
    let joiner = App::start(joiner_cfg).await.unwrap();
    wait_head(&joiner, 6, "joiner from the checkpoint").await;
    assert_eq!(joiner.store.as_ref().unwrap().hash(3).unwrap(), None);

    let genesis_joiner = App::start(sepolia_node(
        dirs[2].path(),
        &gw,
        &[peer_addr(&feeder)],
        false,
    ))
    .await
    .unwrap();
    let not_found =
        r#"wharf_sync_requests_total{side="server",protocol="headers",outcome="not_found"}"#;
    eventually(
        LIMIT,
        "requests below the checkpoint answered not found",
        || async { sample(&scrape(&feeder).await, not_found).unwrap_or(0.0) >= 1.0 },
    )
    .await;
    assert_eq!(
        head(&genesis_joiner),
        None,
        "a joiner from genesis gets nothing before 4"
    );
    genesis_joiner.shutdown().await;
    joiner.shutdown().await;
    feeder.shutdown().await;

    cfg.feeder.checkpoint = Some(format!("5:0x{}", fixture_hash(4)).parse().unwrap());
    let err = App::start(cfg)
        .await
        .err()
        .expect("a contradicting checkpoint is refused");
    assert!(err.to_string().contains("contradicts"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_hash_the_gateway_block_does_not_have_is_refused() {
    let gw = MockGateway::start("sepolia", 7, 7).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = sepolia_node(dir.path(), &gw, &[], true);
    cfg.feeder.checkpoint = Some(format!("4:0x{}", fixture_hash(3)).parse().unwrap());
    let feeder = App::start(cfg).await.unwrap();
    eventually(
        LIMIT,
        "block 4 refused: not the checkpoint's hash",
        || async { refusals(&feeder, "hash_mismatch").await >= 1.0 },
    )
    .await;
    assert_eq!(head(&feeder), None, "nothing is stored");
    feeder.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_gateway_is_followed_honouring_retry_after() {
    let gw = MockGateway::start("sepolia", 4, 4).await;
    gw.rate_limit(6);
    let dir = tempfile::tempdir().unwrap();
    let feeder = App::start(sepolia_node(dir.path(), &gw, &[], true))
        .await
        .unwrap();
    wait_head(&feeder, 4, "feeder behind a rate limit").await;
    assert!(gw.throttled() >= 1, "the limit was hit");
    assert_sepolia_chain(&feeder, 4);
    feeder.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joiner_with_a_wrong_checkpoint_stores_nothing_and_blames_no_honest_peer() {
    let gw = MockGateway::start("sepolia", 6, 6).await;
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let feeder = App::start(sepolia_node(dirs[0].path(), &gw, &[], true))
        .await
        .unwrap();
    wait_head(&feeder, 6, "feeder").await;
    let mut cfg = sepolia_node(dirs[1].path(), &gw, &[peer_addr(&feeder)], false);
    cfg.sync.checkpoint = Some(format!("4:0x{}", fixture_hash(3)).parse().unwrap());
    let joiner = App::start(cfg).await.unwrap();
    let fetched = r#"wharf_sync_requests_total{side="client",protocol="headers",outcome="ok"}"#;
    eventually(LIMIT, "the joiner fetched blocks from 4 on", || async {
        sample(&scrape(&joiner).await, fetched).unwrap_or(0.0) >= 2.0
    })
    .await;
    assert_eq!(
        head(&joiner),
        None,
        "block 4 does not have the checkpoint's hash"
    );
    let page = scrape(&joiner).await;
    let penalties: f64 = page
        .lines()
        .filter(|l| l.starts_with("wharf_penalties_total{") && !l.contains("useful_response"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(penalties, 0.0, "no peer penalised:\n{page}");
    joiner.shutdown().await;
    feeder.shutdown().await;
}
