//! Route groups by the access they need: public, `read` scope, `admin` scope.

mod audit;
mod bans;
mod chain;
mod classes;
mod events;
mod health;
mod node;
pub(crate) mod peers;
mod scores;

use axum::routing::{delete, get, post};

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
        .add("GET", "/api/v1/chain", get(chain::get_chain))
        .add("GET", "/api/v1/blocks/{number}", get(chain::get_block))
        .add(
            "GET",
            "/api/v1/classes/{class_hash}",
            get(classes::get_class),
        )
        .add("GET", "/api/v1/bans", get(bans::list))
        .add("GET", "/api/v1/bans/{id}", get(bans::get_one))
        .add("GET", "/api/v1/scores", get(scores::list))
        .add("GET", "/api/v1/scores/{peer_id}", get(scores::get_one))
        .add("GET", "/api/v1/audit", get(audit::list))
}

/// A token with the `admin` scope.
pub fn admin() -> RouteTable {
    RouteTable::new()
        .add(
            "POST",
            "/api/v1/peers/{peer_id}/disconnect",
            post(peers::disconnect),
        )
        .add("POST", "/api/v1/bans", post(bans::add))
        .add("DELETE", "/api/v1/bans", delete(bans::clear))
        .add("DELETE", "/api/v1/bans/{id}", delete(bans::remove))
        .add(
            "POST",
            "/api/v1/scores/{peer_id}/reset",
            post(scores::reset),
        )
}
