//! Starknet's own P2P sync protocols (`/starknet/<component>/0.1.0-rc.0`), so stock Starknet
//! nodes (Juno, Pathfinder, Madara, Apollo) can sync from a Wharf relay: the messages generated
//! from `proto/starknet/` (they reproduce `starknet-io/starknet-p2p-specs` field for field, see
//! `proto/starknet/README.md`), the mapping between the store and the wire ([`map`]), the server,
//! and the client the P2P sync pipeline fetches over with `sync.protocol` ([`client`]).

pub mod client;

/// Messages generated from `proto/starknet/` (packages `starknet.common`, `starknet.sync.*`, ...).
#[allow(missing_docs, clippy::all)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/starknet_proto.rs"));
}

pub mod map;
pub mod protocol;
pub mod request;
pub mod server;
pub mod source;

pub use protocol::Protocol;
pub use server::StarknetServer;
pub use source::StarknetSource;

#[cfg(test)]
mod tests;
