//! What a held connection answers, as an idle libp2p peer would: ping (echo), identify (its key
//! and protocols) and gossipsub (the relay's subscription stream is read and kept open); every
//! other protocol is refused in multistream-select, as a peer that does not speak it.

use futures::io::{AsyncReadExt, AsyncWriteExt};
use libp2p::core::muxing::{StreamMuxerBox, SubstreamBox};
use libp2p::identity::PublicKey;
use multistream_select::listener_select_proto;

const PING: &str = "/ipfs/ping/1.0.0";
const IDENTIFY: &str = "/ipfs/id/1.0.0";
const MESHSUB: [&str; 2] = ["/meshsub/1.2.0", "/meshsub/1.1.0"];
/// The identify protocol version the dialers claim (a Wharf peer of the benchmark's network).
const PROTOCOL_VERSION: &str = "/wharf/bench/1.0.0";

/// Answers the streams the remote opens on `muxer` until the connection closes.
pub async fn serve(muxer: StreamMuxerBox, key: PublicKey) {
    let identify = identify_message(&key);
    super::dialer::drive(muxer, |s| answer(s, &identify)).await
}

async fn answer(stream: SubstreamBox, identify: &[u8]) {
    let protocols = [PING, IDENTIFY, MESHSUB[0], MESHSUB[1]];
    let Ok((proto, mut io)) = listener_select_proto(stream, protocols).await else {
        return;
    };
    let _ = match proto {
        PING => echo(&mut io).await,
        IDENTIFY => match io.write_all(identify).await {
            Ok(()) => io.close().await,
            Err(e) => Err(e),
        },
        _ => drain(&mut io).await,
    };
}

/// Ping: echoes 32-byte payloads until the stream ends.
async fn echo(io: &mut (impl AsyncReadExt + AsyncWriteExt + Unpin)) -> std::io::Result<()> {
    let mut payload = [0u8; 32];
    loop {
        io.read_exact(&mut payload).await?;
        io.write_all(&payload).await?;
        io.flush().await?;
    }
}

/// Reads and drops everything until the stream ends.
async fn drain(io: &mut (impl AsyncReadExt + Unpin)) -> std::io::Result<()> {
    let mut buf = [0u8; 512];
    while io.read(&mut buf).await? > 0 {}
    Ok(())
}

/// The identify answer, length-prefixed protobuf: protocol and agent versions, public key and
/// the protocols answered here.
fn identify_message(key: &PublicKey) -> Vec<u8> {
    let mut body = Vec::new();
    field(&mut body, 5, PROTOCOL_VERSION.as_bytes());
    field(&mut body, 6, b"wharf-bench-dialer");
    field(&mut body, 1, &key.encode_protobuf());
    for p in [PING, IDENTIFY, MESHSUB[0], MESHSUB[1]] {
        field(&mut body, 3, p.as_bytes());
    }
    let mut out = Vec::with_capacity(body.len() + 4);
    varint(&mut out, body.len() as u64);
    out.extend_from_slice(&body);
    out
}

/// A length-delimited protobuf field.
fn field(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
    varint(out, (number << 3) | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_fields_follow_protobuf() {
        let mut out = Vec::new();
        varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
        let mut f = Vec::new();
        field(&mut f, 5, b"ab");
        assert_eq!(f, [0x2a, 2, b'a', b'b']);
    }
}
