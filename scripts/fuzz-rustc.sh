#!/usr/bin/env bash
# RUSTC_WRAPPER for scripts/fuzz.sh: our own crates are built with LLVM's SanitizerCoverage, which
# libFuzzer reads to guide itself (what cargo-fuzz does on nightly, done here with stable flags);
# dependencies are built plain, which keeps the build short.
rustc=$1
shift
case " $* " in
  *" --crate-name kaiwa_"*)
    exec "$rustc" "$@" -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
      -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
      -Cllvm-args=-sanitizer-coverage-trace-compares
    ;;
  *) exec "$rustc" "$@" ;;
esac
