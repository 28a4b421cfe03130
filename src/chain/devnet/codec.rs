//! Devnet header and body encodings (byte layout documented in the parent module).

use bytes::Bytes;

use crate::chain::{BlockHash, BodySummary, Header};

/// Length of the header up to `extra` (number, parent, timestamp, 4 summaries, extra_len).
pub const HEADER_FIXED_LEN: usize = 8 + 32 + 8 + 4 * 36 + 4;

/// A byte cursor that reports truncation instead of panicking.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.buf.len() < n {
            return Err(format!(
                "truncated: need {n} bytes, have {}",
                self.buf.len()
            ));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        Ok(self.take(N)?.try_into().expect("take returns N bytes"))
    }
}

/// Appends the signed-over part of the header (everything before `sig_len`).
pub(crate) fn encode_unsigned(h: &Header, out: &mut Vec<u8>) {
    out.extend_from_slice(&h.number.to_be_bytes());
    out.extend_from_slice(h.parent_hash.as_bytes());
    out.extend_from_slice(&h.timestamp_ms.to_be_bytes());
    for body in &h.bodies {
        out.extend_from_slice(&body.commitment);
        out.extend_from_slice(&body.count.to_be_bytes());
    }
    out.extend_from_slice(&(h.extra.len() as u32).to_be_bytes());
    out.extend_from_slice(&h.extra);
}

/// Canonical header bytes including the signature.
pub(crate) fn encode_header(h: &Header) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_FIXED_LEN + h.extra.len() + 2 + h.signature.len());
    encode_unsigned(h, &mut out);
    out.extend_from_slice(&(h.signature.len() as u16).to_be_bytes());
    out.extend_from_slice(&h.signature);
    out
}

/// Parses canonical header bytes; trailing bytes are an error.
pub(crate) fn decode_header(bytes: &[u8]) -> Result<Header, crate::chain::VerifyError> {
    decode_header_inner(bytes).map_err(|e| crate::chain::VerifyError::malformed("header", e))
}

fn decode_header_inner(bytes: &[u8]) -> Result<Header, String> {
    let mut r = Reader { buf: bytes };
    let number = u64::from_be_bytes(r.array()?);
    let parent_hash = BlockHash(r.array()?);
    let timestamp_ms = u64::from_be_bytes(r.array()?);
    let mut bodies = [BodySummary::default(); 4];
    for body in &mut bodies {
        body.commitment = r.array()?;
        body.count = u32::from_be_bytes(r.array()?);
    }
    let extra_len = u32::from_be_bytes(r.array()?) as usize;
    let extra = Bytes::copy_from_slice(r.take(extra_len)?);
    let sig_len = u16::from_be_bytes(r.array()?) as usize;
    let signature = Bytes::copy_from_slice(r.take(sig_len)?);
    if !r.buf.is_empty() {
        return Err(format!("{} trailing bytes", r.buf.len()));
    }
    Ok(Header {
        number,
        parent_hash,
        timestamp_ms,
        bodies,
        extra,
        signature,
    })
}

/// Encodes items as `len: u32 | bytes` each.
pub fn encode_items<T: AsRef<[u8]>>(items: &[T]) -> Bytes {
    let total: usize = items.iter().map(|i| 4 + i.as_ref().len()).sum();
    let mut out = Vec::with_capacity(total);
    for item in items {
        let item = item.as_ref();
        out.extend_from_slice(&(item.len() as u32).to_be_bytes());
        out.extend_from_slice(item);
    }
    Bytes::from(out)
}

/// Splits a body into its items, borrowing from `body`; refuses truncated items.
pub fn decode_items(body: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut r = Reader { buf: body };
    let mut items = Vec::new();
    while !r.buf.is_empty() {
        let len = u32::from_be_bytes(r.array()?) as usize;
        items.push(r.take(len)?);
    }
    Ok(items)
}
