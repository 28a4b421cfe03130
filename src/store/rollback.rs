//! `wharf store rollback --to N`: the operator's way out when the upstream reorganised past the
//! relay's head (a feeder then refuses every new block, which no longer links to its head).
//! Deletes every block above N in one transaction and makes N the head; the feeder re-fetches
//! from N + 1 on its next start. Works on the file alone, with the relay stopped.

use std::path::Path;

use redb::{Database, ReadableTable, TableDefinition, WriteTransaction};

use super::blocks::{table, BLOCKS_FILE, HASHES, HEAD_KEY, META};
use super::error::{db, StoreError};
use crate::chain::{BlockHash, BlockNumber, Component};

/// What a rollback did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolledBack {
    /// The head before.
    pub from: BlockNumber,
    /// The new head and its hash.
    pub to: BlockNumber,
    /// Its hash.
    pub hash: BlockHash,
}

/// Rolls the store in `data_dir` back to block `to` (which must be stored, at or below the head).
pub fn rollback(data_dir: &Path, to: BlockNumber) -> Result<RolledBack, StoreError> {
    let path = data_dir.join(BLOCKS_FILE);
    if !path.exists() {
        return Err(StoreError::Corrupt(format!(
            "no block store at {}",
            path.display()
        )));
    }
    let database = Database::create(&path).map_err(db)?;
    let txn = database.begin_write().map_err(db)?;
    let hash = stored_hash(&txn, to)?;
    super::numbers::remove_above(&txn, to)?;
    let mut from = to;
    for def in [HASHES].into_iter().chain(Component::ALL.map(table)) {
        from = from.max(truncate_above(&txn, def, to)?);
    }
    let mut value = to.to_be_bytes().to_vec();
    value.extend_from_slice(hash.as_bytes());
    txn.open_table(META)
        .map_err(db)?
        .insert(HEAD_KEY, value.as_slice())
        .map_err(db)?;
    txn.commit().map_err(db)?;
    Ok(RolledBack { from, to, hash })
}

fn stored_hash(txn: &WriteTransaction, number: BlockNumber) -> Result<BlockHash, StoreError> {
    let hashes = txn.open_table(HASHES).map_err(db)?;
    let value = hashes.get(number).map_err(db)?;
    let value =
        value.ok_or_else(|| StoreError::Corrupt(format!("block {number} is not stored")))?;
    let bytes: [u8; 32] = value
        .value()
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("hash of block {number} is not 32 bytes")))?;
    Ok(BlockHash(bytes))
}

/// Deletes every entry above `to`; returns the highest key seen (or `to`).
fn truncate_above(
    txn: &WriteTransaction,
    def: TableDefinition<'static, u64, &'static [u8]>,
    to: BlockNumber,
) -> Result<BlockNumber, StoreError> {
    let mut t = txn.open_table(def).map_err(db)?;
    let mut highest = to;
    loop {
        let last = t.last().map_err(db)?.map(|(k, _)| k.value());
        match last {
            Some(k) if k > to => {
                highest = highest.max(k);
                t.remove(k).map_err(db)?;
            }
            _ => return Ok(highest),
        }
    }
}
