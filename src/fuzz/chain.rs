//! Fuzz targets of the chain-generic decoders: gossip announcements and the devnet codec.

use bytes::Bytes;

use super::{adapters, check_header};
use crate::chain::devnet::{decode_items, encode_items};
use crate::chain::wire::{decode_block, encode_block};
use crate::chain::ChainAdapter;

/// A gossip announcement's data, judged as `app::chain`'s `Judge` does: decode the header, then
/// check its signature, with the devnet and the Starknet adapter.
pub fn gossip_header(data: &[u8]) {
    for (name, adapter) in adapters() {
        check_header(name, adapter.as_ref(), data);
    }
}

/// The devnet body codec and the whole-block framing of `GET /blocks/{number}`: what decodes
/// re-encodes to the same bytes (devnet) or the same block (Starknet), and verifying a decoded
/// block never panics.
pub fn devnet_codec(data: &[u8]) {
    if let Ok(items) = decode_items(data) {
        assert_eq!(encode_items(&items), data, "devnet body is not canonical");
    }
    let bytes = Bytes::copy_from_slice(data);
    for (name, adapter) in adapters() {
        check_block(name, adapter.as_ref(), &bytes);
    }
}

pub(super) fn check_block(name: &str, adapter: &dyn ChainAdapter, bytes: &Bytes) {
    let Ok(block) = decode_block(adapter, bytes) else {
        return;
    };
    let encoded = encode_block(adapter, &block);
    if name == "devnet" {
        assert_eq!(&encoded, bytes, "devnet: a decoded block is not canonical");
    }
    let again = decode_block(adapter, &encoded)
        .unwrap_or_else(|e| panic!("{name}: re-encoded block does not decode: {e}"));
    assert_eq!(again, block, "{name}: block changed in a round trip");
    if adapter.verify_block(&block, None).is_ok() {
        for (component, body) in crate::chain::BODY_COMPONENTS.iter().zip(&block.bodies) {
            assert!(
                adapter.verify_body(&block.header, *component, body).is_ok(),
                "{name}: a verified block has a body that fails alone"
            );
        }
    }
}
