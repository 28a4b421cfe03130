//! Peer scores: misbehaviour lowers a peer's score, useful work raises it a little, time pulls
//! it back to zero, and crossing the threshold means an automatic ban.
//!
//! Everything here is synchronous and in memory so the swarm loop can call it per event;
//! persistence is the service's periodic flush of the dirty entries.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use libp2p::PeerId;
use serde::{Deserialize, Serialize};

use super::config::{ControlConfig, ScoreWeights};

/// Something a peer did that changes its score. Weights come from [`ScoreWeights`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScoreEvent {
    /// Severe: data that fails verification (wrong hash, bad proof).
    InvalidData,
    /// Severe: a signature that does not verify.
    BadSignature,
    /// Severe: data sent after the stream's `Fin`.
    DataAfterFin,
    /// Severe: more items than the response declared.
    TooManyItems,
    /// Medium: a message that does not decode.
    Malformed,
    /// Medium: a message over the size limit.
    Oversized,
    /// Medium: any other protocol violation.
    ProtocolViolation,
    /// Light: a request that timed out.
    Timeout,
    /// Lightest: a stream refused because the peer is at its stream or rate limit (an honest
    /// client retrying too eagerly); never takes a score below `weights.refused_floor`.
    Refused,
    /// Reward: a useful response.
    UsefulResponse,
    /// Gossipsub's own scoring: the value is added as is (negative for penalties).
    Gossip(f64),
}

impl ScoreEvent {
    /// Stable snake_case name, used in logs, history and the `reason` metric label.
    /// The event's name: the `reason` label of the penalty metrics (see [`EVENT_NAMES`]).
    pub fn name(&self) -> &'static str {
        match self {
            ScoreEvent::InvalidData => "invalid_data",
            ScoreEvent::BadSignature => "bad_signature",
            ScoreEvent::DataAfterFin => "data_after_fin",
            ScoreEvent::TooManyItems => "too_many_items",
            ScoreEvent::Malformed => "malformed",
            ScoreEvent::Oversized => "oversized",
            ScoreEvent::ProtocolViolation => "protocol_violation",
            ScoreEvent::Timeout => "timeout",
            ScoreEvent::Refused => "refused",
            ScoreEvent::UsefulResponse => "useful_response",
            ScoreEvent::Gossip(_) => "gossip",
        }
    }

    /// The score change this event causes.
    pub fn delta(&self, w: &ScoreWeights) -> f64 {
        use ScoreEvent::*;
        match self {
            InvalidData | BadSignature | DataAfterFin | TooManyItems => w.severe,
            Malformed | Oversized | ProtocolViolation => w.medium,
            Timeout => w.light,
            Refused => w.refused,
            UsefulResponse => w.useful,
            Gossip(v) => *v,
        }
    }
}

/// One score change, as kept in history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreEventRecord {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The event name (see [`ScoreEvent::name`]).
    pub event: String,
    /// The weight applied.
    pub delta: f64,
    /// The score right after.
    pub score: f64,
}

/// A persisted score: the value at `updated_at` (decay applies from then on).
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRecord {
    /// The peer.
    pub peer: PeerId,
    /// Its score at `updated_at`.
    pub score: f64,
    /// When the score was last changed.
    pub updated_at: DateTime<Utc>,
}

/// A peer's current score with its recent history (newest last).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeerScore {
    /// The peer.
    #[serde(serialize_with = "crate::control::ban::serialize_peer")]
    pub peer: PeerId,
    /// Score now, decay applied.
    pub score: f64,
    /// Recent changes, oldest first.
    pub history: Vec<ScoreEventRecord>,
}

/// The outcome of one penalty.
#[derive(Debug, Clone)]
pub(crate) struct Applied {
    pub delta: f64,
    pub score: f64,
    /// `Some(reason)` when the peer just crossed the threshold and must be banned.
    pub auto_ban: Option<String>,
}

struct Entry {
    score: f64,
    at: DateTime<Utc>,
    history: VecDeque<ScoreEventRecord>,
}

/// Cap on events waiting for a flush, so a long outage cannot grow memory without bound.
const MAX_PENDING_EVENTS: usize = 10_000;

#[derive(Default)]
struct Book {
    peers: HashMap<PeerId, Entry>,
    dirty: HashSet<PeerId>,
    pending: VecDeque<(PeerId, ScoreEventRecord)>,
}

/// All scores, behind a mutex held only for in-memory arithmetic.
pub(crate) struct ScoreBook {
    cfg: ControlConfig,
    trusted: HashSet<PeerId>,
    book: Mutex<Book>,
}

fn decayed(score: f64, from: DateTime<Utc>, to: DateTime<Utc>, half_life_s: f64) -> f64 {
    let dt = (to - from).num_milliseconds().max(0) as f64 / 1000.0;
    score * 0.5f64.powf(dt / half_life_s.max(1e-3))
}

