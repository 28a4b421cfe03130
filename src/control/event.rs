//! Notifications the control plane broadcasts, so the swarm can close covered connections and
//! the API can stream changes; delivered for changes made here and by other relays.

use std::net::IpAddr;

use libp2p::PeerId;
use serde::Serialize;

use crate::control::ban::Ban;

/// Something changed in the control plane (serialised as `{"type": "ban_added", ...}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ControlEvent {
    /// A ban was added, or an existing one extended (same id, later expiry).
    BanAdded(Ban),
    /// A ban was removed by an operator (or `clear`).
    BanRemoved(Ban),
    /// A ban reached its expiry and no longer blocks.
    BanExpired(Ban),
    /// A peer's score changed because of a misbehaviour or a useful response.
    Penalised {
        /// The peer concerned.
        #[serde(serialize_with = "crate::control::ban::serialize_peer")]
        peer: PeerId,
        /// Its address, when known.
        addr: Option<IpAddr>,
        /// The event name (e.g. `bad_signature`).
        reason: String,
        /// The weight applied.
        delta: f64,
        /// The score after the change.
        score: f64,
    },
    /// A peer crossed the score threshold and was banned.
    AutoBanned {
        /// The peer banned.
        #[serde(serialize_with = "crate::control::ban::serialize_peer")]
        peer: PeerId,
        /// Its address, banned too when `ban_ip` is configured.
        addr: Option<IpAddr>,
        /// The score that crossed the threshold.
        score: f64,
        /// The ban reason (the recent score history).
        reason: String,
    },
}
