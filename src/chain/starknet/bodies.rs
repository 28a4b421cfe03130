//! Verification of each body component against the Starknet header alone (so the
//! sync pipeline can blame the peer that sent a bad one), and the transaction hashes
//! each component references, for the whole-block cross-check.

use serde::Deserialize;

use super::commitment::{event_leaf, receipt_leaf, transaction_leaf, Event, Receipt};
use super::felt::{from_json, Felt, F};
use super::header::StarknetHeader;
use super::state_diff::StateDiff;
use super::transaction::{check_hash, HashCheck, Tx};
use super::trie::{root, TrieHash};
use super::version::Version;
use crate::chain::{Component, VerifyError};

/// One entry of the events component: a transaction's events with its hash.
#[derive(Debug, Deserialize)]
pub struct TxEvents {
    /// The transaction that emitted them.
    pub transaction_hash: F,
    /// Its events, in order.
    pub events: Vec<Event>,
}

/// What a verified component tells about the block's transactions.
#[derive(Debug, Default)]
pub struct Checked {
    /// Transaction hashes the component lists, in order.
    pub tx_hashes: Vec<Felt>,
    /// Transactions whose hash could not be recomputed (unknown kind or version).
    pub unhashed: u64,
}

fn trie_hash(v: Version) -> TrieHash {
    if v.is_poseidon() {
        TrieHash::Poseidon
    } else {
        TrieHash::Pedersen
    }
}

fn count_check(component: Component, expected: u32, actual: usize) -> Result<(), VerifyError> {
    let actual = u32::try_from(actual).unwrap_or(u32::MAX);
    if actual != expected {
        return Err(VerifyError::CountMismatch {
            component,
            expected,
            actual,
        });
    }
    Ok(())
}

fn commitment_check(component: Component, expected: Felt, actual: Felt) -> Result<(), VerifyError> {
    match expected == actual {
        true => Ok(()),
        false => Err(VerifyError::CommitmentMismatch { component }),
    }
}

/// Transactions: count, every recomputable hash, then the commitment.
pub fn transactions(
    h: &StarknetHeader,
    v: Version,
    chain_id: &Felt,
    body: &[u8],
) -> Result<Checked, VerifyError> {
    let txs: Vec<Tx<'_>> = from_json("transactions", body)?;
    count_check(Component::Transactions, h.transaction_count, txs.len())?;
    let mut out = Checked {
        tx_hashes: Vec::with_capacity(txs.len()),
        unhashed: 0,
    };
    let mut leaves = Vec::with_capacity(txs.len());
    for (index, tx) in txs.iter().enumerate() {
        let index = index as u32;
        match check_hash(tx, chain_id) {
            Ok(HashCheck::Match) => {}
            Ok(HashCheck::Unknown) => out.unhashed += 1,
            Ok(HashCheck::Mismatch) => return Err(VerifyError::TransactionHash { index }),
            Err(detail) => {
                return Err(VerifyError::malformed(
                    "transactions",
                    format_args!("[{index}] {}: {detail}", tx.kind),
                ))
            }
        }
        let hash = tx.transaction_hash.0;
        leaves.push(transaction_leaf(v, &tx.kind, &hash, &tx.signature));
        out.tx_hashes.push(hash);
    }
    commitment_check(
        Component::Transactions,
        h.transaction_commitment.0,
        root(&leaves, trie_hash(v)),
    )?;
    Ok(out)
}

/// Receipts: count, positions, and from 0.13.2 the receipt commitment.
pub fn receipts(h: &StarknetHeader, v: Version, body: &[u8]) -> Result<Checked, VerifyError> {
    let receipts: Vec<Receipt<'_>> = from_json("receipts", body)?;
    count_check(Component::Receipts, h.transaction_count, receipts.len())?;
    for (index, r) in receipts.iter().enumerate() {
        if r.transaction_index.is_some_and(|i| i != index as u64) {
            let index = index as u32;
            return Err(VerifyError::TransactionLink {
                component: Component::Receipts,
                index,
            });
        }
    }
    if let Some(expected) = h.receipt_commitment.filter(|_| v.is_poseidon()) {
        let leaves: Vec<Felt> = receipts.iter().map(receipt_leaf).collect();
        commitment_check(
            Component::Receipts,
            expected.0,
            root(&leaves, TrieHash::Poseidon),
        )?;
    }
    let tx_hashes = receipts.iter().map(|r| r.transaction_hash.0).collect();
    Ok(Checked {
        tx_hashes,
        unhashed: 0,
    })
}

