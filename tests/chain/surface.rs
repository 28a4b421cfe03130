//! Public surface that must not drift: metric names and config sections.

use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use wharf::chain::ChainMetrics;
use wharf::feeder::FeederConfig;
use wharf::gateway::GatewayConfig;
use wharf::store::StoreMetrics;

#[test]
fn metric_names_are_stable() {
    let mut registry = Registry::default();
    let chain = ChainMetrics::register(&mut registry);
    let store = StoreMetrics::register(&mut registry);
    chain.verification_failed("bad_signature");
    chain.gateway_error("timeout");
    store.observe("blocks", "commit", true);
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    for name in [
        "wharf_chain_head ",
        "wharf_gateway_head ",
        "wharf_sync_lag_blocks ",
        "wharf_sync_lag_seconds ",
        "wharf_blocks_committed_total ",
        "wharf_verification_failures_total{reason=\"bad_signature\"} 1",
        "wharf_reorgs_detected_total ",
        "wharf_gateway_errors_total{kind=\"timeout\"} 1",
        "wharf_store_operations_total{store=\"blocks\",op=\"commit\"} 1",
        "wharf_store_errors_total{store=\"blocks\",op=\"commit\"} 1",
    ] {
        assert!(text.contains(name), "missing `{name}` in:\n{text}");
    }
}

#[test]
fn config_sections_parse_humantime_and_refuse_unknown_keys() {
    let feeder: FeederConfig = toml::from_str(
        "gateway_url = \"http://10.0.0.1:9080\"\npoll_interval = \"250ms\"\nbackoff_max = \"1m\"",
    )
    .unwrap();
    assert_eq!(feeder.poll_interval, Duration::from_millis(250));
    assert_eq!(feeder.backoff_max, Duration::from_secs(60));
    assert_eq!(
        feeder.fetch_concurrency,
        FeederConfig::default().fetch_concurrency
    );
    assert!(toml::from_str::<FeederConfig>("gateway = \"x\"").is_err());
    let gateway: GatewayConfig = toml::from_str("block_time = \"2s\"\npremint = 5").unwrap();
    assert_eq!(
        (gateway.block_time, gateway.premint),
        (Duration::from_secs(2), 5)
    );
    assert_eq!(gateway.listen, GatewayConfig::default().listen);
    assert!(toml::from_str::<GatewayConfig>("blocktime = \"2s\"").is_err());
}
