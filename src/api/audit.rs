//! The audit log: every mutating API call — who (token subject), what (method, path, status,
//! and what it did: the ban's id and target, the peer, how many bans were cleared), when, from
//! which address — appended to `<data_dir>/audit.jsonl` (fsynced) before the
//! response leaves, and listed by `GET /api/v1/audit`.

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::auth::Principal;
use super::ApiState;

/// File name in the data dir.
pub const FILE: &str = "audit.jsonl";
/// Entries kept in memory for listing (the file keeps everything).
const KEEP: usize = 100_000;

/// One mutating call.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// Token subject.
    pub subject: String,
    pub method: String,
    /// Route template, e.g. `/api/v1/bans/{id}`.
    pub route: String,
    /// The path as called, e.g. `/api/v1/bans/3`.
    pub path: String,
    pub status: u16,
    /// Client address.
    pub client: String,
    /// What the call did (absent when it failed, and in entries of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<AuditDetail>,
}

/// What a mutation did, attached by its handler to the response (an `Extension`) and written
/// to the audit log with it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditDetail {
    /// The ban added or removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ban_id: Option<i64>,
    /// Its target (IP, CIDR or peer id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The peer acted on (disconnect, score reset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
    /// Bans removed by "clear all".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<u64>,
}

impl AuditDetail {
    /// The detail of a call that added or removed `ban`.
    pub fn ban(ban: &crate::control::Ban) -> axum::Extension<AuditDetail> {
        axum::Extension(AuditDetail {
            ban_id: Some(ban.id),
            target: Some(ban.target.to_string()),
            ..AuditDetail::default()
        })
    }

    /// The detail of a call acting on `peer`.
    pub fn peer(peer: &libp2p::PeerId) -> axum::Extension<AuditDetail> {
        axum::Extension(AuditDetail {
            peer_id: Some(peer.to_string()),
            ..AuditDetail::default()
        })
    }
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
    entries: Arc<Mutex<Vec<AuditEntry>>>,
}

impl AuditLog {
    /// Opens (or creates) the log in `data_dir`, loading its most recent entries.
    pub fn open(data_dir: &Path) -> std::io::Result<Self> {
        let path = data_dir.join(FILE);
        let mut entries = Vec::new();
        if let Ok(f) = std::fs::File::open(&path) {
            for line in std::io::BufReader::new(f).lines() {
                match serde_json::from_str::<AuditEntry>(&line?) {
                    Ok(e) => entries.push(e),
                    Err(e) => tracing::warn!(error = %e, "skipping a corrupt audit line"),
                }
            }
        }
        let excess = entries.len().saturating_sub(KEEP);
        entries.drain(..excess);
        Ok(Self {
            path,
            entries: Arc::new(Mutex::new(entries)),
        })
    }

    /// Appends and fsyncs one entry (blocking I/O runs off the async threads).
    pub async fn append(&self, entry: AuditEntry) -> std::io::Result<()> {
        let (path, line) = (self.path.clone(), serde_json::to_string(&entry)?);
        tokio::task::spawn_blocking(move || {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            f.write_all(format!("{line}\n").as_bytes())?;
            f.sync_data()
        })
        .await
        .map_err(std::io::Error::other)??;
        let mut entries = self.entries.lock().expect("audit lock");
        if entries.len() >= KEEP {
            entries.remove(0);
        }
        entries.push(entry);
        Ok(())
    }

    /// Entries newest first.
    pub fn newest_first(&self) -> Vec<AuditEntry> {
        let entries = self.entries.lock().expect("audit lock");
        entries.iter().rev().cloned().collect()
    }
}

/// Middleware on admin routes (inside authentication): records the call once it is answered.
pub async fn record(
    State(st): State<ApiState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let subject = req
        .extensions()
        .get::<Principal>()
        .map(|p| p.sub.clone())
        .unwrap_or_default();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let (method, path) = (req.method().to_string(), req.uri().path().to_owned());
    let resp = next.run(req).await;
    let entry = AuditEntry {
        at: Utc::now(),
        subject,
        method,
        route,
        path,
        status: resp.status().as_u16(),
        client: client.to_string(),
        detail: resp.extensions().get::<AuditDetail>().cloned(),
    };
    if let Err(e) = st.audit.append(entry).await {
        tracing::error!(error = %e, "could not write the audit log");
    }
    resp
}