/// Events: one entry per transaction, the event count, then the event commitment
/// (whose leaves include the transaction hash from 0.13.2 on).
pub fn events(h: &StarknetHeader, v: Version, body: &[u8]) -> Result<Checked, VerifyError> {
    let groups: Vec<TxEvents> = from_json("events", body)?;
    if groups.len() != h.transaction_count as usize {
        let detail = format_args!(
            "{} entries for {} transactions",
            groups.len(),
            h.transaction_count
        );
        return Err(VerifyError::malformed("events", detail));
    }
    let total = groups.iter().map(|g| g.events.len()).sum();
    count_check(Component::Events, h.event_count, total)?;
    let leaves: Vec<Felt> = groups
        .iter()
        .flat_map(|g| {
            g.events
                .iter()
                .map(move |e| event_leaf(v, e, &g.transaction_hash.0))
        })
        .collect();
    commitment_check(
        Component::Events,
        h.event_commitment.0,
        root(&leaves, trie_hash(v)),
    )?;
    let tx_hashes = groups.iter().map(|g| g.transaction_hash.0).collect();
    Ok(Checked {
        tx_hashes,
        unhashed: 0,
    })
}

/// State diff: length, `STARKNET_STATE_DIFF0` from 0.13.2, the legacy commitment when a
/// legacy signature signed one.
pub fn state_diff(h: &StarknetHeader, v: Version, body: &[u8]) -> Result<(), VerifyError> {
    let diff: StateDiff = from_json("state_diffs", body)?;
    let diff = diff
        .normalize()
        .map_err(|e| VerifyError::malformed("state_diffs", e))?;
    let length = usize::try_from(diff.length()).unwrap_or(usize::MAX);
    count_check(Component::StateDiffs, h.state_diff_length, length)?;
    if let Some(expected) = h.state_diff_commitment.filter(|_| v.is_poseidon()) {
        commitment_check(Component::StateDiffs, expected.0, diff.commitment())?;
    }
    if let Some(signed) = h.signed_state_diff_commitment {
        commitment_check(Component::StateDiffs, signed.0, diff.legacy_commitment())?;
    }
    Ok(())
}

/// Receipts and events must list the block's transactions, in order.
pub fn cross_check(
    txs: &Checked,
    component: Component,
    other: &Checked,
) -> Result<(), VerifyError> {
    let bad = txs
        .tx_hashes
        .iter()
        .zip(&other.tx_hashes)
        .position(|(a, b)| a != b);
    match bad {
        None if txs.tx_hashes.len() == other.tx_hashes.len() => Ok(()),
        None => Err(VerifyError::TransactionLink {
            component,
            index: txs.tx_hashes.len().min(other.tx_hashes.len()) as u32,
        }),
        Some(index) => Err(VerifyError::TransactionLink {
            component,
            index: index as u32,
        }),
    }
}

/// Parses the four components as verification does (state diff sorted too), without
/// hashing anything.
pub fn parse_only(bodies: &[bytes::Bytes; 4]) -> Result<(), VerifyError> {
    let _: Vec<Tx<'_>> = from_json("transactions", &bodies[0])?;
    let _: Vec<Receipt<'_>> = from_json("receipts", &bodies[1])?;
    let _: Vec<TxEvents> = from_json("events", &bodies[2])?;
    let diff: StateDiff = from_json("state_diffs", &bodies[3])?;
    diff.normalize()
        .map_err(|e| VerifyError::malformed("state_diffs", e))?;
    Ok(())
}

/// Any item that states a transaction hash (transaction, receipt, events entry).
#[derive(Deserialize)]
struct Stated {
    transaction_hash: F,
}

fn stated(what: &'static str, body: &[u8]) -> Result<Checked, VerifyError> {
    let items: Vec<Stated> = from_json(what, body)?;
    let tx_hashes = items.into_iter().map(|s| s.transaction_hash.0).collect();
    Ok(Checked {
        tx_hashes,
        unhashed: 0,
    })
}

/// The whole-block cross-check alone, from the stated hashes (no hashing): receipts
/// and events entries list the transactions' hashes in order.
pub fn links(bodies: &[bytes::Bytes; 4]) -> Result<(), VerifyError> {
    let txs = stated("transactions", &bodies[0])?;
    cross_check(&txs, Component::Receipts, &stated("receipts", &bodies[1])?)?;
    cross_check(&txs, Component::Events, &stated("events", &bodies[2])?)
}
