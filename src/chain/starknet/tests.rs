//! Tests on real feeder-gateway answers (`tests/fixtures/starknet`): every block maps
//! and fully verifies, the header encoding round-trips, and tampered copies (made in
//! memory) are refused with the right reason.

use serde_json::Value;

use super::*;
use crate::chain::{BodySummary, BODY_COMPONENTS};

macro_rules! fixture {
    ($($path:expr),+) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/starknet/", $($path),+)).as_slice()
    };
}

/// One fixture block: its three gateway answers.
#[derive(Clone, Copy)]
struct Fx {
    network: &'static str,
    number: u64,
    block: &'static [u8],
    state_update: &'static [u8],
    signature: &'static [u8],
}

macro_rules! sepolia {
    ($n:literal) => {
        Fx {
            network: "sepolia",
            number: $n,
            block: fixture!("sepolia/block/", $n, ".json"),
            state_update: fixture!("sepolia/state_update/", $n, ".json"),
            signature: fixture!("sepolia/signature/", $n, ".json"),
        }
    };
}

fn sepolia() -> [Fx; 8] {
    [
        sepolia!(0),
        sepolia!(1),
        sepolia!(2),
        sepolia!(3),
        sepolia!(4),
        sepolia!(5),
        sepolia!(6),
        sepolia!(7),
    ]
}

fn integration_35748() -> Fx {
    Fx {
        network: "sepolia-integration",
        number: 35748,
        block: fixture!("sepolia-integration/block/35748.json"),
        state_update: fixture!("sepolia-integration/state_update/35748.json"),
        signature: fixture!("sepolia-integration/signature/35748.json"),
    }
}

/// 0.13.4; upstream has no signature for it.
fn integration_63881() -> Fx {
    Fx {
        network: "sepolia-integration",
        number: 63881,
        block: fixture!("sepolia-integration/block/63881.json"),
        state_update: fixture!("sepolia-integration/state_update/63881.json"),
        signature: b"",
    }
}

fn key(json: &[u8]) -> Vec<u8> {
    let hex: String = serde_json::from_slice(json).unwrap();
    parse_felt(&hex).unwrap().to_bytes_be().to_vec()
}

fn adapter(fx: &Fx) -> StarknetAdapter {
    match fx.network {
        "sepolia" => {
            StarknetAdapter::new("SN_SEPOLIA", &key(fixture!("sepolia/public_key.json"))).unwrap()
        }
        _ => StarknetAdapter::new(
            "SN_INTEGRATION_SEPOLIA",
            &key(fixture!("sepolia-integration/public_key.json")),
        )
        .unwrap(),
    }
}

fn map(fx: &Fx) -> Block {
    adapter(fx)
        .block_from_gateway(fx.block, fx.state_update, fx.signature)
        .unwrap()
}

fn gateway_hash(fx: &Fx) -> BlockHash {
    let v: Value = serde_json::from_slice(fx.block).unwrap();
    let felt = parse_felt(v["block_hash"].as_str().unwrap()).unwrap();
    BlockHash(felt.to_bytes_be())
}

