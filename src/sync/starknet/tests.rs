//! The generated messages encode exactly as the specs' field numbers and types say: each
//! expected byte string below is written by hand from the `.proto` field numbers.

use prost::Message;

use super::proto::starknet::common::{Felt252, Fin, Hash, Uint128};
use super::proto::starknet::sync::common::{iteration, Iteration};
use super::proto::starknet::sync::header::{block_headers_response, BlockHeadersResponse};
use super::proto::starknet::sync::header::{BlockHeadersRequest, SignedBlockHeader};

#[test]
fn iteration_of_the_specs_example_encodes_by_field_number() {
    // start.block_number (1) = 10, direction (3) = Backward (1), limit (4) = 3, step (5) = 3.
    let it = Iteration {
        start: Some(iteration::Start::BlockNumber(10)),
        direction: iteration::Direction::Backward as i32,
        limit: 3,
        step: 3,
    };
    let request = BlockHeadersRequest {
        iteration: Some(it),
    };
    let inner = [0x08, 10, 0x18, 1, 0x20, 3, 0x28, 3];
    let mut expected = vec![0x0a, inner.len() as u8];
    expected.extend_from_slice(&inner);
    assert_eq!(request.encode_to_vec(), expected);
}

#[test]
fn iteration_by_hash_uses_field_two() {
    let it = Iteration {
        start: Some(iteration::Start::Header(Hash {
            elements: vec![0xab; 2],
        })),
        direction: iteration::Direction::Forward as i32,
        limit: 1,
        step: 1,
    };
    // header (2, length-delimited) { elements (1) = ab ab }, limit (4) = 1, step (5) = 1.
    assert_eq!(
        it.encode_to_vec(),
        [0x12, 4, 0x0a, 2, 0xab, 0xab, 0x20, 1, 0x28, 1]
    );
}

#[test]
fn header_fields_sit_at_their_spec_numbers() {
    let header = SignedBlockHeader {
        number: 7,
        protocol_version: "0.13.2".into(),
        l2_gas_price_wei: Some(Uint128 { low: 1, high: 2 }),
        block_hash: Some(Hash { elements: vec![1] }),
        ..Default::default()
    };
    let bytes = header.encode_to_vec();
    let mut expected = vec![0x0a, 3, 0x0a, 1, 1]; // block_hash (1)
    expected.extend_from_slice(&[0x18, 7]); // number (3)
    expected.extend_from_slice(&[0x5a, 6]); // protocol_version (11)
    expected.extend_from_slice(b"0.13.2");
    expected.extend_from_slice(&[0x8a, 0x01, 4, 0x08, 1, 0x10, 2]); // l2_gas_price_wei (17)
    assert_eq!(bytes, expected);
}

#[test]
fn fin_is_the_second_alternative_of_a_headers_response() {
    let fin = BlockHeadersResponse {
        header_message: Some(block_headers_response::HeaderMessage::Fin(Fin {})),
    };
    assert_eq!(fin.encode_to_vec(), [0x12, 0]);
    let felt = Felt252 {
        elements: vec![0; 32],
    };
    assert_eq!(felt.encoded_len(), 34);
}
