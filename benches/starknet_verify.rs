//! Starknet block verification throughput on one core, release mode:
//! `cargo bench --bench starknet_verify`. Uses the real feeder-gateway fixtures in
//! `tests/fixtures/starknet`, grouped by block kind, and reports blocks/s and
//! transactions/s of `verify_block`, plus where the time goes: JSON parsing and mapping
//! (`block_from_gateway` + the typed parse inside verification), ECDSA verification,
//! and hashing (the rest of `verify_block`: transaction hashes, tries, state-diff and
//! block hashes). The 0.13.4 block has no upstream signature, so it is signed here with
//! a throwaway key to time a complete verification. Then the same verification on one core
//! and on all cores (`wharf::chain::par`, as the feeder and the P2P pipeline spread the blocks
//! of a chunk), with the speed-up. Takes about 30 s.

use std::fs;
use std::hint::black_box;
use std::time::Instant;

use starknet_crypto::Felt;
use starknet_crypto::{
    get_public_key, pedersen_hash, poseidon_hash, poseidon_hash_many, rfc6979_generate_k, sign,
};
use wharf::chain::starknet::{felt_hex, parse_felt, StarknetAdapter};
use wharf::chain::{par, Block, ChainAdapter};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/starknet");
/// Minimum wall time of one measurement, seconds.
const MIN_SECS: f64 = 1.0;

/// The three gateway answers of one block.
struct Raw {
    block: Vec<u8>,
    state_update: Vec<u8>,
    signature: Vec<u8>,
}

/// One block kind: its adapter, its blocks, and each block's signed message and signature.
struct Kind {
    name: &'static str,
    adapter: StarknetAdapter,
    key: Felt,
    raw: Vec<Raw>,
    blocks: Vec<Block>,
    signed: Vec<[Felt; 3]>,
    txs: usize,
}

fn read(path: &str) -> Vec<u8> {
    fs::read(format!("{DIR}/{path}")).expect("fixture")
}

fn raw(network: &str, n: u64) -> Raw {
    Raw {
        block: read(&format!("{network}/block/{n}.json")),
        state_update: read(&format!("{network}/state_update/{n}.json")),
        signature: read(&format!("{network}/signature/{n}.json")),
    }
}

fn public_key(network: &str) -> Felt {
    let hex: String =
        serde_json::from_slice(&read(&format!("{network}/public_key.json"))).expect("key");
    parse_felt(&hex).expect("key felt")
}

/// The message a header's signature signs, and `r`, `s`.
fn signed(adapter: &StarknetAdapter, block: &Block) -> [Felt; 3] {
    let (h, _) = adapter.starknet_header(&block.header).expect("header");
    let hash = adapter.compute_block_hash(&block.header).expect("hash");
    let message = match h.signed_state_diff_commitment {
        Some(sdc) => poseidon_hash_many(&[hash, sdc.0]),
        None => hash,
    };
    let [r, s] = h.signature.expect("signed");
    [message, r.0, s.0]
}

fn kind(name: &'static str, chain: &str, key: Felt, raw: Vec<Raw>) -> Kind {
    let adapter = StarknetAdapter::new(chain, &key.to_bytes_be()).expect("adapter");
    let blocks: Vec<Block> = raw
        .iter()
        .map(|r| {
            adapter
                .block_from_gateway(&r.block, &r.state_update, &r.signature)
                .expect("map")
        })
        .collect();
    for b in &blocks {
        adapter.verify_block(b, None).expect("fixture verifies");
    }
    let signed = blocks.iter().map(|b| signed(&adapter, b)).collect();
    let txs = blocks
        .iter()
        .map(|b| b.header.bodies[0].count as usize)
        .sum();
    Kind {
        name,
        adapter,
        key,
        raw,
        blocks,
        signed,
        txs,
    }
}

/// 0.13.4 block 63881 signed with a throwaway key (upstream has no signature for it).
fn self_signed_0_13_4() -> Kind {
    let network = "sepolia-integration";
    let mut r = raw(network, 35748);
    r.block = read(&format!("{network}/block/63881.json"));
    r.state_update = read(&format!("{network}/state_update/63881.json"));
    let private = Felt::from(0x5eed_u64);
    let unsigned = StarknetAdapter::new("SN_INTEGRATION_SEPOLIA", &[1]).expect("adapter");
    let block = unsigned
        .block_from_gateway(&r.block, &r.state_update, b"")
        .expect("map");
    let hash = unsigned.compute_block_hash(&block.header).expect("hash");
    let k = rfc6979_generate_k(&hash, &private, None);
    let sig = sign(&private, &hash, &k).expect("sign");
    r.signature = format!(
        r#"{{"block_hash":"{}","signature":["{}","{}"]}}"#,
        felt_hex(&hash),
        felt_hex(&sig.r),
        felt_hex(&sig.s)
    )
    .into_bytes();
    kind(
        "0.13.4 (self-signed)",
        "SN_INTEGRATION_SEPOLIA",
        get_public_key(&private),
        vec![r],
    )
}