/// A copy of `json` changed by `edit`.
pub(super) fn edited(json: &[u8], edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(json).unwrap();
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

/// Maps `fx` with its answers edited, then verifies the whole block (without parent).
fn verify_edited(
    fx: &Fx,
    block: impl FnOnce(&mut Value),
    state: impl FnOnce(&mut Value),
) -> Result<BlockHash, VerifyError> {
    let a = adapter(fx);
    let b = a.block_from_gateway(
        &edited(fx.block, block),
        &edited(fx.state_update, state),
        fx.signature,
    )?;
    a.verify_block(&b, None).map(|v| v.hash)
}

pub(super) fn bump(felt: &mut Value) {
    let f = parse_felt(felt.as_str().unwrap()).unwrap();
    *felt = Value::String(felt_hex(&(f + Felt::ONE)));
}

#[test]
fn every_sepolia_block_verifies_with_its_parent() {
    let mut parent: Option<Header> = None;
    for fx in sepolia() {
        let a = adapter(&fx);
        let block = map(&fx);
        assert_eq!(block.header.number, fx.number);
        let hash = a.verify_block(&block, parent.as_ref()).unwrap().hash;
        assert_eq!(hash, gateway_hash(&fx), "block {}", fx.number);
        assert_eq!(a.block_hash(&block.header), hash);
        parent = Some(block.header);
    }
}

#[test]
fn integration_0_13_2_block_verifies_with_new_form_signature() {
    let fx = integration_35748();
    let block = map(&fx);
    let hash = adapter(&fx).verify_block(&block, None).unwrap().hash;
    assert_eq!(hash, gateway_hash(&fx));
    assert_ne!(
        block.header.bodies[1].commitment, [0; 32],
        "receipts are committed from 0.13.2"
    );
}

#[test]
fn integration_0_13_4_block_verifies_all_but_the_missing_signature() {
    let fx = integration_63881();
    let (a, block) = (adapter(&fx), map(&fx));
    assert!(block.header.signature.is_empty());
    assert_eq!(a.block_hash(&block.header), gateway_hash(&fx));
    for (component, body) in BODY_COMPONENTS.iter().zip(&block.bodies) {
        a.verify_body(&block.header, *component, body).unwrap();
    }
    assert_eq!(
        a.verify_header_signature(&block.header),
        Err(VerifyError::BadSignature)
    );
    assert_eq!(a.verify_block(&block, None), Err(VerifyError::BadSignature));
}

#[test]
fn counts_and_commitments_map_onto_the_generic_header() {
    let block = map(&integration_63881());
    let counts: Vec<u32> = block
        .header
        .bodies
        .iter()
        .map(|b: &BodySummary| b.count)
        .collect();
    assert_eq!(counts, [4, 4, 4, 15]);
    assert_eq!(block.header.timestamp_ms, 1_736_162_406_000);
    let legacy = map(&sepolia()[4]);
    assert_ne!(
        legacy.header.bodies[3].commitment, [0; 32],
        "the legacy signature binds the state diff"
    );
    assert_eq!(
        legacy.header.bodies[1].commitment, [0; 32],
        "no receipt commitment before 0.13.2"
    );
    let new_form = map(&sepolia()[7]);
    assert_eq!(
        new_form.header.bodies[3].commitment, [0; 32],
        "nothing binds this state diff"
    );
}

#[test]
fn header_encoding_round_trips() {
    let mut all = sepolia().to_vec();
    all.extend([integration_35748(), integration_63881()]);
    for fx in all {
        let a = adapter(&fx);
        let header = map(&fx).header;
        let bytes = a.encode_header(&header);
        assert!(!bytes.is_empty());
        let decoded = a.decode_header(&bytes).unwrap();
        assert_eq!(decoded, header, "block {}", fx.number);
        assert_eq!(
            a.encode_header(&decoded),
            bytes,
            "canonical, block {}",
            fx.number
        );
        // A gossip announcement is checked from the header bytes alone.
        if !fx.signature.is_empty() {
            assert_eq!(
                a.verify_header_signature(&decoded).unwrap(),
                gateway_hash(&fx)
            );
        }
    }
}

#[test]
fn bodies_are_canonical_json() {
    let block = map(&sepolia()[7]);
    for body in &block.bodies {
        let v: Value = serde_json::from_slice(body).unwrap();
        let mut again = Vec::new();
        gateway::write_canonical(&v, &mut again);
        assert_eq!(&again[..], &body[..]);
    }
    let events: Value = serde_json::from_slice(&block.bodies[2]).unwrap();
    assert_eq!(
        events.as_array().unwrap().len(),
        17,
        "one entry per transaction"
    );
}

#[test]
fn changed_calldata_is_a_transaction_hash_mismatch() {
    // sepolia 3: INVOKE v1 (Pedersen); 63881: INVOKE v3 (Poseidon) at index 1.
    let err = verify_edited(
        &sepolia()[3],
        |b| bump(&mut b["transactions"][1]["calldata"][0]),
        |_| {},
    )
    .unwrap_err();
    assert_eq!(err, VerifyError::TransactionHash { index: 1 });
    assert_eq!(err.reason(), "transaction_hash_mismatch");
    let fx = integration_63881();
    let a = adapter(&fx);
    let b = a
        .block_from_gateway(
            &edited(fx.block, |b| bump(&mut b["transactions"][1]["calldata"][2])),
            fx.state_update,
            b"",
        )
        .unwrap();
    let err = a
        .verify_body(&b.header, Component::Transactions, &b.bodies[0])
        .unwrap_err();
    assert_eq!(err, VerifyError::TransactionHash { index: 1 });
}

#[test]
fn changed_signature_of_a_transaction_is_a_commitment_mismatch() {
    let err = verify_edited(
        &sepolia()[4],
        |b| bump(&mut b["transactions"][0]["signature"][0]),
        |_| {},
    )
    .unwrap_err();
    assert_eq!(
        err,
        VerifyError::CommitmentMismatch {
            component: Component::Transactions
        }
    );
}

#[test]
fn changed_event_is_a_commitment_mismatch() {
    for (fx, field) in [(sepolia()[4], "keys"), (integration_35748(), "data")] {
        let err = verify_edited(
            &fx,
            |b| bump(&mut b["transaction_receipts"][0]["events"][0][field][0]),
            |_| {},
        )
        .unwrap_err();
        assert_eq!(
            err,
            VerifyError::CommitmentMismatch {
                component: Component::Events
            },
            "{}",
            fx.number
        );
    }
}

#[test]
fn changed_receipt_is_a_commitment_mismatch_from_0_13_2() {
    let err = verify_edited(
        &integration_35748(),
        |b| bump(&mut b["transaction_receipts"][1]["actual_fee"]),
        |_| {},
    )
    .unwrap_err();
    assert_eq!(
        err,
        VerifyError::CommitmentMismatch {
            component: Component::Receipts
        }
    );
}

#[test]
fn changed_state_diff_is_a_commitment_mismatch_where_bound() {
    // Legacy signature (0.12.3) binds it through signature_input.
    let storage = |s: &mut Value| {
        let diffs = s["state_diff"]["storage_diffs"].as_object_mut().unwrap();
        let first = diffs.values_mut().next().unwrap();
        bump(&mut first[0]["value"]);
    };
    let err = verify_edited(&sepolia()[4], |_| {}, storage).unwrap_err();
    assert_eq!(
        err,
        VerifyError::CommitmentMismatch {
            component: Component::StateDiffs
        }
    );
    // 0.13.2: STARKNET_STATE_DIFF0 in the block hash.
    let nonce = |s: &mut Value| {
        let nonces = s["state_diff"]["nonces"].as_object_mut().unwrap();
        bump(nonces.values_mut().next().unwrap());
    };
    let err = verify_edited(&integration_35748(), |_| {}, nonce).unwrap_err();
    assert_eq!(
        err,
        VerifyError::CommitmentMismatch {
            component: Component::StateDiffs
        }
    );
    // A new-form signature before 0.13.2 binds no state diff: the change goes through.
    assert!(verify_edited(&sepolia()[7], |_| {}, storage).is_ok());
}

#[test]
fn changed_body_is_blamed_on_its_component_alone() {
    // The P2P path: the header is good, one component arrives tampered.
    let fx = integration_35748();
    let (a, good) = (adapter(&fx), map(&fx));
    let bad = map(&Fx {
        block: Box::leak(
            edited(fx.block, |b| {
                bump(&mut b["transaction_receipts"][0]["events"][0]["keys"][0])
            })
            .into(),
        ),
        ..fx
    });
    assert_eq!(
        a.verify_body(&good.header, Component::Events, &bad.bodies[2]),
        Err(VerifyError::CommitmentMismatch {
            component: Component::Events
        })
    );
    a.verify_body(&good.header, Component::Receipts, &bad.bodies[1])
        .unwrap();
}

#[test]
fn changed_signature_s_is_a_bad_signature() {
    for fx in [sepolia()[0], sepolia()[7], integration_35748()] {
        let a = adapter(&fx);
        let sig = edited(fx.signature, |s| bump(&mut s["signature"][1]));
        let block = a
            .block_from_gateway(fx.block, fx.state_update, &sig)
            .unwrap();
        assert_eq!(
            a.verify_block(&block, None),
            Err(VerifyError::BadSignature),
            "{}",
            fx.number
        );
    }
}

#[test]
fn changed_parent_hash_is_refused() {
    let [zero, one, ..] = sepolia();
    let parent = map(&zero).header;
    let bad = |b: &mut Value| bump(&mut b["parent_block_hash"]);
    let a = adapter(&one);
    let block = a
        .block_from_gateway(&edited(one.block, bad), one.state_update, one.signature)
        .unwrap();
    let err = a.verify_block(&block, Some(&parent)).unwrap_err();
    assert_eq!(err.reason(), "parent_mismatch");
    assert_eq!(a.verify_block(&block, None), Err(VerifyError::BadSignature));
}

#[test]
fn receipts_and_events_must_follow_the_transactions_before_0_13_2() {
    // Nothing commits to receipts before 0.13.2: the cross-check catches a swap.
    let fx = sepolia()[3];
    let swap = |b: &mut Value| {
        let receipts = b["transaction_receipts"].as_array_mut().unwrap();
        let h0 = receipts[0]["transaction_hash"].take();
        receipts[0]["transaction_hash"] = receipts[1]["transaction_hash"].take();
        receipts[1]["transaction_hash"] = h0;
    };
    let err = verify_edited(&fx, swap, |_| {}).unwrap_err();
    assert_eq!(
        err,
        VerifyError::TransactionLink {
            component: Component::Receipts,
            index: 0
        }
    );
    assert_eq!(err.reason(), "transaction_link_mismatch");
    // Each component alone still passes (nothing commits to receipts); the link check
    // catches it on its own, as the sync pipeline would run it.
    let a = adapter(&fx);
    let block = a
        .block_from_gateway(&edited(fx.block, swap), fx.state_update, fx.signature)
        .unwrap();
    for (component, body) in BODY_COMPONENTS.iter().zip(&block.bodies) {
        a.verify_body(&block.header, *component, body).unwrap();
    }
    assert_eq!(
        a.verify_cross_links(&block.bodies).unwrap_err().reason(),
        "transaction_link_mismatch"
    );
    a.verify_cross_links(&map(&fx).bodies).unwrap();
}

#[test]
fn wrong_chain_id_is_a_transaction_hash_mismatch() {
    let fx = sepolia()[3];
    let key = key(fixture!("sepolia/public_key.json"));
    // Not SN_MAIN: mainnet's blocks below 833 have another block-hash rule (era.rs), so the
    // signature check would refuse this low-numbered block first.
    let a = StarknetAdapter::new("SN_GOERLI", &key).unwrap();
    let block = a
        .block_from_gateway(fx.block, fx.state_update, fx.signature)
        .unwrap();
    assert_eq!(
        a.verify_block(&block, None),
        Err(VerifyError::TransactionHash { index: 0 })
    );
}

#[test]
fn garbage_is_malformed_naming_the_field() {
    let fx = sepolia()[3];
    let a = adapter(&fx);
    let garbage = edited(fx.block, |b| {
        b["transactions"][0]["calldata"][1] = Value::String("0xnope".into())
    });
    let block = a
        .block_from_gateway(&garbage, fx.state_update, fx.signature)
        .unwrap();
    let err = a.verify_block(&block, None).unwrap_err();
    assert_eq!(err.reason(), "malformed");
    assert!(err.to_string().contains("[0].calldata[1]"), "{err}");
    let err = a
        .block_from_gateway(b"{\"block_number\": 1", fx.state_update, fx.signature)
        .unwrap_err();
    assert_eq!(err.reason(), "malformed");
    let no_root = edited(fx.block, |b| {
        drop(b.as_object_mut().unwrap().remove("state_root"))
    });
    let err = a
        .block_from_gateway(&no_root, fx.state_update, fx.signature)
        .unwrap_err();
    assert!(err.to_string().contains("state_root"), "{err}");
    let err = a.decode_header(b"not json").unwrap_err();
    assert_eq!(err.reason(), "malformed");
    let block = map(&fx);
    for component in BODY_COMPONENTS {
        let err = a.verify_body(&block.header, component, b"[{]").unwrap_err();
        assert_eq!(err.reason(), "malformed");
    }
}

#[test]
fn mismatched_gateway_answers_are_malformed() {
    let [_, one, two, ..] = sepolia();
    let a = adapter(&one);
    assert_eq!(
        a.block_from_gateway(one.block, two.state_update, one.signature)
            .unwrap_err()
            .reason(),
        "malformed"
    );
    assert_eq!(
        a.block_from_gateway(one.block, one.state_update, two.signature)
            .unwrap_err()
            .reason(),
        "malformed"
    );
}

#[test]
fn unknown_transaction_versions_are_trusted_by_hash_and_counted() {
    let fx = sepolia()[3];
    let a = adapter(&fx);
    let future = edited(fx.block, |b| {
        b["transactions"][0]["version"] = Value::String("0x9".into())
    });
    let block = a
        .block_from_gateway(&future, fx.state_update, fx.signature)
        .unwrap();
    a.verify_block(&block, None).unwrap();
    assert_eq!(a.unhashed_transactions(), 1);
}

#[test]
fn adapter_refuses_bad_configuration() {
    assert!(StarknetAdapter::new(&"X".repeat(32), &[1]).is_err());
    assert!(StarknetAdapter::new("SN_SEPOLIA", &[0xff; 32]).is_err());
    assert!(StarknetAdapter::new("SN_SEPOLIA", &[1; 33]).is_err());
    assert_eq!(
        StarknetAdapter::new("SN_SEPOLIA", &[1]).unwrap().chain_id(),
        "SN_SEPOLIA"
    );
}
