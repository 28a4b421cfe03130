//! API metrics: requests by route template and status, and a latency histogram by route.
//! Route templates (`/api/v1/bans/{id}`), never raw paths, so labels stay bounded.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::{counter::Counter, family::Family, histogram::Histogram};
use prometheus_client::registry::{Registry, Unit};

use super::ApiState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatus {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    route: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
    ])
}

/// See the module docs.
#[derive(Clone)]
pub struct ApiMetrics {
    requests: Family<RouteStatus, Counter>,
    latency: Family<Route, Histogram, fn() -> Histogram>,
}

impl ApiMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
        };
        let r = registry.sub_registry_with_prefix("wharf_api");
        r.register(
            "requests",
            "Admin API requests by route template and status",
            m.requests.clone(),
        );
        r.register_with_unit(
            "request_duration",
            "Admin API request latency by route template",
            Unit::Seconds,
            m.latency.clone(),
        );
        m
    }
}

/// Middleware recording every request.
pub async fn record(State(st): State<ApiState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    let m = &st.metrics;
    m.requests
        .get_or_create(&RouteStatus {
            route: route.clone(),
            status,
        })
        .inc();
    m.latency
        .get_or_create(&Route { route })
        .observe(start.elapsed().as_secs_f64());
    resp
}
