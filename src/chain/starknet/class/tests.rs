//! Class hashes on the real `get_class_by_hash` answers of `tests/fixtures/starknet/classes`,
//! and the refusals of tampered or malformed definitions.

use std::path::PathBuf;

use super::super::felt::parse_felt;
use super::*;

/// Every fixture: (network/file name, published hash, definition bytes).
fn fixtures() -> Vec<(String, Felt, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/starknet/classes");
    let mut out = Vec::new();
    for network in NETWORKS {
        for entry in std::fs::read_dir(root.join(network)).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
            let hash = parse_felt(&stem).unwrap();
            out.push((
                format!("{network}/{stem}"),
                hash,
                std::fs::read(&path).unwrap(),
            ));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 16, "fixtures missing: {}", out.len());
    out
}

/// Fixture directories (one per network).
const NETWORKS: [&str; 4] = ["sepolia", "mainnet", "integration", "goerli"];

/// The Sierra fixtures; every other one is Cairo 0.
const SIERRA: [&str; 4] = [
    "goerli/0x2e62a7336b45fa98668a6275168ce42b085665a9ec16b100d895968691a0bdc",
    "integration/0x4e70b19333ae94bd958625f7b61ce9eec631653597e68645e13780061b2136c",
    "integration/0x5bb6c878494878bda6c2f0d7605f66559f9ffd6ae69ff529f8ca5f7a587a2bb",
    "sepolia/0x1a736d6ed154502257f02b1ccdf4d9d1089f80811cd6acad48e6b6a9d1f2003",
];

