//! Maps the feeder gateway's `get_block`, `get_state_update` and `get_signature`
//! answers onto a Wharf block: the [`StarknetHeader`] and the four components as
//! canonical JSON (compact, object keys sorted, values as the gateway wrote them).

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::commitment::{event_leaf, transaction_leaf, Event};
use super::felt::{felt_hex, from_json, Felt, F};
use super::header::{GasPrice, L1DaMode, StarknetHeader};
use super::known_keys;
use super::state_diff::StateDiff;
use super::transaction::Tx;
use super::trie::{root, TrieHash};
use super::version::Version;
use crate::chain::{Block, Component, VerifyError};

/// The `get_block` answer: header fields typed, transactions and receipts kept as JSON.
#[derive(Deserialize)]
struct GatewayBlock<'a> {
    block_hash: Option<F>,
    block_number: u64,
    parent_block_hash: F,
    timestamp: u64,
    state_root: F,
    sequencer_address: Option<F>,
    #[serde(borrow)]
    starknet_version: Option<Cow<'a, str>>,
    l1_da_mode: Option<L1DaMode>,
    l1_gas_price: Option<GasPrice>,
    /// Pre-0.13.1 spelling of the L1 gas price in wei.
    gas_price: Option<F>,
    l1_data_gas_price: Option<GasPrice>,
    l2_gas_price: Option<GasPrice>,
    transaction_commitment: Option<F>,
    event_commitment: Option<F>,
    receipt_commitment: Option<F>,
    state_diff_commitment: Option<F>,
    state_diff_length: Option<u32>,
    transactions: Vec<Value>,
    transaction_receipts: Vec<Value>,
}

#[derive(Deserialize)]
struct GatewayStateUpdate {
    block_hash: Option<F>,
    new_root: Option<F>,
    state_diff: Value,
}

/// Both signature forms: `{block_hash, signature}` and the legacy
/// `{block_number, signature, signature_input: {block_hash, state_diff_commitment}}`.
#[derive(Deserialize)]
struct GatewaySignature {
    block_hash: Option<F>,
    signature: [F; 2],
    signature_input: Option<SignatureInput>,
}

#[derive(Deserialize)]
struct SignatureInput {
    block_hash: F,
    state_diff_commitment: F,
}

/// Writes `v` as canonical JSON: compact, object keys sorted bytewise.
pub fn write_canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let _ = serde_json::to_writer(&mut *out, key);
                out.push(b':');
                write_canonical(&map[key], out);
            }
            out.push(b'}');
        }
        scalar => {
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}

/// Refuses a component that holds an unknown key ([`known_keys`]) or is not exactly the
/// canonical JSON of what it parses to (whitespace, unsorted or duplicate keys, other escapes
/// or number spellings).
pub fn check_canonical(component: Component, body: &[u8]) -> Result<(), VerifyError> {
    let what = component.name();
    let value: Value = from_json(what, body)?;
    known_keys::check(component, &value)?;
    let mut out = Vec::with_capacity(body.len());
    write_canonical(&value, &mut out);
    if out != body {
        return Err(VerifyError::malformed(what, "not in canonical form"));
    }
    Ok(())
}

/// A component's canonical form: unknown keys dropped, then canonical JSON.
fn canonical(component: Component, mut v: Value) -> Bytes {
    known_keys::strip(component, &mut v);
    let mut out = Vec::new();
    write_canonical(&v, &mut out);
    Bytes::from(out)
}

/// Splits each receipt's `events` into the events component:
/// `[{"events": [...], "transaction_hash": ...}, ...]`, one entry per receipt.
fn split_events(receipts: Vec<Value>) -> Result<(Vec<Value>, Vec<Value>), VerifyError> {
    let mut events = Vec::with_capacity(receipts.len());
    let mut rest = Vec::with_capacity(receipts.len());
    for (i, receipt) in receipts.into_iter().enumerate() {
        let Value::Object(mut receipt) = receipt else {
            return Err(VerifyError::malformed(
                "block",
                format_args!("transaction_receipts[{i}] is not an object"),
            ));
        };
        let list = receipt.remove("events").unwrap_or(Value::Array(Vec::new()));
        let hash = receipt
            .get("transaction_hash")
            .cloned()
            .unwrap_or(Value::Null);
        let mut entry = Map::new();
        entry.insert("events".into(), list);
        entry.insert("transaction_hash".into(), hash);
        events.push(Value::Object(entry));
        rest.push(Value::Object(receipt));
    }
    Ok((rest, events))
}

