//! The exchange rules on a real relay (Sepolia blocks 0-6, `max_blocks_per_request` = 5): Fin
//! at the first missing block, `limit` 0, a huge `limit`, and garbage, an oversized request and
//! a second request message, each answered with a lone `Fin` and penalised as
//! `proto/starknet/README.md` says.

use prost::Message;
use wharf::sync::starknet::proto::starknet::sync::header::BlockHeadersRequest;

use crate::common::{eventually, sample, scrape};
use crate::mock::MockGateway;
use crate::p2p_serve::{client_of, sepolia_relay};
use crate::sn_client::{exchange, frames, iteration, From};
use crate::LIMIT;

const HEADERS: &str = "/starknet/headers/0.1.0-rc.0";
/// `BlockHeadersResponse { fin: Fin {} }` with its length prefix.
const LONE_FIN: [u8; 3] = [2, 0x12, 0];

fn request(from: u64, limit: u64) -> Vec<u8> {
    BlockHeadersRequest {
        iteration: Some(iteration(From::Number(from), false, limit, 1)),
    }
    .encode_to_vec()
}

async fn penalties(relay: &wharf::App, reason: &str) -> f64 {
    let series = format!("wharf_penalties_total{{reason=\"{reason}\"}}");
    sample(&scrape(relay).await, &series).unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_outside_the_rules_are_answered_as_documented() {
    let gw = MockGateway::start("sepolia", 6, 6).await;
    let dir = tempfile::tempdir().unwrap();
    let relay = sepolia_relay(dir.path(), &gw).await;
    let mut c = client_of(&relay).await;

    let from5 = c.headers(iteration(From::Number(5), false, 4, 1)).await;
    assert_eq!(
        from5.iter().map(|h| h.number).collect::<Vec<_>>(),
        [5, 6],
        "Fin at 7"
    );
    assert!(c
        .transactions(iteration(From::Number(7), false, 3, 1))
        .await
        .is_empty());
    assert!(
        c.events(iteration(From::Number(9), true, 3, 1))
            .await
            .is_empty(),
        "backward from a missing block"
    );
    assert!(
        c.headers(iteration(From::Hash([7; 32]), false, 3, 1))
            .await
            .is_empty(),
        "unknown hash"
    );
    assert!(
        c.state_diffs(iteration(From::Number(0), false, 0, 1))
            .await
            .is_empty(),
        "limit 0"
    );
    let huge = c
        .headers(iteration(From::Number(0), false, u64::MAX, 1))
        .await;
    assert_eq!(huge.len(), 5, "clamped to max_blocks_per_request, then Fin");
    let zero_step = c.headers(iteration(From::Number(1), false, 2, 0)).await;
    assert_eq!(
        zero_step.iter().map(|h| h.number).collect::<Vec<_>>(),
        [1, 2],
        "step 0 read as 1"
    );

    let mut twice = request(0, 1);
    twice.extend(request(3, 1));
    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("garbage", vec![0xff; 12], "malformed"),
        ("an oversized request", vec![0x08; 300], "oversized"),
        ("a second request message", twice, "protocol_violation"),
    ];
    for (what, bytes, reason) in cases {
        let before = penalties(&relay, reason).await;
        let mut fresh = client_of(&relay).await;
        let reply = exchange(&mut fresh.control, fresh.peer, HEADERS, &bytes).await;
        assert_eq!(reply, LONE_FIN, "{what}: a lone Fin");
        assert_eq!(frames(&reply).len(), 1);
        eventually(LIMIT, &format!("{what} penalised as {reason}"), || async {
            penalties(&relay, reason).await > before
        })
        .await;
    }
    let ok = c.headers(iteration(From::Number(0), false, 1, 1)).await;
    assert_eq!(ok.len(), 1, "an honest client is still served");
    let refused = sample(
        &scrape(&relay).await,
        r#"wharf_sync_requests_total{side="server",protocol="starknet_headers",outcome="refused"}"#,
    );
    assert_eq!(refused, Some(3.0));
    relay.shutdown().await;
}
