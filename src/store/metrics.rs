//! Store operation and error counters, labelled by store and operation (never by peer).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Labels `{store, op}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StoreLabels {
    /// Which store (`blocks`).
    pub store: &'static str,
    /// Operation (`commit`, `head`, `header`, `body`, `range`, `open`).
    pub op: &'static str,
}

/// `wharf_store_operations_total{store,op}` and `wharf_store_errors_total{store,op}`.
#[derive(Clone, Debug, Default)]
pub struct StoreMetrics {
    /// Operations attempted.
    pub operations: Family<StoreLabels, Counter>,
    /// Operations that failed.
    pub errors: Family<StoreLabels, Counter>,
}

impl StoreMetrics {
    /// Creates the counters and registers them in the shared registry.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        registry.register(
            "wharf_store_operations",
            "Store operations, by store and operation",
            m.operations.clone(),
        );
        registry.register(
            "wharf_store_errors",
            "Failed store operations, by store and operation",
            m.errors.clone(),
        );
        m
    }

    /// Counts one `op` on `store`, and an error when `failed`.
    pub fn observe(&self, store: &'static str, op: &'static str, failed: bool) {
        let labels = StoreLabels { store, op };
        self.operations.get_or_create(&labels).inc();
        // The error series exists (at 0) as soon as the operation does, so rates and alerts
        // see it before the first failure.
        let errors = self.errors.get_or_create(&labels);
        if failed {
            errors.inc();
        }
    }
}
