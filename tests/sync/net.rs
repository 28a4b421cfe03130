//! Real libp2p swarms on 127.0.0.1: the benchmark's nodes (production TCP transport with Noise
//! and Yamux, libp2p-stream only).

use std::time::Duration;

pub use wharf::bench::BenchNode as Node;

/// Deadline for anything the tests wait on.
pub const DEADLINE: Duration = Duration::from_secs(30);
