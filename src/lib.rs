//! Wharf: bootstrap and feeder relay for blockchain peer-to-peer networks.
//!
//! Everything lives in the library so tests start the real node in-process.

pub mod chain;
pub mod feeder;
pub mod gateway;
pub mod store;
pub mod sync;
