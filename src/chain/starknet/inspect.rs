//! The adapter's checks one by one on saved feeder-gateway answers, each with its outcome, for
//! `wharf starknet verify-block`: an operator sees which check passed, which failed and why,
//! which the block's era does not allow, and which needs an answer that was not given.

use std::fmt;

use serde_json::Value;

use super::{felt_hex, Era, Felt, StarknetAdapter, StarknetHeader, Version};
use crate::chain::{Block, ChainAdapter, Component, Header, VerifyError};

/// The saved answers for one block; only `block` is required.
#[derive(Debug, Default, Clone, Copy)]
pub struct Answers<'a> {
    /// `get_block`.
    pub block: &'a [u8],
    /// `get_state_update`, plain or with `includeBlock=true` (`{"block", "state_update"}`).
    pub state_update: Option<&'a [u8]>,
    /// `get_signature`.
    pub signature: Option<&'a [u8]>,
    /// The parent's `get_block`.
    pub parent: Option<&'a [u8]>,
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Verified.
    Ok(String),
    /// Verified and wrong.
    Failed(String),
    /// The block's era gives nothing to verify it against.
    NotVerifiable(String),
    /// Needs an answer that was not given.
    Skipped(String),
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// Its outcome.
    pub outcome: Outcome,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (word, detail) = match &self.outcome {
            Outcome::Ok(d) => ("ok", d),
            Outcome::Failed(d) => ("failed: ", d),
            Outcome::NotVerifiable(d) => ("not verifiable in this era: ", d),
            Outcome::Skipped(d) => ("skipped: ", d),
        };
        match (&self.outcome, detail.is_empty()) {
            (Outcome::Ok(_), false) => write!(f, "{}: ok ({detail})", self.name),
            _ => write!(f, "{}: {word}{detail}", self.name),
        }
    }
}

fn check(name: &'static str, outcome: Outcome) -> Check {
    Check { name, outcome }
}

fn ok(detail: impl Into<String>) -> Outcome {
    Outcome::Ok(detail.into())
}

fn failed(e: impl fmt::Display) -> Outcome {
    Outcome::Failed(e.to_string())
}

/// `includeBlock=true` answers wrap the state update: unwrap it.
fn state_update_of(bytes: &[u8]) -> Result<Vec<u8>, VerifyError> {
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| VerifyError::malformed("state_update", e))?;
    match v.get("state_update") {
        Some(inner) => Ok(serde_json::to_vec(inner).unwrap_or_default()),
        None => Ok(bytes.to_vec()),
    }
}

/// Runs every check on `answers`; the first line reports the mapping itself.
pub fn inspect(adapter: &StarknetAdapter, answers: &Answers<'_>) -> Vec<Check> {
    let su = match answers.state_update.map(state_update_of).transpose() {
        Ok(su) => su,
        Err(e) => return vec![check("answers", failed(e))],
    };
    let empty = br#"{"state_diff":{}}"#;
    let sig = answers.signature.unwrap_or(b"");
    let mapped = match adapter.map_gateway(answers.block, su.as_deref().unwrap_or(empty), sig) {
        Ok(m) => m,
        Err(e) => return vec![check("answers", failed(e))],
    };
    let (h, v) = match adapter.starknet_header(&mapped.block.header) {
        Ok(hv) => hv,
        Err(e) => return vec![check("header", failed(e))],
    };
    let ctx = Ctx {
        adapter,
        block: &mapped.block,
        h: &h,
        v,
        era: adapter.eras().era(h.block_number, v),
    };
    let mut out = ctx.transactions(mapped.commitments_stated);
    out.push(ctx.events());
    out.push(ctx.receipts());
    out.push(ctx.state_diff(su.is_some()));
    out.push(ctx.links());
    out.extend(ctx.header_fields());
    out.push(ctx.block_hash(mapped.stated_hash, mapped.fallback_sequencer));
    out.push(ctx.signature(answers.signature.is_some()));
    out.push(ctx.parent(answers.parent));
    out
}

/// Whether any check failed.
pub fn any_failed(checks: &[Check]) -> bool {
    checks
        .iter()
        .any(|c| matches!(c.outcome, Outcome::Failed(_)))
}

struct Ctx<'a> {
    adapter: &'a StarknetAdapter,
    block: &'a Block,
    h: &'a StarknetHeader,
    v: Version,
    era: Era,
}

