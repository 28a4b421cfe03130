//! SHA-256 binary Merkle root, the devnet's component commitment (exact rules in the
//! parent module's docs).

use sha2::{Digest, Sha256};

/// Merkle root over `items`: leaves `SHA-256(0x00 || item)`, nodes
/// `SHA-256(0x01 || left || right)`, an odd last node carried up, empty root all zeros.
pub fn merkle_root<T: AsRef<[u8]>>(items: &[T]) -> [u8; 32] {
    let mut level: Vec<[u8; 32]> = items.iter().map(|i| leaf(i.as_ref())).collect();
    root_of_leaves(&mut level)
}

/// The root over `level` (leaf hashes), reduced in place: no allocation per level.
pub(super) fn root_of_leaves(level: &mut [[u8; 32]]) -> [u8; 32] {
    let mut len = level.len();
    if len == 0 {
        return [0; 32];
    }
    while len > 1 {
        for i in 0..len / 2 {
            level[i] = node(&level[2 * i], &level[2 * i + 1]);
        }
        if len % 2 == 1 {
            level[len / 2] = level[len - 1];
        }
        len = len.div_ceil(2);
    }
    level[0]
}

pub(super) fn leaf(item: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update([0u8])
        .chain_update(item)
        .finalize()
        .into()
}

fn node(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update([1u8])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_single_and_odd_levels() {
        assert_eq!(merkle_root::<&[u8]>(&[]), [0; 32]);
        assert_eq!(merkle_root(&[b"a"]), leaf(b"a"));
        let (a, b, c) = (leaf(b"a"), leaf(b"b"), leaf(b"c"));
        assert_eq!(merkle_root(&[b"a", b"b", b"c"]), node(&node(&a, &b), &c));
    }
}
