//! The `wharf` binary: parse the command line, load configuration, run.

use std::io::IsTerminal;

use anyhow::Context;
use clap::Parser;
use libp2p::identity::Keypair;
use tracing_subscriber::EnvFilter;
use wharf::api::Keyring;
use wharf::cli::starknet::StarknetCommand;
use wharf::cli::{
    BenchCommand, BenchConnectionsArgs, BenchSyncArgs, Cli, Command, GatewayArgs, HealthcheckArgs,
    RollbackArgs, RunArgs, StoreCommand, TokenArgs,
};
use wharf::p2p::{identity, psk};
use wharf::{App, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(*args).await,
        Command::Keygen => {
            keygen();
            Ok(())
        }
        Command::Psk => {
            print!("{}", psk::generate());
            println!();
            Ok(())
        }
        Command::Token(args) => token(args),
        Command::Healthcheck(args) => healthcheck(args).await,
        Command::Gateway(args) => gateway(args).await,
        Command::Devnet(args) => devnet(*args).await,
        Command::Bench(BenchCommand::Sync(args)) => bench_sync(args).await,
        Command::Bench(BenchCommand::Connections(args)) => bench_connections(args).await,
        Command::Bench(BenchCommand::BareNode(args)) => {
            Ok(wharf::bench::run_bare(args.port).await?)
        }
        Command::Starknet(StarknetCommand::VerifyBlock(args)) => {
            if !wharf::cli::starknet::verify_block(&args)? {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Starknet(StarknetCommand::ClassHash(args)) => {
            wharf::cli::starknet::class_hash(&args)
        }
        Command::Store(StoreCommand::Rollback(args)) => rollback(args),
    }
}

fn init_tracing() {
    init_tracing_at("info");
}

fn init_tracing_at(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    init_tracing();
    let config = Config::load(args.config.as_deref(), args.overrides())?;
    let signal = shutdown_signal();
    let app = App::start(config).await.context("starting the relay")?;
    signal.await;
    tracing::info!("shutting down");
    app.shutdown().await;
    Ok(())
}

fn keygen() {
    let kp = Keypair::generate_ed25519();
    println!("private_key: {}", identity::keypair_to_hex(&kp));
    println!("public_key: {}", identity::public_key_hex(&kp));
    println!("peer_id: {}", kp.public().to_peer_id());
}

/// Resolves on SIGINT or SIGTERM. Both handlers are installed when this is called, not when it is
/// first polled, so a signal that arrives while the relay is still starting is not lost (nor does
/// it kill the process with the default action).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    }
}

fn token(args: TokenArgs) -> anyhow::Result<()> {
    if args
        .scope
        .split_whitespace()
        .any(|s| s != "read" && s != "admin")
    {
        anyhow::bail!("--scope: expected `read` or `admin`, got `{}`", args.scope);
    }
    let config = Config::load(args.config.as_deref(), serde_json::json!({}))?;
    let ring = Keyring::from_config(&config.api)?;
    let token = ring.mint(args.kid.as_deref(), &args.sub, &args.scope, args.ttl)?;
    println!("{token}");
    Ok(())
}

fn rollback(args: RollbackArgs) -> anyhow::Result<()> {
    let done = wharf::store::rollback(&args.data_dir, args.to)
        .with_context(|| format!("rolling {} back", args.data_dir.display()))?;
    println!(
        "block store rolled back from {} to {} (hash {})",
        done.from, done.to, done.hash
    );
    Ok(())
}

async fn healthcheck(args: HealthcheckArgs) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()?;
    let resp = client
        .get(&args.url)
        .send()
        .await
        .context("probing /healthz")?;
    anyhow::ensure!(
        resp.status().is_success(),
        "{} answered {}",
        args.url,
        resp.status()
    );
    Ok(())
}

async fn gateway(args: GatewayArgs) -> anyhow::Result<()> {
    init_tracing();
    let config = Config::load(args.config.as_deref(), args.overrides())?;
    let cancel = tokio_util::sync::CancellationToken::new();
    let stop = cancel.clone();
    let signal = shutdown_signal();
    tokio::spawn(async move {
        signal.await;
        stop.cancel();
    });
    wharf::gateway::Gateway::run(config.gateway, cancel).await?;
    Ok(())
}

async fn devnet(args: RunArgs) -> anyhow::Result<()> {
    init_tracing();
    let config = Config::load(args.config.as_deref(), args.overrides())?;
    let cancel = tokio_util::sync::CancellationToken::new();
    let signal = shutdown_signal();
    let net = wharf::devnet::Devnet::start(config, cancel.clone()).await?;
    for line in net.summary() {
        println!("{line}");
    }
    signal.await;
    tracing::info!("shutting down the devnet");
    cancel.cancel();
    net.shutdown().await;
    Ok(())
}

async fn bench_connections(args: BenchConnectionsArgs) -> anyhow::Result<()> {
    init_tracing_at("warn");
    let params = args.params();
    println!(
        "wharf bench connections: {} connections ({} per 127.x.y.z address, {} per /24), held {}s, joiner syncs {} blocks, {} cores",
        params.connections,
        params.spread.per_ip,
        params.spread.per_subnet,
        params.hold_secs,
        params.sync_blocks,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    let report = wharf::bench::run_connections(params).await?;
    println!("{report}");
    Ok(())
}

async fn bench_sync(args: BenchSyncArgs) -> anyhow::Result<()> {
    init_tracing_at("warn");
    let params = args.params();
    println!(
        "wharf bench sync: {} blocks (seed {}, {} txs x {} B), {} relays, TCP+Noise+Yamux on 127.0.0.1, {} cores",
        params.blocks,
        params.seed,
        params.txs_per_block,
        params.tx_size,
        params.relays,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    let report = wharf::bench::run_sync(params).await?;
    println!("{report}");
    Ok(())
}
