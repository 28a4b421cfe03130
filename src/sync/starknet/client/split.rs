//! One Starknet exchange per component: the request, the response read in full, then the
//! items split into blocks (by the counts of their verified headers, transactions or state
//! diffs) and mapped to Wharf's stored parts.

use std::sync::Arc;

use bytes::Bytes;
use futures::io::{AsyncRead, AsyncWrite};
use serde_json::Value;

use super::exchange::{read_all, send_request, Response, MAX_CLASS_MESSAGE, MAX_MESSAGE};
use super::{Hints, WireCheck};
use crate::chain::classes::{encode_bundle, parse_class_hash, ClassEntry, ClassHash};
use crate::chain::starknet::{legacy_state_diff_commitment, parse_felt, Felt, StarknetHeader};
use crate::chain::{BlockNumber, Component};
use crate::sync::client::FetchError;
use crate::sync::config::FetchConfig;
use crate::sync::starknet::map::from_wire::{header_forms, with_signed_commitment};
use crate::sync::starknet::map::from_wire_block::{diff_items, events, state_diff, to_bytes};
use crate::sync::starknet::map::{from_wire_class, from_wire_tx, MapError};
use crate::sync::starknet::proto::starknet::sync as ps;
use ps::common::{iteration, Iteration};

/// The blocks asked for: `limit` consecutive blocks from `start`.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub start: BlockNumber,
    pub limit: u64,
}

type Parts = Vec<(BlockNumber, Bytes)>;

fn iteration(range: Range) -> Option<Iteration> {
    Some(Iteration {
        start: Some(iteration::Start::BlockNumber(range.start)),
        direction: iteration::Direction::Forward as i32,
        limit: range.limit,
        step: 1,
    })
}

fn mapping(e: MapError) -> FetchError {
    FetchError::Mapping(e.to_string())
}

/// Asks for `component` of `range` and returns the stored parts of the blocks received.
pub async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    component: Component,
    range: Range,
    hints: &Hints,
    check: &Arc<dyn WireCheck>,
    cfg: &FetchConfig,
) -> Result<Parts, FetchError> {
    let (iteration, n) = (iteration(range), range.limit as usize);
    if component == Component::Headers {
        send_request(io, &ps::header::BlockHeadersRequest { iteration }, cfg).await?;
        let items = read_all::<ps::header::BlockHeadersResponse, _>(io, MAX_MESSAGE, n, cfg);
        let items = items.await?;
        return blocking(check, move |c| headers(items, range, c)).await;
    }
    let raw = hints.of(Component::Headers, n)?.to_vec();
    let headers = header_counts(&raw)?;
    let count = |f: fn(&StarknetHeader) -> u32| -> Vec<u64> {
        headers.iter().map(|h| u64::from(f(h))).collect()
    };
    match component {
        Component::Headers => unreachable!("answered above"),
        Component::Transactions | Component::Receipts => {
            let request = ps::transaction::TransactionsRequest { iteration };
            let counts = count(|h| h.transaction_count);
            let blocks = ask::<ps::transaction::TransactionsResponse, _>(
                io,
                &request,
                MAX_MESSAGE,
                counts,
                |_| 1,
                cfg,
            );
            let blocks = blocks.await?;
            blocking(check, move |c| {
                transactions(blocks, component, range, &raw, c)
            })
            .await
        }
        Component::Events => {
            let request = ps::event::EventsRequest { iteration };
            let counts = count(|h| h.event_count);
            let blocks =
                ask::<ps::event::EventsResponse, _>(io, &request, MAX_MESSAGE, counts, |_| 1, cfg);
            grouped_events(blocks.await?, hints.of(Component::Transactions, n)?, range)
        }
        Component::StateDiffs => {
            let request = ps::state::StateDiffsRequest { iteration };
            let lengths = count(|h| h.state_diff_length);
            let blocks = ask::<ps::state::StateDiffsResponse, _>(
                io,
                &request,
                MAX_MESSAGE,
                lengths,
                diff_items,
                cfg,
            );
            let blocks = blocks.await?;
            blocking(check, move |c| state_diffs(blocks, range, &raw, c)).await
        }
        Component::Classes => {
            let request = ps::class::ClassesRequest { iteration };
            classes(
                io,
                &request,
                hints.of(Component::StateDiffs, n)?,
                range,
                cfg,
            )
            .await
        }
    }
}

