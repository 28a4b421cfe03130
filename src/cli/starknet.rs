//! `wharf starknet ...`: operator tools on saved Starknet feeder-gateway answers.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};

use crate::chain::starknet::inspect::{any_failed, inspect, Answers};
use crate::chain::starknet::{parse_felt, StarknetAdapter};
use crate::chain::starknet_preset;

/// Starknet tools.
#[derive(Debug, Subcommand)]
pub enum StarknetCommand {
    /// Run the adapter's checks on saved gateway answers, one line per check (ok, failed,
    /// not verifiable in this era, skipped); exit 1 if any check failed.
    VerifyBlock(VerifyBlockArgs),
    /// Recompute the class hash of `get_class_by_hash` answers: prints `KIND HASH FILE` per
    /// file (kind `cairo0` or `sierra`); exits non-zero if any file is malformed.
    ClassHash(ClassHashArgs),
}

/// Flags of `wharf starknet class-hash`.
#[derive(Debug, Args)]
pub struct ClassHashArgs {
    /// Files holding a feeder-gateway `get_class_by_hash` answer body each.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Flags of `wharf starknet verify-block`.
#[derive(Debug, Args)]
pub struct VerifyBlockArgs {
    /// Network preset (mainnet, sepolia, sepolia-integration) giving the chain id and the
    /// sequencer key; another name needs --chain-id and --public-key.
    #[arg(long)]
    pub network: String,
    /// `get_block?blockNumber=N` answer.
    #[arg(long, value_name = "FILE")]
    pub block: PathBuf,
    /// `get_state_update?blockNumber=N` answer (also the `includeBlock=true` form).
    #[arg(long = "state-update", value_name = "FILE")]
    pub state_update: Option<PathBuf>,
    /// `get_signature?blockNumber=N` answer.
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
    /// The parent block's `get_block` answer.
    #[arg(long, value_name = "FILE")]
    pub parent: Option<PathBuf>,
    /// Chain id short string, for a network without a preset.
    #[arg(long = "chain-id")]
    pub chain_id: Option<String>,
    /// Sequencer public key (hex felt), for a network without a preset.
    #[arg(long = "public-key")]
    pub public_key: Option<String>,
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn adapter(args: &VerifyBlockArgs) -> anyhow::Result<StarknetAdapter> {
    let preset = starknet_preset(&args.network);
    let chain_id = args.chain_id.as_deref().or(preset.map(|p| p.chain_id));
    let key = args.public_key.as_deref().or(preset.map(|p| p.public_key));
    let (Some(chain_id), Some(key)) = (chain_id, key) else {
        bail!(
            "network `{}` has no preset: give --chain-id and --public-key",
            args.network
        );
    };
    let key = parse_felt(key).map_err(|e| anyhow::anyhow!("--public-key: {e}"))?;
    StarknetAdapter::new(chain_id, &key.to_bytes_be()).context("building the Starknet rules")
}

/// Prints one line per check; `Ok(false)` if a check failed.
pub fn verify_block(args: &VerifyBlockArgs) -> anyhow::Result<bool> {
    let adapter = adapter(args)?;
    let block = read(&args.block)?;
    let optional = |p: &Option<PathBuf>| p.as_deref().map(read).transpose();
    let (state_update, signature, parent) = (
        optional(&args.state_update)?,
        optional(&args.signature)?,
        optional(&args.parent)?,
    );
    let answers = Answers {
        block: &block,
        state_update: state_update.as_deref(),
        signature: signature.as_deref(),
        parent: parent.as_deref(),
    };
    let checks = inspect(&adapter, &answers);
    for c in &checks {
        println!("{c}");
    }
    Ok(!any_failed(&checks))
}

/// Prints `KIND HASH FILE` per class file; fails naming how many files were malformed.
pub fn class_hash(args: &ClassHashArgs) -> anyhow::Result<()> {
    use crate::chain::starknet::{class, felt_hex};
    let mut failed = 0;
    for path in &args.files {
        let computed = read(path).and_then(|body| Ok(class::compute_class_hash(&body)?));
        match computed {
            Ok(c) => println!("{} {} {}", c.kind.name(), felt_hex(&c.hash), path.display()),
            Err(e) => {
                failed += 1;
                eprintln!("{}: {e:#}", path.display());
            }
        }
    }
    anyhow::ensure!(failed == 0, "{failed} of {} files failed", args.files.len());
    Ok(())
}
