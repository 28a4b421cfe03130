//! Prometheus metrics: one prometheus-client registry for Wharf's own metrics and
//! libp2p-metrics, served in the OpenMetrics text format on its own listener.
//! No metric carries a peer id or an IP as a label.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;
use prometheus_client::encoding::{text::encode, EncodeLabelSet};
use prometheus_client::metrics::{counter::Counter, family::Family, gauge::Gauge};
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Every `reason` of `wharf_connections_refused_total`.
const REFUSAL_REASONS: [&str; 12] = [
    "ban",
    "limit_inbound",
    "limit_outbound",
    "limit_pending_inbound",
    "limit_pending_outbound",
    "limit_per_ip",
    "limit_per_subnet",
    "limit_pending_per_ip",
    "limit_pending_per_subnet",
    "limit_per_peer",
    "pnet",
    "handshake",
];

/// Every `outcome` of `wharf_gossip_messages_total`.
const GOSSIP_OUTCOMES: [&str; 6] = [
    "received",
    "accepted",
    "rejected",
    "ignored",
    "dropped",
    "published",
];

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnLabels {
    direction: &'static str,
    transport: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// Metrics of the libp2p node that libp2p-metrics does not provide.
#[derive(Clone, Default)]
pub struct P2pMetrics {
    refused: Family<ReasonLabel, Counter>,
    connections: Family<ConnLabels, Gauge>,
    routing_table: Gauge,
    redials: Counter,
    gossip: Family<OutcomeLabel, Counter>,
}

impl P2pMetrics {
    /// Registers Wharf's p2p metrics (and `wharf_build_info`) in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        let r = registry.sub_registry_with_prefix("wharf");
        r.register(
            "connections_refused",
            "Connections refused by the gate, by reason (ban, limit_*)",
            m.refused.clone(),
        );
        r.register(
            "connected_peers",
            "Open connections by direction (inbound|outbound) and transport (tcp|quic|relay)",
            m.connections.clone(),
        );
        r.register(
            "dht_routing_table_peers",
            "Peers in the Kademlia routing table",
            m.routing_table.clone(),
        );
        r.register(
            "static_peer_dials",
            "Dials of static peers: the first one and every re-dial after a drop or failure",
            m.redials.clone(),
        );
        r.register(
            "gossip_messages",
            "Block announcements by outcome: received, accepted, rejected, ignored, dropped (validation queue full), published",
            m.gossip.clone(),
        );
        m.zero_known_labels();
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        r.register("build_info", "Wharf build information (value is 1)", build);
        m
    }

    /// Creates every known label value at 0, so dashboards see the series before the first event.
    fn zero_known_labels(&self) {
        for reason in REFUSAL_REASONS {
            let _ = self.refused.get_or_create(&ReasonLabel { reason });
        }
        for outcome in GOSSIP_OUTCOMES {
            let _ = self.gossip.get_or_create(&OutcomeLabel { outcome });
        }
        for direction in ["inbound", "outbound"] {
            for transport in ["tcp", "quic", "relay"] {
                let _ = self.connections.get_or_create(&ConnLabels {
                    direction,
                    transport,
                });
            }
        }
    }

    pub fn refused(&self, reason: &'static str) {
        self.refused.get_or_create(&ReasonLabel { reason }).inc();
    }

    pub fn connection_opened(&self, inbound: bool, remote: &Multiaddr) {
        self.connections
            .get_or_create(&conn_labels(inbound, remote))
            .inc();
    }

    pub fn connection_closed(&self, inbound: bool, remote: &Multiaddr) {
        self.connections
            .get_or_create(&conn_labels(inbound, remote))
            .dec();
    }

    pub fn set_routing_table(&self, peers: usize) {
        self.routing_table.set(peers as i64);
    }

    pub fn redialed(&self) {
        self.redials.inc();
    }

    pub fn gossip(&self, outcome: &'static str) {
        self.gossip.get_or_create(&OutcomeLabel { outcome }).inc();
    }
}

fn conn_labels(inbound: bool, remote: &Multiaddr) -> ConnLabels {
    let transport = if remote.iter().any(|p| matches!(p, Protocol::P2pCircuit)) {
        "relay"
    } else if remote.iter().any(|p| matches!(p, Protocol::QuicV1)) {
        "quic"
    } else {
        "tcp"
    };
    let direction = if inbound { "inbound" } else { "outbound" };
    ConnLabels {
        direction,
        transport,
    }
}

/// Serves `GET /metrics` from `registry` on `listener` until `cancel` fires.
pub async fn serve(listener: TcpListener, registry: Arc<Registry>, cancel: CancellationToken) {
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let registry = registry.clone();
            async move { render(&registry) }
        }),
    );
    let res = axum::serve(listener, app)
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await;
    if let Err(e) = res {
        tracing::error!(error = %e, "metrics server failed");
    }
}

fn render(registry: &Registry) -> impl IntoResponse {
    let mut body = String::new();
    match encode(&mut body, registry) {
        Ok(()) => ([(CONTENT_TYPE, OPENMETRICS)], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "encoding metrics failed");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Binds the metrics listener (port 0 allowed); returns it with its bound address.
pub async fn bind(addr: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// `[metrics]`: the Prometheus scrape endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Address of the `/metrics` listener. Default `127.0.0.1:9100`; port 0 picks a free port.
    pub listen: SocketAddr,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9100)),
        }
    }
}
