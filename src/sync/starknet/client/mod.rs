//! Wharf as a client of Starknet's own sync protocols: fetches one component of a range of
//! blocks from a peer that speaks `/starknet/<name>/0.1.0-rc.0` (Juno, Pathfinder, Madara,
//! Apollo, or a Wharf relay) and hands the pipeline Wharf's stored parts, so the same verifier,
//! blaming and retrying apply.
//!
//! The Starknet streams carry no block boundaries (except for headers): a block's
//! transactions, events and state-diff items are counted by its header, its events are grouped
//! by its transactions' hashes and its classes are those its state diff declares. So a body is
//! asked for only once the parts it is split by are there ([`needs`]); those parts (headers,
//! transactions, state diffs) are verified as soon as they arrive ([`WireCheck`]), so a body
//! split by them is never split wrongly and no honest peer is blamed for another's lie. The
//! `transactions` protocol yields transactions and receipts: each of the two is asked on it.

mod exchange;
mod split;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use bytes::Bytes;
use libp2p::{PeerId, StreamProtocol};
use libp2p_stream::Control;

use crate::chain::{BlockNumber, Component};
use crate::sync::client::FetchError;
use crate::sync::config::FetchConfig;

pub use exchange::{MAX_CLASS_MESSAGE, MAX_MESSAGE};

/// The protocol id a component is fetched on (receipts travel with transactions).
pub fn protocol_id(component: Component) -> StreamProtocol {
    StreamProtocol::new(match component {
        Component::Headers => "/starknet/headers/0.1.0-rc.0",
        Component::Transactions | Component::Receipts => "/starknet/transactions/0.1.0-rc.0",
        Component::Events => "/starknet/events/0.1.0-rc.0",
        Component::StateDiffs => "/starknet/state_diffs/0.1.0-rc.0",
        Component::Classes => "/starknet/classes/0.1.0-rc.0",
    })
}

/// The components whose (verified) parts a component's Starknet response is split by.
pub fn needs(component: Component) -> &'static [Component] {
    match component {
        Component::Headers => &[],
        Component::Transactions | Component::Receipts | Component::StateDiffs => {
            &[Component::Headers]
        }
        Component::Events => &[Component::Headers, Component::Transactions],
        Component::Classes => &[Component::Headers, Component::StateDiffs],
    }
}

/// The parts of the requested blocks already fetched and verified, one per block, in
/// `Component::ALL` order (empty where not fetched yet).
#[derive(Debug, Clone, Default)]
pub struct Hints {
    /// Per component (index in `Component::ALL`): the stored part of every requested block.
    pub parts: [Vec<Bytes>; 6],
}

impl Hints {
    /// The stored `component` parts of the requested blocks; `Err` when the pipeline asked too
    /// early (a bug, not the peer's fault).
    pub fn of(&self, component: Component, blocks: usize) -> Result<&[Bytes], FetchError> {
        let part = &self.parts[crate::sync::source::component_index(component)];
        match part.len() == blocks {
            true => Ok(part),
            false => Err(FetchError::Open(format!(
                "{component} of the range not fetched yet"
            ))),
        }
    }
}

/// What peers announced over identify, for `sync.protocol = "auto"`.
pub trait PeerProtocols: Send + Sync + 'static {
    /// Whether `peer` announced Wharf's sync protocols; `None` when not identified yet.
    fn speaks_wharf(&self, peer: &PeerId) -> Option<bool>;
}

/// Whether to fetch from `peer` over the Starknet protocols under `protocol`: always for
/// `starknet`, never for `wharf`; for `auto`, unless identify listed Wharf's protocols (a peer
/// not identified yet, or without a protocol list to ask, gets Wharf's).
pub fn uses_starknet(
    protocol: crate::sync::SyncProtocol,
    protocols: Option<&dyn PeerProtocols>,
    peer: &PeerId,
) -> bool {
    use crate::sync::SyncProtocol;
    match protocol {
        SyncProtocol::Wharf => false,
        SyncProtocol::Starknet => true,
        SyncProtocol::Auto => protocols.and_then(|p| p.speaks_wharf(peer)) == Some(false),
    }
}

/// Verification of parts as they arrive (the pipeline's verifier behind it).
pub trait WireCheck: Send + Sync + 'static {
    /// Checks a stored header alone: canonical form, number and signature.
    fn header(&self, number: BlockNumber, header: &Bytes) -> Result<(), String>;
    /// Checks a body part against its block's (already checked) header.
    fn body(
        &self,
        number: BlockNumber,
        header: &Bytes,
        component: Component,
        body: &Bytes,
    ) -> Result<(), String>;
}

/// Fetches `component` of blocks `start..start + limit` from `peer` over the Starknet
/// protocols. Returns fewer blocks only when the peer ended with `Fin` at a block it lacks.
#[allow(clippy::too_many_arguments)]
pub async fn fetch(
    control: &mut Control,
    peer: PeerId,
    component: Component,
    start: BlockNumber,
    limit: u64,
    hints: &Hints,
    check: Arc<dyn WireCheck>,
    cfg: &FetchConfig,
) -> Result<Vec<(BlockNumber, Bytes)>, FetchError> {
    let range = split::Range { start, limit };
    let run = async {
        let mut io = open(control, peer, component, cfg).await?;
        let parts = split::exchange(&mut io, component, range, hints, &check, cfg).await?;
        if component != Component::Headers || split::pending(&parts).is_empty() {
            return Ok(parts);
        }
        let mut io = open(control, peer, Component::StateDiffs, cfg).await?;
        split::legacy(&mut io, start, parts, &check, cfg).await
    };
    tokio::time::timeout(cfg.request_timeout, run)
        .await
        .map_err(|_| FetchError::Timeout(cfg.request_timeout))?
}

/// Opens `component`'s protocol to `peer` within the open timeout.
async fn open(
    control: &mut Control,
    peer: PeerId,
    component: Component,
    cfg: &FetchConfig,
) -> Result<futures::io::BufReader<libp2p::Stream>, FetchError> {
    let opening = control.open_stream(peer, protocol_id(component));
    match tokio::time::timeout(cfg.open_timeout, opening).await {
        Ok(Ok(stream)) => Ok(futures::io::BufReader::with_capacity(64 * 1024, stream)),
        Ok(Err(e)) => Err(FetchError::Open(e.to_string())),
        Err(_) => Err(FetchError::Open(format!(
            "not open within {:?}",
            cfg.open_timeout
        ))),
    }
}
