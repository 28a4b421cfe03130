//! Bans: list (paged, by kind, active or expired), add, get, remove one, clear all.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::api::audit::AuditDetail;
use crate::api::auth::Principal;
use crate::api::extract::{ApiJson, ApiPath, ApiQuery, Page, Paging};
use crate::api::{ApiError, ApiState};
use crate::control::{BanFilter, BanKind, BanTarget, BanView, Expiry, NewBan};

/// Query of `GET /api/v1/bans`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BanQuery {
    #[serde(default)]
    offset: u64,
    #[serde(default = "default_limit")]
    limit: u64,
    /// `ip`, `cidr` or `peer`.
    kind: Option<BanKind>,
    /// `active` (default), `expired` or `all`.
    #[serde(default)]
    status: Status,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    #[default]
    Active,
    Expired,
    All,
}

fn default_limit() -> u64 {
    100
}

/// Body of `POST /api/v1/bans`. Neither `duration` nor `expires_at`: permanent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBanBody {
    /// IP, CIDR or peer id.
    target: String,
    reason: String,
    /// How long, e.g. `"1h"`, `"30m"`.
    duration: Option<String>,
    /// Absolute expiry (RFC 3339).
    expires_at: Option<DateTime<Utc>>,
}

impl NewBanBody {
    fn into_new_ban(self, created_by: String) -> Result<NewBan, ApiError> {
        let bad = |m: String| ApiError::Unprocessable(m);
        let target: BanTarget = self
            .target
            .parse()
            .map_err(|e| bad(format!("target: {e}")))?;
        if self.reason.trim().is_empty() {
            return Err(bad("reason: must not be empty".into()));
        }
        let expiry = match (self.duration, self.expires_at) {
            (Some(_), Some(_)) => {
                return Err(bad("duration, expires_at: give one, not both".into()))
            }
            (Some(d), None) => Expiry::For(parse_duration(&d)?),
            (None, Some(at)) if at <= Utc::now() => {
                return Err(bad(format!("expires_at: {at} is not in the future")))
            }
            (None, Some(at)) => Expiry::Until(at),
            (None, None) => Expiry::Permanent,
        };
        Ok(NewBan {
            target,
            reason: self.reason,
            created_by,
            expiry,
        })
    }
}

fn parse_duration(raw: &str) -> Result<Duration, ApiError> {
    let d = humantime::parse_duration(raw.trim())
        .map_err(|e| ApiError::Unprocessable(format!("duration: `{raw}`: {e}")))?;
    if d.is_zero() {
        return Err(ApiError::Unprocessable(
            "duration: must be greater than zero".into(),
        ));
    }
    Ok(d)
}

/// A ban id: positive for a stored ban, negative for an automatic ban not yet stored.
fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id != 0)
        .ok_or_else(|| ApiError::BadRequest(format!("path: id `{raw}` is not a non-zero integer")))
}

pub async fn list(
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<BanQuery>,
) -> Result<Response, ApiError> {
    let paging = Paging {
        offset: q.offset,
        limit: q.limit,
    }
    .check()?;
    let (bans, total) = match q.status {
        // From the in-memory index, pre-serialised: the hot path, and it still answers while
        // the store is down.
        Status::Active => return Ok(active_page(&st, q.kind, paging)),
        // Paged by the store: one indexed query per page.
        Status::All => {
            let filter = BanFilter {
                include_expired: true,
                kind: q.kind,
                offset: paging.offset,
                limit: Some(paging.limit),
            };
            let page = st.control.list_bans(&filter).await?;
            (page.bans, page.total)
        }
        // The store keeps no "expired only" index: filter the full listing (a rare query).
        Status::Expired => {
            let filter = BanFilter {
                include_expired: true,
                kind: q.kind,
                offset: 0,
                limit: None,
            };
            let now = Utc::now();
            let mut bans = st.control.list_bans(&filter).await?.bans;
            bans.retain(|b| !b.is_active_at(now));
            let total = bans.len() as u64;
            (paging.page(bans), total)
        }
    };
    let now = Utc::now();
    let items = bans.into_iter().map(|b| BanView::at(b, now)).collect();
    Ok(Json(Page {
        items,
        total,
        offset: paging.offset,
        limit: paging.limit,
    })
    .into_response())
}

/// The same `Page` shape as the other listings, assembled from each ban's cached JSON.
fn active_page(st: &ApiState, kind: Option<BanKind>, paging: Paging) -> Response {
    let (items, total) = st
        .control
        .active_bans_json(kind, paging.offset, paging.limit);
    let body = format!(
        "{{\"items\":[{}],\"total\":{total},\"offset\":{},\"limit\":{}}}",
        items.join(","),
        paging.offset,
        paging.limit
    );
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

pub async fn add(
    State(st): State<ApiState>,
    axum::Extension(who): axum::Extension<Principal>,
    ApiJson(body): ApiJson<NewBanBody>,
) -> Result<(StatusCode, Extension<AuditDetail>, Json<BanView>), ApiError> {
    let ban = st.control.add_ban(body.into_new_ban(who.sub)?).await?;
    let detail = AuditDetail::ban(&ban);
    Ok((
        StatusCode::CREATED,
        detail,
        Json(BanView::at(ban, Utc::now())),
    ))
}

pub async fn get_one(
    State(st): State<ApiState>,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<BanView>, ApiError> {
    let id = parse_id(&raw)?;
    let ban = st.control.get_ban(id).await?;
    ban.map(|b| Json(BanView::at(b, Utc::now())))
        .ok_or_else(|| ApiError::NotFound(format!("ban {id} does not exist")))
}

pub async fn remove(
    State(st): State<ApiState>,
    ApiPath(raw): ApiPath<String>,
) -> Result<(Extension<AuditDetail>, Json<BanView>), ApiError> {
    let id = parse_id(&raw)?;
    let ban = st.control.remove_ban(id).await?;
    ban.map(|b| (AuditDetail::ban(&b), Json(BanView::at(b, Utc::now()))))
        .ok_or_else(|| ApiError::NotFound(format!("ban {id} does not exist")))
}

/// Query of `DELETE /api/v1/bans`: `confirm=true` is required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClearQuery {
    confirm: Option<bool>,
}

pub async fn clear(
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<ClearQuery>,
) -> Result<(Extension<AuditDetail>, Json<serde_json::Value>), ApiError> {
    if q.confirm != Some(true) {
        return Err(ApiError::BadRequest(
            "query: confirm=true is required to remove every ban".into(),
        ));
    }
    let removed = st.control.clear_bans().await?;
    let detail = AuditDetail {
        removed: Some(removed),
        ..AuditDetail::default()
    };
    Ok((
        Extension(detail),
        Json(serde_json::json!({ "removed": removed })),
    ))
}
