#!/usr/bin/env bash
# Builds the fuzz targets in fuzz/ on stable Rust and runs each for SECONDS (default 10) from its seeds in
# fuzz/seeds/TARGET. A crash, a panic or a leak fails the run; the input that caused it is kept in
# $CARGO_TARGET_DIR/fuzz/artifacts. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(channel_message signaling sdp rtp_h264 rtp_vp8 file_formats)
fi
root=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}/fuzz"
export RUSTC_WRAPPER="$root/scripts/fuzz-rustc.sh"
(cd fuzz && cargo build --release --locked --bins)
artifacts="$CARGO_TARGET_DIR/artifacts"
mkdir -p "$artifacts"
for target in "${targets[@]}"; do
  corpus=$(mktemp -d)
  # The first directory receives what the run finds; the seeds are only read.
  if ! "$CARGO_TARGET_DIR/release/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$artifacts/$target-" "$corpus" "fuzz/seeds/$target" > "$corpus.log" 2>&1; then
    tail -n 40 "$corpus.log"
    echo "fuzz: $target failed (input kept in $artifacts)" >&2
    rm -rf "$corpus" "$corpus.log"
    exit 1
  fi
  echo "fuzz: $target: $(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$corpus.log" | tail -1)"
  rm -rf "$corpus" "$corpus.log"
done
