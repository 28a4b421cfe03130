//! Every class of authentication failure, and the two kinds of key that succeed.

use serde_json::json;

use crate::harness::*;

async fn expect_401(api: &Api, token: Option<&str>, needle: &str) {
    let resp = api
        .http
        .get(format!("{}/api/v1/node", api.base))
        .header(
            "Authorization",
            token.map(|t| format!("Bearer {t}")).unwrap_or_default(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401, "{needle}");
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .expect("WWW-Authenticate")
        .to_str()
        .unwrap()
        .to_string();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_token");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains(needle), "expected {needle:?} in {msg:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_token_is_refused_with_401_and_a_reason() {
    let api = Api::start().await;
    let c = |extra| claims("admin", extra);
    expect_401(&api, None, "Bearer").await;
    expect_401(&api, Some("not.a.jwt"), "malformed").await;
    let expired = hs_token(
        Some(HS_KID),
        HS_SECRET,
        &c(json!({"exp": now() - 3600, "iat": now() - 7200})),
    );
    expect_401(&api, Some(&expired), "expired").await;
    let nbf = hs_token(Some(HS_KID), HS_SECRET, &c(json!({"nbf": now() + 3600})));
    expect_401(&api, Some(&nbf), "not yet valid").await;
    let iat = hs_token(Some(HS_KID), HS_SECRET, &c(json!({"iat": now() + 3600})));
    expect_401(&api, Some(&iat), "not yet valid").await;
    let wrong_key = hs_token(
        Some(HS_KID),
        "another-secret-another-secret-another",
        &c(json!({})),
    );
    expect_401(&api, Some(&wrong_key), "bad signature").await;
    let wrong_kid = hs_token(Some("nope"), HS_SECRET, &c(json!({})));
    expect_401(&api, Some(&wrong_kid), "unknown key id").await;
    let no_kid = hs_token(None, HS_SECRET, &c(json!({})));
    expect_401(&api, Some(&no_kid), "kid").await;
    let aud = hs_token(Some(HS_KID), HS_SECRET, &c(json!({"aud": "someone-else"})));
    expect_401(&api, Some(&aud), "audience").await;
    let iss = hs_token(Some(HS_KID), HS_SECRET, &c(json!({"iss": "mallory"})));
    expect_401(&api, Some(&iss), "issuer").await;
    let no_sub = hs_token(Some(HS_KID), HS_SECRET, &c(json!({"sub": null})));
    expect_401(&api, Some(&no_sub), "sub").await;
    expect_401(&api, Some(&none_token()), "malformed").await;
    // An HS256 token presented under the EdDSA key's kid: algorithm pinned per key.
    let confused = hs_token(Some(ED_KID), HS_SECRET, &c(json!({})));
    expect_401(&api, Some(&confused), "not accepted").await;
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_and_both_key_kinds() {
    let api = Api::start().await;
    let (status, body) = api.get("/api/v1/node", Some(&read_token())).await;
    assert_eq!(status, 200, "{body}");
    let ed = ed_token(&api.ed_private_pem, &claims("read", json!({})));
    assert_eq!(
        api.get("/api/v1/node", Some(&ed)).await.0,
        200,
        "EdDSA token accepted"
    );
    let peer = libp2p::PeerId::random();
    let (status, body) = api
        .post(&format!("/api/v1/peers/{peer}/disconnect"), &read_token())
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "insufficient_scope");
    let no_scope = hs_token(Some(HS_KID), HS_SECRET, &claims("", json!({})));
    assert_eq!(api.get("/api/v1/node", Some(&no_scope)).await.0, 403);
    let (status, _) = api
        .post(&format!("/api/v1/peers/{peer}/disconnect"), &admin_token())
        .await;
    assert_eq!(
        status, 404,
        "admin passes auth; the peer is simply not connected"
    );
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wharf_token_mints_a_token_the_api_accepts() {
    let api = Api::start().await;
    let cfg = api_config(std::path::Path::new("/nonexistent"));
    let ring = wharf::api::Keyring::from_config(&wharf::config::ApiConfig {
        keys: cfg.api.keys[..1].to_vec(),
        ..cfg.api.clone()
    })
    .unwrap();
    let token = ring
        .mint(None, "ops", "admin", std::time::Duration::from_secs(60))
        .unwrap();
    assert_eq!(api.get("/api/v1/node", Some(&token)).await.0, 200);
    api.stop().await;
}
