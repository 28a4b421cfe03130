//! A loopback Starknet feeder gateway answering from the real fixture files in
//! `tests/fixtures/starknet/` (blocks, and `get_class_by_hash` from `classes/<network>/`), with
//! knobs for what the tests need: how far the chain has got, HTTP 429 bursts, tampered answers
//! for one block or class, and a count of class requests (the files on disk are never modified).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::Value;

/// The three answers for one block, parsed (so tests can tamper with fields).
#[derive(Clone, Debug)]
pub struct Answers {
    pub block: Value,
    pub state_update: Value,
    pub signature: Value,
}

/// The three answers as the files hold them, byte for byte.
#[derive(Clone, Debug)]
struct RawAnswers([Vec<u8>; 3]);

fn raw_fixture(network: &str, n: u64) -> RawAnswers {
    RawAnswers(["block", "state_update", "signature"].map(|kind| {
        let path = fixtures_dir()
            .join(network)
            .join(kind)
            .join(format!("{n}.json"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"))
    }))
}

/// Reads `tests/fixtures/starknet/<network>/{block,state_update,signature}/<n>.json`.
pub fn fixture(network: &str, n: u64) -> Answers {
    let [block, state_update, signature] = raw_fixture(network, n)
        .0
        .map(|b| serde_json::from_slice(&b).unwrap());
    Answers {
        block,
        state_update,
        signature,
    }
}

/// The sequencer key a fixture network's gateway answers `get_public_key` with.
pub fn public_key(network: &str) -> String {
    let path = fixtures_dir().join(network).join("public_key.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/starknet")
}

#[derive(Default)]
struct Shared {
    blocks: BTreeMap<u64, RawAnswers>,
    /// Highest block the gateway has "produced" (served as latest; later ones are not found).
    head: AtomicU64,
    /// Answer this many of the next requests with 429.
    throttle: AtomicU32,
    /// Answers served with 429 so far.
    throttled: AtomicU32,
    /// Requests per second answered before `429 Retry-After: 1`, as the public gateway's
    /// rate limit does (0: no limit); and the current second's (start, count).
    rate: AtomicU32,
    window: Mutex<Option<(std::time::Instant, u32)>>,
    /// An `X-Throttling-Bypass` value that is never throttled.
    bypass: Mutex<Option<String>>,
    /// Replacement answers for a block, while set.
    tampered: Mutex<BTreeMap<u64, Answers>>,
    /// Class definitions by class hash (minimal lowercase hex), as the fixture files hold them.
    classes: Mutex<BTreeMap<String, Vec<u8>>>,
    /// `get_class_by_hash` requests served, by class hash.
    class_requests: Mutex<BTreeMap<String, u32>>,
    key: String,
}

/// A running mock feeder gateway.
#[derive(Clone)]
pub struct MockGateway {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl MockGateway {
    /// Serves blocks `0..=last` of `network`'s fixtures; the chain starts at `head`.
    pub async fn start(network: &str, last: u64, head: u64) -> MockGateway {
        let blocks = (0..=last).map(|n| (n, raw_fixture(network, n))).collect();
        let shared = Arc::new(Shared {
            blocks,
            head: AtomicU64::new(head),
            key: public_key(network),
            classes: Mutex::new(class_fixtures(network)),
            ..Shared::default()
        });
        let app = Router::new()
            .route("/feeder_gateway/get_block", get(get_block))
            .route("/feeder_gateway/get_state_update", get(get_state_update))
            .route("/feeder_gateway/get_signature", get(get_signature))
            .route("/feeder_gateway/get_public_key", get(get_public_key))
            .route("/feeder_gateway/get_class_by_hash", get(get_class_by_hash))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        MockGateway { shared, addr }
    }

    /// The base URL a feeder's `gateway_url` takes.
    pub fn url(&self) -> String {
        format!("http://{}/feeder_gateway", self.addr)
    }

    /// The chain grows to `head`.
    pub fn set_head(&self, head: u64) {
        self.shared.head.store(head, Ordering::SeqCst);
    }

    /// The next `n` requests get HTTP 429 with `Retry-After: 0`.
    pub fn throttle(&self, n: u32) {
        self.shared.throttle.store(n, Ordering::SeqCst);
    }

    /// At most `per_second` requests are answered per second; the rest get `429` with
    /// `Retry-After: 1` (like the public feeder gateway's limit).
    pub fn rate_limit(&self, per_second: u32) {
        self.shared.rate.store(per_second, Ordering::SeqCst);
    }

    /// Requests carrying `X-Throttling-Bypass: key` are never throttled.
    pub fn accept_bypass_key(&self, key: &str) {
        *self.shared.bypass.lock().unwrap() = Some(key.to_string());
    }

    /// How many 429s were served.
    pub fn throttled(&self) -> u32 {
        self.shared.throttled.load(Ordering::SeqCst)
    }

    /// Serves `answers` for block `n` instead of the fixture, until [`Self::untamper`].
    pub fn tamper(&self, n: u64, answers: Answers) {
        self.shared.tampered.lock().unwrap().insert(n, answers);
    }

    /// Serves `definition` for class `hash` (minimal lowercase hex) from now on.
    pub fn set_class(&self, hash: &str, definition: Vec<u8>) {
        self.shared
            .classes
            .lock()
            .unwrap()
            .insert(hash.to_string(), definition);
    }

    /// How many times class `hash` was requested.
    pub fn class_requests(&self, hash: &str) -> u32 {
        let requests = self.shared.class_requests.lock().unwrap();
        requests.get(hash).copied().unwrap_or(0)
    }

    /// Serves the real fixture for block `n` again.
    pub fn untamper(&self, n: u64) {
        self.shared.tampered.lock().unwrap().remove(&n);
    }
}

/// One answer: a tampered (re-serialised) value, or the fixture file's bytes unchanged.
enum Answer {
    Tampered(Value),
    Original(Vec<u8>),
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        match self {
            Answer::Tampered(v) => axum::Json(v).into_response(),
            Answer::Original(bytes) => {
                ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
            }
        }
    }
}

/// Which of the three answers an endpoint gives.
#[derive(Clone, Copy)]
enum Kind {
    Block = 0,
    StateUpdate = 1,
    Signature = 2,
}

impl Kind {
    fn pick(self, a: &Answers) -> &Value {
        match self {
            Kind::Block => &a.block,
            Kind::StateUpdate => &a.state_update,
            Kind::Signature => &a.signature,
        }
    }
}

#[derive(Deserialize)]
struct BlockQuery {
    #[serde(rename = "blockNumber")]
    block_number: String,
    #[serde(rename = "headerOnly", default)]
    header_only: Option<String>,
}

/// Why a block query is not answered with data.
enum Refusal {
    NotFound(String),
    Throttled,
    RateLimited,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::NotFound(n) => {
                let body = serde_json::json!({
                    "code": "StarknetErrorCode.BLOCK_NOT_FOUND",
                    "message": format!("Block number {n} was not found."),
                });
                (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
            }
            Refusal::Throttled => {
                let headers = [(header::RETRY_AFTER, "0")];
                (StatusCode::TOO_MANY_REQUESTS, headers, "slow down").into_response()
            }
            Refusal::RateLimited => {
                let headers = [(header::RETRY_AFTER, "1")];
                (StatusCode::TOO_MANY_REQUESTS, headers, "rate limited").into_response()
            }
        }
    }
}

fn not_found(n: &str) -> Refusal {
    Refusal::NotFound(n.to_string())
}

/// Counts a request in the current one-second window; true if it is over the rate limit.
fn over_rate(shared: &Shared) -> bool {
    let rate = shared.rate.load(Ordering::SeqCst);
    if rate == 0 {
        return false;
    }
    let now = std::time::Instant::now();
    let mut window = shared.window.lock().unwrap();
    let (start, count) = window.get_or_insert((now, 0));
    if now.duration_since(*start).as_secs() >= 1 {
        (*start, *count) = (now, 0);
    }
    *count += 1;
    *count > rate
}

/// Resolves the query to one answer for a block, or the error response the real gateway gives.
fn lookup(
    shared: &Shared,
    headers: &HeaderMap,
    q: &BlockQuery,
    kind: Kind,
) -> Result<(u64, Answer), Refusal> {
    let bypass = headers
        .get("x-throttling-bypass")
        .and_then(|v| v.to_str().ok());
    let exempt = bypass.is_some() && bypass == shared.bypass.lock().unwrap().as_deref();
    if !exempt && shared.throttle.load(Ordering::SeqCst) > 0 {
        shared.throttle.fetch_sub(1, Ordering::SeqCst);
        shared.throttled.fetch_add(1, Ordering::SeqCst);
        return Err(Refusal::Throttled);
    }
    if !exempt && over_rate(shared) {
        shared.throttled.fetch_add(1, Ordering::SeqCst);
        return Err(Refusal::RateLimited);
    }
    let head = shared.head.load(Ordering::SeqCst);
    let n = match q.block_number.as_str() {
        "latest" => head,
        other => other.parse().map_err(|_| not_found(other))?,
    };
    if n > head {
        return Err(not_found(&q.block_number));
    }
    if let Some(a) = shared.tampered.lock().unwrap().get(&n) {
        return Ok((n, Answer::Tampered(kind.pick(a).clone())));
    }
    let raw = shared
        .blocks
        .get(&n)
        .ok_or_else(|| not_found(&q.block_number))?;
    Ok((n, Answer::Original(raw.0[kind as usize].clone())))
}

async fn get_block(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<BlockQuery>,
) -> Response {
    match lookup(&s, &headers, &q, Kind::Block) {
        Ok((n, answer)) if q.header_only.as_deref() == Some("true") => {
            let block: Value = match answer {
                Answer::Tampered(v) => v,
                Answer::Original(bytes) => serde_json::from_slice(&bytes).unwrap(),
            };
            let head = serde_json::json!({ "block_hash": block["block_hash"], "block_number": n });
            axum::Json(head).into_response()
        }
        Ok((_, answer)) => answer.into_response(),
        Err(r) => r.into_response(),
    }
}

async fn get_state_update(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<BlockQuery>,
) -> Response {
    lookup(&s, &headers, &q, Kind::StateUpdate)
        .map_or_else(IntoResponse::into_response, |(_, a)| a.into_response())
}

async fn get_signature(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<BlockQuery>,
) -> Response {
    lookup(&s, &headers, &q, Kind::Signature)
        .map_or_else(IntoResponse::into_response, |(_, a)| a.into_response())
}

async fn get_public_key(State(s): State<Arc<Shared>>) -> Response {
    axum::Json(s.key.clone()).into_response()
}

/// Every class fixture of `network`, keyed by its file name (the class hash).
pub fn class_fixtures(network: &str) -> BTreeMap<String, Vec<u8>> {
    let dir = fixtures_dir().join("classes").join(network);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let hash = p.file_stem().unwrap().to_str().unwrap().to_string();
            (hash, std::fs::read(&p).unwrap())
        })
        .collect()
}

