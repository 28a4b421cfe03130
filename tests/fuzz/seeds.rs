//! Writes the seed corpora: `cargo test --test fuzz -- --ignored write_seed_corpora`.
//! Devnet blocks are minted with the fuzz key; Starknet inputs are built from the real Sepolia
//! feeder-gateway answers in `tests/fixtures/starknet/` (provenance in its README). Entries
//! cargo-fuzz found are kept beside them; this only (re)writes the `seed-*` files.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use prost::Message;
use wharf::chain::devnet::{encode_items, keypair_from_seed, DevnetMinter, MintParams};
use wharf::chain::wire::encode_block;
use wharf::chain::{Block, ChainAdapter};
use wharf::fuzz::{starknet_adapter, DEVNET_SEED, PART_SEPARATOR, TOKEN_KEYS};
use wharf::sync::proto::{FinReason, Head, SyncRequest};
use wharf::sync::{fin, item};

/// Sepolia blocks used as seeds (small ones; the larger fixtures stay in `tests/`).
const SEPOLIA_BLOCKS: [u32; 5] = [1, 2, 3, 5, 6];

fn frame<M: Message>(msg: &M) -> Vec<u8> {
    msg.encode_length_delimited_to_vec()
}

fn devnet_blocks() -> Vec<Block> {
    let params = MintParams {
        seed: 1,
        txs_per_block: 2,
        tx_size: 24,
    };
    let minter = DevnetMinter::new(keypair_from_seed(DEVNET_SEED), params);
    let genesis = minter.mint(None, 1_700_000_000_000);
    let next = minter.mint(Some(&genesis.header), 1_700_000_001_000);
    vec![genesis, next]
}

fn fixture(network: &str, part: &str, n: u32) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/starknet/{network}/{part}/{n}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn joined(parts: &[&[u8]]) -> Vec<u8> {
    parts.join(&PART_SEPARATOR)
}

/// The three gateway answers of a Sepolia block, separated.
fn gateway_triple(n: u32) -> Vec<u8> {
    let [b, u, s] = ["block", "state_update", "signature"].map(|p| fixture("sepolia", p, n));
    joined(&[&b, &u, &s])
}

fn starknet_block(n: u32) -> Block {
    let [b, u, s] = ["block", "state_update", "signature"].map(|p| fixture("sepolia", p, n));
    starknet_adapter("sepolia")
        .block_from_gateway(&b, &u, &s)
        .expect("a fixture block maps")
}

fn sync_seeds(blocks: &[Block]) -> Vec<(String, Vec<u8>)> {
    let dev = wharf::fuzz::devnet_adapter();
    let request = SyncRequest {
        start_block: 5,
        limit: 2,
        step: 1,
    };
    let mut response = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        response.extend(frame(&item(
            5 + i as u64,
            Bytes::from(dev.encode_header(&b.header)),
        )));
    }
    response.extend(frame(&fin(FinReason::Complete, 0)));
    let mut not_found = frame(&item(5, blocks[0].bodies[0].clone()));
    not_found.extend(frame(&fin(FinReason::NotFound, 6)));
    let busy = frame(&fin(FinReason::Busy, 0));
    let mut out = vec![
        ("request".into(), frame(&request)),
        // 100 bytes of valid fields: over the server's 64-byte request limit.
        (
            "request-oversized".into(),
            [vec![100], [0x08, 5].repeat(50)].concat(),
        ),
        ("response-complete".into(), response.clone()),
        ("response-not-found".into(), not_found.clone()),
        ("response-busy".into(), busy.clone()),
    ];
    let head = |limit: u8, start: u64| [&[limit, 0][..], &start.to_be_bytes()].concat();
    out.push(("client-complete".into(), [head(2, 5), response].concat()));
    out.push(("client-not-found".into(), [head(3, 5), not_found].concat()));
    out.push(("client-busy".into(), [head(3, 5), busy].concat()));
    out
}

fn p2p_seeds() -> Vec<(String, Vec<u8>)> {
    // An iteration from block 10, backward, limit 3, step 3 (the specs' example).
    let iteration = [0x0a, 8, 0x08, 10, 0x18, 1, 0x20, 3, 0x28, 3];
    let mut out = Vec::new();
    for (kind, name) in [
        "headers",
        "state-diffs",
        "classes",
        "transactions",
        "events",
    ]
    .iter()
    .enumerate()
    {
        let k = 2 * kind as u8;
        out.push((format!("{name}-request"), [&[k][..], &iteration].concat()));
        for tag in 1..=3u8 {
            out.push((
                format!("{name}-response-{tag}"),
                vec![k + 1, tag << 3 | 2, 0],
            ));
        }
    }
    out
}

