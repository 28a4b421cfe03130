//! Fuzz targets of the sync protocols: frames, the client's response checks, head messages.

use std::fmt::Debug;
use std::time::Duration;

use futures::io::Cursor;
use prost::Message;

use super::{adapters, block_on, check_header};
use crate::chain::Component;
use crate::sync::client::{read_response, Range};
use crate::sync::head::MAX_HEAD_SIZE;
use crate::sync::proto::{Head, SyncRequest, SyncResponse};
use crate::sync::server::MAX_REQUEST_SIZE;
use crate::sync::wire::{self, WireError};
use crate::sync::{FetchConfig, FetchError};

/// Never reached: an in-memory reader never waits.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Reads `SyncRequest` frames (the server's limit), then `SyncResponse` frames (the client's
/// default limit) from the input, each until the end or an error.
pub fn sync_frames(data: &[u8]) {
    block_on(async {
        frames::<SyncRequest>(data, MAX_REQUEST_SIZE).await;
        frames::<SyncResponse>(data, FetchConfig::default().max_message_size).await;
    });
}

/// Reads `Head` frames (the head protocol's limit); each header goes through both adapters.
pub fn head_message(data: &[u8]) {
    let heads = block_on(frames::<Head>(data, MAX_HEAD_SIZE));
    for head in heads.iter().filter(|h| !h.header.is_empty()) {
        for (name, adapter) in adapters() {
            check_header(name, adapter.as_ref(), &head.header);
        }
    }
}

/// Reads frames of `M` until the end or an error; checks each frame's round trip and that the
/// only errors are the peer's (truncation, oversize, undecodable), never i/o or timeouts.
async fn frames<M: Message + Default + PartialEq + Debug>(data: &[u8], max: usize) -> Vec<M> {
    let mut io = Cursor::new(data);
    let mut out = Vec::new();
    loop {
        let before = io.position();
        match wire::read_message::<M, _>(&mut io, max, TIMEOUT).await {
            Ok(Some(msg)) => {
                let used = io.position() - before;
                assert!(used > 0, "a frame consumed no byte");
                assert!(
                    used <= max as u64 + 10,
                    "a frame of {used} bytes passed the {max} limit"
                );
                assert_round_trip(&msg).await;
                out.push(msg);
            }
            Ok(None) => {
                assert_eq!(io.position() as usize, data.len(), "end before the end");
                return out;
            }
            Err(WireError::Oversized { len, max: m }) => {
                assert!(len > m as u64 && m == max, "oversized {len} with max {m}");
                return out;
            }
            Err(WireError::Truncated | WireError::Decode(_)) => return out,
            Err(e) => panic!("an in-memory reader failed with {e}"),
        }
    }
}

/// Encoding a decoded message and reading it back gives the same message.
async fn assert_round_trip<M: Message + Default + PartialEq + Debug>(msg: &M) {
    let mut out = Cursor::new(Vec::new());
    wire::write_message(&mut out, msg, &mut Vec::new(), TIMEOUT)
        .await
        .expect("writing to memory");
    let bytes = out.into_inner();
    let mut input = Cursor::new(bytes.as_slice());
    // No limit here: a re-encoding may grow (prost writes a negative `int32` in 10 bytes even
    // when it was read from 5).
    let again: Option<M> = wire::read_message(&mut input, 1 << 40, TIMEOUT)
        .await
        .expect("a re-encoded frame decodes");
    assert_eq!(again.as_ref(), Some(msg), "frame changed in a round trip");
}

/// The sync client's checks of one response. Input: `limit` (1 byte, at most 100, the default
/// chunk), `step` (1 byte: 1 to 4 from its low bits; its top bit selects the classes protocol,
/// whose reader rebuilds class bundles), `start` (8 bytes BE), then the response stream.
pub fn sync_client(data: &[u8]) {
    let Some((head, stream)) = data.split_at_checked(10) else {
        return;
    };
    let range = Range {
        limit: u64::from(head[0]) % 101,
        step: 1 + u64::from(head[1]) % 4,
        start: u64::from_be_bytes(head[2..10].try_into().expect("8 bytes")),
    };
    let cfg = FetchConfig::default();
    let mut io = Cursor::new(stream);
    let component = match head[1] & 0x80 {
        0 => Component::Headers,
        _ => Component::Classes,
    };
    let result = block_on(read_response(&mut io, component, range, &cfg));
    match result {
        Ok(items) => {
            assert!(items.len() as u64 <= range.limit, "more items than asked");
            for (i, (number, _)) in items.iter().enumerate() {
                assert_eq!(*number, range.nth(i as u64), "item {i} out of order");
            }
            assert_eq!(
                io.position() as usize,
                stream.len(),
                "accepted data after Fin"
            );
        }
        Err(e @ (FetchError::NoResponse | FetchError::Refused(_))) => {
            assert!(e.kind().is_none(), "{e} is not the peer's fault");
        }
        Err(e) => {
            assert!(
                e.kind().is_some(),
                "{e} from a byte stream is the peer's fault"
            );
        }
    }
}
