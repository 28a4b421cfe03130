//! Ban types: what a ban targets, how long it lasts, and how user input becomes one.
//!
//! Targets are parsed and normalised here, at the edge, so the index and the stores only ever
//! see canonical values: a CIDR is stored as its network address, a /32 (or /128) CIDR is the
//! same thing as a single IP and becomes [`BanTarget::Ip`], and IPv4-mapped IPv6 addresses
//! (`::ffff:a.b.c.d`) become plain IPv4.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ipnetwork::IpNetwork;
use libp2p::PeerId;
use serde::{Deserialize, Serialize};

/// What a ban blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum BanTarget {
    /// One IPv4 or IPv6 address (never an IPv4-mapped IPv6 address).
    Ip(IpAddr),
    /// Every address in a network; always normalised to the network address, prefix shorter
    /// than the address width (a full-width prefix is an [`BanTarget::Ip`]).
    Cidr(IpNetwork),
    /// One libp2p peer id, whatever address it comes from.
    Peer(PeerId),
}

/// The kind of a target, used for filtering and as the metrics label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BanKind {
    /// A single IP address.
    Ip,
    /// A network (CIDR).
    Cidr,
    /// A peer id.
    Peer,
}

impl BanKind {
    /// Every kind, for metrics and listings.
    pub const ALL: [BanKind; 3] = [BanKind::Ip, BanKind::Cidr, BanKind::Peer];

    /// The lowercase name used in storage, URLs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            BanKind::Ip => "ip",
            BanKind::Cidr => "cidr",
            BanKind::Peer => "peer",
        }
    }
}

/// Why a string is not a ban target.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetParseError {
    /// Not an IP, a CIDR nor a peer id.
    #[error("`{0}` is not an IP address, a CIDR network or a peer id")]
    Unrecognised(String),
    /// Looked like a CIDR but the address or prefix is invalid.
    #[error("`{input}` is not a valid CIDR network: {reason}")]
    BadCidr {
        /// The rejected input.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl BanTarget {
    /// The kind of this target.
    pub fn kind(&self) -> BanKind {
        match self {
            BanTarget::Ip(_) => BanKind::Ip,
            BanTarget::Cidr(_) => BanKind::Cidr,
            BanTarget::Peer(_) => BanKind::Peer,
        }
    }

    /// Builds the canonical target for a network (see the module docs).
    pub fn from_network(net: IpNetwork) -> BanTarget {
        let (ip, prefix) = canonical_network(net.network(), net.prefix());
        let width = if ip.is_ipv4() { 32 } else { 128 };
        if prefix == width {
            return BanTarget::Ip(ip);
        }
        BanTarget::Cidr(IpNetwork::new(ip, prefix).expect("prefix checked against width"))
    }

    /// The target as an IP network (`/32` or `/128` for a single IP), `None` for a peer.
    pub fn network(&self) -> Option<IpNetwork> {
        match self {
            BanTarget::Ip(ip) => Some(IpNetwork::from(*ip)),
            BanTarget::Cidr(net) => Some(*net),
            BanTarget::Peer(_) => None,
        }
    }

    /// Whether this target covers a connection from `ip` (if known) by `peer`.
    pub fn matches(&self, ip: Option<IpAddr>, peer: &PeerId) -> bool {
        match (self, ip.map(|ip| ip.to_canonical())) {
            (BanTarget::Peer(p), _) => p == peer,
            (BanTarget::Ip(banned), Some(ip)) => *banned == ip,
            (BanTarget::Cidr(net), Some(ip)) => net.contains(ip),
            (_, None) => false,
        }
    }
}

/// Maps an IPv4-mapped IPv6 network onto IPv4 and masks host bits off.
fn canonical_network(ip: IpAddr, prefix: u8) -> (IpAddr, u8) {
    if let IpAddr::V6(v6) = ip {
        if let (Some(v4), true) = (v6.to_ipv4_mapped(), prefix >= 96) {
            let net = IpNetwork::new(IpAddr::V4(v4), prefix - 96).expect("prefix <= 32");
            return (net.network(), prefix - 96);
        }
    }
    (ip, prefix)
}

impl FromStr for BanTarget {
    type Err = TargetParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(BanTarget::Ip(ip.to_canonical()));
        }
        if s.contains('/') {
            let net = s
                .parse::<IpNetwork>()
                .map_err(|e| TargetParseError::BadCidr {
                    input: s.to_owned(),
                    reason: e.to_string(),
                })?;
            return Ok(BanTarget::from_network(net));
        }
        s.parse::<PeerId>()
            .map(BanTarget::Peer)
            .map_err(|_| TargetParseError::Unrecognised(s.to_owned()))
    }
}

