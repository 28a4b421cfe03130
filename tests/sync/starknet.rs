//! Real Sepolia blocks (the Starknet fixtures) with their classes served from a redb store and
//! synced over P2P with the Starknet adapter, despite a relay serving a tampered transaction,
//! event, state diff, receipt link or class. Blocks 0-6: block 7 declares ten classes, most of
//! them in no public test data.

use std::sync::Arc;

use prometheus_client::registry::Registry;
use serde_json::json;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use wharf::chain::classes::{decode_bundle, encode_bundle};
use wharf::chain::starknet::StarknetAdapter;
use wharf::chain::{Block, ChainAdapter, Component};
use wharf::store::{BlockStore, StoreMetrics};
use wharf::sync::pipeline::SyncPipeline;
use wharf::sync::{
    ChainVerifier, MemorySource, PeerReport, SyncConfig, SyncMetrics, SyncServerConfig,
};

use crate::fixtures::{deadline, Recorder};
use crate::mock::{fixture, public_key, with_classes, Answers};
use crate::net::Node;
use crate::{serving, NETWORK};

/// The last block synced.
const TOP: u64 = 6;

fn adapter() -> Arc<StarknetAdapter> {
    let key = starknet_crypto::Felt::from_hex(&public_key("sepolia")).unwrap();
    Arc::new(StarknetAdapter::new("SN_SEPOLIA", &key.to_bytes_be()).unwrap())
}

fn to_block(adapter: &StarknetAdapter, a: &Answers) -> Block {
    let bytes = |v: &serde_json::Value| serde_json::to_vec(v).unwrap();
    adapter
        .block_from_gateway(
            &bytes(&a.block),
            &bytes(&a.state_update),
            &bytes(&a.signature),
        )
        .unwrap()
}

/// Blocks 0..=6 of Sepolia with their classes, verified one after the other as a feeder would.
fn sepolia(adapter: &StarknetAdapter) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    for n in 0..=TOP {
        let block = to_block(adapter, &fixture("sepolia", n));
        let block = with_classes(adapter, "sepolia", block);
        let parent = blocks.last().map(|b| &b.header);
        adapter
            .verify_block(&block, parent)
            .expect("real block verifies");
        blocks.push(block);
    }
    blocks
}

/// Block `n` with one field changed; returns the component index that changed.
fn tampered(adapter: &StarknetAdapter, n: u64) -> (usize, Block) {
    let mut a = fixture("sepolia", n);
    let index = match n {
        4 => {
            a.block["transactions"][0]["calldata"][1] = json!("0x1234");
            0
        }
        5 => {
            a.block["transaction_receipts"][0]["events"][0]["data"][0] = json!("0x99");
            2
        }
        3 => {
            // before 0.13.2 no commitment covers receipts: only the link to the transactions
            let other = a.block["transactions"][1]["transaction_hash"].clone();
            a.block["transaction_receipts"][0]["transaction_hash"] = other;
            1
        }
        _ => {
            let diffs = a.state_update["state_diff"]["storage_diffs"]
                .as_object_mut()
                .unwrap();
            diffs.values_mut().next().unwrap()[0]["value"] = json!("0x4242");
            3
        }
    };
    (index, to_block(adapter, &a))
}

/// A relay serving the honest blocks except those in `which`: a changed transaction (block 4),
/// event (block 5), storage value (block 0) or a receipt naming the wrong transaction (block 3).
fn tampering_source(
    adapter: &StarknetAdapter,
    blocks: &[Block],
    which: &[u64],
) -> Arc<MemorySource> {
    let source = MemorySource::default();
    for b in blocks {
        let mut bodies = b.bodies.clone();
        if which.contains(&b.header.number) {
            let (index, bad) = tampered(adapter, b.header.number);
            assert_ne!(
                bodies[index], bad.bodies[index],
                "tampering changes the bytes"
            );
            bodies[index] = bad.bodies[index].clone();
        }
        let [t, r, e, s] = bodies;
        let header = adapter.encode_header(&b.header).into();
        source.insert(b.header.number, [header, t, r, e, s, b.classes.clone()]);
    }
    Arc::new(source)
}

