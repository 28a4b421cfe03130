//! Readings while the connections are held: the node's memory and CPU once a second, and the
//! relay's `/healthz` latency probed continuously from a keep-alive HTTP client.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::process::{Node, Stats};
use crate::bench::BenchError;

/// Time between memory readings.
const EVERY: Duration = Duration::from_secs(1);
/// Time between `/healthz` probes.
const PROBE_EVERY: Duration = Duration::from_millis(20);
/// A probe slower than this counts as failed (and as this long).
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Readings of one node over a hold.
#[derive(Debug, Clone)]
pub struct Readings {
    /// Before the connections were opened.
    pub before: Stats,
    /// Once a second while they were held.
    pub held: Vec<Stats>,
}

impl Readings {
    /// Resident memory at the end of the hold, KiB.
    pub fn end_kib(&self) -> f64 {
        self.held.last().map_or(self.before.rss_kib, |s| s.rss_kib)
    }

    /// Growth of resident memory over the second half of the hold, KiB per second (least
    /// squares): what keeps growing once the connections are settled.
    pub fn growth_kib_per_sec(&self) -> f64 {
        let tail = &self.held[self.held.len() / 2..];
        if tail.len() < 2 {
            return 0.0;
        }
        let t0 = tail[0].at;
        let xs: Vec<f64> = tail.iter().map(|s| (s.at - t0).as_secs_f64()).collect();
        let (mx, my) = (
            xs.iter().sum::<f64>() / xs.len() as f64,
            tail.iter().map(|s| s.rss_kib).sum::<f64>() / xs.len() as f64,
        );
        let cov: f64 = xs
            .iter()
            .zip(tail)
            .map(|(x, s)| (x - mx) * (s.rss_kib - my))
            .sum();
        let var: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
        if var > 0.0 {
            cov / var
        } else {
            0.0
        }
    }

    /// CPU use over the hold, percent of one core.
    pub fn cpu_percent(&self) -> f64 {
        match (self.held.first(), self.held.last()) {
            (Some(a), Some(b)) if b.at > a.at => {
                100.0 * (b.cpu_secs - a.cpu_secs) / (b.at - a.at).as_secs_f64()
            }
            _ => 0.0,
        }
    }
}

/// Reads `node` every second for `secs` seconds.
pub async fn hold(node: &Node, before: Stats, secs: f64) -> Result<Readings, BenchError> {
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let mut held = vec![node.stats()?];
    while Instant::now() < until {
        tokio::time::sleep(EVERY.min(until - Instant::now())).await;
        held.push(node.stats()?);
    }
    Ok(Readings { before, held })
}

/// A running `/healthz` prober; `stop` returns the latencies it measured, in ms.
pub struct Prober {
    cancel: CancellationToken,
    task: JoinHandle<(Vec<f64>, usize)>,
}

impl Prober {
    /// Starts probing `http://<api>/healthz`.
    pub fn start(api: SocketAddr) -> Prober {
        let cancel = CancellationToken::new();
        let url = format!("http://{api}/healthz");
        let stop = cancel.clone();
        let task = tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(PROBE_TIMEOUT)
                .build()
                .expect("a plain HTTP client builds");
            let (mut ms, mut failed) = (Vec::new(), 0);
            while !stop.is_cancelled() {
                let started = Instant::now();
                let ok = match client.get(&url).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                ms.push(started.elapsed().as_secs_f64() * 1e3);
                failed += usize::from(!ok);
                tokio::time::sleep(PROBE_EVERY).await;
            }
            (ms, failed)
        });
        Prober { cancel, task }
    }

    /// Stops probing: (latencies in ms, failed probes).
    pub async fn stop(self) -> (Vec<f64>, usize) {
        self.cancel.cancel();
        self.task.await.unwrap_or_default()
    }
}

/// The `q` quantile (0..=1) of `values` (nearest rank); 0 when empty.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n => v[((q * n as f64).ceil() as usize).clamp(1, n) - 1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}
