//! The devnet upstream (`wharf gateway`): mints a signed block every `block_time`,
//! deterministically from a seed, and serves it over HTTP for feeder relays.
//!
//! # HTTP API
//! - `GET /head` → `200 application/json` `{"number": u64, "hash": "<64 hex>", "timestamp_ms": u64}`.
//! - `GET /blocks/{number}` → `200 application/octet-stream`: the block framed as in
//!   [`crate::chain::wire`] (header in the devnet encoding of [`crate::chain::devnet`], then
//!   the four bodies); `404` when not minted yet. Binary so 20,000 × 8 KiB blocks are
//!   served as a memcpy, not hex.
//! - `GET /public-key` → `200 application/json` `{"key_type": "ed25519", "public_key": "<64 hex>"}`.

mod chain;
mod config;
mod http;

pub use chain::{DevnetChain, Tamper};
pub use config::GatewayConfig;
pub use http::{HeadResponse, PublicKeyResponse};

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libp2p::identity::ed25519;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::chain::devnet::{keypair_from_seed, DevnetMinter};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// `key` is not 64 hex digits of an Ed25519 secret key.
    #[error("gateway key: {0}")]
    Key(String),
    /// Binding the listen address failed.
    #[error("bind {addr}: {source}")]
    Bind {
        /// The configured address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Entry point of the devnet gateway.
pub struct Gateway;

/// A started gateway: its bound address, its chain, and the tasks it owns.
pub struct RunningGateway {
    addr: SocketAddr,
    chain: DevnetChain,
    cancel: CancellationToken,
    server: JoinHandle<()>,
    minter: JoinHandle<()>,
}

impl Gateway {
    /// Builds a fresh chain from `cfg` (pre-minting `cfg.premint` blocks plus genesis)
    /// and starts serving it. Stops when `cancel` fires or on [`RunningGateway::stop`].
    pub async fn start(
        cfg: GatewayConfig,
        cancel: CancellationToken,
    ) -> Result<RunningGateway, GatewayError> {
        let chain = new_chain(&cfg)?;
        for _ in 0..=cfg.premint {
            chain.mint_next();
        }
        Self::start_with_chain(cfg, chain, cancel).await
    }

    /// Serves an existing chain (e.g. the one of a stopped gateway, to test restarts on
    /// the same port) and keeps minting on it.
    pub async fn start_with_chain(
        cfg: GatewayConfig,
        chain: DevnetChain,
        cancel: CancellationToken,
    ) -> Result<RunningGateway, GatewayError> {
        let listener =
            TcpListener::bind(cfg.listen)
                .await
                .map_err(|source| GatewayError::Bind {
                    addr: cfg.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| GatewayError::Bind {
            addr: cfg.listen,
            source,
        })?;
        let cancel = cancel.child_token();
        let app = http::router(chain.clone());
        let shutdown = cancel.clone().cancelled_owned();
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, "gateway HTTP server failed");
            }
        });
        let minter = tokio::spawn(mint_loop(chain.clone(), cfg.block_time, cancel.clone()));
        tracing::info!(%addr, "devnet gateway listening");
        Ok(RunningGateway {
            addr,
            chain,
            cancel,
            server,
            minter,
        })
    }

    /// Runs a gateway until `cancel` fires (the `wharf gateway` command).
    pub async fn run(cfg: GatewayConfig, cancel: CancellationToken) -> Result<(), GatewayError> {
        let running = Self::start(cfg, cancel.clone()).await?;
        cancel.cancelled().await;
        running.stop().await;
        Ok(())
    }
}

impl RunningGateway {
    /// The bound address (the real port when configured with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, for a feeder's `gateway_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The chain being served (test hooks: [`DevnetChain::set_tamper`], [`DevnetChain::mint_next`]).
    pub fn chain(&self) -> &DevnetChain {
        &self.chain
    }

    /// Stops minting and serving, waits for both tasks, and returns the chain so a new
    /// gateway can continue it.
    pub async fn stop(self) -> DevnetChain {
        self.cancel.cancel();
        let _ = self.server.await;
        let _ = self.minter.await;
        self.chain
    }
}

async fn mint_loop(chain: DevnetChain, block_time: Duration, cancel: CancellationToken) {
    let mut ticker = tokio::time::interval(block_time);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticker.tick() => {
                let (number, hash) = chain.mint_next();
                tracing::debug!(number, %hash, "minted block");
            }
        }
    }
}

/// The chain `cfg` describes: key, mint parameters and block clock.
fn new_chain(cfg: &GatewayConfig) -> Result<DevnetChain, GatewayError> {
    let keypair = match &cfg.key {
        Some(hex_key) => parse_key(hex_key)?,
        None => keypair_from_seed(cfg.seed),
    };
    let params = chain::params(cfg.seed, cfg.txs_per_block, cfg.tx_size);
    let block_ms = cfg.block_time.as_millis() as u64;
    let genesis = cfg.genesis_time_ms.unwrap_or_else(|| {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        (now.as_millis() as u64).saturating_sub(cfg.premint * block_ms)
    });
    Ok(DevnetChain::new(
        DevnetMinter::new(keypair, params),
        genesis,
        block_ms,
    ))
}

fn parse_key(hex_key: &str) -> Result<ed25519::Keypair, GatewayError> {
    let mut bytes = hex::decode(hex_key).map_err(|e| GatewayError::Key(e.to_string()))?;
    let secret = ed25519::SecretKey::try_from_bytes(&mut bytes)
        .map_err(|e| GatewayError::Key(e.to_string()))?;
    Ok(ed25519::Keypair::from(secret))
}
