//! Route groups by the access they need: public, `read` scope, `admin` scope.

mod events;
mod health;
mod node;
mod peers;

use axum::routing::{get, post};

use super::RouteTable;

/// No token: liveness, readiness, the OpenAPI document.
pub fn public() -> RouteTable {
    RouteTable::new()
        .add("GET", "/healthz", get(health::healthz))
        .add("GET", "/readyz", get(health::readyz))
        .add("GET", "/openapi.json", get(health::openapi))
}

/// A token with the `read` scope.
pub fn read() -> RouteTable {
    RouteTable::new()
        .add("GET", "/api/v1/node", get(node::get_node))
        .add("GET", "/api/v1/peers", get(peers::list))
        .add("GET", "/api/v1/peers/{peer_id}", get(peers::get_one))
        .add("GET", "/api/v1/events", get(events::stream))
}

/// A token with the `admin` scope.
pub fn admin() -> RouteTable {
    RouteTable::new().add(
        "POST",
        "/api/v1/peers/{peer_id}/disconnect",
        post(peers::disconnect),
    )
}