/// Events, grouped per transaction by the block's (verified) transactions.
fn grouped_events(
    blocks: Vec<Vec<ps::event::Event>>,
    txs: &[Bytes],
    range: Range,
) -> Result<Parts, FetchError> {
    let grouped = blocks.iter().zip(txs).map(|(block, txs)| {
        let hashes = tx_hashes(txs)?;
        let grouped = events(block, &hashes).map_err(mapping)?;
        Ok(to_bytes(&grouped))
    });
    numbered(range, grouped.collect::<Result<Vec<_>, FetchError>>()?)
}

/// Classes, as many per block as its (verified) state diff declares.
async fn classes<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    request: &ps::class::ClassesRequest,
    diffs: &[Bytes],
    range: Range,
    cfg: &FetchConfig,
) -> Result<Parts, FetchError> {
    let declared = diffs.iter().map(declared).collect::<Result<Vec<_>, _>>()?;
    let counts = declared.iter().map(|d| d.len() as u64).collect();
    let blocks =
        ask::<ps::class::ClassesResponse, _>(io, request, MAX_CLASS_MESSAGE, counts, |_| 1, cfg);
    let blocks = blocks.await?;
    let bundles = blocks.iter().zip(&declared).map(|(b, d)| bundle(b, d));
    numbered(range, bundles.collect::<Result<Vec<_>, _>>()?)
}

/// Sends `request`, reads the whole response and splits its items into blocks whose weights
/// add up to `totals`.
async fn ask<M: Response, S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    request: &impl prost::Message,
    max_message: usize,
    totals: Vec<u64>,
    weight: fn(&M::Data) -> u64,
    cfg: &FetchConfig,
) -> Result<Vec<Vec<M::Data>>, FetchError> {
    send_request(io, request, cfg).await?;
    let total = totals.iter().sum::<u64>();
    let items = read_all::<M, _>(io, max_message, total as usize, cfg).await?;
    split(items, totals, weight)
}

/// Runs mapping and early verification on a blocking thread (signatures and hashes).
async fn blocking(
    check: &Arc<dyn WireCheck>,
    f: impl FnOnce(&dyn WireCheck) -> Result<Parts, FetchError> + Send + 'static,
) -> Result<Parts, FetchError> {
    let check = check.clone();
    tokio::task::spawn_blocking(move || f(&*check))
        .await
        .map_err(|e| FetchError::Open(format!("mapping task failed: {e}")))?
}

fn numbered(range: Range, parts: Vec<Bytes>) -> Result<Parts, FetchError> {
    Ok((range.start..).zip(parts).collect())
}

fn header_counts(raw: &[Bytes]) -> Result<Vec<StarknetHeader>, FetchError> {
    raw.iter()
        .map(|b| StarknetHeader::decode(b).map_err(|e| FetchError::Open(e.to_string())))
        .collect()
}

/// Splits `items` into blocks whose weights add up to `totals`, in order. Stops at a block
/// boundary when the items run out (the peer lacks the next block); an item that overshoots a
/// block, or the items ending inside a block, is the peer's fault.
pub(super) fn split<T>(
    items: Vec<T>,
    totals: Vec<u64>,
    weight: fn(&T) -> u64,
) -> Result<Vec<Vec<T>>, FetchError> {
    let mut items = items.into_iter().peekable();
    let mut blocks = Vec::with_capacity(totals.len());
    for (i, total) in totals.into_iter().enumerate() {
        if items.peek().is_none() && total > 0 {
            break;
        }
        let (mut block, mut sum) = (Vec::new(), 0u64);
        while sum < total {
            let Some(item) = items.next() else {
                return Err(FetchError::Mapping(format!(
                    "block {i} of the range cut short"
                )));
            };
            let w = weight(&item);
            if w == 0 {
                return Err(FetchError::Mapping("an empty state-diff message".into()));
            }
            sum += w;
            block.push(item);
        }
        if sum > total {
            return Err(FetchError::Mapping(format!(
                "block {i} of the range overshoots its count"
            )));
        }
        blocks.push(block);
    }
    if items.next().is_some() {
        return Err(FetchError::TooManyItems(blocks.len() as u64));
    }
    Ok(blocks)
}

