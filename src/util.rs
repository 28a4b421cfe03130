//! Small serde helpers shared by API-facing types and config sections.

pub mod serde_str;

use serde::Serializer;
use std::fmt::Display;

/// Serializes a value through its `Display` form (peer ids, multiaddrs).
pub fn display<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Serializes a list through each item's `Display` form.
pub fn display_vec<T: Display, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|x| x.to_string()))
}
