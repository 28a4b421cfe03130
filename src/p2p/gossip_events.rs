//! The event loop's side of block gossip: hand received announcements to the validator, apply
//! its verdicts, publish.

use bytes::Bytes;
use libp2p::gossipsub::{self, MessageId};
use libp2p::PeerId;

use super::event_loop::EventLoop;
use super::gossip::{GossipMessage, Verdict};
use super::handle::P2pError;

impl EventLoop {
    pub(super) fn on_gossip_event(&mut self, event: gossipsub::Event) {
        let gossipsub::Event::Message {
            propagation_source,
            message_id,
            message,
        } = event
        else {
            return;
        };
        self.metrics.gossip("received");
        let msg = GossipMessage {
            id: message_id.clone(),
            source: propagation_source,
            data: Bytes::from(message.data),
        };
        // A full or closed validation queue must still give the message a verdict.
        if self.gossip_tx.try_send(msg).is_err() {
            self.metrics.gossip("dropped");
            self.report(&message_id, &propagation_source, Verdict::Ignore);
        }
    }

    pub(super) fn report(&mut self, id: &MessageId, source: &PeerId, verdict: Verdict) {
        self.metrics.gossip(verdict.label());
        if verdict == Verdict::Reject {
            tracing::info!(peer = %source, "rejected an invalid block announcement");
        }
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(id, source, verdict.acceptance());
    }

    pub(super) fn publish(&mut self, data: Bytes) -> Result<MessageId, P2pError> {
        let topic = self.topic.clone();
        let res = self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(topic, data.to_vec());
        match res {
            Ok(id) => {
                self.metrics.gossip("published");
                Ok(id)
            }
            Err(e) => Err(P2pError::Publish(e.to_string())),
        }
    }
}
