#!/usr/bin/env bash
# The Debian packages end to end (part of scripts/test.sh): made from the tests' debug build and checked
# (scripts/package.sh), installed on this machine with apt, the installed server started with its
# installed settings, the installed app opened under Xvfb until its window shows, then both removed and
# purged, and nothing of them left. Needs root (CI is root); the packages are removed whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  DEBIAN_FRONTEND=noninteractive apt-get remove --purge -y -qq kaiwa kaiwa-signaling >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "package-test: $*" >&2; exit 1; }

cargo build --locked -p kaiwa --bin kaiwa -p kaiwa-signaling --bin kaiwa-signaling
scripts/package.sh --from-debug "$tmp/debs"
if dpkg-query -W kaiwa kaiwa-signaling >/dev/null 2>&1; then
  fail "kaiwa or kaiwa-signaling is installed on this machine already; not touching it"
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "$tmp"/debs/kaiwa_*.deb "$tmp"/debs/kaiwa-signaling_*.deb >"$tmp/install.log" 2>&1 \
  || { cat "$tmp/install.log" >&2; fail "apt could not install the packages"; }
for f in /usr/bin/kaiwa /usr/bin/kaiwa-signaling /usr/share/applications/io.github.kaiwa.Kaiwa.desktop \
  /usr/share/metainfo/io.github.kaiwa.Kaiwa.metainfo.xml /usr/share/icons/hicolor/scalable/apps/io.github.kaiwa.Kaiwa.svg \
  /usr/share/icons/hicolor/256x256/apps/io.github.kaiwa.Kaiwa.png /usr/share/man/man1/kaiwa.1.gz \
  /etc/kaiwa/signaling.toml /usr/lib/systemd/system/kaiwa-signaling.service; do
  [ -e "$f" ] || fail "$f was not installed"
done

# The server with the installed settings (its port and certificate folder moved out of the way).
port=$((20000 + RANDOM % 20000))
/usr/bin/kaiwa-signaling --config /etc/kaiwa/signaling.toml --listen "127.0.0.1:$port" --tls-dir "$tmp/tls" \
  >"$tmp/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -skf "https://127.0.0.1:$port/" -o /dev/null && break; sleep 0.1; done
curl -skf "https://127.0.0.1:$port/" | grep -q '<html' || { cat "$tmp/server.log" >&2; fail "the installed server serves no page"; }

# The installed app, as a desktop opens it: its window shows.
display=":$((500 + RANDOM % 400))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp -noreset >"$tmp/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do DISPLAY=$display xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
DISPLAY=$display LIBGL_ALWAYS_SOFTWARE=1 KAIWA_CONFIG_DIR="$tmp/config" KAIWA_NO_SPEAKER=1 \
  /usr/bin/kaiwa --host --listen 127.0.0.1:0 >"$tmp/app.log" 2>&1 &
pids+=($!)
shown=""
for _ in $(seq 150); do
  if DISPLAY=$display xwininfo -root -tree 2>/dev/null | grep -q '"Kaiwa"'; then shown=yes; break; fi
  sleep 0.1
done
[ -n "$shown" ] || { tail -20 "$tmp/app.log" >&2; fail "the installed app showed no window"; }
for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()

DEBIAN_FRONTEND=noninteractive apt-get remove --purge -y -qq kaiwa kaiwa-signaling >"$tmp/remove.log" 2>&1 \
  || { cat "$tmp/remove.log" >&2; fail "apt could not remove the packages"; }
for f in /usr/bin/kaiwa /usr/bin/kaiwa-signaling /usr/share/applications/io.github.kaiwa.Kaiwa.desktop \
  /etc/kaiwa/signaling.toml /usr/lib/systemd/system/kaiwa-signaling.service; do
  [ ! -e "$f" ] || fail "$f was left after removing the packages"
done
echo "package-test: built, checked, installed, ran (server and app window), removed and purged"
