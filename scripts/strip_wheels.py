"""Strip the debug information out of the shared libraries inside wheels, in place.

    python scripts/strip_wheels.py build/wheelhouse/deps [--strip strip]

Several runtime dependencies ship their compiled extension modules with DWARF debug sections:
numkong (usearch's SIMD kernels) is 44 MB with them and 4 MB without, uvloop 14 MB and 3 MB.
Nothing in the image debugs them, and the image's base has no binutils, so the wheelhouse strips
them on the host (``strip --strip-debug``: debug sections only; the symbol tables ctypes and the
dynamic loader use stay), rewrites each changed file's line in the wheel's RECORD and repacks
the wheel under its own name, every other member byte for byte as it was. Only extension modules
are stripped, never the libraries vendored beside them (``_is_extension``). Wheels without one,
or whose extensions carry no debug sections, are left untouched. Prints one line per wheel
changed and the total saved.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ELF_MAGIC = b"\x7fELF"


def record_hash(data: bytes) -> str:
    """A RECORD hash, as the wheel format writes it.

    >>> record_hash(b"")
    'sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU'
    """
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def _is_extension(name: str) -> bool:
    """A Python extension module of the wheel's own build, not a library vendored beside it.

    auditwheel copies the libraries a wheel links to into ``<package>.libs/`` and rewrites their
    headers with patchelf; binutils' strip then breaks them (numpy's OpenBLAS failed to load:
    "ELF load command address/offset not page-aligned"). Extension modules, even those whose
    RPATH patchelf set, load after stripping (numkong, numpy, usearch were tried), so only
    they are stripped.

    >>> [_is_extension(n) for n in ("numkong/_numkong.cpython-311-x86_64-linux-gnu.so",
    ...     "tokenizers/tokenizers.abi3.so", "numpy.libs/libscipy_openblas64_-32a4b2a6.so",
    ...     "pypdfium2_raw/libpdfium.so")]
    [True, True, False, False]
    """
    folder, _, base = name.rpartition("/")
    if any(part.endswith(".libs") for part in folder.split("/")):
        return False
    return base.endswith(".abi3.so") or (".cpython-" in base and base.endswith(".so"))


def _stripped(data: bytes, strip: str, scratch: Path, name: str) -> bytes:
    """``data`` without its debug sections; as it was if strip fails on it (said on stderr)."""
    scratch.write_bytes(data)
    done = subprocess.run([strip, "--strip-debug", str(scratch)],  # noqa: S603 - binutils
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"strip_wheels: {name} kept as it was: {done.stderr.strip()}", file=sys.stderr)
        return data
    return scratch.read_bytes()


def strip_wheel(wheel: Path, strip: str) -> int:
    """Strip ``wheel``'s libraries in place; the bytes saved (0: the wheel is unchanged)."""
    with zipfile.ZipFile(wheel) as source:
        members = source.infolist()
        changed: dict[str, bytes] = {}
        with tempfile.TemporaryDirectory() as tmp:
            scratch = Path(tmp) / "library"
            for info in members:
                if not _is_extension(info.filename):
                    continue
                data = source.read(info)
                if not data.startswith(ELF_MAGIC):
                    continue
                smaller = _stripped(data, strip, scratch, info.filename)
                if len(smaller) < len(data):
                    changed[info.filename] = smaller
        if not changed:
            return 0
        saved = 0
        rebuilt = wheel.with_name(wheel.name + ".part")
        with zipfile.ZipFile(rebuilt, "w") as target:
            for info in members:
                if info.filename in changed:
                    data = changed[info.filename]
                    saved += info.file_size - len(data)
                elif info.filename.endswith(".dist-info/RECORD"):
                    data = _record(source.read(info).decode("utf-8"), changed).encode("utf-8")
                else:
                    data = source.read(info)
                target.writestr(info, data, compress_type=info.compress_type)
    os.replace(rebuilt, wheel)
    return saved


def _record(text: str, changed: dict[str, bytes]) -> str:
    """RECORD with the hash and size of every changed file rewritten."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(io.StringIO(text)):
        if row and row[0] in changed:
            row = [row[0], record_hash(changed[row[0]]), str(len(changed[row[0]]))]
        writer.writerow(row)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder of .whl files")
    parser.add_argument("--strip", default="strip", help="the strip program (binutils)")
    parser.add_argument("--require", action="store_true",
                        help="exit 2 without strip rather than leave the wheels as they are")
    args = parser.parse_args(argv)
    strip = shutil.which(args.strip)
    if strip is None:
        print(f"strip_wheels: {args.strip} not found (binutils): the wheels keep their debug "
              "information and the image is about 80 MB larger", file=sys.stderr)
        return 2 if args.require else 0
    total = 0
    for wheel in sorted(args.folder.glob("*.whl")):
        saved = strip_wheel(wheel, strip)
        if saved >= 100_000:
            print(f"strip_wheels: {wheel.name}: {saved / 1e6:.1f} MB of debug information")
        total += saved
    print(f"strip_wheels: {total / 1e6:.0f} MB saved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
