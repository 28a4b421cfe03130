//! Happy paths of every route, bad input, rate limiting, and router/spec agreement.

use serde_json::Value;
use std::collections::BTreeSet;

use crate::common::{config_with_peers, eventually, peer_addr};
use crate::harness::*;

#[test]
fn router_and_openapi_document_agree() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut spec = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            spec.insert((method.to_uppercase(), path.clone()));
            let secured = !op["security"].as_array().unwrap().is_empty();
            assert_eq!(
                secured,
                path.starts_with("/api/"),
                "{method} {path}: security"
            );
        }
    }
    let router: BTreeSet<(String, String)> = wharf::api::documented_routes()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(
        router, spec,
        "router (left) and openapi/openapi.json (right) disagree"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_routes_answer_without_a_token() {
    let api = Api::start().await;
    assert_eq!(
        api.get("/healthz", None).await,
        (200, serde_json::json!({"status": "ok"}))
    );
    let (status, body) = api.get("/readyz", None).await;
    assert_eq!(
        (status, body["checks"]["swarm"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    assert_eq!(body["checks"]["store"], true, "{body}");
    assert_eq!(body["checks"]["synced"], true, "{body}");
    let (status, body) = api.get("/openapi.json", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["openapi"], "3.1.0");
    let (status, body) = api.get("/no/such/route", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_and_peer_routes_show_live_state() {
    let api = Api::start().await;
    let token = admin_token();
    let (status, node) = api.get("/api/v1/node", Some(&token)).await;
    assert_eq!(status, 200, "{node}");
    let me = api.app.peer_id().to_string();
    assert_eq!(node["peer_id"], me);
    assert_eq!(node["network"], "devnet");
    assert!(node["listen_addrs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a.as_str().unwrap().ends_with(&format!("/p2p/{me}"))));

    let dir = tempfile::tempdir().unwrap();
    let joiner = wharf::App::start(config_with_peers(dir.path(), &[peer_addr(&api.app)]))
        .await
        .unwrap();
    let jid = joiner.peer_id().to_string();
    eventually(LONG, "peer identified", || async {
        let (_, p) = api.get(&format!("/api/v1/peers/{jid}"), Some(&token)).await;
        p["agent"].as_str().is_some_and(|a| a.starts_with("wharf/"))
    })
    .await;
    let (_, page) = api
        .get(
            "/api/v1/peers?direction=inbound&agent=wharf&limit=10",
            Some(&token),
        )
        .await;
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["items"][0]["peer_id"], jid);
    let (_, none) = api
        .get("/api/v1/peers?direction=outbound", Some(&token))
        .await;
    assert_eq!(none["total"], 0);

    let (status, body) = api
        .post(&format!("/api/v1/peers/{jid}/disconnect"), &token)
        .await;
    assert_eq!(
        (status, body["disconnected"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    joiner.shutdown().await;
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_json_error_naming_the_field() {
    let api = Api::start().await;
    let t = read_token();
    let cases = [
        ("/api/v1/peers/not-a-peer-id", 400, "peer_id"),
        ("/api/v1/peers?limit=0", 400, "limit"),
        ("/api/v1/peers?limit=5000", 400, "limit"),
        ("/api/v1/peers?offset=-1", 400, "offset"),
        ("/api/v1/peers?direction=sideways", 400, "direction"),
        ("/api/v1/peers?colour=blue", 400, "colour"),
        ("/api/v1/classes/not-a-hash", 400, "class_hash"),
        ("/api/v1/classes/0x12zz", 400, "class_hash"),
        (
            &format!("/api/v1/classes/0x{}", "1".repeat(65)),
            400,
            "class_hash",
        ),
    ];
    for (path, want, field) in cases {
        let (status, body) = api.get(path, Some(&t)).await;
        assert_eq!(status, want, "{path}: {body}");
        let msg = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains(field),
            "{path}: message {msg:?} does not name {field}"
        );
    }
    api.stop().await;
}

/// A relay without the class (the devnet has none) answers 404 with the JSON error shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_class_is_a_json_404() {
    let api = Api::start().await;
    let path = "/api/v1/classes/0x1b661756bf7d16210fc611626e1af4569baa1781ffc964bd018f4585ae241c1";
    let (status, body) = api.get(path, Some(&read_token())).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found", "{body}");
    let (status, _) = api.get(path, None).await;
    assert_eq!(status, 401, "read scope required");
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_over_the_rate_limit_get_429_with_retry_after() {
    let api = Api::start_with(|c| {
        c.api.rate_limit_per_second = 1;
        c.api.rate_limit_burst = 5;
    })
    .await;
    let mut last = None;
    for _ in 0..20 {
        let resp = api
            .http
            .get(format!("{}/healthz", api.base))
            .send()
            .await
            .unwrap();
        if resp.status() == 429 {
            last = Some(resp);
            break;
        }
    }
    let resp = last.expect("never rate limited");
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=5).contains(&retry), "Retry-After {retry}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    api.stop().await;
}

/// Reads SSE frames from `resp` until one has `event: <name>`; returns its data line.
pub async fn next_event(resp: &mut reqwest::Response, name: &str) -> Value {
    let mut buf = String::new();
    loop {
        let chunk = resp.chunk().await.unwrap().expect("event stream ended");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let event = frame.lines().find_map(|l| l.strip_prefix("event: "));
            let data = frame.lines().find_map(|l| l.strip_prefix("data: "));
            if let (Some(e), Some(d)) = (event, data) {
                if e == name {
                    return serde_json::from_str(d).unwrap();
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_stream_reports_peers_connecting() {
    let api = Api::start().await;
    let mut resp = api.events().await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let dir = tempfile::tempdir().unwrap();
    let joiner = wharf::App::start(config_with_peers(dir.path(), &[peer_addr(&api.app)]))
        .await
        .unwrap();
    let ev = tokio::time::timeout(LONG, next_event(&mut resp, "peer_connected"))
        .await
        .expect("no event");
    assert_eq!(ev["peer_id"], joiner.peer_id().to_string());
    assert_eq!(ev["direction"], "inbound");
    let joiner_id = joiner.peer_id().to_string();
    joiner.shutdown().await;
    let ev = tokio::time::timeout(LONG, next_event(&mut resp, "peer_disconnected"))
        .await
        .expect("no event");
    assert_eq!(ev["peer_id"], joiner_id);
    drop(resp);
    api.stop().await;
}
