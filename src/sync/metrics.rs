//! Prometheus metrics of the sync protocols, shared by the server, the client and the pipeline.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::chain::Component;

/// Labels of per-component counters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ComponentLabels {
    /// Component name (`headers`, `transactions`, ...).
    pub component: &'static str,
}

/// Labels of `wharf_sync_requests_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RequestLabels {
    /// `server` for requests we answered, `client` for requests we made.
    pub side: &'static str,
    /// Component name of the protocol.
    pub protocol: &'static str,
    /// `ok`, `not_found`, `refused`, `timeout` or `error`.
    pub outcome: &'static str,
}

/// How a request ended, as the `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every requested block was transferred.
    Ok,
    /// The server lacked a block and ended early.
    NotFound,
    /// The request was refused (limits, bad request, busy).
    Refused,
    /// A deadline passed.
    Timeout,
    /// Anything else: i/o errors, protocol violations, store errors.
    Error,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotFound => "not_found",
            Outcome::Refused => "refused",
            Outcome::Timeout => "timeout",
            Outcome::Error => "error",
        }
    }
}

/// Which end of a stream we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// We answered the request.
    Server,
    /// We made the request.
    Client,
}

/// Counters of the sync protocols and pipeline. Cheap to clone (shared atomics).
#[derive(Debug, Clone, Default)]
pub struct SyncMetrics {
    blocks_served: Family<ComponentLabels, Counter>,
    bytes_served: Family<ComponentLabels, Counter>,
    requests: Family<RequestLabels, Counter>,
    blocks_synced: Counter,
    chunk_retries: Family<ComponentLabels, Counter>,
}

impl SyncMetrics {
    /// Registers every sync metric in the shared registry.
    pub fn register(registry: &mut Registry) -> Self {
        let m = SyncMetrics::default();
        let r = registry;
        r.register(
            "wharf_blocks_served",
            "Block components served to peers",
            m.blocks_served.clone(),
        );
        r.register(
            "wharf_bytes_served",
            "Payload bytes of block components served to peers",
            m.bytes_served.clone(),
        );
        r.register(
            "wharf_sync_requests",
            "Sync protocol requests by side, protocol and outcome",
            m.requests.clone(),
        );
        r.register(
            "wharf_sync_blocks_committed",
            "Blocks verified and committed by the P2P sync pipeline",
            m.blocks_synced.clone(),
        );
        r.register(
            "wharf_sync_chunk_retries",
            "Chunk components re-requested from another peer",
            m.chunk_retries.clone(),
        );
        m
    }

    /// Counts one served item of `len` bytes.
    pub fn served(&self, component: Component, len: usize) {
        let labels = ComponentLabels {
            component: component.name(),
        };
        self.blocks_served.get_or_create(&labels).inc();
        self.bytes_served.get_or_create(&labels).inc_by(len as u64);
    }

    /// Counts one finished request.
    pub fn request(&self, side: Side, component: Component, outcome: Outcome) {
        self.request_on(side, component.name(), outcome);
    }

    /// Counts one finished request of the protocol labelled `protocol` (Starknet's protocols
    /// are `starknet_headers`, `starknet_state_diffs`, ...).
    pub fn request_on(&self, side: Side, protocol: &'static str, outcome: Outcome) {
        let side = match side {
            Side::Server => "server",
            Side::Client => "client",
        };
        let labels = RequestLabels {
            side,
            protocol,
            outcome: outcome.label(),
        };
        self.requests.get_or_create(&labels).inc();
    }

    /// Counts `len` bytes served on the protocol labelled `label` (one block's messages).
    pub fn served_on(&self, label: &'static str, len: usize) {
        let labels = ComponentLabels { component: label };
        self.blocks_served.get_or_create(&labels).inc();
        self.bytes_served.get_or_create(&labels).inc_by(len as u64);
    }

    /// Counts blocks committed by the pipeline.
    pub fn synced(&self, blocks: u64) {
        self.blocks_synced.inc_by(blocks);
    }

    /// Counts one retried chunk component.
    pub fn retried(&self, component: Component) {
        let labels = ComponentLabels {
            component: component.name(),
        };
        self.chunk_retries.get_or_create(&labels).inc();
    }
}
