//! The steps of `App::start`, each starting one part of the node on the shared cancel token,
//! task tracker, metrics registry and event bus.

use std::net::SocketAddr;
use std::sync::Arc;

use libp2p::identity::Keypair;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::chain::{self, ChainPath};
use super::{control, sync, AppError};
use crate::api::{self, ApiDeps, ApiState, ChainAccess, Keyring};
use crate::config::Config;
use crate::control::{Control, ControlMetrics};
use crate::events::EventBus;
use crate::metrics;
use crate::p2p::{self, GossipMessage, P2pHandle};
use crate::store::StoreMetrics;
use crate::sync::{SyncMetrics, SyncServerError};

/// What every part of the node is wired into.
pub(super) struct Wiring {
    pub(super) cancel: CancellationToken,
    pub(super) tracker: TaskTracker,
    registry: Registry,
    events: EventBus,
    /// Shared by the control store and the block store.
    store_metrics: StoreMetrics,
}

/// The API and metrics listeners, bound before anything is served (port 0 allowed).
pub(super) struct Listeners {
    api: (TcpListener, SocketAddr),
    metrics: (TcpListener, SocketAddr),
}

impl Listeners {
    pub(super) async fn bind(config: &Config) -> Result<Listeners, AppError> {
        let api = bind(config.api.listen, |addr, source| AppError::Api {
            addr,
            source,
        });
        let api = api.await?;
        let metrics = bind(config.metrics.listen, |addr, source| AppError::Metrics {
            addr,
            source,
        });
        Ok(Listeners {
            api,
            metrics: metrics.await?,
        })
    }
}

impl Wiring {
    pub(super) fn new() -> Wiring {
        let mut registry = Registry::default();
        Wiring {
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
            store_metrics: StoreMetrics::register(&mut registry),
            registry,
            events: EventBus::default(),
        }
    }

    /// Opens the control plane (bans and scores).
    pub(super) async fn start_control(&mut self, config: &Config) -> Result<Control, AppError> {
        let metrics =
            ControlMetrics::register_with_store(&mut self.registry, self.store_metrics.clone());
        let (cancel, tracker) = (self.cancel.clone(), &self.tracker);
        let control = Control::open_with_metrics(
            &config.control,
            &config.node.data_dir,
            metrics,
            cancel,
            tracker,
        );
        Ok(control.await?)
    }

    /// Builds the libp2p node with the control plane as its connection gate's policy.
    pub(super) async fn start_p2p(
        &mut self,
        config: &Config,
        key: Keypair,
        control: &Control,
    ) -> Result<p2p::Started, AppError> {
        let chain_id = config.starknet_chain_id();
        let p2p_config = p2p::StartConfig {
            p2p: &config.p2p,
            relay: &config.relay,
            network: &config.node.network,
            data_dir: &config.node.data_dir,
            starknet_chain_id: chain_id.as_deref(),
        };
        let policy = Arc::new(control.clone());
        let events = self.events.clone();
        let started = p2p::start(
            p2p_config,
            key,
            policy,
            &mut self.registry,
            events,
            self.cancel.clone(),
        );
        Ok(started.await?)
    }

    /// Gossipsub scores into the control plane; bans onto the swarm and the event stream.
    pub(super) fn start_control_bridge(&self, control: &Control, p2p: &P2pHandle) {
        let (c, p, cancel) = (control.clone(), p2p.clone(), self.cancel.clone());
        self.tracker
            .spawn(control::feed_gossip_scores(c, p, cancel));
        let (c, p, cancel) = (control.clone(), p2p.clone(), self.cancel.clone());
        let events = self.events.clone();
        self.tracker.spawn(control::bridge(c, p, events, cancel));
    }

    /// The chain data path: store, feeder, announcements.
    pub(super) async fn start_chain(
        &mut self,
        config: &Config,
        p2p: &P2pHandle,
        gossip: mpsc::Receiver<GossipMessage>,
    ) -> Result<ChainPath, AppError> {
        let deps = chain::ChainDeps {
            registry: &mut self.registry,
            store_metrics: self.store_metrics.clone(),
            events: &self.events,
        };
        let path = chain::start(config, p2p, gossip, deps, &self.cancel, &self.tracker);
        Ok(path.await?)
    }

    /// Block sync (serving, head discovery, the pipeline) when the relay holds blocks.
    pub(super) fn start_sync(
        &mut self,
        config: &Config,
        chain: &ChainPath,
        p2p: &P2pHandle,
        control: &Control,
    ) -> Result<(), SyncServerError> {
        let metrics = SyncMetrics::register(&mut self.registry);
        let (Some(store), Some(adapter)) = (&chain.store, &chain.adapter) else {
            return Ok(());
        };
        let deps = sync::SyncDeps {
            p2p: p2p.clone(),
            store: store.clone(),
            adapter: adapter.clone(),
            control: control.clone(),
            metrics,
            best_known: chain.best_known.clone(),
            best_tx: chain.best_tx.clone(),
        };
        sync::spawn(config, deps, &self.cancel, &self.tracker)
    }

    /// The admin API's state.
    pub(super) fn api_state(
        &mut self,
        config: &Config,
        chain: &ChainPath,
        p2p: &P2pHandle,
        control: &Control,
        keys: Keyring,
    ) -> Result<ApiState, AppError> {
        let data_dir = &config.node.data_dir;
        let audit = api::audit::AuditLog::open(data_dir).map_err(|source| AppError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let deps = ApiDeps {
            p2p: p2p.clone(),
            control: control.clone(),
            chain: ChainAccess {
                kind: config.node.chain_kind(),
                store: chain.store.clone(),
                best_known: chain.best_known.clone(),
                metrics: chain.metrics.clone(),
            },
            events: self.events.clone(),
            keys,
            audit,
        };
        let cancel = self.cancel.clone();
        let mut state = ApiState::new(&config.api, deps, &mut self.registry, cancel);
        state.mode = if config.feeder.enabled {
            "feeder"
        } else {
            "relay"
        };
        Ok(state)
    }

    /// Serves metrics and the API on their listeners; returns (API, metrics) bound addresses.
    pub(super) fn serve(
        self,
        config: &Config,
        api: ApiState,
        listeners: Listeners,
    ) -> (SocketAddr, SocketAddr) {
        let Listeners {
            api: (api_listener, api_addr),
            metrics: (metrics_listener, metrics_addr),
        } = listeners;
        let registry = Arc::new(self.registry);
        let cancel = self.cancel.clone();
        self.tracker
            .spawn(metrics::serve(metrics_listener, registry, cancel));
        let router = api::router(api, config.api.max_body_bytes);
        let limits = api::ServeLimits {
            header_read_timeout: config.api.header_read_timeout,
            max_connections: config.api.max_connections,
        };
        let serve = api::serve(api_listener, router, limits, self.cancel.clone());
        self.tracker.spawn(serve);
        (api_addr, metrics_addr)
    }
}

/// Binds a TCP listener (port 0 allowed) and returns it with its bound address.
async fn bind(
    addr: SocketAddr,
    err: impl FnOnce(SocketAddr, std::io::Error) -> AppError,
) -> Result<(TcpListener, SocketAddr), AppError> {
    metrics::bind(addr)
        .await
        .map_err(|source| err(addr, source))
}
