//! Wiring of the control plane into the node: its ban index is the connection gate's policy, a
//! new ban closes every connection it covers, its events reach the live event stream, and sync
//! misbehaviour becomes score events.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::control::{Control, ControlEvent, Gatekeeper, ScoreEvent};
use crate::events::{Event, EventBus};
use crate::p2p::{AccessPolicy, P2pHandle};
use crate::sync::{PeerReport, PeerReporter};

impl AccessPolicy for Gatekeeper {
    fn ip_denied(&self, ip: IpAddr) -> bool {
        self.is_ip_banned(ip)
    }

    fn peer_denied(&self, peer: &PeerId) -> bool {
        self.is_peer_banned(peer)
    }
}

/// The node's gate policy: the ban index, plus where peers connect from for the scores.
impl AccessPolicy for Control {
    fn ip_denied(&self, ip: IpAddr) -> bool {
        self.gate().is_ip_banned(ip)
    }

    fn peer_denied(&self, peer: &PeerId) -> bool {
        self.gate().is_peer_banned(peer)
    }

    fn connection_established(&self, peer: &PeerId, remote: &Multiaddr) {
        self.peer_connected(*peer, remote);
    }

    fn connection_closed(&self, peer: &PeerId) {
        self.peer_disconnected(*peer);
    }
}

/// Sync reports feed the scores (the address comes from the gate's connection reports).
impl PeerReporter for Control {
    fn report(&self, peer: PeerId, what: PeerReport) {
        let event = match what {
            PeerReport::InvalidData => ScoreEvent::InvalidData,
            PeerReport::BadSignature => ScoreEvent::BadSignature,
            PeerReport::DataAfterFin => ScoreEvent::DataAfterFin,
            PeerReport::TooManyItems => ScoreEvent::TooManyItems,
            PeerReport::Malformed => ScoreEvent::Malformed,
            PeerReport::Oversized => ScoreEvent::Oversized,
            PeerReport::ProtocolViolation => ScoreEvent::ProtocolViolation,
            PeerReport::RateLimited => ScoreEvent::Refused,
            PeerReport::Timeout => ScoreEvent::Timeout,
            PeerReport::Useful => ScoreEvent::UsefulResponse,
        };
        self.penalise(peer, None, event);
    }
}

/// Applies control-plane events to the swarm and republishes them as live events. Runs until
/// `cancel`.
pub async fn bridge(control: Control, p2p: P2pHandle, events: EventBus, cancel: CancellationToken) {
    let mut rx = control.subscribe();
    loop {
        match cancel.run_until_cancelled(rx.recv()).await {
            Some(Ok(ev)) => {
                if matches!(
                    ev,
                    ControlEvent::BanAdded(_) | ControlEvent::AutoBanned { .. }
                ) {
                    enforce(&p2p).await;
                }
                events.publish(live_event(ev));
            }
            // Missed events may have included bans: enforce the current index to be safe.
            Some(Err(RecvError::Lagged(_))) => enforce(&p2p).await,
            Some(Err(RecvError::Closed)) | None => return,
        }
    }
}

/// How often gossipsub's scores are folded into the control plane's.
const GOSSIP_SCORE_INTERVAL: Duration = Duration::from_secs(10);

/// Feeds gossipsub's own scoring into the peer scores: each drop of a peer's gossipsub score
/// since the last look is applied as a `gossip` score event (rises are not rewards: useful
/// responses earn those). That score has no IP-colocation term (`p2p::gossip` turns it off),
/// so peers sharing an address are never banned for it. Runs until `cancel`.
pub async fn feed_gossip_scores(control: Control, p2p: P2pHandle, cancel: CancellationToken) {
    let mut last: HashMap<PeerId, f64> = HashMap::new();
    let mut tick = tokio::time::interval(GOSSIP_SCORE_INTERVAL);
    while cancel.run_until_cancelled(tick.tick()).await.is_some() {
        let Ok(scores) = p2p.gossip_scores().await else {
            return;
        };
        for (peer, score) in &scores {
            let drop = score - last.get(peer).copied().unwrap_or(0.0);
            if drop < 0.0 {
                control.penalise(*peer, None, ScoreEvent::Gossip(drop));
            }
        }
        last = scores.into_iter().collect();
    }
}

async fn enforce(p2p: &P2pHandle) {
    match p2p.enforce_policy().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(connections = n, "closed connections covered by a new ban"),
        Err(e) => tracing::debug!(error = %e, "ban not enforced: p2p node stopped"),
    }
}

fn live_event(ev: ControlEvent) -> Event {
    let json = |b| serde_json::to_value(b).unwrap_or_default();
    match ev {
        ControlEvent::BanAdded(b) => Event::BanAdded { ban: json(&b) },
        ControlEvent::BanRemoved(b) => Event::BanRemoved { ban: json(&b) },
        ControlEvent::BanExpired(b) => Event::BanExpired { ban: json(&b) },
        ControlEvent::Penalised {
            peer,
            reason,
            delta,
            score,
            ..
        } => Event::PeerPenalised {
            peer_id: peer.to_string(),
            reason,
            delta,
            score,
        },
        ControlEvent::AutoBanned { peer, reason, .. } => Event::PeerAutoBanned {
            peer_id: peer.to_string(),
            reason,
        },
    }
}
