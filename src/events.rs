//! Live events for operators (`GET /api/v1/events`, Server-Sent Events): one broadcast bus
//! every component publishes to. Slow subscribers lose old events, never block publishers.

use serde::Serialize;
use tokio::sync::broadcast;

/// Events kept for slow subscribers before they start losing the oldest.
const CAPACITY: usize = 1024;

/// Something an operator may want to see as it happens.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A block was committed to the local store.
    BlockCommitted { number: u64, hash: String },
    /// A peer's first connection opened.
    PeerConnected {
        peer_id: String,
        address: String,
        direction: &'static str,
    },
    /// A peer's last connection closed.
    PeerDisconnected { peer_id: String },
    /// A ban was added (here or by another relay of the fleet).
    BanAdded { ban: serde_json::Value },
    /// A ban was removed by an operator.
    BanRemoved { ban: serde_json::Value },
    /// A ban reached its expiry.
    BanExpired { ban: serde_json::Value },
    /// A peer lost score.
    PeerPenalised {
        peer_id: String,
        reason: String,
        delta: f64,
        score: f64,
    },
    /// A peer crossed the score threshold and was banned automatically.
    PeerAutoBanned { peer_id: String, reason: String },
}

impl Event {
    /// The SSE `event:` name (same as the `type` field).
    pub fn name(&self) -> &'static str {
        match self {
            Event::BlockCommitted { .. } => "block_committed",
            Event::PeerConnected { .. } => "peer_connected",
            Event::PeerDisconnected { .. } => "peer_disconnected",
            Event::BanAdded { .. } => "ban_added",
            Event::BanRemoved { .. } => "ban_removed",
            Event::BanExpired { .. } => "ban_expired",
            Event::PeerPenalised { .. } => "peer_penalised",
            Event::PeerAutoBanned { .. } => "peer_auto_banned",
        }
    }
}

/// Cloneable publisher/subscriber handle.
#[derive(Debug, Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Event>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
        }
    }
}

impl EventBus {
    /// Publishes to every current subscriber (none is fine).
    pub fn publish(&self, event: Event) {
        let _ = self.tx.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}
