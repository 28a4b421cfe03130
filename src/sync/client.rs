//! Asks one peer for one component of a range of blocks and checks the answer's shape.
//!
//! The client trusts nothing: block numbers must be exactly those requested, in order, at most
//! `limit` of them, the response must end with an explicit, consistent `Fin`, and nothing may
//! follow it. Content is checked later by the pipeline's verifier.

use std::time::Duration;

use bytes::Bytes;
use futures::io::{AsyncRead, AsyncReadExt, BufReader};
use libp2p::{PeerId, Stream};
use libp2p_stream::{Control, OpenStreamError};

use crate::chain::{BlockNumber, Component};
use crate::sync::budget::Held;
use crate::sync::classes::ClassReader;
use crate::sync::config::FetchConfig;
use crate::sync::metrics::Outcome;
use crate::sync::proto::{
    sync_response::Message as Body, Fin, FinReason, Item, SyncRequest, SyncResponse,
};
use crate::sync::protocol_id;
use crate::sync::report::PeerReport;
use crate::sync::wire::{self, WireError};

/// Read buffer: lets many small frames arrive with few transport reads.
const READ_BUFFER: usize = 64 * 1024;

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The stream could not be opened (not connected, dial failed, protocol unsupported).
    #[error("cannot open stream: {0}")]
    Open(String),
    /// Framing, decoding, i/o or per-message timeout failure.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The whole request took longer than its deadline.
    #[error("request not finished within {0:?}")]
    Timeout(Duration),
    /// An item for a block other than the next one requested.
    #[error("expected block {expected}, got {got}")]
    UnexpectedBlock {
        /// Next block number that was due.
        expected: BlockNumber,
        /// Block number received.
        got: BlockNumber,
    },
    /// More items than the request's limit.
    #[error("more items than the {0} requested")]
    TooManyItems(u64),
    /// The stream ended before any response message. Not held against the peer:
    /// libp2p-stream drops inbound streams its application cannot take fast enough.
    #[error("stream closed before any response")]
    NoResponse,
    /// The stream ended without a `Fin` after some items.
    #[error("stream ended without Fin")]
    MissingFin,
    /// A `Fin` inconsistent with the items sent (or an unknown reason).
    #[error("inconsistent Fin: {0}")]
    BadFin(String),
    /// Bytes after the `Fin`.
    #[error("data after Fin")]
    DataAfterFin,
    /// Classes that break the classes protocol's rules (or a `Class` on another protocol).
    #[error("bad classes: {0}")]
    BadClasses(String),
    /// The server refused the request (limits, busy, bad request); nothing was sent.
    #[error("refused by server: {0:?}")]
    Refused(FinReason),
    /// The response's items add up to more than `max_response_bytes`.
    #[error("response over {0} bytes (sync.client.max_response_bytes)")]
    TooLarge(usize),
    /// The shared byte budget had no room left for this response (retried later).
    #[error(transparent)]
    Budget(#[from] crate::sync::budget::Exhausted),
    /// A Starknet-protocol message that cannot be mapped to Wharf's parts: a required field
    /// missing, a value out of range, items that do not add up to the blocks' counts.
    #[error("unmappable Starknet message: {0}")]
    Mapping(String),
    /// Starknet-protocol data that failed verification as soon as it arrived (headers, and
    /// the transactions and state diffs other parts are split by).
    #[error("invalid data: {0}")]
    Invalid(String),
}

impl FetchError {
    /// What to report about the peer, when the failure is its fault.
    pub fn kind(&self) -> Option<PeerReport> {
        match self {
            FetchError::Wire(WireError::Truncated | WireError::Decode(_))
            | FetchError::Mapping(_) => Some(PeerReport::Malformed),
            FetchError::Invalid(_) => Some(PeerReport::InvalidData),
            FetchError::Wire(WireError::Oversized { .. }) | FetchError::TooLarge(_) => {
                Some(PeerReport::Oversized)
            }
            FetchError::Wire(WireError::Timeout(_)) | FetchError::Timeout(_) => {
                Some(PeerReport::Timeout)
            }
            FetchError::UnexpectedBlock { .. }
            | FetchError::MissingFin
            | FetchError::BadFin(_)
            | FetchError::BadClasses(_) => Some(PeerReport::ProtocolViolation),
            FetchError::TooManyItems(_) => Some(PeerReport::TooManyItems),
            FetchError::DataAfterFin => Some(PeerReport::DataAfterFin),
            FetchError::Open(_)
            | FetchError::NoResponse
            | FetchError::Wire(WireError::Io(_))
            | FetchError::Refused(_)
            | FetchError::Budget(_) => None,
        }
    }

