//! The one writer of the ban index: applies single changes and full reconciliations, works
//! out which events they imply, and publishes a new snapshot per batch.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};

use super::snapshot::{Deadline, Snapshot, PERMANENT};
use crate::control::ban::{Ban, BanKind, BanTarget};
use crate::control::event::ControlEvent;

/// Mutable state: every known ban plus the working copy of the snapshot.
///
/// `epoch` counts local changes and `touched` remembers which ban each recent change was
/// about, so a store read that started before a local change (a reconcile, a notification
/// fetch) cannot undo it: such reads pass the epoch they started at and leave newer entries
/// alone.
#[derive(Default)]
struct State {
    snapshot: Snapshot,
    by_id: BTreeMap<i64, Ban>,
    by_target: HashMap<BanTarget, Vec<i64>>,
    epoch: u64,
    touched: HashMap<i64, u64>,
    /// `seen` of the previous full replace: entries older than it are forgotten, one
    /// reconcile late, so a fetch still in flight across one reconcile stays protected.
    last_replace: u64,
    /// Temporary bans by expiry, so sweeps and scheduling never scan every ban.
    expiries: BTreeSet<(DateTime<Utc>, i64)>,
    /// Known bans per kind, in [`BanKind::ALL`] order.
    counts: [i64; 3],
}

/// Owns the mutable side of the index. Its mutex is only held for in-memory work, never
/// across an await.
pub(crate) struct IndexWriter {
    shared: Arc<ArcSwap<Snapshot>>,
    state: Mutex<State>,
}

fn kind_index(kind: BanKind) -> usize {
    match kind {
        BanKind::Ip => 0,
        BanKind::Cidr => 1,
        BanKind::Peer => 2,
    }
}

fn deadline(ban: &Ban) -> Deadline {
    ban.expires_at.map_or(PERMANENT, |t| t.timestamp_millis())
}

impl State {
    fn refresh_target(&mut self, target: &BanTarget) {
        let ids = self.by_target.get(target);
        let best = ids.and_then(|ids| ids.iter().map(|id| deadline(&self.by_id[id])).max());
        self.snapshot.set(target, best);
    }

    fn insert(&mut self, ban: Ban) -> Option<ControlEvent> {
        if self.by_id.get(&ban.id) == Some(&ban) {
            return None;
        }
        if let Some(old) = self.by_id.remove(&ban.id) {
            self.detach(&old);
            self.refresh_target(&old.target);
        }
        self.attach(&ban);
        self.by_id.insert(ban.id, ban.clone());
        self.refresh_target(&ban.target);
        Some(ControlEvent::BanAdded(ban))
    }

    fn attach(&mut self, ban: &Ban) {
        self.by_target.entry(ban.target).or_default().push(ban.id);
        if let Some(t) = ban.expires_at {
            self.expiries.insert((t, ban.id));
        }
        self.counts[kind_index(ban.target.kind())] += 1;
    }

    fn detach(&mut self, ban: &Ban) {
        if let Some(ids) = self.by_target.get_mut(&ban.target) {
            ids.retain(|id| *id != ban.id);
            if ids.is_empty() {
                self.by_target.remove(&ban.target);
            }
        }
        if let Some(t) = ban.expires_at {
            self.expiries.remove(&(t, ban.id));
        }
        self.counts[kind_index(ban.target.kind())] -= 1;
    }

    fn remove(&mut self, id: i64) -> Option<Ban> {
        let ban = self.by_id.remove(&id)?;
        self.detach(&ban);
        self.refresh_target(&ban.target);
        Some(ban)
    }

    fn touch(&mut self, id: i64) {
        self.epoch += 1;
        self.touched.insert(id, self.epoch);
    }

    /// Whether the ban `id` has not changed locally since `seen`.
    fn untouched_since(&self, id: i64, seen: u64) -> bool {
        self.touched.get(&id).is_none_or(|e| *e <= seen)
    }

    fn gone_event(ban: Ban, now: DateTime<Utc>) -> ControlEvent {
        if ban.is_active_at(now) {
            ControlEvent::BanRemoved(ban)
        } else {
            ControlEvent::BanExpired(ban)
        }
    }
}

