//! Whole-block framing used by the gateway's `GET /blocks/{number}`: cheap to produce
//! (a memcpy of stored bytes) and to parse, with the header in the adapter's format.
//!
//! Layout (integers big-endian): `header_len: u32 | header (adapter encoding, with
//! signature)` then, for transactions, receipts, events, state-diffs in that order,
//! `body_len: u32 | body`. Nothing may follow the last body.

use bytes::Bytes;

use super::{Block, ChainAdapter, VerifyError};

/// Frames a block for the wire.
pub fn encode_block(adapter: &dyn ChainAdapter, block: &Block) -> Bytes {
    let header = adapter.encode_header(&block.header);
    let total = 4 + header.len() + block.bodies.iter().map(|b| 4 + b.len()).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    push_frame(&mut out, &header);
    for body in &block.bodies {
        push_frame(&mut out, body);
    }
    Bytes::from(out)
}

/// Parses a framed block. Bodies are zero-copy slices of `bytes`; contents are not
/// verified here (see [`ChainAdapter::verify_block`]).
pub fn decode_block(adapter: &dyn ChainAdapter, bytes: &Bytes) -> Result<Block, VerifyError> {
    let mut rest = bytes.clone();
    let header = adapter.decode_header(&next_frame(&mut rest)?)?;
    let mut bodies: [Bytes; 4] = Default::default();
    for body in &mut bodies {
        *body = next_frame(&mut rest)?;
    }
    if !rest.is_empty() {
        return Err(VerifyError::malformed(
            "block",
            format!("{} trailing bytes", rest.len()),
        ));
    }
    Ok(Block {
        header,
        bodies,
        classes: Bytes::new(),
    })
}

fn push_frame(out: &mut Vec<u8>, frame: &[u8]) {
    out.extend_from_slice(&(frame.len() as u32).to_be_bytes());
    out.extend_from_slice(frame);
}

fn next_frame(rest: &mut Bytes) -> Result<Bytes, VerifyError> {
    if rest.len() < 4 {
        return Err(VerifyError::malformed("block", "truncated frame length"));
    }
    let len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
    if rest.len() - 4 < len {
        return Err(VerifyError::malformed(
            "block",
            "frame longer than the block",
        ));
    }
    let frame = rest.slice(4..4 + len);
    *rest = rest.slice(4 + len..);
    Ok(frame)
}
