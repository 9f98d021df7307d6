#!/usr/bin/env bash
# Debian packages of Kaiwa, with cargo-deb (installed here when missing):
#   kaiwa             the desktop app: /usr/bin/kaiwa, its desktop entry, icons, AppStream metadata, man page
#   kaiwa-signaling   the signaling server as the kaiwa-signaling systemd service, settings in /etc/kaiwa/
# Then checks them: lintian (no errors or warnings), desktop-file-validate, appstreamcli validate.
#   scripts/package.sh [OUT_DIR]         release build (default OUT_DIR: $CARGO_TARGET_DIR/debian)
#   scripts/package.sh --from-debug DIR  package the debug build the tests already made (for the package
#                                        test: packaging and installing are what it checks, not speed)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
profile=(--profile release)
if [ "${1:-}" = --from-debug ]; then
  profile=(--no-build --profile dev --fast)
  shift
fi
out=${1:-$target/debian}
mkdir -p "$out"
scripts/setup.sh package
debs=()
for pkg in kaiwa kaiwa-signaling; do
  # (cargo-deb warns that a dev profile is for tests only: it is, here.)
  made=$(cargo deb --locked -p "$pkg" "${profile[@]}" --strip -o "$out/" 2>&1) || { echo "$made" >&2; exit 1; }
  debs+=("$(echo "$made" | grep '\.deb$' | tail -1)")
done
# lintian works as root but says it would rather not; its findings are what count.
if ! found=$(lintian --fail-on error,warning "${debs[@]}" 2>&1); then
  echo "$found" >&2
  echo "package: lintian found errors or warnings" >&2
  exit 1
fi
desktop-file-validate --no-hints assets/linux/io.github.kaiwa.Kaiwa.desktop
appstreamcli validate --no-net assets/linux/io.github.kaiwa.Kaiwa.metainfo.xml >/dev/null
echo "package: ${debs[*]}"
