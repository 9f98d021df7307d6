#!/usr/bin/env bash
# Native vs Chromium benchmarks (docs/BENCHMARKS.md), one command: builds the release binaries, runs every
# call scenario (crates/kaiwa-bench: native ↔ native, native ↔ Chromium, Chromium ↔ Chromium per size, a
# 4-party mesh of each, native ↔ Firefox beside Chromium ↔ Firefox) and writes docs/bench/RESULTS.md with SVG plots; then the signaling server's
# comparison (scripts/bench-signaling.sh --compare, into docs/bench/SIGNALING.md) when that script has it.
#   scripts/bench.sh                  everything, 3 runs of 30 s per scenario (about 30 min on 2 cores)
#   scripts/bench.sh --quick          1 run of 8 s per scenario, to check the harness (calls only)
#   scripts/bench.sh --help           the call bench's options (--runs, --seconds, --sizes, --only, ...)
#   scripts/bench.sh --no-signaling … skip the signaling comparison
#   scripts/bench.sh --networks       instead: calls through the network lab's link profiles (root), native ↔ native,
#                                     Chromium ↔ Chromium, native ↔ Chromium; writes docs/bench/NETWORKS.md + plots
#   scripts/bench.sh --networks --quick --profiles cap-500k,drop   1 run, 20 s calls, two profiles
#   scripts/bench.sh --sfu            instead: a room of six Chromiums as a mesh and through Janus (root);
#                                     docs/bench/SFU.md
#   scripts/bench.sh --screen         instead: sharing a 1920×1080 picture of changing text, native (an Xvfb
#                                     screen) vs Chromium (its tab showing the same picture); docs/bench/SCREEN.md
set -euo pipefail
cd "$(dirname "$0")/.."

signaling=1
args=()
for a in "$@"; do
  case "$a" in
    --no-signaling) signaling=0 ;;
    --quick | --help | -h | --networks | --screen | --sfu) signaling=0; args+=("$a") ;;
    *) args+=("$a") ;;
  esac
done

scripts/setup.sh test
cargo build --release --locked -p kaiwa -p kaiwa-bench --bins
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
"$target_dir/release/kaiwa-bench" "${args[@]}"

if [ "$signaling" = 1 ]; then
  if grep -q -- '--compare' scripts/bench-signaling.sh 2>/dev/null; then
    scripts/bench-signaling.sh --compare --out docs/bench/SIGNALING.md
  else
    echo "bench: scripts/bench-signaling.sh has no --compare yet; the signaling server comparison is skipped" >&2
  fi
fi
