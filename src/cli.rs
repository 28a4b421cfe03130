//! Command-line interface: subcommands and the flags that override configuration keys.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde_json::{json, Map, Value};

pub mod starknet;

/// Wharf: bootstrap and feeder relay for blockchain peer-to-peer networks.
#[derive(Debug, Parser)]
#[command(name = "wharf", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a relay.
    Run(Box<RunArgs>),
    /// Print a new Ed25519 node key: private key hex (Juno `--p2p-private-key` format), public
    /// key hex and PeerID.
    Keygen,
    /// Print a new private-network key in the libp2p `swarm.key` file format.
    Psk,
    /// Mint an admin API token from a key configured in `[[api.keys]]`.
    Token(TokenArgs),
    /// Probe the API's `/healthz`; exit 0 if healthy (the Docker HEALTHCHECK).
    Healthcheck(HealthcheckArgs),
    /// Run the devnet upstream gateway: mints a signed block every --block-time.
    Gateway(GatewayArgs),
    /// Run a whole devnet in one process: gateway, feeder relay and plain relay, embedded stores.
    Devnet(Box<RunArgs>),
    /// Measure this machine: `wharf bench sync` (see the README's benchmarks).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Starknet tools: `wharf starknet verify-block` checks saved gateway answers,
    /// `wharf starknet class-hash` recomputes class hashes.
    #[command(subcommand)]
    Starknet(starknet::StarknetCommand),
    /// Block store maintenance (run with the relay stopped).
    #[command(subcommand)]
    Store(StoreCommand),
}

/// Block store maintenance.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Delete every block above `--to` and make it the head: the way out when the upstream
    /// reorganised past this relay's head (the feeder re-fetches from `--to` + 1).
    Rollback(RollbackArgs),
}

/// Flags of `wharf store rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The block to keep as the new head.
    #[arg(long)]
    pub to: u64,
    /// The relay's data directory (holding `blocks.redb`).
    #[arg(long = "data-dir", default_value = "./wharf-data")]
    pub data_dir: PathBuf,
}

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// P2P sync of pre-minted devnet blocks from relays into a fresh node over loopback, and a
    /// bare libp2p stream transfer of the same bytes for comparison.
    Sync(BenchSyncArgs),
    /// Idle inbound connections held by the relay (a `wharf run` child) and by a bare
    /// rust-libp2p node: memory per connection, growth, idle CPU, `/healthz` latency, and a
    /// joiner's sync speed while they are held.
    Connections(BenchConnectionsArgs),
    /// The bare rust-libp2p node of `wharf bench connections` (run by it as a child process).
    #[command(hide = true)]
    BareNode(BareNodeArgs),
}

/// Flags of `wharf bench connections`.
#[derive(Debug, Args)]
pub struct BenchConnectionsArgs {
    /// Connections to hold, each from its own identity.
    #[arg(long, default_value_t = 10_000)]
    pub connections: usize,
    /// Seconds to hold them before the joiner syncs (memory and CPU are read throughout).
    #[arg(long = "hold-secs", default_value_t = 60.0)]
    pub hold_secs: f64,
    /// Connections from each source address (127.a.b.c) [relay: p2p.limits.max_per_ip].
    #[arg(long = "per-ip", default_value_t = 8)]
    pub per_ip: u32,
    /// Connections from each /24 [relay: p2p.limits.max_per_subnet].
    #[arg(long = "per-subnet", default_value_t = 64)]
    pub per_subnet: u32,
    /// Blocks the joiner syncs, before and while the connections are held.
    #[arg(long = "sync-blocks", default_value_t = 5_000)]
    pub sync_blocks: u64,
}

impl BenchConnectionsArgs {
    /// The benchmark these flags describe.
    pub fn params(&self) -> crate::bench::ConnBenchParams {
        crate::bench::ConnBenchParams {
            connections: self.connections,
            hold_secs: self.hold_secs,
            spread: crate::bench::Spread {
                per_ip: self.per_ip,
                per_subnet: self.per_subnet.max(self.per_ip),
            },
            sync_blocks: self.sync_blocks,
        }
    }
}

/// Flags of `wharf bench bare-node`.
#[derive(Debug, Args)]
pub struct BareNodeArgs {
    /// TCP port on 127.0.0.1.
    #[arg(long)]
    pub port: u16,
}

