//! Framing of one Starknet sync exchange, as `proto/starknet/README.md` gives the specs' rules:
//! the request is one protobuf message **without** a length prefix, after which the requester
//! closes its write side; every response message is varint length-prefixed; data messages,
//! then exactly one `Fin`, then nothing. Messages are capped at 1 MiB (4 MiB on `classes`).

use futures::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use prost::Message;

use crate::sync::client::FetchError;
use crate::sync::config::FetchConfig;
use crate::sync::starknet::proto::starknet::sync as ps;
use crate::sync::wire::{self, WireError};

/// Largest response message of every protocol but `classes`, in bytes (the specs' limit).
pub const MAX_MESSAGE: usize = 1 << 20;
/// Largest `classes` response message, in bytes.
pub const MAX_CLASS_MESSAGE: usize = 4 << 20;

/// A response message: data, or the `Fin` that ends the stream.
pub trait Response: Message + Default {
    /// The data a non-`Fin` message carries.
    type Data;
    /// `Ok(Some)` data, `Ok(None)` for `Fin`, `Err` when the message sets neither (a required
    /// field missing: the peer is blamed).
    fn data(self) -> Result<Option<Self::Data>, FetchError>;
}

fn missing(what: &str) -> FetchError {
    FetchError::Mapping(format!("{what}: no message set"))
}

macro_rules! response {
    ($t:ty, $field:ident, $data:ty, $enum:path, $variant:ident) => {
        impl Response for $t {
            type Data = $data;
            fn data(self) -> Result<Option<$data>, FetchError> {
                use $enum as M;
                match self.$field {
                    Some(M::$variant(d)) => Ok(Some(d)),
                    Some(M::Fin(_)) => Ok(None),
                    None => Err(missing(stringify!($t))),
                }
            }
        }
    };
}

response!(
    ps::header::BlockHeadersResponse,
    header_message,
    ps::header::SignedBlockHeader,
    ps::header::block_headers_response::HeaderMessage,
    Header
);
response!(
    ps::transaction::TransactionsResponse,
    transaction_message,
    ps::transaction::TransactionWithReceipt,
    ps::transaction::transactions_response::TransactionMessage,
    TransactionWithReceipt
);
response!(
    ps::event::EventsResponse,
    event_message,
    ps::event::Event,
    ps::event::events_response::EventMessage,
    Event
);
response!(
    ps::class::ClassesResponse,
    class_message,
    crate::sync::starknet::proto::starknet::class::Class,
    ps::class::classes_response::ClassMessage,
    Class
);

/// State diffs carry two kinds of data message; both are passed on as they are.
impl Response for ps::state::StateDiffsResponse {
    type Data = ps::state::state_diffs_response::StateDiffMessage;
    fn data(self) -> Result<Option<Self::Data>, FetchError> {
        use ps::state::state_diffs_response::StateDiffMessage as M;
        match self.state_diff_message {
            Some(M::Fin(_)) => Ok(None),
            Some(m) => Ok(Some(m)),
            None => Err(missing("StateDiffsResponse")),
        }
    }
}

/// Writes the request unprefixed and closes the write side.
pub async fn send_request<W: AsyncWrite + Unpin>(
    io: &mut W,
    request: &impl Message,
    cfg: &FetchConfig,
) -> Result<(), FetchError> {
    let bytes = request.encode_to_vec();
    let write = async {
        io.write_all(&bytes).await?;
        io.close().await
    };
    match tokio::time::timeout(cfg.idle_timeout, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(FetchError::Wire(WireError::Io(e))),
        Err(_) => Err(FetchError::Wire(WireError::Timeout(cfg.idle_timeout))),
    }
}

/// Reads data messages until `Fin` (at most `max_items` of them and `cfg.max_response_bytes`
/// in all), then checks that nothing follows.
pub async fn read_all<M: Response, R: AsyncRead + Unpin>(
    io: &mut R,
    max_message: usize,
    max_items: usize,
    cfg: &FetchConfig,
) -> Result<Vec<M::Data>, FetchError> {
    let mut items = Vec::new();
    let mut total = 0usize;
    loop {
        let msg: Option<M> = wire::read_message(io, max_message, cfg.idle_timeout).await?;
        let Some(msg) = msg else {
            return Err(match items.is_empty() {
                true => FetchError::NoResponse,
                false => FetchError::MissingFin,
            });
        };
        total = total.saturating_add(msg.encoded_len());
        if total > cfg.max_response_bytes {
            return Err(FetchError::TooLarge(cfg.max_response_bytes));
        }
        match msg.data()? {
            Some(d) if items.len() < max_items => items.push(d),
            Some(_) => return Err(FetchError::TooManyItems(max_items as u64)),
            None => break,
        }
    }
    crate::sync::client::expect_end(io, cfg.idle_timeout).await?;
    Ok(items)
}
