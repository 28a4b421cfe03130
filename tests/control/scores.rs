//! Peer scores and automatic bans, run against both stores.

use std::net::IpAddr;
use std::time::Duration;

use libp2p::PeerId;
use wharf::control::{BanFilter, BanTarget, ControlConfig, ControlEvent, ScoreEvent};

use super::common::{eventually, next_event, wait_until, Backend, Env};
use crate::node::wait_for;

const SEC: Duration = Duration::from_secs(1);

fn addr() -> IpAddr {
    "198.18.0.9".parse().unwrap()
}

fn strict(env: &Env) -> ControlConfig {
    ControlConfig {
        auto_ban_ip: true,
        ..env.config()
    }
}

pub async fn auto_ban_at_threshold(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let relay = env.start(&strict(&env)).await;
    let (c, gate) = (&relay.control, relay.control.gatekeeper());
    let mut events = c.subscribe();
    let peer = PeerId::random();
    c.penalise(peer, Some(addr()), ScoreEvent::BadSignature);
    let score = c.score(&peer).expect("scored").score;
    assert!(
        (-50.5..=-49.5).contains(&score),
        "one severe event is about -50: {score}"
    );
    assert!(!gate.is_peer_banned(&peer), "not yet at the threshold");
    c.penalise(peer, Some(addr()), ScoreEvent::InvalidData);
    assert!(
        gate.is_peer_banned(&peer),
        "banned synchronously at the threshold"
    );
    assert!(
        gate.is_ip_banned(addr()),
        "auto_ban_ip bans the address too"
    );
    let ev = next_event(&mut events, SEC, |e| {
        matches!(e, ControlEvent::AutoBanned { .. })
    })
    .await;
    let ControlEvent::AutoBanned {
        peer: p, reason, ..
    } = ev
    else {
        unreachable!()
    };
    assert_eq!(p, peer);
    assert!(
        reason.contains("bad_signature") && reason.contains("invalid_data"),
        "{reason}"
    );
    let stored = eventually(5 * SEC, || async {
        let page = c.list_bans(&BanFilter::default()).await.ok()?;
        (page.total == 2).then_some(page.bans)
    })
    .await;
    let peer_ban = stored
        .iter()
        .find(|b| b.target == BanTarget::Peer(peer))
        .expect("peer ban");
    assert_eq!(peer_ban.created_by, "auto");
    let left = peer_ban.expires_at.expect("temporary") - chrono::Utc::now();
    assert!(left > chrono::Duration::hours(23) && left <= chrono::Duration::hours(24));
    assert!(
        gate.is_peer_banned(&peer),
        "the stored ban replaced the provisional one"
    );
    let lines = [
        "wharf_auto_bans_total{reason=\"invalid_data\"} 1",
        "wharf_penalties_total{reason=\"bad_signature\"} 1",
        "wharf_bans_active{kind=\"peer\"} 1",
        "wharf_bans_active{kind=\"ip\"} 1",
        "wharf_store_operations_total{store=\"control\",op=\"add_ban\"} 2",
    ];
    // a stored ban can be listed a moment before its write is counted and the provisional
    // entry swapped out: wait for the metrics to settle (they must, within the deadline)
    let text = || {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &relay.registry).unwrap();
        text
    };
    let what = format!("metrics {lines:?}");
    wait_for(5 * SEC, &what, || {
        let t = text();
        std::future::ready(lines.iter().all(|l| t.contains(l)).then_some(()))
    })
    .await;
    relay.stop().await;
    env.cleanup().await;
}

pub async fn trusted_peer_exempt(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let trusted = PeerId::random();
    let cfg = ControlConfig {
        trusted_peers: vec![trusted],
        ..strict(&env)
    };
    let relay = env.start(&cfg).await;
    let c = &relay.control;
    for _ in 0..10 {
        c.penalise(trusted, Some(addr()), ScoreEvent::DataAfterFin);
    }
    assert!(
        c.score(&trusted).unwrap().score <= -400.0,
        "trusted peers are still scored"
    );
    let gate = c.gatekeeper();
    assert!(!gate.is_peer_banned(&trusted) && !gate.is_ip_banned(addr()));
    c.flush_scores().await.unwrap();
    assert_eq!(c.list_bans(&BanFilter::default()).await.unwrap().total, 0);
    relay.stop().await;
    env.cleanup().await;
}

pub async fn rewards_decay_and_reset(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let cfg = ControlConfig {
        decay_half_life: Duration::from_millis(200),
        ..env.config()
    };
    let relay = env.start(&cfg).await;
    let c = &relay.control;
    let peer = PeerId::random();
    for _ in 0..100 {
        c.penalise(peer, None, ScoreEvent::UsefulResponse);
    }
    assert!(
        c.score(&peer).unwrap().score <= cfg.max_score,
        "rewards are capped"
    );
    c.penalise(peer, None, ScoreEvent::Gossip(-60.0));
    wait_until(5 * SEC, || c.score(&peer).unwrap().score > -1.0).await;
    let history = c.score(&peer).unwrap().history;
    assert_eq!(
        history.len(),
        cfg.history_len,
        "history keeps the last N events"
    );
    assert_eq!(history.last().unwrap().event, "gossip");
    c.flush_scores().await.unwrap();
    assert_eq!(
        c.score_history(&peer, 3)
            .await
            .unwrap()
            .last()
            .unwrap()
            .event,
        "gossip"
    );
    c.reset_score(&peer).await.unwrap();
    assert!(c.score(&peer).is_none());
    assert!(c.score_history(&peer, 3).await.unwrap().is_empty());
    relay.stop().await;
    env.cleanup().await;
}

pub async fn restart_keeps_scores(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let cfg = ControlConfig {
        decay_half_life: Duration::from_secs(3600),
        ..env.config()
    };
    let relay = env.start(&cfg).await;
    let peer = PeerId::random();
    relay
        .control
        .penalise(peer, Some(addr()), ScoreEvent::Malformed);
    relay
        .control
        .penalise(peer, Some(addr()), ScoreEvent::Timeout);
    relay.stop().await; // the final flush writes the scores
    let relay = env.start(&cfg).await;
    let score = relay.control.score(&peer).expect("score reloaded").score;
    assert!(
        (-25.1..=-24.9).contains(&score),
        "medium + light = -25: {score}"
    );
    let history = relay.control.score_history(&peer, 10).await.unwrap();
    let names: Vec<&str> = history.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(names, ["malformed", "timeout"]);
    relay.stop().await;
    env.cleanup().await;
}