impl IndexWriter {
    /// A writer publishing into `shared` (the gatekeeper's snapshot cell).
    pub(crate) fn new(shared: Arc<ArcSwap<Snapshot>>) -> IndexWriter {
        IndexWriter {
            shared,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn publish(&self, state: &State) {
        self.shared.store(Arc::new(state.snapshot.clone()));
    }

    /// The current change counter, to pass to [`Self::replace_all`] / [`Self::upsert_since`]
    /// before starting a store read.
    pub(crate) fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// Adds or updates one ban after a local write; `Some(BanAdded)` unless it was already
    /// known unchanged.
    pub(crate) fn upsert(&self, ban: Ban) -> Option<ControlEvent> {
        let mut state = self.lock();
        state.touch(ban.id);
        let event = state.insert(ban);
        if event.is_some() {
            self.publish(&state);
        }
        event
    }

    /// Like [`Self::upsert`] for a ban read from the store after `seen`; ignored if the ban
    /// changed locally in the meantime.
    pub(crate) fn upsert_since(&self, ban: Ban, seen: u64) -> Option<ControlEvent> {
        let mut state = self.lock();
        if !state.untouched_since(ban.id, seen) {
            return None;
        }
        let event = state.insert(ban);
        if event.is_some() {
            self.publish(&state);
        }
        event
    }

    /// Ids of the provisional bans (negative ids) in the index.
    pub(crate) fn provisional_ids(&self) -> Vec<i64> {
        let st = self.lock();
        st.by_id.range(..0).map(|(id, _)| *id).collect()
    }

    /// One known ban by id.
    pub(crate) fn get(&self, id: i64) -> Option<Ban> {
        self.lock().by_id.get(&id).cloned()
    }

    /// Removes one ban by id, returning it if it was known.
    pub(crate) fn remove(&self, id: i64) -> Option<Ban> {
        let mut state = self.lock();
        state.touch(id);
        let ban = state.remove(id);
        if ban.is_some() {
            self.publish(&state);
        }
        ban
    }

    /// Makes the index equal to `active` (the store's active bans, read after epoch `seen`)
    /// plus provisional bans (negative ids) and bans changed locally since `seen`, returning
    /// the events the difference implies.
    pub(crate) fn replace_all(
        &self,
        active: Vec<Ban>,
        now: DateTime<Utc>,
        seen: u64,
    ) -> Vec<ControlEvent> {
        let mut state = self.lock();
        let keep: HashSet<i64> = active.iter().map(|b| b.id).collect();
        let stale: Vec<i64> = state
            .by_id
            .keys()
            .filter(|id| **id > 0 && !keep.contains(id) && state.untouched_since(**id, seen))
            .copied()
            .collect();
        let active: Vec<Ban> = active
            .into_iter()
            .filter(|b| state.untouched_since(b.id, seen))
            .collect();
        let forget = state.last_replace;
        state.touched.retain(|_, e| *e > forget);
        state.last_replace = seen;
        let mut events: Vec<ControlEvent> = stale
            .into_iter()
            .filter_map(|id| state.remove(id))
            .map(|ban| State::gone_event(ban, now))
            .collect();
        events.extend(active.into_iter().filter_map(|ban| state.insert(ban)));
        if !events.is_empty() {
            self.publish(&state);
        }
        events
    }

    /// Drops every ban expired at `now`, returning them (for `BanExpired` events).
    pub(crate) fn sweep_expired(&self, now: DateTime<Utc>) -> Vec<Ban> {
        let mut state = self.lock();
        let expired: Vec<i64> = state
            .expiries
            .iter()
            .take_while(|(t, _)| *t <= now)
            .map(|(_, id)| *id)
            .collect();
        let bans: Vec<Ban> = expired
            .into_iter()
            .filter_map(|id| state.remove(id))
            .collect();
        if !bans.is_empty() {
            self.publish(&state);
        }
        bans
    }

    /// The earliest expiry among known bans, to schedule the next sweep.
    pub(crate) fn next_expiry(&self) -> Option<DateTime<Utc>> {
        self.lock().expiries.first().map(|(t, _)| *t)
    }

    /// Number of known bans per kind, in [`BanKind::ALL`] order.
    /// Bans active at `now`, optionally of one kind, in id order: the page at `offset` of at
    /// most `limit`, and how many there are in all. Memory only: works while the store is down.
    pub(crate) fn active_page<T>(
        &self,
        kind: Option<BanKind>,
        now: DateTime<Utc>,
        offset: usize,
        limit: usize,
        mut each: impl FnMut(&Ban) -> T,
    ) -> (Vec<T>, u64) {
        let st = self.lock();
        // O(1) total and O(offset + limit) page, no clone of the bans: this is the API's hot
        // path. A ban past its expiry but not yet swept (the sweep runs at the expiry instant)
        // is counted in the total for that instant, never listed.
        let total = match kind {
            Some(k) => st.counts[kind_index(k)].max(0) as u64,
            None => st.by_id.len() as u64,
        };
        let of_kind = |b: &&Ban| kind.is_none_or(|k| b.target.kind() == k);
        let page = st
            .by_id
            .values()
            .filter(of_kind)
            .skip(offset)
            .take(limit)
            .filter(|b| b.is_active_at(now))
            .map(&mut each)
            .collect();
        (page, total)
    }

    pub(crate) fn counts(&self) -> [i64; 3] {
        self.lock().counts
    }
}

#[cfg(test)]
mod tests {
    use super::super::snapshot::Lazy;
    use super::*;

    fn ban(id: i64, target: &str) -> Ban {
        Ban {
            id,
            target: target.parse().unwrap(),
            reason: String::new(),
            created_by: String::new(),
            created_at: DateTime::from_timestamp(0, 0).unwrap(),
            expires_at: None,
        }
    }

    fn writer() -> IndexWriter {
        IndexWriter::new(Arc::new(ArcSwap::from_pointee(Snapshot::default())))
    }

    #[test]
    fn a_stale_reconcile_neither_drops_new_bans_nor_resurrects_removed_ones() {
        let w = writer();
        w.replace_all(vec![ban(1, "10.0.0.1")], Utc::now(), 0);
        let seen = w.epoch(); // a reconcile starts reading the store here...
        w.upsert(ban(2, "10.0.0.2")); // ...while a local add
        w.remove(1); // and a local remove complete
        let events = w.replace_all(vec![ban(1, "10.0.0.1")], Utc::now(), seen);
        assert!(events.is_empty(), "{events:?}");
        let snap = w.shared.load();
        assert!(snap.ip_banned("10.0.0.2".parse().unwrap(), &mut Lazy::new(|| 0)));
        assert!(!snap.ip_banned("10.0.0.1".parse().unwrap(), &mut Lazy::new(|| 0)));
        // a later, fresh reconcile is authoritative again
        let events = w.replace_all(vec![ban(2, "10.0.0.2")], Utc::now(), w.epoch());
        assert!(events.is_empty());
        assert_eq!(
            w.upsert_since(ban(1, "10.0.0.1"), seen),
            None,
            "stale fetch ignored"
        );
    }

    #[test]
    fn duplicate_targets_keep_the_longest_deadline() {
        let w = writer();
        let mut short = ban(1, "10.0.0.0/8");
        short.expires_at = Some(Utc::now() + chrono::Duration::seconds(1));
        w.upsert(short);
        w.upsert(ban(2, "10.0.0.0/8"));
        w.remove(2);
        let far = || (Utc::now() + chrono::Duration::seconds(5)).timestamp_millis();
        let ip = "10.1.1.1".parse().unwrap();
        assert!(!w.shared.load().ip_banned(ip, &mut Lazy::new(far)));
        assert_eq!(w.counts(), [0, 1, 0]);
    }

    #[test]
    fn sweeps_take_only_expired_bans_in_expiry_order() {
        let w = writer();
        let now = Utc::now();
        for (id, secs) in [(1, -2), (2, 30), (3, -1)] {
            let mut b = ban(id, &format!("10.0.0.{id}"));
            b.expires_at = Some(now + chrono::Duration::seconds(secs));
            w.upsert(b);
        }
        w.upsert(ban(4, "10.0.0.4"));
        assert_eq!(w.next_expiry(), Some(now - chrono::Duration::seconds(2)));
        let swept: Vec<i64> = w.sweep_expired(now).iter().map(|b| b.id).collect();
        assert_eq!(swept, [1, 3]);
        assert_eq!(w.next_expiry(), Some(now + chrono::Duration::seconds(30)));
        assert_eq!(w.counts(), [2, 0, 0]);
    }
}
