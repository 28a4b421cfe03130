//! Wharf's client of Starknet's own sync protocols (`sync.protocol = "starknet"`): real Sepolia
//! and Sepolia-integration blocks go through an independent test encoder (stored → wire,
//! `starknet_encode.rs`) and the client's mapping (wire → stored) and still verify; a tampered
//! wire field does not. Then a relay syncs Sepolia blocks with their classes over the Starknet
//! protocols only, from an honest peer and a tampering one that is blamed.

use wharf::chain::starknet::StarknetAdapter;
use wharf::chain::{Block, ChainAdapter};
use wharf::sync::starknet::map::{from_wire, from_wire_block, from_wire_class, from_wire_tx};
use wharf::sync::starknet::proto::starknet::common::Felt252;

use crate::mock::{public_key, with_classes};
use crate::starknet_encode as enc;

pub fn adapter_for(network: &str, chain: &str) -> StarknetAdapter {
    let key = starknet_crypto::Felt::from_hex(&public_key(network)).unwrap();
    StarknetAdapter::new(chain, &key.to_bytes_be()).unwrap()
}

/// Block `n` of `network` as a feeder stores it, with its classes.
fn stored(adapter: &StarknetAdapter, network: &str, n: u64) -> Block {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/starknet");
    let read = |kind: &str| std::fs::read(dir.join(network).join(kind).join(format!("{n}.json")));
    // Sepolia-integration 63881 has no signature fixture: an unsigned header.
    let sig = read("signature").unwrap_or_default();
    let block = adapter
        .block_from_gateway(
            &read("block").unwrap(),
            &read("state_update").unwrap(),
            &sig,
        )
        .unwrap();
    // Block 7 and the integration blocks declare classes no fixture holds: bodies only.
    match (network, n) {
        ("sepolia", 0..=6) => with_classes(adapter, network, block),
        _ => block,
    }
}

/// A stored block rebuilt from its wire messages by the client's mapping. The header form is
/// the first whose signature verifies (unsigned headers: the first).
fn rebuilt(adapter: &StarknetAdapter, block: &Block, tamper: impl Fn(&mut Wire)) -> Block {
    let mut w = wire_of(adapter, block);
    tamper(&mut w);
    let forms = from_wire::header_forms(&w.header).unwrap();
    let header = forms
        .iter()
        .map(|f| adapter.decode_header(f).unwrap())
        .find(|h| adapter.verify_header_signature(h).is_ok() || h.signature.is_empty())
        .unwrap_or_else(|| adapter.decode_header(&forms[0]).unwrap());
    let mapped: Vec<_> = (0..)
        .zip(&w.txs)
        .map(|(i, t)| from_wire_tx::transaction(t, i).unwrap())
        .collect();
    let hashes: Vec<_> = w
        .txs
        .iter()
        .map(|t| from_wire_tx::transaction_hash(t).unwrap())
        .collect();
    let list = |f: fn(&(serde_json::Value, serde_json::Value)) -> serde_json::Value| {
        from_wire_block::to_bytes(&serde_json::Value::Array(mapped.iter().map(f).collect()))
    };
    let events = from_wire_block::events(&w.events, &hashes).unwrap();
    let diff = from_wire_block::state_diff(&w.diff).unwrap();
    let classes: Vec<_> = w
        .classes
        .iter()
        .map(|c| from_wire_class::class(c).unwrap())
        .map(|(hash, definition)| wharf::chain::ClassEntry { hash, definition })
        .collect();
    Block {
        header,
        bodies: [
            list(|(t, _)| t.clone()),
            list(|(_, r)| r.clone()),
            from_wire_block::to_bytes(&events),
            from_wire_block::to_bytes(&diff),
        ],
        classes: wharf::chain::classes::encode_bundle(&classes),
    }
}

/// One block's wire messages, from the test encoder.
pub fn wire_of(adapter: &StarknetAdapter, block: &Block) -> Wire {
    Wire {
        header: enc::header(adapter, block),
        txs: enc::transactions(block),
        events: enc::events(block),
        diff: enc::state_diff(block),
        classes: enc::classes(block),
    }
}

/// One block's wire messages (tests change them).
#[derive(Clone)]
pub struct Wire {
    pub header: wharf::sync::starknet::proto::starknet::sync::header::SignedBlockHeader,
    pub txs: Vec<wharf::sync::starknet::proto::starknet::sync::transaction::TransactionWithReceipt>,
    pub events: Vec<wharf::sync::starknet::proto::starknet::sync::event::Event>,
    pub diff: Vec<
        wharf::sync::starknet::proto::starknet::sync::state::state_diffs_response::StateDiffMessage,
    >,
    pub classes: Vec<wharf::sync::starknet::proto::starknet::class::Class>,
}

/// Every class of a rebuilt block hashes to its hash, and the block verifies whole.
fn assert_verifies(adapter: &StarknetAdapter, block: &Block, parent: Option<&Block>) {
    let parent = parent.map(|p| &p.header);
    if block.header.signature.is_empty() {
        for (component, body) in wharf::chain::BODY_COMPONENTS.iter().zip(&block.bodies) {
            adapter
                .verify_body(&block.header, *component, body)
                .unwrap();
        }
        adapter.verify_cross_links(&block.bodies).unwrap();
    } else {
        adapter.verify_block(block, parent).unwrap();
    }
    for class in wharf::chain::classes::decode_bundle(&block.classes).unwrap() {
        adapter
            .verify_class(&class.hash, &class.definition)
            .unwrap();
    }
}