#[test]
fn every_fixture_recomputes_to_its_published_hash() {
    let mut wrong = Vec::new();
    for (name, hash, body) in fixtures() {
        let kind = if SIERRA.contains(&name.as_str()) {
            ClassKind::Sierra
        } else {
            ClassKind::Cairo0
        };
        match compute_class_hash(&body) {
            Ok(c) if c.hash == hash && c.kind == kind => {
                assert_eq!(verify_class(hash, &body), Ok(kind), "{name}");
            }
            Ok(c) => wrong.push(format!("{name}: {} {:#x}", c.kind.name(), c.hash)),
            Err(e) => wrong.push(format!("{name}: {e}")),
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Position just after the first `"<key>"` followed by `:` at or after `from`.
fn after_key(body: &[u8], key: &str, from: usize) -> usize {
    let needle = format!("\"{key}\"");
    let at = find(body, needle.as_bytes(), from).unwrap_or_else(|| panic!("no {needle}"));
    let colon = at
        + needle.len()
        + body[at + needle.len()..]
            .iter()
            .position(|c| *c == b':')
            .unwrap();
    colon + 1
}

fn find(body: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    body[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Position of `program.data`'s `[`: the first `"data"` key whose value is an array of
/// `"0x..."` strings (ABI events and debug info also have `data` keys).
fn program_data(body: &[u8]) -> usize {
    let mut from = 0;
    loop {
        let value = after_key(body, "data", from);
        let open = skip_ws(body, value);
        if body[open] == b'[' && body[skip_ws(body, open + 1)..].starts_with(b"\"0x") {
            return open;
        }
        from = value;
    }
}

fn skip_ws(body: &[u8], at: usize) -> usize {
    at + body[at..]
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap()
}

/// Lowers the last hex digit of the first `"0x..."` felt at or after `from` whose last
/// digit is not `0`: one changed felt, still below the prime.
fn change_felt(body: &mut [u8], from: usize) {
    let mut at = from;
    loop {
        let start = find(body, b"\"0x", at).expect("a felt");
        let end = start + 1 + body[start + 1..].iter().position(|c| *c == b'"').unwrap();
        if body[end - 1] != b'0' {
            body[end - 1] = if body[end - 1] == b'1' { b'2' } else { b'1' };
            return;
        }
        at = end;
    }
}

fn assert_mismatch(name: &str, what: &str, hash: Felt, body: &[u8]) {
    let err = verify_class(hash, body).unwrap_err();
    assert_eq!(err.reason(), "class_hash_mismatch", "{name}, {what}: {err}");
}

#[test]
fn one_changed_program_felt_is_a_class_hash_mismatch() {
    for (name, hash, mut body) in fixtures() {
        let from = if SIERRA.contains(&name.as_str()) {
            after_key(&body, "sierra_program", 0)
        } else {
            program_data(&body)
        };
        change_felt(&mut body, from);
        assert_mismatch(&name, "program felt", hash, &body);
    }
}

#[test]
fn one_changed_entry_point_selector_is_a_class_hash_mismatch() {
    for (name, hash, mut body) in fixtures() {
        let entry_points = after_key(&body, "entry_points_by_type", 0);
        let selector = after_key(&body, "selector", entry_points);
        change_felt(&mut body, selector);
        assert_mismatch(&name, "selector", hash, &body);
    }
}

#[test]
fn one_changed_abi_character_is_a_class_hash_mismatch() {
    for (name, hash, mut body) in fixtures() {
        // The first lowercase letter of the ABI not in an escape (`\n`): inside a name or
        // type, in both kinds.
        let from = after_key(&body, "abi", 0);
        let at = (from..body.len())
            .find(|&i| body[i].is_ascii_lowercase() && body[i - 1] != b'\\')
            .unwrap();
        body[at] = if body[at] == b'z' { b'y' } else { body[at] + 1 };
        assert_mismatch(&name, "ABI character", hash, &body);
    }
}

fn malformed_detail(body: &[u8]) -> String {
    match compute_class_hash(body).unwrap_err() {
        VerifyError::Malformed { what, detail } => {
            assert_eq!(what, "class");
            detail
        }
        other => panic!("expected malformed, got {other}"),
    }
}

/// The first fixture of the given kind.
fn fixture(kind: ClassKind) -> Vec<u8> {
    fixtures()
        .into_iter()
        .find(|(name, _, _)| SIERRA.contains(&name.as_str()) == (kind == ClassKind::Sierra))
        .unwrap()
        .2
}

/// Replaces the value of the first `"<key>": <value>` after `from`: a flat array up to its
/// `]`, anything else up to the next `,`, `}` or line end.
fn replace_value(body: &[u8], key: &str, from: usize, value: &str) -> Vec<u8> {
    let start = after_key(body, key, from);
    let first = start
        + body[start..]
            .iter()
            .position(|c| !c.is_ascii_whitespace())
            .unwrap();
    let end = if body[first] == b'[' {
        first + body[first..].iter().position(|c| *c == b']').unwrap() + 1
    } else {
        let stop = |c: &u8| matches!(c, b',' | b'}' | b'\n');
        first + body[first..].iter().position(stop).unwrap()
    };
    [&body[..start], b" ", value.as_bytes(), &body[end..]].concat()
}

#[test]
fn malformed_definitions_name_the_field() {
    let cairo0 = fixture(ClassKind::Cairo0);
    let sierra = fixture(ClassKind::Sierra);
    assert!(malformed_detail(&cairo0[..cairo0.len() / 2]).contains("JSON at byte"));
    assert!(malformed_detail(b"[1]").contains("not a JSON object"));
    assert!(malformed_detail(b"{\"abi\": []}").contains("neither"));

    let data = program_data(&cairo0);
    let bad = [
        &cairo0[..data],
        b"[\"0x1\", \"0x2\", \"0x3\", \"zz\", ",
        &cairo0[data + 1..],
    ]
    .concat();
    let detail = malformed_detail(&bad);
    assert!(detail.contains("`program.data[3]`"), "{detail}");

    let entry_points = after_key(&cairo0, "entry_points_by_type", 0);
    let bad = replace_value(&cairo0, "selector", entry_points, "12");
    let detail = malformed_detail(&bad);
    assert!(
        detail.contains("`entry_points_by_type.") && detail.contains("selector`"),
        "{detail}"
    );

    let bad = replace_value(&sierra, "function_idx", 0, "\"7\"");
    let detail = malformed_detail(&bad);
    assert!(detail.contains("function_idx`"), "{detail}");

    let bad = replace_value(&sierra, "contract_class_version", 0, "\"0.2.0\"");
    let detail = malformed_detail(&bad);
    assert!(detail.contains("`contract_class_version`"), "{detail}");
}

#[test]
fn reason_is_registered() {
    let err = VerifyError::ClassHash {
        expected: Felt::ONE,
        computed: Felt::TWO,
    };
    assert_eq!(err.reason(), "class_hash_mismatch");
    assert_eq!(err.to_string(), "class hash 0x2 differs from expected 0x1");
}
