//! Contract class hash throughput on one core, release mode:
//! `cargo bench --bench class_hash`. Recomputes the class hash of every real
//! `get_class_by_hash` answer in `tests/fixtures/starknet/classes` (checking it against the
//! published hash in the file name first) and reports classes/s and MiB/s of
//! `compute_class_hash` for Cairo 0 and Sierra, plus each class alone. Takes about 20 s.

use std::fs;
use std::hint::black_box;
use std::time::Instant;

use wharf::chain::starknet::class::{compute_class_hash, ClassKind};
use wharf::chain::starknet::parse_felt;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/starknet/classes"
);
/// Minimum wall time of one measurement, seconds.
const MIN_SECS: f64 = 1.0;

struct Class {
    name: String,
    kind: ClassKind,
    body: Vec<u8>,
}

fn load() -> Vec<Class> {
    let mut out = Vec::new();
    for network in ["sepolia", "mainnet", "integration", "goerli"] {
        let mut entries: Vec<_> = fs::read_dir(format!("{DIR}/{network}"))
            .expect("fixture dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let stem = path.file_stem().and_then(|s| s.to_str()).expect("name");
            let body = fs::read(&path).expect("fixture");
            let computed = compute_class_hash(&body).expect("class hash");
            assert_eq!(computed.hash, parse_felt(stem).expect("hash"), "{stem}");
            out.push(Class {
                name: format!("{network}/{}…", &stem[..12]),
                kind: computed.kind,
                body,
            });
        }
    }
    out
}

/// Runs `classes` until at least `MIN_SECS` have passed; returns (classes/s, MiB/s).
fn measure(classes: &[&Class]) -> (f64, f64) {
    let bytes: usize = classes.iter().map(|c| c.body.len()).sum();
    let start = Instant::now();
    let mut rounds = 0u64;
    while start.elapsed().as_secs_f64() < MIN_SECS {
        for class in classes {
            black_box(compute_class_hash(black_box(&class.body)).expect("hash"));
        }
        rounds += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    let n = rounds as f64 * classes.len() as f64;
    (
        n / secs,
        rounds as f64 * bytes as f64 / secs / (1024.0 * 1024.0),
    )
}

fn main() {
    let classes = load();
    println!(
        "class_hash: {} real classes, compute_class_hash on one thread (parse + hash)",
        classes.len()
    );
    for kind in [ClassKind::Cairo0, ClassKind::Sierra] {
        let group: Vec<&Class> = classes.iter().filter(|c| c.kind == kind).collect();
        let mib: f64 = group.iter().map(|c| c.body.len() as f64).sum::<f64>() / 1048576.0;
        let (per_s, mib_s) = measure(&group);
        println!(
            "{:<7} {:>2} classes, {:>6.2} MiB: {:>8.1} classes/s {:>7.1} MiB/s",
            kind.name(),
            group.len(),
            mib,
            per_s,
            mib_s
        );
    }
    for class in &classes {
        let (per_s, mib_s) = measure(&[class]);
        println!(
            "  {:<24} {:<6} {:>9} B: {:>8.1} classes/s {:>7.1} MiB/s",
            class.name,
            class.kind.name(),
            class.body.len(),
            per_s,
            mib_s
        );
    }
}