fn trie_hash(version: Version) -> TrieHash {
    if version.is_poseidon() {
        TrieHash::Poseidon
    } else {
        TrieHash::Pedersen
    }
}

/// The transaction commitment, for blocks whose gateway answer lacks one (old mainnet blocks).
fn computed_transaction_commitment(version: Version, txs: &[u8]) -> Result<F, VerifyError> {
    let txs: Vec<Tx<'_>> = from_json("transactions", txs)?;
    let leaves: Vec<_> = txs
        .iter()
        .map(|t| transaction_leaf(version, &t.kind, &t.transaction_hash.0, &t.signature))
        .collect();
    Ok(F(root(&leaves, trie_hash(version))))
}

/// The event commitment, for blocks whose gateway answer lacks one (old mainnet blocks).
fn computed_event_commitment(version: Version, events: &[u8]) -> Result<F, VerifyError> {
    #[derive(Deserialize)]
    struct TxEvents {
        transaction_hash: F,
        events: Vec<Event>,
    }
    let groups: Vec<TxEvents> = from_json("events", events)?;
    let leaves: Vec<_> = groups
        .iter()
        .flat_map(|g| {
            g.events
                .iter()
                .map(move |e| event_leaf(version, e, &g.transaction_hash.0))
        })
        .collect();
    Ok(F(root(&leaves, trie_hash(version))))
}

/// A commitment the gateway states: `Some` and, for a non-empty component, not `0x0` (how
/// today's gateway writes "none" on old mainnet blocks; an empty trie's root is zero).
fn stated(c: Option<F>, items: usize) -> Option<F> {
    c.filter(|c| c.0 != Felt::ZERO || items == 0)
}

fn count(n: usize, what: &'static str) -> Result<u32, VerifyError> {
    u32::try_from(n).map_err(|_| VerifyError::malformed(what, "too many items"))
}

fn mismatch(what: &'static str, field: &str, expected: &F, actual: &F) -> VerifyError {
    VerifyError::malformed(
        what,
        format_args!(
            "{field} {} is not the block's {}",
            felt_hex(&actual.0),
            felt_hex(&expected.0)
        ),
    )
}

/// A block mapped from the gateway's answers, with what the answers state about it.
#[derive(Debug, Clone)]
pub struct Mapped {
    /// The block in Wharf's encoding.
    pub block: Block,
    /// The `block_hash` the gateway states (absent in a bare header-less answer).
    pub stated_hash: Option<Felt>,
    /// Whether `get_block` stated the transaction commitment (it gives `0x0` or nothing for
    /// mainnet blocks before 0.8: computed here then, bound by the block hash).
    pub commitments_stated: bool,
    /// Whether the block was hashed with the chain's fallback sequencer address instead of the
    /// stated one (set by [`super::StarknetAdapter::map_gateway`]).
    pub fallback_sequencer: bool,
}

