//! Application assembly: builds every component from the configuration, binds every listener
//! (port 0 works, and the bound addresses are readable), and shuts everything down in order.

use std::net::SocketAddr;
use std::sync::Arc;

use libp2p::{Multiaddr, PeerId};
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

mod chain;
mod control;
mod heads;
mod sync;

use crate::api::{self, ApiDeps, ApiState, ChainAccess, Keyring};
use crate::config::Config;
use crate::control::{Control, ControlError, ControlMetrics};
use crate::events::EventBus;
use crate::metrics;
use crate::p2p::{self, P2pHandle};
use crate::store::StoreMetrics;
use crate::sync::{SyncMetrics, SyncServerError};

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("data dir {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    P2p(#[from] p2p::StartError),
    #[error(transparent)]
    Chain(#[from] chain::ChainStartError),
    #[error("control plane: {0}")]
    Control(#[from] ControlError),
    #[error("sync: {0}")]
    Sync(#[from] SyncServerError),
    #[error(transparent)]
    ApiKeys(#[from] api::auth::KeyError),
    #[error("API listener {addr}: {source}")]
    Api {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("metrics listener {addr}: {source}")]
    Metrics {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// A running relay. Dropping it does not stop it: call `shutdown`.
pub struct App {
    /// Handle to the swarm task.
    pub p2p: P2pHandle,
    /// Bound listen addresses, without `/p2p/`.
    pub listen_addrs: Vec<Multiaddr>,
    /// Bound address of the `/metrics` listener.
    pub metrics_addr: SocketAddr,
    /// Bound address of the admin API.
    pub api_addr: SocketAddr,
    /// The block store (absent on a relay without an upstream key).
    pub store: Option<crate::store::BlockStore>,
    /// Bans and scores.
    pub control: Control,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl App {
    /// Starts a relay: control plane, libp2p node, chain data path, sync, API and metrics.
    pub async fn start(config: Config) -> Result<App, AppError> {
        let key = load_key(&config)?;
        let keys = Keyring::from_config(&config.api)?;
        let (cancel, tracker) = (CancellationToken::new(), TaskTracker::new());
        let mut registry = Registry::default();
        let events = EventBus::default();
        let store_metrics = StoreMetrics::register(&mut registry);
        let control_metrics =
            ControlMetrics::register_with_store(&mut registry, store_metrics.clone());
        let control = Control::open_with_metrics(
            &config.control,
            &config.node.data_dir,
            control_metrics,
            cancel.clone(),
            &tracker,
        )
        .await?;
        let policy = Arc::new(control.clone());
        let started = p2p::start(
            &config,
            key,
            policy,
            &mut registry,
            events.clone(),
            cancel.clone(),
        )
        .await?;
        let p2p = started.handle.clone();
        tracker.spawn(control::feed_gossip_scores(
            control.clone(),
            p2p.clone(),
            cancel.clone(),
        ));
        tracker.spawn(control::bridge(
            control.clone(),
            p2p.clone(),
            events.clone(),
            cancel.clone(),
        ));
        let deps = chain::ChainDeps {
            registry: &mut registry,
            store_metrics,
            events: &events,
        };
        let chain = chain::start(&config, &p2p, started.gossip_rx, deps, &cancel, &tracker).await?;
        let sync_metrics = SyncMetrics::register(&mut registry);
        if let (Some(store), Some(adapter)) = (&chain.store, &chain.adapter) {
            let deps = sync::SyncDeps {
                p2p: p2p.clone(),
                store: store.clone(),
                adapter: adapter.clone(),
                control: control.clone(),
                metrics: sync_metrics,
                best_known: chain.best_known.clone(),
                best_tx: chain.best_tx.clone(),
            };
            sync::spawn(&config, deps, &cancel, &tracker)?;
        }
        let deps = ApiDeps {
            p2p: p2p.clone(),
            control: control.clone(),
            chain: ChainAccess {
                kind: config.node.chain_kind(),
                store: chain.store.clone(),
                best_known: chain.best_known.clone(),
                metrics: chain.metrics.clone(),
            },
            events: events.clone(),
            keys,
            audit: api::audit::AuditLog::open(&config.node.data_dir).map_err(|source| {
                AppError::DataDir {
                    path: config.node.data_dir.display().to_string(),
                    source,
                }
            })?,
        };
        let mut api_state = ApiState::new(&config.api, deps, &mut registry, cancel.clone());
        api_state.mode = if config.feeder.enabled {
            "feeder"
        } else {
            "relay"
        };
        let (api_listener, api_addr) = bind(config.api.listen, |addr, source| AppError::Api {
            addr,
            source,
        })
        .await?;
        let (metrics_listener, metrics_addr) = bind(config.metrics.listen, |addr, source| {
            AppError::Metrics { addr, source }
        })
        .await?;
        tracker.spawn(started.event_loop.run());
        tracker.spawn(metrics::serve(
            metrics_listener,
            Arc::new(registry),
            cancel.clone(),
        ));
        let router = api::router(api_state, config.api.max_body_bytes);
        let limits = api::ServeLimits {
            header_read_timeout: config.api.header_read_timeout,
            max_connections: config.api.max_connections,
        };
        tracker.spawn(api::serve(api_listener, router, limits, cancel.clone()));
        let app = App {
            p2p,
            listen_addrs: started.listen_addrs,
            metrics_addr,
            api_addr,
            store: chain.store,
            control,
            cancel,
            tracker,
        };
        app.log_join_addrs();
        Ok(app)
    }

    /// This relay's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.p2p.peer_id()
    }

    /// Listen addresses ending in `/p2p/<peer id>`: what joining peers pass to `--p2p-peers`.
    pub fn join_addrs(&self) -> Vec<Multiaddr> {
        let me = self.peer_id();
        self.listen_addrs
            .iter()
            .map(|a| a.clone().with_p2p(me).unwrap_or_else(|a| a))
            .collect()
    }

    fn log_join_addrs(&self) {
        tracing::info!(
            peer_id = %self.peer_id(),
            api = %self.api_addr,
            metrics = %self.metrics_addr,
            "wharf relay started"
        );
        for addr in self.join_addrs() {
            tracing::info!("joining peers can use: {addr}");
        }
    }

    /// A token that stops the whole relay when cancelled.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Stops every task and waits for them (the peer book is saved on the way out).
    pub async fn shutdown(self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}

/// Creates the data dir and loads (or creates) the node key.
fn load_key(config: &Config) -> Result<libp2p::identity::Keypair, AppError> {
    let data_dir = &config.node.data_dir;
    std::fs::create_dir_all(data_dir).map_err(|source| AppError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    let key_hex = config
        .p2p
        .private_key
        .as_ref()
        .map(|k| k.expose().to_owned());
    Ok(p2p::identity::load_or_create(key_hex.as_deref(), data_dir)
        .map_err(p2p::StartError::from)?)
}

/// Binds a TCP listener (port 0 allowed) and returns it with its bound address.
async fn bind(
    addr: SocketAddr,
    err: impl FnOnce(SocketAddr, std::io::Error) -> AppError,
) -> Result<(tokio::net::TcpListener, SocketAddr), AppError> {
    metrics::bind(addr)
        .await
        .map_err(|source| err(addr, source))
}
