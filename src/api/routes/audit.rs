//! `GET /api/v1/audit`: mutating calls, newest first, paged.

use axum::extract::State;
use axum::Json;

use crate::api::audit::AuditEntry;
use crate::api::extract::{ApiQuery, Page, Paging};
use crate::api::{ApiError, ApiState};

pub async fn list(
    State(st): State<ApiState>,
    ApiQuery(paging): ApiQuery<Paging>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    let paging = paging.check()?;
    let all = st.audit.newest_first();
    let total = all.len() as u64;
    Ok(Json(Page {
        items: paging.page(all),
        total,
        offset: paging.offset,
        limit: paging.limit,
    }))
}