/// Seconds per call of `f`, repeated for at least [`MIN_SECS`].
fn per_call(mut f: impl FnMut()) -> f64 {
    f();
    let (start, mut n) = (Instant::now(), 0u64);
    while start.elapsed().as_secs_f64() < MIN_SECS {
        f();
        n += 1;
    }
    start.elapsed().as_secs_f64() / n as f64
}

fn measure(k: &Kind) {
    let map = per_call(|| {
        for r in &k.raw {
            black_box(
                k.adapter
                    .block_from_gateway(&r.block, &r.state_update, &r.signature)
                    .expect("map"),
            );
        }
    });
    let verify = per_call(|| {
        for b in &k.blocks {
            black_box(k.adapter.verify_block(b, None).expect("verify"));
        }
    });
    let parse = per_call(|| {
        for b in &k.blocks {
            k.adapter.parse_block(b).expect("parse");
        }
    });
    let ecdsa = per_call(|| {
        for [m, r, s] in &k.signed {
            assert!(starknet_crypto::verify(&k.key, m, r, s).expect("ecdsa"));
        }
    });
    let n = k.blocks.len() as f64;
    let hashing = (verify - parse - ecdsa).max(0.0);
    let total = map + verify;
    let pct = |x: f64| 100.0 * x / total;
    println!(
        "{:<24} {:>2} blk {:>3} tx | verify {:>8.0} blk/s {:>8.0} tx/s | map+verify {:>7.0} blk/s | json {:>4.1}% ecdsa {:>4.1}% hashing {:>4.1}% | per block: map {:>6.0} µs verify {:>7.0} µs",
        k.name,
        k.blocks.len(),
        k.txs,
        n / verify,
        k.txs as f64 / verify,
        n / total,
        pct(map + parse),
        pct(ecdsa),
        pct(hashing),
        map / n * 1e6,
        verify / n * 1e6,
    );
}

fn primitives() {
    let (a, b) = (
        Felt::from_hex_unchecked("0x1234"),
        Felt::from_hex_unchecked("0xabcdef"),
    );
    let ped = per_call(|| {
        black_box(pedersen_hash(black_box(&a), black_box(&b)));
    });
    let pos = per_call(|| {
        black_box(poseidon_hash(black_box(a), black_box(b)));
    });
    println!(
        "primitives: pedersen_hash {:.1} µs, poseidon_hash {:.1} µs",
        ped * 1e6,
        pos * 1e6
    );
}

/// Blocks per measured chunk when comparing one core with all cores.
const CHUNK: usize = 64;

/// Transactions and seconds of verifying a chunk of `k`'s blocks (repeated to [`CHUNK`]) on
/// `threads`.
fn chunk_secs(k: &Kind, threads: usize) -> (f64, f64) {
    let chunk: Vec<&Block> = k.blocks.iter().cycle().take(CHUNK).collect();
    let txs: usize = chunk
        .iter()
        .map(|b| b.header.bodies[0].count as usize)
        .sum();
    let secs = per_call(|| {
        let verified = par::try_each(&chunk, threads, |_, b| {
            k.adapter.verify_block(b, None).map(drop)
        });
        verified.expect("verify");
    });
    (txs as f64, secs)
}

/// One core against all cores, per block kind.
fn scaling(kinds: &[Kind]) {
    let cores = par::cores();
    let (mut txs, mut one, mut all) = (0.0, 0.0, 0.0);
    for k in kinds {
        let ((n, a), (_, b)) = (chunk_secs(k, 1), chunk_secs(k, cores));
        println!(
            "{:<24} chunk of {CHUNK} blocks: 1 core {:>8.0} tx/s, {cores} cores {:>8.0} tx/s: {:.2}x",
            k.name,
            n / a,
            n / b,
            a / b
        );
        (txs, one, all) = (txs + n, one + a, all + b);
    }
    println!(
        "all kinds (one chunk each): 1 core {:.0} tx/s, {cores} cores {:.0} tx/s: {:.2}x",
        txs / one,
        txs / all,
        one / all
    );
}

fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn main() {
    println!("load average at start: {}", loadavg());
    let sepolia = public_key("sepolia");
    let integration = public_key("sepolia-integration");
    let kinds = [
        kind(
            "0.12.3 legacy signature",
            "SN_SEPOLIA",
            sepolia,
            (0..7).map(|n| raw("sepolia", n)).collect(),
        ),
        kind(
            "0.12.3 new signature",
            "SN_SEPOLIA",
            sepolia,
            vec![raw("sepolia", 7)],
        ),
        kind(
            "0.13.2",
            "SN_INTEGRATION_SEPOLIA",
            integration,
            vec![raw("sepolia-integration", 35748)],
        ),
        self_signed_0_13_4(),
    ];
    primitives();
    for k in &kinds {
        measure(k);
    }
    scaling(&kinds);
    println!("load average at end: {}", loadavg());
}
