//! Fuzz targets of Starknet: the feeder-gateway JSON mappers, the canonical header, the body
//! parsers under a real header, and the Starknet P2P messages.

use std::fmt::Debug;

use bytes::Bytes;
use prost::Message;

use super::chain::check_block;
use super::{check_header, parts, starknet_adapter};
use crate::chain::starknet::{StarknetAdapter, StarknetHeader};
use crate::chain::{Block, ChainAdapter, VerifyError, BODY_COMPONENTS};
use crate::sync::starknet::proto::starknet::sync::{class, event, header, state, transaction};

/// `get_block`, `get_state_update` and `get_signature` answers separated by `0xff`: mapped as
/// the feeder maps them; a mapped block survives the store's round trip and verifies (or not)
/// without panicking, with the Sepolia key, else the Sepolia-integration key.
pub fn starknet_gateway(data: &[u8]) {
    let Some([block, update, signature]) = parts::<3>(data) else {
        return;
    };
    let sepolia = starknet_adapter("sepolia");
    let Ok(block) = sepolia.block_from_gateway(block, update, signature) else {
        return;
    };
    let encoded = sepolia.encode_header(&block.header);
    check_header("starknet", sepolia.as_ref(), &encoded);
    check_block(
        "starknet",
        sepolia.as_ref(),
        &crate::chain::wire::encode_block(sepolia.as_ref(), &block),
    );
    let _ = sepolia.parse_block(&block);
    if sepolia.verify_block(&block, None) == Err(VerifyError::BadSignature) {
        let integration = starknet_adapter("sepolia-integration");
        let _ = integration.verify_block(&block, None);
    }
}

/// A canonical Starknet header (what gossip, head answers and the store carry): it re-encodes
/// to a header that decodes the same, and its generic form converts back unchanged.
pub fn starknet_header(data: &[u8]) {
    let Ok(h) = StarknetHeader::decode(data) else {
        return;
    };
    let again = StarknetHeader::decode(&h.encode()).expect("a re-encoded header decodes");
    assert_eq!(again, h, "header changed in a round trip");
    let Ok(generic) = h.to_header() else {
        return;
    };
    let back = StarknetHeader::from_header(&generic).expect("a mapped header maps back");
    assert_eq!(
        back.to_header().as_ref(),
        Ok(&generic),
        "generic header round trip"
    );
    check_header("starknet", starknet_adapter("sepolia").as_ref(), data);
}

/// A header and the four bodies, separated by `0xff`, checked as the sync pipeline does: each
/// body alone, the cross links, and the whole block. A block that verifies has bodies that each
/// verify alone and agree with each other.
pub fn starknet_bodies(data: &[u8]) {
    let Some([header, bodies @ ..]) = parts::<5>(data) else {
        return;
    };
    let adapter = starknet_adapter("sepolia");
    let Ok(header) = adapter.decode_header(header) else {
        return;
    };
    let bodies: [Bytes; 4] = bodies.map(Bytes::copy_from_slice);
    let alone: Vec<bool> = BODY_COMPONENTS
        .iter()
        .zip(&bodies)
        .map(|(c, b)| adapter.verify_body(&header, *c, b).is_ok())
        .collect();
    let links = adapter.verify_cross_links(&bodies).is_ok();
    let block = Block {
        header,
        bodies,
        classes: Bytes::new(),
    };
    let _ = adapter.parse_block(&block);
    if verify(&adapter, &block) {
        assert!(
            alone.iter().all(|ok| *ok),
            "a verified block has a bad body"
        );
        assert!(links, "a verified block fails the cross links");
    }
}

fn verify(adapter: &StarknetAdapter, block: &Block) -> bool {
    adapter.verify_block(block, None).is_ok()
}

/// One Starknet P2P sync message: the first byte picks the type (requests, then responses of
/// headers, state diffs, classes, transactions, events), the rest is its protobuf encoding.
pub fn starknet_p2p(data: &[u8]) {
    let Some((kind, bytes)) = data.split_first() else {
        return;
    };
    match kind % 10 {
        0 => round_trip::<header::BlockHeadersRequest>(bytes),
        1 => round_trip::<header::BlockHeadersResponse>(bytes),
        2 => round_trip::<state::StateDiffsRequest>(bytes),
        3 => round_trip::<state::StateDiffsResponse>(bytes),
        4 => round_trip::<class::ClassesRequest>(bytes),
        5 => round_trip::<class::ClassesResponse>(bytes),
        6 => round_trip::<transaction::TransactionsRequest>(bytes),
        7 => round_trip::<transaction::TransactionsResponse>(bytes),
        8 => round_trip::<event::EventsRequest>(bytes),
        _ => round_trip::<event::EventsResponse>(bytes),
    }
}

/// A decoded message re-encodes canonically: decoding that gives it back, and re-encoding is
/// stable byte for byte.
fn round_trip<M: Message + Default + PartialEq + Debug>(bytes: &[u8]) {
    let Ok(msg) = M::decode(bytes) else {
        return;
    };
    let encoded = msg.encode_to_vec();
    assert_eq!(encoded.len(), msg.encoded_len(), "encoded_len is wrong");
    let again = M::decode(encoded.as_slice()).expect("a re-encoded message decodes");
    assert_eq!(again, msg, "message changed in a round trip");
    assert_eq!(again.encode_to_vec(), encoded, "encoding is not stable");
}

/// Contract class definitions (`get_class_by_hash` answers from the gateway, `Class` messages
/// from peers): the class hash never panics, and a definition that hashes verifies against
/// the hash it gave, as the same kind.
pub fn starknet_class(data: &[u8]) {
    use crate::chain::starknet::class::{compute_class_hash, verify_class};
    if let Ok(computed) = compute_class_hash(data) {
        let kind = verify_class(computed.hash, data).expect("a computed hash verifies");
        assert_eq!(kind, computed.kind, "kind changed between two reads");
    }
}
