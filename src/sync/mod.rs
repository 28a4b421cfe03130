//! Block sync over libp2p streams: the wire contract, the server that answers peers, the
//! client that asks them, and the five-stage pipeline a non-feeder relay syncs with. Six
//! components travel: the header, the four bodies and the block's contract classes.
//!
//! Protocol ids are `/wharf/<network>/sync/<component>/1.0.0`; the messages are in
//! `proto/wharf/sync/v1/sync.proto` and the exchange is documented in `proto/README.md`.

pub mod announce;
pub mod bridge;
pub mod budget;
pub mod classes;
pub mod client;
pub mod config;
pub mod discovery;
pub mod head;
pub mod limits;
pub mod metrics;
pub mod pipeline;
pub mod report;
pub mod server;
pub mod source;
pub mod starknet;
pub mod wire;

/// Messages generated from `proto/wharf/sync/v1/sync.proto`.
#[allow(missing_docs, clippy::all)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/wharf.sync.v1.rs"));
}

use bytes::Bytes;
use libp2p::StreamProtocol;

use crate::chain::{BlockNumber, Component};
use proto::{sync_response::Message as Body, Fin, FinReason, Item, SyncResponse};

pub use bridge::{ChainVerifier, CheckedHeader};
pub use client::{fetch, FetchError};
pub use config::{FetchConfig, PipelineConfig, SyncConfig, SyncProtocol, SyncServerConfig};
pub use head::{ask_head, head_protocol_id, serve_head, HeadError, HeadSource};
pub use limits::{NoAddresses, PeerAddresses};
pub use metrics::SyncMetrics;
pub use pipeline::{BlockSink, BlockVerifier, PipelineError, SyncPipeline, VerifiedBlock};
pub use report::{NoopReporter, PeerReport, PeerReporter};
pub use server::{SyncServer, SyncServerError};
pub use source::{BlockSource, MemorySource};

/// The protocol id of `component`'s sync protocol on `network`.
pub fn protocol_id(network: &str, component: Component) -> StreamProtocol {
    let id = format!("/wharf/{network}/sync/{}/1.0.0", component.name());
    StreamProtocol::try_from_owned(id).expect("starts with a slash")
}

/// A response message carrying one block's component.
pub fn item(block_number: BlockNumber, data: Bytes) -> SyncResponse {
    SyncResponse {
        message: Some(Body::Item(Item { block_number, data })),
    }
}

/// The response message that ends a stream.
pub fn fin(reason: FinReason, missing_block: BlockNumber) -> SyncResponse {
    let fin = Fin {
        reason: reason as i32,
        missing_block,
    };
    SyncResponse {
        message: Some(Body::Fin(fin)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    /// The bytes documented in `proto/README.md`: a change here breaks other implementations.
    #[test]
    fn wire_bytes_match_the_documented_example() {
        let request = proto::SyncRequest {
            start_block: 5,
            limit: 2,
            step: 1,
        };
        assert_eq!(
            request.encode_length_delimited_to_vec(),
            [6, 0x08, 5, 0x10, 2, 0x18, 1]
        );
        let end = fin(FinReason::Complete, 0).encode_length_delimited_to_vec();
        assert_eq!(end, [4, 0x12, 2, 0x08, 1]);
    }

    #[test]
    fn protocol_ids_follow_the_documented_scheme() {
        let id = protocol_id("devnet", Component::StateDiffs);
        assert_eq!(id.as_ref(), "/wharf/devnet/sync/state-diffs/1.0.0");
    }
}
