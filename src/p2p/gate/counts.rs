//! Bookkeeping of pending and established connections, by direction, IP and peer, so the gate
//! can answer limit checks in O(1).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use libp2p::swarm::ConnectionId;
use libp2p::PeerId;

/// One established connection as the gate sees it.
#[derive(Debug, Clone, Copy)]
pub struct Conn {
    pub peer: PeerId,
    pub ip: Option<IpAddr>,
    pub inbound: bool,
}

/// Live connection counts.
#[derive(Debug, Default)]
pub struct Counts {
    pending_in: HashMap<ConnectionId, Option<IpAddr>>,
    pending_out: HashSet<ConnectionId>,
    established: HashMap<ConnectionId, Conn>,
    per_ip: HashMap<IpAddr, u32>,
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

    /// Inbound connections (pending and established) from `ip`.
    pub fn inbound_from(&self, ip: IpAddr) -> u32 {
        self.per_ip.get(&ip).copied().unwrap_or(0)
    }

    pub fn with_peer(&self, peer: &PeerId) -> u32 {
        self.per_peer.get(peer).copied().unwrap_or(0)
    }

    pub fn add_pending_in(&mut self, id: ConnectionId, ip: Option<IpAddr>) {
        if let Some(ip) = ip {
            *self.per_ip.entry(ip).or_default() += 1;
        }
        self.pending_in.insert(id, ip);
    }

    pub fn add_pending_out(&mut self, id: ConnectionId) {
        self.pending_out.insert(id);
    }

    /// A pending inbound connection failed or was denied.
    pub fn drop_pending_in(&mut self, id: ConnectionId) {
        if let Some(Some(ip)) = self.pending_in.remove(&id) {
            self.dec_ip(ip);
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
                self.dec_ip(ip);
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

    fn dec_ip(&mut self, ip: IpAddr) {
        if let Some(n) = self.per_ip.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                self.per_ip.remove(&ip);
            }
        }
    }
}
