//! Control plane: IP/CIDR/peer bans and peer scores, enforced from an in-memory index on the
//! connection path, persisted in Postgres (shared by a fleet) or SQLite (single relay).
//!
//! The node wires it in with [`Control::open`], hands its [`Gatekeeper`] to the p2p connection
//! gate (`app::control`), closes covered connections on [`ControlEvent::BanAdded`], and calls
//! [`Control::penalise`] on misbehaviour.

mod addrs;
pub mod ban;
mod cache;
pub mod config;
mod escalate;
pub mod event;
pub mod index;
pub mod listing;
pub mod metrics;
pub mod score;
pub mod store;

mod open;
mod penalty;
mod service;
mod state;
mod tasks;

pub use ban::{Ban, BanFilter, BanKind, BanPage, BanTarget, Expiry, NewBan};
pub use cache::CACHE_FILE;
pub use config::{ControlConfig, ScoreWeights};
pub use event::ControlEvent;
pub use index::Gatekeeper;
pub use listing::BanView;
pub use metrics::ControlMetrics;
pub use score::{PeerScore, ScoreEvent, ScoreEventRecord};
pub use service::Control;
pub use store::StoreError;

/// Why a control-plane operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The database is unreachable; enforcement continues from memory, writes must be
    /// retried later (the API answers 503).
    #[error("control store unavailable")]
    StoreUnavailable(#[source] StoreError),
    /// The database rejected the operation.
    #[error(transparent)]
    Store(StoreError),
    /// The requested expiry is invalid (zero, or in the past).
    #[error(transparent)]
    Expiry(#[from] ban::ExpiryError),
    /// The data directory could not be created.
    #[error("cannot create data directory: {0}")]
    DataDir(#[source] std::io::Error),
}

impl From<StoreError> for ControlError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            ControlError::StoreUnavailable(e)
        } else {
            ControlError::Store(e)
        }
    }
}