    /// The request's `outcome` metrics label.
    pub fn outcome(&self) -> Outcome {
        match self {
            FetchError::Wire(WireError::Timeout(_)) | FetchError::Timeout(_) => Outcome::Timeout,
            FetchError::Refused(_) => Outcome::Refused,
            _ => Outcome::Error,
        }
    }
}

/// A parsed request: which blocks, in which order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Range {
    pub(crate) start: BlockNumber,
    pub(crate) limit: u64,
    pub(crate) step: u64,
}

impl Range {
    /// Block number of the `i`-th item.
    pub(crate) fn nth(&self, i: u64) -> BlockNumber {
        self.start.wrapping_add(i.wrapping_mul(self.step))
    }
}

/// Fetches `component` of blocks `start, start+step, ...` (at most `limit`) from `peer`.
///
/// Returns fewer than `limit` items only when the peer ended with `Fin{NOT_FOUND}` at the next
/// missing block. Each error's [`FetchError::kind`] says what to report about the peer.
#[allow(clippy::too_many_arguments)]
pub async fn fetch(
    control: &mut Control,
    peer: PeerId,
    network: &str,
    component: Component,
    start: BlockNumber,
    limit: u64,
    step: u64,
    cfg: &FetchConfig,
) -> Result<Vec<(BlockNumber, Bytes)>, FetchError> {
    let range = Range { start, limit, step };
    let run = async {
        let stream = open(control, peer, network, component, cfg).await?;
        exchange(stream, component, range, cfg).await
    };
    tokio::time::timeout(cfg.request_timeout, run)
        .await
        .map_err(|_| FetchError::Timeout(cfg.request_timeout))?
}

/// Opens the protocol's stream to `peer` within the open timeout.
async fn open(
    control: &mut Control,
    peer: PeerId,
    network: &str,
    component: Component,
    cfg: &FetchConfig,
) -> Result<Stream, FetchError> {
    let opening = control.open_stream(peer, protocol_id(network, component));
    match tokio::time::timeout(cfg.open_timeout, opening).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(OpenStreamError::UnsupportedProtocol(p))) => {
            Err(FetchError::Open(format!("unsupported {p}")))
        }
        Ok(Err(e)) => Err(FetchError::Open(e.to_string())),
        Err(_) => Err(FetchError::Open(format!(
            "not open within {:?}",
            cfg.open_timeout
        ))),
    }
}

/// Sends the request, then reads and checks the response.
async fn exchange(
    stream: Stream,
    component: Component,
    range: Range,
    cfg: &FetchConfig,
) -> Result<Vec<(BlockNumber, Bytes)>, FetchError> {
    let mut io = BufReader::with_capacity(READ_BUFFER, stream);
    let request = SyncRequest {
        start_block: range.start,
        limit: range.limit,
        step: range.step,
    };
    wire::write_message(&mut io, &request, &mut Vec::new(), cfg.idle_timeout).await?;
    wire::close(&mut io, cfg.idle_timeout).await?;
    read_response(&mut io, component, range, cfg).await
}

/// Reads and checks a whole response to `range` from any reader (the fuzz targets feed bytes).
/// On the classes protocol a [`ClassReader`] takes the `Class` messages and rebuilds each
/// block's bundle.
pub(crate) async fn read_response<R: AsyncRead + Unpin>(
    io: &mut R,
    component: Component,
    range: Range,
    cfg: &FetchConfig,
) -> Result<Vec<(BlockNumber, Bytes)>, FetchError> {
    let classes = (component == Component::Classes).then(|| ClassReader::new(cfg.max_message_size));
    let items = read_items(io, range, cfg, classes).await?;
    expect_end(io, cfg.idle_timeout).await?;
    Ok(items)
}

