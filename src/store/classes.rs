//! The content-addressed class store inside `blocks.redb`: `class_definitions` maps a class
//! hash (32 bytes) to its definition, one copy per hash however many blocks bring it; the
//! `classes` table maps a block number to its class list (the hashes, 32 bytes each), written
//! only for blocks that bring classes. Both are written in the block's own write transaction,
//! so a crash leaves a block with all its classes or neither.

use bytes::Bytes;
use redb::{ReadableDatabase, ReadableTable, Table, TableDefinition};

use super::blocks::HASHES;
use super::error::{db, StoreError};
use super::BlockStore;
use crate::chain::classes::{bundle_slices, encode_bundle, encode_list};
use crate::chain::{BlockNumber, ClassEntry, ClassHash, Component};

/// Class hash -> definition.
pub(super) const DEFINITIONS: TableDefinition<&[u8], &[u8]> =
    TableDefinition::new("class_definitions");

/// Block number -> class list; the table of [`Component::Classes`].
pub(super) fn lists() -> TableDefinition<'static, u64, &'static [u8]> {
    TableDefinition::new(Component::Classes.name())
}

/// Writes block `number`'s class bundle: new definitions, then its list. An entry with an empty
/// definition must already be stored (the feeder's way of saying "not fetched again").
pub(super) fn write(
    definitions: &mut Table<'_, &'static [u8], &'static [u8]>,
    lists: &mut Table<'_, u64, &'static [u8]>,
    number: BlockNumber,
    bundle: &[u8],
) -> Result<(), StoreError> {
    let entries = bundle_slices(bundle)
        .map_err(|e| StoreError::Corrupt(format!("class bundle of block {number}: {e}")))?;
    if entries.is_empty() {
        return Ok(());
    }
    for (hash, definition) in &entries {
        let stored = definitions.get(hash.as_slice()).map_err(db)?.is_some();
        match (stored, definition.is_empty()) {
            (true, _) => {}
            (false, false) => {
                definitions
                    .insert(hash.as_slice(), *definition)
                    .map_err(db)?;
            }
            (false, true) => return Err(StoreError::MissingClass(hex::encode(hash))),
        }
    }
    let list = encode_list(entries.iter().map(|(hash, _)| *hash));
    lists.insert(number, list.as_slice()).map_err(db)?;
    Ok(())
}

/// Block `number`'s class bundle (empty when it brings none), definitions included.
pub(super) fn bundle(
    definitions: &impl ReadableTable<&'static [u8], &'static [u8]>,
    lists: &impl ReadableTable<u64, &'static [u8]>,
    number: BlockNumber,
) -> Result<Bytes, StoreError> {
    let Some(list) = lists.get(number).map_err(db)? else {
        return Ok(Bytes::new());
    };
    let mut entries = Vec::new();
    for hash in list.value().chunks(32) {
        let hash: ClassHash = hash
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("class list of block {number}")))?;
        let definition = definition(definitions, &hash)?
            .ok_or_else(|| StoreError::Corrupt(format!("block {number} lacks a class")))?;
        entries.push(ClassEntry { hash, definition });
    }
    Ok(encode_bundle(&entries))
}

/// One stored definition.
pub(super) fn definition(
    definitions: &impl ReadableTable<&'static [u8], &'static [u8]>,
    hash: &ClassHash,
) -> Result<Option<Bytes>, StoreError> {
    let value = definitions.get(hash.as_slice()).map_err(db)?;
    Ok(value.map(|v| Bytes::copy_from_slice(v.value())))
}

impl BlockStore {
    /// The stored definition of class `hash`, as the gateway served it.
    pub fn class(&self, hash: &ClassHash) -> Result<Option<Bytes>, StoreError> {
        let result = (|| {
            let txn = self.db.begin_read().map_err(db)?;
            definition(&txn.open_table(DEFINITIONS).map_err(db)?, hash)
        })();
        self.metrics.observe("blocks", "class", result.is_err());
        result
    }

    /// Whether class `hash` is stored (so the feeder never fetches it again).
    pub fn has_class(&self, hash: &ClassHash) -> Result<bool, StoreError> {
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(DEFINITIONS).map_err(db)?;
        let found = table.get(hash.as_slice()).map_err(db)?.is_some();
        Ok(found)
    }

    /// The class bundles of blocks `start..start + limit`, in one read transaction, stopping
    /// at the first block not stored (like [`BlockStore::range`]).
    pub(super) fn class_range(
        &self,
        start: BlockNumber,
        limit: u64,
    ) -> Result<Vec<Bytes>, StoreError> {
        let result = (|| {
            let txn = self.db.begin_read().map_err(db)?;
            let hashes = txn.open_table(HASHES).map_err(db)?;
            let definitions = txn.open_table(DEFINITIONS).map_err(db)?;
            let lists = txn.open_table(lists()).map_err(db)?;
            let mut out = Vec::new();
            for number in start..start.saturating_add(limit) {
                if hashes.get(number).map_err(db)?.is_none() {
                    break;
                }
                out.push(bundle(&definitions, &lists, number)?);
            }
            Ok(out)
        })();
        self.metrics
            .observe("blocks", "class_range", result.is_err());
        result
    }
}
