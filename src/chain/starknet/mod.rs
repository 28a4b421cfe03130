//! The Starknet adapter: verifies real Starknet blocks (feeder-gateway JSON) with the
//! hashing rules of each block's protocol version, so a relay can feed and serve Starknet.
//!
//! # Encoding (what travels in Wharf's sync protocol and sits in the store)
//!
//! Every component is **canonical JSON**: UTF-8, no whitespace, object keys sorted
//! bytewise, arrays in order; values are copied from the gateway as it wrote them
//! (felts as `0x` hex strings, integers as JSON numbers). Unknown fields are carried
//! and ignored by verification, so fields later Starknet versions add pass through.
//!
//! - **Header** ([`StarknetHeader`]): one object with `block_number`,
//!   `event_commitment`, `event_count`, `l1_da_mode`, `l1_data_gas_price`?,
//!   `l1_gas_price`?, `l2_gas_price`? (each `{price_in_fri, price_in_wei}`),
//!   `parent_block_hash`, `receipt_commitment`? (0.13.2+), `sequencer_address`,
//!   `signature`? (`[r, s]`), `signed_state_diff_commitment`? (the legacy signature
//!   form's `signature_input.state_diff_commitment`), `starknet_version`?,
//!   `state_diff_commitment`? (0.13.2+), `state_diff_length`, `state_root`, `timestamp`
//!   (seconds), `transaction_commitment`, `transaction_count`; `?` = left out when
//!   absent. Felts here are minimal lowercase hex (`0x0` for zero). In the generic
//!   [`Header`]: `timestamp_ms = timestamp * 1000`; `bodies` = (transaction commitment,
//!   count), (receipt commitment or 0, count), (event commitment, event count),
//!   (state-diff commitment: `state_diff_commitment`, else the signed legacy one, else 0;
//!   `state_diff_length`); `signature` = `r || s` (64 bytes, empty when unsigned);
//!   `extra` = the other fields as canonical JSON.
//! - **Transactions**: the gateway's `transactions` array.
//! - **Receipts**: the gateway's `transaction_receipts` array with each `events` removed.
//! - **Events**: one object per transaction, `{"events": [...], "transaction_hash": ...}`,
//!   the receipt's events and transaction hash.
//! - **State diffs**: the `state_diff` object of `get_state_update`; its item count is
//!   `state_diff_length` (storage entries + nonces + deployed + replaced + declared +
//!   old declared classes).
//! - **Classes**: a class bundle ([`crate::chain::classes`]) of the `get_class_by_hash`
//!   answers, byte for byte, for the classes the block brings (`block_classes` has the rule:
//!   declared classes, and deployed ones nobody brought before); each class hash is recomputed
//!   by [`class::verify_class`].
//!
//! # What is verified, per protocol version
//!
//! All versions: each transaction hash recomputed from its fields and the chain id
//! (INVOKE v0/v1/v3, DECLARE v0/v1/v2/v3, DEPLOY_ACCOUNT v1/v3, DEPLOY, L1_HANDLER,
//! including the pre-0.8 legacy forms); the transaction and event commitments
//! (height-64 Patricia tries); the counts; the block hash; the parent link; the
//! sequencer ECDSA signature with the pinned key, over the block hash or, in the legacy
//! form, over `poseidon_hash_many([block_hash, state_diff_commitment])` (the sponge
//! over two felts, not the two-to-one `poseidon_hash`). Whole blocks also check
//! that receipts and events list the block's transaction hashes in order
//! ([`ChainAdapter::verify_cross_links`] runs that check alone; the P2P pipeline calls it
//! once a block's components are all verified).
//!
//! - **0.13.2 and later**: Poseidon tries; the receipt commitment and the
//!   `STARKNET_STATE_DIFF0` state-diff commitment are in the block hash, so every
//!   component is bound by the signature.
//! - **Before 0.13.2**: Pedersen tries and block hash. The chain does **not commit to
//!   receipts** and the event commitment does not cover which transaction emitted an
//!   event: receipts are checked for structure, count and position only, and their and
//!   the events' transaction hashes are bound only through the whole-block cross-check.
//!   The **state diff is bound only by a legacy-form signature** (`signature_input`); with
//!   a new-form signature, or none, a pre-0.13.2 state diff is checked for structure and
//!   its length is not bound at all.
//! - **Transactions of an unknown kind or version** (or a query version) are trusted by
//!   hash only: their stated hash is bound by the transaction commitment, their fields
//!   are not. [`StarknetAdapter::unhashed_transactions`] counts them.
//! - **Mainnet's early eras** (`era.rs`): blocks below 833 are hashed with the pre-0.7
//!   rule (chain id in, no timestamp, sequencer address or events), so their events,
//!   timestamp and sequencer address are not bound by anything and are counted in
//!   `wharf_starknet_unverifiable_total`; 0.7.0–0.8.2 blocks whose stated sequencer address
//!   does not give their hash are mapped with the fallback address that does (the header
//!   carries the address the hash used).
//! - **Contract classes** are verified apart from blocks: [`class::verify_class`] recomputes a
//!   `get_class_by_hash` definition's class hash (Sierra or Cairo 0) and compares it with the
//!   hash the state diff names (`class_hash_mismatch`).

