#!/usr/bin/env bash
# Signaling server benchmark: builds the release server and the load tool (kaiwa-signaling-load, in
# crates/kaiwa-bench), then runs the load tool, which starts the server itself on 127.0.0.1.
#
#   scripts/bench-signaling.sh [LOAD ARGS...]
#       kaiwa-signaling alone; arguments go to the load tool (see --help)
#   scripts/bench-signaling.sh --compare [--out FILE] [LOAD ARGS...]
#       also installs the Socket.IO relay (bench/socketio-relay, npm ci), runs both servers alternately
#       (2 rounds unless --rounds is given) and prints a markdown table of medians with the ratio
#       kaiwa / socket.io and the targets; --out FILE also writes that table to FILE.
#   scripts/bench-signaling.sh --nodes 1,2,3 [LOAD ARGS...]
#       also kaiwa-signaling in cluster mode with 1, 2 and 3 nodes on a Redis the tool starts on loopback,
#       side by side with the single server (--markdown FILE writes the table)
# Exits non-zero if a run fails (not if a target is missed: the table says so).
set -euo pipefail
cd "$(dirname "$0")/.."

compare=false
out=""
load_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --compare) compare=true ;;
    --out) out=${2:?--out needs a file}; shift ;;
    --out=*) out=${1#--out=} ;;
    *) load_args+=("$1") ;;
  esac
  shift
done
if [ -n "$out" ]; then
  [ "$compare" = true ] || { echo "bench-signaling: --out goes with --compare" >&2; exit 2; }
  mkdir -p "$(dirname "$out")"
  out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
fi

if [ "$compare" = true ]; then
  scripts/setup.sh bench
  relay=bench/socketio-relay
  # npm ci only when the lock file changed since the last install.
  stamp=$relay/node_modules/.kaiwa-lock.sha256
  if ! sha256sum --status -c "$stamp" 2>/dev/null; then
    (cd "$relay" && npm ci --no-audit --no-fund --loglevel=error)
    sha256sum "$relay/package-lock.json" >"$stamp"
  fi
elif [[ " ${load_args[*]-} " == *" --nodes"* ]]; then
  scripts/setup.sh bench
else
  scripts/setup.sh run
fi

cargo build --release --locked -p kaiwa-signaling -p kaiwa-bench --bin kaiwa-signaling --bin kaiwa-signaling-load
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
load="$target_dir/release/kaiwa-signaling-load"

if [ "$compare" = true ]; then
  extra=(--server both)
  [[ " ${load_args[*]-} " == *" --rounds"* ]] || extra+=(--rounds 2)
  [ -z "$out" ] || extra+=(--markdown "$out")
  exec "$load" "${extra[@]}" ${load_args[@]+"${load_args[@]}"}
fi
exec "$load" ${load_args[@]+"${load_args[@]}"}
