//! Serde through `FromStr`/`Display`, so typed values (multiaddrs, peer addresses) are parsed
//! when the configuration is read and a bad one is reported with its key.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};
use std::fmt::Display;
use std::str::FromStr;

/// A list of values, each parsed from its string form.
pub mod vec {
    use super::*;

    pub fn serialize<T: Display, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|x| x.to_string()))
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<Vec<T>, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        let raw = Vec::<String>::deserialize(d)?;
        raw.iter()
            .map(|s| T::from_str(s).map_err(|e| D::Error::custom(format!("`{s}`: {e}"))))
            .collect()
    }
}
