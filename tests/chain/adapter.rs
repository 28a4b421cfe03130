//! Devnet adapter: encodings round-trip and every tamper class is refused with its reason.

use bytes::Bytes;
use wharf::chain::devnet::{
    decode_items, encode_items, keypair_from_seed, DevnetAdapter, DevnetMinter,
};
use wharf::chain::wire::{decode_block, encode_block};
use wharf::chain::{Block, ChainAdapter, Component, VerifiedBlock, VerifyError};

use crate::helpers::{mint_chain, minter, params};

fn two_blocks() -> (DevnetMinter, Block, Block) {
    let minter = minter();
    let mut blocks = mint_chain(&minter, 2);
    let child = blocks.pop().unwrap();
    (minter, blocks.pop().unwrap(), child)
}

fn reason(result: Result<VerifiedBlock, VerifyError>) -> &'static str {
    result.expect_err("block must be refused").reason()
}

#[test]
fn header_and_block_round_trip() {
    let (minter, genesis, child) = two_blocks();
    let adapter = minter.adapter();
    let bytes = adapter.encode_header(&child.header);
    assert_eq!(adapter.decode_header(&bytes).unwrap(), child.header);
    let wire = encode_block(adapter, &child);
    assert_eq!(decode_block(adapter, &wire).unwrap(), child);
    let hash = adapter
        .verify_block(&child, Some(&genesis.header))
        .unwrap()
        .hash;
    assert_eq!(hash, adapter.block_hash(&child.header));
    assert_eq!(
        child.header.parent_hash,
        adapter.block_hash(&genesis.header)
    );
    assert_eq!(child.header.body(Component::Transactions).unwrap().count, 8);
}

#[test]
fn items_round_trip_and_minting_is_deterministic() {
    let items: Vec<&[u8]> = vec![b"a", b"", b"ccc"];
    assert_eq!(decode_items(&encode_items(&items)).unwrap(), items);
    assert!(decode_items(&[0, 0, 0, 9, 1]).is_err());
    let again = DevnetMinter::new(keypair_from_seed(7), params());
    assert_eq!(mint_chain(&minter(), 3), mint_chain(&again, 3));
}

#[test]
fn tampered_transaction_is_a_commitment_mismatch() {
    let (minter, genesis, mut child) = two_blocks();
    let mut txs = child.bodies[0].to_vec();
    txs[10] ^= 1;
    child.bodies[0] = Bytes::from(txs);
    let err = minter
        .adapter()
        .verify_block(&child, Some(&genesis.header))
        .unwrap_err();
    assert_eq!(
        err,
        VerifyError::CommitmentMismatch {
            component: Component::Transactions
        }
    );
    assert_eq!(err.reason(), "commitment_mismatch");
}

#[test]
fn extra_or_missing_items_are_a_count_mismatch() {
    let (minter, genesis, mut child) = two_blocks();
    let mut events = decode_items(&child.bodies[2]).unwrap();
    events.push(b"forged");
    child.bodies[2] = encode_items(&events);
    assert_eq!(
        reason(minter.adapter().verify_block(&child, Some(&genesis.header))),
        "count_mismatch"
    );
    let receipts = decode_items(&child.bodies[1]).unwrap();
    child.bodies[2] = encode_items(&receipts[..3]);
    assert_eq!(
        reason(minter.adapter().verify_block(&child, Some(&genesis.header))),
        "count_mismatch"
    );
}

#[test]
fn bad_signature_and_foreign_key_are_refused() {
    let (minter, genesis, mut child) = two_blocks();
    let foreign = DevnetAdapter::new(keypair_from_seed(8).public());
    assert_eq!(
        reason(foreign.verify_block(&child, Some(&genesis.header))),
        "bad_signature"
    );
    let mut sig = child.header.signature.to_vec();
    sig[5] ^= 1;
    child.header.signature = Bytes::from(sig);
    assert_eq!(
        reason(minter.adapter().verify_block(&child, None)),
        "bad_signature"
    );
}

#[test]
fn edited_header_field_breaks_the_signature() {
    let (minter, _, mut child) = two_blocks();
    child.header.timestamp_ms += 1;
    assert_eq!(
        reason(minter.adapter().verify_block(&child, None)),
        "bad_signature"
    );
}

#[test]
fn wrong_parent_is_a_parent_mismatch() {
    let (minter, genesis, child) = two_blocks();
    let mut fork = genesis.clone();
    fork.header.timestamp_ms += 1;
    minter.sign(&mut fork.header);
    assert_eq!(
        reason(minter.adapter().verify_block(&child, Some(&fork.header))),
        "parent_mismatch"
    );
    assert_eq!(
        reason(minter.adapter().verify_block(&genesis, Some(&child.header))),
        "wrong_number"
    );
}

#[test]
fn unexpected_hash_is_a_hash_mismatch() {
    let (minter, genesis, child) = two_blocks();
    let adapter = minter.adapter();
    let err = adapter
        .verify_hash(&child.header, &adapter.block_hash(&genesis.header))
        .unwrap_err();
    assert_eq!(err.reason(), "hash_mismatch");
    adapter
        .verify_hash(&child.header, &adapter.block_hash(&child.header))
        .unwrap();
}

#[test]
fn garbage_is_malformed_never_a_panic() {
    let (minter, _, child) = two_blocks();
    let adapter = minter.adapter();
    let header = adapter.encode_header(&child.header);
    for cut in [0, 7, 100, header.len() - 1] {
        assert_eq!(
            adapter.decode_header(&header[..cut]).unwrap_err().reason(),
            "malformed"
        );
    }
    let mut long = header.clone();
    long.push(0);
    assert_eq!(
        adapter.decode_header(&long).unwrap_err().reason(),
        "malformed"
    );
    let wire = encode_block(adapter, &child);
    for cut in [0, 3, 50, wire.len() - 1] {
        assert!(decode_block(adapter, &wire.slice(..cut)).is_err());
    }
    let huge = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    assert_eq!(
        decode_block(adapter, &huge).unwrap_err().reason(),
        "malformed"
    );
    let body_err = adapter
        .verify_body(&child.header, Component::Events, &[0, 0, 1])
        .unwrap_err();
    assert_eq!(body_err.reason(), "malformed");
}

#[test]
fn batch_signature_check_agrees_with_single_checks_and_names_the_first_bad_header() {
    let minter = minter();
    let blocks = mint_chain(&minter, 40);
    let adapter = minter.adapter();
    let headers: Vec<_> = blocks.iter().map(|b| b.header.clone()).collect();
    let refs: Vec<_> = headers.iter().collect();
    let hashes = adapter.verify_header_signatures(&refs).unwrap();
    let single: Vec<_> = headers.iter().map(|h| adapter.block_hash(h)).collect();
    assert_eq!(hashes, single);

    let mut tampered = headers.clone();
    tampered[17].signature = tampered[16].signature.clone();
    tampered[30].timestamp_ms += 1;
    let refs: Vec<_> = tampered.iter().collect();
    let (index, error) = adapter.verify_header_signatures(&refs).unwrap_err();
    assert_eq!((index, error), (17, VerifyError::BadSignature));

    let mut short = headers.clone();
    short[3].signature = Bytes::from_static(b"not 64 bytes");
    let refs: Vec<_> = short.iter().collect();
    let (index, _) = adapter.verify_header_signatures(&refs).unwrap_err();
    assert_eq!(index, 3);
    assert!(adapter.verify_header_signatures(&[]).unwrap().is_empty());
}
