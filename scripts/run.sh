#!/usr/bin/env bash
# Runs Kaiwa: opens the desktop app, which hosts the signaling server and browser page itself (HTTPS with a
# self-signed certificate on 0.0.0.0:8443, so browsers on the LAN may join by link). Extra arguments go to
# the app (see `kaiwa --help`, e.g. --server URL --room CODE --name NAME --join).
#   scripts/run.sh --server-only [ARGS]   only the signaling server (kaiwa-signaling; ARGS as in its --help,
#                                         default --listen 0.0.0.0:8443 --tls-self-signed)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
if [ "${1:-}" = --server-only ]; then
  shift
  if [ $# -eq 0 ]; then
    set -- --listen 0.0.0.0:8443 --tls-self-signed
  fi
  exec cargo run --release --locked -p kaiwa-signaling -- "$@"
fi
exec cargo run --release --locked --bin kaiwa -- "$@"
