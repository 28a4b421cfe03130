//! Mapping between Wharf's stored Starknet parts (canonical gateway JSON, see
//! `crate::chain::starknet`) and the Starknet P2P sync messages (`proto/starknet/`).
//!
//! Minimal version from the `sn-client` branch (wire → store only); the `sn-server` branch owns
//! this file and adds the store → wire direction. At merge keep both sets of `mod` lines.

pub mod from_wire;
pub mod from_wire_block;
pub mod from_wire_class;
pub mod from_wire_receipt;
pub mod from_wire_tx;

/// Why a message could not be mapped: a missing required field or an out-of-range value.
/// On the client side this is the sending peer's fault (the specs call it malicious).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct MapError {
    /// The field or message at fault (`header.state_root`, `class.cairo0.program`, ...).
    pub what: String,
    /// What is wrong with it.
    pub detail: String,
}

impl MapError {
    /// A field that is required and absent.
    pub fn missing(what: impl Into<String>) -> Self {
        MapError {
            what: what.into(),
            detail: "required field missing".into(),
        }
    }

    /// A field with a value that cannot be mapped.
    pub fn invalid(what: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        MapError {
            what: what.into(),
            detail: detail.to_string(),
        }
    }
}
