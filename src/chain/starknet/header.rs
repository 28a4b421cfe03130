//! The Starknet header: every `get_block` header field the block hash and the
//! signature need, its canonical JSON encoding, and its mapping onto Wharf's generic
//! [`Header`] (generic fields there, the rest as canonical JSON in `extra`).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::felt::{from_json, Felt, F};
use super::version::Version;
use crate::chain::{BlockHash, BodySummary, Header, VerifyError};

/// Gas price in wei and fri.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GasPrice {
    /// Price in fri (STRK).
    pub price_in_fri: F,
    /// Price in wei (ETH).
    pub price_in_wei: F,
}

/// How the block's state diff is published on L1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum L1DaMode {
    /// As calldata (also the default for blocks that predate the field).
    #[default]
    Calldata,
    /// As blobs.
    Blob,
}

/// A Starknet block header with the sequencer signature. Field order is the canonical
/// (alphabetical) key order of its JSON encoding; `None` fields are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StarknetHeader {
    /// Height.
    pub block_number: u64,
    /// Event commitment.
    pub event_commitment: F,
    /// Number of events.
    pub event_count: u32,
    /// L1 data-availability mode.
    #[serde(default)]
    pub l1_da_mode: L1DaMode,
    /// L1 data gas price (0.13.1 on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_data_gas_price: Option<GasPrice>,
    /// L1 gas price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l1_gas_price: Option<GasPrice>,
    /// L2 gas price (0.13.4 on; the gateway also shows it on some older blocks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l2_gas_price: Option<GasPrice>,
    /// Parent block hash.
    pub parent_block_hash: F,
    /// Receipt commitment (0.13.2 on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_commitment: Option<F>,
    /// Sequencer address.
    pub sequencer_address: F,
    /// Sequencer ECDSA signature `[r, s]`, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<[F; 2]>,
    /// Legacy signature form: the signed `signature_input.state_diff_commitment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_state_diff_commitment: Option<F>,
    /// Protocol version string, e.g. `0.13.2` (absent on the oldest blocks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starknet_version: Option<String>,
    /// `STARKNET_STATE_DIFF0` commitment (0.13.2 on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_diff_commitment: Option<F>,
    /// State-diff length (bound by the block hash from 0.13.2 on).
    pub state_diff_length: u32,
    /// Global state root after the block.
    pub state_root: F,
    /// Unix seconds.
    pub timestamp: u64,
    /// Transaction commitment.
    pub transaction_commitment: F,
    /// Number of transactions (and receipts).
    pub transaction_count: u32,
}

/// The fields of [`StarknetHeader`] that have no place in the generic [`Header`]:
/// `Header::extra` holds them as canonical JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Extra {
    #[serde(default)]
    l1_da_mode: L1DaMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    l1_data_gas_price: Option<GasPrice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    l1_gas_price: Option<GasPrice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    l2_gas_price: Option<GasPrice>,
    sequencer_address: F,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signed_state_diff_commitment: Option<F>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    starknet_version: Option<String>,
    state_root: F,
}

fn json(value: &impl Serialize) -> Vec<u8> {
    // Serializing these plain structs cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn felt_from(bytes: &[u8; 32], what: &str) -> Result<Felt, VerifyError> {
    let felt = Felt::from_bytes_be(bytes);
    if felt.to_bytes_be() != *bytes {
        return Err(VerifyError::malformed(
            "header",
            format_args!("{what} is not a felt"),
        ));
    }
    Ok(felt)
}

impl StarknetHeader {
    /// The protocol version (`0.0.0` when absent); `Malformed` if unparseable.
    pub fn version(&self) -> Result<Version, VerifyError> {
        match &self.starknet_version {
            None => Ok(Version::default()),
            Some(s) => Version::parse(s).ok_or_else(|| {
                VerifyError::malformed("header", format_args!("starknet_version `{s:.40}`"))
            }),
        }
    }

    /// Checks the version-dependent fields are there: 0.13.2+ needs the receipt and
    /// state-diff commitments and the L1 gas prices, 0.13.4+ also the L2 gas price.
    pub fn validate(&self) -> Result<Version, VerifyError> {
        let v = self.version()?;
        let need = |present: bool, field: &str| match present {
            true => Ok(()),
            false => Err(VerifyError::malformed(
                "header",
                format_args!("missing `{field}` for {v:?}"),
            )),
        };
        if v.is_poseidon() {
            need(self.receipt_commitment.is_some(), "receipt_commitment")?;
            need(
                self.state_diff_commitment.is_some(),
                "state_diff_commitment",
            )?;
            need(self.l1_gas_price.is_some(), "l1_gas_price")?;
            need(self.l1_data_gas_price.is_some(), "l1_data_gas_price")?;
        }
        if v >= Version::V0_13_4 {
            need(self.l2_gas_price.is_some(), "l2_gas_price")?;
        }
        Ok(v)
    }

    /// Canonical encoding: compact JSON, keys in this struct's (alphabetical) order.
    pub fn encode(&self) -> Vec<u8> {
        json(self)
    }

    /// Decodes and validates an encoded header (unknown keys are ignored).
    pub fn decode(bytes: &[u8]) -> Result<Self, VerifyError> {
        let mut header: StarknetHeader = from_json("header", bytes)?;
        header.normalize()?;
        Ok(header)
    }