/// Flags of `wharf bench sync`.
#[derive(Debug, Args)]
pub struct BenchSyncArgs {
    /// Blocks to pre-mint and sync.
    #[arg(long, default_value_t = 20_000)]
    pub blocks: u64,
    /// Transactions per block.
    #[arg(long = "txs-per-block", default_value_t = 16)]
    pub txs_per_block: u32,
    /// Bytes per transaction (16 x 400 B gives blocks of about 8.6 KiB).
    #[arg(long = "tx-size", default_value_t = 400)]
    pub tx_size: u32,
    /// Relays to sync from.
    #[arg(long, default_value_t = 2)]
    pub relays: usize,
    /// Seed of block contents and of the upstream key.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also time each stage alone on one thread (header, bodies, commit).
    #[arg(long)]
    pub profile: bool,
    /// Directory for the stores, empty or absent; kept afterwards (default: a temporary
    /// directory, removed afterwards).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Blocks per chunk [sync.pipeline.chunk_size] (default: the config default).
    #[arg(long = "chunk-size")]
    pub chunk_size: Option<u64>,
    /// Chunks in flight [sync.pipeline.max_chunks_in_flight] (default: the config default).
    #[arg(long = "chunks-in-flight")]
    pub chunks_in_flight: Option<usize>,
}

impl BenchSyncArgs {
    /// The benchmark these flags describe (default sync configuration unless overridden).
    pub fn params(&self) -> crate::bench::SyncBenchParams {
        let mut sync = crate::sync::SyncConfig::default();
        if let Some(n) = self.chunk_size {
            sync.pipeline.chunk_size = n;
            sync.server.max_blocks_per_request = sync.server.max_blocks_per_request.max(n);
        }
        if let Some(n) = self.chunks_in_flight {
            sync.pipeline.max_chunks_in_flight = n;
        }
        crate::bench::SyncBenchParams {
            blocks: self.blocks,
            txs_per_block: self.txs_per_block,
            tx_size: self.tx_size,
            relays: self.relays,
            seed: self.seed,
            profile: self.profile,
            dir: self.dir.clone(),
            sync,
        }
    }
}

/// Flags of `wharf gateway`; each overrides the `[gateway]` key named in its help.
#[derive(Debug, Args)]
pub struct GatewayArgs {
    /// TOML configuration file (its `[gateway]` section).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// HTTP listen address [gateway.listen].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Time between blocks, e.g. `1s`, `200ms` [gateway.block_time].
    #[arg(long = "block-time", value_name = "DURATION")]
    pub block_time: Option<String>,
    /// Transactions per block [gateway.txs_per_block].
    #[arg(long = "txs-per-block")]
    pub txs_per_block: Option<u32>,
    /// Bytes per transaction [gateway.tx_size].
    #[arg(long = "tx-size")]
    pub tx_size: Option<u32>,
    /// Seed of block contents and key [gateway.seed].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Blocks to mint before serving [gateway.premint].
    #[arg(long)]
    pub premint: Option<u64>,
}

impl GatewayArgs {
    /// The flags that were given, as a nested object of configuration keys.
    pub fn overrides(&self) -> Value {
        let mut g = Map::new();
        if let Some(v) = &self.listen {
            g.insert("listen".into(), json!(v.to_string()));
        }
        if let Some(v) = &self.block_time {
            g.insert("block_time".into(), json!(v));
        }
        let numbers = [
            ("txs_per_block", self.txs_per_block.map(u64::from)),
            ("tx_size", self.tx_size.map(u64::from)),
            ("seed", self.seed),
            ("premint", self.premint),
        ];
        for (k, v) in numbers {
            if let Some(v) = v {
                g.insert(k.into(), json!(v));
            }
        }
        json!({ "gateway": g })
    }
}

/// Flags of `wharf token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// TOML configuration file holding `[[api.keys]]` (env `WHARF_API__KEYS` works too).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Scope(s): `read` or `admin` (admin includes read).
    #[arg(long, default_value = "read")]
    pub scope: String,
    /// Lifetime, e.g. `1h`, `30m`.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub ttl: std::time::Duration,
    /// Subject: who the token is for (shows in the audit log).
    #[arg(long)]
    pub sub: String,
    /// Key id to sign with; needed when several keys can sign.
    #[arg(long)]
    pub kid: Option<String>,
}

/// Flags of `wharf healthcheck`.
#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// URL to probe.
    #[arg(long, default_value = "http://127.0.0.1:8080/healthz")]
    pub url: String,
}

