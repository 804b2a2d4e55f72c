#!/usr/bin/env bash
# Builds the wheelhouse the image installs from (the image build has no network):
#   build/wheelhouse/deps/  every runtime dependency, fetched only when its inputs change
#   build/wheelhouse/app/   the chatref wheel itself, rebuilt every time (it is the code)
#
#   scripts/wheelhouse.sh [PYTHON]     # default .venv/bin/python (runs pip; any 3.11 will do)
#
# The dependencies are exactly requirements/app.txt (`make lock`), each downloaded with its hash
# checked, as binary wheels for the image's interpreter rather than the host's: Debian
# bookworm's Python 3.11.2 on glibc 2.36 (TARGET_PYTHON), which also suits the official
# python:3.11-slim-bookworm. Their shared libraries' debug information is then stripped
# (scripts/strip_wheels.py; binutils' strip on the host). (The lock is resolved for Python
# 3.11.0 and up, so a package whose newest release needs a later 3.11, like soupsieve, is locked
# at one that runs on 3.11.2.)
set -euo pipefail
PYTHON="${1:-.venv/bin/python}"
TARGET_PYTHON="${TARGET_PYTHON:-3.11.2}"
OUT="build/wheelhouse"
LOCK="requirements/app.txt"
mkdir -p "$OUT"

key="$(sha256sum < "$LOCK" | cut -d' ' -f1) python $TARGET_PYTHON"
# Whether the wheels were stripped is part of what they are: installing binutils later rebuilds.
key="$key strip $(sha256sum < scripts/strip_wheels.py | cut -d' ' -f1) $(command -v strip || echo none)"
if [ "$(cat "$OUT/deps.key" 2>/dev/null)" != "$key" ]; then
  rm -rf "$OUT/deps" "$OUT/deps.key"
  platforms=()
  for p in manylinux_2_36 manylinux_2_28 manylinux_2_17 manylinux2014 manylinux_2_5 manylinux1 linux; do
    platforms+=(--platform "${p}_$(uname -m)")
  done
  $PYTHON -m pip download -q --disable-pip-version-check --dest "$OUT/deps" \
    --only-binary=:all: --implementation cp --python-version "$TARGET_PYTHON" --abi cp311 \
    "${platforms[@]}" --require-hashes --no-deps -r "$LOCK" 2> >(grep -v "^WARNING: Location" >&2)
  # Once the hashes are checked: the libraries' debug sections out (75 MB of the image).
  $PYTHON scripts/strip_wheels.py "$OUT/deps" ${CI:+--require}  # a release must not grow
  echo "$key" > "$OUT/deps.key"
fi

rm -rf "$OUT/app"
$PYTHON -m pip wheel -q --disable-pip-version-check --no-deps --wheel-dir "$OUT/app" . \
  2> >(grep -v "^WARNING: Location" >&2)
ls "$OUT/app"/chatref-*.whl >/dev/null
