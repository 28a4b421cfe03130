//! The API listener under abuse: half-sent requests are cut at the header timeout, connections
//! over the cap wait for a free slot, and the event stream has a subscriber cap.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

use crate::harness::{admin_token, Api};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_half_sent_requests_are_closed_after_the_header_timeout() {
    let api = Api::start_with(|c| c.api.header_read_timeout = Duration::from_secs(1)).await;
    let mut conns = Vec::new();
    for _ in 0..300 {
        let mut s = TcpStream::connect(api.app.api_addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: wharf\r\n")
            .await
            .unwrap(); // never the final CRLF
        conns.push(s);
    }
    let start = Instant::now();
    for mut s in conns {
        let mut rest = Vec::new();
        let closed = timeout(Duration::from_secs(10), s.read_to_end(&mut rest)).await;
        assert!(
            closed.is_ok(),
            "connection still open after {:?}",
            start.elapsed()
        );
    }
    // and the API still answers
    assert_eq!(api.get("/healthz", None).await.0, 200);
    api.stop().await;
}

async fn healthz_within(api: &Api, within: Duration) -> Option<u16> {
    let http = reqwest::Client::builder().timeout(within).build().unwrap();
    let resp = http.get(format!("{}/healthz", api.base)).send().await;
    resp.ok().map(|r| r.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_wait_for_a_free_slot() {
    let api = Api::start_with(|c| c.api.max_connections = 4).await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(api.app.api_addr).await.unwrap());
    }
    assert_eq!(
        healthz_within(&api, Duration::from_millis(700)).await,
        None,
        "a fifth connection is not served while four are open"
    );
    drop(idle.pop());
    let answered = healthz_within(&api, Duration::from_secs(10)).await;
    assert_eq!(answered, Some(200), "served once a slot is free");
    drop(idle);
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_subscriber_over_the_cap_gets_503_json() {
    let api = Api::start_with(|c| c.api.max_event_subscribers = 2).await;
    let first = api.events().await;
    let second = api.events().await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = api.events().await;
    assert_eq!(third.status(), 503);
    let body: serde_json::Value = third.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(10);
    for i in 1.. {
        // an event makes the server write to the dropped stream and notice it is gone
        let ban = serde_json::json!({"target": format!("198.51.100.{i}"), "reason": "wake"});
        let url = format!("{}/api/v1/bans", api.base);
        let post = api.http.post(url).bearer_auth(admin_token()).json(&ban);
        assert_eq!(post.send().await.unwrap().status(), 201);
        if api.events().await.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "slot never freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(second);
    api.stop().await;
}
