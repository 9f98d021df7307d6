#!/usr/bin/env bash
# Runs Debian's Janus configured for Kaiwa's big rooms: only the VideoRoom plugin and the WebSocket API
# (which only the signaling server talks to: keep it on a private address), no static rooms (the server
# creates them), media on a fixed UDP port range. Writes its settings into DIR, then replaces itself with
# Janus (foreground; stop it with SIGTERM or Ctrl-C).
#
#   scripts/janus.sh [--ws ADDR:PORT] [--rtp-ports MIN-MAX] [--public-ip IP] [--interface NAME] [--dir DIR]
#
#   --ws ADDR:PORT     where the WebSocket API listens [127.0.0.1:8188]; the server's --janus ws://ADDR:PORT
#   --rtp-ports MIN-MAX  UDP ports for media [20000-40000]: open them in the firewall
#   --public-ip IP     the address clients reach Janus at, when it is behind NAT (Janus's nat_1_1_mapping)
#   --interface NAME   gather ICE candidates on this interface (or address) only
#   --dir DIR          where its settings go [$XDG_DATA_HOME/kaiwa/janus]
#
# Then: kaiwa-signaling --janus ws://127.0.0.1:8188 --max-room-size 12 (see README, "Big rooms").
set -euo pipefail

ws="127.0.0.1:8188"
rtp="20000-40000"
public_ip=""
interface=""
dir="${XDG_DATA_HOME:-$HOME/.local/share}/kaiwa/janus"
while [ $# -gt 0 ]; do
  case "$1" in
    --ws) ws=${2:?--ws needs ADDR:PORT}; shift ;;
    --rtp-ports) rtp=${2:?--rtp-ports needs MIN-MAX}; shift ;;
    --public-ip) public_ip=${2:?--public-ip needs an address}; shift ;;
    --interface) interface=${2:?--interface needs a name}; shift ;;
    --dir) dir=${2:?--dir needs a directory}; shift ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "janus.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
command -v janus >/dev/null || { echo "janus.sh: Janus is not installed (Debian: apt-get install janus)" >&2; exit 1; }
[[ "$ws" =~ ^(.+):([0-9]+)$ ]] || { echo "janus.sh: --ws takes ADDR:PORT, not $ws" >&2; exit 2; }
ws_ip=${BASH_REMATCH[1]}
ws_port=${BASH_REMATCH[2]}
[[ "$rtp" =~ ^[0-9]+-[0-9]+$ ]] || { echo "janus.sh: --rtp-ports takes MIN-MAX, not $rtp" >&2; exit 2; }

# Janus's multiarch library folders (Debian's janus package).
lib=$(dirname "$(dpkg -L janus 2>/dev/null | grep -m1 '/janus/plugins/libjanus_videoroom.so$' || echo /usr/lib/x86_64-linux-gnu/janus/plugins/x)")
lib=$(dirname "$lib")
others_plugins=$(cd "$lib/plugins" && ls libjanus_*.so | grep -vx libjanus_videoroom.so | paste -sd, -)
others_transports=$(cd "$lib/transports" && ls libjanus_*.so | grep -vx libjanus_websockets.so | paste -sd, -)
others_events=$(cd "$lib/events" 2>/dev/null && ls libjanus_*.so | paste -sd, - || true)
others_loggers=$(cd "$lib/loggers" 2>/dev/null && ls libjanus_*.so | paste -sd, - || true)

mkdir -p "$dir"
nat=""
[ -z "$public_ip" ] || nat+="  nat_1_1_mapping = \"$public_ip\"\n"
[ -z "$interface" ] || nat+="  ice_enforce_list = \"$interface\"\n"
printf '%b' "general: {
  configs_folder = \"$dir\"
  plugins_folder = \"$lib/plugins\"
  transports_folder = \"$lib/transports\"
  events_folder = \"$lib/events\"
  loggers_folder = \"$lib/loggers\"
  debug_level = 4
  protected_folders = []
}
media: {
  rtp_port_range = \"$rtp\"
}
nat: {
$nat}
plugins: {
  disable = \"$others_plugins\"
}
transports: {
  disable = \"$others_transports\"
}
events: {
  broadcast = false
  disable = \"$others_events\"
}
loggers: {
  disable = \"$others_loggers\"
}
" >"$dir/janus.jcfg"
cat >"$dir/janus.transport.websockets.jcfg" <<EOF
general: {
  json = "compact"
  ws = true
  ws_port = $ws_port
  ws_ip = "$ws_ip"
  wss = false
}
admin: {
  admin_ws = false
  admin_wss = false
}
EOF
# No rooms of its own: the signaling server creates and destroys them.
printf 'general: {\n}\n' >"$dir/janus.plugin.videoroom.jcfg"

echo "janus.sh: settings in $dir; WebSocket API on ws://$ws (give the server --janus ws://$ws)" >&2
exec janus --config "$dir/janus.jcfg" --configs-folder "$dir"
