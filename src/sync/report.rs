//! How the sync protocols tell the control plane that a peer helped or misbehaved.
//!
//! The sync code never scores peers itself: it reports what happened through a
//! [`PeerReporter`] and the control plane's scores decide what it is worth.

use libp2p::PeerId;

/// Something a peer did on a sync stream, from most to least severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerReport {
    /// Data that failed verification (bad commitment, hash, signature or parent link).
    InvalidData,
    /// A header whose upstream signature does not verify.
    BadSignature,
    /// Bytes sent after the response's `Fin`.
    DataAfterFin,
    /// More items than requested, or an item for a block that was not asked for next.
    TooManyItems,
    /// A frame that does not decode, or a stream that ends inside a frame.
    Malformed,
    /// A frame longer than the maximum message size.
    Oversized,
    /// Any other breach of the protocol (bad request, second request, missing `Fin`, ...).
    ProtocolViolation,
    /// The peer was too slow to send or receive.
    Timeout,
    /// The peer exceeded its request rate or concurrent stream limit.
    RateLimited,
    /// The peer answered a request correctly.
    Useful,
}

impl PeerReport {
    /// Stable lowercase name for logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            PeerReport::InvalidData => "invalid_data",
            PeerReport::BadSignature => "bad_signature",
            PeerReport::DataAfterFin => "data_after_fin",
            PeerReport::TooManyItems => "too_many_items",
            PeerReport::Malformed => "malformed",
            PeerReport::Oversized => "oversized",
            PeerReport::ProtocolViolation => "protocol_violation",
            PeerReport::Timeout => "timeout",
            PeerReport::RateLimited => "rate_limited",
            PeerReport::Useful => "useful",
        }
    }
}

/// Receives peer reports; the control plane implements it to feed its scores.
///
/// Called from async tasks on the hot path: implementations must be cheap and never block.
pub trait PeerReporter: Send + Sync + 'static {
    /// Records that `peer` did `what`.
    fn report(&self, peer: PeerId, what: PeerReport);
}

/// A reporter that drops every report (for nodes without a control plane).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopReporter;

impl PeerReporter for NoopReporter {
    fn report(&self, _peer: PeerId, _what: PeerReport) {}
}
