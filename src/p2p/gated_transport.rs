//! Outbound IP bans after DNS resolution: a `/dns4/host/...` address names no IP, so the
//! connection gate cannot judge it when the dial starts. This wrapper sits under the DNS
//! transport and refuses every resolved address whose IP the policy bans.
//!
//! It also makes every outbound TCP dial use a new source port. A relay has a public address
//! and does no hole punching, so reusing its listen port buys nothing, and it breaks redials: a
//! dial from the listen port to a peer whose previous connection is still in TIME_WAIT fails
//! with `EADDRINUSE` (seen in the test suite on loopback). QUIC keeps dialing from its
//! listening endpoint (UDP has no TIME_WAIT, and a new endpoint per dial would cost a socket).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use libp2p::core::transport::{
    DialOpts, ListenerId, PortUse, Transport, TransportError, TransportEvent,
};
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;

use super::gate::{ip_of, AccessPolicy};

/// See the module docs.
pub struct GatedDial<T> {
    inner: T,
    policy: Arc<dyn AccessPolicy>,
}

impl<T> GatedDial<T> {
    /// Wraps `inner`, refusing dials to addresses `policy` bans.
    pub fn new(inner: T, policy: Arc<dyn AccessPolicy>) -> Self {
        GatedDial { inner, policy }
    }
}

impl<T> Transport for GatedDial<T>
where
    T: Transport<Error = std::io::Error> + Unpin,
{
    type Output = T::Output;
    type Error = std::io::Error;
    type ListenerUpgrade = T::ListenerUpgrade;
    type Dial = T::Dial;

    fn listen_on(
        &mut self,
        id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<Self::Error>> {
        self.inner.listen_on(id, addr)
    }

    fn remove_listener(&mut self, id: ListenerId) -> bool {
        self.inner.remove_listener(id)
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        opts: DialOpts,
    ) -> Result<Self::Dial, TransportError<Self::Error>> {
        if ip_of(&addr).is_some_and(|ip| self.policy.ip_denied(ip)) {
            tracing::info!(%addr, "outbound dial refused: the resolved address is banned");
            let denied = std::io::ErrorKind::PermissionDenied;
            let msg = format!("{addr}: address is banned");
            return Err(TransportError::Other(std::io::Error::new(denied, msg)));
        }
        let is_tcp = addr.iter().any(|p| matches!(p, Protocol::Tcp(_)));
        let opts = match is_tcp {
            true => DialOpts {
                port_use: PortUse::New,
                ..opts
            },
            false => opts,
        };
        self.inner.dial(addr, opts)
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, Self::Error>> {
        Pin::new(&mut self.inner).poll(cx)
    }
}