fn open_store(dir: &tempfile::TempDir, adapter: Arc<dyn ChainAdapter>) -> BlockStore {
    let metrics = StoreMetrics::register(&mut Registry::default());
    BlockStore::open(dir.path(), adapter, metrics).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_sepolia_blocks_over_p2p_despite_a_tampering_relay() {
    sync_despite(&[0, 4, 5, 3], true).await;
}

/// Before 0.13.2 only the whole-block link check catches a receipt of another transaction (the
/// peer order makes the tampering relay the one asked for receipts; the test fails without the
/// check, as the stored chain then differs, or without the request, as no report names it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_linked_to_the_wrong_transaction_is_caught_by_the_link_check() {
    sync_despite(&[3], false).await;
}

/// A relay serving block `n` with one of its classes changed by one character of its ABI (the
/// definition still parses; its hash no longer matches), or, when `omit`, without its classes.
fn class_tampering_source(blocks: &[Block], n: usize, omit: bool) -> Arc<MemorySource> {
    let source = MemorySource::default();
    for b in blocks {
        let mut classes = b.classes.clone();
        if b.header.number == n as u64 && omit {
            classes = bytes::Bytes::new();
        } else if b.header.number == n as u64 {
            let mut entries = decode_bundle(&classes).unwrap();
            let text = String::from_utf8(entries[0].definition.to_vec()).unwrap();
            let changed = text.replacen("\"name\"", "\"nAme\"", 1);
            assert_ne!(text, changed, "the class has an ABI entry name to change");
            entries[0].definition = changed.into_bytes().into();
            classes = encode_bundle(&entries);
        }
        let [t, r, e, s] = b.bodies.clone();
        let header = starknet_header_bytes(b);
        source.insert(b.header.number, [header, t, r, e, s, classes]);
    }
    Arc::new(source)
}

fn starknet_header_bytes(b: &Block) -> bytes::Bytes {
    adapter().encode_header(&b.header).into()
}

/// A relay serving a class whose hash does not match is blamed (`class_hash_mismatch`) and the
/// class is fetched from the honest relay: the synced store holds the real definitions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_serving_a_tampered_class_is_blamed_and_the_class_fetched_elsewhere() {
    let blocks = sepolia(&adapter());
    sync_from(|_, _| class_tampering_source(&blocks, 1, false), true).await;
}

/// A relay leaving out a class the block declares is blamed (`class_list_mismatch`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_leaving_out_a_declared_class_is_blamed() {
    let blocks = sepolia(&adapter());
    sync_from(|_, _| class_tampering_source(&blocks, 2, true), true).await;
}

/// `json` with an unknown key in its first object, in sorted position: canonical JSON that
/// only the key lists catch. `None` when it holds no object (an empty list).
fn with_unknown_key(json: &[u8]) -> Option<Vec<u8>> {
    fn first_object(
        v: &mut serde_json::Value,
    ) -> Option<&mut serde_json::Map<String, serde_json::Value>> {
        match v {
            serde_json::Value::Object(map) => Some(map),
            serde_json::Value::Array(items) => items.iter_mut().find_map(first_object),
            _ => None,
        }
    }
    let mut value: serde_json::Value = serde_json::from_slice(json).unwrap();
    first_object(&mut value)?.insert("padding".into(), json!("x".repeat(256)));
    Some(serde_json::to_vec(&value).unwrap())
}

/// `json` with a space after its opening bracket.
fn with_space(json: &[u8]) -> Vec<u8> {
    [&json[..1], b" ", &json[1..]].concat()
}

/// A relay padding every header and body: an unknown key where there is an object to put it
/// in on odd parts, whitespace otherwise.
fn padding_source(blocks: &[Block]) -> Arc<MemorySource> {
    let source = MemorySource::default();
    for b in blocks {
        let [t, r, e, s] = b.bodies.clone();
        let honest = [starknet_header_bytes(b), t, r, e, s];
        let mut parts = honest.clone().map(|p| p.to_vec());
        for (i, part) in parts.iter_mut().enumerate() {
            let keyed = (b.header.number as usize + i) % 2 == 1;
            *part = keyed
                .then(|| with_unknown_key(part))
                .flatten()
                .unwrap_or_else(|| with_space(part));
        }
        let [h, t, r, e, s] = parts.map(bytes::Bytes::from);
        source.insert(b.header.number, [h, t, r, e, s, b.classes.clone()]);
    }
    Arc::new(source)
}

