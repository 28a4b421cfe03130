//! A malicious server: the client detects every breach of the response's shape.

use bytes::Bytes;
use futures::io::AsyncWriteExt;
use futures::StreamExt;
use wharf::chain::Component;
use wharf::sync::proto::{FinReason, SyncRequest};
use wharf::sync::{fetch, fin, item, protocol_id, wire, FetchConfig, FetchError, PeerReport};

use crate::fixtures::deadline;
use crate::net::Node;
use crate::NETWORK;

/// What the crafted server sends after reading the request.
enum Script {
    Items(Vec<u64>),
    Fin(FinReason, u64),
    Raw(Vec<u8>),
}

/// Serves one stream of `Component::Events` with `script`, whatever the request was.
async fn crafted(script: Vec<Script>) -> Node {
    let node = Node::spawn(&[]).await.unwrap();
    let mut incoming = node
        .control
        .clone()
        .accept(protocol_id(NETWORK, Component::Events))
        .unwrap();
    tokio::spawn(async move {
        let (_, mut stream) = incoming.next().await.unwrap();
        let t = deadline();
        let _req: Option<SyncRequest> = wire::read_message(&mut stream, 64, t).await.unwrap();
        let mut buf = Vec::new();
        for step in script {
            match step {
                Script::Items(ns) => {
                    for n in ns {
                        wire::write_message(
                            &mut stream,
                            &item(n, Bytes::from_static(b"x")),
                            &mut buf,
                            t,
                        )
                        .await
                        .unwrap();
                    }
                }
                Script::Fin(reason, missing) => {
                    wire::write_message(&mut stream, &fin(reason, missing), &mut buf, t)
                        .await
                        .unwrap()
                }
                Script::Raw(bytes) => stream.write_all(&bytes).await.unwrap(),
            }
        }
        let _ = stream.close().await;
        let _ = futures::io::AsyncReadExt::read_to_end(&mut stream, &mut Vec::new()).await;
    });
    node
}

/// Requests blocks 10..13 from a server playing `script`; returns the client's verdict.
async fn against(script: Vec<Script>) -> Result<Vec<(u64, Bytes)>, FetchError> {
    against_with(script, &FetchConfig::default()).await
}

/// The same with the client's `cfg`.
async fn against_with(
    script: Vec<Script>,
    cfg: &FetchConfig,
) -> Result<Vec<(u64, Bytes)>, FetchError> {
    let server = crafted(script).await;
    let mut client = Node::spawn(&[&server]).await.unwrap();
    fetch(
        &mut client.control,
        server.peer,
        NETWORK,
        Component::Events,
        10,
        3,
        1,
        cfg,
    )
    .await
}

#[tokio::test]
async fn refuses_a_response_over_its_byte_budget() {
    let cfg = FetchConfig {
        max_response_bytes: 2, // each scripted item carries one byte
        ..FetchConfig::default()
    };
    let script = vec![
        Script::Items(vec![10, 11, 12]),
        Script::Fin(FinReason::Complete, 0),
    ];
    let err = against_with(script, &cfg).await.unwrap_err();
    assert!(matches!(err, FetchError::TooLarge(2)), "{err:?}");
    assert_eq!(err.kind(), Some(PeerReport::Oversized));
    assert!(err.to_string().contains("max_response_bytes"), "{err}");
}

#[tokio::test]
async fn accepts_a_well_formed_response() {
    let got = against(vec![
        Script::Items(vec![10, 11, 12]),
        Script::Fin(FinReason::Complete, 0),
    ])
    .await;
    assert_eq!(got.unwrap().len(), 3);
}

#[tokio::test]
async fn detects_extra_items() {
    let err = against(vec![
        Script::Items(vec![10, 11, 12, 13]),
        Script::Fin(FinReason::Complete, 0),
    ])
    .await
    .unwrap_err();
    assert!(matches!(err, FetchError::TooManyItems(3)), "{err:?}");
    assert_eq!(err.kind(), Some(PeerReport::TooManyItems));
}

#[tokio::test]
async fn detects_data_after_fin() {
    let script = vec![
        Script::Items(vec![10, 11, 12]),
        Script::Fin(FinReason::Complete, 0),
        Script::Items(vec![13]),
    ];
    let err = against(script).await.unwrap_err();
    assert!(matches!(err, FetchError::DataAfterFin), "{err:?}");
    assert_eq!(err.kind(), Some(PeerReport::DataAfterFin));
}

#[tokio::test]
async fn detects_unrequested_block_numbers() {
    let err = against(vec![
        Script::Items(vec![10, 12, 11]),
        Script::Fin(FinReason::Complete, 0),
    ])
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            FetchError::UnexpectedBlock {
                expected: 11,
                got: 12
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), Some(PeerReport::ProtocolViolation));
}

#[tokio::test]
async fn detects_a_missing_or_inconsistent_fin() {
    let err = against(vec![Script::Items(vec![10, 11])])
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::MissingFin), "{err:?}");
    let err = against(vec![
        Script::Items(vec![10]),
        Script::Fin(FinReason::Complete, 0),
    ])
    .await
    .unwrap_err();
    assert!(matches!(err, FetchError::BadFin(_)), "{err:?}");
    let err = against(vec![
        Script::Items(vec![10]),
        Script::Fin(FinReason::NotFound, 12),
    ])
    .await
    .unwrap_err();
    assert!(matches!(err, FetchError::BadFin(_)), "{err:?}");
}

#[tokio::test]
async fn an_empty_response_is_not_held_against_the_peer() {
    let err = against(vec![]).await.unwrap_err();
    assert!(matches!(err, FetchError::NoResponse), "{err:?}");
    assert_eq!(err.kind(), None);
}

#[tokio::test]
async fn detects_oversized_and_garbage_frames() {
    let err = against(vec![Script::Raw(vec![0xff, 0xff, 0xff, 0xff, 0x7f])])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), Some(PeerReport::Oversized), "{err:?}");
    let err = against(vec![Script::Raw(vec![3, 0xff, 0xff, 0xff])])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), Some(PeerReport::Malformed), "{err:?}");
}

#[tokio::test]
async fn a_fetch_waits_for_room_in_the_shared_byte_budget() {
    let cfg = FetchConfig {
        max_bytes_in_flight: 1024,
        ..FetchConfig::default()
    };
    let mut taken = wharf::sync::budget::Held::default();
    cfg.budget.take(1024, 1024, &mut taken).await.unwrap(); // another fetch holds it all
    let script = vec![
        Script::Items(vec![10, 11, 12]),
        Script::Fin(FinReason::Complete, 0),
    ];
    let waiting = {
        let cfg = cfg.clone(); // clones share the budget
        tokio::spawn(async move { against_with(script, &cfg).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "no room: the response is not taken in"
    );
    drop(taken);
    let got = tokio::time::timeout(deadline(), waiting)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.unwrap().len(), 3);
}
