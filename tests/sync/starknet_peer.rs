//! A relay syncing real Sepolia blocks with their classes over Starknet's own sync protocols only
//! (`sync.protocol = "starknet"`; the peers serve no Wharf protocol at all), from an honest
//! Starknet peer and one that tampers with a header, a transaction, an event and a class: the
//! tampering peer is blamed and the chain completes from the honest one. The honest peer, as
//! Pathfinder, does not send the commitment the old blocks' legacy signatures signed.
//!
//! The peers are minimal in-test servers answering from the test encoder's messages
//! (`starknet_encode.rs`), framed as the specs say: the request unprefixed, then each response
//! message varint-prefixed, `Fin` last.

use std::sync::Arc;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use futures::StreamExt;
use libp2p::StreamProtocol;
use prometheus_client::registry::Registry;
use prost::Message;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use wharf::chain::starknet::StarknetAdapter;
use wharf::chain::{Block, ChainAdapter};
use wharf::store::{BlockStore, StoreMetrics};
use wharf::sync::pipeline::SyncPipeline;
use wharf::sync::starknet::proto::starknet::common::Fin;
use wharf::sync::starknet::proto::starknet::sync as ps;
use wharf::sync::{ChainVerifier, PeerReport, SyncConfig, SyncMetrics, SyncProtocol};

use crate::fixtures::{deadline, Recorder};
use crate::net::Node;
use crate::starknet_wire::{adapter_for, felt, sepolia_blocks, wire_of, Wire};

/// The last block synced (block 7 declares classes no fixture holds).
const TOP: u64 = 6;

/// The response messages of one block on `protocol`, `Fin` excluded.
fn messages(protocol: &str, w: &Wire) -> Vec<Vec<u8>> {
    use ps::class::classes_response::ClassMessage as C;
    use ps::event::events_response::EventMessage as E;
    use ps::header::block_headers_response::HeaderMessage as H;
    use ps::transaction::transactions_response::TransactionMessage as T;
    let enc = |m: &dyn Fn() -> Vec<u8>| m();
    match protocol {
        "headers" => vec![enc(&|| {
            let header_message = Some(H::Header(w.header.clone()));
            ps::header::BlockHeadersResponse { header_message }.encode_length_delimited_to_vec()
        })],
        "transactions" => w
            .txs
            .iter()
            .map(|t| {
                let transaction_message = Some(T::TransactionWithReceipt(t.clone()));
                ps::transaction::TransactionsResponse {
                    transaction_message,
                }
                .encode_length_delimited_to_vec()
            })
            .collect(),
        "events" => w
            .events
            .iter()
            .map(|e| {
                let event_message = Some(E::Event(e.clone()));
                ps::event::EventsResponse { event_message }.encode_length_delimited_to_vec()
            })
            .collect(),
        "state_diffs" => w
            .diff
            .iter()
            .map(|m| {
                let state_diff_message = Some(m.clone());
                ps::state::StateDiffsResponse { state_diff_message }
                    .encode_length_delimited_to_vec()
            })
            .collect(),
        _ => w
            .classes
            .iter()
            .map(|c| {
                let class_message = Some(C::Class(c.clone()));
                ps::class::ClassesResponse { class_message }.encode_length_delimited_to_vec()
            })
            .collect(),
    }
}

fn fin(protocol: &str) -> Vec<u8> {
    use ps::state::state_diffs_response::StateDiffMessage as S;
    match protocol {
        "headers" => ps::header::BlockHeadersResponse {
            header_message: Some(ps::header::block_headers_response::HeaderMessage::Fin(
                Fin {},
            )),
        }
        .encode_length_delimited_to_vec(),
        "transactions" => ps::transaction::TransactionsResponse {
            transaction_message: Some(
                ps::transaction::transactions_response::TransactionMessage::Fin(Fin {}),
            ),
        }
        .encode_length_delimited_to_vec(),
        "events" => ps::event::EventsResponse {
            event_message: Some(ps::event::events_response::EventMessage::Fin(Fin {})),
        }
        .encode_length_delimited_to_vec(),
        "state_diffs" => ps::state::StateDiffsResponse {
            state_diff_message: Some(S::Fin(Fin {})),
        }
        .encode_length_delimited_to_vec(),
        _ => ps::class::ClassesResponse {
            class_message: Some(ps::class::classes_response::ClassMessage::Fin(Fin {})),
        }
        .encode_length_delimited_to_vec(),
    }
}

