//! Wharf: bootstrap and feeder relay for blockchain peer-to-peer networks.
//!
//! Everything lives in the library so tests start the real node in-process.

pub mod api;
pub mod app;
pub mod bench;
pub mod chain;
pub mod cli;
pub mod config;
pub mod control;
pub mod devnet;
pub mod events;
pub mod feeder;
#[doc(hidden)]
pub mod fuzz;
pub mod gateway;
pub mod metrics;
pub mod p2p;
pub mod secret;
pub mod store;
pub mod sync;
pub(crate) mod util;

pub use app::{App, AppError};
pub use config::Config;
