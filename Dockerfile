# Multi-stage build: a release binary from the pinned lockfile, then a small runtime image.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY locales ./locales
COPY assets ./assets
COPY benches ./benches
RUN cargo build --release --locked --bin bert

FROM debian:bookworm-slim
# TLS roots are compiled in (rustls + webpki roots), so no ca-certificates package is needed.
# The volume fly mounts at /data belongs to root: the entrypoint hands it to the unprivileged
# `bert` user, then drops to that user (setpriv, from util-linux) before starting the program.
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin bert \
    && mkdir -p /data && chown bert:bert /data
COPY --from=build /src/target/release/bert /usr/local/bin/bert
ENV BERT_DATA_DIR=/data BERT_HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/bin/sh", "-c", "chown bert:bert \"$BERT_DATA_DIR\" && exec setpriv --reuid=bert --regid=bert --init-groups /usr/local/bin/bert \"$@\"", "bert"]
CMD ["run"]
