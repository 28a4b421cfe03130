# syntax=docker/dockerfile:1
# Wharf relay image.
#   docker build -t wharf .
#   docker run -p 7777:7777/tcp -p 7777:7777/udp -v wharf-data:/data wharf
# Configuration, in increasing precedence: the built-in defaults, an optional TOML file mounted
# at /etc/wharf/wharf.toml (pass `run --config /etc/wharf/wharf.toml`), WHARF_SECTION__KEY
# environment variables (WHARF_NODE__NETWORK=sepolia, ...), and the flags after `run`.

ARG RUST_VERSION=1.95

# ---- builder: dependencies first (cached until Cargo.toml/Cargo.lock change), then sources ----
FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
# sqlx's compile-time checked queries use the committed .sqlx/ data, never a live database.
ENV SQLX_OFFLINE=true

# 1. Manifests with dummy sources: this layer compiles every dependency and is reused by every
#    build that does not change Cargo.toml or Cargo.lock. Every [[bench]]/[[test]]/[[example]]
#    declared in the manifest gets a stub too, or cargo refuses to read the manifest.
COPY Cargo.toml Cargo.lock ./
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN mkdir -p src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && awk -F'"' '/^\[/ { sec = $0 } /^name *=/ && sec ~ /bench|test|example/ { \
         dir = sec ~ /bench/ ? "benches" : (sec ~ /test/ ? "tests" : "examples"); \
         print dir "/" $2 ".rs" }' Cargo.toml \
       | while read -r stub; do mkdir -p "$(dirname "$stub")"; echo 'fn main() {}' > "$stub"; done \
    && cargo build --release --locked \
    && rm -rf src benches tests examples \
       target/release/wharf target/release/libwharf.* target/release/deps/wharf-* \
       target/release/deps/libwharf-* target/release/.fingerprint/wharf-* target/release/build/wharf-*

# 2. The real sources (build.rs, proto/, migrations/, src/, ...; see .dockerignore).
COPY . .
RUN cargo build --release --locked --bin wharf \
    && install -D -m 0755 target/release/wharf /out/usr/local/bin/wharf \
    && install -d -m 0750 /out/data /out/etc/wharf

# ---- runtime: glibc + libgcc only, no shell, runs as uid 65532 (nonroot) ----
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=builder /out/usr/local/bin/wharf /usr/local/bin/wharf
COPY --from=builder --chown=65532:65532 /out/data /data
COPY --from=builder --chown=65532:65532 /out/etc/wharf /etc/wharf
USER 65532:65532
WORKDIR /data

# Container defaults: data in the volume; metrics and p2p on every interface so Prometheus and
# peers can reach them. The admin API stays on loopback (where HEALTHCHECK probes it) unless
# WHARF_API__LISTEN=0.0.0.0:8080 is set together with a JWT key.
ENV WHARF_NODE__DATA_DIR=/data \
    WHARF_METRICS__LISTEN=0.0.0.0:9100 \
    RUST_LOG=info

# libp2p TCP (p2p connections, Kademlia, sync streams, gossip)
EXPOSE 7777/tcp
# libp2p QUIC v1 (same peers over UDP; off when a pre-shared key is set)
EXPOSE 7777/udp
# Prometheus /metrics (unauthenticated: publish only to the monitoring network)
EXPOSE 9100/tcp
# Admin REST API: /healthz, /readyz, /api/v1 (JWT)
EXPOSE 8080/tcp

# Node identity (identity.key), peer book, block store and the embedded control-plane store.
VOLUME ["/data"]

HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["wharf", "healthcheck"]

ENTRYPOINT ["wharf"]
CMD ["run"]
