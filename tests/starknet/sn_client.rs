//! A Starknet sync client written only from `proto/starknet/` (the generated prost messages)
//! and the specs' exchange rules, with its own framing: the request unprefixed, our write side
//! closed, then varint-prefixed responses read to the end of the stream, exactly one `Fin` last.

use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use libp2p::{PeerId, StreamProtocol};
use libp2p_stream::Control;
use prost::Message;
use wharf::sync::starknet::proto::starknet::common::Hash;
use wharf::sync::starknet::proto::starknet::sync::class::{
    classes_response, ClassesRequest, ClassesResponse,
};
use wharf::sync::starknet::proto::starknet::sync::common::{iteration, Iteration};
use wharf::sync::starknet::proto::starknet::sync::event::{
    events_response, EventsRequest, EventsResponse,
};
use wharf::sync::starknet::proto::starknet::sync::header::{
    block_headers_response, BlockHeadersRequest, BlockHeadersResponse,
};
use wharf::sync::starknet::proto::starknet::sync::state::{
    state_diffs_response, StateDiffsRequest, StateDiffsResponse,
};
use wharf::sync::starknet::proto::starknet::sync::transaction::{
    transactions_response, TransactionsRequest, TransactionsResponse,
};

pub use wharf::sync::starknet::proto::starknet::class::Class;
pub use wharf::sync::starknet::proto::starknet::sync::event::Event;
pub use wharf::sync::starknet::proto::starknet::sync::header::SignedBlockHeader;
pub use wharf::sync::starknet::proto::starknet::sync::state::state_diffs_response::StateDiffMessage;
pub use wharf::sync::starknet::proto::starknet::sync::transaction::TransactionWithReceipt;

const DEADLINE: Duration = Duration::from_secs(30);

/// Where an iteration starts.
#[derive(Clone, Copy)]
pub enum From {
    Number(u64),
    Hash([u8; 32]),
}

/// An `Iteration` message.
pub fn iteration(from: From, backward: bool, limit: u64, step: u64) -> Iteration {
    let start = match from {
        From::Number(n) => iteration::Start::BlockNumber(n),
        From::Hash(h) => iteration::Start::Header(Hash {
            elements: h.to_vec(),
        }),
    };
    let direction = match backward {
        true => iteration::Direction::Backward,
        false => iteration::Direction::Forward,
    };
    Iteration {
        start: Some(start),
        direction: direction as i32,
        limit,
        step,
    }
}

/// Sends `request` (unprefixed) on a new stream of `protocol`, closes our side, returns every
/// byte the server sent until it closed.
pub async fn exchange(
    control: &mut Control,
    peer: PeerId,
    protocol: &str,
    request: &[u8],
) -> Vec<u8> {
    let protocol = StreamProtocol::try_from_owned(protocol.to_string()).unwrap();
    let mut stream = control.open_stream(peer, protocol).await.unwrap();
    stream.write_all(request).await.unwrap();
    stream.close().await.unwrap();
    let mut reply = Vec::new();
    let read = tokio::time::timeout(DEADLINE, stream.read_to_end(&mut reply)).await;
    read.expect("the server closes the stream").unwrap();
    reply
}

/// Splits a response into its messages (LEB128 length, then the message).
pub fn frames(mut bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (mut len, mut shift) = (0usize, 0);
        loop {
            let b = bytes[0];
            bytes = &bytes[1..];
            len |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        assert!(
            len <= bytes.len(),
            "a frame runs past the end of the stream"
        );
        out.push(&bytes[..len]);
        bytes = &bytes[len..];
    }
    out
}

/// Decodes every frame as `M`; asserts that exactly the last one is a `Fin`; returns the rest.
fn data<M: Message + Default, T>(reply: &[u8], split: impl Fn(M) -> Option<T>) -> Vec<T> {
    let frames = frames(reply);
    assert!(!frames.is_empty(), "no Fin at all");
    let mut out = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        let msg = M::decode(*frame).expect("each frame decodes");
        match (split(msg), i + 1 == frames.len()) {
            (Some(item), false) => out.push(item),
            (None, true) => {}
            (Some(_), true) => panic!("the stream does not end with Fin"),
            (None, false) => panic!("a Fin before the end (message {i} of {})", frames.len()),
        }
    }
    out
}

/// A client speaking to one peer.
pub struct Client {
    pub control: Control,
    pub peer: PeerId,
    /// The client's swarm, kept running as long as the client lives.
    pub _node: wharf::bench::BenchNode,
}

impl Client {
    pub async fn headers(&mut self, it: Iteration) -> Vec<SignedBlockHeader> {
        let req = BlockHeadersRequest {
            iteration: Some(it),
        }
        .encode_to_vec();
        let reply = exchange(
            &mut self.control,
            self.peer,
            "/starknet/headers/0.1.0-rc.0",
            &req,
        )
        .await;
        data(&reply, |m: BlockHeadersResponse| {
            match m.header_message.expect("set") {
                block_headers_response::HeaderMessage::Header(h) => Some(h),
                block_headers_response::HeaderMessage::Fin(_) => None,
            }
        })
    }

    pub async fn transactions(&mut self, it: Iteration) -> Vec<TransactionWithReceipt> {
        let req = TransactionsRequest {
            iteration: Some(it),
        }
        .encode_to_vec();
        let reply = exchange(
            &mut self.control,
            self.peer,
            "/starknet/transactions/0.1.0-rc.0",
            &req,
        )
        .await;
        data(&reply, |m: TransactionsResponse| {
            match m.transaction_message.expect("set") {
                transactions_response::TransactionMessage::TransactionWithReceipt(t) => Some(t),
                transactions_response::TransactionMessage::Fin(_) => None,
            }
        })
    }

    pub async fn events(&mut self, it: Iteration) -> Vec<Event> {
        let req = EventsRequest {
            iteration: Some(it),
        }
        .encode_to_vec();
        let reply = exchange(
            &mut self.control,
            self.peer,
            "/starknet/events/0.1.0-rc.0",
            &req,
        )
        .await;
        data(&reply, |m: EventsResponse| {
            match m.event_message.expect("set") {
                events_response::EventMessage::Event(e) => Some(e),
                events_response::EventMessage::Fin(_) => None,
            }
        })
    }

    pub async fn state_diffs(&mut self, it: Iteration) -> Vec<StateDiffMessage> {
        let req = StateDiffsRequest {
            iteration: Some(it),
        }
        .encode_to_vec();
        let reply = exchange(
            &mut self.control,
            self.peer,
            "/starknet/state_diffs/0.1.0-rc.0",
            &req,
        )
        .await;
        data(&reply, |m: StateDiffsResponse| {
            match m.state_diff_message.expect("set") {
                state_diffs_response::StateDiffMessage::Fin(_) => None,
                other => Some(other),
            }
        })
    }

    pub async fn classes(&mut self, it: Iteration) -> Vec<Class> {
        let req = ClassesRequest {
            iteration: Some(it),
        }
        .encode_to_vec();
        let reply = exchange(
            &mut self.control,
            self.peer,
            "/starknet/classes/0.1.0-rc.0",
            &req,
        )
        .await;
        data(&reply, |m: ClassesResponse| {
            match m.class_message.expect("set") {
                classes_response::ClassMessage::Class(c) => Some(c),
                classes_response::ClassMessage::Fin(_) => None,
            }
        })
    }
}
