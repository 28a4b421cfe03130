//! The `classes` component on the wire (`proto/README.md`, "Classes"): before a block's item
//! the server sends each class the block brings that the stream has not carried yet, one
//! `Class` message per definition (so the message limit bounds one class, not one block); the
//! item lists the block's class hashes. The client rebuilds each block's class bundle.
//!
//! Devnet blocks bring no classes: every item is empty and no `Class` message is ever sent.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use futures::io::AsyncWrite;

use crate::chain::classes::{bundle_slices, decode_list, encode_bundle, encode_list};
use crate::chain::{BlockNumber, ClassEntry, ClassHash, Component};
use crate::sync::metrics::SyncMetrics;
use crate::sync::proto::{sync_response::Message as Body, Class, SyncResponse};
use crate::sync::wire::{self, WireError};

/// Upper bound of a class message's size beyond its definition (tags, lengths, the hash).
const CLASS_OVERHEAD: usize = 64;

/// What a client holds of one stream's classes, as a multiple of the message limit: classes
/// not yet listed by an item (one block's worth), and all classes of the stream.
const PENDING_FACTOR: usize = 4;
const STREAM_FACTOR: usize = 32;

/// Server side: writes the classes and items of `items` (block number, class bundle from the
/// store), at most `limit` blocks. Returns how many blocks were served; stops before a block
/// with a class over `max_message_size`.
pub async fn write_items<W: AsyncWrite + Unpin>(
    io: &mut W,
    items: Vec<(BlockNumber, Bytes)>,
    limit: u64,
    max_message_size: usize,
    timeout: Duration,
    metrics: &SyncMetrics,
) -> Result<u64, WireError> {
    let mut sent: HashSet<ClassHash> = HashSet::new();
    let mut buf = Vec::new();
    let mut served = 0;
    for (number, bundle) in items.into_iter().take(limit as usize) {
        let Ok(entries) = bundle_slices(&bundle) else {
            tracing::warn!(number, "stored class bundle does not decode; not served");
            break;
        };
        if entries
            .iter()
            .any(|(_, d)| d.len() + CLASS_OVERHEAD > max_message_size)
        {
            tracing::warn!(number, "a class exceeds max_message_size; not served");
            break;
        }
        let mut bytes = 0;
        for (hash, definition) in &entries {
            if sent.insert(*hash) {
                let msg = class_message(hash, bundle.slice_ref(definition));
                bytes += definition.len();
                wire::write_message(io, &msg, &mut buf, timeout).await?;
            }
        }
        let list = encode_list(entries.iter().map(|(h, _)| *h));
        metrics.served(Component::Classes, bytes + list.len());
        let msg = crate::sync::item(number, Bytes::from(list));
        wire::write_message(io, &msg, &mut buf, timeout).await?;
        served += 1;
    }
    Ok(served)
}

fn class_message(hash: &ClassHash, definition: Bytes) -> SyncResponse {
    SyncResponse {
        message: Some(Body::Class(Class {
            class_hash: hash.to_vec().into(),
            definition,
        })),
    }
}

/// Client side: collects a stream's classes and turns each item's class list into the block's
/// class bundle. Every error is the server's fault (a protocol violation).
#[derive(Debug)]
pub struct ClassReader {
    received: HashMap<ClassHash, Bytes>,
    /// Received but not yet listed by an item, in arrival order.
    pending: Vec<ClassHash>,
    pending_bytes: usize,
    stream_bytes: usize,
    max_pending: usize,
    max_stream: usize,
}

impl ClassReader {
    /// A reader for one stream whose messages are at most `max_message_size` bytes.
    pub fn new(max_message_size: usize) -> Self {
        ClassReader {
            received: HashMap::new(),
            pending: Vec::new(),
            pending_bytes: 0,
            stream_bytes: 0,
            max_pending: max_message_size.saturating_mul(PENDING_FACTOR),
            max_stream: max_message_size.saturating_mul(STREAM_FACTOR),
        }
    }

    /// A `Class` message: a new, non-empty definition under a 32-byte hash.
    pub fn on_class(&mut self, class: Class) -> Result<(), String> {
        let hash: ClassHash = class
            .class_hash
            .as_ref()
            .try_into()
            .map_err(|_| format!("class hash of {} bytes, not 32", class.class_hash.len()))?;
        if class.definition.is_empty() {
            return Err("empty class definition".into());
        }
        if self.received.contains_key(&hash) {
            return Err("class sent twice on one stream".into());
        }
        self.pending_bytes += class.definition.len();
        self.stream_bytes += class.definition.len();
        if self.pending_bytes > self.max_pending || self.stream_bytes > self.max_stream {
            return Err("too many class bytes on one stream".into());
        }
        self.pending.push(hash);
        self.received.insert(hash, class.definition);
        Ok(())
    }

    /// An item: its class list must name only classes this stream carried, and every class sent
    /// since the previous item. Returns the block's class bundle.
    pub fn on_item(&mut self, data: &[u8]) -> Result<Bytes, String> {
        let list = decode_list(data).map_err(|e| e.to_string())?;
        let mut entries = Vec::with_capacity(list.len());
        for hash in list {
            let definition = self
                .received
                .get(&hash)
                .ok_or("item lists a class the stream did not carry")?;
            entries.push(ClassEntry {
                hash,
                definition: definition.clone(),
            });
        }
        if let Some(unlisted) = self
            .pending
            .iter()
            .find(|p| !entries.iter().any(|e| e.hash == **p))
        {
            let hex = crate::chain::classes::class_hash_hex(unlisted);
            return Err(format!("class {hex} sent but not listed by the next item"));
        }
        self.pending.clear();
        self.pending_bytes = 0;
        Ok(encode_bundle(&entries))
    }

    /// The stream ended: no class may be left unlisted.
    pub fn finish(&self) -> Result<(), String> {
        match self.pending.is_empty() {
            true => Ok(()),
            false => Err("classes sent after the last item".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(byte: u8, def: &'static [u8]) -> Class {
        Class {
            class_hash: Bytes::from(vec![byte; 32]),
            definition: Bytes::from_static(def),
        }
    }

    #[test]
    fn a_shared_class_is_listed_again_without_being_resent() {
        let mut reader = ClassReader::new(1024);
        reader.on_class(class(1, b"one")).unwrap();
        let first = reader.on_item(&[1; 32]).unwrap();
        let second = reader.on_item(&[1; 32]).unwrap();
        assert_eq!(first, second);
        assert_eq!(reader.on_item(&[]).unwrap(), Bytes::new());
        reader.finish().unwrap();
    }

    #[test]
    fn protocol_violations_are_refused() {
        let mut reader = ClassReader::new(1024);
        assert!(reader.on_item(&[7; 32]).is_err(), "never carried");
        assert!(reader.on_class(class(1, b"")).is_err(), "empty");
        reader.on_class(class(1, b"one")).unwrap();
        assert!(reader.on_class(class(1, b"one")).is_err(), "twice");
        assert!(reader.finish().is_err(), "left unlisted");
        assert!(reader.on_item(&[]).is_err(), "sent but not listed");
        let mut small = ClassReader::new(1);
        assert!(
            small.on_class(class(2, b"12345")).is_err(),
            "over the bound"
        );
    }
}