/// Flags of `wharf run`; each overrides the configuration key named in its help.
#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// TOML configuration file (see config.example.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Network name, scopes every protocol id [node.network].
    #[arg(long)]
    pub network: Option<String>,
    /// Data directory [node.data_dir].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Listen multiaddr, repeatable [p2p.listen].
    #[arg(long = "p2p-listen", value_name = "MULTIADDR")]
    pub p2p_listen: Vec<String>,
    /// External multiaddr to announce, repeatable [p2p.external_addrs].
    #[arg(long = "p2p-external-addr", value_name = "MULTIADDR")]
    pub p2p_external_addr: Vec<String>,
    /// Static peer `/ip4|ip6|dns4/.../p2p/<id>`, repeatable or comma-separated [p2p.peers].
    #[arg(long = "p2p-peers", value_name = "MULTIADDR", value_delimiter = ',')]
    pub p2p_peers: Vec<String>,
    /// Ed25519 private key hex [p2p.private_key].
    #[arg(long = "p2p-private-key", value_name = "HEX")]
    pub p2p_private_key: Option<String>,
    /// Pre-shared key: 64 hex chars or a swarm.key path [p2p.shared_key].
    #[arg(long = "p2p-shared-key", value_name = "KEY")]
    pub p2p_shared_key: Option<String>,
    /// Metrics listen address [metrics.listen].
    #[arg(long = "metrics-listen", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// Admin API listen address [api.listen].
    #[arg(long = "api-listen", value_name = "ADDR")]
    pub api_listen: Option<SocketAddr>,
    /// Chain rules: devnet or starknet [node.chain].
    #[arg(long, value_name = "CHAIN", value_parser = ["devnet", "starknet"])]
    pub chain: Option<String>,
    /// Feeder mode: follow the upstream gateway [feeder.enabled].
    #[arg(long)]
    pub feeder: bool,
    /// Upstream gateway base URL [feeder.gateway_url].
    #[arg(long = "gateway-url", value_name = "URL")]
    pub gateway_url: Option<String>,
    /// Upstream gateway public key, hex [feeder.gateway_public_key].
    #[arg(long = "gateway-public-key", value_name = "HEX")]
    pub gateway_public_key: Option<String>,
    /// Trusted checkpoint `<number>:<block hash>`: start the chain at that block instead of
    /// genesis [feeder.checkpoint, sync.checkpoint].
    #[arg(long, value_name = "NUMBER:HASH")]
    pub checkpoint: Option<String>,
    /// Postgres URL for bans and scores shared by the fleet [control.database_url].
    #[arg(long = "database-url", value_name = "URL")]
    pub database_url: Option<String>,
}

impl RunArgs {
    /// The flags that were given, as a nested object of configuration keys.
    pub fn overrides(&self) -> Value {
        let mut root = Map::new();
        let mut set = |section: &str, key: &str, v: Value| {
            let s = root.entry(section).or_insert_with(|| json!({}));
            s.as_object_mut().expect("object").insert(key.into(), v);
        };
        if let Some(n) = &self.network {
            set("node", "network", json!(n));
        }
        if let Some(d) = &self.data_dir {
            set("node", "data_dir", json!(d));
        }
        if let Some(c) = &self.chain {
            set("node", "chain", json!(c));
        }
        let lists = [
            ("listen", &self.p2p_listen),
            ("external_addrs", &self.p2p_external_addr),
            ("peers", &self.p2p_peers),
        ];
        for (key, list) in lists {
            if !list.is_empty() {
                set("p2p", key, json!(list));
            }
        }
        if let Some(k) = &self.p2p_private_key {
            set("p2p", "private_key", json!(k));
        }
        if let Some(k) = &self.p2p_shared_key {
            set("p2p", "shared_key", json!(k));
        }
        if let Some(a) = &self.metrics_listen {
            set("metrics", "listen", json!(a.to_string()));
        }
        if let Some(a) = &self.api_listen {
            set("api", "listen", json!(a.to_string()));
        }
        if self.feeder {
            set("feeder", "enabled", json!(true));
        }
        if let Some(u) = &self.gateway_url {
            set("feeder", "gateway_url", json!(u));
        }
        if let Some(k) = &self.gateway_public_key {
            set("feeder", "gateway_public_key", json!(k));
        }
        if let Some(c) = &self.checkpoint {
            set("feeder", "checkpoint", json!(c));
            set("sync", "checkpoint", json!(c));
        }
        if let Some(u) = &self.database_url {
            set("control", "database_url", json!(u));
        }
        Value::Object(root)
    }
}
