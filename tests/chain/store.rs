//! Block store: commit, reads, ranges, refusals, atomic batches and reopening.

use wharf::chain::{ChainAdapter, Component, BODY_COMPONENTS};
use wharf::store::StoreError;

use crate::helpers::{adapter, mint_chain, minter, open_store};

#[test]
fn commit_then_read_headers_bodies_and_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let minter = minter();
    let blocks = mint_chain(&minter, 10);
    let store = open_store(dir.path(), adapter(&minter));
    assert_eq!(store.head(), None);
    for block in &blocks {
        store.commit(block).unwrap();
    }
    let head_hash = minter.adapter().block_hash(&blocks[9].header);
    assert_eq!(store.head(), Some((9, head_hash)));
    assert_eq!(store.hash(9).unwrap(), Some(head_hash));
    for (n, block) in blocks.iter().enumerate() {
        assert_eq!(store.block(n as u64).unwrap().as_ref(), Some(block));
    }
    let txs = store.range(Component::Transactions, 3, 4).unwrap();
    assert_eq!(
        txs,
        blocks[3..7]
            .iter()
            .map(|b| b.bodies[0].clone())
            .collect::<Vec<_>>()
    );
    let headers = store.range(Component::Headers, 8, 100).unwrap();
    assert_eq!(headers.len(), 2, "a range stops at the head");
    assert_eq!(
        headers[1],
        minter.adapter().encode_header(&blocks[9].header)
    );
    assert!(store.range(Component::Events, 10, 5).unwrap().is_empty());
    assert!(store.range(Component::Events, 0, 0).unwrap().is_empty());
    assert_eq!(
        store.body(4, Component::StateDiffs).unwrap(),
        Some(blocks[4].bodies[3].clone())
    );
}

#[test]
fn refuses_gaps_and_foreign_parents() {
    let dir = tempfile::tempdir().unwrap();
    let minter = minter();
    let blocks = mint_chain(&minter, 3);
    let store = open_store(dir.path(), adapter(&minter));
    let gap = store.commit(&blocks[1]).unwrap_err();
    assert!(
        matches!(
            gap,
            StoreError::NotContiguous {
                expected: 0,
                got: 1
            }
        ),
        "{gap}"
    );
    store.commit(&blocks[0]).unwrap();
    let mut fork = blocks[1].clone();
    fork.header.parent_hash = wharf::chain::BlockHash([9; 32]);
    let err = store.commit(&fork).unwrap_err();
    assert!(
        matches!(err, StoreError::ParentMismatch { number: 1, .. }),
        "{err}"
    );
    assert!(matches!(
        store.commit(&blocks[0]),
        Err(StoreError::NotContiguous { .. })
    ));
    assert_eq!(store.head().unwrap().0, 0);
    assert_eq!(store.block(1).unwrap(), None);
}

#[test]
fn a_batch_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let minter = minter();
    let mut blocks = mint_chain(&minter, 5);
    let store = open_store(dir.path(), adapter(&minter));
    blocks[3].header.parent_hash = wharf::chain::BlockHash([1; 32]);
    assert!(store.commit_batch(&blocks).is_err());
    assert_eq!(store.head(), None);
    assert_eq!(store.block(0).unwrap(), None);
    let head = store.commit_batch(&blocks[..3]).unwrap().unwrap();
    assert_eq!(head.0, 2);
    for component in BODY_COMPONENTS {
        assert_eq!(store.range(component, 0, 10).unwrap().len(), 3);
    }
}

#[test]
fn reopens_at_the_last_committed_block() {
    let dir = tempfile::tempdir().unwrap();
    let minter = minter();
    let blocks = mint_chain(&minter, 6);
    let store = open_store(dir.path(), adapter(&minter));
    store.commit_batch(&blocks[..4]).unwrap();
    let head = store.head();
    drop(store);
    let store = open_store(dir.path(), adapter(&minter));
    assert_eq!(store.head(), head);
    store.commit(&blocks[4]).unwrap();
    store.commit(&blocks[5]).unwrap();
    assert_eq!(store.block(5).unwrap().as_ref(), Some(&blocks[5]));
    assert_eq!(store.range(Component::Receipts, 0, 100).unwrap().len(), 6);
}

