//! The five Starknet sync protocols: their ids, message size limits, the stored parts each
//! reads, and how each block becomes its response messages (already framed).

use bytes::Bytes;
use libp2p::StreamProtocol;
use prost::Message;

use super::map::{self, MapError};
use super::proto::starknet::common::Fin;
use super::proto::starknet::sync::class::{classes_response, ClassesResponse};
use super::proto::starknet::sync::event::{events_response, EventsResponse};
use super::proto::starknet::sync::header::{block_headers_response, BlockHeadersResponse};
use super::proto::starknet::sync::state::{state_diffs_response, StateDiffsResponse};
use super::proto::starknet::sync::transaction::{transactions_response, TransactionsResponse};
use crate::chain::{BlockHash, Component};

/// Largest response message: 1 MiB, a class 4 MiB (the specs' limits).
pub const MAX_MESSAGE: usize = 1 << 20;
/// Largest `ClassesResponse` message.
pub const MAX_CLASS_MESSAGE: usize = 4 << 20;

/// One of Starknet's sync protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `/starknet/headers/0.1.0-rc.0`: `SignedBlockHeader` per block.
    Headers,
    /// `/starknet/state_diffs/0.1.0-rc.0`: `ContractDiff`s and `DeclaredClass`es.
    StateDiffs,
    /// `/starknet/classes/0.1.0-rc.0`: the classes each block declares.
    Classes,
    /// `/starknet/transactions/0.1.0-rc.0`: `TransactionWithReceipt` per transaction.
    Transactions,
    /// `/starknet/events/0.1.0-rc.0`: every event.
    Events,
}

impl Protocol {
    /// All five, in the specs' order.
    pub const ALL: [Protocol; 5] = [
        Protocol::Headers,
        Protocol::StateDiffs,
        Protocol::Classes,
        Protocol::Transactions,
        Protocol::Events,
    ];

    /// The name in the protocol id.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Headers => "headers",
            Protocol::StateDiffs => "state_diffs",
            Protocol::Classes => "classes",
            Protocol::Transactions => "transactions",
            Protocol::Events => "events",
        }
    }

    /// `/starknet/<name>/0.1.0-rc.0`, the id Pathfinder, Juno, Madara and Apollo negotiate.
    pub fn id(self) -> StreamProtocol {
        let id = format!("/starknet/{}/0.1.0-rc.0", self.name());
        StreamProtocol::try_from_owned(id).expect("starts with a slash")
    }

    /// The `protocol` label of `wharf_sync_requests_total` (`starknet_headers`, ...).
    pub fn label(self) -> &'static str {
        match self {
            Protocol::Headers => "starknet_headers",
            Protocol::StateDiffs => "starknet_state_diffs",
            Protocol::Classes => "starknet_classes",
            Protocol::Transactions => "starknet_transactions",
            Protocol::Events => "starknet_events",
        }
    }

    /// Largest message this protocol sends.
    pub fn max_message(self) -> usize {
        match self {
            Protocol::Classes => MAX_CLASS_MESSAGE,
            _ => MAX_MESSAGE,
        }
    }

    /// The stored parts one block's response is made of (the first one tells presence).
    pub fn parts(self) -> &'static [Component] {
        match self {
            Protocol::Headers => &[Component::Headers],
            Protocol::StateDiffs => &[Component::StateDiffs],
            Protocol::Classes => &[Component::Headers, Component::Classes],
            Protocol::Transactions => &[Component::Transactions, Component::Receipts],
            Protocol::Events => &[Component::Events],
        }
    }

    /// The framed `Fin` that ends every response of this protocol.
    pub fn fin(self) -> Bytes {
        let fin = Some(Fin {});
        match self {
            Protocol::Headers => framed(&BlockHeadersResponse {
                header_message: fin.map(block_headers_response::HeaderMessage::Fin),
            }),
            Protocol::StateDiffs => framed(&StateDiffsResponse {
                state_diff_message: fin.map(state_diffs_response::StateDiffMessage::Fin),
            }),
            Protocol::Classes => framed(&ClassesResponse {
                class_message: fin.map(classes_response::ClassMessage::Fin),
            }),
            Protocol::Transactions => framed(&TransactionsResponse {
                transaction_message: fin.map(transactions_response::TransactionMessage::Fin),
            }),
            Protocol::Events => framed(&EventsResponse {
                event_message: fin.map(events_response::EventMessage::Fin),
            }),
        }
    }
}

/// A message with its varint length prefix.
pub fn framed(msg: &impl Message) -> Bytes {
    Bytes::from(msg.encode_length_delimited_to_vec())
}

/// What one block needs from the store: its hash (headers) and the parts in
/// [`Protocol::parts`] order, plus receipts and state diff for a pre-0.13.2 header.
pub struct BlockParts {
    /// The block hash.
    pub hash: BlockHash,
    /// The parts, in [`Protocol::parts`] order.
    pub parts: Vec<Bytes>,
    /// Receipts and state diff, only for a pre-0.13.2 header.
    pub legacy: Option<(Bytes, Bytes)>,
}

/// The framed response messages of one block.
pub fn block_messages(p: Protocol, b: &BlockParts) -> Result<Vec<Bytes>, MapError> {
    let part = |i: usize| b.parts[i].as_ref();
    Ok(match p {
        Protocol::Headers => {
            let mut header = map::header_to_wire(&b.hash, part(0))?;
            if let Some((receipts, diff)) = &b.legacy {
                map::fill_legacy_commitments(&mut header, receipts, diff)?;
            }
            let msg = block_headers_response::HeaderMessage::Header(header);
            vec![framed(&BlockHeadersResponse {
                header_message: Some(msg),
            })]
        }
        Protocol::StateDiffs => map::state_diff_to_wire(part(0))?
            .iter()
            .map(framed)
            .collect(),
        Protocol::Classes => map::classes_to_wire(part(1))?
            .into_iter()
            .map(|c| {
                framed(&ClassesResponse {
                    class_message: Some(classes_response::ClassMessage::Class(c)),
                })
            })
            .collect(),
        Protocol::Transactions => map::transactions_to_wire(part(0), part(1))?
            .into_iter()
            .map(|t| {
                let msg = transactions_response::TransactionMessage::TransactionWithReceipt(t);
                framed(&TransactionsResponse {
                    transaction_message: Some(msg),
                })
            })
            .collect(),
        Protocol::Events => map::events_to_wire(part(0))?
            .into_iter()
            .map(|e| {
                framed(&EventsResponse {
                    event_message: Some(events_response::EventMessage::Event(e)),
                })
            })
            .collect(),
    })
}
