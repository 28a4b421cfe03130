//! Garbage on the wire: refused cleanly, reported, and the server keeps serving.

use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt, Cursor};
use libp2p::PeerId;
use wharf::chain::Component;
use wharf::sync::proto::{sync_response::Message, FinReason, SyncRequest, SyncResponse};
use wharf::sync::{fetch, protocol_id, wire, FetchConfig, PeerReport, SyncServerConfig};

use crate::fixtures::{chain, deadline, source, Recorder};
use crate::net::Node;
use crate::{serving, NETWORK};

/// Opens a raw stream to `server`, writes `bytes`, closes our side and returns all it sent back.
async fn exchange_raw(client: &mut Node, server: PeerId, bytes: &[u8]) -> Vec<u8> {
    let protocol = protocol_id(NETWORK, Component::Transactions);
    let mut stream = client.control.open_stream(server, protocol).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    stream.close().await.unwrap();
    let mut reply = Vec::new();
    let read = tokio::time::timeout(deadline(), stream.read_to_end(&mut reply)).await;
    assert!(read.is_ok(), "server neither answered nor closed");
    reply
}

/// Encodes a request as a frame.
fn frame(request: &SyncRequest) -> Vec<u8> {
    let mut out = Vec::new();
    prost::Message::encode_length_delimited(request, &mut out).unwrap();
    out
}

/// Sends each garbage payload on its own stream and expects `report` for each.
async fn refused(payload: &[u8], report: PeerReport) {
    let recorder = Recorder::new();
    let (server, _) = serving(
        source(&chain(5, 16)),
        recorder.clone(),
        SyncServerConfig::default(),
    )
    .await;
    let mut client = Node::spawn(&[&server]).await.unwrap();
    let reply = exchange_raw(&mut client, server.peer, payload).await;
    assert!(reply.is_empty(), "garbage got an answer: {reply:?}");
    recorder.wait_for(client.peer, report).await;
    let cfg = FetchConfig::default();
    let ok = fetch(
        &mut client.control,
        server.peer,
        NETWORK,
        Component::Headers,
        0,
        5,
        1,
        &cfg,
    );
    assert_eq!(
        ok.await.unwrap().len(),
        5,
        "server still serves after garbage"
    );
}

#[tokio::test]
async fn truncated_frame_is_refused_as_malformed() {
    refused(&[10, 8, 1], PeerReport::Malformed).await;
}

#[tokio::test]
async fn truncated_length_prefix_is_refused_as_malformed() {
    refused(&[0x80, 0x80], PeerReport::Malformed).await;
}

#[tokio::test]
async fn oversized_length_prefix_is_refused_without_allocating() {
    refused(
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
        PeerReport::Oversized,
    )
    .await;
    refused(&[0xff; 12], PeerReport::Oversized).await;
}

#[tokio::test]
async fn wrong_protobuf_is_refused_as_malformed() {
    refused(&[4, 0xff, 0xff, 0xff, 0xff], PeerReport::Malformed).await;
}

#[tokio::test]
async fn empty_stream_is_a_protocol_violation() {
    refused(&[], PeerReport::ProtocolViolation).await;
}

#[tokio::test]
async fn second_request_on_a_stream_is_ignored_and_reported() {
    let recorder = Recorder::new();
    let (server, _) = serving(
        source(&chain(5, 16)),
        recorder.clone(),
        SyncServerConfig::default(),
    )
    .await;
    let mut client = Node::spawn(&[&server]).await.unwrap();
    let mut bytes = frame(&SyncRequest {
        start_block: 0,
        limit: 2,
        step: 1,
    });
    bytes.extend(frame(&SyncRequest {
        start_block: 2,
        limit: 2,
        step: 1,
    }));
    let reply = exchange_raw(&mut client, server.peer, &bytes).await;
    let messages = decode_all(&reply).await;
    assert_eq!(messages.len(), 3, "two items and one Fin: {messages:?}");
    assert!(
        matches!(&messages[2].message, Some(Message::Fin(f)) if f.reason == FinReason::Complete as i32)
    );
    recorder
        .wait_for(client.peer, PeerReport::ProtocolViolation)
        .await;
}

/// Decodes every frame of a complete response.
async fn decode_all(bytes: &[u8]) -> Vec<SyncResponse> {
    let mut io = Cursor::new(bytes);
    let mut out = Vec::new();
    let t = Duration::from_secs(1);
    while let Some(m) = wire::read_message::<SyncResponse, _>(&mut io, 1 << 20, t)
        .await
        .unwrap()
    {
        out.push(m);
    }
    out
}

#[tokio::test]
async fn silent_client_times_out_and_is_reported() {
    let recorder = Recorder::new();
    let cfg = SyncServerConfig {
        read_timeout: Duration::from_millis(200),
        ..SyncServerConfig::default()
    };
    let (server, _) = serving(source(&chain(5, 16)), recorder.clone(), cfg).await;
    let mut client = Node::spawn(&[&server]).await.unwrap();
    let protocol = protocol_id(NETWORK, Component::Headers);
    let mut stream = client
        .control
        .open_stream(server.peer, protocol)
        .await
        .unwrap();
    stream.flush().await.unwrap();
    let mut reply = Vec::new();
    let read = tokio::time::timeout(deadline(), stream.read_to_end(&mut reply)).await;
    assert!(read.is_ok(), "server did not give up on a silent client");
    assert!(reply.is_empty());
    recorder.wait_for(client.peer, PeerReport::Timeout).await;
}
