//! The last known bans and scores in `<data_dir>/control-cache.json`, so a relay restarted while
//! its Postgres is down still enforces every ban it knew, keeps its scores, and writes back what
//! the last shutdown could not.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use libp2p::PeerId;
use serde::{Deserialize, Serialize};

use super::ban::Ban;
use super::score::ScoreRecord;

/// File name of the cache inside the data directory.
pub const CACHE_FILE: &str = "control-cache.json";

/// What the cache holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Snapshot {
    /// Bans version of the last reload from the store.
    pub version: i64,
    /// Active bans (provisional automatic bans included, with negative ids).
    pub bans: Vec<Ban>,
    /// Every score of the score book.
    pub scores: Vec<CachedScore>,
}

/// A score as cached (the peer id as text: libp2p's serde feature is off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CachedScore {
    peer: String,
    score: f64,
    updated_at: DateTime<Utc>,
}

impl From<&ScoreRecord> for CachedScore {
    fn from(r: &ScoreRecord) -> Self {
        CachedScore {
            peer: r.peer.to_string(),
            score: r.score,
            updated_at: r.updated_at,
        }
    }
}

impl Snapshot {
    /// The cached scores that parse (a bad entry is skipped, never fatal).
    pub(crate) fn score_records(&self) -> Vec<ScoreRecord> {
        let parse = |c: &CachedScore| {
            let peer: PeerId = c.peer.parse().ok()?;
            Some(ScoreRecord {
                peer,
                score: c.score,
                updated_at: c.updated_at,
            })
        };
        self.scores.iter().filter_map(parse).collect()
    }
}

fn path(dir: &Path) -> PathBuf {
    dir.join(CACHE_FILE)
}

/// Reads the cache; `None` when there is none or it does not parse (logged).
pub(crate) fn load(dir: &Path) -> Option<Snapshot> {
    let bytes = match std::fs::read(path(dir)) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(file = %path(dir).display(), error = %e, "control cache unreadable");
            return None;
        }
    };
    serde_json::from_slice(&bytes)
        .inspect_err(|e| {
            tracing::warn!(file = %path(dir).display(), error = %e, "control cache does not parse; ignored");
        })
        .ok()
}

/// Writes the cache atomically (temporary file, fsync, rename, fsync of the directory so the
/// rename itself survives a power loss).
pub(crate) fn save(dir: &Path, snapshot: &Snapshot) -> std::io::Result<()> {
    let tmp = dir.join(format!("{CACHE_FILE}.tmp"));
    let mut file = std::fs::File::create(&tmp)?;
    serde_json::to_writer(&mut file, snapshot)?;
    file.flush()?;
    file.sync_all()?;
    std::fs::rename(&tmp, path(dir))?;
    std::fs::File::open(dir)?.sync_all()
}

/// Cached scores newer than the store's replace them; returns the merged set and the records
/// the store lacks (to be written back).
pub(crate) fn merge_scores(
    stored: Vec<ScoreRecord>,
    cached: Vec<ScoreRecord>,
) -> (Vec<ScoreRecord>, Vec<ScoreRecord>) {
    let mut merged: std::collections::HashMap<PeerId, ScoreRecord> =
        stored.into_iter().map(|r| (r.peer, r)).collect();
    let mut newer = Vec::new();
    for c in cached {
        if merged
            .get(&c.peer)
            .is_none_or(|s| s.updated_at < c.updated_at)
        {
            newer.push(c.clone());
            merged.insert(c.peer, c);
        }
    }
    (merged.into_values().collect(), newer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(peer: PeerId, score: f64, secs: i64) -> ScoreRecord {
        ScoreRecord {
            peer,
            score,
            updated_at: DateTime::from_timestamp(secs, 0).unwrap(),
        }
    }

    #[test]
    fn newer_cached_scores_win_and_are_reported_for_write_back() {
        let (a, b, c) = (PeerId::random(), PeerId::random(), PeerId::random());
        let stored = vec![record(a, -5.0, 100), record(b, -1.0, 300)];
        let cached = vec![
            record(a, -9.0, 200),
            record(b, -2.0, 200),
            record(c, -3.0, 50),
        ];
        let (mut merged, newer) = merge_scores(stored, cached);
        merged.sort_by(|x, y| x.score.total_cmp(&y.score));
        let scores: Vec<f64> = merged.iter().map(|r| r.score).collect();
        assert_eq!(scores, vec![-9.0, -3.0, -1.0]);
        let newer: Vec<PeerId> = newer.iter().map(|r| r.peer).collect();
        assert_eq!(newer, vec![a, c]);
    }

    #[test]
    fn snapshot_round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).is_none());
        let ban: Ban = serde_json::from_value(serde_json::json!({
            "id": -1, "target": "10.0.0.0/8", "reason": "r", "created_by": "auto",
            "created_at": "2026-01-01T00:00:00Z", "expires_at": null
        }))
        .unwrap();
        let peer = PeerId::random();
        let snapshot = Snapshot {
            version: 7,
            bans: vec![ban],
            scores: vec![CachedScore::from(&record(peer, -4.0, 10))],
        };
        save(dir.path(), &snapshot).unwrap();
        let loaded = load(dir.path()).unwrap();
        assert_eq!(loaded, snapshot);
        assert_eq!(loaded.score_records(), vec![record(peer, -4.0, 10)]);
        std::fs::write(dir.path().join(CACHE_FILE), b"{garbage").unwrap();
        assert!(load(dir.path()).is_none(), "a corrupt cache is ignored");
    }
}
