//! The joining node's own CPU time: it runs on a Tokio runtime of its own whose threads (workers,
//! blocking pool, and the verification threads they start, which take their caller's name) are
//! all named [`JOINER_THREAD`], and the benchmark sums those threads' CPU clocks from
//! `/proc/self/task`, so the relays' work in the same process is left out.

use std::future::Future;
use std::time::Duration;

use tokio::runtime::{Builder, Runtime};

use super::BenchError;

/// Name of every thread of the joining node.
pub const JOINER_THREAD: &str = "wharf-joiner";

/// The joining node's runtime (as many workers as cores, like the relay's own runtime).
pub struct Joiner(Option<Runtime>);

impl Joiner {
    /// A fresh runtime; its blocking threads live as long as the benchmark, so none of their
    /// CPU time leaves the count by exiting.
    pub fn new() -> Result<Joiner, BenchError> {
        let runtime = Builder::new_multi_thread()
            .thread_name(JOINER_THREAD)
            .thread_keep_alive(Duration::from_secs(3600))
            .enable_all()
            .build()?;
        Ok(Joiner(Some(runtime)))
    }

    /// Runs `task` on the joiner's runtime and waits for it from the caller's.
    pub async fn run<F>(&self, task: F) -> Result<F::Output, BenchError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let runtime = self.0.as_ref().expect("runtime present until drop");
        runtime
            .spawn(task)
            .await
            .map_err(|e| BenchError::Wrong(format!("joiner task failed: {e}")))
    }
}

impl Drop for Joiner {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// CPU time (user and system) of this process's threads named `name`, so far.
pub fn threads_cpu(name: &str) -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    tasks
        .flatten()
        .filter(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == name))
        .map(|t| thread_cpu(&t.path()))
        .sum()
}

/// One thread's CPU time: `schedstat`'s nanoseconds on a CPU, else `stat`'s clock ticks.
fn thread_cpu(task: &std::path::Path) -> Duration {
    let schedstat = std::fs::read_to_string(task.join("schedstat")).unwrap_or_default();
    if let Some(ns) = schedstat
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
    {
        return Duration::from_nanos(ns);
    }
    let stat = std::fs::read_to_string(task.join("stat")).unwrap_or_default();
    // fields after the parenthesised name: state is field 3, utime 14, stime 15
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}