/// Whitespace or an unknown key in any part is refused, the relay blamed, and the synced store
/// holds the honest relay's bytes part by part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_padding_every_part_is_blamed_and_nothing_it_sent_is_stored() {
    sync_from(|_, blocks| padding_source(blocks), true).await;
}

async fn sync_despite(which: &[u64], bad_first: bool) {
    sync_from(
        |starknet, blocks| tampering_source(starknet, blocks, which),
        bad_first,
    )
    .await;
}

async fn sync_from(
    bad_source: impl FnOnce(&StarknetAdapter, &[Block]) -> Arc<MemorySource>,
    bad_first: bool,
) {
    let starknet = adapter();
    let dyn_adapter: Arc<dyn ChainAdapter> = starknet.clone();
    let blocks = sepolia(&starknet);
    let source_dir = tempfile::tempdir().unwrap();
    let source = open_store(&source_dir, dyn_adapter.clone());
    source.commit_batch(&blocks).unwrap();
    let honest = serving(
        Arc::new(source.clone()),
        Recorder::new(),
        SyncServerConfig::default(),
    )
    .await
    .0;
    let bad_source = bad_source(&starknet, &blocks);
    let bad = serving(bad_source, Recorder::new(), SyncServerConfig::default())
        .await
        .0;
    let client = Node::spawn(&[&honest, &bad]).await.unwrap();

    let target_dir = tempfile::tempdir().unwrap();
    let target = Arc::new(open_store(&target_dir, dyn_adapter.clone()));
    let recorder = Recorder::new();
    let mut pipeline = SyncPipeline::new(
        client.control.clone(),
        NETWORK,
        Arc::new(ChainVerifier(dyn_adapter)),
        target.clone(),
        recorder.clone(),
        SyncMetrics::register(&mut Registry::default()),
        SyncConfig::default(),
    );
    let order = if bad_first {
        vec![bad.peer, honest.peer]
    } else {
        vec![honest.peer, bad.peer]
    };
    let (_tx, peers) = watch::channel(order);
    let synced = tokio::time::timeout(
        deadline(),
        pipeline.sync_to(TOP, &peers, &CancellationToken::new()),
    )
    .await;
    assert_eq!(synced.expect("sync within the deadline").unwrap(), TOP);
    for n in 0..=TOP {
        assert_eq!(
            target.block(n).unwrap(),
            source.block(n).unwrap(),
            "block {n}"
        );
        for c in Component::ALL {
            let (got, want) = (target.body(n, c).unwrap(), source.body(n, c).unwrap());
            assert_eq!(got, want, "{c} of block {n} byte for byte");
        }
    }
    for block in &blocks {
        for class in decode_bundle(&block.classes).unwrap() {
            let stored = target.class(&class.hash).unwrap();
            assert_eq!(stored, Some(class.definition), "class byte for byte");
        }
    }
    recorder.wait_for(bad.peer, PeerReport::InvalidData).await;
}

