#!/usr/bin/env bash
# Installs the system tools the tests drive (real ffmpeg, Chromium, Firefox ESR,
# WebKitGTK's WebDriver with GStreamer, nginx with the RTMP and stream modules, rtmpdump,
# redis-server, GStreamer's RTMP elements, Xvfb) when any is missing.
# Debian/Ubuntu, apt-get.
set -euo pipefail

need=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
ls /usr/lib/nginx/modules/ngx_rtmp_module.so >/dev/null 2>&1 || need+=(libnginx-mod-rtmp)
# deploy/nginx-cluster.conf balances RTMP through a stream {} block.
ls /usr/lib/nginx/modules/ngx_stream_module.so >/dev/null 2>&1 || need+=(libnginx-mod-stream)
command -v rtmpdump >/dev/null 2>&1 || need+=(rtmpdump)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v firefox-esr >/dev/null 2>&1 || need+=(firefox-esr)
command -v WebKitWebDriver >/dev/null 2>&1 || need+=(webkit2gtk-driver)
command -v gst-launch-1.0 >/dev/null 2>&1 || need+=(gstreamer1.0-tools)
# WebKit plays H.264/AAC through GStreamer; rtmp2sink/rtmp2src are in -bad.
for pkg in gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb xauth)
command -v pulseaudio >/dev/null 2>&1 || need+=(pulseaudio)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

echo "Installing system tools for the tests: ${need[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "Missing ${need[*]} and not root (no sudo): install them with apt-get and run again." >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# policy-rc.d keeps the nginx package from starting a system nginx on port 80.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "Installed: ${need[*]}"
