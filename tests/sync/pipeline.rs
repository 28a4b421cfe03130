//! The five-stage pipeline against honest, malicious and dying servers.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use prometheus_client::registry::Registry;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use wharf::sync::pipeline::SyncPipeline;
use wharf::sync::{PeerReport, SyncConfig, SyncMetrics, SyncServerConfig};

use crate::fixtures::{chain, deadline, source, Recorder, TestSink, TestVerifier};
use crate::net::Node;
use crate::{exposition, serving, NETWORK};

type Pipeline = SyncPipeline<TestVerifier, TestSink>;

/// A pipeline on `client` committing into `sink`, and its metrics registry.
fn pipeline(client: &Node, sink: Arc<TestSink>, recorder: Arc<Recorder>) -> (Pipeline, Registry) {
    let mut registry = Registry::default();
    let metrics = SyncMetrics::register(&mut registry);
    let verifier = Arc::new(TestVerifier);
    let p = SyncPipeline::new(
        client.control.clone(),
        NETWORK,
        verifier,
        sink,
        recorder,
        metrics,
        SyncConfig::default(),
    );
    (p, registry)
}

/// A copy of `blocks` where component `index` of every block has one byte flipped.
fn tampered(blocks: &[[Bytes; 6]], index: usize) -> Vec<[Bytes; 6]> {
    let flip = |b: &Bytes| {
        let mut m = BytesMut::from(&b[..]);
        let last = m.len() - 1;
        m[last] ^= 1;
        m.freeze()
    };
    blocks
        .iter()
        .map(|parts| {
            let mut parts = parts.clone();
            parts[index] = flip(&parts[index]);
            parts
        })
        .collect()
}

