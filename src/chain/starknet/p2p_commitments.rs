//! The 0.13.2 commitments recomputed for any block, so Starknet's P2P sync protocols can carry
//! a `state_diff_commitment` and a receipt commitment for blocks that predate them (the way
//! Pathfinder and Juno compute them when they sync from the feeder gateway). Nothing in a
//! pre-0.13.2 block hash binds these values; `proto/starknet/README.md` says what follows.

use super::commitment::{receipt_leaf, Receipt};
use super::felt::{from_json, Felt};
use super::state_diff::StateDiff;
use super::trie::{root, TrieHash};
use crate::chain::VerifyError;

/// The `STARKNET_STATE_DIFF0` commitment and the length of a state diff (Wharf's encoding).
pub fn state_diff_commitment(state_diff: &[u8]) -> Result<(u64, Felt), VerifyError> {
    let diff: StateDiff = from_json("state_diffs", state_diff)?;
    let diff = diff
        .normalize()
        .map_err(|e| VerifyError::malformed("state_diffs", e))?;
    Ok((diff.length(), diff.commitment()))
}

/// The 0.13.2 receipt commitment (Poseidon trie of receipt hashes) of a receipts component.
pub fn receipt_commitment(receipts: &[u8]) -> Result<Felt, VerifyError> {
    let receipts: Vec<Receipt<'_>> = from_json("receipts", receipts)?;
    let leaves: Vec<Felt> = receipts.iter().map(receipt_leaf).collect();
    Ok(root(&leaves, TrieHash::Poseidon))
}