impl Ctx<'_> {
    fn body(&self, c: Component) -> Result<(), VerifyError> {
        let index = crate::chain::body_index(c).unwrap_or_default();
        self.adapter
            .verify_body(&self.block.header, c, &self.block.bodies[index])
    }

    fn transactions(&self, stated: bool) -> Vec<Check> {
        let n = self.h.transaction_count;
        let before = self.adapter.unhashed_transactions();
        let result = self.body(Component::Transactions);
        let unknown = self.adapter.unhashed_transactions() - before;
        let hashes = match &result {
            Err(VerifyError::CommitmentMismatch { .. }) | Ok(()) if unknown == 0 => {
                ok(format!("{n} of {n} recomputed"))
            }
            Err(VerifyError::CommitmentMismatch { .. }) | Ok(()) => ok(format!(
                "{} of {n} recomputed; {unknown} of a kind or version without a known formula, bound by the transaction commitment only",
                u64::from(n) - unknown
            )),
            Err(e) => failed(e),
        };
        let commitment = match (&result, stated) {
            (Ok(()), true) => ok(""),
            (Ok(()), false) => ok("the gateway states none for this block: computed from the transactions, bound by the block hash"),
            (Err(e @ VerifyError::CommitmentMismatch { .. }), _) => failed(e),
            (Err(_), _) => Outcome::Skipped("the transactions did not verify".into()),
        };
        vec![
            check("transaction hashes", hashes),
            check("transaction commitment", commitment),
        ]
    }

    fn events(&self) -> Check {
        let outcome = match (self.era, self.body(Component::Events)) {
            (_, Err(e)) => failed(e),
            (Era::Pre0_7, Ok(())) => Outcome::NotVerifiable(
                "the pre-0.7 block hash does not commit to events (checked for count and transaction links only)".into(),
            ),
            (_, Ok(())) => ok(""),
        };
        check("event commitment", outcome)
    }

    fn receipts(&self) -> Check {
        let outcome = match (self.v.is_poseidon(), self.body(Component::Receipts)) {
            (_, Err(e)) => failed(e),
            (false, Ok(())) => Outcome::NotVerifiable(
                "nothing commits to receipts before 0.13.2 (checked for count, position and transaction links only)".into(),
            ),
            (true, Ok(())) => ok(""),
        };
        check("receipt commitment", outcome)
    }

    fn state_diff(&self, given: bool) -> Check {
        if !given {
            return check(
                "state diff commitment",
                Outcome::Skipped("no --state-update given".into()),
            );
        }
        let legacy = self.h.signed_state_diff_commitment.is_some();
        let outcome = match (self.body(Component::StateDiffs), self.v.is_poseidon(), legacy) {
            (Err(e), ..) => failed(e),
            (Ok(()), true, _) => ok(""),
            (Ok(()), false, true) => ok("the legacy commitment the signature's signature_input signs"),
            (Ok(()), false, false) => Outcome::NotVerifiable(
                "before 0.13.2 only a legacy-form signature (signature_input) commits to the state diff, and this one is not".into(),
            ),
        };
        check("state diff commitment", outcome)
    }

    fn links(&self) -> Check {
        let outcome = match self.adapter.verify_cross_links(&self.block.bodies) {
            Ok(()) => ok(""),
            Err(e) => failed(e),
        };
        check("receipt and event transaction links", outcome)
    }

    fn header_fields(&self) -> Option<Check> {
        (self.era == Era::Pre0_7).then(|| {
            check(
                "timestamp and sequencer address",
                Outcome::NotVerifiable("the pre-0.7 block hash hashes zero in their place".into()),
            )
        })
    }

    fn block_hash(&self, stated: Option<Felt>, with_fallback: bool) -> Check {
        let computed = match self.adapter.compute_block_hash(&self.block.header) {
            Ok(c) => c,
            Err(e) => return check("block hash", failed(e)),
        };
        let Some(stated) = stated else {
            return check(
                "block hash",
                Outcome::Skipped("the block answer states no block_hash".into()),
            );
        };
        let (computed, stated) = (felt_hex(&computed), felt_hex(&stated));
        if computed != stated {
            return check(
                "block hash",
                failed(format!("computed {computed}, the gateway states {stated}")),
            );
        }
        let rule = match self.era {
            Era::Pre0_7 => "pre-0.7 rule, chain id hashed in",
            Era::Pedersen => "Pedersen rule",
            Era::Poseidon => "Poseidon rule",
        };
        let note = if with_fallback {
            ", with the fallback sequencer address (the gateway states none or another for 0.7.0-0.8.2 blocks)"
        } else {
            ""
        };
        check("block hash", ok(format!("{computed}, {rule}{note}")))
    }

    fn signature(&self, given: bool) -> Check {
        let outcome = match (
            given,
            self.adapter.verify_header_signature(&self.block.header),
        ) {
            (false, _) => Outcome::Skipped("no --signature given".into()),
            (true, Ok(_)) if self.h.signed_state_diff_commitment.is_some() => {
                ok("legacy form: poseidon(block_hash, state_diff_commitment)")
            }
            (true, Ok(_)) => ok("over the block hash"),
            (true, Err(e)) => failed(e),
        };
        check("signature", outcome)
    }

    fn parent(&self, parent: Option<&[u8]>) -> Check {
        let header = &self.block.header;
        let outcome = match parent {
            None if header.number == 0 => match header.parent_hash.0 == [0; 32] {
                true => ok("genesis: parent hash 0"),
                false => failed("block 0 has a non-zero parent hash"),
            },
            None => Outcome::Skipped("no --parent given".into()),
            Some(bytes) => match self.parent_header(bytes) {
                Ok(p) => match self.adapter.verify_parent_link(header, &p) {
                    Ok(()) => ok(format!(
                        "block {} hashes to this block's parent_block_hash",
                        p.number
                    )),
                    Err(e) => failed(e),
                },
                Err(e) => failed(format!("--parent: {e}")),
            },
        };
        check("parent link", outcome)
    }

    fn parent_header(&self, bytes: &[u8]) -> Result<Header, VerifyError> {
        let mapped = self
            .adapter
            .map_gateway(bytes, br#"{"state_diff":{}}"#, b"")?;
        Ok(mapped.block.header)
    }
}
