//! SHA-256 binary Merkle root, the devnet's component commitment (exact rules in the
//! parent module's docs).

use sha2::{Digest, Sha256};

/// Merkle root over `items`: leaves `SHA-256(0x00 || item)`, nodes
/// `SHA-256(0x01 || left || right)`, an odd last node carried up, empty root all zeros.
pub fn merkle_root<T: AsRef<[u8]>>(items: &[T]) -> [u8; 32] {
    let mut level: Vec<[u8; 32]> = items.iter().map(|i| leaf(i.as_ref())).collect();
    if level.is_empty() {
        return [0; 32];
    }
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => node(left, right),
                [single] => *single,
                _ => unreachable!("chunks(2) yields one or two nodes"),
            })
            .collect();
    }
    level[0]
}

fn leaf(item: &[u8]) -> [u8; 32] {
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
