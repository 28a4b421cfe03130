//! The classes verified blocks bring: which ones (the adapter's [`ClassNeeds`] against the store),
//! fetched from the gateway (`get_class_by_hash`, same client, concurrency, rate-limit and
//! timeout rules as the blocks), each verified against its hash, then attached to its block as a
//! class bundle. A class already stored, or brought by an earlier block of the batch, is never
//! fetched again; a block is handed on only when all its classes are there and verified.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use futures::StreamExt;

use super::{FeederDeps, FeederError};
use crate::chain::classes::encode_bundle;
use crate::chain::{BlockNumber, ClassEntry, ClassHash, VerifiedBlock, VerifyError};

/// A block's class list, and which of its classes are to be fetched.
struct Plan {
    /// Per block: its class hashes, in order.
    lists: Vec<Vec<ClassHash>>,
    /// Classes to fetch, each with the first block that brings it.
    fetch: Vec<(ClassHash, BlockNumber)>,
}

/// Attaches to each of `blocks` (verified, consecutive) its class bundle. Returns the prefix
/// whose classes are all there and verified, and the error that ended it.
pub(super) async fn attach(
    deps: &FeederDeps,
    concurrency: usize,
    mut blocks: Vec<VerifiedBlock>,
) -> (Vec<VerifiedBlock>, Option<FeederError>) {
    let (plan, mut error) = plan(deps, &blocks);
    blocks.truncate(plan.lists.len());
    let (fetched, fetch_error) = fetch(deps, concurrency, &plan.fetch).await;
    let mut verified = match verify(deps, fetched).await {
        Ok(verified) => verified,
        Err(e) => return (Vec::new(), Some(e)),
    };
    verified.wanted = plan.fetch.iter().map(|(hash, _)| *hash).collect();
    let mut out = Vec::with_capacity(blocks.len());
    for (mut block, list) in blocks.into_iter().zip(plan.lists) {
        match bundle(&list, &verified) {
            Ok(classes) => block.classes = classes,
            Err(missing) => {
                let failure = verified.failure(block.number(), &missing);
                error = failure.or(fetch_error.map(FeederError::Gateway)).or(error);
                return (out, error);
            }
        }
        out.push(block);
    }
    (out, error)
}

/// Decides each block's class list from its state diff and the store.
fn plan(deps: &FeederDeps, blocks: &[VerifiedBlock]) -> (Plan, Option<FeederError>) {
    let mut plan = Plan {
        lists: Vec::with_capacity(blocks.len()),
        fetch: Vec::new(),
    };
    let mut brought: HashSet<ClassHash> = HashSet::new();
    for block in blocks {
        match block_list(deps, block, &mut brought, &mut plan.fetch) {
            Ok(list) => plan.lists.push(list),
            Err(e) => return (plan, Some(e)),
        }
    }
    (plan, None)
}

/// One block's class list: its declared classes, and its deployed classes nobody brought yet.
fn block_list(
    deps: &FeederDeps,
    block: &VerifiedBlock,
    brought: &mut HashSet<ClassHash>,
    fetch: &mut Vec<(ClassHash, BlockNumber)>,
) -> Result<Vec<ClassHash>, FeederError> {
    let number = block.number();
    let needs = deps
        .adapter
        .class_needs(&block.bodies)
        .map_err(|source| FeederError::Verify { number, source })?;
    let mut list = needs.declared.clone();
    for hash in needs.deployed {
        if !brought.contains(&hash) && !deps.store.has_class(&hash)? {
            list.push(hash);
        }
    }
    for hash in &list {
        if brought.insert(*hash) && !deps.store.has_class(hash)? {
            fetch.push((*hash, number));
        }
    }
    Ok(list)
}

/// Fetches `wanted` with bounded concurrency, in order, up to the first failure.
async fn fetch(
    deps: &FeederDeps,
    concurrency: usize,
    wanted: &[(ClassHash, BlockNumber)],
) -> (
    Vec<(ClassHash, BlockNumber, Bytes)>,
    Option<super::FetchError>,
) {
    let upstream = &deps.upstream;
    let mut stream = futures::stream::iter(wanted.iter().copied())
        .map(|(hash, number)| async move {
            let definition = upstream.class(&hash, number).await?;
            Ok::<_, super::FetchError>((hash, number, definition))
        })
        .buffered(concurrency.max(1));
    let mut out = Vec::with_capacity(wanted.len());
    while let Some(result) = stream.next().await {
        match result {
            Ok(class) => out.push(class),
            Err(e) => return (out, Some(e)),
        }
    }
    (out, None)
}

/// The fetched classes that verified, and the first refusal per block.
#[derive(Default)]
struct Verified {
    /// Every class that was to be fetched.
    wanted: HashSet<ClassHash>,
    good: HashMap<ClassHash, Bytes>,
    refused: HashMap<ClassHash, (BlockNumber, VerifyError)>,
}

impl Verified {
    /// Why block `number` cannot have class `hash`: it was refused, else not fetched (None).
    fn failure(&self, number: BlockNumber, hash: &ClassHash) -> Option<FeederError> {
        let (_, source) = self.refused.get(hash)?;
        Some(FeederError::Verify {
            number,
            source: source.clone(),
        })
    }
}

/// Recomputes every fetched class hash on a blocking thread.
async fn verify(
    deps: &FeederDeps,
    fetched: Vec<(ClassHash, BlockNumber, Bytes)>,
) -> Result<Verified, FeederError> {
    let adapter = deps.adapter.clone();
    let verified = tokio::task::spawn_blocking(move || {
        let mut out = Verified::default();
        for (hash, number, definition) in fetched {
            match adapter.verify_class(&hash, &definition) {
                Ok(()) => drop(out.good.insert(hash, definition)),
                Err(e) => drop(out.refused.insert(hash, (number, e))),
            }
        }
        out
    })
    .await?;
    Ok(verified)
}

/// The class bundle of a block whose list is `list`: fetched classes with their definition,
/// stored ones with none. `Err`: a class that was to be fetched and was refused or not fetched.
fn bundle(list: &[ClassHash], verified: &Verified) -> Result<Bytes, ClassHash> {
    let mut entries = Vec::with_capacity(list.len());
    for hash in list {
        let definition = match verified.good.get(hash) {
            Some(definition) => definition.clone(),
            None if verified.wanted.contains(hash) => return Err(*hash),
            None => Bytes::new(),
        };
        entries.push(ClassEntry {
            hash: *hash,
            definition,
        });
    }
    Ok(encode_bundle(&entries))
}
