//! Limits and timeouts of the sync protocols: the `[sync]` section of the config file.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The `[sync]` config section: serving, fetching and the P2P sync pipeline.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncConfig {
    /// Limits applied to peers requesting blocks from us.
    pub server: SyncServerConfig,
    /// Timeouts and limits of our own requests.
    pub client: FetchConfig,
    /// Concurrency of the five-stage P2P sync pipeline.
    pub pipeline: PipelineConfig,
    /// Trusted checkpoint `<number>:<block hash>` for a relay that syncs over P2P: it starts
    /// at this block and syncs from there (same rules as `feeder.checkpoint`; both set must
    /// agree). Default none (genesis).  CLI: `--checkpoint`
    pub checkpoint: Option<crate::chain::Checkpoint>,
    /// Which sync protocols the P2P sync pipeline fetches blocks over: `"wharf"` (Wharf's
    /// `/wharf/<network>/sync/...`), `"starknet"` (Starknet's own
    /// `/starknet/<name>/0.1.0-rc.0`, spoken by Juno, Pathfinder, Madara and Apollo; Starknet
    /// networks only) or `"auto"` (per peer: Wharf's when its identify lists them, else
    /// Starknet's). Verification, blaming and retrying are the same. Default `"wharf"`.
    pub protocol: SyncProtocol,
}

/// The protocols the P2P sync pipeline fetches over (`sync.protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncProtocol {
    /// Wharf's own sync protocols only.
    #[default]
    Wharf,
    /// Starknet's sync protocols only.
    Starknet,
    /// Per peer, from the protocols it announced over identify.
    Auto,
}

/// Limits applied to incoming sync requests; a violation is refused and reported.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncServerConfig {
    /// Most blocks one request may ask for; a larger `limit` is refused with
    /// `Fin{LIMIT_EXCEEDED}` (never clamped). Default `100` blocks.
    pub max_blocks_per_request: u64,
    /// Largest message we send or accept, in bytes. Default `16777216` (16 MiB).
    pub max_message_size: usize,
    /// Concurrent streams one peer may have open with us. Default `16`.
    pub max_streams_per_peer: u32,
    /// Concurrent streams from one IP address, all its peers together. Default `32`.
    pub max_streams_per_ip: u32,
    /// Concurrent streams from one IPv4 /24 or IPv6 /64, all its peers together. Default `64`.
    pub max_streams_per_subnet: u32,
    /// Concurrent streams overall, all peers together; past half of it each subnet gets a fair
    /// share and the last quarter only admits sources holding fewer than
    /// `max_streams_per_peer`. Default `256`.
    pub max_streams_total: u32,
    /// Sustained requests per second per peer (token bucket refill). Default `500.0`.
    pub requests_per_second: f64,
    /// Requests a peer may make in a burst (token bucket size). Default `500`.
    pub request_burst: u32,
    /// Time a peer has to send its request once the stream is open. Default `5s`.
    #[serde(with = "humantime_serde")]
    pub read_timeout: Duration,
    /// Time allowed for each response message to be accepted by the peer. Default `10s`.
    #[serde(with = "humantime_serde")]
    pub write_timeout: Duration,
    /// Slowest average rate a peer must read a response at, in bytes per second: a response of
    /// `n` bytes must be accepted within `write_timeout + n / min_send_rate` (`0`: only
    /// `response_timeout` applies). Default `131072` (128 KiB/s).
    pub min_send_rate: u64,
    /// Deadline of a whole stream, from admission to close (request, response and the wait for
    /// the peer's end of stream included). Default `60s`.
    #[serde(with = "humantime_serde")]
    pub response_timeout: Duration,
}

impl Default for SyncServerConfig {
    fn default() -> Self {
        SyncServerConfig {
            max_blocks_per_request: 100,
            max_message_size: 16 * 1024 * 1024,
            max_streams_per_peer: 16,
            max_streams_per_ip: 32,
            max_streams_per_subnet: 64,
            max_streams_total: 256,
            requests_per_second: 500.0,
            request_burst: 500,
            read_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
            min_send_rate: 128 * 1024,
            response_timeout: Duration::from_secs(60),
        }
    }
}

/// Timeouts and limits of one outgoing sync request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchConfig {
    /// Time to open the stream (dial and protocol negotiation included). Default `5s`.
    #[serde(with = "humantime_serde")]
    pub open_timeout: Duration,
    /// Longest wait for the next message of a response. Default `5s`.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Deadline for the whole request, from opening to `Fin`. Default `30s`.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Largest response message accepted, in bytes. Default `16777216` (16 MiB).
    pub max_message_size: usize,
    /// Largest whole response (the sum of its items), in bytes; a peer sending more is
    /// refused and reported as oversized. Default `134217728` (128 MiB: 100 blocks of the
    /// largest real component fit, 100 items of 16 MiB do not).
    pub max_response_bytes: usize,
    /// Bytes of responses being received at once, over all fetches: a fetch holding none waits
    /// for room, one holding some gives up and is retried later (each may overshoot by the one
    /// message being read). At least `max_response_bytes`. Default `536870912` (512 MiB).
    pub max_bytes_in_flight: usize,
    /// The shared in-flight budget (created on first use from `max_bytes_in_flight`; clones of
    /// this config share it).
    #[serde(skip)]
    pub budget: crate::sync::budget::ByteBudget,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            open_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_message_size: 16 * 1024 * 1024,
            max_response_bytes: 128 << 20,
            max_bytes_in_flight: 512 << 20,
            budget: Default::default(),
        }
    }
}

/// Concurrency of the P2P sync pipeline.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Blocks per chunk (each component of a chunk is one request). Default `100`.
    pub chunk_size: u64,
    /// Chunks being fetched, verified or waiting to be committed at once (chunks the sink is
    /// writing don't count). Default `8`.
    pub max_chunks_in_flight: usize,
    /// Concurrent requests to one peer. Default `10`.
    pub max_requests_per_peer: usize,
    /// How long a peer that misbehaved (timeout, protocol breach, invalid data) is not asked
    /// again. Default `10s`.
    #[serde(with = "humantime_serde")]
    pub peer_cooldown: Duration,
    /// Wait before retrying when no peer can serve a chunk, and before asking again a peer
    /// that is unreachable or refused a request as busy or rate limited. Default `1s`.
    #[serde(with = "humantime_serde")]
    pub retry_delay: Duration,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            chunk_size: 100,
            max_chunks_in_flight: 8,
            max_requests_per_peer: 10,
            peer_cooldown: Duration::from_secs(10),
            retry_delay: Duration::from_secs(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_partial_section_with_humantime_durations() {
        let text = "[server]\nmax_blocks_per_request = 50\nread_timeout = \"250ms\"\n\
                    [pipeline]\npeer_cooldown = \"1m\"\n";
        let cfg: SyncConfig = toml::from_str(text).unwrap();
        assert_eq!(cfg.server.max_blocks_per_request, 50);
        assert_eq!(cfg.server.read_timeout, Duration::from_millis(250));
        assert_eq!(
            cfg.server.write_timeout,
            Duration::from_secs(10),
            "default kept"
        );
        assert_eq!(cfg.pipeline.peer_cooldown, Duration::from_secs(60));
        assert_eq!(cfg.client.max_message_size, 16 * 1024 * 1024);
    }

    #[test]
    fn refuses_unknown_fields() {
        let err = toml::from_str::<SyncConfig>("[server]\nmax_blocks = 5\n").unwrap_err();
        assert!(err.to_string().contains("max_blocks"), "{err}");
    }
}