/// Sepolia 0-7 (0.12.3, legacy and new signature forms, DECLARE v0-v2, DEPLOY_ACCOUNT, L1
/// handler), Sepolia-integration 35748 (0.13.2) and 63881 (0.13.4, v3 transactions): each
/// block, through the test encoder and the client's mapping, verifies as the feeder's does, with
/// the same header bytes.
#[test]
fn fixture_blocks_round_trip_through_the_wire_and_verify() {
    let sepolia = adapter_for("sepolia", "SN_SEPOLIA");
    let mut parent: Option<Block> = None;
    for n in 0..=6 {
        let block = stored(&sepolia, "sepolia", n);
        let back = rebuilt(&sepolia, &block, |_| {});
        assert_eq!(back.header, block.header, "block {n} header");
        assert_verifies(&sepolia, &back, parent.as_ref());
        let needs = sepolia.class_needs(&back.bodies).unwrap();
        let bundle = wharf::chain::classes::decode_bundle(&back.classes).unwrap();
        let hashes: Vec<_> = bundle.iter().map(|c| c.hash).collect();
        assert_eq!(hashes, needs.declared, "block {n} classes");
        parent = Some(back);
    }
    let block = stored(&sepolia, "sepolia", 7);
    let back = rebuilt(&sepolia, &block, |_| {});
    assert_eq!(back.header, block.header, "block 7 header");
    assert_verifies(&sepolia, &back, parent.as_ref());
    let integration = adapter_for("sepolia-integration", "SN_INTEGRATION_SEPOLIA");
    for n in [35748, 63881] {
        let block = stored(&integration, "sepolia-integration", n);
        let back = rebuilt(&integration, &block, |_| {});
        assert_eq!(back.header, block.header, "block {n} header");
        assert_verifies(&integration, &back, None);
    }
}

/// Every Sepolia and Sepolia-integration class fixture (Cairo 0 of several compiler versions,
/// Sierra) through the test encoder and the client's class mapping hashes to its hash.
#[test]
fn every_fixture_class_round_trips_through_the_wire() {
    use wharf::chain::classes::{encode_bundle, parse_class_hash};
    let a = adapter_for("sepolia", "SN_SEPOLIA");
    let mut seen = 0;
    for network in ["sepolia", "integration"] {
        for (name, definition) in crate::mock::class_fixtures(network) {
            let hash = parse_class_hash(&name).unwrap();
            let mut block = stored(&a, "sepolia", 3);
            let entry = wharf::chain::ClassEntry {
                hash,
                definition: definition.into(),
            };
            block.classes = encode_bundle(&[entry]);
            let wire = enc::classes(&block);
            let (got, back) = from_wire_class::class(&wire[0]).unwrap();
            assert_eq!(got, hash, "{name}");
            a.verify_class(&hash, &back)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            seen += 1;
        }
    }
    assert!(seen >= 6, "{seen} class fixtures");
}

pub fn felt(hex: &str) -> Option<Felt252> {
    let f = starknet_crypto::Felt::from_hex(hex).unwrap();
    Some(Felt252 {
        elements: f.to_bytes_be().to_vec(),
    })
}

/// One changed wire field in a transaction, an event, a storage value or a class makes the
/// rebuilt block fail verification: the mapping carries every field verification binds.
#[test]
fn a_tampered_wire_field_is_refused_by_verification() {
    use wharf::sync::starknet::proto::starknet::class::class::Class as Kind;
    use wharf::sync::starknet::proto::starknet::sync::state::state_diffs_response::StateDiffMessage;
    use wharf::sync::starknet::proto::starknet::sync::transaction::transaction_in_block::Txn;
    let a = adapter_for("sepolia", "SN_SEPOLIA");
    type Tamper = fn(&mut Wire);
    let cases: [(u64, &str, Tamper); 4] = [
        (4, "transaction_hash_mismatch", |w| {
            let tx = w.txs[0].transaction.as_mut().unwrap();
            let Some(Txn::InvokeV1(i)) = tx.txn.as_mut() else {
                panic!("invoke v1")
            };
            i.calldata[1] = felt("0x1234").unwrap();
        }),
        (5, "commitment_mismatch", |w| {
            w.events[0].data[0] = felt("0x99").unwrap()
        }),
        (0, "commitment_mismatch", |w| {
            let diff = w.diff.iter_mut().find_map(|m| match m {
                StateDiffMessage::ContractDiff(d) if !d.values.is_empty() => Some(d),
                _ => None,
            });
            diff.unwrap().values[0].value = felt("0x4242");
        }),
        (1, "class_hash_mismatch", |w| {
            let abi = match w.classes[0].class.as_mut().unwrap() {
                Kind::Cairo0(c) => &mut c.abi,
                Kind::Cairo1(c) => &mut c.abi,
            };
            let changed = abi.replacen("\"name\"", "\"nAme\"", 1);
            assert_ne!(*abi, changed, "an ABI entry name to change");
            *abi = changed;
        }),
    ];
    for (n, reason, tamper) in cases {
        let block = stored(&a, "sepolia", n);
        let back = rebuilt(&a, &block, tamper);
        let err = match a.verify_block(&back, None) {
            Err(e) => e,
            Ok(_) => {
                let classes = wharf::chain::classes::decode_bundle(&back.classes).unwrap();
                let class = classes.first().expect("a class to blame");
                a.verify_class(&class.hash, &class.definition).unwrap_err()
            }
        };
        assert_eq!(err.reason(), reason, "block {n}: {err}");
    }
}

/// The stored parts of blocks served by the in-test Starknet server.
pub fn sepolia_blocks(adapter: &StarknetAdapter, top: u64) -> Vec<Block> {
    (0..=top).map(|n| stored(adapter, "sepolia", n)).collect()
}
