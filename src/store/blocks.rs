//! The redb-backed [`BlockStore`]: one atomic write transaction per commit, one read
//! transaction per range.

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::watch;

use bytes::Bytes;
use redb::{Database, ReadableDatabase, ReadableTable, Table, TableDefinition, WriteTransaction};

use super::checkpoint::read_anchor;
use super::classes;
use super::error::{db, StoreError};
use super::StoreMetrics;
use crate::chain::{Block, BlockHash, BlockNumber, ChainAdapter, Checkpoint, Component, Header};

/// File name of the store inside the data directory.
pub const BLOCKS_FILE: &str = "blocks.redb";

pub(super) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
pub(super) const HASHES: TableDefinition<u64, &[u8]> = TableDefinition::new("hashes");
pub(super) const HEAD_KEY: &str = "head";
const STORE: &str = "blocks";

/// Table of one component (`headers` holds header bytes with signature).
pub(super) fn table(component: Component) -> TableDefinition<'static, u64, &'static [u8]> {
    TableDefinition::new(component.name())
}

/// The last committed block: its number and hash.
pub type Head = Option<(BlockNumber, BlockHash)>;

/// Verified blocks by number. Clone to share: reads are concurrent, commits serialise
/// on one writer.
#[derive(Clone)]
pub struct BlockStore {
    pub(super) db: Arc<Database>,
    adapter: Arc<dyn ChainAdapter>,
    pub(super) metrics: StoreMetrics,
    /// Cached head, updated by the writer after each commit; subscribers see every change.
    head: Arc<watch::Sender<Head>>,
    /// The single writer; held across the whole (synchronous) commit.
    pub(super) writer: Arc<Mutex<()>>,
    /// The trusted checkpoint the chain starts at (`checkpoint.rs`), if any.
    pub(super) anchor: Arc<RwLock<Option<Checkpoint>>>,
}

impl std::fmt::Debug for BlockStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockStore")
            .field("head", &self.head())
            .finish()
    }
}

