//! What a hostile or broken gateway cannot make a feeder do: buffer an endless body, or follow
//! a redirect to another origin (which would also carry the API key there).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::routing::get;
use axum::Router;
use wharf::feeder::{FeederConfig, FetchError, GatewayClient};

/// Serves `router` on 127.0.0.1 port 0; returns its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

fn client(base: &str, max: usize) -> GatewayClient {
    let cfg = FeederConfig {
        gateway_url: base.into(),
        max_response_bytes: max,
        ..FeederConfig::default()
    };
    GatewayClient::new(&cfg).unwrap()
}

const KEY: &str = r#"{"key_type":"ed25519","public_key":"00"}"#;

#[tokio::test]
async fn an_oversized_body_is_refused_with_a_clear_error() {
    let body = vec![b'x'; 2 << 20];
    let chunked = body.clone();
    let router = Router::new()
        .route("/blocks/1", get(move || async move { body }))
        .route(
            "/blocks/2",
            // no Content-Length: the cap applies while streaming
            get(move || async move {
                let chunks = chunked
                    .chunks(64 * 1024)
                    .map(|c| Ok::<_, std::io::Error>(c.to_vec()));
                axum::body::Body::from_stream(futures::stream::iter(chunks.collect::<Vec<_>>()))
            }),
        )
        .route("/blocks/3", get(|| async { vec![b'y'; 1000] }));
    let base = serve(router).await;
    let gw = client(&base, 1 << 20);
    for n in [1, 2] {
        let err = gw.block(n).await.unwrap_err();
        assert!(
            matches!(err, FetchError::TooLarge { limit } if limit == 1 << 20),
            "{err}"
        );
        assert_eq!(err.kind(), "too_large");
        assert!(err.to_string().contains("max_response_bytes"), "{err}");
    }
    assert_eq!(gw.block(3).await.unwrap().len(), 1000, "small bodies pass");
}

#[tokio::test]
async fn redirects_leave_the_gateway_origin_never() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let elsewhere = serve(Router::new().route(
        "/public-key",
        get(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { KEY }
        }),
    ))
    .await;
    let away = format!("{elsewhere}/public-key");
    let router = Router::new()
        .route(
            "/head",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/moved-key")]) }),
        )
        .route("/moved-key", get(|| async { KEY }))
        .route(
            "/public-key",
            get(move || async move { (StatusCode::FOUND, [(header::LOCATION, away)]) }),
        );
    let base = serve(router).await;
    let gw = client(&base, 1 << 20);
    let err = gw.public_key().await.unwrap_err();
    assert!(matches!(err, FetchError::Redirect(_)), "{err}");
    assert_eq!(err.kind(), "redirect");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the other origin was never asked"
    );
    // a redirect within the origin is followed (the body is then not a head: garbage)
    let err = gw.head().await.unwrap_err();
    assert_eq!(err.kind(), "garbage", "followed to /moved-key: {err}");
}
