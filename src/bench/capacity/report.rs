//! What `wharf bench connections` measured, printed one figure group per line (the test and the
//! README read these lines).

use std::fmt;

use super::sample::{quantile, Readings};
use crate::bench::{LoadAverage, Transfer};

/// One node's figures.
#[derive(Debug, Clone)]
pub struct NodeFigures {
    /// Connections asked for.
    pub asked: usize,
    /// Still open at the end of the hold.
    pub live: usize,
    /// Could not be established.
    pub failed: usize,
    /// One reason a connection failed.
    pub last_error: Option<String>,
    /// Seconds to establish them all.
    pub dial_secs: f64,
    /// Memory and CPU readings.
    pub readings: Readings,
}

impl NodeFigures {
    /// Resident memory added per held connection, KiB.
    pub fn kib_per_connection(&self) -> f64 {
        let added = self.readings.end_kib() - self.readings.before.rss_kib;
        added / self.live.max(1) as f64
    }
}

/// The result of one `wharf bench connections`.
#[derive(Debug, Clone)]
pub struct ConnBenchReport {
    /// The relay (`wharf run`).
    pub relay: NodeFigures,
    /// The bare rust-libp2p node.
    pub bare: NodeFigures,
    /// `/healthz` latencies during the hold and the joiner's sync, ms.
    pub healthz_ms: Vec<f64>,
    /// Probes that failed or timed out.
    pub healthz_failed: usize,
    /// The joiner's sync before the connections were opened.
    pub sync_before: Transfer,
    /// The joiner's sync of the same blocks while they were held.
    pub sync_held: Transfer,
    /// Blocks each sync moved.
    pub sync_blocks: u64,
    /// Load average after the run.
    pub load: LoadAverage,
}

fn node_line(f: &mut fmt::Formatter<'_>, name: &str, n: &NodeFigures) -> fmt::Result {
    let r = &n.readings;
    writeln!(
        f,
        "{name:<8} {live} of {asked} connections held ({failed} failed, dialed in {dial:.1}s): RSS {before:.1} MiB -> {end:.1} MiB, {per:.1} KiB per connection, growth {growth:.1} KiB/s, idle CPU {cpu:.1}% of a core",
        live = n.live,
        asked = n.asked,
        failed = n.failed,
        dial = n.dial_secs,
        before = r.before.rss_kib / 1024.0,
        end = r.end_kib() / 1024.0,
        per = n.kib_per_connection(),
        growth = r.growth_kib_per_sec(),
        cpu = r.cpu_percent(),
    )?;
    match &n.last_error {
        Some(e) => writeln!(f, "{name:<8} last dial error: {e}"),
        None => Ok(()),
    }
}

impl fmt::Display for ConnBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        node_line(f, "relay", &self.relay)?;
        node_line(f, "bare", &self.bare)?;
        let h = &self.healthz_ms;
        writeln!(
            f,
            "healthz  p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} probes, {} failed)",
            quantile(h, 0.5),
            quantile(h, 0.99),
            quantile(h, 1.0),
            h.len(),
            self.healthz_failed
        )?;
        let rate = |t: &Transfer| self.sync_blocks as f64 / t.secs;
        writeln!(
            f,
            "joiner   {} blocks: {:.0} blocks/s before, {:.0} blocks/s while held ({:.0}%)",
            self.sync_blocks,
            rate(&self.sync_before),
            rate(&self.sync_held),
            100.0 * rate(&self.sync_held) / rate(&self.sync_before)
        )?;
        write!(f, "load     {} after (1, 5, 15 min)", self.load)
    }
}