#[derive(Deserialize)]
struct ClassQuery {
    #[serde(rename = "classHash")]
    class_hash: String,
    #[serde(rename = "blockNumber", default)]
    block_number: Option<String>,
}

/// `classHash` as the fixture files name it: `0x` + lowercase hex without leading zeros.
fn minimal_hex(hash: &str) -> String {
    let digits = hash.trim_start_matches("0x").trim_start_matches('0');
    format!("0x{}", digits.to_ascii_lowercase())
}

async fn get_class_by_hash(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<ClassQuery>,
) -> Response {
    let block = BlockQuery {
        block_number: q.block_number.clone().unwrap_or_else(|| "latest".into()),
        header_only: None,
    };
    if let Err(refusal) = lookup(&s, &headers, &block, Kind::Block) {
        return refusal.into_response();
    }
    let hash = minimal_hex(&q.class_hash);
    *s.class_requests
        .lock()
        .unwrap()
        .entry(hash.clone())
        .or_default() += 1;
    match s.classes.lock().unwrap().get(&hash) {
        Some(bytes) => {
            ([(header::CONTENT_TYPE, "application/json")], bytes.clone()).into_response()
        }
        None => {
            let body = serde_json::json!({
                "code": "StarknetErrorCode.UNDECLARED_CLASS",
                "message": format!("Class with hash {hash} is not declared."),
            });
            (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
        }
    }
}

/// `block` (fixture of `network`) with the classes it declares attached, from the class fixtures.
#[allow(dead_code)]
pub fn with_classes(
    adapter: &dyn wharf::chain::ChainAdapter,
    network: &str,
    mut block: wharf::chain::Block,
) -> wharf::chain::Block {
    use wharf::chain::classes::{class_hash_hex, encode_bundle};
    let fixtures = class_fixtures(network);
    let needs = adapter.class_needs(&block.bodies).unwrap();
    let entries: Vec<_> = needs
        .declared
        .iter()
        .map(|hash| wharf::chain::ClassEntry {
            hash: *hash,
            definition: fixtures[&class_hash_hex(hash)].clone().into(),
        })
        .collect();
    block.classes = encode_bundle(&entries);
    block
}
