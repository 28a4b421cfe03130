//! Bounded tables and the small holes: neutral scores and long-expired bans are collected,
//! automatic bans not yet stored can be removed (one by one or by "clear all"), a store that is
//! busy or down never loses an automatic ban, and refused streams alone never ban. Run against
//! both stores.

use std::time::Duration;

use libp2p::PeerId;
use sqlx::{Connection, Executor, SqliteConnection};
use wharf::control::{BanFilter, BanTarget, ControlConfig, Expiry, NewBan, ScoreEvent};

use super::common::{eventually, wait_until, Backend, Env};

const SEC: Duration = Duration::from_secs(1);

pub async fn neutral_scores_and_old_bans_are_collected(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let cfg = ControlConfig {
        decay_half_life: Duration::from_millis(100),
        score_retention: Duration::from_millis(300),
        expired_ban_retention: Duration::from_millis(300),
        ..env.config()
    };
    let relay = env.start(&cfg).await;
    let c = &relay.control;
    let (calm, angry) = (PeerId::random(), PeerId::random());
    c.penalise(calm, None, ScoreEvent::Timeout);
    let ban = NewBan {
        target: "198.51.100.7".parse().unwrap(),
        reason: "short".into(),
        created_by: "tester".into(),
        expiry: Expiry::For(Duration::from_millis(200)),
    };
    c.add_ban(ban).await.unwrap();
    c.flush_scores().await.unwrap();
    // neutral and unchanged for longer than the retention: collected; `angry` stays
    wait_until(10 * SEC, || c.score(&calm).unwrap().score.abs() < 1.0).await;
    let all = BanFilter {
        include_expired: true,
        ..BanFilter::default()
    };
    let mut total = (0, 0);
    let deadline = std::time::Instant::now() + 10 * SEC;
    while total != (1, 1) {
        assert!(std::time::Instant::now() < deadline, "collected {total:?}");
        c.penalise(angry, None, ScoreEvent::Gossip(-5.0)); // never reaches the threshold
        let done = c.collect_garbage().await.unwrap();
        total = (total.0 + done.0, total.1 + done.1);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(c.score(&calm).is_none(), "neutral score forgotten");
    assert!(c.score(&angry).is_some(), "a live score is kept");
    assert_eq!(c.list_bans(&all).await.unwrap().total, 0, "old ban deleted");
    relay.stop().await;
    let relay = env.start(&cfg).await;
    assert!(
        relay.control.score(&calm).is_none(),
        "deleted from the store too"
    );
    relay.stop().await;
    env.cleanup().await;
}

/// Makes the store refuse writes until the returned guard is released.
enum Blocker {
    Sqlite(SqliteConnection),
    Postgres,
}

async fn block(env: &Env) -> Blocker {
    if env.db.is_some() {
        env.outage().await;
        return Blocker::Postgres;
    }
    let url = format!(
        "sqlite://{}",
        env.dir.path().join("control.sqlite").display()
    );
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    conn.execute("BEGIN IMMEDIATE").await.unwrap(); // holds the write lock
    Blocker::Sqlite(conn)
}

async fn unblock(env: &Env, blocker: Blocker) {
    match blocker {
        Blocker::Sqlite(mut conn) => {
            conn.execute("COMMIT").await.unwrap();
        }
        Blocker::Postgres => env.recover().await,
    }
}

fn auto_ban(c: &wharf::control::Control, peer: PeerId) {
    c.penalise(peer, None, ScoreEvent::BadSignature);
    c.penalise(peer, None, ScoreEvent::BadSignature);
    assert!(c.gatekeeper().is_peer_banned(&peer));
}

pub async fn pending_auto_bans_are_removable_and_never_lost(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let cfg = ControlConfig {
        store_timeout: Duration::from_millis(200),
        ..env.config()
    };
    let relay = env.start(&cfg).await;
    let c = &relay.control;
    let blocker = block(&env).await;
    let (removed, cleared, kept) = (PeerId::random(), PeerId::random(), PeerId::random());
    auto_ban(c, removed);
    let pending = c.get_ban(-1).await.unwrap().expect("pending ban -1");
    assert_eq!(pending.target, BanTarget::Peer(removed));
    assert_eq!(c.remove_ban(-1).await.unwrap().map(|b| b.id), Some(-1));
    assert!(!c.gatekeeper().is_peer_banned(&removed), "removed at once");
    auto_ban(c, cleared);
    assert!(c.clear_bans().await.is_err(), "clear all needs the store");
    unblock(&env, blocker).await;
    eventually(10 * SEC, || async { c.clear_bans().await.ok() }).await;
    assert!(
        !c.gatekeeper().is_peer_banned(&cleared),
        "clear all drops pending bans"
    );
    let blocker = block(&env).await;
    auto_ban(c, kept);
    unblock(&env, blocker).await;
    // the write failed while the store was busy or down: retried until stored
    let stored = eventually(15 * SEC, || async {
        let page = c.list_bans(&BanFilter::default()).await.ok()?;
        (!page.bans.is_empty()).then_some(page.bans)
    })
    .await;
    let targets: Vec<BanTarget> = stored.iter().map(|b| b.target).collect();
    assert_eq!(
        targets,
        vec![BanTarget::Peer(kept)],
        "removed bans stay removed"
    );
    relay.stop().await;
    env.cleanup().await;
}

pub async fn refused_streams_alone_never_ban(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let relay = env.start(&env.config()).await;
    let c = &relay.control;
    let eager = PeerId::random();
    for _ in 0..10_000 {
        c.penalise(eager, None, ScoreEvent::Refused);
    }
    let score = c.score(&eager).unwrap().score;
    assert!(
        (-50.5..=-49.5).contains(&score),
        "held at the floor: {score}"
    );
    assert!(!c.gatekeeper().is_peer_banned(&eager));
    c.penalise(eager, None, ScoreEvent::BadSignature);
    c.penalise(eager, None, ScoreEvent::Refused);
    assert!(
        c.gatekeeper().is_peer_banned(&eager),
        "real misbehaviour still bans"
    );
    relay.stop().await;
    env.cleanup().await;
}

/// Gossipsub's own score punishes peers sharing an IP; its drops must never escalate to a ban of
/// that IP (a NAT, a cloud egress), while other misbehaviour from the same IP does.
pub async fn gossip_bans_never_escalate_to_the_address(b: Backend) {
    let Some(env) = Env::new(b).await else { return };
    let relay = env.start(&env.config()).await;
    let c = &relay.control;
    let nat: std::net::IpAddr = "198.51.100.44".parse().unwrap();
    for _ in 0..10 {
        c.penalise(PeerId::random(), Some(nat), ScoreEvent::Gossip(-500.0));
    }
    assert!(
        !c.gatekeeper().is_ip_banned(nat),
        "colocation is not an attack"
    );
    for _ in 0..3 {
        let peer = PeerId::random();
        c.penalise(peer, Some(nat), ScoreEvent::BadSignature);
        c.penalise(peer, Some(nat), ScoreEvent::BadSignature);
    }
    assert!(
        c.gatekeeper().is_ip_banned(nat),
        "three forgers from one IP ban it"
    );
    relay.stop().await;
    env.cleanup().await;
}
