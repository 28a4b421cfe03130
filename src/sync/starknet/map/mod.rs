//! Mapping between Wharf's stored Starknet parts (canonical gateway JSON, class bundles) and
//! the messages of Starknet's P2P sync protocols. `proto/starknet/README.md` has the table of
//! every wire field and its source. Store → wire: [`header_to_wire`], [`transactions_to_wire`],
//! [`events_to_wire`], [`state_diff_to_wire`], [`classes_to_wire`].

mod class;
mod gzip;
mod header;
mod json;
mod receipt;
mod state;
mod transaction;

// wire -> store (the sync client)
pub mod from_wire;
pub mod from_wire_block;
pub mod from_wire_class;
pub mod from_wire_receipt;
pub mod from_wire_tx;

pub use class::classes_to_wire;
pub use header::{fill_legacy_commitments, header_to_wire, is_pre_0_13_2};
pub use state::{events_to_wire, state_diff_to_wire};
pub use transaction::transactions_to_wire;

/// Why a stored part could not be mapped to (or from) the wire; names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// The part is not the JSON Wharf stores.
    #[error("{part}: not valid JSON: {detail}")]
    Json {
        /// Which part (`header`, `transactions`, ...).
        part: &'static str,
        /// The parser's message.
        detail: String,
    },
    /// A field is missing or has a value the wire cannot carry.
    #[error("field `{field}`: {reason}")]
    Field {
        /// Path of the field, e.g. `transactions[3].max_fee`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl MapError {
    /// A field that is required and absent (on the client side: the sending peer's fault).
    pub fn missing(what: impl Into<String>) -> Self {
        Self::field(what, "required field missing")
    }

    /// A field with a value that cannot be mapped.
    pub fn invalid(what: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Self::field(what, detail)
    }

    fn field(field: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        MapError::Field {
            field: field.into(),
            reason: reason.to_string(),
        }
    }
}
