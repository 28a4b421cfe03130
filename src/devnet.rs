//! `wharf devnet`: a whole network in one process, offline — the devnet gateway, a feeder relay
//! that follows it and a plain relay that syncs from the feeder over P2P — on embedded stores,
//! with a generated API key and a ready admin token.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use libp2p::Multiaddr;
use tokio_util::sync::CancellationToken;

use crate::api::Keyring;
use crate::config::{ApiKey, Config, KeyAlg, PeerAddr};
use crate::gateway::{Gateway, GatewayError, RunningGateway};
use crate::{App, AppError};

/// Lifetime of the admin token printed at start.
const TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
/// Key id of the generated API key.
const KID: &str = "devnet";

/// Why the devnet could not start.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error("{role}: {source}")]
    Relay {
        role: &'static str,
        #[source]
        source: Box<AppError>,
    },
    #[error("api key: {0}")]
    Key(String),
}

/// The running devnet.
pub struct Devnet {
    pub gateway: RunningGateway,
    pub feeder: App,
    pub relay: App,
    /// An admin token accepted by both relays' APIs.
    pub admin_token: String,
}

/// Port offsets from the base config: the feeder uses the configured ports, the relay the next.
fn shifted(addr: SocketAddr, by: u16) -> SocketAddr {
    match addr.port() {
        0 => addr,
        p => SocketAddr::new(addr.ip(), p + by),
    }
}

fn shift_multiaddr(addr: &Multiaddr, by: u16) -> Multiaddr {
    use libp2p::multiaddr::Protocol;
    addr.iter()
        .map(|p| match p {
            Protocol::Tcp(port) if port != 0 => Protocol::Tcp(port + by),
            Protocol::Udp(port) if port != 0 => Protocol::Udp(port + by),
            other => other,
        })
        .collect()
}

/// The API key shared by both relays: an HS256 secret created once in the data dir.
fn api_key(data_dir: &Path) -> Result<ApiKey, DevnetError> {
    let path = data_dir.join("api.secret");
    if !path.exists() {
        std::fs::create_dir_all(data_dir).map_err(|e| DevnetError::Key(e.to_string()))?;
        let secret = hex::encode(rand::random::<[u8; 32]>());
        crate::p2p::identity::write_private(&path, &secret)
            .map_err(|e| DevnetError::Key(e.to_string()))?;
    }
    Ok(ApiKey {
        kid: KID.into(),
        alg: KeyAlg::HS256,
        secret: None,
        secret_file: Some(path),
        public_key_file: None,
        private_key_file: None,
    })
}

/// The config of one relay of the devnet, `by` ports above the base.
fn relay_config(base: &Config, role: &str, by: u16, key: &ApiKey) -> Config {
    let mut c = base.clone();
    c.node.data_dir = base.node.data_dir.join(role);
    c.p2p.listen = base
        .p2p
        .listen
        .iter()
        .map(|a| shift_multiaddr(a, by))
        .collect();
    c.api.listen = shifted(base.api.listen, by);
    c.metrics.listen = shifted(base.metrics.listen, by);
    c.api.keys = vec![key.clone()];
    c
}

impl Devnet {
    /// Starts the gateway, then the feeder, then the relay (with the feeder as static peer).
    pub async fn start(base: Config, cancel: CancellationToken) -> Result<Devnet, DevnetError> {
        let gateway = Gateway::start(base.gateway.clone(), cancel.clone()).await?;
        let key = api_key(&base.node.data_dir)?;
        let pubkey = hex::encode(gateway.chain().minter().adapter().public_key().to_bytes());
        let mut feeder_cfg = relay_config(&base, "feeder", 0, &key);
        feeder_cfg.feeder.enabled = true;
        feeder_cfg.feeder.gateway_url = gateway.url();
        feeder_cfg.feeder.gateway_public_key = Some(pubkey.clone());
        let feeder = start_app(feeder_cfg, "feeder").await?;
        let mut relay_cfg = relay_config(&base, "relay", 1, &key);
        relay_cfg.feeder.gateway_public_key = Some(pubkey);
        relay_cfg.p2p.peers = feeder
            .join_addrs()
            .iter()
            .filter_map(|a| a.to_string().parse::<PeerAddr>().ok())
            .take(1)
            .collect();
        let relay = start_app(relay_cfg, "relay").await?;
        let ring = Keyring::from_config(&crate::config::ApiConfig {
            keys: vec![key],
            ..base.api.clone()
        })
        .map_err(|e| DevnetError::Key(e.to_string()))?;
        let admin_token = ring
            .mint(Some(KID), "devnet-admin", "admin", TOKEN_TTL)
            .map_err(|e| DevnetError::Key(e.to_string()))?;
        Ok(Devnet {
            gateway,
            feeder,
            relay,
            admin_token,
        })
    }

    /// What to hand to joining peers and operators, one line each.
    pub fn summary(&self) -> Vec<String> {
        let mut out = vec![format!("gateway:        {}", self.gateway.url())];
        for (role, app) in [("feeder", &self.feeder), ("relay", &self.relay)] {
            for addr in app.join_addrs() {
                out.push(format!("{role} p2p:     --p2p-peers {addr}"));
            }
            out.push(format!("{role} api:     http://{}", app.api_addr));
            out.push(format!(
                "{role} metrics: http://{}/metrics",
                app.metrics_addr
            ));
        }
        out.push(format!("admin token:    {}", self.admin_token));
        out
    }

    /// Stops the relay, the feeder and the gateway.
    pub async fn shutdown(self) {
        self.relay.shutdown().await;
        self.feeder.shutdown().await;
        self.gateway.stop().await;
    }
}

async fn start_app(cfg: Config, role: &'static str) -> Result<App, DevnetError> {
    App::start(cfg).await.map_err(|e| DevnetError::Relay {
        role,
        source: Box::new(e),
    })
}
