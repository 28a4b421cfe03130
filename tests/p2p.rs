//! Integration tests of the libp2p node: real swarms on 127.0.0.1 in one process.

mod common;

#[path = "p2p/circuit.rs"]
mod circuit;
#[path = "p2p/discovery.rs"]
mod discovery;
#[path = "p2p/gossip.rs"]
mod gossip;
#[path = "p2p/limits.rs"]
mod limits;
#[path = "p2p/pnet.rs"]
mod pnet;
#[path = "p2p/restart.rs"]
mod restart;
