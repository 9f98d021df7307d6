#!/usr/bin/env bash
# How smooth the desktop app is in a four-person call: the app (under Xvfb, Mesa's software OpenGL) with
# three headless `kaiwa call` peers sending 640x480 test patterns at 30 fps, measured with --frame-stats
# (time between frames, CPU time per frame) for SECONDS (default 40; the summaries of the last 30 s count).
# Usage: scripts/gui-bench.sh [debug|release] [SECONDS]. Figures go to docs/BENCHMARKS.md ("Desktop app").
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-debug}
secs=${2:-40}
target=${CARGO_TARGET_DIR:-target}
if [ "$profile" = release ]; then cargo build --locked --release --bin kaiwa; else cargo build --locked --bin kaiwa; fi
kaiwa="$target/$profile/kaiwa"

tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

display=":$((90 + RANDOM % 400))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp -noreset >"$tmp/xvfb.log" 2>&1 &
pids+=($!)
export DISPLAY=$display LIBGL_ALWAYS_SOFTWARE=1 KAIWA_CONFIG_DIR="$tmp/config" KAIWA_NO_SPEAKER=1
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

port=$((20000 + RANDOM % 20000))
"$kaiwa" serve --listen "127.0.0.1:$port" >"$tmp/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
ws="ws://127.0.0.1:$port/ws"
for name in Bob Carol Dave; do
  "$kaiwa" call --server "$ws" --room bench-four --name "$name" --duration $((secs + 20)) --bind 127.0.0.1:0 \
    --size 640x480 --fps 30 --quiet >"$tmp/call-$name.log" 2>&1 &
  pids+=($!)
done
${KAIWA_BENCH_WRAP:-} "$kaiwa" --server "$ws" --room bench-four --name Alice --join --bind 127.0.0.1:0 --window 1280x800 \
  --frame-stats --exit-after "$secs" 2>"$tmp/app.log" >/dev/null
echo "gui-bench ($profile build, $(nproc) cores, 4 participants, 640x480@30 each):"
grep '^frame stats' "$tmp/app.log"
