//! The `wharf` binary as operators run it: configuration layers, clear errors and exit codes,
//! key generation, graceful shutdown on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wharf::Config;

const BIN: &str = env!("CARGO_BIN_EXE_wharf");

/// Runs `wharf run` with `args` (on ephemeral ports) and expects a start-up failure.
fn run_fails(args: &[&str], envs: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["run", "--data-dir", dir.path().to_str().unwrap()])
        .args([
            "--p2p-listen",
            "/ip4/127.0.0.1/tcp/0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--api-listen",
            "127.0.0.1:0",
        ])
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    assert!(!out.status.success(), "expected failure for {args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_inputs_fail_at_start_naming_the_key() {
    let cases: [(&[&str], &str); 4] = [
        (&["--p2p-private-key", "zz"], "p2p.private_key"),
        (&["--p2p-listen", "not-a-multiaddr"], "p2p.listen"),
        (
            &["--p2p-peers", "/ip4/127.0.0.1/tcp/7777"],
            "/p2p/<peer id>",
        ),
        (&["--network", "bad net!"], "node.network"),
    ];
    for (args, needle) in cases {
        let err = run_fails(args, &[]);
        assert!(
            err.contains(needle),
            "{args:?}: stderr lacks {needle:?}:\n{err}"
        );
    }
}

#[test]
fn unknown_keys_in_file_or_env_fail_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wharf.toml");
    std::fs::write(&file, "[p2p]\nlisn = []\n").unwrap();
    let err = run_fails(&["--config", file.to_str().unwrap()], &[]);
    assert!(err.contains("lisn"), "{err}");
    let err = run_fails(&[], &[("WHARF_P2P__BOGUS", "1")]);
    assert!(err.contains("bogus"), "{err}");
    let err = run_fails(&[], &[("WHARF_P2P__LIMITS__MAX_PER_IP", "0")]);
    assert!(err.contains("p2p.limits.max_per_ip"), "{err}");
}

#[test]
fn layers_apply_in_order_defaults_file_env_cli() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wharf.toml");
    std::fs::write(
        &file,
        "[node]\nnetwork = \"from-file\"\n[p2p.limits]\nmax_per_ip = 3\n",
    )
    .unwrap();
    let from_file = Config::load(Some(&file), serde_json::json!({})).unwrap();
    assert_eq!(from_file.node.network, "from-file");
    assert_eq!(from_file.p2p.limits.max_per_ip, 3);
    assert_eq!(
        from_file.p2p.limits.max_pending_inbound, 128,
        "default kept"
    );
    let cli = serde_json::json!({"node": {"network": "from-cli"}});
    assert_eq!(
        Config::load(Some(&file), cli).unwrap().node.network,
        "from-cli"
    );
}

#[test]
fn example_config_parses_and_documents_every_key() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml");
    let parsed = Config::load(Some(path.as_ref()), serde_json::json!({})).unwrap();
    assert_eq!(parsed.node.network, "devnet");
    let text = std::fs::read_to_string(path).unwrap();
    let defaults = toml::Value::try_from(Config::default()).unwrap();
    for key in leaf_keys(&defaults, "") {
        let name = key.rsplit('.').next().unwrap();
        assert!(
            text.contains(&format!("{name} =")) || text.contains(&format!("# {name} =")),
            "config.example.toml does not document `{key}`"
        );
    }
}

fn leaf_keys(v: &toml::Value, prefix: &str) -> Vec<String> {
    match v {
        toml::Value::Table(t) => t
            .iter()
            .flat_map(|(k, v)| leaf_keys(v, &format!("{prefix}{k}.")))
            .collect(),
        _ => vec![prefix.trim_end_matches('.').to_string()],
    }
}

#[test]
fn keygen_prints_a_key_that_run_accepts() {
    let out = Command::new(BIN).arg("keygen").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap()
            .to_string()
    };
    let kp = wharf::p2p::identity::keypair_from_hex(&field("private_key")).unwrap();
    assert_eq!(kp.public().to_peer_id().to_string(), field("peer_id"));
    assert_eq!(field("private_key").len(), 128);
}

/// Real class fixtures: (path under `tests/fixtures/starknet/classes`, kind).
const CLASSES: [(&str, &str); 2] = [
    (
        "sepolia/0x4f23a756b221f8ce46b72e6a6b10ee7ee6cf3b59790e76e02433104f9a8c5d1.json",
        "cairo0",
    ),
    (
        "sepolia/0x1a736d6ed154502257f02b1ccdf4d9d1089f80811cd6acad48e6b6a9d1f2003.json",
        "sierra",
    ),
];

