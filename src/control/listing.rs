//! Active bans as the admin API lists them, each serialised to JSON once per version of the ban:
//! listing bans is the API's hot path and formatting is most of its cost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ban::{Ban, BanKind};

/// Cached entries at most; past it the cache starts over (it refills on the next listings).
const MAX_CACHED: usize = 2_000_000;

/// A ban as listed: the ban, its kind, and whether it blocks now.
#[derive(Debug, Serialize)]
pub struct BanView {
    #[serde(flatten)]
    pub ban: Ban,
    pub kind: BanKind,
    pub active: bool,
}

impl BanView {
    /// The view of `ban` at `now`.
    pub fn at(ban: Ban, now: DateTime<Utc>) -> Self {
        let (kind, active) = (ban.target.kind(), ban.is_active_at(now));
        BanView { ban, kind, active }
    }
}

/// See the module docs.
#[derive(Default)]
pub(crate) struct JsonCache {
    map: Mutex<HashMap<i64, (Ban, Arc<str>)>>,
}

impl JsonCache {
    /// The JSON of the view of `ban`, which the caller knows to be active.
    pub(crate) fn active_json(&self, ban: &Ban) -> Arc<str> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((cached, json)) = map.get(&ban.id) {
            if cached == ban {
                return json.clone();
            }
        }
        let view = BanView {
            ban: ban.clone(),
            kind: ban.target.kind(),
            active: true,
        };
        let json: Arc<str> = serde_json::to_string(&view).expect("bans serialise").into();
        if map.len() >= MAX_CACHED {
            map.clear();
        }
        map.insert(ban.id, (ban.clone(), json.clone()));
        json
    }
}
