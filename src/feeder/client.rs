//! HTTP client of the upstream gateway (devnet or a Starknet feeder gateway), classifying every
//! failure into a metric kind and honouring rate limits. Bodies are read up to
//! `max_response_bytes` and redirects are followed only within the gateway's origin, so the
//! upstream cannot exhaust memory nor send the relay (and its API key) elsewhere.

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;

use super::FeederConfig;
use crate::chain::BlockNumber;
use crate::gateway::{HeadResponse, PublicKeyResponse};

/// A failed request to the gateway.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Could not connect.
    #[error("connect: {0}")]
    Connect(reqwest::Error),
    /// The request (or its body) timed out.
    #[error("timeout: {0}")]
    Timeout(reqwest::Error),
    /// A non-success HTTP status.
    #[error("HTTP status {0}")]
    Status(StatusCode),
    /// HTTP 429: the gateway asks us to slow down (for `Retry-After`, when it says).
    #[error("rate limited (HTTP 429), retry after {retry_after:?}")]
    RateLimited {
        /// The gateway's `Retry-After` (seconds form), capped at 5 minutes.
        retry_after: Option<Duration>,
    },
    /// Reading the body failed, or another transport error.
    #[error("transport: {0}")]
    Body(reqwest::Error),
    /// A JSON answer that does not parse.
    #[error("unparsable answer: {0}")]
    Garbage(String),
    /// The body is larger than `feeder.max_response_bytes`.
    #[error("response body over the {limit}-byte limit (feeder.max_response_bytes)")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A redirect to another origin than the gateway's (or too many redirects): not followed.
    #[error("redirect refused: {0}")]
    Redirect(reqwest::Error),
}

impl FetchError {
    /// The `kind` label of `wharf_gateway_errors_total`.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Connect(_) => "connect",
            FetchError::Timeout(_) => "timeout",
            FetchError::Status(_) => "status",
            FetchError::RateLimited { .. } => "rate_limited",
            FetchError::Body(_) => "body",
            FetchError::Garbage(_) => "garbage",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::Redirect(_) => "redirect",
        }
    }

    /// The minimum wait the gateway asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_redirect() {
            FetchError::Redirect(e)
        } else if e.is_timeout() {
            FetchError::Timeout(e)
        } else if e.is_connect() {
            FetchError::Connect(e)
        } else {
            FetchError::Body(e)
        }
    }
}

/// Client of one gateway base URL.
#[derive(Debug, Clone)]
pub struct GatewayClient {
    http: reqwest::Client,
    base: String,
    max_body: usize,
}

/// Redirects within the gateway's origin (scheme, host, port) only, at most 5.
fn same_origin_redirects(base: &str) -> reqwest::redirect::Policy {
    let origin = reqwest::Url::parse(base).ok().map(|u| u.origin());
    reqwest::redirect::Policy::custom(move |attempt| {
        let same = origin.as_ref() == Some(&attempt.url().origin());
        if attempt.previous().len() > 5 {
            attempt.error("more than 5 redirects")
        } else if same {
            attempt.follow()
        } else {
            let to = attempt.url().origin().ascii_serialization();
            attempt.error(format!("the gateway redirected to another origin: {to}"))
        }
    })
}

impl GatewayClient {
    /// A client with the configured timeouts.
    pub fn new(cfg: &FeederConfig) -> Result<Self, FetchError> {
        let mut headers = reqwest::header::HeaderMap::new();
        let key = cfg
            .gateway_api_key
            .as_ref()
            .filter(|k| !k.expose().is_empty());
        if let Some(key) = key {
            let mut value = reqwest::header::HeaderValue::from_str(key.expose()).map_err(|_| {
                FetchError::Garbage("feeder.gateway_api_key is not a valid header value".into())
            })?;
            value.set_sensitive(true);
            headers.insert("x-throttling-bypass", value);
        }
        let base = cfg.gateway_url.trim_end_matches('/').to_string();
        let http = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.request_timeout)
            .user_agent(concat!("wharf/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .redirect(same_origin_redirects(&base))
            .build()
            .map_err(FetchError::Body)?;
        let max_body = cfg.max_response_bytes;
        Ok(GatewayClient {
            http,
            base,
            max_body,
        })
    }

    /// `GET /head`.
    pub async fn head(&self) -> Result<HeadResponse, FetchError> {
        self.json("/head").await
    }

    /// `GET /public-key`.
    pub async fn public_key(&self) -> Result<PublicKeyResponse, FetchError> {
        self.json("/public-key").await
    }

    /// `GET /blocks/{number}`: the raw framed block.
    pub async fn block(&self, number: BlockNumber) -> Result<Bytes, FetchError> {
        self.bytes(&format!("/blocks/{number}")).await
    }

    /// `GET <base><path>` parsed as JSON.
    pub(super) async fn json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, FetchError> {
        let bytes = self.bytes(path).await?;
        serde_json::from_slice(&bytes).map_err(|e| FetchError::Garbage(e.to_string()))
    }

    /// `GET <base><path>`: the whole body, refused past `max_response_bytes`.
    pub(super) async fn bytes(&self, path: &str) -> Result<Bytes, FetchError> {
        let mut response = self.get(path).await?;
        let too_large = FetchError::TooLarge {
            limit: self.max_body,
        };
        if response.content_length().unwrap_or(0) > self.max_body as u64 {
            return Err(too_large);
        }
        let mut body = bytes::BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(FetchError::from_reqwest)? {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    async fn get(&self, path: &str) -> Result<reqwest::Response, FetchError> {
        let url = format!("{}{path}", self.base);
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(FetchError::from_reqwest)?;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            return Err(FetchError::RateLimited {
                retry_after: retry_after(&response),
            });
        }
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status()));
        }
        Ok(response)
    }
}

/// `Retry-After` in its seconds form (the HTTP-date form is ignored), capped at 5 minutes.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    let secs: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs.min(300)))
}