/// Reads items until the `Fin`, checking numbers, count and the `Fin` itself.
async fn read_items<R: AsyncRead + Unpin>(
    io: &mut R,
    range: Range,
    cfg: &FetchConfig,
    mut classes: Option<ClassReader>,
) -> Result<Vec<(BlockNumber, Bytes)>, FetchError> {
    let mut items = Vec::with_capacity(range.limit.min(1024) as usize);
    let (mut held, mut total) = (Held::default(), 0usize);
    loop {
        let msg: Option<SyncResponse> =
            wire::read_message(io, cfg.max_message_size, cfg.idle_timeout).await?;
        match (msg.and_then(|m| m.message), classes.as_mut()) {
            (Some(Body::Item(mut item)), reader) => {
                if let Some(reader) = reader {
                    item.data = reader.on_item(&item.data).map_err(FetchError::BadClasses)?;
                }
                total = total.saturating_add(item.data.len());
                if total > cfg.max_response_bytes {
                    return Err(FetchError::TooLarge(cfg.max_response_bytes));
                }
                let budget = cfg.max_bytes_in_flight;
                cfg.budget.take(budget, item.data.len(), &mut held).await?;
                push_item(&mut items, item, range)?
            }
            (Some(Body::Class(class)), Some(reader)) => {
                reader.on_class(class).map_err(FetchError::BadClasses)?
            }
            (Some(Body::Class(_)), None) => {
                return Err(FetchError::BadClasses("a class on another protocol".into()))
            }
            (Some(Body::Fin(fin)), reader) => {
                if let Some(reader) = reader {
                    reader.finish().map_err(FetchError::BadClasses)?;
                }
                return check_fin(items, &fin, range);
            }
            (None, _) if items.is_empty() => return Err(FetchError::NoResponse),
            (None, _) => return Err(FetchError::MissingFin),
        }
    }
}

/// Accepts `item` if it is the next block requested.
fn push_item(
    items: &mut Vec<(BlockNumber, Bytes)>,
    item: Item,
    range: Range,
) -> Result<(), FetchError> {
    let i = items.len() as u64;
    if i >= range.limit {
        return Err(FetchError::TooManyItems(range.limit));
    }
    let expected = range.nth(i);
    if item.block_number != expected {
        return Err(FetchError::UnexpectedBlock {
            expected,
            got: item.block_number,
        });
    }
    items.push((item.block_number, item.data));
    Ok(())
}

/// Checks that the `Fin` agrees with what was sent.
fn check_fin(
    items: Vec<(BlockNumber, Bytes)>,
    fin: &Fin,
    range: Range,
) -> Result<Vec<(BlockNumber, Bytes)>, FetchError> {
    let sent = items.len() as u64;
    let reason = FinReason::try_from(fin.reason).unwrap_or(FinReason::Unspecified);
    match reason {
        FinReason::Complete if sent == range.limit => Ok(items),
        FinReason::NotFound if sent < range.limit && fin.missing_block == range.nth(sent) => {
            Ok(items)
        }
        FinReason::LimitExceeded
        | FinReason::RateLimited
        | FinReason::Busy
        | FinReason::BadRequest
            if sent == 0 =>
        {
            Err(FetchError::Refused(reason))
        }
        _ => Err(FetchError::BadFin(format!(
            "{reason:?} after {sent} of {} items",
            range.limit
        ))),
    }
}

/// After `Fin` the server must close: any further byte is data after `Fin`.
pub(crate) async fn expect_end<R: AsyncRead + Unpin>(
    io: &mut R,
    timeout: Duration,
) -> Result<(), FetchError> {
    let mut byte = [0u8; 1];
    match tokio::time::timeout(timeout, io.read(&mut byte)).await {
        Ok(Ok(n)) if n > 0 => Err(FetchError::DataAfterFin),
        _ => Ok(()),
    }
}