impl fmt::Display for BanTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BanTarget::Ip(ip) => write!(f, "{ip}"),
            BanTarget::Cidr(net) => write!(f, "{}/{}", net.network(), net.prefix()),
            BanTarget::Peer(peer) => write!(f, "{peer}"),
        }
    }
}

impl From<BanTarget> for String {
    fn from(t: BanTarget) -> String {
        t.to_string()
    }
}

impl TryFrom<String> for BanTarget {
    type Error = TargetParseError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// Serialises a peer id as its base58 string (libp2p's serde feature is not enabled).
pub(crate) fn serialize_peer<S: serde::Serializer>(peer: &PeerId, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(peer)
}

/// A ban as stored: the id is assigned by the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ban {
    /// Store-assigned id (negative for a provisional ban not yet persisted).
    pub id: i64,
    /// What is banned.
    pub target: BanTarget,
    /// Free text given by whoever created the ban.
    pub reason: String,
    /// Who created it (`"auto"` for score-based bans).
    pub created_by: String,
    /// When it was first created.
    pub created_at: DateTime<Utc>,
    /// When it stops blocking; `None` means permanent.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Ban {
    /// Whether the ban still blocks at `now`.
    pub fn is_active_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|t| t > now)
    }

    /// Whether this ban, active now, covers a connection from `ip` (if known) by `peer`.
    pub fn covers(&self, ip: Option<IpAddr>, peer: &PeerId) -> bool {
        self.is_active_at(Utc::now()) && self.target.matches(ip, peer)
    }
}

/// How long a new ban lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expiry {
    /// Never expires.
    Permanent,
    /// Expires this long after it is added.
    #[serde(with = "humantime_serde")]
    For(Duration),
    /// Expires at this instant.
    Until(DateTime<Utc>),
}

/// Why an expiry is rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExpiryError {
    /// A zero duration would create a ban that never blocks.
    #[error("ban duration must be greater than zero")]
    ZeroDuration,
    /// The duration does not fit in a timestamp.
    #[error("ban duration {0:?} is too long")]
    TooLong(Duration),
    /// The absolute expiry is not in the future.
    #[error("ban expiry {0} is not in the future")]
    InPast(DateTime<Utc>),
}

impl Expiry {
    /// The absolute expiry for a ban added at `now` (`None` = permanent).
    pub fn resolve(self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, ExpiryError> {
        match self {
            Expiry::Permanent => Ok(None),
            Expiry::For(d) if d.is_zero() => Err(ExpiryError::ZeroDuration),
            Expiry::For(d) => chrono::Duration::from_std(d)
                .ok()
                .and_then(|d| now.checked_add_signed(d))
                .map(Some)
                .ok_or(ExpiryError::TooLong(d)),
            Expiry::Until(t) if t <= now => Err(ExpiryError::InPast(t)),
            Expiry::Until(t) => Ok(Some(t)),
        }
    }
}

/// A request to ban something.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewBan {
    /// What to ban.
    pub target: BanTarget,
    /// Why (shown in listings and logs).
    pub reason: String,
    /// Who asks (operator name, `"api"`, `"auto"`).
    pub created_by: String,
    /// How long it lasts.
    pub expiry: Expiry,
}

/// A new ban with its expiry resolved to an instant; what the stores receive.
#[derive(Debug, Clone, PartialEq)]
pub struct BanRecord {
    /// What to ban.
    pub target: BanTarget,
    /// Why.
    pub reason: String,
    /// Who.
    pub created_by: String,
    /// When the request was made.
    pub created_at: DateTime<Utc>,
    /// Absolute expiry (`None` = permanent).
    pub expires_at: Option<DateTime<Utc>>,
}

/// Which bans a listing returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BanFilter {
    /// Include bans whose expiry has passed (default: only active bans).
    pub include_expired: bool,
    /// Only bans of this kind (default: all kinds).
    pub kind: Option<BanKind>,
    /// Number of bans to skip, ordered by id.
    pub offset: u64,
    /// Maximum number of bans to return (`None` = all).
    pub limit: Option<u64>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BanPage {
    /// The bans of this page, ordered by id.
    pub bans: Vec<Ban>,
    /// How many bans match the filter in total, ignoring paging.
    pub total: u64,
}

impl From<&Ban> for BanRecord {
    /// The write of a ban enforced before it was stored (a provisional automatic ban).
    fn from(ban: &Ban) -> Self {
        BanRecord {
            target: ban.target,
            reason: ban.reason.clone(),
            created_by: ban.created_by.clone(),
            created_at: ban.created_at,
            expires_at: ban.expires_at,
        }
    }
}
