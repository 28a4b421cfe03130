//! Starknet protocol versions (`starknet_version`, e.g. `0.13.2`): which hashing
//! rules a block follows.

/// A parsed `starknet_version`; blocks without one (very old) are `0.0.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Version(pub [u16; 4]);

impl Version {
    /// 0.11.1: every transaction's signature enters the (Pedersen) commitment leaf.
    pub const V0_11_1: Version = Version([0, 11, 1, 0]);
    /// 0.13.2: Poseidon commitments, receipt and state-diff commitments, `STARKNET_BLOCK_HASH0`.
    pub const V0_13_2: Version = Version([0, 13, 2, 0]);
    /// 0.13.4: `STARKNET_BLOCK_HASH1` with `STARKNET_GAS_PRICES0`; empty signatures stay empty.
    pub const V0_13_4: Version = Version([0, 13, 4, 0]);

    /// Parses `a.b.c` or `a.b.c.d`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Version> {
        let mut parts = [0u16; 4];
        let mut n = 0;
        for part in s.split('.') {
            if n == 4 || part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            parts[n] = part.parse().ok()?;
            n += 1;
        }
        (n >= 3).then_some(Version(parts))
    }

    /// Poseidon-era block (0.13.2 and later): commits to receipts and the state diff.
    pub fn is_poseidon(self) -> bool {
        self >= Self::V0_13_2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        assert_eq!(Version::parse("0.13.2"), Some(Version::V0_13_2));
        assert!(Version::parse("0.13.1.1").unwrap() < Version::V0_13_2);
        assert!(Version::parse("0.14.0").unwrap() > Version::V0_13_4);
        assert_eq!(Version::parse("0.13"), None);
        assert_eq!(Version::parse("0.13.x"), None);
        assert_eq!(Version::parse("1.2.3.4.5"), None);
    }
}
