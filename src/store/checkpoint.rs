//! A store that starts at a trusted checkpoint instead of genesis. The `meta` table's
//! `anchor` entry (number u64 BE then 32-byte hash) says which block the empty store accepts
//! first: that number, with that hash, its parent unchecked. Blocks below it are never held,
//! so range reads for them come back empty and the sync server answers them as not found.

use redb::{ReadableTable, Table};

use super::blocks::META;
use super::error::{db, StoreError};
use super::BlockStore;
use crate::chain::{BlockHash, BlockNumber, Checkpoint};

const ANCHOR_KEY: &str = "anchor";

/// Reads the anchor entry, if any.
pub(super) fn read_anchor(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Option<Checkpoint>, StoreError> {
    let Some(value) = meta.get(ANCHOR_KEY).map_err(db)? else {
        return Ok(None);
    };
    let value = value.value();
    if value.len() != 40 {
        return Err(StoreError::Corrupt("anchor entry is not 40 bytes".into()));
    }
    Ok(Some(Checkpoint {
        number: u64::from_be_bytes(value[..8].try_into().expect("8 bytes")),
        hash: BlockHash(value[8..].try_into().expect("32 bytes")),
    }))
}

fn write_anchor(
    meta: &mut Table<'_, &'static str, &'static [u8]>,
    cp: &Checkpoint,
) -> Result<(), StoreError> {
    let mut value = cp.number.to_be_bytes().to_vec();
    value.extend_from_slice(cp.hash.as_bytes());
    meta.insert(ANCHOR_KEY, value.as_slice()).map_err(db)?;
    Ok(())
}

impl BlockStore {
    /// Makes `cp` the chain's start: an empty store accepts block `cp.number` with hash
    /// `cp.hash` first. A store that already holds history keeps it if `cp` agrees with it
    /// (same anchor, or block `cp.number` held with that hash) and refuses `cp` otherwise.
    pub fn set_checkpoint(&self, cp: Checkpoint) -> Result<(), StoreError> {
        if self.head().is_some() {
            return self.check_against_history(&cp, self.history_from());
        }
        let _writer = self.writer.lock().expect("writer lock poisoned");
        let txn = self.db.begin_write().map_err(db)?;
        {
            let mut meta = txn.open_table(META).map_err(db)?;
            match read_anchor(&meta)? {
                None => write_anchor(&mut meta, &cp)?,
                Some(a) if a == cp => {}
                Some(a) => return Err(contradiction(&cp, a.number, a.hash)),
            }
        }
        txn.commit().map_err(db)?;
        *self.anchor.write().expect("anchor lock poisoned") = Some(cp);
        Ok(())
    }

    fn check_against_history(&self, cp: &Checkpoint, first: BlockNumber) -> Result<(), StoreError> {
        match self.hash(cp.number)? {
            Some(held) if held == cp.hash => Ok(()),
            Some(held) => Err(contradiction(cp, cp.number, held)),
            None => Err(StoreError::Checkpoint(format!(
                "checkpoint {cp} is outside the stored chain (blocks {first} to {}); remove the data directory to start from the checkpoint",
                self.head().map_or(0, |h| h.0)
            ))),
        }
    }

    /// The first block this store holds or will hold: the checkpoint's number, else 0.
    pub fn history_from(&self) -> BlockNumber {
        self.checkpoint().map_or(0, |cp| cp.number)
    }

    /// The checkpoint the chain starts at, if any.
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        *self.anchor.read().expect("anchor lock poisoned")
    }
}

fn contradiction(cp: &Checkpoint, number: BlockNumber, held: BlockHash) -> StoreError {
    StoreError::Checkpoint(format!(
        "checkpoint {cp} contradicts the stored chain: block {number} is 0x{held}"
    ))
}
