"""Protections against hostile files and strings (issue: reliability and security)."""

from __future__ import annotations

import csv
import io
import stat
import struct
import zipfile
import zlib

import pandas as pd
import pytest

import explain
from explain.loading import archives as _archives
from explain.loading.csv_export import safe_csv


@pytest.mark.parametrize("payload", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_csv_exports_neutralise_formula_cells(payload: str) -> None:
    frame = pd.DataFrame({payload: [payload, "plain"], "value": [-1.5, 2.0]})
    header, first, second = list(csv.reader(io.StringIO(safe_csv(frame), newline="")))
    assert header == ["'" + payload, "value"]       # a spreadsheet shows both as text
    assert first == ["'" + payload, "-1.5"]         # numbers stay numbers, negatives too
    assert second == ["plain", "2.0"]


# --- hostile archives and images ------------------------------------------------------------


def _png(width: int, height: int) -> bytes:
    """A PNG that declares ``width x height`` pixels (1-bit gray) but holds almost no data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b"")


def _zip(entries: dict[str, bytes], *, link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def test_zip_bomb_is_refused_before_unpacking() -> None:
    bomb = _zip({"cat/a.png": b"\x00" * 20_000_000})  # 20 MB of zeros packs to ~20 KB
    assert len(bomb) < 100_000
    with pytest.raises(explain.DataError, match="zip bomb"):
        explain.load_dataset(bomb)


def test_zip_with_too_many_entries_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_archives, "MAX_ZIP_ENTRIES", 5)
    many = _zip({f"cat/{i}.png": _png(2, 2) for i in range(6)})
    with pytest.raises(explain.DataError, match="at most 5"):
        explain.load_dataset(many)


@pytest.mark.parametrize("name", ["../evil.png", "/abs/evil.png", "cat/../../evil.png"])
def test_zip_slip_entries_are_refused(name: str) -> None:
    with pytest.raises(explain.DataError):
        explain.load_dataset(_zip({"cat/a.png": _png(2, 2), name: _png(2, 2)}))


def test_symbolic_links_in_zips_are_refused() -> None:
    with pytest.raises(explain.DataError, match="symbolic link"):
        explain.load_dataset(_zip({"cat/a.png": _png(2, 2)}, link="cat/b.png"))


def test_image_bomb_is_refused_without_decoding() -> None:
    import PIL.Image

    assert PIL.Image.MAX_IMAGE_PIXELS is not None  # Pillow's bomb limit is kept on
    bomb = _zip({"cat/a.png": _png(100_000, 100_000), "dog/b.png": _png(2, 2)})
    with pytest.raises(explain.DataError, match="bomb|pixels"):
        explain.load_dataset(bomb)


def test_parquet_needs_a_pyarrow_with_the_code_execution_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    monkeypatch.setattr(pyarrow, "__version__", "13.0.0")
    with pytest.raises(explain.DataError, match="14"):
        explain.load_dataset(b"PAR1" + b"\x00" * 16)