impl BlockStore {
    /// Opens (or creates) `<data_dir>/blocks.redb`.
    pub fn open(
        data_dir: &Path,
        adapter: Arc<dyn ChainAdapter>,
        metrics: StoreMetrics,
    ) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir)?;
        let result = Self::open_file(&data_dir.join(BLOCKS_FILE), adapter, metrics.clone());
        metrics.observe(STORE, "open", result.is_err());
        result
    }

    fn open_file(
        path: &Path,
        adapter: Arc<dyn ChainAdapter>,
        metrics: StoreMetrics,
    ) -> Result<Self, StoreError> {
        let database = Database::create(path).map_err(db)?;
        let txn = database.begin_write().map_err(db)?;
        create_tables(&txn)?;
        super::numbers::backfill(&txn)?;
        let head = read_head(&txn.open_table(META).map_err(db)?)?;
        let anchor = read_anchor(&txn.open_table(META).map_err(db)?)?;
        txn.commit().map_err(db)?;
        Ok(BlockStore {
            db: Arc::new(database),
            adapter,
            metrics,
            head: Arc::new(watch::Sender::new(head)),
            writer: Arc::new(Mutex::new(())),
            anchor: Arc::new(RwLock::new(anchor)),
        })
    }

    /// The last committed block, if any (cached; no I/O).
    pub fn head(&self) -> Head {
        *self.head.borrow()
    }

    /// Follows the head: the receiver sees each commit (batches as one change).
    pub fn subscribe_head(&self) -> watch::Receiver<Head> {
        self.head.subscribe()
    }

    /// Commits one block atomically; it must directly follow the head. Returns its hash.
    /// The caller has verified the block (see [`ChainAdapter::verify_block`]).
    pub fn commit(&self, block: &Block) -> Result<BlockHash, StoreError> {
        let hash = self.commit_batch(std::slice::from_ref(block))?;
        Ok(hash.expect("one block committed").1)
    }

    /// Commits consecutive blocks in one transaction (all or none); returns the new head.
    /// Lets the sync pipeline amortise the fsync over a chunk.
    pub fn commit_batch(&self, blocks: &[Block]) -> Result<Head, StoreError> {
        let encoded: Vec<(Vec<u8>, BlockHash)> = blocks
            .iter()
            .map(|b| {
                (
                    self.adapter.encode_header(&b.header),
                    self.adapter.block_hash(&b.header),
                )
            })
            .collect();
        let raw: Vec<RawBlock<'_>> = blocks
            .iter()
            .zip(&encoded)
            .map(|(b, (header, hash))| RawBlock {
                number: b.header.number,
                parent_hash: b.header.parent_hash,
                hash: *hash,
                header,
                bodies: b.bodies.each_ref().map(|x| x.as_ref()),
                classes: &b.classes,
            })
            .collect();
        self.commit_raw(&raw)
    }

    /// [`BlockStore::commit_batch`] for blocks already in wire form, with the hash and header
    /// fields their verification produced (the sync pipeline's path: nothing re-encoded or
    /// re-hashed). `header` must be the adapter's encoding of the header that hashes to `hash`.
    pub fn commit_raw(&self, blocks: &[RawBlock<'_>]) -> Result<Head, StoreError> {
        let _writer = self.writer.lock().expect("writer lock poisoned");
        let result = self.write_blocks(blocks);
        self.metrics.observe(STORE, "commit", result.is_err());
        let new_head = result?;
        if new_head.is_some() {
            self.head.send_replace(new_head);
        }
        Ok(new_head)
    }

    fn write_blocks(&self, blocks: &[RawBlock<'_>]) -> Result<Head, StoreError> {
        let txn = self.db.begin_write().map_err(db)?;
        let mut head = read_head(&txn.open_table(META).map_err(db)?)?;
        let anchor = read_anchor(&txn.open_table(META).map_err(db)?)?;
        {
            let mut tables = WriteTables::open(&txn)?;
            for block in blocks {
                head = Some(write_block(&mut tables, head, anchor, block)?);
            }
        }
        if let Some((number, hash)) = head {
            let mut value = number.to_be_bytes().to_vec();
            value.extend_from_slice(hash.as_bytes());
            let mut meta = txn.open_table(META).map_err(db)?;
            meta.insert(HEAD_KEY, value.as_slice()).map_err(db)?;
        }
        txn.commit().map_err(db)?;
        Ok(head)
    }

    /// The hash of block `number`, if stored.
    pub fn hash(&self, number: BlockNumber) -> Result<Option<BlockHash>, StoreError> {
        let bytes = self.read_one("hash", HASHES, number)?;
        bytes
            .map(|b| b.as_ref().try_into().map(BlockHash))
            .transpose()
            .map_err(|_| StoreError::Corrupt(format!("hash of block {number}")))
    }

    /// The decoded header of block `number`, if stored.
    pub fn header(&self, number: BlockNumber) -> Result<Option<Header>, StoreError> {
        let bytes = self.read_one("header", table(Component::Headers), number)?;
        Ok(bytes.map(|b| self.adapter.decode_header(&b)).transpose()?)
    }

    /// Raw bytes of one component of block `number` (header bytes for `Headers`, the class
    /// bundle for `Classes`).
    pub fn body(
        &self,
        number: BlockNumber,
        component: Component,
    ) -> Result<Option<Bytes>, StoreError> {
        if component == Component::Classes {
            return Ok(self.class_range(number, 1)?.pop());
        }
        self.read_one("body", table(component), number)
    }

    /// The whole block `number`, if stored.
    pub fn block(&self, number: BlockNumber) -> Result<Option<Block>, StoreError> {
        let Some(header) = self.header(number)? else {
            return Ok(None);
        };
        let mut bodies: [Bytes; 4] = Default::default();
        for (slot, component) in bodies.iter_mut().zip(crate::chain::BODY_COMPONENTS) {
            *slot = self
                .body(number, component)?
                .ok_or_else(|| StoreError::Corrupt(format!("block {number} lacks {component}")))?;
        }
        let classes = self.body(number, Component::Classes)?.unwrap_or_default();
        Ok(Some(Block {
            header,
            bodies,
            classes,
        }))
    }

    /// Raw bytes of one component for `start..start + limit`, in one read transaction.
    /// Stops at the first missing block, so the result is contiguous from `start`.
    pub fn range(
        &self,
        component: Component,
        start: BlockNumber,
        limit: u64,
    ) -> Result<Vec<Bytes>, StoreError> {
        if component == Component::Classes {
            return self.class_range(start, limit);
        }
        let result = self.read_range(component, start, limit);
        self.metrics.observe(STORE, "range", result.is_err());
        result
    }

    fn read_range(
        &self,
        component: Component,
        start: BlockNumber,
        limit: u64,
    ) -> Result<Vec<Bytes>, StoreError> {
        let end = start.saturating_add(limit);
        let txn = self.db.begin_read().map_err(db)?;
        let table = txn.open_table(table(component)).map_err(db)?;
        let mut out = Vec::with_capacity(limit.min(1024) as usize);
        for (expected, entry) in (start..end).zip(table.range(start..end).map_err(db)?) {
            let (key, value) = entry.map_err(db)?;
            if key.value() != expected {
                break;
            }
            out.push(Bytes::copy_from_slice(value.value()));
        }
        Ok(out)
    }

    fn read_one(
        &self,
        op: &'static str,
        def: TableDefinition<'static, u64, &'static [u8]>,
        number: BlockNumber,
    ) -> Result<Option<Bytes>, StoreError> {
        let result = (|| {
            let txn = self.db.begin_read().map_err(db)?;
            let table = txn.open_table(def).map_err(db)?;
            let value = table.get(number).map_err(db)?;
            Ok(value.map(|v| Bytes::copy_from_slice(v.value())))
        })();
        self.metrics.observe(STORE, op, result.is_err());
        result
    }
}

/// One verified block in wire form, for [`BlockStore::commit_raw`].
#[derive(Debug, Clone, Copy)]
pub struct RawBlock<'a> {
    /// Its height.
    pub number: BlockNumber,
    /// Its parent's hash (checked against the head).
    pub parent_hash: BlockHash,
    /// Its block hash (becomes the head).
    pub hash: BlockHash,
    /// The adapter's header bytes, signature included.
    pub header: &'a [u8],
    /// The four bodies in [`crate::chain::BODY_COMPONENTS`] order.
    pub bodies: [&'a [u8]; 4],
    /// The class bundle ([`crate::chain::classes`]); empty when the block brings none.
    pub classes: &'a [u8],
}

/// Writes one block that follows `head`; returns the new head.
fn write_block(
    tables: &mut WriteTables<'_>,
    head: Head,
    anchor: Option<Checkpoint>,
    block: &RawBlock<'_>,
) -> Result<(BlockNumber, BlockHash), StoreError> {
    match (head, anchor) {
        (None, Some(cp)) => check_anchor(&cp, block)?,
        _ => check_follows(head, block.number, block.parent_hash)?,
    }
    let number = block.number;
    tables.headers.insert(number, block.header).map_err(db)?;
    tables
        .hashes
        .insert(number, block.hash.as_bytes().as_slice())
        .map_err(db)?;
    tables
        .numbers
        .insert(block.hash.as_bytes().as_slice(), number)
        .map_err(db)?;
    for (table, body) in tables.bodies.iter_mut().zip(block.bodies) {
        table.insert(number, body).map_err(db)?;
    }
    classes::write(
        &mut tables.definitions,
        &mut tables.class_lists,
        number,
        block.classes,
    )?;
    Ok((number, block.hash))
}

fn create_tables(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(META).map_err(db)?;
    txn.open_table(HASHES).map_err(db)?;
    txn.open_table(classes::DEFINITIONS).map_err(db)?;
    for component in Component::ALL {
        txn.open_table(table(component)).map_err(db)?;
    }
    Ok(())
}

type BytesTable<'txn> = Table<'txn, u64, &'static [u8]>;

/// The tables a commit writes, opened once per transaction.
struct WriteTables<'txn> {
    headers: BytesTable<'txn>,
    hashes: BytesTable<'txn>,
    numbers: Table<'txn, &'static [u8], u64>,
    bodies: [BytesTable<'txn>; 4],
    definitions: Table<'txn, &'static [u8], &'static [u8]>,
    class_lists: BytesTable<'txn>,
}

impl<'txn> WriteTables<'txn> {
    fn open(txn: &'txn WriteTransaction) -> Result<Self, StoreError> {
        let open = |def| txn.open_table(def).map_err(db);
        let [t, r, e, s] = crate::chain::BODY_COMPONENTS.map(table);
        Ok(WriteTables {
            headers: open(table(Component::Headers))?,
            hashes: open(HASHES)?,
            numbers: txn.open_table(super::numbers::NUMBERS).map_err(db)?,
            bodies: [open(t)?, open(r)?, open(e)?, open(s)?],
            definitions: txn.open_table(classes::DEFINITIONS).map_err(db)?,
            class_lists: open(classes::lists())?,
        })
    }
}

fn read_head(meta: &impl ReadableTable<&'static str, &'static [u8]>) -> Result<Head, StoreError> {
    let Some(value) = meta.get(HEAD_KEY).map_err(db)? else {
        return Ok(None);
    };
    let value = value.value();
    if value.len() != 40 {
        return Err(StoreError::Corrupt("head entry is not 40 bytes".into()));
    }
    let number = u64::from_be_bytes(value[..8].try_into().expect("8 bytes"));
    let hash = BlockHash(value[8..].try_into().expect("32 bytes"));
    Ok(Some((number, hash)))
}

/// The first block of a checkpointed chain: the checkpoint's number and hash (its parent is
/// trusted through the operator's checkpoint, not checked).
fn check_anchor(cp: &Checkpoint, block: &RawBlock<'_>) -> Result<(), StoreError> {
    if block.number != cp.number {
        return Err(StoreError::NotContiguous {
            expected: cp.number,
            got: block.number,
        });
    }
    if block.hash != cp.hash {
        return Err(StoreError::Checkpoint(format!(
            "block {} has hash 0x{}, not the checkpoint's 0x{}",
            block.number, block.hash, cp.hash
        )));
    }
    Ok(())
}

/// Refuses a block that is not the direct child of `head`.
fn check_follows(
    head: Head,
    number: BlockNumber,
    parent_hash: BlockHash,
) -> Result<(), StoreError> {
    let (expected, parent) = match head {
        Some((n, hash)) => (n + 1, hash),
        None => (0, BlockHash::ZERO),
    };
    if number != expected {
        return Err(StoreError::NotContiguous {
            expected,
            got: number,
        });
    }
    if parent_hash != parent {
        return Err(StoreError::ParentMismatch {
            number,
            expected: parent,
            actual: parent_hash,
        });
    }
    Ok(())
}
