#!/usr/bin/env bash
# Builds the image's Debian bookworm base from Debian's packages, once: no registry image can be
# pulled here, so `make image` starts FROM this local base (the cloud pipeline passes
# --build-arg BASE_IMAGE=python:3.11-slim-bookworm instead). Skips when the base exists.
#
#   scripts/base-image.sh [IMAGE]      # default localhost/debian-python:bookworm
#
# minbase + python3-minimal + python3-venv, without man pages, docs, translations and iconv's
# gconv modules (Python has its own codecs), and without the full perl that usrmerge needs
# (mmdebstrap merges /usr itself and installs usrmerge anyway; usr-is-merged stands in for it
# once it is purged): about 125 MB instead of 225 MB. Takes 30 s to a few minutes,
# depending on the mirror. RECIPE names this recipe: bump it when the recipe changes, and a base
# built by an older one is rebuilt.
set -euo pipefail
BASE_IMAGE="${1:-localhost/debian-python:bookworm}"
PODMAN="${PODMAN:-podman --runtime runc --cgroup-manager=cgroupfs}"
RECIPE=3

current() {
  $PODMAN image inspect --format '{{index .Labels "chatref.base.recipe"}}' "$BASE_IMAGE" \
    2>/dev/null || true
}
if [ "$(current)" = "$RECIPE" ]; then
  exit 0
fi
for tool in mmdebstrap podman; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: run scripts/install-podman.sh" >&2; exit 1; }
done

# One builder at a time on this machine (several checkouts may run `make image` at once).
exec 9>/tmp/chatref-base-image.lock
flock 9
if [ "$(current)" = "$RECIPE" ]; then
  exit 0
fi
ONLY_FOR_USRMERGE="usrmerge libfile-find-rule-perl libnumber-compare-perl libtext-glob-perl"
ONLY_FOR_USRMERGE="$ONLY_FOR_USRMERGE perl libperl5.36 perl-modules-5.36"
workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
echo "building $BASE_IMAGE with mmdebstrap (once; cached afterwards)" >&2
mmdebstrap --quiet --variant=minbase --include=python3-minimal,python3-venv,usr-is-merged \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/lib/*/gconv/*' \
  --customize-hook="chroot \"\$1\" dpkg --purge $ONLY_FOR_USRMERGE" \
  bookworm "$workdir/rootfs.tar"
$PODMAN import --quiet --change "LABEL chatref.base.recipe=$RECIPE" \
  "$workdir/rootfs.tar" "$BASE_IMAGE" >/dev/null
echo "built $BASE_IMAGE" >&2