/// See [`super::StarknetAdapter::block_from_gateway`].
pub fn block_from_gateway(
    block: &[u8],
    state_update: &[u8],
    signature: &[u8],
) -> Result<Mapped, VerifyError> {
    let b: GatewayBlock<'_> = from_json("block", block)?;
    let su: GatewayStateUpdate = from_json("state_update", state_update)?;
    let version = match b.starknet_version.as_deref() {
        None => Version::default(),
        Some(s) => Version::parse(s).ok_or_else(|| {
            VerifyError::malformed("block", format_args!("starknet_version `{s:.40}`"))
        })?,
    };
    let block_hash = b.block_hash.unwrap_or_default();
    if let Some(h) = su
        .block_hash
        .filter(|h| b.block_hash.is_some() && *h != block_hash)
    {
        return Err(mismatch("state_update", "block_hash", &block_hash, &h));
    }
    if let Some(root) = su.new_root.filter(|r| *r != b.state_root) {
        return Err(mismatch("state_update", "new_root", &b.state_root, &root));
    }
    let sig = parse_signature(signature)?;
    if let Some(s) = &sig {
        let signed = s
            .signature_input
            .as_ref()
            .map(|i| i.block_hash)
            .or(s.block_hash);
        if let Some(h) = signed.filter(|h| b.block_hash.is_some() && *h != block_hash) {
            return Err(mismatch("signature", "block_hash", &block_hash, &h));
        }
    }
    let n_tx = count(b.transactions.len(), "block")?;
    if b.transaction_receipts.len() != b.transactions.len() {
        return Err(VerifyError::malformed(
            "block",
            "transaction_receipts and transactions differ in length",
        ));
    }
    let (receipts, events) = split_events(b.transaction_receipts)?;
    let n_events = events
        .iter()
        .map(|e| {
            e.get("events")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        })
        .sum();
    let bodies = [
        canonical(Component::Transactions, Value::Array(b.transactions)),
        canonical(Component::Receipts, Value::Array(receipts)),
        canonical(Component::Events, Value::Array(events)),
        canonical(Component::StateDiffs, su.state_diff),
    ];
    let diff: StateDiff = from_json("state_diff", &bodies[3])?;
    let diff_length = diff
        .normalize()
        .map_err(|e| VerifyError::malformed("state_diff", e))?
        .length();
    let tx_stated = stated(b.transaction_commitment, n_tx as usize);
    let tx_c = match tx_stated {
        Some(c) => c,
        None => computed_transaction_commitment(version, &bodies[0])?,
    };
    let ev_c = match stated(b.event_commitment, n_events) {
        Some(c) => c,
        None => computed_event_commitment(version, &bodies[2])?,
    };
    let l1_gas_price = b.l1_gas_price.or(b.gas_price.map(|wei| GasPrice {
        price_in_fri: F::default(),
        price_in_wei: wei,
    }));
    let mut header = StarknetHeader {
        block_number: b.block_number,
        event_commitment: ev_c,
        event_count: count(n_events, "block")?,
        l1_da_mode: b.l1_da_mode.unwrap_or_default(),
        l1_data_gas_price: b.l1_data_gas_price,
        l1_gas_price,
        l2_gas_price: b.l2_gas_price,
        parent_block_hash: b.parent_block_hash,
        receipt_commitment: b.receipt_commitment,
        sequencer_address: b.sequencer_address.unwrap_or_default(),
        signature: sig.as_ref().map(|s| s.signature),
        signed_state_diff_commitment: sig
            .and_then(|s| s.signature_input)
            .map(|i| i.state_diff_commitment),
        starknet_version: b.starknet_version.map(Cow::into_owned),
        state_diff_commitment: b.state_diff_commitment,
        state_diff_length: match (version.is_poseidon(), b.state_diff_length) {
            (true, Some(n)) => n,
            _ => count(diff_length as usize, "state_diff")?,
        },
        state_root: b.state_root,
        timestamp: b.timestamp,
        transaction_commitment: tx_c,
        transaction_count: n_tx,
    };
    header.validate()?;
    if !version.is_poseidon() {
        header.receipt_commitment = None;
        header.state_diff_commitment = None;
    }
    Ok(Mapped {
        block: Block {
            header: header.to_header()?,
            bodies,
            classes: Bytes::new(),
        },
        stated_hash: b.block_hash.map(|h| h.0),
        commitments_stated: tx_stated.is_some(),
        fallback_sequencer: false,
    })
}

/// An empty answer (or JSON `null`) means no signature.
fn parse_signature(bytes: &[u8]) -> Result<Option<GatewaySignature>, VerifyError> {
    let trimmed = bytes.trim_ascii();
    if trimmed.is_empty() || trimmed == b"null" {
        return Ok(None);
    }
    from_json("signature", trimmed).map(Some)
}
