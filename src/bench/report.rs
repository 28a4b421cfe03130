//! What a run measured, and how it is printed.

use std::fmt;

use super::profile::StageCosts;

const MIB: f64 = 1024.0 * 1024.0;

/// Bytes moved in some time.
#[derive(Debug, Clone, Copy)]
pub struct Transfer {
    /// Payload bytes (block parts; no framing or transport overhead).
    pub bytes: usize,
    /// Wall-clock seconds.
    pub secs: f64,
    /// Streams in flight at most.
    pub streams: usize,
}

impl Transfer {
    /// MiB per second.
    pub fn mib_per_sec(&self) -> f64 {
        self.bytes as f64 / MIB / self.secs
    }
}

/// The 1, 5 and 15 minute load averages (`/proc/loadavg`; `None` where there is none).
#[derive(Debug, Clone, Copy)]
pub struct LoadAverage(pub Option<[f64; 3]>);

impl LoadAverage {
    /// Reads the current load average.
    pub fn read() -> LoadAverage {
        let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let mut fields = text.split_whitespace().map(str::parse::<f64>);
        let mut next = || fields.next().and_then(Result::ok);
        LoadAverage(match (next(), next(), next()) {
            (Some(a), Some(b), Some(c)) => Some([a, b, c]),
            _ => None,
        })
    }
}

impl fmt::Display for LoadAverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some([a, b, c]) => write!(f, "{a:.2} {b:.2} {c:.2}"),
            None => f.write_str("unknown"),
        }
    }
}

/// The result of one `wharf bench sync`.
#[derive(Debug, Clone)]
pub struct SyncBenchReport {
    /// Blocks synced.
    pub blocks: u64,
    /// Mean wire size of a block (six parts).
    pub block_bytes: f64,
    /// Relays synced from.
    pub relays: usize,
    /// Time to mint and commit the chain into the relays' stores (not part of the figures).
    pub premint_secs: f64,
    /// The P2P sync into a fresh store.
    pub sync: Transfer,
    /// CPU time (user and system) of the joining node's threads during the sync: its runtime's
    /// workers and blocking threads (transport, verification, commits), the relays excluded.
    pub joiner_cpu: std::time::Duration,
    /// The bare stream transfer of the same bytes.
    pub bare: Transfer,
    /// Stage costs on one thread, with `--profile`.
    pub profile: Option<StageCosts>,
    /// Load average before pre-minting.
    pub load_before: LoadAverage,
    /// Load average after the bare transfer.
    pub load_after: LoadAverage,
}

impl SyncBenchReport {
    /// Blocks per second of the sync.
    pub fn blocks_per_sec(&self) -> f64 {
        self.blocks as f64 / self.sync.secs
    }

    /// The joining node's CPU time per block, in microseconds.
    pub fn joiner_us_per_block(&self) -> f64 {
        self.joiner_cpu.as_secs_f64() * 1e6 / self.blocks as f64
    }

    /// Sync throughput as a fraction of the bare stream's.
    pub fn ratio(&self) -> f64 {
        self.sync.mib_per_sec() / self.bare.mib_per_sec()
    }
}

impl fmt::Display for SyncBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, b) = (&self.sync, &self.bare);
        writeln!(
            f,
            "blocks       {} devnet blocks of {:.2} KiB from {} relays (pre-minted in {:.1}s)",
            self.blocks,
            self.block_bytes / 1024.0,
            self.relays,
            self.premint_secs
        )?;
        if let Some(p) = &self.profile {
            writeln!(
                f,
                "stages       one thread, per block: header {:.1} us ({:.1} us in batches of 100), bodies {:.1} us (one SHA-256 pass over the block: {:.1} us), commit {:.1} us",
                p.header_us, p.header_batch_us, p.bodies_us, p.sha256_us, p.commit_us
            )?;
        }
        writeln!(
            f,
            "sync         {:.2}s: {:.0} blocks/s, {:.1} MiB/s ({} streams at most)",
            s.secs,
            self.blocks_per_sec(),
            s.mib_per_sec(),
            s.streams
        )?;
        writeln!(
            f,
            "joiner cpu   {:.1} us per block ({:.2} cores busy on average; relays excluded)",
            self.joiner_us_per_block(),
            self.joiner_cpu.as_secs_f64() / s.secs
        )?;
        writeln!(
            f,
            "bare stream  {:.1} MiB in {:.2}s: {:.1} MiB/s ({} streams at most)",
            b.bytes as f64 / MIB,
            b.secs,
            b.mib_per_sec(),
            b.streams
        )?;
        writeln!(
            f,
            "ratio        {:.1}% of the bare stream",
            self.ratio() * 100.0
        )?;
        write!(
            f,
            "load average {} before, {} after (1, 5, 15 min)",
            self.load_before, self.load_after
        )
    }
}
