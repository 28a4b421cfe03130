//! Greylisting (as Tezos does): peer ids cost nothing, addresses do. Repeated automatic bans of
//! peers from one IP escalate to a ban of that IP, and repeated IP bans within one subnet (an
//! IPv4 /24, an IPv6 /64 by default) to a ban of the subnet, so a Sybil minting fresh peer ids
//! ends in one address ban instead of an endless stream of peer bans.
//!
//! Bounded: counts older than the window are forgotten; at most [`MAX_TRACKED`] addresses and
//! subnets are tracked (when full, stale entries are dropped, then new ones are not counted).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use ipnetwork::IpNetwork;

use super::ban::BanTarget;
use super::config::ControlConfig;

/// Addresses (and subnets) tracked at most.
const MAX_TRACKED: usize = 65_536;

/// Recent ban instants per key, oldest first.
struct Window<K> {
    seen: HashMap<K, VecDeque<DateTime<Utc>>>,
}

impl<K: std::hash::Hash + Eq + Copy> Window<K> {
    fn new() -> Self {
        Window {
            seen: HashMap::new(),
        }
    }

    /// Counts one ban of `key` at `now`; returns how many fall in the window ending now.
    fn hit(&mut self, key: K, now: DateTime<Utc>, window: chrono::Duration) -> usize {
        let start = now - window;
        if self.seen.len() >= MAX_TRACKED && !self.seen.contains_key(&key) {
            self.seen
                .retain(|_, v| v.back().is_some_and(|t| *t > start));
            if self.seen.len() >= MAX_TRACKED {
                return 0;
            }
        }
        let times = self.seen.entry(key).or_default();
        while times.front().is_some_and(|t| *t <= start) {
            times.pop_front();
        }
        times.push_back(now);
        times.len()
    }

    fn forget(&mut self, key: &K) {
        self.seen.remove(key);
    }
}

struct State {
    ips: Window<IpAddr>,
    subnets: Window<IpNetwork>,
}

/// See the module docs.
pub(crate) struct Escalator {
    cfg: ControlConfig,
    state: Mutex<State>,
}

impl Escalator {
    pub(crate) fn new(cfg: &ControlConfig) -> Escalator {
        Escalator {
            cfg: cfg.clone(),
            state: Mutex::new(State {
                ips: Window::new(),
                subnets: Window::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn window(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.cfg.escalation_window).unwrap_or(chrono::Duration::MAX)
    }

    /// A peer from `ip` was just auto-banned: the address bans this calls for, if any.
    pub(crate) fn peer_banned(&self, ip: IpAddr, now: DateTime<Utc>) -> Vec<BanTarget> {
        let ip = ip.to_canonical();
        let mut st = self.lock();
        let after = self.cfg.ip_ban_after as usize;
        let escalate =
            self.cfg.auto_ban_ip || (after > 0 && st.ips.hit(ip, now, self.window()) >= after);
        if !escalate {
            return Vec::new();
        }
        st.ips.forget(&ip);
        let mut targets = vec![BanTarget::Ip(ip)];
        targets.extend(self.ip_banned(&mut st, ip, now));
        targets
    }

    /// An IP was auto-banned: its subnet, once enough of its addresses were.
    fn ip_banned(&self, st: &mut State, ip: IpAddr, now: DateTime<Utc>) -> Option<BanTarget> {
        let after = self.cfg.subnet_ban_after as usize;
        let net = self.subnet(ip)?;
        if after == 0 || st.subnets.hit(net, now, self.window()) < after {
            return None;
        }
        st.subnets.forget(&net);
        Some(BanTarget::from_network(net))
    }

    fn subnet(&self, ip: IpAddr) -> Option<IpNetwork> {
        let prefix = match ip {
            IpAddr::V4(_) => self.cfg.subnet_prefix_v4,
            IpAddr::V6(_) => self.cfg.subnet_prefix_v6,
        };
        let net = IpNetwork::new(ip, prefix).ok()?;
        IpNetwork::new(net.network(), prefix).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ControlConfig {
        ControlConfig {
            ip_ban_after: 3,
            subnet_ban_after: 2,
            ..ControlConfig::default()
        }
    }

    #[test]
    fn peer_bans_escalate_to_the_ip_then_the_subnet() {
        let e = Escalator::new(&cfg());
        let now = Utc::now();
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let b: IpAddr = "203.0.113.9".parse().unwrap();
        assert!(e.peer_banned(a, now).is_empty());
        assert!(e.peer_banned(a, now).is_empty());
        assert_eq!(e.peer_banned(a, now), vec![BanTarget::Ip(a)]);
        assert!(e.peer_banned(a, now).is_empty(), "counting starts again");
        for _ in 0..2 {
            assert!(e.peer_banned(b, now).is_empty());
        }
        let subnet: BanTarget = "203.0.113.0/24".parse().unwrap();
        assert_eq!(e.peer_banned(b, now), vec![BanTarget::Ip(b), subnet]);
    }

    #[test]
    fn bans_outside_the_window_do_not_count() {
        let e = Escalator::new(&cfg());
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        let long_ago = Utc::now() - chrono::Duration::hours(2);
        e.peer_banned(ip, long_ago);
        e.peer_banned(ip, long_ago);
        assert!(e.peer_banned(ip, Utc::now()).is_empty());
    }
}