/// Answers one stream: reads the whole (unprefixed) request, serves the blocks it names that
/// exist, forward with its step, then `Fin`.
async fn serve_one(protocol: &'static str, mut stream: libp2p::Stream, wires: Arc<Vec<Wire>>) {
    let mut request = Vec::new();
    if (&mut stream)
        .take(1024)
        .read_to_end(&mut request)
        .await
        .is_err()
    {
        return;
    }
    // Every request is `{ iteration = 1 }`: the headers request reads them all.
    let Ok(req) = ps::header::BlockHeadersRequest::decode(request.as_slice()) else {
        return;
    };
    let it = req.iteration.unwrap_or_default();
    let Some(ps::common::iteration::Start::BlockNumber(start)) = it.start else {
        return;
    };
    for i in 0..it.limit {
        let Some(w) = wires.get((start + i * it.step.max(1)) as usize) else {
            break;
        };
        for m in messages(protocol, w) {
            if stream.write_all(&m).await.is_err() {
                return;
            }
        }
    }
    let _ = stream.write_all(&fin(protocol)).await;
    let _ = stream.close().await;
}

/// A node serving `blocks` on the five Starknet sync protocols, each block's messages changed
/// by `tamper` first.
async fn starknet_peer(
    adapter: &StarknetAdapter,
    blocks: &[Block],
    tamper: fn(u64, &mut Wire),
) -> Node {
    let wires: Vec<Wire> = blocks
        .iter()
        .map(|b| {
            let mut w = wire_of(adapter, b);
            tamper(b.header.number, &mut w);
            w
        })
        .collect();
    let wires = Arc::new(wires);
    let node = Node::spawn(&[]).await.unwrap();
    let mut control = node.control.clone();
    for protocol in [
        "headers",
        "transactions",
        "events",
        "state_diffs",
        "classes",
    ] {
        let id =
            StreamProtocol::try_from_owned(format!("/starknet/{protocol}/0.1.0-rc.0")).unwrap();
        let mut incoming = control.accept(id).unwrap();
        let wires = wires.clone();
        tokio::spawn(async move {
            while let Some((_, stream)) = incoming.next().await {
                tokio::spawn(serve_one(protocol, stream, wires.clone()));
            }
        });
    }
    node
}

/// A changed state root (block 2: its signature fails), calldata (block 4), event (block 5)
/// and class ABI (block 1).
fn tampering(n: u64, w: &mut Wire) {
    use ps::transaction::transaction_in_block::Txn;
    use wharf::sync::starknet::proto::starknet::class::class::Class as Kind;
    match n {
        1 => {
            if let Some(Kind::Cairo0(c)) = w.classes[0].class.as_mut() {
                c.abi = c.abi.replacen("\"name\"", "\"nAme\"", 1);
            }
        }
        2 => {
            w.header.state_root =
                felt("0x1234").map(|f| wharf::sync::starknet::proto::starknet::common::Hash {
                    elements: f.elements,
                })
        }
        4 => {
            let tx = w.txs[0].transaction.as_mut().unwrap();
            if let Some(Txn::InvokeV1(i)) = tx.txn.as_mut() {
                i.calldata[1] = felt("0x1234").unwrap();
            }
        }
        5 => w.events[0].data[0] = felt("0x99").unwrap(),
        _ => {}
    }
}

