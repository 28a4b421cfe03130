//! Integration tests of the libp2p node: real swarms on 127.0.0.1 in one process.

mod common;

#[path = "p2p/circuit.rs"]
mod circuit;
#[path = "p2p/discovery.rs"]
mod discovery;
#[path = "p2p/gossip.rs"]
mod gossip;
#[path = "p2p/handshake.rs"]
mod handshake;
#[path = "p2p/limits.rs"]
mod limits;
#[path = "p2p/pnet.rs"]
mod pnet;
#[path = "p2p/restart.rs"]
mod restart;
#[path = "p2p/shared_ip.rs"]
mod shared_ip;
#[path = "p2p/swarms.rs"]
mod swarms;
