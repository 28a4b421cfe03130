//! Roots of the height-64 binary Merkle-Patricia tries that Starknet commits
//! transactions, events and receipts with (key = item index, value = leaf hash).
//!
//! Node hashes: a leaf is its value; a binary node is `H(left, right)`; an edge node
//! (a path of `length` bits with one child) is `H(child, path) + length`. An empty
//! trie has root 0. `H` is Pedersen before 0.13.2 and Poseidon from 0.13.2 on.

use starknet_crypto::{pedersen_hash, poseidon_hash};

use super::felt::Felt;

/// The two-to-one hash of a trie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrieHash {
    /// Pedersen (before 0.13.2).
    Pedersen,
    /// Poseidon (0.13.2 and later).
    Poseidon,
}

impl TrieHash {
    /// `H(a, b)`.
    pub fn hash(self, a: &Felt, b: &Felt) -> Felt {
        match self {
            TrieHash::Pedersen => pedersen_hash(a, b),
            TrieHash::Poseidon => poseidon_hash(*a, *b),
        }
    }
}

const HEIGHT: u32 = 64;

/// Root of the trie holding `leaves[i]` at key `i`.
pub fn root(leaves: &[Felt], h: TrieHash) -> Felt {
    if leaves.is_empty() {
        return Felt::ZERO;
    }
    subtree(leaves, 0, 0, h)
}

/// Hash of the subtree whose leaves are `leaves` (keys `first..first+len`, sharing
/// their top `depth` bits), seen from `depth`: an edge down to the first bit where
/// the keys differ, then a binary node.
fn subtree(leaves: &[Felt], first: u64, depth: u32, h: TrieHash) -> Felt {
    let last = first + leaves.len() as u64 - 1;
    // First bit (from the top) where first and last differ; HEIGHT if equal.
    let split = if first == last {
        HEIGHT
    } else {
        (first ^ last).leading_zeros()
    };
    let below = if split == HEIGHT {
        leaves[0]
    } else {
        binary(leaves, first, split, h)
    };
    let length = split - depth;
    if length == 0 {
        return below;
    }
    let path = bits(first, depth, length);
    h.hash(&below, &Felt::from(path)) + Felt::from(length as u64)
}

/// Binary node at bit `split`: keys with a 0 there go left, with a 1 go right.
fn binary(leaves: &[Felt], first: u64, split: u32, h: TrieHash) -> Felt {
    let right_first = (first | (1u64 << (HEIGHT - 1 - split))) & !low_mask(HEIGHT - 1 - split);
    let n_left = (right_first - first) as usize;
    let (left, right) = leaves.split_at(n_left);
    let l = subtree(left, first, split + 1, h);
    let r = subtree(right, right_first, split + 1, h);
    h.hash(&l, &r)
}

/// `length` bits of `key` starting `depth` bits from the top.
fn bits(key: u64, depth: u32, length: u32) -> u64 {
    let shifted = key >> (HEIGHT - depth - length);
    if length == 64 {
        shifted
    } else {
        shifted & ((1u64 << length) - 1)
    }
}

fn low_mask(n: u32) -> u64 {
    if n == 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(hex: &str) -> Felt {
        Felt::from_hex_unchecked(hex)
    }

    #[test]
    fn empty_and_single() {
        assert_eq!(root(&[], TrieHash::Poseidon), Felt::ZERO);
        let v = Felt::from(7u64);
        let expected = poseidon_hash(v, Felt::ZERO) + Felt::from(64u64);
        assert_eq!(root(&[v], TrieHash::Poseidon), expected);
    }

    #[test]
    fn two_leaves_split_at_the_last_bit() {
        let (a, b) = (Felt::from(1u64), Felt::from(2u64));
        let node = pedersen_hash(&a, &b);
        let expected = pedersen_hash(&node, &Felt::ZERO) + Felt::from(63u64);
        assert_eq!(root(&[a, b], TrieHash::Pedersen), expected);
    }

    /// starknet-api `transaction_commitment_test`: two leaves `poseidon(1, 2, 3)`.
    #[test]
    fn matches_starknet_api_vector() {
        let leaf = starknet_crypto::poseidon_hash_many(&[Felt::ONE, Felt::TWO, Felt::THREE]);
        assert_eq!(
            root(&[leaf, leaf], TrieHash::Poseidon),
            f("0x0282b635972328bd1cfa86496fe920d20bd9440cd78ee8dc90ae2b383d664dcf")
        );
    }
}