async fn honest_server(blocks: &[[Bytes; 6]]) -> Node {
    serving(source(blocks), Recorder::new(), SyncServerConfig::default())
        .await
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_correctly_despite_tampering_servers() {
    let blocks = chain(1_000, 512);
    let bad_txs = honest_server(&tampered(&blocks, 1)).await;
    let bad_headers = honest_server(&tampered(&blocks, 0)).await;
    let honest = honest_server(&blocks).await;
    let client = Node::spawn(&[&bad_txs, &bad_headers, &honest])
        .await
        .unwrap();
    let (recorder, sink) = (Recorder::new(), Arc::new(TestSink::default()));
    let (mut p, registry) = pipeline(&client, sink.clone(), recorder.clone());
    let (_tx, peers) = watch::channel(vec![bad_txs.peer, bad_headers.peer, honest.peer]);
    let head = tokio::time::timeout(
        deadline(),
        p.sync_to(999, &peers, &CancellationToken::new()),
    )
    .await;
    assert_eq!(head.expect("sync within the deadline").unwrap(), 999);
    assert!(
        sink.parts() == blocks,
        "synced chain differs from the source"
    );
    recorder
        .wait_for(bad_txs.peer, PeerReport::InvalidData)
        .await;
    recorder
        .wait_for(bad_headers.peer, PeerReport::InvalidData)
        .await;
    assert!(!recorder
        .about(honest.peer)
        .contains(&PeerReport::InvalidData));
    let text = exposition(&registry);
    assert!(
        text.contains("wharf_sync_blocks_committed_total 1000"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completes_from_the_others_when_a_server_dies_mid_sync() {
    let blocks = chain(3_000, 256);
    let (a, b) = (honest_server(&blocks).await, honest_server(&blocks).await);
    let client = Node::spawn(&[&a, &b]).await.unwrap();
    let sink = Arc::new(TestSink::default());
    let (reached, resume) = sink.pause_at(500);
    let (mut p, _registry) = pipeline(&client, sink.clone(), Recorder::new());
    let (_tx, peers) = watch::channel(vec![a.peer, b.peer]);
    let sync =
        tokio::spawn(async move { p.sync_to(2_999, &peers, &CancellationToken::new()).await });
    tokio::time::timeout(deadline(), reached)
        .await
        .expect("reached block 500")
        .unwrap();
    b.kill().await;
    resume.send(()).unwrap();
    let head = tokio::time::timeout(deadline(), sync)
        .await
        .expect("sync within the deadline");
    assert_eq!(head.unwrap().unwrap(), 2_999);
    assert!(
        sink.parts() == blocks,
        "synced chain differs from the source"
    );
}

#[tokio::test]
async fn resumes_from_the_sink_head_and_returns_at_once_when_synced() {
    let blocks = chain(250, 64);
    let server = honest_server(&blocks).await;
    let client = Node::spawn(&[&server]).await.unwrap();
    let sink = Arc::new(TestSink::default());
    let (mut p, _registry) = pipeline(&client, sink.clone(), Recorder::new());
    let (_tx, peers) = watch::channel(vec![server.peer]);
    let cancel = CancellationToken::new();
    assert_eq!(p.sync_to(120, &peers, &cancel).await.unwrap(), 120);
    assert_eq!(p.sync_to(249, &peers, &cancel).await.unwrap(), 249);
    assert_eq!(p.sync_to(100, &peers, &cancel).await.unwrap(), 249);
    assert!(sink.parts() == blocks);
}

#[tokio::test]
async fn run_follows_a_moving_target_until_cancelled() {
    let blocks = chain(300, 32);
    let server = honest_server(&blocks).await;
    let client = Node::spawn(&[&server]).await.unwrap();
    let sink = Arc::new(TestSink::default());
    let (p, _registry) = pipeline(&client, sink.clone(), Recorder::new());
    let (_peers_tx, peers) = watch::channel(vec![server.peer]);
    let (target_tx, target) = watch::channel(99);
    let cancel = CancellationToken::new();
    let task = tokio::spawn(p.run(target, peers, cancel.clone()));
    sink.wait_len(100).await;
    target_tx.send(299).unwrap();
    sink.wait_len(300).await;
    cancel.cancel();
    tokio::time::timeout(deadline(), task)
        .await
        .expect("stops on cancel")
        .unwrap()
        .unwrap();
    assert!(sink.parts() == blocks);
}

/// A relay that answers every request correctly, then appends one more item (after `Fin`
/// when `after_fin`, else before it).
async fn overflowing_server(blocks: Vec<[Bytes; 6]>, after_fin: bool) -> Node {
    use futures::StreamExt;
    use wharf::chain::Component;
    use wharf::sync::proto::{FinReason, SyncRequest};
    use wharf::sync::{fin, item, protocol_id, wire};
    let node = Node::spawn(&[]).await.unwrap();
    let blocks = Arc::new(blocks);
    for (index, component) in Component::ALL.into_iter().enumerate() {
        let mut incoming = node
            .control
            .clone()
            .accept(protocol_id(NETWORK, component))
            .unwrap();
        let blocks = blocks.clone();
        tokio::spawn(async move {
            while let Some((_, mut stream)) = incoming.next().await {
                let blocks = blocks.clone();
                tokio::spawn(async move {
                    let t = deadline();
                    let Ok(Some(req)) =
                        wire::read_message::<SyncRequest, _>(&mut stream, 64, t).await
                    else {
                        return;
                    };
                    let mut buf = Vec::new();
                    let end = (req.start_block + req.limit).min(blocks.len() as u64 - 1);
                    let extra = item(end, blocks[end as usize][index].clone());
                    for n in req.start_block..req.start_block + req.limit {
                        let msg = item(n, blocks[n as usize][index].clone());
                        let _ = wire::write_message(&mut stream, &msg, &mut buf, t).await;
                    }
                    if !after_fin {
                        let _ = wire::write_message(&mut stream, &extra, &mut buf, t).await;
                    }
                    let _ =
                        wire::write_message(&mut stream, &fin(FinReason::Complete, 0), &mut buf, t)
                            .await;
                    if after_fin {
                        let _ = wire::write_message(&mut stream, &extra, &mut buf, t).await;
                    }
                    let _ = wire::close(&mut stream, t).await;
                });
            }
        });
    }
    node
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_extra_items_and_data_after_fin_and_syncs_from_the_honest_relay() {
    let blocks = chain(600, 128);
    let extra = overflowing_server(blocks.clone(), false).await;
    let after_fin = overflowing_server(blocks.clone(), true).await;
    let honest = honest_server(&blocks).await;
    let client = Node::spawn(&[&extra, &after_fin, &honest]).await.unwrap();
    let (recorder, sink) = (Recorder::new(), Arc::new(TestSink::default()));
    let (mut p, _registry) = pipeline(&client, sink.clone(), recorder.clone());
    let (_tx, peers) = watch::channel(vec![extra.peer, after_fin.peer, honest.peer]);
    let synced = tokio::time::timeout(
        deadline(),
        p.sync_to(599, &peers, &CancellationToken::new()),
    )
    .await;
    assert_eq!(synced.expect("sync within the deadline").unwrap(), 599);
    assert!(
        sink.parts() == blocks,
        "synced chain differs from the source"
    );
    recorder
        .wait_for(extra.peer, PeerReport::TooManyItems)
        .await;
    recorder
        .wait_for(after_fin.peer, PeerReport::DataAfterFin)
        .await;
}