fn token_seeds() -> Vec<(String, Vec<u8>)> {
    let ring = wharf::fuzz::token_keyring();
    let century = Duration::from_secs(100 * 365 * 86_400);
    let mut out = Vec::new();
    for (kid, _) in TOKEN_KEYS {
        for scope in ["read", "admin"] {
            let token = ring.mint(Some(kid), "fuzz", scope, century).expect("mint");
            out.push((format!("{kid}-{scope}"), token.into_bytes()));
        }
    }
    out
}

fn write(target: &str, seeds: Vec<(String, Vec<u8>)>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, data) in seeds {
        std::fs::write(dir.join(format!("seed-{name}")), data).unwrap();
    }
}

#[test]
#[ignore = "writes fuzz/corpus/*/seed-*; run by hand after changing the seeds"]
fn write_seed_corpora() {
    let dev = wharf::fuzz::devnet_adapter();
    let sn = starknet_adapter("sepolia");
    let blocks = devnet_blocks();
    let sn_blocks: Vec<(u32, Block)> = SEPOLIA_BLOCKS.map(|n| (n, starknet_block(n))).to_vec();
    let sync = sync_seeds(&blocks);
    write(
        "sync_frames",
        sync.iter()
            .filter(|(n, _)| !n.starts_with("client"))
            .cloned()
            .collect(),
    );
    write(
        "sync_client",
        sync.into_iter()
            .filter(|(n, _)| n.starts_with("client"))
            .collect(),
    );
    let headers: Vec<(String, Vec<u8>)> = blocks
        .iter()
        .map(|b| {
            (
                format!("devnet-{}", b.number()),
                dev.encode_header(&b.header),
            )
        })
        .chain(
            sn_blocks
                .iter()
                .map(|(n, b)| (format!("sepolia-{n}"), sn.encode_header(&b.header))),
        )
        .collect();
    write("gossip_header", headers.clone());
    write(
        "starknet_header",
        headers
            .iter()
            .filter(|(n, _)| n.starts_with("sepolia"))
            .cloned()
            .collect(),
    );
    let heads = headers.iter().map(|(n, h)| {
        (
            n.clone(),
            frame(&Head {
                header: Bytes::from(h.clone()),
            }),
        )
    });
    write(
        "head_message",
        heads
            .chain([("empty".to_string(), frame(&Head::default()))])
            .collect(),
    );
    let mut codec: Vec<(String, Vec<u8>)> = blocks
        .iter()
        .map(|b| {
            (
                format!("devnet-block-{}", b.number()),
                encode_block(dev, b).to_vec(),
            )
        })
        .collect();
    codec.push((
        "devnet-items".into(),
        encode_items(&[b"ab".as_slice(), b""]).to_vec(),
    ));
    codec.push((
        "sepolia-block-1".into(),
        encode_block(sn.as_ref(), &sn_blocks[0].1).to_vec(),
    ));
    write("devnet_codec", codec);
    write(
        "starknet_gateway",
        SEPOLIA_BLOCKS
            .iter()
            .map(|n| (format!("sepolia-{n}"), gateway_triple(*n)))
            .collect(),
    );
    let bodies = sn_blocks.iter().map(|(n, b)| {
        let header = sn.encode_header(&b.header);
        let parts: Vec<&[u8]> = std::iter::once(header.as_slice())
            .chain(b.bodies.iter().map(|b| b.as_ref()))
            .collect();
        (format!("sepolia-{n}"), joined(&parts))
    });
    write("starknet_bodies", bodies.collect());
    write("starknet_p2p", p2p_seeds());
    let example =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml")).unwrap();
    let small = b"[node]\nnetwork = \"sepolia\"\nchain = \"starknet\"\n[sync.client]\nidle_timeout = \"2s\"\n";
    write(
        "config_toml",
        vec![
            ("example".into(), example),
            ("starknet".into(), small.to_vec()),
        ],
    );
    write("api_token", token_seeds());
}