/// A block's classes move in its transaction: a commit that fails on one class (named as
/// already stored, and it is not) stores neither the block nor its other classes; a class shared
/// by two blocks is stored once and read back in each block's bundle.
#[test]
fn a_block_and_its_classes_are_committed_together_or_not_at_all() {
    use wharf::chain::classes::{decode_bundle, encode_bundle};
    use wharf::chain::ClassEntry;
    let dir = tempfile::tempdir().unwrap();
    let minter = minter();
    let mut blocks = mint_chain(&minter, 2);
    let store = open_store(dir.path(), adapter(&minter));
    let class = |byte: u8, def: &'static str| ClassEntry {
        hash: [byte; 32],
        definition: def.as_bytes().to_vec().into(),
    };
    blocks[0].classes = encode_bundle(&[class(1, "{\"a\":1}"), class(2, "")]);
    let err = store.commit(&blocks[0]).unwrap_err();
    assert!(matches!(err, StoreError::MissingClass(_)), "{err}");
    assert_eq!(store.head(), None);
    assert_eq!(
        store.class(&[1; 32]).unwrap(),
        None,
        "nothing of the block stored"
    );

    blocks[0].classes = encode_bundle(&[class(1, "{\"a\":1}"), class(2, "{\"b\":2}")]);
    blocks[1].classes = encode_bundle(&[class(2, "")]);
    store.commit_batch(&blocks).unwrap();
    assert_eq!(
        store.class(&[2; 32]).unwrap().unwrap(),
        "{\"b\":2}".as_bytes()
    );
    assert_eq!(store.block(0).unwrap().unwrap().classes, blocks[0].classes);
    let second = store.body(1, Component::Classes).unwrap().unwrap();
    assert_eq!(decode_bundle(&second).unwrap(), vec![class(2, "{\"b\":2}")]);
    let bundles = store.range(Component::Classes, 0, 5).unwrap();
    assert_eq!(bundles.len(), 2, "a class range stops at the head");
}

/// `wharf store rollback --to N` as an operator runs it: blocks above N are gone, N is the head,
/// and the chain can grow again from N + 1; rolling forward or to a missing block is refused.
#[test]
fn the_rollback_command_makes_n_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let minter = minter();
    let blocks = mint_chain(&minter, 8);
    let store = open_store(dir.path(), adapter(&minter));
    for block in &blocks {
        store.commit(block).unwrap();
    }
    drop(store);
    let wharf = |to: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_wharf"))
            .args(["store", "rollback", "--to", to, "--data-dir"])
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let out = wharf("4");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("from 7 to 4"), "{stdout}");
    let store = open_store(dir.path(), adapter(&minter));
    let hash4 = minter.adapter().block_hash(&blocks[4].header);
    assert_eq!(store.head(), Some((4, hash4)));
    for n in 5..8u64 {
        assert_eq!(store.block(n).unwrap(), None, "block {n} deleted");
        assert_eq!(store.hash(n).unwrap(), None);
        let gone = minter.adapter().block_hash(&blocks[n as usize].header);
        assert_eq!(
            store.number_of(&gone).unwrap(),
            None,
            "block {n} leaves the hash index"
        );
    }
    assert_eq!(
        store.number_of(&hash4).unwrap(),
        Some(4),
        "kept blocks stay findable by hash"
    );
    store.commit(&blocks[5]).expect("grows again from 5");
    drop(store);
    let out = wharf("7");
    assert!(!out.status.success(), "block 7 is no longer stored");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("block 7 is not stored"),
        "{out:?}"
    );
}

#[test]
fn a_store_written_before_the_hash_index_gets_it_rebuilt_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let minter = minter();
    let blocks = mint_chain(&minter, 4);
    let store = open_store(dir.path(), adapter(&minter));
    for block in &blocks {
        store.commit(block).unwrap();
    }
    drop(store);
    {
        let db = redb::Database::create(dir.path().join(wharf::store::BLOCKS_FILE)).unwrap();
        let txn = db.begin_write().unwrap();
        let index: redb::TableDefinition<&[u8], u64> = redb::TableDefinition::new("numbers");
        assert!(txn.delete_table(index).unwrap(), "the index existed");
        txn.commit().unwrap();
    }
    let store = open_store(dir.path(), adapter(&minter));
    for (n, block) in blocks.iter().enumerate() {
        let hash = minter.adapter().block_hash(&block.header);
        assert_eq!(store.number_of(&hash).unwrap(), Some(n as u64), "block {n}");
    }
}
