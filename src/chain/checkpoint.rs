//! A trusted checkpoint, `<number>:<block hash>`: the operator vouches for one block so a relay
//! can start its chain there instead of replaying the whole history.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{BlockHash, BlockNumber};

/// Block `number` has hash `hash`, on the operator's word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// The first block the relay holds.
    pub number: BlockNumber,
    /// Its hash.
    pub hash: BlockHash,
}

/// Why a checkpoint string does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a checkpoint is <number>:<block hash, 1 to 64 hex digits, 0x optional>: {0}")]
pub struct ParseCheckpointError(String);

impl FromStr for Checkpoint {
    type Err = ParseCheckpointError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseCheckpointError(format!("`{s:.80}`"));
        let (number, hash) = s.split_once(':').ok_or_else(bad)?;
        let number = number.trim().parse().map_err(|_| bad())?;
        let digits = hash.trim();
        let digits = digits.strip_prefix("0x").unwrap_or(digits);
        if digits.is_empty() || digits.len() > 64 {
            return Err(bad());
        }
        let padded = format!("{digits:0>64}");
        let hash = padded.parse().map_err(|_| bad())?;
        Ok(Checkpoint { number, hash })
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:0x{}", self.number, self.hash)
    }
}

impl Serialize for Checkpoint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Checkpoint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_short_and_prefixed_hashes() {
        let c: Checkpoint =
            "2500:0x40db218b21b6de2bc954b7457a373f5bd1d3cc58f37f1b95a72543dc021db52"
                .parse()
                .unwrap();
        assert_eq!(c.number, 2500);
        assert_eq!(
            c.hash.to_string(),
            "040db218b21b6de2bc954b7457a373f5bd1d3cc58f37f1b95a72543dc021db52"
        );
        assert_eq!(c.to_string().parse::<Checkpoint>().unwrap(), c);
        for bad in [
            "2500",
            ":0x1",
            "x:0x1",
            "1:",
            "1:0xzz",
            &format!("1:{}", "1".repeat(65)),
        ] {
            assert!(bad.parse::<Checkpoint>().is_err(), "{bad}");
        }
    }
}
