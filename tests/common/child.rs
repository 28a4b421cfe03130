//! Crash tests' child processes: the test binary re-runs one of its own ignored tests as a
//! child, the parent reads its stdout line by line (the reader lives as long as the child, so
//! a child never dies of a closed pipe) and kills it with SIGKILL, checking that it was the
//! signal, not a panic, that ended it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// A running child test process and the lines it has printed.
pub struct Child {
    process: std::process::Child,
    lines: Receiver<String>,
}

impl Child {
    /// Runs the ignored test `test` (its full path inside this binary) with `env` set.
    pub fn spawn(test: &str, env: &[(&str, String)]) -> Child {
        let mut cmd = Command::new(std::env::current_exe().expect("test binary path"));
        cmd.args(["--ignored", "--exact", test, "--nocapture"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut process = cmd.spawn().expect("child test process starts");
        let stdout = BufReader::new(process.stdout.take().expect("piped stdout"));
        let (tx, lines) = sync_channel(4096);
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Child { process, lines }
    }

    /// The next line for which `pick` returns a value, within `within`; `None` when the
    /// child exits (or the time runs out) first.
    pub fn next<T>(&self, within: Duration, mut pick: impl FnMut(&str) -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(v) = pick(&line) {
                        return Some(v);
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Lines already printed, without waiting.
    pub fn drain(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// SIGKILL, then asserts the child died of it (a panic or a clean exit fails the test).
    pub fn kill(mut self) -> Vec<String> {
        self.process.kill().expect("SIGKILL sent");
        let status = self.process.wait().expect("child reaped");
        assert_eq!(
            status.signal(),
            Some(9),
            "the child must die of SIGKILL, not exit by itself ({status})"
        );
        // whatever it printed before the kill, in order
        let mut rest = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            rest.push(line);
        }
        rest
    }
}

/// The block number of a `HEAD <n>` line (how crash children report a commit).
pub fn head_line(line: &str) -> Option<u64> {
    line.strip_prefix("HEAD ")?.parse().ok()
}

/// Waits until `child` reports a head of at least `target`, lets it run up to `jitter` more
/// (so the kill lands anywhere in a commit), kills it; returns the highest head it reported.
pub fn kill_after_head(child: Child, target: u64, jitter: Duration) -> u64 {
    let mut reported = 0;
    child
        .next(Duration::from_secs(120), |l| {
            reported = reported.max(head_line(l)?);
            (reported >= target).then_some(())
        })
        .unwrap_or_else(|| panic!("child never reached head {target}"));
    std::thread::sleep(random_below(jitter));
    let rest = child.kill();
    rest.iter()
        .filter_map(|l| head_line(l))
        .fold(reported, u64::max)
}

/// A pseudo-random duration below `max` (crash tests kill at random moments).
pub fn random_below(max: Duration) -> Duration {
    Duration::from_micros(rand::random::<u64>() % max.as_micros().max(1) as u64)
}
