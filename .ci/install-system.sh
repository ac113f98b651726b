#!/usr/bin/env bash
# Installs the Debian 12 system packages Affect needs: a Vulkan driver new enough
# for Dawn (Mesa lavapipe from bookworm-backports), ffmpeg, and Chromium and Firefox ESR
# for the browser tests. Idempotent; run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

backports=/etc/apt/sources.list.d/affect-backports.sources
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  cat >"$backports" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

need=()
dpkg -s libvulkan1 >/dev/null 2>&1 || need+=(libvulkan1)
dpkg -s ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
dpkg -s chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s firefox-esr >/dev/null 2>&1 || need+=(firefox-esr)
mesa_ver=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)

if [ ${#need[@]} -gt 0 ] || [[ "$mesa_ver" != 25.* ]]; then
  apt-get update -q
  [ ${#need[@]} -gt 0 ] && apt-get install -y -q --no-install-recommends "${need[@]}"
  if [[ "$mesa_ver" != 25.* ]]; then
    apt-get install -y -q --no-install-recommends -t bookworm-backports mesa-vulkan-drivers
  fi
fi
echo "system packages ready: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