    /// Drops the commitments a pre-0.13.2 block does not have, then validates.
    fn normalize(&mut self) -> Result<Version, VerifyError> {
        let v = self.validate()?;
        if !v.is_poseidon() {
            self.receipt_commitment = None;
            self.state_diff_commitment = None;
        }
        Ok(v)
    }

    /// The commitment [`Header::bodies`] shows for the state diff: `state_diff_commitment`
    /// from 0.13.2, else the legacy signed one, else zero (nothing binds the diff).
    fn state_diff_summary(&self) -> Felt {
        self.state_diff_commitment
            .or(self.signed_state_diff_commitment)
            .map_or(Felt::ZERO, |f| f.0)
    }

    /// The generic header: number, parent, time, (commitment, count) per component,
    /// `extra` = canonical JSON of the remaining fields, signature = `r || s` (64 bytes).
    pub fn to_header(&self) -> Result<Header, VerifyError> {
        let summary = |c: Felt, count: u32| BodySummary {
            commitment: c.to_bytes_be(),
            count,
        };
        let timestamp_ms = self
            .timestamp
            .checked_mul(1000)
            .ok_or_else(|| VerifyError::malformed("header", "timestamp overflows milliseconds"))?;
        let extra = Extra {
            l1_da_mode: self.l1_da_mode,
            l1_data_gas_price: self.l1_data_gas_price,
            l1_gas_price: self.l1_gas_price,
            l2_gas_price: self.l2_gas_price,
            sequencer_address: self.sequencer_address,
            signed_state_diff_commitment: self.signed_state_diff_commitment,
            starknet_version: self.starknet_version.clone(),
            state_root: self.state_root,
        };
        let signature = match &self.signature {
            None => Bytes::new(),
            Some([r, s]) => Bytes::from([r.0.to_bytes_be(), s.0.to_bytes_be()].concat()),
        };
        Ok(Header {
            number: self.block_number,
            parent_hash: BlockHash(self.parent_block_hash.0.to_bytes_be()),
            timestamp_ms,
            bodies: [
                summary(self.transaction_commitment.0, self.transaction_count),
                summary(
                    self.receipt_commitment.map_or(Felt::ZERO, |f| f.0),
                    self.transaction_count,
                ),
                summary(self.event_commitment.0, self.event_count),
                summary(self.state_diff_summary(), self.state_diff_length),
            ],
            extra: Bytes::from(json(&extra)),
            signature,
        })
    }

    /// The inverse of [`StarknetHeader::to_header`]. Refuses a generic header whose
    /// fields disagree with its `extra` (e.g. a receipt commitment on a pre-0.13.2 block).
    pub fn from_header(header: &Header) -> Result<Self, VerifyError> {
        let extra: Extra = from_json("header extra", &header.extra)?;
        let [txs, receipts, events, diff] = &header.bodies;
        if receipts.count != txs.count {
            return Err(VerifyError::malformed(
                "header",
                "receipt count differs from transaction count",
            ));
        }
        if !header.timestamp_ms.is_multiple_of(1000) {
            return Err(VerifyError::malformed(
                "header",
                "timestamp_ms is not whole seconds",
            ));
        }
        let mut out = StarknetHeader {
            block_number: header.number,
            event_commitment: F(felt_from(&events.commitment, "event commitment")?),
            event_count: events.count,
            l1_da_mode: extra.l1_da_mode,
            l1_data_gas_price: extra.l1_data_gas_price,
            l1_gas_price: extra.l1_gas_price,
            l2_gas_price: extra.l2_gas_price,
            parent_block_hash: F(felt_from(&header.parent_hash.0, "parent hash")?),
            receipt_commitment: Some(F(felt_from(&receipts.commitment, "receipt commitment")?)),
            sequencer_address: extra.sequencer_address,
            signature: signature_from(&header.signature)?,
            signed_state_diff_commitment: extra.signed_state_diff_commitment,
            starknet_version: extra.starknet_version,
            state_diff_commitment: Some(F(felt_from(&diff.commitment, "state diff commitment")?)),
            state_diff_length: diff.count,
            state_root: extra.state_root,
            timestamp: header.timestamp_ms / 1000,
            transaction_commitment: F(felt_from(&txs.commitment, "transaction commitment")?),
            transaction_count: txs.count,
        };
        if !out.version()?.is_poseidon() {
            let unused = out.receipt_commitment.take().map_or(Felt::ZERO, |f| f.0);
            let shown = out.state_diff_commitment.take().map_or(Felt::ZERO, |f| f.0);
            if unused != Felt::ZERO || shown != out.state_diff_summary() {
                return Err(VerifyError::malformed(
                    "header",
                    "commitments disagree with the block's version",
                ));
            }
        }
        out.validate()?;
        Ok(out)
    }
}

/// `r || s` (64 bytes) or nothing.
fn signature_from(bytes: &[u8]) -> Result<Option<[F; 2]>, VerifyError> {
    match bytes.len() {
        0 => Ok(None),
        64 => {
            let (r, s) = bytes.split_at(32);
            let felt = |b: &[u8]| -> Result<F, VerifyError> {
                let arr: [u8; 32] = b.try_into().map_err(|_| VerifyError::BadSignature)?;
                felt_from(&arr, "signature").map(F)
            };
            Ok(Some([felt(r)?, felt(s)?]))
        }
        n => Err(VerifyError::malformed(
            "header",
            format_args!("signature has {n} bytes, not 64"),
        )),
    }
}
