#!/usr/bin/env bash
# Installs the Debian packages the tests need (the real servers they start), skipping those present.
# `apt-get update` runs once, and only when something is missing.
set -euo pipefail
missing=()
for pkg in "$@"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
echo "[apt-deps] installing: ${missing[*]}" >&2
$sudo apt-get update -qq
# Servers must not start on install: the tests start their own on loopback.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