/// Headers: in order from the start, each in the stored form its signature verifies in. A
/// pre-0.13.2 header verifying in neither form is kept in the plain form and listed as pending:
/// its legacy signature may sign a commitment the wire header does not carry ([`legacy`]).
fn headers(
    items: Vec<ps::header::SignedBlockHeader>,
    range: Range,
    check: &dyn WireCheck,
) -> Result<Parts, FetchError> {
    let mut out = Vec::with_capacity(items.len());
    for (number, h) in (range.start..).zip(items) {
        if h.number != number {
            return Err(FetchError::UnexpectedBlock {
                expected: number,
                got: h.number,
            });
        }
        let mut error = String::new();
        let forms = header_forms(&h).map_err(mapping)?;
        let plain = forms.last().cloned().expect("at least one form");
        let good = forms.into_iter().find(|f| match check.header(number, f) {
            Ok(()) => true,
            Err(e) => {
                error = e;
                false
            }
        });
        match good {
            Some(good) => out.push((number, good)),
            None if is_pre_0_13_2(&plain) => out.push((number, mark_pending(plain))),
            None => return Err(FetchError::Invalid(format!("header {number}: {error}"))),
        }
    }
    Ok(out)
}

/// Prefix of a header kept provisionally (never stored: [`legacy`] replaces or refuses it).
const PENDING: u8 = 0;

fn mark_pending(header: Bytes) -> Bytes {
    let mut out = Vec::with_capacity(header.len() + 1);
    out.push(PENDING);
    out.extend_from_slice(&header);
    Bytes::from(out)
}

/// The provisional headers among headers `parts` (only headers are ever marked).
pub fn pending(parts: &Parts) -> Vec<usize> {
    let marked = |(_, h): &(BlockNumber, Bytes)| h.first() == Some(&PENDING);
    parts
        .iter()
        .enumerate()
        .filter(|(_, p)| marked(p))
        .map(|(i, _)| i)
        .collect()
}

fn is_pre_0_13_2(header: &[u8]) -> bool {
    let version = StarknetHeader::decode(header).and_then(|h| h.version());
    version.is_ok_and(|v| !v.is_poseidon())
}

/// Settles the provisional pre-0.13.2 headers of `parts` with the same peer's state diffs:
/// each is put in the legacy form signing its block's legacy state-diff commitment, and must
/// then verify (else the peer sent a bad header or diff: both were its own).
pub async fn legacy<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    start: BlockNumber,
    mut parts: Parts,
    check: &Arc<dyn WireCheck>,
    cfg: &FetchConfig,
) -> Result<Parts, FetchError> {
    let todo = pending(&parts);
    for i in &todo {
        parts[*i].1 = parts[*i].1.slice(1..);
    }
    let range = Range {
        start,
        limit: parts.len() as u64,
    };
    let mut hints = Hints::default();
    hints.parts[0] = parts.iter().map(|(_, h)| h.clone()).collect();
    let unchecked: Arc<dyn WireCheck> = Arc::new(Unchecked);
    let diffs = exchange(io, Component::StateDiffs, range, &hints, &unchecked, cfg).await?;
    blocking(check, move |c| {
        for i in todo {
            let (number, plain) = &parts[i];
            let diff = diffs.get(i).ok_or_else(|| {
                FetchError::Invalid(format!("header {number}: no state diff to check it by"))
            })?;
            let commitment = legacy_state_diff_commitment(&diff.1)
                .map_err(|e| FetchError::Invalid(format!("state diff {number}: {e}")))?;
            let header = with_signed_commitment(plain, commitment).map_err(mapping)?;
            c.header(*number, &header)
                .map_err(|e| FetchError::Invalid(format!("header {number}: {e}")))?;
            parts[i].1 = header;
        }
        Ok(parts)
    })
    .await
}

/// No early check: the diffs [`legacy`] reads are bound by the signature it then checks.
struct Unchecked;

