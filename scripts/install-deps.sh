#!/usr/bin/env bash
# Installs the Debian packages swarm builds and tests with, only those that are missing.
# Idempotent and quiet when everything is present. Needs root (or sudo) only to install.
set -euo pipefail

pkgs=(build-essential cmake pkg-config libwebsockets-dev libssl-dev libcjson-dev uthash-dev zlib1g-dev
      libcmocka-dev curl python3 clang)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
