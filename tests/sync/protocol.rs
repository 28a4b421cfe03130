//! Honest exchanges: every component served and fetched, early Fin, refused limits.

use bytes::Bytes;
use wharf::chain::Component;
use wharf::sync::proto::FinReason;
use wharf::sync::{fetch, FetchConfig, FetchError, PeerReport, SyncServerConfig};

use crate::fixtures::{chain, source, Recorder};
use crate::net::Node;
use crate::{exposition, serving, NETWORK};

#[tokio::test]
async fn serves_every_component_of_a_range() {
    let blocks = chain(60, 300);
    let (server, _) = serving(
        source(&blocks),
        Recorder::new(),
        SyncServerConfig::default(),
    )
    .await;
    let mut client = Node::spawn(&[&server]).await.unwrap();
    let cfg = FetchConfig::default();
    for (i, component) in Component::ALL.into_iter().enumerate() {
        let got = fetch(
            &mut client.control,
            server.peer,
            NETWORK,
            component,
            5,
            50,
            1,
            &cfg,
        )
        .await
        .unwrap();
        let want: Vec<(u64, Bytes)> = (5..55)
            .map(|n| (n, blocks[n as usize][i].clone()))
            .collect();
        assert_eq!(got, want, "{component}");
    }
    let stepped = fetch(
        &mut client.control,
        server.peer,
        NETWORK,
        Component::Events,
        1,
        10,
        3,
        &cfg,
    )
    .await
    .unwrap();
    let numbers: Vec<u64> = stepped.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, (0..10).map(|i| 1 + 3 * i).collect::<Vec<_>>());
}

#[tokio::test]
async fn ends_early_with_fin_when_blocks_are_missing() {
    let blocks = chain(30, 64);
    let (server, registry) = serving(
        source(&blocks),
        Recorder::new(),
        SyncServerConfig::default(),
    )
    .await;
    let mut client = Node::spawn(&[&server]).await.unwrap();
    let cfg = FetchConfig::default();
    let got = fetch(
        &mut client.control,
        server.peer,
        NETWORK,
        Component::Receipts,
        20,
        40,
        1,
        &cfg,
    )
    .await
    .unwrap();
    assert_eq!(
        got.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        (20..30).collect::<Vec<_>>()
    );
    let none = fetch(
        &mut client.control,
        server.peer,
        NETWORK,
        Component::Headers,
        500,
        10,
        1,
        &cfg,
    )
    .await
    .unwrap();
    assert!(none.is_empty());
    let text = exposition(&registry);
    assert!(
        text.contains(
            r#"wharf_sync_requests_total{side="server",protocol="receipts",outcome="not_found"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"wharf_blocks_served_total{component="receipts"} 10"#),
        "{text}"
    );
}

#[tokio::test]
async fn refuses_limit_zero_step_zero_and_huge_limits_and_reports_them() {
    let recorder = Recorder::new();
    let (server, registry) = serving(
        source(&chain(10, 8)),
        recorder.clone(),
        SyncServerConfig::default(),
    )
    .await;
    let mut client = Node::spawn(&[&server]).await.unwrap();
    let cfg = FetchConfig::default();
    let cases = [
        (0, 1, FinReason::BadRequest),
        (1, 0, FinReason::BadRequest),
        (1_000_000, 1, FinReason::LimitExceeded),
    ];
    for (limit, step, reason) in cases {
        let err = fetch(
            &mut client.control,
            server.peer,
            NETWORK,
            Component::Headers,
            0,
            limit,
            step,
            &cfg,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, FetchError::Refused(r) if r == reason),
            "limit {limit} step {step}: {err:?}"
        );
    }
    recorder
        .wait_for(client.peer, PeerReport::ProtocolViolation)
        .await;
    let text = exposition(&registry);
    assert!(
        text.contains(
            r#"wharf_sync_requests_total{side="server",protocol="headers",outcome="refused"} 3"#
        ),
        "{text}"
    );
}

#[tokio::test]
async fn refuses_streams_beyond_the_rate_limit() {
    let recorder = Recorder::new();
    let cfg = SyncServerConfig {
        request_burst: 2,
        requests_per_second: 0.001,
        ..SyncServerConfig::default()
    };
    let (server, _) = serving(source(&chain(10, 8)), recorder.clone(), cfg).await;
    let mut client = Node::spawn(&[&server]).await.unwrap();
    let fc = FetchConfig::default();
    for _ in 0..2 {
        fetch(
            &mut client.control,
            server.peer,
            NETWORK,
            Component::Headers,
            0,
            5,
            1,
            &fc,
        )
        .await
        .unwrap();
    }
    let err = fetch(
        &mut client.control,
        server.peer,
        NETWORK,
        Component::Headers,
        0,
        5,
        1,
        &fc,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, FetchError::Refused(FinReason::RateLimited)),
        "{err:?}"
    );
    recorder
        .wait_for(client.peer, PeerReport::RateLimited)
        .await;
}

