//! Typed block-store errors.

use crate::chain::{BlockHash, BlockNumber, VerifyError};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed (I/O, corruption detected by redb, ...).
    #[error("block database: {0}")]
    Db(#[from] redb::Error),
    /// Creating the data directory failed.
    #[error("data directory: {0}")]
    Io(#[from] std::io::Error),
    /// A commit that does not directly follow the stored head.
    #[error("commit of block {got} does not follow the stored head (expected {expected})")]
    NotContiguous {
        /// The next height the store accepts.
        expected: BlockNumber,
        /// The height offered.
        got: BlockNumber,
    },
    /// A commit whose parent hash is not the stored head's hash (a reorg upstream).
    #[error("block {number} has parent {actual}, stored head is {expected}")]
    ParentMismatch {
        /// The height offered.
        number: BlockNumber,
        /// Hash of the stored head.
        expected: BlockHash,
        /// The block's parent hash.
        actual: BlockHash,
    },
    /// Stored bytes that do not decode (should not happen; the store only holds verified blocks).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// A trusted checkpoint that the stored chain or a block contradicts.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// A block's class bundle names a class as already stored, and it is not.
    #[error("class 0x{0} is not stored and its definition was not given")]
    MissingClass(String),
    /// A stored header the adapter cannot decode.
    #[error("stored header: {0}")]
    Header(#[from] VerifyError),
}

/// Converts any redb error into a [`StoreError`].
pub(crate) fn db<E: Into<redb::Error>>(e: E) -> StoreError {
    StoreError::Db(e.into())
}
