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
# A step after the tests counts as one test, and runs only while everything before it passed.
step() {
  [ "$status" -eq 0 ] || return 0
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    status=1
  fi
}
# Every parser of remote input under libFuzzer, 10 s a target (fuzz/, built on stable Rust).
step scripts/fuzz.sh 10
# The desktop app under Xvfb: screenshots of the start screen and of a call (target/screenshots).
step scripts/gui-screenshot.sh
# The Debian packages: built, checked (lintian, desktop entry, AppStream), installed, run, removed.
step scripts/package-test.sh
echo "tests: $passed passed, $failed failed"
exit "$status"
