//! Transports: TCP + Noise + Yamux (optionally behind libp2p pnet) and QUIC, wrapped in DNS
//! resolution and bandwidth metrics. Every handshake runs under `p2p.handshake_timeout`.
//!
//! QUIC and the gate: libp2p-quic 0.14 accepts every incoming QUIC connection in its listener
//! (`quinn::Incoming::accept`, src/transport.rs `Listener::poll_next`) before the swarm asks the
//! gate, and offers no hook to refuse or ignore an `Incoming` first. So a banned or over-limit
//! QUIC peer costs the relay the server's first TLS 1.3 flight (an X25519 exchange and one
//! certificate signature, plus up to three times the client's Initial in bytes) before the gate
//! refuses it and the connection is dropped; TCP connections are refused before any byte is
//! read. Operators under a QUIC flood can listen on TCP only.

use std::time::Duration;

use futures::future::Either;
use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::{Boxed, Transport as _};
use libp2p::core::upgrade::Version;
use libp2p::identity::Keypair;
use libp2p::pnet::{PnetConfig, PreSharedKey};
use libp2p::{dns, noise, quic, tcp, yamux, PeerId};
use prometheus_client::registry::Registry;

/// Why the transport could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The Noise key could not be derived from the identity.
    #[error("noise: {0}")]
    Noise(#[from] noise::Error),
    /// The system DNS configuration could not be read.
    #[error("dns: {0}")]
    Dns(#[from] std::io::Error),
}

/// Builds the full transport. With a pre-shared key QUIC is left out, since pnet cannot protect it.
/// Handshakes (security and multiplexer, or QUIC's TLS) must finish within `handshake_timeout`.
pub fn build(
    key: &Keypair,
    psk: Option<PreSharedKey>,
    handshake_timeout: Duration,
    policy: std::sync::Arc<dyn super::AccessPolicy>,
    registry: &mut Registry,
) -> Result<Boxed<(PeerId, StreamMuxerBox)>, TransportError> {
    let tcp = tcp_transport(key, psk, handshake_timeout)?;
    let base = match psk {
        Some(_) => tcp,
        None => {
            let mut cfg = quic::Config::new(key);
            cfg.handshake_timeout = handshake_timeout;
            let quic = quic::tokio::Transport::new(cfg)
                .map(|(peer, conn), _| (peer, StreamMuxerBox::new(conn)));
            quic.or_transport(tcp)
                .map(|either, _| match either {
                    Either::Left(out) | Either::Right(out) => out,
                })
                .boxed()
        }
    };
    // under DNS, so IP bans apply to the addresses `/dns` names resolve to
    let gated = super::gated_transport::GatedDial::new(base, policy);
    let resolved = dns::tokio::Transport::system(gated)?;
    let metered = libp2p::metrics::BandwidthTransport::new(resolved, registry)
        .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)));
    Ok(metered.boxed())
}

pub(crate) fn tcp_transport(
    key: &Keypair,
    psk: Option<PreSharedKey>,
    handshake_timeout: Duration,
) -> Result<Boxed<(PeerId, StreamMuxerBox)>, TransportError> {
    let noise = noise::Config::new(key)?;
    let tcp = tcp::tokio::Transport::new(tcp::Config::default().nodelay(true));
    let transport = match psk {
        Some(psk) => tcp
            .and_then(move |socket, _| PnetConfig::new(psk).handshake(socket))
            .upgrade(Version::V1)
            .authenticate(noise)
            .multiplex(yamux::Config::default())
            .timeout(handshake_timeout)
            .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
            .boxed(),
        None => tcp
            .upgrade(Version::V1)
            .authenticate(noise)
            .multiplex(yamux::Config::default())
            .timeout(handshake_timeout)
            .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
            .boxed(),
    };
    Ok(transport)
}
