#!/usr/bin/env bash
# Call benchmark: builds the release binaries, then runs two `kaiwa call` clients through a local
# signaling server for each size (see examples/bench_call.rs). Arguments go to the bench (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
cargo build --release --locked -p kaiwa -p kaiwa-signaling --bins --example bench_call
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
exec "$target_dir/release/examples/bench_call" "$@"
