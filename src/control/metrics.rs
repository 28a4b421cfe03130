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

pub use crate::store::StoreMetrics;

/// Handles to the control-plane metrics.
#[derive(Clone, Debug, Default)]
pub struct ControlMetrics {
    /// `wharf_bans_active{kind}`: bans currently in the index.
    pub bans_active: Family<KindLabel, Gauge>,
    /// `wharf_penalties_total{reason}`: score events applied.
    pub penalties: Family<ReasonLabel, Counter>,
    /// `wharf_auto_bans_total{reason}`: automatic bans, by the event that crossed the threshold.
    pub auto_bans: Family<ReasonLabel, Counter>,
    /// The node's shared store counters, used with `store="control"`.
    pub store: StoreMetrics,
}

impl ControlMetrics {
    /// Registers the control metrics and the store counters (use this when no other store
    /// registered them; otherwise [`ControlMetrics::register_with_store`]).
    pub fn register(registry: &mut Registry) -> Self {
        let store = StoreMetrics::register(registry);
        Self::register_with_store(registry, store)
    }

    /// Registers the control metrics, counting store operations in the already registered
    /// `store` families. Counters get their `_total` suffix from the encoder.
    pub fn register_with_store(registry: &mut Registry, store: StoreMetrics) -> Self {
        let m = ControlMetrics {
            store,
            ..ControlMetrics::default()
        };
        registry.register(
            "wharf_bans_active",
            "Active bans by kind",
            m.bans_active.clone(),
        );
        registry.register(
            "wharf_penalties",
            "Peer score events applied, by event",
            m.penalties.clone(),
        );
        registry.register(
            "wharf_auto_bans",
            "Automatic bans from peer scores, by the event that crossed the threshold",
            m.auto_bans.clone(),
        );
        // Known reasons start at 0 so dashboards and alerts see the series at once.
        for reason in crate::control::score::EVENT_NAMES {
            let _ = m.penalties.get_or_create(&ReasonLabel { reason });
            let _ = m.auto_bans.get_or_create(&ReasonLabel { reason });
        }
        m
    }

    /// Sets the active-ban gauges from counts in [`BanKind::ALL`] order.
    pub(crate) fn set_active(&self, counts: [i64; 3]) {
        for (kind, n) in BanKind::ALL.iter().zip(counts) {
            let label = KindLabel {
                kind: kind.as_str(),
            };
            self.bans_active.get_or_create(&label).set(n);
        }
    }

    /// Counts one store operation and, if it failed, one error.
    pub(crate) fn store_op(&self, op: &'static str, ok: bool) {
        self.store.observe("control", op, !ok);
    }
}
