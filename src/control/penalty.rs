//! Peer scoring on the `Control` handle: penalties from the swarm update the in-memory score
//! book synchronously; crossing the threshold enforces a provisional ban at once and persists
//! it in the background, retrying through store outages.

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use chrono::Utc;
use libp2p::{Multiaddr, PeerId};

use super::ban::{Ban, BanRecord, BanTarget, Expiry, NewBan};
use super::metrics::ReasonLabel;
use super::score::{log_penalty, PeerScore, ScoreEvent, ScoreEventRecord};
use super::state::Inner;
use super::tasks;
use super::{Control, ControlError, ControlEvent};

impl Control {
    /// Applies a score event to `peer` (synchronous, in memory; cheap enough for the swarm
    /// loop). Crossing the threshold bans the peer at once (the store write is spawned).
    /// Without `addr`, the address the peer connects (or last connected) from is used.
    pub fn penalise(&self, peer: PeerId, addr: Option<IpAddr>, event: ScoreEvent) {
        let inner = self.inner();
        let addr = addr.or_else(|| inner.addrs.ip_of(&peer));
        let applied = inner.scores.apply(peer, event, Utc::now());
        let label = ReasonLabel {
            reason: event.name(),
        };
        inner.metrics.penalties.get_or_create(&label).inc();
        log_penalty(&peer, addr, event, &applied);
        let _ = inner.events.send(ControlEvent::Penalised {
            peer,
            addr,
            reason: event.name().into(),
            delta: applied.delta,
            score: applied.score,
        });
        if let Some(reason) = applied.auto_ban {
            inner.metrics.auto_bans.get_or_create(&label).inc();
            // gossipsub's score penalises IP colocation itself: peers sharing a NAT would
            // escalate to a ban of their address, so gossip never escalates
            let escalate = addr.filter(|_| !matches!(event, ScoreEvent::Gossip(_)));
            auto_ban(inner, peer, addr, escalate, applied.score, reason);
        }
    }

    /// Records that `peer` has a connection from `remote` (called by the connection gate), so
    /// its penalties carry its address.
    pub fn peer_connected(&self, peer: PeerId, remote: &Multiaddr) {
        self.inner().addrs.connected(peer, remote);
    }

    /// Records that one of `peer`'s connections closed.
    pub fn peer_disconnected(&self, peer: PeerId) {
        self.inner().addrs.disconnected(peer);
    }

    /// Every known peer score, decay applied.
    pub fn scores(&self) -> Vec<PeerScore> {
        self.inner().scores.all(Utc::now())
    }

    /// One peer's score with its recent history.
    pub fn score(&self, peer: &PeerId) -> Option<PeerScore> {
        self.inner().scores.get(peer, Utc::now())
    }

    /// Forgets a peer's score, in memory and in the store.
    pub async fn reset_score(&self, peer: &PeerId) -> Result<(), ControlError> {
        let inner = self.inner();
        inner.scores.reset(peer);
        inner
            .op(
                "reset_score",
                inner.store.sql().delete_scores(std::slice::from_ref(peer)),
            )
            .await
    }

    /// The last `limit` persisted score events of a peer, oldest first.
    pub async fn score_history(
        &self,
        peer: &PeerId,
        limit: u32,
    ) -> Result<Vec<ScoreEventRecord>, ControlError> {
        let fut = self.inner().store.sql().score_history(peer, limit);
        self.inner().op("score_history", fut).await
    }

    /// Deletes neutral scores older than `score_retention` and bans expired for longer than
    /// `expired_ban_retention` (also done every `gc_interval`); returns (scores, bans) deleted.
    pub async fn collect_garbage(&self) -> Result<(usize, u64), ControlError> {
        self.inner().gc().await
    }

    /// Writes changed scores now (also done periodically and on shutdown).
    pub async fn flush_scores(&self) -> Result<(), ControlError> {
        self.inner().flush().await
    }
}

/// Bans a peer that crossed the threshold, and its address or subnet when greylisting says
/// so: enforced at once through provisional index entries, persisted by a retrying task.
fn auto_ban(
    inner: &Arc<Inner>,
    peer: PeerId,
    addr: Option<IpAddr>,
    escalate: Option<IpAddr>,
    score: f64,
    reason: String,
) {
    tracing::warn!(%peer, addr = ?addr, score, %reason, "peer auto-banned");
    let _ = inner.events.send(ControlEvent::AutoBanned {
        peer,
        addr,
        score,
        reason: reason.clone(),
    });
    let mut targets = vec![BanTarget::Peer(peer)];
    if let Some(ip) = escalate {
        let escalated = inner.escalator.peer_banned(ip, Utc::now());
        for target in &escalated[..] {
            tracing::warn!(%peer, %target, "automatic bans escalated to an address ban");
        }
        targets.extend(escalated);
    }
    for target in targets {
        let new = NewBan {
            target,
            reason: reason.clone(),
            created_by: "auto".into(),
            expiry: Expiry::For(inner.cfg.auto_ban_duration),
        };
        provisional(inner, new);
    }
}

fn provisional(inner: &Arc<Inner>, new: NewBan) {
    let now = Utc::now();
    let Ok(expires_at) = new.expiry.resolve(now) else {
        return tracing::error!("auto_ban_duration must be greater than zero");
    };
    let ban = Ban {
        id: inner.next_provisional.fetch_sub(1, Ordering::Relaxed),
        target: new.target,
        reason: new.reason.clone(),
        created_by: new.created_by.clone(),
        created_at: now,
        expires_at,
    };
    let rec = BanRecord::from(&ban);
    let id = ban.id;
    inner.upsert(ban, None);
    tasks::spawn_persist(inner, id, rec);
}
