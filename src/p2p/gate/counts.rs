//! Bookkeeping of pending and established connections, by direction, IP, subnet and peer, so the
//! gate can answer limit checks in O(1).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libp2p::swarm::ConnectionId;
use libp2p::PeerId;

/// One established connection as the gate sees it.
#[derive(Debug, Clone, Copy)]
pub struct Conn {
    pub peer: PeerId,
    pub ip: Option<IpAddr>,
    pub inbound: bool,
}

/// Inbound connections from one IP or one subnet: still in their handshake, and in total.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Slots {
    pub pending: u32,
    pub total: u32,
}

/// The subnet `ip` belongs to, as its network address: the IPv4 /24 or the IPv6 /64 (an
/// IPv4-mapped IPv6 address counts as its IPv4 address).
pub fn subnet_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4) & 0xffff_ff00)),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
    }
}

/// Live connection counts.
#[derive(Debug, Default)]
pub struct Counts {
    pending_in: HashMap<ConnectionId, Option<IpAddr>>,
    pending_out: HashSet<ConnectionId>,
    established: HashMap<ConnectionId, Conn>,
    per_ip: HashMap<IpAddr, Slots>,
    per_subnet: HashMap<IpAddr, Slots>,
    per_peer: HashMap<PeerId, u32>,
    inbound: u32,
    outbound: u32,
}

impl Counts {
    pub fn pending_inbound(&self) -> usize {
        self.pending_in.len()
    }

    pub fn pending_outbound(&self) -> usize {
        self.pending_out.len()
    }

    pub fn established_inbound(&self) -> u32 {
        self.inbound
    }

    pub fn established_outbound(&self) -> u32 {
        self.outbound
    }

    /// Inbound connections from `ip`.
    pub fn slots_of_ip(&self, ip: IpAddr) -> Slots {
        self.per_ip.get(&ip).copied().unwrap_or_default()
    }

    /// Inbound connections from the subnet of `ip` (see [`subnet_of`]).
    pub fn slots_of_subnet(&self, ip: IpAddr) -> Slots {
        let net = subnet_of(ip);
        self.per_subnet.get(&net).copied().unwrap_or_default()
    }

    pub fn with_peer(&self, peer: &PeerId) -> u32 {
        self.per_peer.get(peer).copied().unwrap_or(0)
    }

    pub fn add_pending_in(&mut self, id: ConnectionId, ip: Option<IpAddr>) {
        if let Some(ip) = ip {
            self.each_slot(ip, |s| {
                s.pending += 1;
                s.total += 1;
            });
        }
        self.pending_in.insert(id, ip);
    }

    pub fn add_pending_out(&mut self, id: ConnectionId) {
        self.pending_out.insert(id);
    }

    /// A pending inbound connection failed or was denied.
    pub fn drop_pending_in(&mut self, id: ConnectionId) {
        if let Some(Some(ip)) = self.pending_in.remove(&id) {
            self.each_slot(ip, |s| {
                s.pending -= 1;
                s.total -= 1;
            });
        }
    }

    pub fn drop_pending_out(&mut self, id: ConnectionId) {
        self.pending_out.remove(&id);
    }

    /// A connection finished its handshake and every behaviour accepted it.
    pub fn establish(&mut self, id: ConnectionId, mut conn: Conn) {
        if conn.inbound {
            // Its per-IP count was taken while pending and stays with it.
            conn.ip = self.pending_in.remove(&id).flatten();
            if let Some(ip) = conn.ip {
                self.each_slot(ip, |s| s.pending -= 1);
            }
            self.inbound += 1;
        } else {
            self.pending_out.remove(&id);
            self.outbound += 1;
        }
        *self.per_peer.entry(conn.peer).or_default() += 1;
        self.established.insert(id, conn);
    }

    pub fn close(&mut self, id: ConnectionId) {
        let Some(conn) = self.established.remove(&id) else {
            return;
        };
        if conn.inbound {
            self.inbound -= 1;
            if let Some(ip) = conn.ip {
                self.each_slot(ip, |s| s.total -= 1);
            }
        } else {
            self.outbound -= 1;
        }
        if let Some(n) = self.per_peer.get_mut(&conn.peer) {
            *n -= 1;
            if *n == 0 {
                self.per_peer.remove(&conn.peer);
            }
        }
    }

    /// Established connections matching `pred`.
    pub fn matching(&self, pred: impl Fn(&Conn) -> bool) -> Vec<(ConnectionId, Conn)> {
        self.established
            .iter()
            .filter(|(_, c)| pred(c))
            .map(|(id, c)| (*id, *c))
            .collect()
    }

    /// Applies `f` to the slots of `ip` and of its subnet; drops entries that reach zero.
    fn each_slot(&mut self, ip: IpAddr, f: impl Fn(&mut Slots)) {
        for (map, key) in [
            (&mut self.per_ip, ip),
            (&mut self.per_subnet, subnet_of(ip)),
        ] {
            let slots = map.entry(key).or_default();
            f(slots);
            if slots.total == 0 {
                map.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_are_ipv4_slash_24_and_ipv6_slash_64() {
        let net = |s: &str| subnet_of(s.parse().unwrap()).to_string();
        assert_eq!(net("203.0.113.77"), "203.0.113.0");
        assert_eq!(net("::ffff:203.0.113.77"), "203.0.113.0");
        assert_eq!(net("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::");
    }

    #[test]
    fn slots_follow_a_connection_from_pending_to_closed() {
        let mut c = Counts::default();
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        let id = ConnectionId::new_unchecked(1);
        c.add_pending_in(id, Some(ip));
        let pending = Slots {
            pending: 1,
            total: 1,
        };
        assert_eq!(c.slots_of_ip(ip), pending);
        assert_eq!(c.slots_of_subnet("10.0.0.200".parse().unwrap()), pending);
        let peer = PeerId::random();
        c.establish(
            id,
            Conn {
                peer,
                ip: Some(ip),
                inbound: true,
            },
        );
        assert_eq!(
            c.slots_of_subnet(ip),
            Slots {
                pending: 0,
                total: 1
            }
        );
        c.close(id);
        assert_eq!(c.slots_of_ip(ip), Slots::default());
        assert!(c.per_subnet.is_empty() && c.per_ip.is_empty());
    }
}
