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
    /// On Starknet networks, the Kademlia ids Starknet nodes use: the chain id as text
    /// (`/starknet/kad/SN_SEPOLIA/1.0.0`: Pathfinder, Madara, Apollo) and as hex
    /// (`/starknet/kad/0x534e5f5345504f4c4941/1.0.0`: Pathfinder before 0.14). Empty elsewhere.
    pub starknet_kad: Vec<StreamProtocol>,
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
            starknet_kad: Vec::new(),
        }
    }

    /// Adds the Starknet Kademlia ids of `chain_id` (a short string such as `SN_SEPOLIA`).
    pub fn with_starknet(mut self, chain_id: Option<&str>) -> Self {
        let Some(id) = chain_id else {
            return self;
        };
        let forms = [id.to_string(), format!("0x{}", hex::encode(id.as_bytes()))];
        self.starknet_kad = forms
            .iter()
            .filter_map(|f| StreamProtocol::try_from_owned(format!("/starknet/kad/{f}/1.0.0")).ok())
            .collect();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starknet_kad_ids_take_the_chain_id_as_text_and_as_hex() {
        let p = Protocols::new("sepolia").with_starknet(Some("SN_SEPOLIA"));
        let ids: Vec<&str> = p.starknet_kad.iter().map(|s| s.as_ref()).collect();
        assert_eq!(
            ids,
            [
                "/starknet/kad/SN_SEPOLIA/1.0.0",
                "/starknet/kad/0x534e5f5345504f4c4941/1.0.0"
            ]
        );
        assert!(Protocols::new("devnet")
            .with_starknet(None)
            .starknet_kad
            .is_empty());
    }
}
