//! The measured nodes run as child processes of the benchmark (the relay as `wharf run`, the bare
//! node as `wharf bench bare-node`), so their resident memory and CPU time are their own:
//! read from `/proc/<pid>/status` and `/proc/<pid>/stat`.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::super::BenchError;

/// How long a child may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A child process, killed when dropped.
pub struct Node {
    child: Child,
}

impl Node {
    /// Starts `wharf <args>` (this very executable), its stderr going to `log`.
    pub fn spawn(args: &[&str], log: &Path) -> Result<Node, BenchError> {
        let exe = std::env::current_exe()?;
        let child = Command::new(exe)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log)?)
            .spawn()?;
        Ok(Node { child })
    }

    /// Waits until `addr` accepts TCP connections (or the child exits).
    pub async fn ready(&mut self, addr: SocketAddr, log: &Path) -> Result<(), BenchError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let tail = std::fs::read_to_string(log).unwrap_or_default();
                return Err(BenchError::Net(format!("child exited ({status}): {tail}")));
            }
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(BenchError::Net(format!("child not listening on {addr}")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Its current resident set and CPU time.
    pub fn stats(&self) -> Result<Stats, BenchError> {
        Stats::of(self.child.id())
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One reading of a process's memory and CPU.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// Resident set size, KiB.
    pub rss_kib: f64,
    /// User + system CPU time, seconds.
    pub cpu_secs: f64,
    /// When it was read.
    pub at: Instant,
}

impl Stats {
    fn of(pid: u32) -> Result<Stats, BenchError> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let rss_kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .ok_or(BenchError::Wrong("no VmRSS in /proc/<pid>/status".into()))?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // fields after the command name (which may hold spaces): state is field 3, utime 14
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i - 3).and_then(|v| v.parse::<f64>().ok());
        let (utime, stime) = ticks(14)
            .zip(ticks(15))
            .ok_or(BenchError::Wrong("bad /proc/<pid>/stat".into()))?;
        Ok(Stats {
            rss_kib,
            cpu_secs: (utime + stime) / clock_ticks(),
            at: Instant::now(),
        })
    }
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf reads a constant; no memory is passed.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

/// A free TCP port on 127.0.0.1 (bound and released: the child binds it next).
pub fn free_port() -> Result<u16, BenchError> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
