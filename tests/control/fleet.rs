//! Postgres only: several relays on one database, and a database outage mid-run.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use wharf::control::{BanFilter, ControlConfig, ControlError, ControlEvent, Expiry, NewBan};

use super::common::{eventually, next_event, wait_until, Backend, Env};

const SEC: Duration = Duration::from_secs(1);

fn new_ban(target: &str) -> NewBan {
    NewBan {
        target: target.parse().unwrap(),
        reason: "fleet test".into(),
        created_by: "tester".into(),
        expiry: Expiry::Permanent,
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A long reconcile interval, so only LISTEN/NOTIFY can explain sub-second propagation.
fn notify_only(env: &Env) -> ControlConfig {
    ControlConfig {
        reconcile_interval: Duration::from_secs(3600),
        ..env.config()
    }
}

#[tokio::test]
async fn two_relays_enforce_each_others_bans_within_a_second() {
    let Some(env) = Env::new(Backend::Postgres).await else {
        return;
    };
    let (a, b) = (
        env.start(&notify_only(&env)).await,
        env.start(&notify_only(&env)).await,
    );
    let gate_b = b.control.gatekeeper();
    let mut events_b = b.control.subscribe();
    let start = Instant::now();
    let ban = a.control.add_ban(new_ban("192.0.2.0/24")).await.unwrap();
    wait_until(SEC, || gate_b.is_ip_banned(ip("192.0.2.77"))).await;
    let took = start.elapsed();
    eprintln!("ban visible on the other relay after {took:?}");
    assert!(took < SEC, "propagation took {took:?}");
    let ev = next_event(&mut events_b, SEC, |e| {
        matches!(e, ControlEvent::BanAdded(_))
    })
    .await;
    assert_eq!(ev, ControlEvent::BanAdded(ban.clone()));
    b.control.remove_ban(ban.id).await.unwrap();
    let gate_a = a.control.gatekeeper();
    wait_until(SEC, || !gate_a.is_ip_banned(ip("192.0.2.77"))).await;
    b.control.add_ban(new_ban("198.51.100.1")).await.unwrap();
    wait_until(SEC, || gate_a.is_ip_banned(ip("198.51.100.1"))).await;
    a.control.clear_bans().await.unwrap();
    wait_until(SEC, || !gate_b.is_ip_banned(ip("198.51.100.1"))).await;
    a.stop().await;
    b.stop().await;
    env.cleanup().await;
}

#[tokio::test]
async fn database_outage_loses_nothing_and_enforcement_continues() {
    let Some(env) = Env::new(Backend::Postgres).await else {
        return;
    };
    let cfg = notify_only(&env);
    let (a, b) = (env.start(&cfg).await, env.start(&cfg).await);
    let (gate_a, gate_b) = (a.control.gatekeeper(), b.control.gatekeeper());
    let before = a.control.add_ban(new_ban("203.0.113.5")).await.unwrap();
    wait_until(SEC, || gate_b.is_ip_banned(ip("203.0.113.5"))).await;
    let peer = libp2p::PeerId::random();
    env.outage().await;
    let write = a.control.add_ban(new_ban("203.0.113.6")).await;
    assert!(
        matches!(write, Err(ControlError::StoreUnavailable(_))),
        "{write:?}"
    );
    assert!(!a.control.store_healthy());
    assert!(gate_a.is_ip_banned(ip("203.0.113.5")) && gate_b.is_ip_banned(ip("203.0.113.5")));
    assert!(
        a.control.reconcile().await.is_err(),
        "reconcile fails but keeps the index"
    );
    assert!(gate_a.is_ip_banned(ip("203.0.113.5")));
    a.control
        .penalise(peer, None, wharf::control::ScoreEvent::Malformed);
    assert!(a.control.flush_scores().await.is_err());
    env.recover().await;
    let after = eventually(15 * SEC, || async {
        a.control.add_ban(new_ban("203.0.113.6")).await.ok()
    })
    .await;
    assert!(a.control.store_healthy());
    wait_until(15 * SEC, || gate_b.is_ip_banned(ip("203.0.113.6"))).await;
    a.control
        .flush_scores()
        .await
        .expect("scores kept through the outage are written");
    let page = b.control.list_bans(&BanFilter::default()).await.unwrap();
    assert_eq!(page.bans, vec![before, after]);
    assert_eq!(a.control.score_history(&peer, 5).await.unwrap().len(), 1);
    a.stop().await;
    b.stop().await;
    env.cleanup().await;
}

#[tokio::test]
async fn a_restart_during_an_outage_enforces_the_cached_bans_and_catches_up() {
    let Some(env) = Env::new(Backend::Postgres).await else {
        return;
    };
    let cfg = env.config();
    let first = env.start(&cfg).await;
    let kept = first.control.add_ban(new_ban("203.0.113.7")).await.unwrap();
    let peer = libp2p::PeerId::random();
    first
        .control
        .penalise(peer, None, wharf::control::ScoreEvent::Malformed);
    first.stop().await;
    assert!(env.dir.path().join(wharf::control::CACHE_FILE).exists());

    env.outage().await;
    let second = env.start(&cfg).await;
    assert!(
        second.control.gatekeeper().is_ip_banned(ip("203.0.113.7")),
        "the cached ban is enforced while the database is down"
    );
    assert!(!second.control.store_healthy());
    assert!(
        second.control.score(&peer).is_some(),
        "the cached score is kept"
    );
    let write = second.control.add_ban(new_ban("203.0.113.8")).await;
    assert!(
        matches!(write, Err(ControlError::StoreUnavailable(_))),
        "{write:?}"
    );

    env.recover().await;
    let after = eventually(15 * SEC, || async {
        second.control.add_ban(new_ban("203.0.113.8")).await.ok()
    })
    .await;
    second.control.reconcile().await.unwrap();
    assert!(second.control.store_healthy());
    let page = second
        .control
        .list_bans(&BanFilter::default())
        .await
        .unwrap();
    assert_eq!(page.bans, vec![kept, after]);
    second.stop().await;
    env.cleanup().await;
}

#[tokio::test]
async fn without_a_cache_a_database_down_at_first_start_fails_the_start() {
    let Some(env) = Env::new(Backend::Postgres).await else {
        return;
    };
    env.outage().await;
    let mut registry = prometheus_client::registry::Registry::default();
    let opened = wharf::control::Control::open(
        &env.config(),
        env.dir.path(),
        &mut registry,
        tokio_util::sync::CancellationToken::new(),
        &tokio_util::task::TaskTracker::new(),
    )
    .await;
    assert!(
        matches!(opened, Err(ControlError::StoreUnavailable(_))),
        "nothing safe to enforce: {opened:?}"
    );
    env.recover().await;
    env.cleanup().await;
}