mod block_classes;
mod block_hash;
mod bodies;
pub mod class;
mod commitment;
pub mod era;
mod felt;
mod gateway;
mod header;
pub mod inspect;
mod p2p_commitments;
mod state_diff;
mod transaction;
mod trie;
mod version;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_mainnet;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use era::{Era, Eras, Unverifiable};
pub use felt::{felt_hex, parse_felt, Felt, F as HexFelt};
pub use gateway::{write_canonical, Mapped};
pub use header::{GasPrice, L1DaMode, StarknetHeader};
pub use p2p_commitments::{receipt_commitment, state_diff_commitment};
pub use version::Version;

use super::{
    body_index, Block, BlockHash, ChainAdapter, ClassHash, ClassNeeds, Component, Header,
    VerifyError, BODY_COMPONENTS,
};

/// Starknet rules for one chain (chain id) with the pinned sequencer public key.
#[derive(Debug, Clone)]
pub struct StarknetAdapter {
    chain_id: String,
    chain_felt: Felt,
    public_key: Felt,
    eras: Eras,
    unhashed: Arc<AtomicU64>,
    unverifiable: Unverifiable,
}

impl StarknetAdapter {
    /// An adapter for `chain_id` (the short string, e.g. `SN_SEPOLIA`) that accepts blocks
    /// signed by the sequencer key `public_key` (a felt, big-endian, at most 32 bytes).
    pub fn new(chain_id: &str, public_key: &[u8]) -> Result<Self, VerifyError> {
        if public_key.len() > 32 {
            return Err(VerifyError::malformed("public key", "longer than 32 bytes"));
        }
        let mut key = [0u8; 32];
        key[32 - public_key.len()..].copy_from_slice(public_key);
        let public_key = Felt::from_bytes_be(&key);
        if public_key.to_bytes_be() != key {
            return Err(VerifyError::malformed(
                "public key",
                "not below the field prime",
            ));
        }
        let chain_felt = felt::short_string(chain_id).ok_or_else(|| {
            VerifyError::malformed("chain id", "not a short string (≤ 31 ASCII bytes)")
        })?;
        Ok(StarknetAdapter {
            chain_id: chain_id.to_string(),
            chain_felt,
            public_key,
            eras: Eras::for_chain(chain_id),
            unhashed: Arc::default(),
            unverifiable: Unverifiable::default(),
        })
    }

    /// The chain id short string.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// Transactions verified so far whose hash could not be recomputed (unknown kind or
    /// version): trusted by their hash in the transaction commitment only.
    pub fn unhashed_transactions(&self) -> u64 {
        self.unhashed.load(Ordering::Relaxed)
    }

    /// The chain's eras (mainnet's exceptions).
    pub fn eras(&self) -> Eras {
        self.eras
    }

    /// `wharf_starknet_unverifiable_total`: register it with [`Unverifiable::register`].
    pub fn unverifiable(&self) -> &Unverifiable {
        &self.unverifiable
    }

    /// Maps the three feeder-gateway answers for one block (`get_block`, `get_state_update`,
    /// `get_signature` response bodies) onto a Wharf block: the header (with signature) and the
    /// four body components, each in this adapter's documented encoding. Parses and maps only;
    /// [`ChainAdapter::verify_block`] does the verification. An empty (or `null`) `signature`
    /// gives an unsigned header, which [`ChainAdapter::verify_header_signature`] refuses.
    /// The three answers must agree on the block hash and state root (else `Malformed`).
    pub fn block_from_gateway(
        &self,
        block: &[u8],
        state_update: &[u8],
        signature: &[u8],
    ) -> Result<Block, VerifyError> {
        self.map_gateway(block, state_update, signature)
            .map(|m| m.block)
    }