#[tokio::test]
async fn refuses_streams_beyond_the_per_peer_concurrency_limit() {
    let recorder = Recorder::new();
    let cfg = SyncServerConfig {
        max_streams_per_peer: 1,
        ..SyncServerConfig::default()
    };
    let (server, _) = serving(source(&chain(10, 8)), recorder.clone(), cfg).await;
    let mut client = Node::spawn(&[&server]).await.unwrap();
    let protocol = wharf::sync::protocol_id(NETWORK, Component::Headers);
    let mut idle = client
        .control
        .open_stream(server.peer, protocol)
        .await
        .unwrap();
    futures::AsyncWriteExt::flush(&mut idle).await.unwrap();
    let fc = FetchConfig::default();
    let refused = async {
        loop {
            match fetch(
                &mut client.control,
                server.peer,
                NETWORK,
                Component::Headers,
                0,
                5,
                1,
                &fc,
            )
            .await
            {
                Err(FetchError::Refused(FinReason::Busy)) => return,
                Ok(_) => continue, // the idle stream has not reached the server yet
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
    };
    tokio::time::timeout(crate::fixtures::deadline(), refused)
        .await
        .expect("refused as busy");
    recorder
        .wait_for(client.peer, PeerReport::RateLimited)
        .await;
    drop(idle);
}

#[tokio::test]
async fn the_head_protocol_answers_the_newest_header_or_nothing() {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use tokio_util::sync::CancellationToken;
    use tokio_util::task::TaskTracker;
    use wharf::sync::{ask_head, serve_head, HeadError, HeadSource};

    let mut server = Node::spawn(&[]).await.unwrap();
    let head: Arc<Mutex<Option<Bytes>>> = Arc::default();
    let shared = head.clone();
    let source: HeadSource = Arc::new(move || shared.lock().unwrap().clone());
    let t = Duration::from_secs(5);
    let tracker = TaskTracker::new();
    let cfg = SyncServerConfig {
        request_burst: 3,
        requests_per_second: 0.001,
        ..SyncServerConfig::default()
    };
    let limiter =
        wharf::sync::limits::Limiter::new(Arc::new(cfg), Arc::new(wharf::sync::NoAddresses));
    serve_head(
        &mut server.control,
        NETWORK,
        source,
        limiter,
        t,
        &tracker,
        CancellationToken::new(),
    )
    .unwrap();
    let mut client = Node::spawn(&[&server]).await.unwrap();

    let none = ask_head(&mut client.control, server.peer, NETWORK, t).await;
    assert_eq!(none.unwrap(), None, "no block yet");
    *head.lock().unwrap() = Some(Bytes::from_static(b"signed header bytes"));
    let some = ask_head(&mut client.control, server.peer, NETWORK, t).await;
    assert_eq!(
        some.unwrap(),
        Some(Bytes::from_static(b"signed header bytes"))
    );
    *head.lock().unwrap() = Some(Bytes::from(vec![7u8; wharf::sync::head::MAX_HEAD_SIZE + 1]));
    let big = ask_head(&mut client.control, server.peer, NETWORK, t).await;
    assert!(
        matches!(big, Err(HeadError::Wire(_))),
        "oversized head refused: {big:?}"
    );
    let other = ask_head(&mut client.control, server.peer, "othernet", t).await;
    assert!(matches!(other, Err(HeadError::Open(_))), "{other:?}");
    *head.lock().unwrap() = Some(Bytes::from_static(b"signed header bytes"));
    let limited = ask_head(&mut client.control, server.peer, NETWORK, t).await;
    assert!(
        limited.is_err(),
        "a fourth head request beyond the burst of 3 is refused: {limited:?}"
    );
}

/// The classes protocol sends a class once per stream, however many blocks list it; each block's
/// bundle comes back whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_class_shared_by_two_blocks_crosses_the_stream_once() {
    use wharf::chain::classes::encode_bundle;
    use wharf::chain::ClassEntry;
    let class = ClassEntry {
        hash: [7; 32],
        definition: Bytes::from(vec![b'x'; 1000]),
    };
    let bundle = encode_bundle(&[class]);
    let mut blocks = chain(2, 16);
    for parts in &mut blocks {
        parts[5] = bundle.clone();
    }
    let (server, registry) = serving(
        source(&blocks),
        Recorder::new(),
        SyncServerConfig::default(),
    )
    .await;
    let mut client = Node::spawn(&[&server]).await.unwrap();
    let cfg = FetchConfig::default();
    let got = fetch(
        &mut client.control,
        server.peer,
        NETWORK,
        Component::Classes,
        0,
        2,
        1,
        &cfg,
    )
    .await
    .unwrap();
    assert_eq!(got, vec![(0, bundle.clone()), (1, bundle)]);
    let text = exposition(&registry);
    let once = r#"wharf_bytes_served_total{component="classes"} 1064"#;
    assert!(
        text.contains(once),
        "the definition once, two 32-byte lists: {text}"
    );
}
