#!/usr/bin/env bash
# Screenshots of the desktop app under a virtual X display (Xvfb, Mesa's software OpenGL):
#   start.png    the start screen, hosting the server in-process on loopback
#   prejoin.png  the pre-join screen (test pattern preview, no devices here)
#   call.png     a call with two headless peers (`kaiwa call`, test pattern and tone)
#   call4.png    the same call once a third peer without a microphone joined (four tiles, a "muted" badge,
#                speaking highlights on the peers whose tone plays)
#   share.png    the same call while a fifth peer shares its screen (this display, so the shared screen
#                shows the call itself): the screen in the spotlight, the cameras in a strip below
#   scripts.png  a call of さくら, 민준 and Zoë with a Korean and a Japanese line in the chat (CJK fonts)
#   start-ja.png, prejoin-ja.png, call-ja.png, and the same -ko: the UI in Japanese and Korean
#   trust.png    the first connection to a self-signed remote server: the trust-on-first-use dialog
# Written to $CARGO_TARGET_DIR/screenshots (default target/screenshots). Fails when the app does not come up
# or the call screenshot shows no video (too few colours for the test pattern). Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
out="$target/screenshots"
mkdir -p "$out"
cargo build --locked --bin kaiwa
kaiwa="$target/debug/kaiwa"

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

shot() { # name seconds-to-wait
  sleep "$2"
  import -window root "$out/$1.png"
  echo "gui-screenshot: wrote $out/$1.png"
}

# 1. Start screen, hosting on loopback.
"$kaiwa" --host --listen 127.0.0.1:0 --room team-standup --name Alice --window 1280x800 >"$tmp/app1.log" 2>&1 &
app=$!
pids+=($app)
shot start 6
kill "$app"
"$kaiwa" --host --listen 127.0.0.1:0 --room team-standup --name Alice --prejoin --window 1280x800 \
  >"$tmp/app1b.log" 2>&1 &
app=$!
pids+=($app)
shot prejoin 6
kill "$app"

# 2. A call: a server, the app (straight in with --join) and two headless peers.
port=$((20000 + RANDOM % 20000))
"$kaiwa" serve --listen "127.0.0.1:$port" >"$tmp/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
ws="ws://127.0.0.1:$port/ws"
"$kaiwa" --server "$ws" --room design-review --name Alice --join --bind 127.0.0.1:0 --window 1280x800 \
  >"$tmp/app2.log" 2>&1 &
pids+=($!)
for name in "Bob" "Carol"; do
  "$kaiwa" call --server "$ws" --room design-review --name "$name" --duration 60 --bind 127.0.0.1:0 \
    --size 640x480 --fps 15 --quiet >"$tmp/call-$name.log" 2>&1 &
  pids+=($!)
done
shot call 14

colours=$(convert "$out/call.png" -format %k info:)
echo "gui-screenshot: call.png has $colours colours"
if [ "$colours" -lt 2000 ]; then
  echo "gui-screenshot: no video in the call screenshot" >&2
  tail -20 "$tmp/app2.log" >&2
  exit 1
fi

# 3. A fourth participant, without a microphone (announced as muted).
"$kaiwa" call --server "$ws" --room design-review --name Dave --duration 30 --bind 127.0.0.1:0 \
  --size 640x480 --fps 15 --audio none --quiet >"$tmp/call-Dave.log" 2>&1 &
pids+=($!)
shot call4 10
colours=$(convert "$out/call4.png" -format %k info:)
echo "gui-screenshot: call4.png has $colours colours"

# 4. A fifth participant shares a screen (this display) beside its camera: the screen takes the stage.
"$kaiwa" call --server "$ws" --room design-review --name Erin --duration 30 --bind 127.0.0.1:0 \
  --size 640x480 --fps 15 --audio none --share screen --quiet >"$tmp/call-Erin.log" 2>&1 &
pids+=($!)
shot share 12
colours=$(convert "$out/share.png" -format %k info:)
echo "gui-screenshot: share.png has $colours colours"

# 5. Every script: we are さくら, the others 민준 and Zoë, and the chat holds a Korean and a Japanese line
#    (system fonts through fontconfig; Noto CJK from scripts/setup.sh).
"$kaiwa" --server "$ws" --room design-review-jp --name "さくら" --join --bind 127.0.0.1:0 --window 1280x800 \
  >"$tmp/app-cjk.log" 2>&1 &
cjk=$!
pids+=($cjk)
for who in "민준|안녕하세요, 반갑습니다" "Zoë|日本語で話しましょう、よろしく"; do
  "$kaiwa" call --server "$ws" --room design-review-jp --name "${who%%|*}" --say "${who#*|}" --duration 90 \
    --bind 127.0.0.1:0 --size 640x480 --fps 15 --audio none --quiet >"$tmp/call-cjk-${who%%|*}.log" 2>&1 &
  pids+=($!)
  sleep 1
done
shot scripts 12
kill "$cjk"

# 6. The UI in Japanese and Korean (the system locale chooses; the start screen's menu overrides it):
#    start, pre-join, and the call of step 5 (still going) as さくら sees it.
for lang in ja_JP ko_KR; do
  l=${lang%_*}
  LC_ALL="$lang.UTF-8" "$kaiwa" --host --listen 127.0.0.1:0 --room team-standup --name "さくら" \
    --window 1280x800 >"$tmp/app-$l-start.log" 2>&1 &
  app=$!
  pids+=($app)
  shot "start-$l" 6
  kill "$app"
  LC_ALL="$lang.UTF-8" "$kaiwa" --host --listen 127.0.0.1:0 --room team-standup --name "さくら" --prejoin \
    --window 1280x800 >"$tmp/app-$l-prejoin.log" 2>&1 &
  app=$!
  pids+=($app)
  shot "prejoin-$l" 6
  kill "$app"
  LC_ALL="$lang.UTF-8" "$kaiwa" --server "$ws" --room design-review-jp --name "さくら" --join --bind 127.0.0.1:0 \
    --window 1280x800 >"$tmp/app-$l-call.log" 2>&1 &
  app=$!
  pids+=($app)
  shot "call-$l" 9
  kill "$app"
done

# 7. Trust on first use: a remote server with a self-signed certificate, never seen before.
tport=$((20000 + RANDOM % 20000))
"$kaiwa" serve --listen "127.0.0.1:$tport" --tls-self-signed --tls-dir "$tmp/tls" >"$tmp/serve-tls.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$tport") 2>/dev/null && break; sleep 0.1; done
"$kaiwa" --server "wss://127.0.0.1:$tport/ws" --room team-standup --name Alice --join --window 1280x800 \
  >"$tmp/app3.log" 2>&1 &
pids+=($!)
shot trust 6
