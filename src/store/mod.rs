//! Embedded, crash-safe block store (redb, `<data_dir>/blocks.redb`): the feeder and
//! the sync pipeline commit verified blocks here and the sync protocols serve ranges
//! from it, so range reads are the hot path.
//!
//! Layout: one table per component (`headers` holds the adapter's header bytes with
//! signature) keyed by block number, a `hashes` table, and a `meta` table whose `head`
//! entry (number u64 BE then 32-byte hash) moves in the same write transaction as the
//! block, so a crash leaves the store at its last committed block. Contract classes live in
//! the same file, content-addressed (see `classes`), and move in the block's transaction too.
//! An `anchor` entry makes the chain start at a trusted checkpoint instead of genesis
//! (`checkpoint.rs`).

mod blocks;
mod checkpoint;
mod classes;
mod error;
mod metrics;
mod numbers;
mod rollback;

pub use blocks::{BlockStore, Head, RawBlock, BLOCKS_FILE};
pub use error::StoreError;
pub use metrics::StoreMetrics;
pub use rollback::{rollback, RolledBack};
