//! The client's framing and splitting rules, on hand-made byte streams.

use futures::io::Cursor;
use prost::Message;

use super::exchange::{read_all, MAX_MESSAGE};
use super::split::split;
use crate::sync::client::FetchError;
use crate::sync::config::FetchConfig;
use crate::sync::report::PeerReport;
use crate::sync::starknet::proto::starknet::common::Fin;
use crate::sync::starknet::proto::starknet::sync::event::{events_response, Event, EventsResponse};

fn framed(messages: &[EventsResponse]) -> Vec<u8> {
    messages
        .iter()
        .flat_map(|m| m.encode_length_delimited_to_vec())
        .collect()
}

fn event() -> EventsResponse {
    EventsResponse {
        event_message: Some(events_response::EventMessage::Event(Event::default())),
    }
}

fn fin() -> EventsResponse {
    EventsResponse {
        event_message: Some(events_response::EventMessage::Fin(Fin {})),
    }
}

async fn read(bytes: Vec<u8>, max_items: usize) -> Result<Vec<Event>, FetchError> {
    let cfg = FetchConfig::default();
    read_all::<EventsResponse, _>(&mut Cursor::new(bytes), MAX_MESSAGE, max_items, &cfg).await
}

#[tokio::test]
async fn data_then_one_fin_is_accepted() {
    let got = read(framed(&[event(), event(), fin()]), 2).await.unwrap();
    assert_eq!(got.len(), 2);
}

/// Each breach blames the peer with the report the pipeline gives it.
#[tokio::test]
async fn breaches_of_the_exchange_rules_blame_the_peer() {
    let empty = EventsResponse {
        event_message: None,
    };
    let mut after_fin = framed(&[event(), fin()]);
    after_fin.push(0);
    let mut oversized = vec![0xff, 0xff, 0xff, 0x7f];
    oversized.extend(framed(&[fin()]));
    let cases = [
        (framed(&[empty, fin()]), 5, PeerReport::Malformed),
        (after_fin, 5, PeerReport::DataAfterFin),
        (
            framed(&[event(), event(), fin()]),
            1,
            PeerReport::TooManyItems,
        ),
        (framed(&[event()]), 5, PeerReport::ProtocolViolation),
        (oversized, 5, PeerReport::Oversized),
        (vec![3, 0xff, 0xff, 0xff], 5, PeerReport::Malformed),
    ];
    for (i, (bytes, max, report)) in cases.into_iter().enumerate() {
        let err = read(bytes, max).await.unwrap_err();
        assert_eq!(err.kind(), Some(report), "case {i}: {err}");
    }
}

#[test]
fn items_are_split_by_the_blocks_counts() {
    let blocks = split(vec![1u64, 1, 1], vec![2, 0, 1], |_| 1).unwrap();
    assert_eq!(blocks, vec![vec![1, 1], vec![], vec![1]]);
    // The peer lacks the third block: it stopped at a block boundary.
    let blocks = split(vec![1u64, 1], vec![2, 0, 1], |_| 1).unwrap();
    assert_eq!(blocks.len(), 2);
    // Cut inside a block, or an item overshooting its block: the peer's fault.
    let cut = split(vec![1u64], vec![2], |_| 1).unwrap_err();
    assert_eq!(cut.kind(), Some(PeerReport::Malformed));
    let over = split(vec![3u64], vec![2], |w| *w).unwrap_err();
    assert_eq!(over.kind(), Some(PeerReport::Malformed));
}

struct Announced(Option<bool>);

impl super::PeerProtocols for Announced {
    fn speaks_wharf(&self, _: &libp2p::PeerId) -> Option<bool> {
        self.0
    }
}

/// `auto` asks a peer over Starknet's protocols only when identify showed it lacks Wharf's.
#[test]
fn the_protocol_is_picked_per_peer() {
    use super::uses_starknet;
    use crate::sync::SyncProtocol::{Auto, Starknet, Wharf};
    let peer = libp2p::PeerId::random();
    let (wharf, starknet, unknown) = (
        Announced(Some(true)),
        Announced(Some(false)),
        Announced(None),
    );
    assert!(!uses_starknet(Wharf, Some(&starknet), &peer));
    assert!(uses_starknet(Starknet, Some(&wharf), &peer));
    assert!(uses_starknet(Auto, Some(&starknet), &peer));
    assert!(!uses_starknet(Auto, Some(&wharf), &peer));
    assert!(!uses_starknet(Auto, Some(&unknown), &peer));
    assert!(!uses_starknet(Auto, None, &peer));
}
