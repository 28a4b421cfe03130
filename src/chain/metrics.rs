//! Chain-progress metrics shared by the feeder and the P2P sync pipeline, so one
//! dashboard shows head, lag and refusals whichever way blocks arrive.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// `reason` label: a [`super::VerifyError::reason`].
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// Stable refusal reason.
    pub reason: &'static str,
}

/// `kind` label of upstream gateway errors (`connect`, `timeout`, `status`, `body`, `garbage`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    /// Error kind.
    pub kind: &'static str,
}

/// Chain head, upstream head, lag and refusal counters. Cheap to clone (shared handles).
#[derive(Clone, Debug, Default)]
pub struct ChainMetrics {
    /// `wharf_chain_head`: number of the last committed block.
    pub chain_head: Gauge,
    /// `wharf_gateway_head`: last head number reported by the upstream gateway.
    pub gateway_head: Gauge,
    /// `wharf_sync_lag_blocks`: gateway head minus chain head.
    pub lag_blocks: Gauge,
    /// `wharf_sync_lag_seconds`: age of the chain head block (now minus its timestamp).
    pub lag_seconds: Gauge<f64, AtomicU64>,
    /// `wharf_blocks_committed_total`.
    pub blocks_committed: Counter,
    /// `wharf_verification_failures_total{reason}`.
    pub verification_failures: Family<ReasonLabel, Counter>,
    /// `wharf_reorgs_detected_total`: upstream blocks whose parent differs from our chain.
    pub reorgs_detected: Counter,
    /// `wharf_gateway_errors_total{kind}`.
    pub gateway_errors: Family<KindLabel, Counter>,
    /// `wharf_chain_history_from`: the first block the relay holds (a trusted checkpoint's
    /// number, else 0).
    pub history_from: Gauge,
}

impl ChainMetrics {
    /// Creates the metrics and registers them in the shared registry.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        let r = registry;
        r.register(
            "wharf_chain_head",
            "Number of the last committed block",
            m.chain_head.clone(),
        );
        r.register(
            "wharf_gateway_head",
            "Head number reported by the upstream gateway",
            m.gateway_head.clone(),
        );
        r.register(
            "wharf_chain_history_from",
            "First block the relay holds: its trusted checkpoint, else 0 (genesis)",
            m.history_from.clone(),
        );
        r.register(
            "wharf_sync_lag_blocks",
            "Gateway head minus chain head",
            m.lag_blocks.clone(),
        );
        r.register(
            "wharf_sync_lag_seconds",
            "Age of the chain head block",
            m.lag_seconds.clone(),
        );
        r.register(
            "wharf_blocks_committed",
            "Blocks committed to the store",
            m.blocks_committed.clone(),
        );
        r.register(
            "wharf_verification_failures",
            "Blocks or components refused, by reason",
            m.verification_failures.clone(),
        );
        r.register(
            "wharf_reorgs_detected",
            "Upstream blocks not extending the stored chain",
            m.reorgs_detected.clone(),
        );
        r.register(
            "wharf_gateway_errors",
            "Failed upstream gateway requests, by kind",
            m.gateway_errors.clone(),
        );
        // Known label values start at 0 so dashboards and alerts see the series at once.
        for reason in VERIFY_REASONS {
            let _ = m
                .verification_failures
                .get_or_create(&ReasonLabel { reason });
        }
        for kind in GATEWAY_ERROR_KINDS {
            let _ = m.gateway_errors.get_or_create(&KindLabel { kind });
        }
        m
    }

    /// Counts one refusal with its reason.
    pub fn verification_failed(&self, reason: &'static str) {
        self.verification_failures
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// Counts one failed upstream request.
    pub fn gateway_error(&self, kind: &'static str) {
        self.gateway_errors.get_or_create(&KindLabel { kind }).inc();
    }
}

/// Every `reason` of `wharf_verification_failures_total` (`VerifyError::reason`).
const VERIFY_REASONS: [&str; 11] = [
    "malformed",
    "commitment_mismatch",
    "count_mismatch",
    "hash_mismatch",
    "bad_signature",
    "parent_mismatch",
    "wrong_number",
    "transaction_hash_mismatch",
    "transaction_link_mismatch",
    "class_hash_mismatch",
    "class_list_mismatch",
];

/// Every `kind` of `wharf_gateway_errors_total`.
const GATEWAY_ERROR_KINDS: [&str; 8] = [
    "connect",
    "timeout",
    "status",
    "rate_limited",
    "body",
    "garbage",
    "too_large",
    "redirect",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_reason_is_exposed_at_zero() {
        let mut registry = Registry::default();
        ChainMetrics::register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        for reason in VERIFY_REASONS {
            let series = format!("wharf_verification_failures_total{{reason=\"{reason}\"}} 0");
            assert!(text.contains(&series), "{series} missing:\n{text}");
        }
        assert!(VERIFY_REASONS.contains(&"class_hash_mismatch"));
    }
}
