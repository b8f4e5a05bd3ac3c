# keel in a container: `docker build -t keel .` from the repository root.
# Stage 1 builds the release binary from the locked dependencies; stage 2 is a small Debian
# with that binary, the shipped config/ and data/, and a non-root user. The journal, the logs
# and the sim venue's state live on the /var/lib/keel volume. See docs/operations.md,
# "Running in a container", and deploy/compose.yaml for keel, the sim venue and Prometheus.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin keel \
 && install -m 0755 target/release/keel /usr/local/bin/keel

FROM debian:bookworm-slim AS runtime
# ca-certificates: TLS to a real venue or model provider; curl: the HEALTHCHECK below.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/keel --shell /usr/sbin/nologin keel \
 && install -d -m 0700 -o keel -g keel /var/lib/keel
COPY --from=builder /usr/local/bin/keel /usr/local/bin/keel
WORKDIR /opt/keel
COPY config/ config/
COPY data/ data/
# The shipped configs write under var/ (relative to the working directory): the volume.
RUN ln -s /var/lib/keel var
USER keel:keel
VOLUME ["/var/lib/keel"]
# The control plane: /healthz, /readyz, /metrics, /status. Reachable from outside the
# container only with `--control-listen 0.0.0.0:9464` and KEEL_CONTROL_TOKEN set.
EXPOSE 9464
# /healthz is 200 while the actors answer, 503 once trading stopped or the run is over.
HEALTHCHECK --interval=30s --timeout=5s --start-period=2m --retries=3 \
  CMD curl -fsS --max-time 4 http://127.0.0.1:9464/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/keel"]
# A paced paper run of the shipped data that keeps going until stopped.
CMD ["run", "--config", "config/paper.toml"]
