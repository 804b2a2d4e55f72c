#!/usr/bin/env bash
# `make image`: the base (once), the wheelhouse (dependencies cached), then `podman build` with
# no network. Tags localhost/chatref:dev unless told otherwise.
#
#   scripts/image.sh [TAG]
#
# podman needs runc and cgroupfs on these machines, and rlimits it may not raise (DESIGN.md).
set -euo pipefail
TAG="${1:-localhost/chatref:dev}"
BASE_IMAGE="${BASE_IMAGE:-localhost/debian-python:bookworm}"
PYTHON="${PYTHON:-.venv/bin/python}"
PODMAN="podman --runtime runc --cgroup-manager=cgroupfs"
cd "$(dirname "$0")/.."
# What /health/ready names as the build: this checkout's commit (-dirty with uncommitted
# changes), as a name CHATREF_BUILD accepts (a tag like release/1.2 would not be: / becomes -).
CHATREF_BUILD="${CHATREF_BUILD:-$(git describe --always --dirty --abbrev=12 2>/dev/null || echo dev)}"
CHATREF_BUILD="$(printf '%s' "$CHATREF_BUILD" | tr -c 'A-Za-z0-9._+-' '-' \
  | sed 's/^[^A-Za-z0-9]*//' | cut -c1-64)"
CHATREF_BUILD="${CHATREF_BUILD:-dev}"

bash scripts/base-image.sh "$BASE_IMAGE"
bash scripts/wheelhouse.sh "$PYTHON"
$PODMAN build --quiet --network=none --format docker \
  --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
  --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg CHATREF_BUILD="$CHATREF_BUILD" \
  --tag "$TAG" --file Dockerfile . >/dev/null
$PODMAN image inspect --format '{{.Id}} {{.Size}}' "$TAG" \
  | awk -v tag="$TAG" -v build="$CHATREF_BUILD" \
    '{printf "built %s (%s, %.0f MB, build %s)\n", tag, substr($1, 1, 12), $2 / 1e6, build}'
