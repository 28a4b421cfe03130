//! The pipeline's side of fetching over Starknet's own protocols (`sync.protocol`): which
//! slots may be asked yet, the parts a fetch is split by, and the verifier behind the early
//! checks (see `crate::sync::starknet::client`).

use std::sync::Arc;

use bytes::Bytes;

use crate::chain::{BlockNumber, Component};
use crate::sync::pipeline::chunk::Chunk;
use crate::sync::pipeline::BlockVerifier;
use crate::sync::source::component_index;
use crate::sync::starknet::client::{needs, Hints, WireCheck};

/// Whether every part `component`'s Starknet response is split by has arrived for `chunk`.
pub fn ready<H>(chunk: &Chunk<H>, component: Component) -> bool {
    needs(component)
        .iter()
        .all(|c| chunk.slots[component_index(*c)].data.is_some())
}

/// The parts of `chunk` a Starknet fetch of `component` is split by.
pub fn hints<H>(chunk: &Chunk<H>, component: Component) -> Hints {
    let mut hints = Hints::default();
    for c in needs(component) {
        let i = component_index(*c);
        hints.parts[i] = chunk.slots[i].data.clone().unwrap_or_default();
    }
    hints
}

/// The pipeline's verifier as the client's early check.
pub struct Checker<V>(pub Arc<V>);

impl<V: BlockVerifier> WireCheck for Checker<V> {
    fn header(&self, number: BlockNumber, header: &Bytes) -> Result<(), String> {
        self.0
            .verify_header(number, header)
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn body(
        &self,
        number: BlockNumber,
        header: &Bytes,
        component: Component,
        body: &Bytes,
    ) -> Result<(), String> {
        let header = self
            .0
            .verify_header(number, header)
            .map_err(|e| e.to_string())?;
        self.0
            .verify_body(&header, component, body)
            .map_err(|e| e.to_string())
    }
}
