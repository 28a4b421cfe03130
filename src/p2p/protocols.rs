//! Protocol ids, all scoped by the network name so relays of different networks never mix.

use libp2p::StreamProtocol;

/// The ids one node speaks.
#[derive(Debug, Clone)]
pub struct Protocols {
    /// `/wharf/<network>/kad/1.0.0`
    pub kad: StreamProtocol,
    /// identify protocol version: `/wharf/<network>/1.0.0`
    pub identify: String,
    /// identify agent version: `wharf/<crate version>`
    pub agent: String,
    /// A peer announcing this (the header sync protocol) can serve block sync.
    pub sync_probe: StreamProtocol,
}

impl Protocols {
    /// Ids for `network` (already validated to be a safe name).
    pub fn new(network: &str) -> Self {
        Self {
            kad: StreamProtocol::try_from_owned(format!("/wharf/{network}/kad/1.0.0"))
                .expect("network names are validated to form a protocol id"),
            identify: format!("/wharf/{network}/1.0.0"),
            agent: format!("wharf/{}", env!("CARGO_PKG_VERSION")),
            sync_probe: StreamProtocol::try_from_owned(format!(
                "/wharf/{network}/sync/headers/1.0.0"
            ))
            .expect("network names are validated to form a protocol id"),
        }
    }
}