fn class_path(name: &str) -> String {
    format!(
        "{}/tests/fixtures/starknet/classes/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn starknet_class_hash_prints_kind_and_hash_per_file() {
    let paths: Vec<String> = CLASSES.iter().map(|(name, _)| class_path(name)).collect();
    let out = Command::new(BIN)
        .args(["starknet", "class-hash"])
        .args(&paths)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), CLASSES.len(), "{text}");
    for ((name, kind), (line, path)) in CLASSES.iter().zip(lines.iter().zip(&paths)) {
        let hash = name.rsplit('/').next().unwrap().trim_end_matches(".json");
        assert_eq!(*line, format!("{kind} {hash} {path}"));
    }
}

#[test]
fn starknet_class_hash_fails_on_a_malformed_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, br#"{"sierra_program": ["0x1", "zz"]}"#).unwrap();
    let good = class_path(CLASSES[0].0);
    let out = Command::new(BIN)
        .args(["starknet", "class-hash", &good, bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("cairo0 0x4f23a756"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.json") && stderr.contains("malformed class"),
        "{stderr}"
    );
}

#[test]
fn psk_prints_a_swarm_key_file() {
    let out = Command::new(BIN).arg("psk").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("/key/swarm/psk/1.0.0/\n/base16/\n"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("swarm.key");
    std::fs::write(&path, &text).unwrap();
    assert!(wharf::p2p::psk::parse(path.to_str().unwrap()).is_ok());
}

#[test]
fn run_prints_join_addrs_and_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["run", "--data-dir", dir.path().to_str().unwrap()])
        .args([
            "--p2p-listen",
            "/ip4/127.0.0.1/tcp/0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--api-listen",
            "127.0.0.1:0",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut join_line = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("joining peers can use: /ip4/127.0.0.1/tcp/") {
            join_line = Some(line);
            break;
        }
        assert!(Instant::now() < deadline, "no join address logged");
    }
    let line = join_line.expect("process ended before logging a join address");
    // Keep draining stderr so the relay never writes into a closed pipe.
    let drain = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    assert!(line.contains("/p2p/12D3KooW"), "{line}");
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    let rest = drain.join().unwrap();
    assert!(
        status.success(),
        "exit status {status:?}; log tail: {rest:?}"
    );
    assert!(
        rest.iter().any(|l| l.contains("peer book saved")),
        "{rest:?}"
    );
    assert!(
        dir.path().join("peers.json").exists(),
        "peer book saved on shutdown"
    );
}

/// A small `wharf bench sync` runs end to end (correctness only; figures come from release runs).
#[test]
fn bench_sync_runs_and_refuses_a_used_dir() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("bench");
    let out = Command::new(BIN)
        .args(["bench", "sync", "--blocks", "150", "--profile", "--dir"])
        .arg(&work)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in ["stages", "sync", "bare stream", "ratio", "load average"] {
        assert!(
            stdout.lines().any(|l| l.starts_with(line)),
            "no {line}: {stdout}"
        );
    }
    let again = Command::new(BIN)
        .args(["bench", "sync", "--blocks", "150", "--dir"])
        .arg(&work)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        !again.status.success() && stderr.contains("--dir must be empty"),
        "{stderr}"
    );
}

/// Runs `wharf starknet verify-block` with `args`; returns (exit code, stdout).
fn verify_block(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .args(["starknet", "verify-block"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), stdout)
}

