//! Application assembly: builds every component from the configuration, binds every listener
//! (port 0 works, and the bound addresses are readable), and shuts everything down in order.

use std::net::SocketAddr;

use libp2p::{Multiaddr, PeerId};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

mod chain;
mod control;
mod sync;
mod wiring;

use crate::api::{self, Keyring};
use crate::config::Config;
use crate::control::{Control, ControlError};
use crate::p2p::{self, P2pHandle};
use crate::sync::SyncServerError;
use wiring::{Listeners, Wiring};

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
        let mut w = Wiring::new();
        let control = w.start_control(&config).await?;
        let started = w.start_p2p(&config, key, &control).await?;
        let p2p = started.handle.clone();
        w.start_control_bridge(&control, &p2p);
        let chain = w.start_chain(&config, &p2p, started.gossip_rx).await?;
        w.start_sync(&config, &chain, &p2p, &control)?;
        let api = w.api_state(&config, &chain, &p2p, &control, keys)?;
        let listeners = Listeners::bind(&config).await?;
        w.tracker.spawn(started.event_loop.run());
        let (cancel, tracker) = (w.cancel.clone(), w.tracker.clone());
        let (api_addr, metrics_addr) = w.serve(&config, api, listeners);
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