/// A header whose `state_diff_commitment.root` is not the commitment a legacy signature signed
/// (Pathfinder sends the 0.13.2 formula there for old blocks; here zero): the client rebuilds
/// the signed one from the peer's state diff (Sepolia 0-6 are signed in the legacy form).
fn without_signed_commitment(_: u64, w: &mut Wire) {
    let diff = w.header.state_diff_commitment.as_mut().unwrap();
    diff.root = Some(wharf::sync::starknet::proto::starknet::common::Hash { elements: vec![0] });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_syncs_sepolia_over_starknet_protocols_and_blames_a_tampering_peer() {
    let adapter = Arc::new(adapter_for("sepolia", "SN_SEPOLIA"));
    let blocks = sepolia_blocks(&adapter, TOP);
    let honest = starknet_peer(&adapter, &blocks, without_signed_commitment).await;
    let bad = starknet_peer(&adapter, &blocks, tampering).await;
    sync_and_check(&adapter, &blocks, &honest, &bad).await;
}

/// The same from a Wharf relay's own Starknet server (`StarknetServer` over a block store
/// holding the feeder's blocks), next to the tampering peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_syncs_sepolia_from_a_wharf_relays_starknet_server() {
    use tokio_util::task::TaskTracker;
    use wharf::sync::limits::Limiter;
    use wharf::sync::starknet::StarknetServer;
    use wharf::sync::{NoAddresses, SyncServerConfig};
    let adapter = Arc::new(adapter_for("sepolia", "SN_SEPOLIA"));
    let dyn_adapter: Arc<dyn ChainAdapter> = adapter.clone();
    let blocks = sepolia_blocks(&adapter, TOP);
    let dir = tempfile::tempdir().unwrap();
    let metrics = StoreMetrics::register(&mut Registry::default());
    let store = BlockStore::open(dir.path(), dyn_adapter, metrics).unwrap();
    store.commit_batch(&blocks).unwrap();
    let honest = Node::spawn(&[]).await.unwrap();
    let cfg = SyncServerConfig::default();
    let limiter = Limiter::new(Arc::new(cfg.clone()), Arc::new(NoAddresses));
    let metrics = SyncMetrics::register(&mut Registry::default());
    let server = StarknetServer::new(Arc::new(store), Recorder::new(), metrics, cfg, limiter);
    let mut control = honest.control.clone();
    server
        .spawn(&mut control, &TaskTracker::new(), CancellationToken::new())
        .unwrap();
    let bad = starknet_peer(&adapter, &blocks, tampering).await;
    sync_and_check(&adapter, &blocks, &honest, &bad).await;
}

/// Syncs blocks 0..=TOP from `honest` and `bad` (asked first) over Starknet's protocols only;
/// checks the stored chain, its classes, that `bad` was blamed and `honest` never.
async fn sync_and_check(
    adapter: &Arc<StarknetAdapter>,
    blocks: &[Block],
    honest: &Node,
    bad: &Node,
) {
    let dyn_adapter: Arc<dyn ChainAdapter> = adapter.clone();
    let client = Node::spawn(&[honest, bad]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let metrics = StoreMetrics::register(&mut Registry::default());
    let target = Arc::new(BlockStore::open(dir.path(), dyn_adapter.clone(), metrics).unwrap());
    let recorder = Recorder::new();
    let cfg = SyncConfig {
        protocol: SyncProtocol::Starknet,
        ..SyncConfig::default()
    };
    let mut pipeline = SyncPipeline::new(
        client.control.clone(),
        crate::NETWORK,
        Arc::new(ChainVerifier(dyn_adapter)),
        target.clone(),
        recorder.clone(),
        SyncMetrics::register(&mut Registry::default()),
        cfg,
    );
    let (_tx, peers) = watch::channel(vec![bad.peer, honest.peer]);
    let cancel = CancellationToken::new();
    let sync = pipeline.sync_to(TOP, &peers, &cancel);
    let synced = tokio::time::timeout(deadline(), sync).await;
    assert_eq!(synced.expect("sync within the deadline").unwrap(), TOP);
    let mut parent: Option<Block> = None;
    for (n, block) in (0..=TOP).zip(blocks) {
        let got = target.block(n).unwrap().expect("stored");
        assert_eq!(got.header, block.header, "block {n}: the signed header");
        adapter
            .verify_block(&got, parent.as_ref().map(|p| &p.header))
            .unwrap();
        for class in wharf::chain::classes::decode_bundle(&block.classes).unwrap() {
            let stored = target.class(&class.hash).unwrap().expect("class stored");
            adapter.verify_class(&class.hash, &stored).unwrap();
        }
        parent = Some(got);
    }
    recorder.wait_for(bad.peer, PeerReport::InvalidData).await;
    let honest_reports = recorder.about(honest.peer);
    assert!(
        honest_reports.iter().all(|r| *r == PeerReport::Useful),
        "the honest peer is never blamed: {honest_reports:?}"
    );
}