fn fixture_path(rel: &str) -> String {
    format!(
        "{}/tests/fixtures/starknet/{rel}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn verify_block_reports_each_check_on_real_mainnet_answers() {
    let (block, su) = (
        fixture_path("mainnet/block/1.json"),
        fixture_path("mainnet/state_update/1.json"),
    );
    let (sig, parent) = (
        fixture_path("mainnet/signature/1.json"),
        fixture_path("mainnet/block/0.json"),
    );
    let all = [
        "--network",
        "mainnet",
        "--block",
        &block,
        "--state-update",
        &su,
        "--signature",
        &sig,
        "--parent",
        &parent,
    ];
    let (code, out) = verify_block(&all);
    assert_eq!(code, 0, "{out}");
    for line in [
        "transaction hashes: ok (8 of 8 recomputed)",
        "event commitment: not verifiable in this era: the pre-0.7 block hash",
        "receipt commitment: not verifiable in this era:",
        "block hash: ok (0x2a70fb03fe363a2d6be843343a1d81ce6abeda1e9bd5cc6ad8fa9f45e30fdeb, pre-0.7 rule",
        "signature: ok (over the block hash)",
        "parent link: ok (block 0 hashes",
    ] {
        assert!(out.contains(line), "missing `{line}` in:\n{out}");
    }
    let (code, out) = verify_block(&["--network", "mainnet", "--block", &block]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("signature: skipped: no --signature given"),
        "{out}"
    );
    assert!(
        out.contains("state diff commitment: skipped: no --state-update given"),
        "{out}"
    );
    assert!(
        out.contains("parent link: skipped: no --parent given"),
        "{out}"
    );
}

#[test]
fn verify_block_fails_on_a_changed_transaction_or_signature() {
    let dir = tempfile::tempdir().unwrap();
    let block = fixture_path("mainnet/block/1.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&block).unwrap()).unwrap();
    v["transactions"][2]["calldata"][1] = "0x7".into();
    let changed = dir.path().join("changed.json");
    std::fs::write(&changed, serde_json::to_vec(&v).unwrap()).unwrap();
    let changed = changed.to_str().unwrap();
    let (code, out) = verify_block(&["--network", "mainnet", "--block", changed]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("transaction hashes: failed: transaction 2 does not hash"),
        "{out}"
    );

    let mut sig: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture_path("mainnet/signature/1.json")).unwrap())
            .unwrap();
    sig["signature"][1] = "0x1".into();
    let bad_sig = dir.path().join("sig.json");
    std::fs::write(&bad_sig, serde_json::to_vec(&sig).unwrap()).unwrap();
    let args = [
        "--network",
        "mainnet",
        "--block",
        &block,
        "--signature",
        bad_sig.to_str().unwrap(),
    ];
    let (code, out) = verify_block(&args);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("signature: failed:"), "{out}");
    assert!(out.contains("block hash: ok"), "{out}");

    let (code, out) = verify_block(&["--network", "sepolia", "--block", &block]);
    assert_eq!(code, 1, "mainnet answers under Sepolia rules:\n{out}");
    assert!(out.contains("block hash: failed: computed"), "{out}");
}

#[test]
fn verify_block_takes_the_include_block_state_update_form() {
    let dir = tempfile::tempdir().unwrap();
    let read = |rel: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(fixture_path(rel)).unwrap()).unwrap()
    };
    let combined = serde_json::json!({
        "block": read("sepolia/block/4.json"),
        "state_update": read("sepolia/state_update/4.json"),
    });
    let path = dir.path().join("with_block.json");
    std::fs::write(&path, serde_json::to_vec(&combined).unwrap()).unwrap();
    let (block, sig) = (
        fixture_path("sepolia/block/4.json"),
        fixture_path("sepolia/signature/4.json"),
    );
    let args = [
        "--network",
        "sepolia",
        "--block",
        &block,
        "--signature",
        &sig,
        "--state-update",
        path.to_str().unwrap(),
    ];
    let (code, out) = verify_block(&args);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("state diff commitment: ok (the legacy commitment the signature's signature_input signs)"),
        "{out}"
    );
}

/// A small `wharf bench connections` runs end to end and reports sane figures (correctness only;
/// figures come from release runs).
#[test]
fn bench_connections_runs_and_reports_sane_figures() {
    let out = Command::new(BIN)
        .args([
            "bench",
            "connections",
            "--connections",
            "200",
            "--hold-secs",
            "3",
        ])
        .args(["--sync-blocks", "300"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} line: {stdout}"))
            .to_string()
    };
    // the number just before `unit` in `line`
    let before = |line: &str, unit: &str| -> f64 {
        let head = &line[..line
            .find(unit)
            .unwrap_or_else(|| panic!("no {unit}: {line}"))];
        head.split_whitespace().last().unwrap().parse().unwrap()
    };
    for node in ["relay", "bare"] {
        let l = line(node);
        assert!(l.contains("200 of 200 connections held (0 failed"), "{l}");
        let per = before(&l, "KiB per connection");
        assert!(per > 0.0 && per < 1024.0, "{l}");
        assert!(before(&l, "% of a core") >= 0.0, "{l}");
    }
    let healthz = line("healthz");
    let p99 = before(&healthz, "ms, max");
    assert!(
        p99 > 0.0 && p99 < 5000.0 && healthz.ends_with(" 0 failed)"),
        "{healthz}"
    );
    let joiner = line("joiner");
    assert!(before(&joiner, "blocks/s before") > 0.0, "{joiner}");
    assert!(before(&joiner, "blocks/s while held") > 0.0, "{joiner}");
}