    /// [`Self::block_from_gateway`] with what the answers state. A pre-0.13.2 block whose
    /// stated sequencer address (or none) does not give the stated hash but the chain's
    /// fallback address does (mainnet 0.7.0–0.8.2) is mapped with the fallback address, and
    /// counted.
    pub fn map_gateway(
        &self,
        block: &[u8],
        state_update: &[u8],
        signature: &[u8],
    ) -> Result<Mapped, VerifyError> {
        let mut mapped = gateway::block_from_gateway(block, state_update, signature)?;
        let (Some(stated), Some(fallback)) = (mapped.stated_hash, self.eras.fallback_sequencer)
        else {
            return Ok(mapped);
        };
        let (mut h, v) = self.starknet_header(&mapped.block.header)?;
        if v.is_poseidon() || self.hash(&h, v) == stated {
            return Ok(mapped);
        }
        h.sequencer_address = HexFelt(fallback);
        if self.hash(&h, v) == stated {
            mapped.block.header = h.to_header()?;
            mapped.fallback_sequencer = true;
            self.unverifiable.add("sequencer_fallback", 1);
        }
        Ok(mapped)
    }

    /// The block hash of `h` under its era's rule.
    fn hash(&self, h: &StarknetHeader, v: Version) -> Felt {
        match self.eras.era(h.block_number, v) {
            Era::Pre0_7 => block_hash::pre_0_7_block_hash(h, &self.chain_felt),
            _ => block_hash::block_hash(h, v),
        }
    }

    /// The Starknet view of a generic header, with its protocol version.
    pub fn starknet_header(
        &self,
        header: &Header,
    ) -> Result<(StarknetHeader, Version), VerifyError> {
        let h = StarknetHeader::from_header(header)?;
        let v = h.validate()?;
        Ok((h, v))
    }

    /// Parses the header and every component the way verification does, without hashing:
    /// a structural check (the benchmark uses it to tell parsing time from hashing time).
    pub fn parse_block(&self, block: &Block) -> Result<(), VerifyError> {
        self.starknet_header(&block.header)?;
        bodies::parse_only(&block.bodies)
    }

    /// The Starknet block hash as a felt; `Malformed` if the header is not Starknet's.
    pub fn compute_block_hash(&self, header: &Header) -> Result<Felt, VerifyError> {
        let (h, v) = self.starknet_header(header)?;
        Ok(self.hash(&h, v))
    }

    fn check_signature(&self, h: &StarknetHeader, v: Version) -> Result<BlockHash, VerifyError> {
        let hash = self.hash(h, v);
        let [r, s] = h.signature.ok_or(VerifyError::BadSignature)?;
        let message = block_hash::signed_message(h, hash);
        if !ecdsa_verify(&self.public_key, &message, &r.0, &s.0) {
            return Err(VerifyError::BadSignature);
        }
        Ok(BlockHash(hash.to_bytes_be()))
    }

    fn body(
        &self,
        h: &StarknetHeader,
        v: Version,
        component: Component,
        body: &[u8],
    ) -> Result<bodies::Checked, VerifyError> {
        let checked = match component {
            Component::Transactions => bodies::transactions(h, v, &self.chain_felt, body)?,
            Component::Receipts => bodies::receipts(h, v, body)?,
            Component::Events => bodies::events(h, v, body)?,
            Component::StateDiffs => {
                bodies::state_diff(h, v, body)?;
                bodies::Checked::default()
            }
            Component::Headers | Component::Classes => {
                return Err(VerifyError::malformed(
                    "body",
                    "headers and classes are not body components",
                ))
            }
        };
        self.unhashed.fetch_add(checked.unhashed, Ordering::Relaxed);
        self.count_unverifiable(h, v, component, checked.unhashed);
        Ok(checked)
    }

    /// Counts what a verified component's era left unchecked (once per block each: the
    /// header fields with the transactions).
    fn count_unverifiable(&self, h: &StarknetHeader, v: Version, c: Component, unhashed: u64) {
        let pre_0_7 = self.eras.era(h.block_number, v) == Era::Pre0_7;
        let what = match c {
            Component::Transactions => {
                self.unverifiable.add("transaction", unhashed);
                pre_0_7.then_some("header_fields")
            }
            Component::Events => pre_0_7.then_some("events"),
            Component::Receipts => (!v.is_poseidon()).then_some("receipts"),
            Component::StateDiffs => {
                let bound = v.is_poseidon() || h.signed_state_diff_commitment.is_some();
                (!bound).then_some("state_diff")
            }
            Component::Headers | Component::Classes => None,
        };
        if let Some(what) = what {
            self.unverifiable.add(what, 1);
        }
    }
}

