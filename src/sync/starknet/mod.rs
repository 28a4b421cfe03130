//! Starknet's own P2P sync protocols (`/starknet/<component>/0.1.0-rc.0`), so stock Starknet
//! nodes (Juno, Pathfinder, Madara, Apollo) can sync from a Wharf relay. For now this holds the
//! wire contract: the messages generated from `proto/starknet/`, which reproduce
//! `starknet-io/starknet-p2p-specs` field for field (see `proto/starknet/README.md`).

pub mod client;
pub mod map;

/// Messages generated from `proto/starknet/` (packages `starknet.common`, `starknet.sync.*`, ...).
#[allow(missing_docs, clippy::all)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/starknet_proto.rs"));
}

#[cfg(test)]
mod tests;
