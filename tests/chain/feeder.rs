//! Feeder against a real gateway on 127.0.0.1: sync, outage, tampering, restart, reorg.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use wharf::chain::metrics::ReasonLabel;
use wharf::feeder::GATEWAY_KEY_FILE;
use wharf::gateway::{Gateway, Tamper};

use crate::helpers::{
    assert_same_chain, feeder_config, gateway, gateway_config, wait_until, TestFeeder,
};

const NEVER: Duration = Duration::from_secs(3600);

fn failures(feeder: &TestFeeder, reason: &'static str) -> u64 {
    feeder
        .metrics
        .verification_failures
        .get_or_create(&ReasonLabel { reason })
        .get()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_the_gateway_chain_block_by_block_and_follows_it() {
    let gw = gateway(300, Duration::from_millis(100)).await;
    let dir = tempfile::tempdir().unwrap();
    let feeder = TestFeeder::start(feeder_config(gw.url()), dir.path()).await;
    assert!(
        dir.path().join(GATEWAY_KEY_FILE).exists(),
        "key pinned on first use"
    );
    let mut heads = feeder.handle.subscribe();
    let target = gw.chain().head().unwrap().0 + 3;
    let reached = heads.wait_for(|h| h.as_ref().is_some_and(|h| h.number >= target));
    tokio::time::timeout(Duration::from_secs(60), reached)
        .await
        .unwrap()
        .unwrap();
    let store = feeder.stop().await;
    let head = store.head().unwrap().0;
    assert_same_chain(&store, &gw, head);
    assert_eq!(
        store.hash(head).unwrap(),
        gw.chain().block(head).map(|b| {
            wharf::chain::ChainAdapter::block_hash(gw.chain().minter().adapter(), &b.header)
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_after_the_gateway_was_down_with_nothing_lost_or_duplicated() {
    let gw = gateway(40, NEVER).await;
    let addr = gw.addr();
    let dir = tempfile::tempdir().unwrap();
    let feeder = TestFeeder::start(feeder_config(gw.url()), dir.path()).await;
    feeder.wait_head(40).await;
    let chain = gw.stop().await;
    for _ in 0..25 {
        chain.mint_next();
    }
    let errors = || {
        feeder
            .metrics
            .gateway_errors
            .get_or_create(&kind("connect"))
            .get()
    };
    wait_until("the feeder to notice the outage", || errors() >= 2).await;
    let cfg = gateway_config(0, NEVER);
    let cfg = wharf::gateway::GatewayConfig {
        listen: addr,
        ..cfg
    };
    let gw = Gateway::start_with_chain(cfg, chain, CancellationToken::new())
        .await
        .unwrap();
    feeder.wait_head(65).await;
    assert_eq!(
        feeder.metrics.blocks_committed.get(),
        66,
        "each block committed exactly once"
    );
    let store = feeder.stop().await;
    assert_same_chain(&store, &gw, 65);
}

fn kind(kind: &'static str) -> wharf::chain::metrics::KindLabel {
    wharf::chain::metrics::KindLabel { kind }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_block_stops_progress_and_is_never_stored() {
    let gw = gateway(20, NEVER).await;
    let chain = gw.chain().clone();
    chain.set_tamper(5, Some(Tamper::Transaction));
    chain.set_tamper(9, Some(Tamper::Signature));
    chain.set_tamper(12, Some(Tamper::Garbage));
    chain.set_tamper(15, Some(Tamper::ExtraEvent));
    chain.set_tamper(17, Some(Tamper::Unavailable));
    let dir = tempfile::tempdir().unwrap();
    let feeder = TestFeeder::start(feeder_config(gw.url()), dir.path()).await;
    let steps = [
        (5, "commitment_mismatch"),
        (9, "bad_signature"),
        (12, "malformed"),
        (15, "count_mismatch"),
    ];
    for (height, reason) in steps {
        feeder.wait_head(height - 1).await;
        wait_until(reason, || failures(&feeder, reason) >= 2).await;
        assert_eq!(
            feeder.store.head().unwrap().0,
            height - 1,
            "progress stopped at {height}"
        );
        assert_eq!(
            feeder.store.block(height).unwrap(),
            None,
            "refused block {height} not stored"
        );
        chain.set_tamper(height, None);
    }
    feeder.wait_head(16).await;
    let status = || {
        feeder
            .metrics
            .gateway_errors
            .get_or_create(&kind("status"))
            .get()
    };
    wait_until("a 503 counted", || status() >= 1).await;
    chain.set_tamper(17, None);
    feeder.wait_head(20).await;
    let store = feeder.stop().await;
    assert_same_chain(&store, &gw, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_from_the_last_committed_block() {
    let gw = gateway(30, NEVER).await;
    let dir = tempfile::tempdir().unwrap();
    let feeder = TestFeeder::start(feeder_config(gw.url()), dir.path()).await;
    feeder.wait_head(30).await;
    drop(feeder.stop().await);
    for _ in 0..10 {
        gw.chain().mint_next();
    }
    let mut cfg = feeder_config(gw.url());
    cfg.gateway_url = "http://127.0.0.1:1".into();
    let pinned = wharf::feeder::pin_gateway_key(&cfg, wharf::chain::ChainKind::Devnet, dir.path())
        .await
        .unwrap();
    assert_eq!(
        pinned,
        gw.chain().minter().adapter().public_key().to_bytes(),
        "key read from gateway.pub"
    );
    let feeder = TestFeeder::start(feeder_config(gw.url()), dir.path()).await;
    assert_eq!(
        feeder.handle.subscribe().borrow().as_ref().unwrap().number,
        30
    );
    feeder.wait_head(40).await;
    assert_eq!(
        feeder.metrics.blocks_committed.get(),
        10,
        "only the new blocks were fetched"
    );
    let store = feeder.stop().await;
    assert_same_chain(&store, &gw, 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_diverging_upstream_is_reported_never_overwritten() {
    let key = Some("11".repeat(32));
    let honest = wharf::gateway::GatewayConfig {
        key: key.clone(),
        ..gateway_config(10, NEVER)
    };
    let honest = Gateway::start(honest, CancellationToken::new())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let feeder = TestFeeder::start(feeder_config(honest.url()), dir.path()).await;
    feeder.wait_head(10).await;
    drop(feeder.stop().await);
    let fork = wharf::gateway::GatewayConfig {
        key,
        seed: 99,
        ..gateway_config(20, NEVER)
    };
    let fork = Gateway::start(fork, CancellationToken::new())
        .await
        .unwrap();
    let feeder = TestFeeder::start(feeder_config(fork.url()), dir.path()).await;
    wait_until("a reorg reported", || {
        feeder.metrics.reorgs_detected.get() == 1
    })
    .await;
    wait_until("repeated refusals", || {
        failures(&feeder, "parent_mismatch") >= 3
    })
    .await;
    assert_eq!(
        feeder.metrics.reorgs_detected.get(),
        1,
        "a persisting fork is counted once"
    );
    let store = feeder.stop().await;
    assert_same_chain(&store, &honest, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_key_is_used_and_a_wrong_one_refuses_every_block() {
    let gw = gateway(5, NEVER).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = feeder_config(gw.url());
    let foreign = wharf::chain::devnet::keypair_from_seed(8)
        .public()
        .to_bytes();
    cfg.gateway_public_key = Some(hex::encode(foreign));
    let feeder = TestFeeder::start(cfg, dir.path()).await;
    assert!(
        !dir.path().join(GATEWAY_KEY_FILE).exists(),
        "a configured key is not re-pinned"
    );
    wait_until("signature refusals", || {
        failures(&feeder, "bad_signature") >= 2
    })
    .await;
    assert_eq!(
        feeder.store.head(),
        None,
        "nothing signed by another key is stored"
    );
    feeder.stop().await;
}