/// The legacy state-diff commitment of a stored state diff: what a legacy-form signature
/// (`signature_input.state_diff_commitment`) signs with the block hash. Lets a client that got a
/// pre-0.13.2 header without it (Starknet's sync protocols do not carry it) rebuild it from the
/// block's state diff; the signature then binds both.
pub fn legacy_state_diff_commitment(state_diff: &[u8]) -> Result<Felt, VerifyError> {
    let diff: state_diff::StateDiff = felt::from_json("state_diffs", state_diff)?;
    let sorted = diff
        .normalize()
        .map_err(|e| VerifyError::malformed("state_diffs", e))?;
    Ok(sorted.legacy_commitment())
}

/// ECDSA verification; invalid inputs (zero or out-of-range `r`/`s`, a key off the
/// curve) are a failed verification, and so is a panic inside the curve code.
fn ecdsa_verify(key: &Felt, message: &Felt, r: &Felt, s: &Felt) -> bool {
    std::panic::catch_unwind(|| starknet_crypto::verify(key, message, r, s))
        .ok()
        .and_then(Result::ok)
        .unwrap_or(false)
}

impl ChainAdapter for StarknetAdapter {
    fn name(&self) -> &'static str {
        "starknet"
    }

    fn decode_header(&self, bytes: &[u8]) -> Result<Header, VerifyError> {
        StarknetHeader::decode(bytes)?.to_header()
    }

    /// The canonical header encoding; empty for a header that is not Starknet's
    /// (which [`ChainAdapter::decode_header`] then refuses).
    fn encode_header(&self, header: &Header) -> Vec<u8> {
        StarknetHeader::from_header(header)
            .map(|h| h.encode())
            .unwrap_or_default()
    }

    /// The Starknet block hash; zero for a header that is not Starknet's (which every
    /// verification refuses as `Malformed`).
    fn block_hash(&self, header: &Header) -> BlockHash {
        self.compute_block_hash(header)
            .map_or(BlockHash::ZERO, |f| BlockHash(f.to_bytes_be()))
    }

    fn verify_header_signature(&self, header: &Header) -> Result<BlockHash, VerifyError> {
        let (h, v) = self.starknet_header(header)?;
        self.check_signature(&h, v)
    }

    fn verify_body(
        &self,
        header: &Header,
        component: Component,
        body: &[u8],
    ) -> Result<(), VerifyError> {
        let (h, v) = self.starknet_header(header)?;
        self.body(&h, v, component, body).map(drop)
    }

    /// The state diff's declared classes, and its deployed contracts' classes (see
    /// `block_classes` for the rule).
    fn class_needs(&self, bodies: &[bytes::Bytes; 4]) -> Result<ClassNeeds, VerifyError> {
        block_classes::class_needs(&bodies[3])
    }

    /// Recomputes the class hash from the definition (`class::verify_class`).
    fn verify_class(&self, hash: &ClassHash, definition: &[u8]) -> Result<(), VerifyError> {
        class::verify_class(Felt::from_bytes_be(hash), definition).map(drop)
    }

    /// Receipts and events entries list the block's transaction hashes, in order. Cheap
    /// (parses the stated hashes only); before 0.13.2 nothing else binds them.
    fn verify_cross_links(&self, bodies: &[bytes::Bytes; 4]) -> Result<(), VerifyError> {
        bodies::links(bodies)
    }

    /// Parent link, signature, every component, then the cross-check that receipts and
    /// events list the block's transaction hashes in order (this binds them before
    /// 0.13.2, where no commitment does).
    fn verify_block(
        &self,
        block: &Block,
        parent: Option<&Header>,
    ) -> Result<BlockHash, VerifyError> {
        if let Some(parent) = parent {
            self.verify_parent_link(&block.header, parent)?;
        }
        let (h, v) = self.starknet_header(&block.header)?;
        let hash = self.check_signature(&h, v)?;
        let mut checked = Vec::with_capacity(3);
        for component in BODY_COMPONENTS {
            let index = body_index(component).unwrap_or_default();
            checked.push(self.body(&h, v, component, &block.bodies[index])?);
        }
        bodies::cross_check(&checked[0], Component::Receipts, &checked[1])?;
        bodies::cross_check(&checked[0], Component::Events, &checked[2])?;
        Ok(hash)
    }
}
