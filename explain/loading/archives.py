"""Reading what users upload: paths, bytes or file-like objects, and zip archives safely.

Zip archives are capped in entry count, unpacked size and compression ratio; no
entry may be absolute, climb out with ``..``, or be a symbolic link.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Union

from explain.errors import DataError, InputError

Source = Union[str, os.PathLike, bytes, bytearray, IO[bytes]]

MAX_ZIP_ENTRIES = 20_000
MAX_ZIP_BYTES = 2 * 1024**3
MAX_ZIP_RATIO = 200.0


@dataclass
class Blob:
    """The bytes of one upload plus the name it came with (used for hints only)."""

    data: bytes
    name: str
    path: Path | None = None

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name.lower()).suffix

    def head(self, n: int = 16) -> bytes:
        return self.data[:n]


def read_source(source: Any, *, what: str) -> Blob | Path:
    """Return a folder as a Path, or a file's bytes (paths, bytes, file-like objects).

    Raises:
        InputError: the source is none of those, or the path does not exist.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if path.is_dir():
            return path
        if not path.exists():
            raise InputError(f"No {what} file at {str(path)!r}. Check the path.")
        return Blob(path.read_bytes(), path.name, path)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return Blob(bytes(source), "")
    if hasattr(source, "getvalue") or hasattr(source, "read"):
        data = source.getvalue() if hasattr(source, "getvalue") else source.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        return Blob(bytes(data), str(getattr(source, "name", "") or ""))
    raise InputError(
        f"Cannot read a {what} from {type(source).__name__}. Pass a path, bytes, or a "
        "file-like object opened in binary mode."
    )


def is_zip(blob: Blob) -> bool:
    return blob.data[:4] == b"PK\x03\x04"


# what zipfile raises on a damaged archive: bad headers, unknown versions or compression,
# undecodable names, truncated data
ZIP_ERRORS = (zipfile.BadZipFile, NotImplementedError, ValueError, OSError, EOFError, UnicodeDecodeError,
              struct.error, zlib.error)


def open_zip(data: bytes) -> zipfile.ZipFile:
    """``zipfile.ZipFile`` over ``data``; raises one of :data:`ZIP_ERRORS` when damaged."""
    return zipfile.ZipFile(io.BytesIO(data))


def safe_zip(blob: Blob) -> zipfile.ZipFile:
    """Open a zip upload after checking every entry against the caps and path rules.

    Raises:
        DataError: the archive is corrupt, too large, or has an unsafe entry.
    """
    try:
        archive = open_zip(blob.data)
    except ZIP_ERRORS as err:
        raise DataError(f"{blob.name or 'The upload'} is not a readable zip archive ({err}).") from err
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise DataError(
            f"The zip has {len(infos)} entries; at most {MAX_ZIP_ENTRIES} are accepted. "
            "Split it into smaller archives."
        )
    total = 0
    for info in infos:
        check_member_name(info.filename)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise DataError(f"The zip entry {info.filename!r} is a symbolic link; links are refused.")
        total += info.file_size
        if info.compress_size and info.file_size / info.compress_size > MAX_ZIP_RATIO:
            raise DataError(
                f"The zip entry {info.filename!r} expands {info.file_size / info.compress_size:.0f}"
                f" times; more than {MAX_ZIP_RATIO:.0f} looks like a zip bomb and is refused."
            )
    if total > MAX_ZIP_BYTES:
        raise DataError(
            f"The zip unpacks to {total / 1024**3:.1f} GiB; at most "
            f"{MAX_ZIP_BYTES / 1024**3:.0f} GiB is accepted."
        )
    return archive


def check_member_name(name: str) -> None:
    """Refuse archive member names that are absolute or climb out of the archive."""
    normal = name.replace("\\", "/")
    parts = PurePosixPath(normal).parts
    if normal.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
        raise DataError(
            f"The archive entry {name!r} points outside the archive; entries must be "
            "relative paths without '..'. Re-create the zip from inside its folder."
        )


def extract_zip(archive: zipfile.ZipFile, folder: Path) -> Path:
    """Extract a checked archive into ``folder`` and return the folder that holds its
    content (the single top-level folder when the zip wraps everything in one)."""
    for info in archive.infolist():
        target = (folder / info.filename).resolve()
        if not str(target).startswith(str(folder.resolve())):
            raise DataError(f"The archive entry {info.filename!r} points outside the archive.")
    archive.extractall(folder)
    entries = [p for p in folder.iterdir() if not p.name.startswith("__MACOSX")]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return folder
