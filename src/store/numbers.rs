//! The `numbers` table: block hash → block number, so a sync request that starts at a block
//! hash (Starknet's `Iteration.start.header`) finds its block without a scan. Written in the
//! block's own transaction, pruned by rollback, and rebuilt from `hashes` when a store written
//! before the table existed is opened.

use redb::{
    ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction,
};

use super::blocks::{BlockStore, HASHES};
use super::error::{db, StoreError};
use crate::chain::{BlockHash, BlockNumber};

/// Block number by block hash (32 bytes).
pub(super) const NUMBERS: TableDefinition<&[u8], u64> = TableDefinition::new("numbers");

/// Creates the table and fills it from `hashes` when it lags behind (an older store).
pub(super) fn backfill(txn: &WriteTransaction) -> Result<(), StoreError> {
    let hashes = txn.open_table(HASHES).map_err(db)?;
    let mut numbers = txn.open_table(NUMBERS).map_err(db)?;
    if numbers.len().map_err(db)? >= hashes.len().map_err(db)? {
        return Ok(());
    }
    for entry in hashes.iter().map_err(db)? {
        let (number, hash) = entry.map_err(db)?;
        numbers.insert(hash.value(), number.value()).map_err(db)?;
    }
    Ok(())
}

/// Drops the entries of blocks above `to` (rollback), reading their hashes before they go.
pub(super) fn remove_above(txn: &WriteTransaction, to: BlockNumber) -> Result<(), StoreError> {
    let hashes = txn.open_table(HASHES).map_err(db)?;
    let mut numbers = txn.open_table(NUMBERS).map_err(db)?;
    for entry in hashes.range(to.saturating_add(1)..).map_err(db)? {
        let (_, hash) = entry.map_err(db)?;
        numbers.remove(hash.value()).map_err(db)?;
    }
    Ok(())
}

impl BlockStore {
    /// The number of the stored block with hash `hash`, if any.
    pub fn number_of(&self, hash: &BlockHash) -> Result<Option<BlockNumber>, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(NUMBERS).map_err(db)?;
        let found = table.get(hash.as_bytes().as_slice()).map_err(db)?;
        Ok(found.map(|v| v.value()))
    }
}
