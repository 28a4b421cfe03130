//! Bans, scores and chain routes; bad input on bodies; a ban through the API closes a live
//! connection; the event stream carries ban and block events.

use std::time::Duration;

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use wharf::control::ScoreEvent;
use wharf::gateway::{Gateway, GatewayConfig};

use crate::common::{config_with_peers, eventually, peer_addr};
use crate::harness::*;
use crate::routes::next_event;

async fn post_json(api: &Api, path: &str, body: &str, content_type: &str) -> (u16, Value) {
    let resp = api
        .http
        .post(format!("{}{path}", api.base))
        .bearer_auth(admin_token())
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn delete(api: &Api, path: &str) -> (u16, Value) {
    let resp = api
        .http
        .delete(format!("{}{path}", api.base))
        .bearer_auth(admin_token())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

const JSON: &str = "application/json";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ban_routes_add_list_get_remove_clear() {
    let api = Api::start().await;
    let body =
        json!({"target": "203.0.113.77/24", "reason": "scanner", "duration": "1h"}).to_string();
    let (status, ban) = post_json(&api, "/api/v1/bans", &body, JSON).await;
    assert_eq!(status, 201, "{ban}");
    assert_eq!(
        ban["target"], "203.0.113.0/24",
        "CIDR normalised to its network"
    );
    assert_eq!(
        (ban["kind"].as_str(), ban["active"].as_bool()),
        (Some("cidr"), Some(true))
    );
    assert_eq!(ban["created_by"], "tester", "the token subject");
    let id = ban["id"].as_i64().unwrap();
    let (_, page) = api.get("/api/v1/bans?kind=cidr", Some(&read_token())).await;
    assert_eq!(page["total"], 1);
    assert_eq!(
        api.get(&format!("/api/v1/bans/{id}"), Some(&read_token()))
            .await
            .1["id"],
        id
    );
    let (status, _) = post_json(
        &api,
        "/api/v1/bans",
        &json!({"target": "10.0.0.1", "reason": "x"}).to_string(),
        JSON,
    )
    .await;
    assert_eq!(status, 201, "permanent ban without expiry");
    assert_eq!(delete(&api, &format!("/api/v1/bans/{id}")).await.0, 200);
    assert_eq!(delete(&api, &format!("/api/v1/bans/{id}")).await.0, 404);
    let (status, body) = delete(&api, "/api/v1/bans").await;
    assert_eq!(status, 400, "clear needs confirm: {body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("confirm"));
    let (status, body) = delete(&api, "/api/v1/bans?confirm=true").await;
    assert_eq!((status, body["removed"].as_u64()), (200, Some(1)));
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ban_bodies_get_4xx_naming_the_field() {
    let api = Api::start_with(|c| c.api.max_body_bytes = 1024).await;
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let cases: Vec<(String, &str, u16, &str)> = vec![
        (
            json!({"target": "300.1.2.3", "reason": "r"}).to_string(),
            JSON,
            422,
            "target",
        ),
        (
            json!({"target": "1.2.3.4", "reason": "r", "duration": "0s"}).to_string(),
            JSON,
            422,
            "duration",
        ),
        (
            json!({"target": "1.2.3.4", "reason": "r", "duration": "-5m"}).to_string(),
            JSON,
            422,
            "duration",
        ),
        (
            json!({"target": "1.2.3.4", "reason": "r", "expires_at": past}).to_string(),
            JSON,
            422,
            "expires_at",
        ),
        (
            json!({"target": "1.2.3.4", "reason": "r", "colour": "red"}).to_string(),
            JSON,
            422,
            "colour",
        ),
        (json!({"reason": "r"}).to_string(), JSON, 422, "target"),
        ("{not json".to_string(), JSON, 400, "body"),
        (
            json!({"target": "1.2.3.4", "reason": "r"}).to_string(),
            "text/plain",
            415,
            "Content-Type",
        ),
        (
            json!({"target": "1.2.3.4", "reason": "x".repeat(4096)}).to_string(),
            JSON,
            413,
            "body",
        ),
    ];
    for (body, ct, want, field) in cases {
        let (status, resp) = post_json(&api, "/api/v1/bans", &body, ct).await;
        assert_eq!(status, want, "{body:.80}: {resp}");
        let msg = resp["error"]["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains(field),
            "{body:.80}: {msg:?} does not name {field}"
        );
    }
    assert_eq!(
        api.get("/api/v1/bans/abc", Some(&read_token())).await.0,
        400
    );
    assert_eq!(
        api.get("/api/v1/bans/999", Some(&read_token())).await.0,
        404
    );
    assert_eq!(
        api.get("/api/v1/bans?status=sideways", Some(&read_token()))
            .await
            .0,
        400
    );
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ban_through_the_api_closes_a_live_connection_and_streams_an_event() {
    let api = Api::start().await;
    let mut events = api.events().await;
    let dir = tempfile::tempdir().unwrap();
    let joiner = wharf::App::start(config_with_peers(dir.path(), &[peer_addr(&api.app)]))
        .await
        .unwrap();
    let jid = joiner.peer_id();
    eventually(LONG, "joiner connected", || async {
        api.app.p2p.peer(jid).await.unwrap().is_some()
    })
    .await;
    let body = json!({"target": "127.0.0.1", "reason": "test", "duration": "10m"}).to_string();
    assert_eq!(post_json(&api, "/api/v1/bans", &body, JSON).await.0, 201);
    eventually(
        Duration::from_secs(2),
        "connection from the banned IP closed",
        || async { api.app.p2p.peer(jid).await.unwrap().is_none() },
    )
    .await;
    let ev = tokio::time::timeout(LONG, next_event(&mut events, "ban_added"))
        .await
        .expect("no ban event");
    assert_eq!(ev["ban"]["target"], "127.0.0.1");
    joiner.shutdown().await;
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn score_routes_show_history_and_reset() {
    let api = Api::start().await;
    let peer = libp2p::PeerId::random();
    api.app.control.penalise(peer, None, ScoreEvent::Timeout);
    api.app.control.penalise(peer, None, ScoreEvent::Malformed);
    let (status, score) = api
        .get(&format!("/api/v1/scores/{peer}"), Some(&read_token()))
        .await;
    assert_eq!(status, 200, "{score}");
    assert!(score["score"].as_f64().unwrap() < 0.0);
    assert!(score["history"].as_array().unwrap().len() >= 2, "{score}");
    let (_, page) = api.get("/api/v1/scores", Some(&read_token())).await;
    assert_eq!(page["total"], 1);
    assert_eq!(
        api.post(&format!("/api/v1/scores/{peer}/reset"), &admin_token())
            .await
            .0,
        200
    );
    let (_, after) = api
        .get(&format!("/api/v1/scores/{peer}"), Some(&read_token()))
        .await;
    assert_eq!(after["score"].as_f64().unwrap_or(0.0), 0.0, "{after}");
    assert_eq!(
        api.get("/api/v1/scores/not-a-peer", Some(&read_token()))
            .await
            .0,
        400
    );
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeder_chain_routes_and_block_events() {
    let gcfg = GatewayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        block_time: Duration::from_millis(200),
        premint: 5,
        ..GatewayConfig::default()
    };
    let gw = Gateway::start(gcfg, CancellationToken::new())
        .await
        .unwrap();
    let url = gw.url();
    let api = Api::start_with(move |c| {
        c.feeder.enabled = true;
        c.feeder.gateway_url = url;
    })
    .await;
    let mut events = api.events().await;
    let ev = tokio::time::timeout(LONG, next_event(&mut events, "block_committed"))
        .await
        .expect("no block event");
    assert!(ev["number"].as_u64().is_some(), "{ev}");
    let (status, chain) = api.get("/api/v1/chain", Some(&read_token())).await;
    assert_eq!(status, 200, "{chain}");
    assert_eq!(chain["mode"], "feeder");
    assert_eq!(chain["chain"], "devnet");
    assert!(chain["gateway_head"].as_u64().is_some(), "{chain}");
    assert!(chain["head"]["number"].as_u64().is_some(), "{chain}");
    let (status, block) = api.get("/api/v1/blocks/1", Some(&read_token())).await;
    assert_eq!(status, 200, "{block}");
    assert_eq!(block["number"], 1);
    assert_eq!(block["bodies"].as_array().unwrap().len(), 4);
    assert_eq!(
        api.get("/api/v1/blocks/99999999", Some(&read_token()))
            .await
            .0,
        404
    );
    api.stop().await;
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_leaves_an_audit_row_reloaded_from_disk() {
    let api = Api::start().await;
    let body = json!({"target": "198.51.100.1", "reason": "audit me"}).to_string();
    let (_, ban) = post_json(&api, "/api/v1/bans", &body, JSON).await;
    let id = ban["id"].as_i64().unwrap();
    delete(&api, &format!("/api/v1/bans/{id}")).await;
    let peer = libp2p::PeerId::random();
    api.post(&format!("/api/v1/scores/{peer}/reset"), &admin_token())
        .await;
    api.get("/api/v1/bans", Some(&read_token())).await; // a read: not audited
    let (status, page) = api.get("/api/v1/audit", Some(&read_token())).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 3, "{page}");
    let rows = page["items"].as_array().unwrap();
    assert_eq!(
        rows[0]["route"], "/api/v1/scores/{peer_id}/reset",
        "newest first"
    );
    assert_eq!(rows[1]["method"], "DELETE");
    assert_eq!(rows[1]["path"], format!("/api/v1/bans/{id}"));
    assert_eq!(
        (rows[2]["method"].as_str(), rows[2]["status"].as_u64()),
        (Some("POST"), Some(201))
    );
    assert!(rows.iter().all(
        |r| r["subject"] == "tester" && r["client"].as_str().unwrap().starts_with("127.0.0.1:")
    ));
    // what each mutation did, not only its route
    assert_eq!(rows[0]["detail"], json!({"peer_id": peer.to_string()}));
    let ban_detail = json!({"ban_id": id, "target": "198.51.100.1"});
    assert_eq!(
        (&rows[1]["detail"], &rows[2]["detail"]),
        (&ban_detail, &ban_detail)
    );
    let log = std::fs::read_to_string(api.app_data_dir().join(wharf::api::audit::FILE)).unwrap();
    assert_eq!(log.lines().count(), 3, "each mutation appended to the file");
    let reopened = wharf::api::audit::AuditLog::open(api.app_data_dir()).unwrap();
    assert_eq!(
        reopened.newest_first().len(),
        3,
        "a restart reloads the log"
    );
    api.stop().await;
}
