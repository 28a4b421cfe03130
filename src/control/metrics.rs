//! Control-plane metrics: active bans per kind, penalties and automatic bans per reason, and
//! store operations/errors, registered in the shared registry.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::control::ban::BanKind;

/// Label: the kind of ban (`ip`, `cidr`, `peer`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    /// Ban kind.
    pub kind: &'static str,
}

/// Label: a score event name or auto-ban cause.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// Event name (see `ScoreEvent::name`).
    pub reason: &'static str,
}

/// Labels: which store and which operation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StoreOpLabel {
    /// Always `control` here; shared with other stores' metrics.
    pub store: &'static str,
    /// Operation name (`add_ban`, `flush_scores`, ...).
    pub op: &'static str,
}

/// Handles to the control-plane metrics.
#[derive(Clone, Debug, Default)]
pub struct ControlMetrics {
    /// `wharf_bans_active{kind}`: bans currently in the index.
    pub bans_active: Family<KindLabel, Gauge>,
    /// `wharf_penalties_total{reason}`: score events applied.
    pub penalties: Family<ReasonLabel, Counter>,
    /// `wharf_auto_bans_total{reason}`: automatic bans, by the event that crossed the threshold.
    pub auto_bans: Family<ReasonLabel, Counter>,
    /// `wharf_store_operations_total{store,op}`: store operations attempted.
    pub store_ops: Family<StoreOpLabel, Counter>,
    /// `wharf_store_errors_total{store,op}`: store operations that failed.
    pub store_errors: Family<StoreOpLabel, Counter>,
}

impl ControlMetrics {
    /// Creates the metrics and registers them in the shared registry (counters get their
    /// `_total` suffix from the encoder).
    pub fn register(registry: &mut Registry) -> Self {
        let m = ControlMetrics::default();
        registry.register(
            "wharf_bans_active",
            "Active bans by kind",
            m.bans_active.clone(),
        );
        registry.register(
            "wharf_penalties",
            "Peer score events applied",
            m.penalties.clone(),
        );
        registry.register(
            "wharf_auto_bans",
            "Automatic bans from peer scores",
            m.auto_bans.clone(),
        );
        registry.register(
            "wharf_store_operations",
            "Store operations",
            m.store_ops.clone(),
        );
        registry.register(
            "wharf_store_errors",
            "Failed store operations",
            m.store_errors.clone(),
        );
        m
    }

    /// Sets the active-ban gauges from counts in [`BanKind::ALL`] order.
    pub(crate) fn set_active(&self, counts: [i64; 3]) {
        for (kind, n) in BanKind::ALL.iter().zip(counts) {
            self.bans_active
                .get_or_create(&KindLabel {
                    kind: kind.as_str(),
                })
                .set(n);
        }
    }

    /// Counts one store operation and, if it failed, one error.
    pub(crate) fn store_op(&self, op: &'static str, ok: bool) {
        let label = StoreOpLabel {
            store: "control",
            op,
        };
        self.store_ops.get_or_create(&label).inc();
        if !ok {
            self.store_errors.get_or_create(&label).inc();
        }
    }
}
