//! The seed corpora reach the decoders' success paths (a corpus of inputs every decoder
//! refuses at the first byte would make the mutation budget worthless).

use bytes::Bytes;
use wharf::chain::wire::decode_block;
use wharf::chain::{ChainAdapter, BODY_COMPONENTS};
use wharf::fuzz::{devnet_adapter, starknet_adapter, token_keyring, PART_SEPARATOR};

fn seeds(target: &str) -> Vec<Vec<u8>> {
    super::corpus(target)
        .into_iter()
        .filter(|(name, _)| name.starts_with("seed-"))
        .map(|(_, data)| data)
        .collect()
}

#[test]
fn seed_headers_and_blocks_verify() {
    let dev = devnet_adapter();
    let sn = starknet_adapter("sepolia");
    for h in seeds("gossip_header") {
        let ok = [dev as &dyn ChainAdapter, sn.as_ref()].iter().any(|a| {
            a.decode_header(&h)
                .and_then(|h| a.verify_header_signature(&h))
                .is_ok()
        });
        assert!(ok, "a gossip seed does not verify with either adapter");
    }
    let devnet_blocks = seeds("devnet_codec")
        .into_iter()
        .filter_map(|b| decode_block(dev, &Bytes::from(b)).ok())
        .filter(|b| dev.verify_block(b, None).is_ok())
        .count();
    assert_eq!(devnet_blocks, 2, "the two minted devnet blocks verify");
}

#[test]
fn seed_starknet_bodies_verify() {
    let sn = starknet_adapter("sepolia");
    for seed in seeds("starknet_bodies") {
        let parts: Vec<&[u8]> = seed.split(|b| *b == PART_SEPARATOR).collect();
        let header = sn.decode_header(parts[0]).expect("a seed header decodes");
        for (component, body) in BODY_COMPONENTS.iter().zip(&parts[1..]) {
            sn.verify_body(&header, *component, body)
                .expect("a seed body verifies");
        }
    }
}

#[test]
fn seed_tokens_and_configs_are_accepted() {
    for token in seeds("api_token") {
        let token = String::from_utf8(token).unwrap();
        token_keyring()
            .verify(&token)
            .expect("a seed token verifies");
    }
    for text in seeds("config_toml") {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        wharf::Config::load(Some(file.path()), serde_json::json!({})).expect("a seed config loads");
    }
}
