//! A test chain (verifier, sink, generator) and a recording peer reporter.

use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use libp2p::PeerId;
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use wharf::chain::{BlockHash, BlockNumber, Component};
use wharf::sync::pipeline::{BlockSink, BlockVerifier, VerifiedBlock};
use wharf::sync::{MemorySource, PeerReport, PeerReporter};

use crate::net::DEADLINE;

/// The "upstream signing key" of the test chain (a MAC stands in for a signature).
const KEY: &[u8] = b"wharf test upstream";
/// Header layout: number (8) | parent (32) | 4 body commitments (128) | mac (32).
const HEADER_LEN: usize = 200;

fn sha(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Generates `n` blocks whose bodies are `body_len` bytes each, chained from a zero parent.
pub fn chain(n: u64, body_len: usize) -> Vec<[Bytes; 6]> {
    let mut parent = [0u8; 32];
    (0..n)
        .map(|number| {
            let bodies: Vec<Bytes> = (1..5u8).map(|c| body(number, c, body_len)).collect();
            let mut header = number.to_be_bytes().to_vec();
            header.extend_from_slice(&parent);
            for b in &bodies {
                header.extend_from_slice(&sha(&[b]));
            }
            parent = sha(&[&header]);
            header.extend_from_slice(&sha(&[KEY, &header]));
            let [a, b, c, d]: [Bytes; 4] = bodies.try_into().unwrap();
            [Bytes::from(header), a, b, c, d, Bytes::new()]
        })
        .collect()
}

fn body(number: u64, component: u8, len: usize) -> Bytes {
    let seed = number.to_be_bytes();
    let v: Vec<u8> = (0..len)
        .map(|i| seed[i % 8] ^ component ^ (i as u8))
        .collect();
    Bytes::from(v)
}

/// A memory source holding `blocks`.
pub fn source(blocks: &[[Bytes; 6]]) -> Arc<MemorySource> {
    let source = MemorySource::default();
    for (n, parts) in blocks.iter().enumerate() {
        source.insert(n as u64, parts.clone());
    }
    Arc::new(source)
}

/// A decoded test header.
#[derive(Debug, Clone)]
pub struct TestHeader {
    parent: BlockHash,
    hash: BlockHash,
    commitments: [[u8; 32]; 4],
}

/// Verifies the test chain like the devnet adapter would: number, signature, commitments.
pub struct TestVerifier;

/// Why a test block is invalid.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(&'static str);

impl BlockVerifier for TestVerifier {
    type Header = TestHeader;
    type Error = Invalid;

    fn verify_header(&self, number: BlockNumber, bytes: &Bytes) -> Result<TestHeader, Invalid> {
        if bytes.len() != HEADER_LEN {
            return Err(Invalid("header length"));
        }
        let (signed, mac) = bytes.split_at(HEADER_LEN - 32);
        if sha(&[KEY, signed]) != mac || signed[..8] != number.to_be_bytes() {
            return Err(Invalid("bad signature or number"));
        }
        let field = |i: usize| -> [u8; 32] { signed[8 + 32 * i..40 + 32 * i].try_into().unwrap() };
        let commitments = [field(1), field(2), field(3), field(4)];
        Ok(TestHeader {
            parent: BlockHash(field(0)),
            hash: BlockHash(sha(&[signed])),
            commitments,
        })
    }

    fn block_hash(&self, header: &TestHeader) -> BlockHash {
        header.hash
    }

    fn parent_hash(&self, header: &TestHeader) -> BlockHash {
        header.parent
    }

    fn verify_body(
        &self,
        header: &TestHeader,
        component: Component,
        body: &Bytes,
    ) -> Result<(), Invalid> {
        if component == Component::Classes {
            return match body.is_empty() {
                true => Ok(()),
                false => Err(Invalid("these test blocks bring no classes")),
            };
        }
        let index = Component::ALL.iter().position(|c| *c == component).unwrap() - 1;
        match sha(&[body]) == header.commitments[index] {
            true => Ok(()),
            false => Err(Invalid("commitment mismatch")),
        }
    }
}

/// Why the test sink refused a commit.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SinkError(String);

/// Collects committed blocks; refuses gaps and broken links; can pause once at a height.
pub struct TestSink {
    blocks: Mutex<Vec<VerifiedBlock<TestHeader>>>,
    pause: Mutex<Option<Pause>>,
    len: watch::Sender<usize>,
}

impl Default for TestSink {
    fn default() -> Self {
        let len = watch::channel(0).0;
        TestSink {
            blocks: Mutex::default(),
            pause: Mutex::default(),
            len,
        }
    }
}

/// A one-shot pause: tell the test the height was reached, wait for it to resume us.
struct Pause {
    at: BlockNumber,
    reached: tokio::sync::oneshot::Sender<()>,
    resume: mpsc::Receiver<()>,
}

impl TestSink {
    /// Makes the first commit reaching `at` wait (after committing) until the returned sender fires.
    pub fn pause_at(
        &self,
        at: BlockNumber,
    ) -> (tokio::sync::oneshot::Receiver<()>, mpsc::Sender<()>) {
        let (reached, reached_rx) = tokio::sync::oneshot::channel();
        let (resume_tx, resume) = mpsc::channel();
        *self.pause.lock().unwrap() = Some(Pause {
            at,
            reached,
            resume,
        });
        (reached_rx, resume_tx)
    }

    /// Waits until `n` blocks are committed.
    pub async fn wait_len(&self, n: usize) {
        let mut rx = self.len.subscribe();
        let reached = tokio::time::timeout(DEADLINE, rx.wait_for(|len| *len >= n)).await;
        assert!(reached.is_ok(), "sink never reached {n} blocks");
    }

    /// The committed blocks' raw parts.
    pub fn parts(&self) -> Vec<[Bytes; 6]> {
        self.blocks
            .lock()
            .unwrap()
            .iter()
            .map(|b| b.parts.clone())
            .collect()
    }

    fn maybe_pause(&self, last: BlockNumber) {
        let mut pause = self.pause.lock().unwrap();
        if pause.as_ref().is_some_and(|p| last >= p.at) {
            let p = pause.take().unwrap();
            drop(pause);
            let _ = p.reached.send(());
            let _ = p.resume.recv_timeout(DEADLINE);
        }
    }
}

impl BlockSink<TestHeader> for TestSink {
    type Error = SinkError;

    fn head(&self) -> Result<Option<(BlockNumber, BlockHash)>, SinkError> {
        Ok(self
            .blocks
            .lock()
            .unwrap()
            .last()
            .map(|b| (b.number, b.hash)))
    }

    fn commit(&self, blocks: Vec<VerifiedBlock<TestHeader>>) -> Result<(), SinkError> {
        let last = blocks.last().map_or(0, |b| b.number);
        let mut stored = self.blocks.lock().unwrap();
        for block in blocks {
            let expected = stored.len() as u64;
            let parent = stored.last().map_or(BlockHash::ZERO, |b| b.hash);
            if block.number != expected || block.header.parent != parent {
                return Err(SinkError(format!(
                    "block {} does not extend {expected}",
                    block.number
                )));
            }
            stored.push(block);
        }
        self.len.send_replace(stored.len());
        drop(stored);
        self.maybe_pause(last);
        Ok(())
    }
}

/// Records every report; tests wait for the ones they expect.
pub struct Recorder {
    tx: watch::Sender<Vec<(PeerId, PeerReport)>>,
}

impl Recorder {
    pub fn new() -> Arc<Recorder> {
        Arc::new(Recorder {
            tx: watch::channel(Vec::new()).0,
        })
    }

    /// Waits until `peer` was reported for `what`.
    pub async fn wait_for(&self, peer: PeerId, what: PeerReport) {
        let mut rx = self.tx.subscribe();
        let seen = rx.wait_for(|r| r.contains(&(peer, what)));
        let found = tokio::time::timeout(DEADLINE, seen).await;
        assert!(
            found.is_ok(),
            "no {what:?} report for {peer}; got {:?}",
            self.all()
        );
    }

    /// Reports about `peer` so far.
    pub fn about(&self, peer: PeerId) -> Vec<PeerReport> {
        self.all()
            .into_iter()
            .filter(|(p, _)| *p == peer)
            .map(|(_, r)| r)
            .collect()
    }

    fn all(&self) -> Vec<(PeerId, PeerReport)> {
        self.tx.borrow().clone()
    }
}

impl PeerReporter for Recorder {
    fn report(&self, peer: PeerId, what: PeerReport) {
        self.tx.send_modify(|r| r.push((peer, what)));
    }
}

/// How long tests wait for a condition.
pub fn deadline() -> Duration {
    DEADLINE
}
