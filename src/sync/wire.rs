//! Framing of the sync protocols: an unsigned-varint (LEB128) length, then a protobuf message.
//!
//! Works over any `futures::io` reader/writer (a libp2p `Stream` is one). The length is checked
//! against the caller's maximum before a single payload byte is allocated, so a hostile peer
//! cannot make us reserve memory by announcing a huge frame.

use std::io;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use prost::Message;

/// Longest valid LEB128 encoding of a `u64`.
const MAX_VARINT_LEN: usize = 10;

/// Why reading or writing a frame failed.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The stream ended inside a length prefix or a payload.
    #[error("stream ended inside a frame")]
    Truncated,
    /// The announced length exceeds the allowed maximum (or the varint is invalid).
    #[error("frame of {len} bytes exceeds the maximum of {max}")]
    Oversized {
        /// Announced length (saturated at `u64::MAX` for invalid varints).
        len: u64,
        /// Allowed maximum.
        max: usize,
    },
    /// The payload is not a valid protobuf message of the expected type.
    #[error("undecodable message: {0}")]
    Decode(#[from] prost::DecodeError),
    /// The underlying stream failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The peer was too slow.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
}

/// Reads one framed message; `Ok(None)` on a clean end of stream before any byte of a frame.
pub async fn read_message<M, R>(
    io: &mut R,
    max_size: usize,
    timeout: Duration,
) -> Result<Option<M>, WireError>
where
    M: Message + Default,
    R: AsyncRead + Unpin,
{
    let read = async {
        let Some(len) = read_length(io, max_size).await? else {
            return Ok(None);
        };
        let payload = read_payload(io, len).await?;
        Ok(Some(M::decode(payload)?))
    };
    with_timeout(timeout, read).await
}

/// Writes one framed message, using `buf` as scratch space (reused across calls).
pub async fn write_message<M, W>(
    io: &mut W,
    msg: &M,
    buf: &mut Vec<u8>,
    timeout: Duration,
) -> Result<(), WireError>
where
    M: Message,
    W: AsyncWrite + Unpin,
{
    buf.clear();
    msg.encode_length_delimited(buf)
        .expect("a Vec grows to fit any message");
    with_timeout(timeout, async { Ok(io.write_all(buf).await?) }).await
}

/// Flushes and closes the write side of `io` within `timeout`.
pub async fn close<W: AsyncWrite + Unpin>(io: &mut W, timeout: Duration) -> Result<(), WireError> {
    with_timeout(timeout, async { Ok(io.close().await?) }).await
}

/// Runs `fut`, mapping an elapsed deadline to [`WireError::Timeout`].
async fn with_timeout<T>(
    timeout: Duration,
    fut: impl std::future::Future<Output = Result<T, WireError>>,
) -> Result<T, WireError> {
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| WireError::Timeout(timeout))?
}

/// Reads a LEB128 length prefix, refusing it as soon as it is known to exceed `max`.
async fn read_length<R: AsyncRead + Unpin>(
    io: &mut R,
    max: usize,
) -> Result<Option<usize>, WireError> {
    let mut value: u64 = 0;
    for i in 0..MAX_VARINT_LEN {
        let mut byte = [0u8; 1];
        let n = io.read(&mut byte).await?;
        if n == 0 {
            return if i == 0 {
                Ok(None)
            } else {
                Err(WireError::Truncated)
            };
        }
        value |= u64::from(byte[0] & 0x7f)
            .checked_shl(7 * i as u32)
            .unwrap_or(u64::MAX);
        if value > max as u64 {
            return Err(WireError::Oversized { len: value, max });
        }
        if byte[0] & 0x80 == 0 {
            return Ok(Some(value as usize));
        }
    }
    Err(WireError::Oversized { len: u64::MAX, max })
}

/// Reads exactly `len` payload bytes (already checked against the maximum).
async fn read_payload<R: AsyncRead + Unpin>(io: &mut R, len: usize) -> Result<Bytes, WireError> {
    let mut payload = BytesMut::zeroed(len);
    io.read_exact(&mut payload)
        .await
        .map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => WireError::Truncated,
            _ => WireError::Io(e),
        })?;
    Ok(payload.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::proto::SyncRequest;
    use futures::io::Cursor;

    const T: Duration = Duration::from_secs(1);

    #[tokio::test]
    async fn round_trips_a_message() {
        let req = SyncRequest {
            start_block: 7,
            limit: 100,
            step: 1,
        };
        let mut out = Cursor::new(Vec::new());
        write_message(&mut out, &req, &mut Vec::new(), T)
            .await
            .unwrap();
        let mut input = Cursor::new(out.into_inner());
        let got: Option<SyncRequest> = read_message(&mut input, 64, T).await.unwrap();
        assert_eq!(got, Some(req));
        let eof: Option<SyncRequest> = read_message(&mut input, 64, T).await.unwrap();
        assert_eq!(eof, None);
    }

    #[tokio::test]
    async fn refuses_oversized_length_before_reading_payload() {
        let mut input = Cursor::new(vec![0xff, 0xff, 0xff, 0xff, 0x0f]);
        let err = read_message::<SyncRequest, _>(&mut input, 1024, T)
            .await
            .unwrap_err();
        assert!(
            matches!(err, WireError::Oversized { max: 1024, .. }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn reports_truncation_inside_prefix_and_payload() {
        let mut prefix = Cursor::new(vec![0x80]);
        let err = read_message::<SyncRequest, _>(&mut prefix, 64, T)
            .await
            .unwrap_err();
        assert!(matches!(err, WireError::Truncated), "{err:?}");
        let mut payload = Cursor::new(vec![5, 8, 1]);
        let err = read_message::<SyncRequest, _>(&mut payload, 64, T)
            .await
            .unwrap_err();
        assert!(matches!(err, WireError::Truncated), "{err:?}");
    }

    #[tokio::test]
    async fn reports_undecodable_payload() {
        let mut input = Cursor::new(vec![2, 0xff, 0xff]);
        let err = read_message::<SyncRequest, _>(&mut input, 64, T)
            .await
            .unwrap_err();
        assert!(matches!(err, WireError::Decode(_)), "{err:?}");
    }
}
