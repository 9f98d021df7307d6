#!/usr/bin/env bash
# Signaling server benchmark: builds the release server and load tool, then runs the load tool, which
# starts the server itself on 127.0.0.1. Arguments go to the load tool (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh run
cargo build --release --locked -p kaiwa-signaling --bins --examples
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
exec "$target_dir/release/examples/load" "$@"
