#!/usr/bin/env bash
# Installs what Kaiwa needs on a Debian machine, skipping whatever is already there.
#   scripts/setup.sh run    packages to build and run the product
#   scripts/setup.sh test   those plus the real components the tests start (coturn, ...)
#   scripts/setup.sh package  the run packages plus what packaging needs (cargo-deb, lintian, validators)
#   scripts/setup.sh bench  the run packages plus Node.js and npm (the Socket.IO relay in bench/socketio-relay)
#                           and Redis (the cluster runs of scripts/bench-signaling.sh --nodes)
set -euo pipefail

purpose=${1:-run}

# Build: pkg-config and a C/C++ toolchain for -sys crates; cmake (bundled libopus), nasm (openh264 assembly);
# libasound2-dev (cpal's ALSA backend), libclang-dev (bindgen for nokhwa's V4L2 bindings and libvpx's),
# libvpx-dev (VP8).
# The desktop window (eframe with the glow renderer on X11) loads these at run time: Xlib and its extensions,
# xkbcommon, and OpenGL through Mesa (EGL/GLX; llvmpipe where there is no GPU). libwayland-dev: winit's
# Wayland client (pulled in by accesskit_winit) links libwayland-client found through pkg-config.
# fonts-noto-cjk: Japanese, Korean and Chinese text in the app (egui's own fonts have no CJK glyphs; the
# app finds system fonts through fontconfig, libfontconfig1, which the font package brings).
# libpipewire-0.3-dev: screen sharing under Wayland (kaiwa-devices' `portal` feature) reads the desktop's
# screen-cast stream through libpipewire (bindgen, hence libclang-dev, makes its bindings).
build_packages=(pkg-config build-essential ca-certificates curl cmake nasm libasound2-dev libclang-dev libvpx-dev
  libx11-6 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0 libgl1 libegl1 libgl1-mesa-dri libwayland-dev
  libpipewire-0.3-dev fonts-noto-cjk)
# Tests: real TURN server (coturn's turnserver and turnutils_uclient); a private PulseAudio daemon with null
# sinks as sound card (pulseaudio; pactl/pacat/parec from pulseaudio-utils; ALSA's pulse plugin from
# libasound2-plugins, through which cpal reaches it); headless Chromium and Firefox (firefox-esr) for the
# browser client; a virtual X display and ImageMagick's `import` for the desktop app's screenshot test;
# iproute2 (`ip netns`, `ip addr`) for the network lab (kaiwa-testkit's `lab`) and nftables for NAT in lab
# networks.
# A test desktop for sharing through the screen-cast portal (kaiwa_devices::testing::PortalDesktop): its own
# D-Bus session bus (dbus-daemon), PipeWire and WirePlumber, and the real portal frontend (xdg-desktop-portal).
# Redis (redis-server) for the signaling server's cluster mode, Janus (janus) for big rooms; the tests start
# their own (Redis on free ports, Janus inside a network-lab namespace).
test_packages=(coturn pulseaudio pulseaudio-utils libasound2-plugins chromium firefox-esr fonts-dejavu-core xvfb
  imagemagick iproute2 nftables dbus-daemon pipewire pipewire-bin wireplumber xdg-desktop-portal redis-server janus)

# Packaging (scripts/package.sh, and its test): lintian and the desktop entry's and AppStream file's
# validators; cargo-deb itself comes from crates.io below.
package_packages=(lintian desktop-file-utils appstream x11-utils)

wanted=("${build_packages[@]}")
if [ "$purpose" = test ]; then
  wanted+=("${test_packages[@]}" "${package_packages[@]}")
fi
if [ "$purpose" = package ]; then
  wanted+=("${package_packages[@]}")
fi
# Node.js is looked for as commands, not packages: it often comes from elsewhere (NodeSource, nvm), and
# Debian's own nodejs package would conflict with NodeSource's.
# The signaling benchmark's cluster runs (--nodes) start their own Redis.
if [ "$purpose" = bench ]; then
  wanted+=(redis-server)
fi
if [ "$purpose" = bench ] && ! { command -v node && command -v npm; } >/dev/null; then
  wanted+=(nodejs npm)
fi

missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo=sudo
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# coturn's Debian package starts a system-wide turnserver; the tests start their own on loopback.
if [ "$purpose" = test ] && command -v systemctl >/dev/null && systemctl is-active --quiet coturn 2>/dev/null; then
  echo "setup: note: a system coturn service is running; tests use their own ports and do not touch it" >&2
fi

if ! command -v cargo >/dev/null; then
  echo "setup: Rust is not installed. Install Rust 1.95 or newer (https://rustup.rs), then run this again." >&2
  exit 1
fi

# cargo-deb for the Debian packages (one pinned version: its dev-profile packaging, which the package test
# uses, is deprecated upstream).
if { [ "$purpose" = test ] || [ "$purpose" = package ]; } && ! cargo deb --version 2>/dev/null | grep -q '3\.8\.0'; then
  echo "setup: installing cargo-deb 3.8.0 (cargo install)" >&2
  cargo install --locked --quiet cargo-deb --version 3.8.0
fi
