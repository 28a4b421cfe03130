//! Replays every fuzz target's committed corpus (`fuzz/corpus/<target>/`), then mutates its
//! entries (byte flips, truncations, splices, insertions) for a fixed budget per target: the
//! part of fuzzing CI can afford. Coverage-guided runs use the `fuzz/` crate (see its README).
//! `FUZZ_SEED=<n>` changes the mutation sequence; `FUZZ_BUDGET_MS=<ms>` the time per target.

#[path = "fuzz/mutate.rs"]
mod mutate;
#[path = "fuzz/reach.rs"]
mod reach;
#[path = "fuzz/seeds.rs"]
mod seeds;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mutate::Mutator;

/// Time spent mutating per target (replay comes on top).
const BUDGET: Duration = Duration::from_millis(1500);
/// Mutated inputs per target at most (the budget usually ends first on 2 cores).
const MAX_RUNS: u64 = 200_000;

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

/// Every file of the target's corpus, sorted by name (the order is part of the seed).
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut entries: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("a corpus file"))
        })
        .collect();
    entries.sort();
    entries
}

fn target_fn(name: &str) -> fn(&[u8]) {
    wharf::fuzz::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("no fuzz target {name}"))
}

fn env_u64(key: &str) -> Option<u64> {
    std::env::var(key).ok().and_then(|v| v.parse().ok())
}

/// Replays the corpus, then mutates it until the budget is spent; a panic names the input.
fn run(target: &str) {
    let f = target_fn(target);
    let entries = corpus(target);
    assert!(!entries.is_empty(), "{target}: empty corpus");
    for (name, data) in &entries {
        guarded(target, f, data, &format!("corpus entry {name}"));
    }
    let seed = env_u64("FUZZ_SEED").unwrap_or(0x5eed);
    let budget = env_u64("FUZZ_BUDGET_MS").map_or(BUDGET, Duration::from_millis);
    let inputs: Vec<Vec<u8>> = entries.into_iter().map(|(_, d)| d).collect();
    let mut m = Mutator::new(seed ^ fnv(target), inputs);
    let start = Instant::now();
    let mut runs = 0u64;
    while runs < MAX_RUNS && start.elapsed() < budget {
        let input = m.next_input();
        guarded(
            target,
            f,
            &input,
            &format!("mutation {runs} (FUZZ_SEED={seed})"),
        );
        runs += 1;
    }
    eprintln!("{target}: {runs} mutated inputs in {:?}", start.elapsed());
}

/// Runs one input; on a panic, saves it under `target/fuzz-failures/` and fails with its path.
fn guarded(target: &str, f: fn(&[u8]), data: &[u8], what: &str) {
    if std::panic::catch_unwind(|| f(data)).is_ok() {
        return;
    }
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
    std::fs::create_dir_all(&dir).expect("failure directory");
    let path = dir.join(format!("{target}-{:016x}", fnv_bytes(data)));
    std::fs::write(&path, data).expect("saving the failing input");
    panic!(
        "{target}: {what} panicked; input saved to {}",
        path.display()
    );
}

fn fnv(s: &str) -> u64 {
    fnv_bytes(s.as_bytes())
}

fn fnv_bytes(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

macro_rules! fuzz_tests {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            run(stringify!($name));
        }
    )*};
}

fuzz_tests!(
    sync_frames,
    sync_client,
    head_message,
    gossip_header,
    devnet_codec,
    starknet_gateway,
    starknet_header,
    starknet_bodies,
    starknet_p2p,
    starknet_class,
    config_toml,
    api_token,
);

/// Every target of `wharf::fuzz::TARGETS` has a test above and a cargo-fuzz driver.
#[test]
fn every_target_is_replayed_and_has_a_driver() {
    let tests = include_str!("fuzz.rs");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for (name, _) in wharf::fuzz::TARGETS {
        assert!(
            tests.contains(&format!("    {name},\n")),
            "{name}: no replay test"
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name}: no driver"
        );
        assert!(
            root.join(format!("fuzz_targets/{name}.rs")).exists(),
            "{name}: no driver file"
        );
    }
}
