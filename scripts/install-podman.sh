#!/usr/bin/env bash
# Installs Debian's podman, runc and mmdebstrap for `make image` and the container test when
# they are missing, and binutils (strip: scripts/strip_wheels.py). runc, not crun: crun fails on
# these machines (cgroups in hybrid mode, no CAP_SYS_RESOURCE to raise rlimits), so every podman
# call passes --runtime runc.
set -euo pipefail
if command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 \
    && command -v mmdebstrap >/dev/null 2>&1 && command -v strip >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "podman, runc, mmdebstrap or strip is missing and this is not Debian: install them by" \
    "hand" >&2
  exit 0  # the container test skips and says why
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# debian-archive-keyring: mmdebstrap verifies bookworm's packages with it (already there on
# Debian; on Ubuntu, e.g. a GitHub-hosted runner, it is not)
$SUDO apt-get install -y -q --no-install-recommends podman runc mmdebstrap \
  debian-archive-keyring binutils >/dev/null
podman --version
