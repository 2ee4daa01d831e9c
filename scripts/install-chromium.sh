#!/usr/bin/env bash
# Debian's Chromium for the browser tests (driven by playwright-core, which
# downloads no browser of its own). Installed once per machine.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "chromium is missing: install Debian's package as root (apt-get install chromium) for the browser tests" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
echo "chromium: $(/usr/bin/chromium --version)"