/// A Sierra class (`0x1a736d6…`, declared by Sepolia block 7) through the classes wire and the
/// sync verifier: it arrives byte for byte and verifies; with one ABI character changed it is
/// refused as `class_hash_mismatch`.
#[tokio::test]
async fn a_sierra_class_crosses_the_classes_wire_and_the_verifier() {
    use wharf::chain::classes::parse_class_hash;
    use wharf::chain::{ClassEntry, Component};
    use wharf::sync::classes::{write_items, ClassReader};
    use wharf::sync::pipeline::BlockVerifier;
    use wharf::sync::proto::{sync_response::Message, SyncResponse};
    use wharf::sync::{wire, CheckedHeader};
    let name = "0x1a736d6ed154502257f02b1ccdf4d9d1089f80811cd6acad48e6b6a9d1f2003";
    let definition = crate::mock::class_fixtures("sepolia").remove(name).unwrap();
    let entry = ClassEntry {
        hash: parse_class_hash(name).unwrap(),
        definition: definition.clone().into(),
    };
    let bundle = encode_bundle(std::slice::from_ref(&entry));
    let metrics = SyncMetrics::register(&mut Registry::default());
    let t = std::time::Duration::from_secs(5);
    let mut out = futures::io::Cursor::new(Vec::new());
    let items = vec![(7, bundle.clone())];
    assert_eq!(
        write_items(&mut out, items, 1, 16 << 20, t, &metrics)
            .await
            .unwrap(),
        1
    );
    let mut input = futures::io::Cursor::new(out.into_inner());
    let mut reader = ClassReader::new(16 << 20);
    let mut got = None;
    while let Some(msg) = wire::read_message::<SyncResponse, _>(&mut input, 16 << 20, t)
        .await
        .unwrap()
    {
        match msg.message.unwrap() {
            Message::Class(class) => reader.on_class(class).unwrap(),
            Message::Item(item) => got = Some(reader.on_item(&item.data).unwrap()),
            Message::Fin(_) => unreachable!("write_items sends no Fin"),
        }
    }
    assert_eq!(got, Some(bundle.clone()), "byte for byte");

    let starknet = adapter();
    let block = &sepolia(&starknet)[0];
    let header = CheckedHeader {
        header: block.header.clone(),
        hash: starknet.block_hash(&block.header),
    };
    let verifier = ChainVerifier(starknet.clone());
    verifier
        .verify_body(&header, Component::Classes, &bundle)
        .unwrap();
    let text = String::from_utf8(definition).unwrap();
    let changed = text.replacen("\"name\\\"", "\"nAme\\\"", 1);
    assert_ne!(text, changed, "the Sierra ABI string has a name to change");
    let tampered = encode_bundle(&[ClassEntry {
        definition: changed.into_bytes().into(),
        ..entry
    }]);
    let err = verifier
        .verify_body(&header, Component::Classes, &tampered)
        .unwrap_err();
    assert_eq!(err.reason(), "class_hash_mismatch", "{err}");
}

/// Header bytes are stored and served as received, so a relay must hold only what the
/// signature binds: whitespace or an unknown key around a real signed header, or a header over
/// the size limit, is refused (and the pipeline blames the relay that sent it).
#[test]
fn padded_or_oversized_headers_are_refused() {
    use wharf::sync::{BlockVerifier, ChainVerifier};
    let a = adapter();
    let blocks = sepolia(&a);
    let v = ChainVerifier(a.clone());
    let canonical = a.encode_header(&blocks[3].header);
    assert!(v.verify_header(3, &canonical.clone().into()).is_ok());
    let mut spaced = b" ".to_vec();
    spaced.extend_from_slice(&canonical);
    let mut keyed = br#"{"padding":"xxxxxxxx","#.to_vec();
    keyed.extend_from_slice(&canonical[1..]);
    let mut huge = canonical.clone();
    huge.extend(std::iter::repeat_n(b' ', 20_000));
    for (bad, why) in [(spaced, "canonical"), (keyed, "canonical"), (huge, "limit")] {
        let bad = bytes::Bytes::from(bad);
        let err = v.verify_header(3, &bad).unwrap_err();
        assert!(err.to_string().contains(why), "{err}");
        let (index, err) = v.verify_headers(3, &[bad]).unwrap_err();
        assert_eq!(index, 0);
        assert!(err.to_string().contains(why), "{err}");
    }
}

/// Bodies are stored and served as received, like headers: whitespace, an unknown key (in
/// sorted position, so the canonical-form check alone would pass it) or a body over its size
/// limit is refused.
#[test]
fn padded_or_oversized_bodies_are_refused() {
    use wharf::sync::{BlockVerifier, CheckedHeader};
    let a = adapter();
    let blocks = sepolia(&a);
    let v = ChainVerifier(a.clone());
    let block = &blocks[3];
    let header = CheckedHeader {
        header: block.header.clone(),
        hash: a.block_hash(&block.header),
    };
    for (c, body) in Component::ALL[1..5].iter().zip(&block.bodies) {
        assert!(v.verify_body(&header, *c, body).is_ok(), "{c}");
        let mut bad = vec![(with_space(body), "canonical")];
        bad.extend(with_unknown_key(body).map(|b| (b, "unknown key `padding`")));
        let mut huge = body.to_vec();
        huge.resize(wharf::chain::MAX_BODY_BYTES + 1, b' ');
        bad.push((huge, "limit"));
        for (bytes, why) in bad {
            let err = v.verify_body(&header, *c, &bytes.into()).unwrap_err();
            assert!(err.to_string().contains(why), "{c}: {err}");
        }
    }
}
