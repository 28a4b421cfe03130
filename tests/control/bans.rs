//! Ban behaviour, run against both stores.

use std::net::IpAddr;
use std::time::Duration;

use chrono::Utc;
use libp2p::PeerId;
use wharf::control::{BanFilter, BanKind, BanTarget, ControlError, ControlEvent, Expiry, NewBan};

use super::common::{next_event, wait_until, Backend, Env};

const SEC: Duration = Duration::from_secs(1);

fn new_ban(target: &str, expiry: Expiry) -> NewBan {
    NewBan {
        target: target.parse().expect("valid target"),
        reason: format!("test ban of {target}"),
        created_by: "tester".into(),
        expiry,
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("valid ip")
}

pub async fn add_list_get_remove(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let relay = env.start(&env.config()).await;
    let (c, gate) = (&relay.control, relay.control.gatekeeper());
    let mut events = c.subscribe();
    let ban = c
        .add_ban(new_ban("192.0.2.7", Expiry::Permanent))
        .await
        .unwrap();
    assert!(gate.is_ip_banned(ip("192.0.2.7")));
    assert!(!gate.is_ip_banned(ip("192.0.2.8")));
    let ev = next_event(&mut events, SEC, |e| matches!(e, ControlEvent::BanAdded(_))).await;
    assert_eq!(ev, ControlEvent::BanAdded(ban.clone()));
    let page = c.list_bans(&BanFilter::default()).await.unwrap();
    assert_eq!((page.total, page.bans.clone()), (1, vec![ban.clone()]));
    assert_eq!(c.get_ban(ban.id).await.unwrap(), Some(ban.clone()));
    assert_eq!(c.remove_ban(ban.id).await.unwrap(), Some(ban.clone()));
    assert!(!gate.is_ip_banned(ip("192.0.2.7")));
    let ev = next_event(&mut events, SEC, |e| {
        matches!(e, ControlEvent::BanRemoved(_))
    })
    .await;
    assert_eq!(ev, ControlEvent::BanRemoved(ban.clone()));
    assert_eq!(c.list_bans(&BanFilter::default()).await.unwrap().total, 0);
    assert_eq!(c.remove_ban(ban.id).await.unwrap(), None);
    relay.stop().await;
    env.cleanup().await;
}

pub async fn extend_never_shortens(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let relay = env.start(&env.config()).await;
    let c = &relay.control;
    let hour = Duration::from_secs(3600);
    let first = c
        .add_ban(new_ban("10.9.8.7", Expiry::For(hour)))
        .await
        .unwrap();
    let longer = c
        .add_ban(new_ban("10.9.8.7", Expiry::For(2 * hour)))
        .await
        .unwrap();
    assert_eq!(longer.id, first.id, "same target extends the existing ban");
    assert!(longer.expires_at > first.expires_at);
    let shorter = c
        .add_ban(new_ban("10.9.8.7", Expiry::For(hour / 6)))
        .await
        .unwrap();
    assert_eq!(
        shorter.expires_at, longer.expires_at,
        "a ban is never shortened"
    );
    let forever = c
        .add_ban(new_ban("10.9.8.7", Expiry::Permanent))
        .await
        .unwrap();
    assert_eq!((forever.id, forever.expires_at), (first.id, None));
    let again = c
        .add_ban(new_ban("10.9.8.7", Expiry::For(hour)))
        .await
        .unwrap();
    assert_eq!(again.expires_at, None, "permanent stays permanent");
    assert_eq!(c.list_bans(&BanFilter::default()).await.unwrap().total, 1);
    relay.stop().await;
    env.cleanup().await;
}

pub async fn expiry_unblocks_without_action(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let relay = env.start(&env.config()).await;
    let (c, gate) = (&relay.control, relay.control.gatekeeper());
    let mut events = c.subscribe();
    let expiry = Expiry::For(Duration::from_millis(400));
    let ban = c.add_ban(new_ban("2001:db8::42", expiry)).await.unwrap();
    assert!(gate.is_ip_banned(ip("2001:db8::42")));
    wait_until(3 * SEC, || !gate.is_ip_banned(ip("2001:db8::42"))).await;
    let ev = next_event(&mut events, 3 * SEC, |e| {
        matches!(e, ControlEvent::BanExpired(_))
    })
    .await;
    assert_eq!(ev, ControlEvent::BanExpired(ban.clone()));
    assert_eq!(c.list_bans(&BanFilter::default()).await.unwrap().total, 0);
    let all = BanFilter {
        include_expired: true,
        ..BanFilter::default()
    };
    assert_eq!(c.list_bans(&all).await.unwrap().bans, vec![ban.clone()]);
    // an expired ban is not extended: a new add creates a new ban
    let renewed = c
        .add_ban(new_ban("2001:db8::42", Expiry::Permanent))
        .await
        .unwrap();
    assert_ne!(renewed.id, ban.id);
    relay.stop().await;
    env.cleanup().await;
}

pub async fn containment_v4_v6_cidr(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let relay = env.start(&env.config()).await;
    let (c, gate) = (&relay.control, relay.control.gatekeeper());
    let cidr = c
        .add_ban(new_ban("10.1.2.3/8", Expiry::Permanent))
        .await
        .unwrap();
    assert_eq!(
        cidr.target.to_string(),
        "10.0.0.0/8",
        "normalised to the network"
    );
    c.add_ban(new_ban("2001:db8:abcd::/48", Expiry::Permanent))
        .await
        .unwrap();
    let exact = c
        .add_ban(new_ban("10.2.2.2", Expiry::Permanent))
        .await
        .unwrap();
    c.add_ban(new_ban("10.2.0.0/16", Expiry::Permanent))
        .await
        .unwrap(); // overlaps the /8
    for banned in [
        "10.0.0.1",
        "10.255.255.255",
        "::ffff:10.7.7.7",
        "2001:db8:abcd:ff::1",
    ] {
        assert!(gate.is_ip_banned(ip(banned)), "{banned} must be banned");
    }
    for free in [
        "11.0.0.1",
        "9.255.255.255",
        "2001:db8:abce::1",
        "::1",
        "::ffff:11.0.0.1",
    ] {
        assert!(!gate.is_ip_banned(ip(free)), "{free} must not be banned");
    }
    let covering = c.bans_covering(ip("10.2.2.2")).await.unwrap();
    let kinds: Vec<BanKind> = covering.iter().map(|b| b.target.kind()).collect();
    assert_eq!(
        covering.len(),
        3,
        "the /8, the /16 and the exact IP: {covering:?}"
    );
    assert!(kinds.contains(&BanKind::Ip) && covering.contains(&exact));
    let peer = PeerId::random();
    assert!(gate.covers(&cidr, Some(ip("10.3.3.3")), &peer));
    assert!(!gate.covers(&cidr, Some(ip("12.3.3.3")), &peer));
    relay.stop().await;
    env.cleanup().await;
}

pub async fn peer_bans_and_filters(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let relay = env.start(&env.config()).await;
    let (c, gate) = (&relay.control, relay.control.gatekeeper());
    let (bad, good) = (PeerId::random(), PeerId::random());
    let ban = c
        .add_ban(new_ban(&bad.to_string(), Expiry::Permanent))
        .await
        .unwrap();
    assert_eq!(ban.target, BanTarget::Peer(bad));
    assert!(gate.is_peer_banned(&bad) && !gate.is_peer_banned(&good));
    assert!(gate.is_banned(None, &bad) && gate.covers(&ban, None, &bad));
    for i in 0..5 {
        c.add_ban(new_ban(&format!("198.51.100.{i}"), Expiry::Permanent))
            .await
            .unwrap();
    }
    let ips = BanFilter {
        kind: Some(BanKind::Ip),
        offset: 1,
        limit: Some(2),
        ..Default::default()
    };
    let page = c.list_bans(&ips).await.unwrap();
    assert_eq!(page.total, 5);
    let listed: Vec<String> = page.bans.iter().map(|b| b.target.to_string()).collect();
    assert_eq!(listed, ["198.51.100.1", "198.51.100.2"]);
    let peers = BanFilter {
        kind: Some(BanKind::Peer),
        ..Default::default()
    };
    assert_eq!(c.list_bans(&peers).await.unwrap().bans, vec![ban]);
    assert_eq!(c.clear_bans().await.unwrap(), 6);
    assert!(!gate.is_peer_banned(&bad) && !gate.is_ip_banned(ip("198.51.100.1")));
    assert_eq!(c.list_bans(&BanFilter::default()).await.unwrap().total, 0);
    relay.stop().await;
    env.cleanup().await;
}

pub async fn invalid_expiry_rejected(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let relay = env.start(&env.config()).await;
    let c = &relay.control;
    let zero = c
        .add_ban(new_ban("192.0.2.1", Expiry::For(Duration::ZERO)))
        .await;
    assert!(matches!(zero, Err(ControlError::Expiry(_))), "{zero:?}");
    let past = Expiry::Until(Utc::now() - chrono::Duration::seconds(5));
    let past = c.add_ban(new_ban("192.0.2.1", past)).await;
    assert!(matches!(past, Err(ControlError::Expiry(_))), "{past:?}");
    assert_eq!(c.list_bans(&BanFilter::default()).await.unwrap().total, 0);
    relay.stop().await;
    env.cleanup().await;
}

pub async fn restart_keeps_bans(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let relay = env.start(&env.config()).await;
    let peer = PeerId::random();
    let ban = relay
        .control
        .add_ban(new_ban("203.0.113.0/24", Expiry::Permanent))
        .await
        .unwrap();
    let pban = relay
        .control
        .add_ban(new_ban(&peer.to_string(), Expiry::For(SEC * 60)))
        .await;
    let pban = pban.unwrap();
    relay.stop().await;
    let relay = env.start(&env.config()).await;
    let gate = relay.control.gatekeeper();
    assert!(gate.is_ip_banned(ip("203.0.113.9")) && gate.is_peer_banned(&peer));
    let page = relay
        .control
        .list_bans(&BanFilter::default())
        .await
        .unwrap();
    assert_eq!(page.bans, vec![ban, pban]);
    relay.stop().await;
    env.cleanup().await;
}
