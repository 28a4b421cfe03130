//! The content-addressed class store inside `blocks.redb`: `class_definitions` maps a class
//! hash (32 bytes) to its definition, one copy per hash however many blocks bring it; the
//! `classes` table maps a block number to its class list (the hashes, 32 bytes each), written
//! only for blocks that bring classes. Both are written in the block's own write transaction,
//! so a crash leaves a block with all its classes or neither.
//!
//! Definitions are stored LZ4-compressed (block format, uncompressed size prepended, `lz4_flex`:
//! pure Rust, no dependencies): classes are JSON and shrink 5.6× (the 16 fixture classes, 4.2 MB,
//! with `lz4 -1`; the `compression_pays_on_real_classes` test checks at least 4×), and LZ4
//! decompresses far faster than any disk reads.

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
                let packed = lz4_flex::compress_prepend_size(definition);
                definitions
                    .insert(hash.as_slice(), packed.as_slice())
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
    value.map(|v| unpack(v.value())).transpose()
}

/// A stored definition, decompressed.
fn unpack(stored: &[u8]) -> Result<Bytes, StoreError> {
    lz4_flex::decompress_size_prepended(stored)
        .map(Bytes::from)
        .map_err(|e| StoreError::Corrupt(format!("class definition: {e}")))
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

#[cfg(test)]
mod tests {
    /// Every class fixture shrinks at least 4× in total, and comes back byte for byte.
    #[test]
    fn compression_pays_on_real_classes() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/starknet/classes"
        );
        let (mut raw, mut packed) = (0, 0);
        for network in std::fs::read_dir(dir).unwrap() {
            let network = network.unwrap().path();
            if !network.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(network).unwrap() {
                let bytes = std::fs::read(file.unwrap().path()).unwrap();
                let stored = lz4_flex::compress_prepend_size(&bytes);
                assert_eq!(super::unpack(&stored).unwrap(), bytes);
                raw += bytes.len();
                packed += stored.len();
            }
        }
        eprintln!("{raw} bytes of classes stored as {packed}");
        assert!(raw > 1_000_000 && packed * 4 < raw, "{raw} -> {packed}");
    }
}
