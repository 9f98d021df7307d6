#!/usr/bin/env bash
# Runs Kaiwa. For now that is the signaling server with the browser page, over HTTPS with a self-signed
# certificate so browsers on the LAN may use their camera. Extra arguments go to kaiwa-signaling
# (see --help); with none, it listens on 0.0.0.0:8443.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
if [ $# -eq 0 ]; then
  set -- --listen 0.0.0.0:8443 --tls-self-signed
fi
exec cargo run --release --locked -p kaiwa-signaling -- "$@"
