#!/usr/bin/env bash
# The whole test suite: installs what is missing, then formatting, lints and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# What clippy cannot see: import circles between modules, files over 400 lines (CODE_STYLE.md).
scripts/check-structure.py

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s += $1} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s += $1} END {print s + 0}')
if [ "$status" -eq 0 ]; then
  # Every parser of remote input under libFuzzer, 10 s a target (fuzz/, built on stable Rust).
  if scripts/fuzz.sh 10; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    status=1
  fi
fi
if [ "$status" -eq 0 ]; then
  # The desktop app under Xvfb: screenshots of the start screen and of a call (target/screenshots).
  if scripts/gui-screenshot.sh; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    status=1
  fi
fi
if [ "$status" -eq 0 ]; then
  # The Debian packages: built, checked (lintian, desktop entry, AppStream), installed, run, removed.
  if scripts/package-test.sh; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    status=1
  fi
fi
echo "tests: $passed passed, $failed failed"
exit "$status"
