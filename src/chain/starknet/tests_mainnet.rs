//! Mainnet eras on real gateway answers (`tests/fixtures/starknet/mainnet`): the pre-0.7
//! genesis blocks, a 0.7.0, a 0.8.0 and a 0.9.0 block verify end to end where their era
//! allows, the 0.7.0–0.8.2 fallback sequencer address is found when the gateway leaves the
//! address out, and a changed transaction field or block field is refused in each era.

use serde_json::Value;

use super::tests::{bump, edited};
use super::*;
use crate::chain::BODY_COMPONENTS;

macro_rules! mainnet {
    ($($path:expr),+) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/starknet/mainnet/", $($path),+)).as_slice()
    };
}

const EMPTY_DIFF: &[u8] = br#"{"state_diff":{}}"#;

fn adapter() -> StarknetAdapter {
    let hex: String = serde_json::from_slice(mainnet!("public_key.json")).unwrap();
    let key = parse_felt(&hex).unwrap().to_bytes_be();
    StarknetAdapter::new("SN_MAIN", &key).unwrap()
}

/// Blocks of each era that have only a `get_block` answer upstream.
fn era_blocks() -> [(u64, &'static [u8]); 4] {
    [
        (833, mainnet!("block/833.json")),
        (2240, mainnet!("block/2240.json")),
        (2500, mainnet!("block/2500.json")),
        (2800, mainnet!("block/2800.json")),
    ]
}

/// Genesis-era blocks with all three answers.
fn genesis() -> [[&'static [u8]; 3]; 2] {
    [
        [
            mainnet!("block/0.json"),
            mainnet!("state_update/0.json"),
            mainnet!("signature/0.json"),
        ],
        [
            mainnet!("block/1.json"),
            mainnet!("state_update/1.json"),
            mainnet!("signature/1.json"),
        ],
    ]
}

fn stated_hash(block: &[u8]) -> BlockHash {
    let v: Value = serde_json::from_slice(block).unwrap();
    BlockHash(
        parse_felt(v["block_hash"].as_str().unwrap())
            .unwrap()
            .to_bytes_be(),
    )
}

/// Every body component and the cross links of an unsigned block; its hash must be `stated`.
fn verify_unsigned(
    a: &StarknetAdapter,
    block: &Block,
    stated: &BlockHash,
) -> Result<(), VerifyError> {
    for (component, body) in BODY_COMPONENTS.iter().zip(&block.bodies) {
        a.verify_body(&block.header, *component, body)?;
    }
    a.verify_cross_links(&block.bodies)?;
    a.verify_hash(&block.header, stated)
}

#[test]
fn the_first_mainnet_blocks_verify_end_to_end_with_the_pre_0_7_hash() {
    let a = adapter();
    let mut parent: Option<Header> = None;
    for [block, su, sig] in genesis() {
        let b = a.block_from_gateway(block, su, sig).unwrap();
        let hash = a.verify_block(&b, parent.as_ref()).unwrap().hash;
        assert_eq!(hash, stated_hash(block), "block {}", b.header.number);
        parent = Some(b.header);
    }
    assert_eq!(
        a.unverifiable().get("events"),
        2,
        "pre-0.7 events are counted"
    );
    assert_eq!(a.unverifiable().get("header_fields"), 2);
    assert_eq!(a.unverifiable().get("receipts"), 2);
    assert_eq!(
        a.unverifiable().get("state_diff"),
        2,
        "new-form signature: diff unbound"
    );
}

#[test]
fn the_pre_0_7_hash_needs_the_chain_id() {
    let [block, su, sig] = genesis()[0];
    let hex: String = serde_json::from_slice(mainnet!("public_key.json")).unwrap();
    let key = parse_felt(&hex).unwrap().to_bytes_be();
    let sepolia_rules = StarknetAdapter::new("SN_SEPOLIA", &key).unwrap();
    let b = sepolia_rules.block_from_gateway(block, su, sig).unwrap();
    assert_ne!(sepolia_rules.block_hash(&b.header), stated_hash(block));
}

#[test]
fn blocks_of_0_7_0_8_and_0_9_verify_hashes_commitments_and_block_hash() {
    let a = adapter();
    for (number, block) in era_blocks() {
        let b = a.block_from_gateway(block, EMPTY_DIFF, b"").unwrap();
        assert_eq!(b.header.number, number);
        verify_unsigned(&a, &b, &stated_hash(block)).unwrap_or_else(|e| panic!("{number}: {e}"));
    }
}

#[test]
fn a_0_8_block_without_its_sequencer_address_is_hashed_with_the_fallback() {
    let a = adapter();
    let (_, block) = era_blocks()[2];
    let without = edited(block, |v| {
        v.as_object_mut().unwrap().remove("sequencer_address");
    });
    let b = a.block_from_gateway(&without, EMPTY_DIFF, b"").unwrap();
    verify_unsigned(&a, &b, &stated_hash(block)).unwrap();
    assert_eq!(a.unverifiable().get("sequencer_fallback"), 1);
    let sepolia_rules = StarknetAdapter::new("SN_SEPOLIA", &[1]).unwrap();
    let b = sepolia_rules
        .block_from_gateway(&without, EMPTY_DIFF, b"")
        .unwrap();
    assert!(
        sepolia_rules
            .verify_hash(&b.header, &stated_hash(block))
            .is_err(),
        "only mainnet has the fallback"
    );
}

/// The first transaction with calldata, its calldata felt changed.
fn change_calldata(v: &mut Value) {
    let tx = v["transactions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|t| t["calldata"].as_array().is_some_and(|c| !c.is_empty()))
        .unwrap();
    bump(&mut tx["calldata"][0]);
}

#[test]
fn a_changed_transaction_field_is_refused_in_every_era() {
    let a = adapter();
    let [block, su, sig] = genesis()[0];
    let b = a
        .block_from_gateway(&edited(block, change_calldata), su, sig)
        .unwrap();
    let reason = a.verify_block(&b, None).unwrap_err().reason();
    assert_eq!(reason, "transaction_hash_mismatch", "pre-0.7");
    for (number, block) in era_blocks() {
        let b = a
            .block_from_gateway(&edited(block, change_calldata), EMPTY_DIFF, b"")
            .unwrap();
        let err = verify_unsigned(&a, &b, &stated_hash(block)).unwrap_err();
        assert_eq!(err.reason(), "transaction_hash_mismatch", "block {number}");
    }
}

#[test]
fn a_changed_block_field_is_refused_in_every_era() {
    let a = adapter();
    let [block, su, sig] = genesis()[1];
    let changed = edited(block, |v| bump(&mut v["state_root"]));
    let changed_su = edited(su, |v| bump(&mut v["new_root"]));
    let b = a.block_from_gateway(&changed, &changed_su, sig).unwrap();
    assert_eq!(a.verify_block(&b, None), Err(VerifyError::BadSignature));
    let b = a.block_from_gateway(block, su, sig).unwrap();
    let mut parent = a
        .block_from_gateway(genesis()[0][0], genesis()[0][1], b"")
        .unwrap();
    parent.header.parent_hash = BlockHash([1; 32]);
    let reason = a
        .verify_block(&b, Some(&parent.header))
        .unwrap_err()
        .reason();
    assert_eq!(reason, "parent_mismatch", "pre-0.7 parent link");
    for (number, block) in era_blocks() {
        let changed = edited(block, |v| bump(&mut v["state_root"]));
        let b = a.block_from_gateway(&changed, EMPTY_DIFF, b"").unwrap();
        let err = verify_unsigned(&a, &b, &stated_hash(block)).unwrap_err();
        assert_eq!(err.reason(), "hash_mismatch", "block {number}");
    }
}

#[test]
fn pre_0_7_events_and_timestamps_are_not_bound_and_counted() {
    let a = adapter();
    let [block, su, sig] = genesis()[0];
    let later = edited(block, |v| v["timestamp"] = Value::from(1_700_000_000u64));
    let b = a.block_from_gateway(&later, su, sig).unwrap();
    assert!(
        a.verify_block(&b, None).is_ok(),
        "the pre-0.7 hash does not cover the timestamp: only counted"
    );
}

#[test]
fn the_first_0_7_block_verifies_with_its_legacy_form_signature() {
    let a = adapter();
    let (block, sig) = (mainnet!("block/833.json"), mainnet!("signature/833.json"));
    let b = a.block_from_gateway(block, EMPTY_DIFF, sig).unwrap();
    assert_eq!(a.verify_header_signature(&b.header), Ok(stated_hash(block)));
    let changed = edited(block, |v| bump(&mut v["state_root"]));
    let b = a.block_from_gateway(&changed, EMPTY_DIFF, sig).unwrap();
    assert_eq!(
        a.verify_header_signature(&b.header),
        Err(VerifyError::BadSignature)
    );
}