impl WireCheck for Unchecked {
    fn header(&self, _: BlockNumber, _: &Bytes) -> Result<(), String> {
        Ok(())
    }

    fn body(&self, _: BlockNumber, _: &Bytes, _: Component, _: &Bytes) -> Result<(), String> {
        Ok(())
    }
}

fn transactions(
    blocks: Vec<Vec<ps::transaction::TransactionWithReceipt>>,
    component: Component,
    range: Range,
    headers: &[Bytes],
    check: &dyn WireCheck,
) -> Result<Parts, FetchError> {
    let mut out = Vec::with_capacity(blocks.len());
    for ((number, block), header) in (range.start..).zip(blocks).zip(headers) {
        let mut parts = Vec::with_capacity(block.len());
        for (i, t) in block.iter().enumerate() {
            let (tx, receipt) = from_wire_tx::transaction(t, i as u64).map_err(mapping)?;
            parts.push(if component == Component::Receipts {
                receipt
            } else {
                tx
            });
        }
        let body = to_bytes(&Value::Array(parts));
        if component == Component::Transactions {
            check
                .body(number, header, component, &body)
                .map_err(|e| FetchError::Invalid(format!("block {number}: {e}")))?;
        }
        out.push((number, body));
    }
    Ok(out)
}

fn state_diffs(
    blocks: Vec<Vec<ps::state::state_diffs_response::StateDiffMessage>>,
    range: Range,
    headers: &[Bytes],
    check: &dyn WireCheck,
) -> Result<Parts, FetchError> {
    let mut out = Vec::with_capacity(blocks.len());
    for ((number, block), header) in (range.start..).zip(blocks).zip(headers) {
        let body = to_bytes(&state_diff(&block).map_err(mapping)?);
        check
            .body(number, header, Component::StateDiffs, &body)
            .map_err(|e| FetchError::Invalid(format!("block {number}: {e}")))?;
        out.push((number, body));
    }
    Ok(out)
}

/// The transaction hashes of a block's stored (verified) transactions.
fn tx_hashes(txs: &Bytes) -> Result<Vec<Felt>, FetchError> {
    let local = |what: &str| FetchError::Open(format!("stored transactions: {what}"));
    let list: Vec<Value> = serde_json::from_slice(txs).map_err(|_| local("not a JSON array"))?;
    list.iter()
        .map(|t| {
            let hash = t["transaction_hash"]
                .as_str()
                .ok_or_else(|| local("no hash"))?;
            parse_felt(hash).map_err(local)
        })
        .collect()
}

/// The classes a block's stored (verified) state diff declares: Sierra, then Cairo 0.
fn declared(diff: &Bytes) -> Result<Vec<ClassHash>, FetchError> {
    let local = |what: &str| FetchError::Open(format!("stored state diff: {what}"));
    let diff: Value = serde_json::from_slice(diff).map_err(|_| local("not JSON"))?;
    let sierra = diff["declared_classes"].as_array().into_iter().flatten();
    let sierra = sierra.map(|c| &c["class_hash"]);
    let cairo0 = diff["old_declared_contracts"]
        .as_array()
        .into_iter()
        .flatten();
    sierra
        .chain(cairo0)
        .map(|h| {
            h.as_str()
                .and_then(parse_class_hash)
                .ok_or_else(|| local("class hash"))
        })
        .collect()
}

/// A block's class bundle: exactly its declared classes, in the state diff's order.
fn bundle(
    classes: &[crate::sync::starknet::proto::starknet::class::Class],
    declared: &[ClassHash],
) -> Result<Bytes, FetchError> {
    let mut entries: Vec<ClassEntry> = Vec::with_capacity(declared.len());
    for c in classes {
        let (hash, definition) = from_wire_class::class(c).map_err(mapping)?;
        if !declared.contains(&hash) || entries.iter().any(|e| e.hash == hash) {
            let hex = crate::chain::classes::class_hash_hex(&hash);
            return Err(FetchError::Invalid(format!(
                "class {hex} not declared by its block"
            )));
        }
        entries.push(ClassEntry { hash, definition });
    }
    entries.sort_by_key(|e| declared.iter().position(|d| *d == e.hash));
    Ok(encode_bundle(&entries))
}
