//! The peer book: routing-table peers and their addresses, saved in the data dir on shutdown and
//! fed back into Kademlia on start, so a restarted node finds the network without its static peers.

use std::path::{Path, PathBuf};

use libp2p::{Multiaddr, PeerId};
use serde::{Deserialize, Serialize};

/// File name in the data dir.
pub const FILE: &str = "peers.json";

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    peer_id: String,
    addrs: Vec<String>,
}

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// Writes the book atomically (temp file + rename).
pub fn save(data_dir: &Path, peers: &[(PeerId, Vec<Multiaddr>)]) -> std::io::Result<()> {
    let records: Vec<Record> = peers
        .iter()
        .map(|(p, a)| Record {
            peer_id: p.to_string(),
            addrs: a.iter().map(|a| a.to_string()).collect(),
        })
        .collect();
    let json = serde_json::to_vec_pretty(&records)?;
    let tmp = data_dir.join(format!("{FILE}.tmp"));
    std::fs::write(&tmp, json)?;
    std::fs::rename(tmp, path(data_dir))
}

/// Reads the book; a missing file is an empty book, unreadable entries are skipped with a warning.
pub fn load(data_dir: &Path) -> Vec<(PeerId, Vec<Multiaddr>)> {
    let bytes = match std::fs::read(path(data_dir)) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the peer book; starting without it");
            return Vec::new();
        }
    };
    let records: Vec<Record> = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "peer book is corrupt; starting without it");
            return Vec::new();
        }
    };
    records.into_iter().filter_map(parse).collect()
}

fn parse(r: Record) -> Option<(PeerId, Vec<Multiaddr>)> {
    let peer = r.peer_id.parse().ok()?;
    let addrs = r.addrs.iter().filter_map(|a| a.parse().ok()).collect();
    Some((peer, addrs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let peer = PeerId::random();
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/7777".parse().unwrap();
        save(dir.path(), &[(peer, vec![addr.clone()])]).unwrap();
        assert_eq!(load(dir.path()), vec![(peer, vec![addr])]);
    }

    #[test]
    fn missing_or_corrupt_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).is_empty());
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap();
        assert!(load(dir.path()).is_empty());
    }
}
