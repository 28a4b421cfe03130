//! Parsing and normalisation of ban targets and expiries (no store needed).

use std::time::Duration;

use chrono::Utc;
use libp2p::PeerId;
use wharf::control::ban::{ExpiryError, TargetParseError};
use wharf::control::{Ban, BanTarget, ControlConfig, ControlEvent, Expiry, Gatekeeper};

fn target(s: &str) -> BanTarget {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn targets_parse_and_normalise() {
    assert_eq!(target("1.2.3.4").to_string(), "1.2.3.4");
    assert_eq!(target(" 2001:db8::1 ").to_string(), "2001:db8::1");
    assert_eq!(target("10.1.2.3/8").to_string(), "10.0.0.0/8");
    assert_eq!(target("2001:db8:ffff::1/32").to_string(), "2001:db8::/32");
    assert_eq!(
        target("10.1.2.3/32"),
        target("10.1.2.3"),
        "a full-width CIDR is an IP"
    );
    assert_eq!(target("2001:db8::1/128"), target("2001:db8::1"));
    assert_eq!(
        target("::ffff:1.2.3.4"),
        target("1.2.3.4"),
        "v4-mapped becomes v4"
    );
    assert_eq!(target("::ffff:10.0.0.0/104").to_string(), "10.0.0.0/8");
    let peer = PeerId::random();
    assert_eq!(target(&peer.to_string()), BanTarget::Peer(peer));
}

#[test]
fn bad_targets_name_the_input() {
    let err = "not-an-ip".parse::<BanTarget>().unwrap_err();
    assert_eq!(err, TargetParseError::Unrecognised("not-an-ip".into()));
    assert!(err.to_string().contains("not-an-ip"));
    let err = "10.0.0.0/33".parse::<BanTarget>().unwrap_err();
    assert!(matches!(err, TargetParseError::BadCidr { .. }) && err.to_string().contains("/33"));
}

#[test]
fn targets_round_trip_through_serde() {
    let t = target("10.0.0.0/8");
    let json = serde_json::to_string(&t).unwrap();
    assert_eq!(json, "\"10.0.0.0/8\"");
    assert_eq!(serde_json::from_str::<BanTarget>(&json).unwrap(), t);
    let e: Expiry = serde_json::from_str(r#"{"for":"1h"}"#).unwrap();
    assert_eq!(e, Expiry::For(Duration::from_secs(3600)));
    let peer = PeerId::random();
    let event = ControlEvent::Penalised {
        peer,
        addr: None,
        reason: "timeout".into(),
        delta: -5.0,
        score: -5.0,
    };
    let json = serde_json::to_value(&event).unwrap();
    assert_eq!(json["type"], "penalised");
    assert_eq!(json["peer"], peer.to_string());
}

#[test]
fn expiries_resolve() {
    let now = Utc::now();
    assert_eq!(Expiry::Permanent.resolve(now), Ok(None));
    let hour = Expiry::For(Duration::from_secs(3600)).resolve(now).unwrap();
    assert_eq!(hour, Some(now + chrono::Duration::hours(1)));
    assert_eq!(
        Expiry::For(Duration::ZERO).resolve(now),
        Err(ExpiryError::ZeroDuration)
    );
    assert_eq!(
        Expiry::Until(now).resolve(now),
        Err(ExpiryError::InPast(now))
    );
}

#[test]
fn static_gate_honours_expiry() {
    let ban = |t: &str, secs: i64| Ban {
        id: 1,
        target: target(t),
        reason: String::new(),
        created_by: String::new(),
        created_at: Utc::now(),
        expires_at: Some(Utc::now() + chrono::Duration::seconds(secs)),
    };
    let bans = [
        ban("10.0.0.0/8", -1),
        ban("11.0.0.0/8", 60),
        ban("0.0.0.0/0", -5),
    ];
    let gate = Gatekeeper::from_bans(&bans);
    assert!(
        !gate.is_ip_banned("10.1.1.1".parse().unwrap()),
        "expired entries never block"
    );
    assert!(gate.is_ip_banned("11.1.1.1".parse().unwrap()));
    assert!(!gate.is_ip_banned("12.1.1.1".parse().unwrap()));
    assert_eq!(gate.prefix_lengths(), (2, 0));
}

#[test]
fn config_parses_from_toml() {
    let peer = PeerId::random();
    let toml = format!(
        "database_url = \"postgres://x@h/db\"\nreconcile_interval = \"5s\"\n\
         auto_ban_duration = \"1h\"\ntrusted_peers = [\"{peer}\"]\n[weights]\nsevere = -80.0\n"
    );
    let cfg: ControlConfig = toml::from_str(&toml).unwrap();
    assert_eq!(cfg.reconcile_interval, Duration::from_secs(5));
    assert_eq!(cfg.trusted_peers, vec![peer]);
    assert_eq!(cfg.weights.severe, -80.0);
    assert!(
        toml::from_str::<ControlConfig>("bogus = 1").is_err(),
        "unknown fields rejected"
    );
}
