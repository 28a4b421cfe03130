//! Block announcements over GossipSub on `/wharf/<network>/blocks/1.0.0`: strict signing,
//! content-hash message ids, explicit validation (every message gets accept / reject / ignore
//! before it is forwarded) and peer scoring tuned for about one message per block time.

use std::time::Duration;

use bytes::Bytes;
use libp2p::gossipsub::{
    self, score_parameter_decay, IdentTopic, MessageAcceptance, MessageAuthenticity, MessageId,
    PeerScoreParams, PeerScoreThresholds, TopicScoreParams, ValidationMode,
};
use libp2p::identity::Keypair;
use libp2p::PeerId;
use prometheus_client::registry::Registry;
use sha2::{Digest, Sha256};

use super::config::GossipConfig;

/// One announcement received from the network, waiting for a verdict.
#[derive(Debug, Clone)]
pub struct GossipMessage {
    /// Content-hash id; pass it back with the verdict.
    pub id: MessageId,
    /// The peer that forwarded it to us (penalised on reject).
    pub source: PeerId,
    /// The announcement bytes.
    pub data: Bytes,
}

/// The validator's decision on a `GossipMessage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Valid: forward it.
    Accept,
    /// Invalid: drop it and penalise the sender.
    Reject,
    /// Not useful (duplicate, stale): drop it without penalty.
    Ignore,
}

impl Verdict {
    pub(crate) fn acceptance(self) -> MessageAcceptance {
        match self {
            Verdict::Accept => MessageAcceptance::Accept,
            Verdict::Reject => MessageAcceptance::Reject,
            Verdict::Ignore => MessageAcceptance::Ignore,
        }
    }

    /// Label of `wharf_gossip_messages_total{outcome}`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Accept => "accepted",
            Verdict::Reject => "rejected",
            Verdict::Ignore => "ignored",
        }
    }
}

/// The block topic of `network`.
pub fn topic(network: &str) -> IdentTopic {
    IdentTopic::new(format!("/wharf/{network}/blocks/1.0.0"))
}

fn message_id(m: &gossipsub::Message) -> MessageId {
    MessageId::from(Sha256::digest(&m.data)[..20].to_vec())
}

/// The gossipsub behaviour, subscribed to the block topic, scoring on.
pub fn behaviour(
    key: &Keypair,
    network: &str,
    cfg: &GossipConfig,
    registry: &mut Registry,
) -> gossipsub::Behaviour {
    let config = gossipsub::ConfigBuilder::default()
        .validation_mode(ValidationMode::Strict)
        .validate_messages()
        .message_id_fn(message_id)
        .max_transmit_size(cfg.max_message_bytes)
        .heartbeat_interval(Duration::from_secs(1))
        .build()
        .expect("static gossipsub config is valid");
    let mut gs = gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), config)
        .expect("signed authenticity with a valid config")
        .with_metrics(registry, Default::default());
    let topic = topic(network);
    let (params, thresholds) = scoring(&topic, cfg.message_interval);
    gs.with_peer_score(params, thresholds)
        .expect("scoring parameters are valid");
    gs.subscribe(&topic).expect("subscribing to one topic");
    gs
}

/// Scoring for a topic carrying one message per `interval` (the block time). Invalid messages
/// cost heavily; mesh peers that stop delivering for many block times lose a little; sharing an
/// IP address costs nothing.
fn scoring(topic: &IdentTopic, interval: Duration) -> (PeerScoreParams, PeerScoreThresholds) {
    let blocks = |n: u32| interval * n;
    let t = TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.01,
        time_in_mesh_quantum: interval,
        time_in_mesh_cap: 300.0,
        first_message_deliveries_weight: 1.0,
        first_message_deliveries_decay: score_parameter_decay(blocks(20)),
        first_message_deliveries_cap: 50.0,
        // Expect at least one delivery per ~10 blocks from a mesh peer, after a grace period.
        mesh_message_deliveries_weight: -0.2,
        mesh_message_deliveries_decay: score_parameter_decay(blocks(20)),
        mesh_message_deliveries_cap: 20.0,
        mesh_message_deliveries_threshold: 1.0,
        mesh_message_deliveries_window: Duration::from_millis(500).min(interval),
        mesh_message_deliveries_activation: blocks(60),
        mesh_failure_penalty_weight: -0.2,
        mesh_failure_penalty_decay: score_parameter_decay(blocks(60)),
        invalid_message_deliveries_weight: -50.0,
        invalid_message_deliveries_decay: score_parameter_decay(blocks(600)),
    };
    let mut params = PeerScoreParams::default();
    params.topics.insert(topic.hash(), t);
    // No IP-colocation penalty (P6, default -5 x (peers on one IP - 10)^2): it judges where a
    // peer connects from, not what it sends, and this score feeds Wharf's ban score, so every
    // peer behind a shared NAT or cloud egress would be banned within seconds. How many peers
    // one IP or subnet may bring is the connection gate's job (`[p2p.limits]`).
    params.ip_colocation_factor_weight = 0.0;
    let thresholds = PeerScoreThresholds {
        gossip_threshold: -10.0,
        publish_threshold: -50.0,
        graylist_threshold: -80.0,
        accept_px_threshold: 10.0,
        opportunistic_graft_threshold: 3.0,
    };
    (params, thresholds)
}
