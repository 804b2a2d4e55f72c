"""scripts/strip_wheels.py, the wheelhouse's debug-section stripper, on a wheel made of a real
extension module with DWARF sections (usearch's, or another installed one) and a vendored copy
of it."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import usearch

from tests.conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
from strip_wheels import record_hash  # noqa: E402

EXTENSION = "demo/compiled.cpython-311-x86_64-linux-gnu.so"
VENDORED = "demo.libs/libvendored-1a2b3c4d.so"
RECORD = "demo-1.0.dist-info/RECORD"


def _library_with_debug_sections() -> bytes:
    """An installed extension module that still carries DWARF sections (usearch's did when this
    was written; a later wheel may ship stripped, so others are tried)."""
    site = Path(usearch.__file__).parent.parent
    for pattern in ("usearch/compiled*.so", "numkong/_numkong*.so", "uvloop/loop*.so",
                    "yaml/_yaml*.so", "wordllama/algorithms/*.so"):
        for candidate in sorted(site.glob(pattern)):
            data = candidate.read_bytes()
            if b".debug_info" in data:
                return data
    pytest.skip("no installed extension module carries debug sections to strip")


def _wheel(path: Path, library: bytes) -> dict[str, bytes]:
    members = {EXTENSION: library, VENDORED: library, "demo/__init__.py": b"VERSION = 1\n"}
    lines = [f"{name},{record_hash(data)},{len(data)}" for name, data in members.items()]
    members[RECORD] = ("\n".join([*lines, f"{RECORD},,"]) + "\n").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in members.items():
            wheel.writestr(name, data)
    return members


def _run(folder: Path) -> str:
    done = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "strip_wheels.py"),
                           str(folder)], capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def test_extension_modules_lose_their_debug_sections_and_nothing_else(tmp_path: Path) -> None:
    if shutil.which("strip") is None:
        pytest.skip("binutils' strip is missing (scripts/install-podman.sh installs it)")
    library = _library_with_debug_sections()
    wheel = tmp_path / "demo-1.0-cp311-cp311-manylinux_2_28_x86_64.whl"
    before = _wheel(wheel, library)

    assert "demo-1.0-cp311" in _run(tmp_path)

    with zipfile.ZipFile(wheel) as stripped:
        after = {name: stripped.read(name) for name in stripped.namelist()}
    assert list(after) == list(before)  # same members, same order
    assert after[EXTENSION].startswith(b"\x7fELF") and len(after[EXTENSION]) < len(library)
    assert after[VENDORED] == library  # auditwheel's vendored libraries are never stripped
    assert after["demo/__init__.py"] == before["demo/__init__.py"]
    rows = {row[0]: row for row in csv.reader(io.StringIO(after[RECORD].decode()))}
    assert rows[EXTENSION] == [EXTENSION, record_hash(after[EXTENSION]),
                               str(len(after[EXTENSION]))]
    assert rows[VENDORED] == [VENDORED, record_hash(library), str(len(library))]

    assert "0 MB saved" in _run(tmp_path)  # a second pass finds nothing left to strip
    with zipfile.ZipFile(wheel) as again:
        assert {name: again.read(name) for name in again.namelist()} == after
