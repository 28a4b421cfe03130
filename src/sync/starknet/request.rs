//! A Starknet sync request: read without a length prefix until the requester closes its write
//! side (capped at [`MAX_REQUEST`]), checked to hold exactly one `Iteration`, and turned into
//! the list of block numbers to serve.

use std::time::Duration;

use futures::io::{AsyncRead, AsyncReadExt};
use prost::Message;

use super::proto::starknet::sync::common::{iteration, Iteration};
use super::proto::starknet::sync::header::BlockHeadersRequest;
use crate::chain::{BlockHash, BlockNumber};

/// Largest request accepted: an `Iteration` starting at a 32-byte hash with 64-bit numbers is
/// under 70 bytes; anything past 256 is not a request.
pub const MAX_REQUEST: usize = 256;

/// Why a request is refused (each is the peer's fault and reported).
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// More than [`MAX_REQUEST`] bytes before the requester closed its side.
    #[error("request longer than {MAX_REQUEST} bytes")]
    Oversized,
    /// The requester did not close its side in time.
    #[error("no complete request within {0:?}")]
    Timeout(Duration),
    /// Not a request message, or one without its `iteration`.
    #[error("undecodable request: {0}")]
    Garbage(String),
    /// The bytes hold more than one `iteration`: a second request on the same stream.
    #[error("a second request message on the stream")]
    SecondMessage,
    /// The stream failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Where a request starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At this block number.
    Number(BlockNumber),
    /// At the block with this hash.
    Hash(BlockHash),
}

/// A decoded request: start, direction, how many blocks (clamped) and the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// First block.
    pub start: Start,
    /// Towards lower numbers.
    pub backward: bool,
    /// Blocks asked for, at most the server's `max_blocks_per_request`.
    pub limit: u64,
    /// Distance between served blocks (0 is read as 1, as Pathfinder does).
    pub step: u64,
}

impl Plan {
    /// The block numbers from `first`, in order, stopping before leaving `0..=u64::MAX`.
    pub fn numbers(&self, first: BlockNumber) -> impl Iterator<Item = BlockNumber> + '_ {
        let (step, backward) = (self.step, self.backward);
        std::iter::successors(Some(first), move |n| match backward {
            true => n.checked_sub(step),
            false => n.checked_add(step),
        })
        .take(self.limit as usize)
    }
}

/// Reads the request bytes until the requester closes its side.
pub async fn read<R: AsyncRead + Unpin>(
    io: &mut R,
    timeout: Duration,
) -> Result<Vec<u8>, RequestError> {
    let mut buf = Vec::with_capacity(64);
    let mut limited = io.take(MAX_REQUEST as u64 + 1);
    let reading = limited.read_to_end(&mut buf);
    match tokio::time::timeout(timeout, reading).await {
        Err(_) => Err(RequestError::Timeout(timeout)),
        Ok(Err(e)) => Err(e.into()),
        Ok(Ok(_)) if buf.len() > MAX_REQUEST => Err(RequestError::Oversized),
        Ok(Ok(_)) => Ok(buf),
    }
}

/// Decodes the request (the five protocols' requests share one shape: `iteration = 1`) and
/// clamps its limit to `max_blocks`.
pub fn decode(bytes: &[u8], max_blocks: u64) -> Result<Plan, RequestError> {
    if iteration_fields(bytes)? > 1 {
        return Err(RequestError::SecondMessage);
    }
    let request =
        BlockHeadersRequest::decode(bytes).map_err(|e| RequestError::Garbage(e.to_string()))?;
    let it: Iteration = request
        .iteration
        .ok_or_else(|| RequestError::Garbage("no iteration".into()))?;
    let start = match it.start {
        Some(iteration::Start::BlockNumber(n)) => Start::Number(n),
        Some(iteration::Start::Header(h)) => {
            let bytes = <[u8; 32]>::try_from(left_pad(&h.elements)?)
                .map_err(|_| RequestError::Garbage("start hash longer than 32 bytes".into()))?;
            Start::Hash(BlockHash(bytes))
        }
        None => return Err(RequestError::Garbage("iteration without a start".into())),
    };
    let backward = match iteration::Direction::try_from(it.direction) {
        Ok(d) => d == iteration::Direction::Backward,
        Err(_) => return Err(RequestError::Garbage(format!("direction {}", it.direction))),
    };
    Ok(Plan {
        start,
        backward,
        limit: it.limit.min(max_blocks),
        step: it.step.max(1),
    })
}

/// A hash of up to 32 bytes, big-endian, as 32 bytes.
fn left_pad(elements: &[u8]) -> Result<Vec<u8>, RequestError> {
    if elements.len() > 32 {
        return Err(RequestError::Garbage(
            "start hash longer than 32 bytes".into(),
        ));
    }
    let mut out = vec![0u8; 32 - elements.len()];
    out.extend_from_slice(elements);
    Ok(out)
}

/// How many times top-level field 1 (`iteration`) occurs: protobuf merges repeated messages,
/// so two requests written back to back would otherwise decode as one.
fn iteration_fields(mut bytes: &[u8]) -> Result<usize, RequestError> {
    let garbage = |e: prost::DecodeError| RequestError::Garbage(e.to_string());
    let mut count = 0;
    while !bytes.is_empty() {
        let key = prost::encoding::decode_varint(&mut bytes).map_err(garbage)?;
        let len = match key & 7 {
            0 => {
                prost::encoding::decode_varint(&mut bytes).map_err(garbage)?;
                0
            }
            1 => 8,
            2 => prost::encoding::decode_varint(&mut bytes).map_err(garbage)?,
            5 => 4,
            w => return Err(RequestError::Garbage(format!("wire type {w}"))),
        };
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > bytes.len() {
            return Err(RequestError::Garbage(
                "field longer than the request".into(),
            ));
        }
        bytes = &bytes[len..];
        count += usize::from(key >> 3 == 1);
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(limit: u64, step: u64) -> Vec<u8> {
        BlockHeadersRequest {
            iteration: Some(Iteration {
                start: Some(iteration::Start::BlockNumber(10)),
                direction: iteration::Direction::Backward as i32,
                limit,
                step,
            }),
        }
        .encode_to_vec()
    }

    #[test]
    fn the_specs_example_serves_ten_seven_four() {
        let plan = decode(&request(3, 3), 100).unwrap();
        let first = match plan.start {
            Start::Number(n) => n,
            Start::Hash(_) => unreachable!(),
        };
        assert_eq!(plan.numbers(first).collect::<Vec<_>>(), [10, 7, 4]);
        let clamped = decode(&request(u64::MAX, 0), 100).unwrap();
        assert_eq!((clamped.limit, clamped.step), (100, 1));
        assert_eq!(
            clamped.numbers(1).collect::<Vec<_>>(),
            [1, 0],
            "stops at genesis"
        );
    }

    #[test]
    fn two_requests_back_to_back_are_a_second_message() {
        let mut two = request(1, 1);
        two.extend(request(2, 1));
        assert!(matches!(
            decode(&two, 100),
            Err(RequestError::SecondMessage)
        ));
        assert!(matches!(
            decode(&[0xff, 0xff], 100),
            Err(RequestError::Garbage(_))
        ));
        assert!(matches!(decode(&[], 100), Err(RequestError::Garbage(_))));
    }
}
