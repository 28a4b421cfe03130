//! The admin REST API (axum): health and readiness, node and peer state, and — with the control
//! plane — bans, scores, audit and live events. Every route is registered through `RouteTable`
//! so a test can compare the router with the OpenAPI document in `openapi/`.

pub mod audit;
pub mod auth;
pub mod config;
mod error;
mod extract;
mod limit;
mod metrics;
mod routes;
mod server;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::MethodRouter;
use axum::Router;
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;

pub use auth::Keyring;
pub use config::{ApiConfig, ApiKey, KeyAlg};
pub use error::ApiError;
pub use metrics::ApiMetrics;
pub use server::{serve, ServeLimits};

use tokio::sync::watch;

use crate::chain::BlockNumber;
use crate::control::Control;
use crate::events::EventBus;
use crate::p2p::P2pHandle;
use crate::store::BlockStore;

/// What the API reads of the chain data path.
#[derive(Clone)]
pub struct ChainAccess {
    /// The chain rules the network runs (devnet, starknet).
    pub kind: crate::chain::ChainKind,
    /// The block store, absent on a relay without an upstream key.
    pub store: Option<BlockStore>,
    /// Highest block announced over gossip.
    pub best_known: watch::Receiver<BlockNumber>,
    /// Chain progress gauges (the feeder keeps the gateway head there).
    pub metrics: crate::chain::ChainMetrics,
}

/// Everything the API serves from, handed over by the app.
pub struct ApiDeps {
    pub p2p: P2pHandle,
    pub control: Control,
    pub chain: ChainAccess,
    pub events: EventBus,
    pub keys: Keyring,
    pub audit: audit::AuditLog,
}

/// Shared, cheaply cloneable state of every handler.
#[derive(Clone)]
pub struct ApiState {
    pub p2p: P2pHandle,
    pub control: Control,
    pub chain: ChainAccess,
    pub keys: Arc<Keyring>,
    pub limiter: Arc<limit::RateLimiter>,
    pub metrics: ApiMetrics,
    pub started: Instant,
    /// `relay` or `feeder`.
    pub mode: &'static str,
    /// `/readyz` fails past this lag, in blocks.
    pub ready_max_lag: u64,
    pub events: EventBus,
    pub audit: audit::AuditLog,
    /// Subscribers of `/api/v1/events` at most (one permit each).
    pub event_slots: Arc<tokio::sync::Semaphore>,
    /// Fires on shutdown (ends long-lived responses such as event streams).
    pub cancel: CancellationToken,
}

impl ApiState {
    pub fn new(
        cfg: &ApiConfig,
        deps: ApiDeps,
        registry: &mut Registry,
        cancel: CancellationToken,
    ) -> Self {
        let ApiDeps {
            p2p,
            control,
            chain,
            events,
            keys,
            audit,
        } = deps;
        Self {
            p2p,
            control,
            chain,
            keys: Arc::new(keys),
            limiter: Arc::new(limit::RateLimiter::new(
                cfg.rate_limit_per_second,
                cfg.rate_limit_burst,
            )),
            metrics: ApiMetrics::register(registry),
            started: Instant::now(),
            mode: "relay",
            ready_max_lag: cfg.ready_max_lag_blocks,
            events,
            audit,
            event_slots: Arc::new(tokio::sync::Semaphore::new(cfg.max_event_subscribers)),
            cancel,
        }
    }
}

/// A router plus the list of (method, path) it serves.
pub struct RouteTable {
    router: Router<ApiState>,
    routes: Vec<(&'static str, &'static str)>,
}

impl RouteTable {
    fn new() -> Self {
        Self {
            router: Router::new(),
            routes: Vec::new(),
        }
    }

    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        handler: MethodRouter<ApiState>,
    ) -> Self {
        self.routes.push((method, path));
        self.router = self.router.route(path, handler);
        self
    }

    fn merge(mut self, other: RouteTable) -> Self {
        self.routes.extend(other.routes);
        self.router = self.router.merge(other.router);
        self
    }

    fn layer_auth(mut self, state: &ApiState, admin: bool) -> Self {
        self.router = if admin {
            // Audit runs inside authentication, so it knows the token's subject.
            self.router
                .route_layer(from_fn_with_state(state.clone(), audit::record))
                .route_layer(from_fn_with_state(state.clone(), auth::require_admin))
        } else {
            self.router
                .route_layer(from_fn_with_state(state.clone(), auth::require_read))
        };
        self
    }
}

/// Every (method, path) the router serves, in the OpenAPI document's terms.
pub fn documented_routes() -> Vec<(&'static str, &'static str)> {
    let mut all = routes::public().routes;
    all.extend(routes::read().routes);
    all.extend(routes::admin().routes);
    all
}

/// The full route table (for the router and for the spec-drift test).
fn route_table(state: &ApiState) -> RouteTable {
    routes::public()
        .merge(routes::read().layer_auth(state, false))
        .merge(routes::admin().layer_auth(state, true))
}

/// The complete router with its middleware.
pub fn router(state: ApiState, max_body: usize) -> Router {
    route_table(&state)
        .router
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(from_fn_with_state(state.clone(), limit::rate_limit))
        .layer(from_fn_with_state(state.clone(), metrics::record))
        .with_state(state)
}