impl ScoreBook {
    pub(crate) fn new(cfg: &ControlConfig, loaded: Vec<ScoreRecord>) -> ScoreBook {
        let mut book = Book::default();
        for r in loaded {
            let entry = Entry {
                score: r.score,
                at: r.updated_at,
                history: VecDeque::new(),
            };
            book.peers.insert(r.peer, entry);
        }
        ScoreBook {
            cfg: cfg.clone(),
            trusted: cfg.trusted_peers.iter().copied().collect(),
            book: Mutex::new(book),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn half_life(&self) -> f64 {
        self.cfg.decay_half_life.as_secs_f64()
    }

    /// Applies `event` to `peer` at `now`; crossing the threshold resets the score to zero
    /// (the ban takes over) and returns the ban reason, unless the peer is trusted.
    pub(crate) fn apply(&self, peer: PeerId, event: ScoreEvent, now: DateTime<Utc>) -> Applied {
        let delta = event.delta(&self.cfg.weights);
        let mut book = self.lock();
        let entry = book.peers.entry(peer).or_insert_with(|| Entry {
            score: 0.0,
            at: now,
            history: VecDeque::new(),
        });
        let before = decayed(entry.score, entry.at, now, self.half_life());
        let mut score = (before + delta).min(self.cfg.max_score);
        if event == ScoreEvent::Refused {
            score = score.max(self.cfg.weights.refused_floor.min(before));
        }
        let record = ScoreEventRecord {
            at: now,
            event: event.name().into(),
            delta,
            score,
        };
        entry.history.push_back(record.clone());
        if entry.history.len() > self.cfg.history_len {
            entry.history.pop_front();
        }
        let crossed = score <= self.cfg.ban_threshold && !self.trusted.contains(&peer);
        let auto_ban = crossed.then(|| self.ban_reason(score, &entry.history));
        entry.score = if crossed { 0.0 } else { score };
        entry.at = now;
        book.dirty.insert(peer);
        if book.pending.len() >= MAX_PENDING_EVENTS {
            book.pending.pop_front();
        }
        book.pending.push_back((peer, record));
        Applied {
            delta,
            score,
            auto_ban,
        }
    }

    fn ban_reason(&self, score: f64, history: &VecDeque<ScoreEventRecord>) -> String {
        let events: Vec<String> = history
            .iter()
            .map(|r| format!("{} {:+} -> {:.1}", r.event, r.delta, r.score))
            .collect();
        format!(
            "score {score:.1} crossed {:.1}: {}",
            self.cfg.ban_threshold,
            events.join(", ")
        )
    }

    /// The score of one peer now, with history.
    pub(crate) fn get(&self, peer: &PeerId, now: DateTime<Utc>) -> Option<PeerScore> {
        let book = self.lock();
        book.peers.get(peer).map(|e| self.view(*peer, e, now))
    }

    fn view(&self, peer: PeerId, e: &Entry, now: DateTime<Utc>) -> PeerScore {
        PeerScore {
            peer,
            score: decayed(e.score, e.at, now, self.half_life()),
            history: e.history.iter().cloned().collect(),
        }
    }

    /// Every known score now.
    pub(crate) fn all(&self, now: DateTime<Utc>) -> Vec<PeerScore> {
        let book = self.lock();
        book.peers
            .iter()
            .map(|(p, e)| self.view(*p, e, now))
            .collect()
    }

    /// Every score as last changed (undecayed), for the local cache.
    pub(crate) fn records(&self) -> Vec<ScoreRecord> {
        let book = self.lock();
        book.peers
            .iter()
            .map(|(p, e)| ScoreRecord {
                peer: *p,
                score: e.score,
                updated_at: e.at,
            })
            .collect()
    }

    /// Forgets a peer's score and history.
    pub(crate) fn reset(&self, peer: &PeerId) {
        let mut book = self.lock();
        book.peers.remove(peer);
        book.dirty.remove(peer);
        book.pending.retain(|(p, _)| p != peer);
    }

    /// Removes and returns the peers whose score is back within 1 point of zero and unchanged
    /// since `before` (nothing left to remember; keeps the table bounded).
    pub(crate) fn take_neutral(&self, now: DateTime<Utc>, before: DateTime<Utc>) -> Vec<PeerId> {
        let half_life = self.half_life();
        let mut book = self.lock();
        let neutral: Vec<PeerId> = book
            .peers
            .iter()
            .filter(|(_, e)| e.at < before && decayed(e.score, e.at, now, half_life).abs() < 1.0)
            .map(|(p, _)| *p)
            .collect();
        for peer in &neutral {
            book.peers.remove(peer);
            book.dirty.remove(peer);
        }
        neutral
    }

    /// Takes what changed since the last flush.
    pub(crate) fn take_dirty(&self) -> (Vec<ScoreRecord>, Vec<(PeerId, ScoreEventRecord)>) {
        let mut book = self.lock();
        let dirty = std::mem::take(&mut book.dirty);
        let records = dirty
            .iter()
            .filter_map(|p| book.peers.get(p).map(|e| (p, e)))
            .map(|(p, e)| ScoreRecord {
                peer: *p,
                score: e.score,
                updated_at: e.at,
            })
            .collect();
        (records, book.pending.drain(..).collect())
    }

    /// Puts back what a failed flush took, so the next flush retries it.
    pub(crate) fn restore(&self, records: &[ScoreRecord], events: Vec<(PeerId, ScoreEventRecord)>) {
        let mut book = self.lock();
        book.dirty.extend(records.iter().map(|r| r.peer));
        for ev in events.into_iter().rev() {
            if book.pending.len() < MAX_PENDING_EVENTS {
                book.pending.push_front(ev);
            }
        }
    }
}

/// Logs one penalty with peer, address and reason.
pub(crate) fn log_penalty(peer: &PeerId, addr: Option<IpAddr>, event: ScoreEvent, a: &Applied) {
    let addr = addr.map(|a| a.to_string()).unwrap_or_else(|| "-".into());
    if a.delta < 0.0 {
        tracing::info!(%peer, %addr, reason = event.name(), delta = a.delta, score = a.score, "peer penalised");
    } else {
        tracing::debug!(%peer, %addr, reason = event.name(), delta = a.delta, score = a.score, "peer rewarded");
    }
}

/// Every [`ScoreEvent::name`], for metrics that must show each reason from the start.
pub const EVENT_NAMES: [&str; 11] = [
    "invalid_data",
    "bad_signature",
    "data_after_fin",
    "too_many_items",
    "malformed",
    "oversized",
    "protocol_violation",
    "timeout",
    "refused",
    "useful_response",
    "gossip",
];
