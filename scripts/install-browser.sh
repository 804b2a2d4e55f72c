#!/usr/bin/env bash
# Installs Debian's Chromium for the UI tests when it is missing. The tests drive it with
# Playwright's Python client (executable_path=/usr/bin/chromium); no browser is downloaded.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null
chromium --version
