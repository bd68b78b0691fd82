"""Text files as clients send them: compressed (.gz .bz2 .xz .zst), zipped, or whitespace-aligned.

DuckDB reads gzip and zstd CSVs itself; the other shapes are turned, streaming, into a plain file in a scratch
folder that DuckDB then reads like any CSV (the source is never modified).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cxnb.errors import DataError

COMPRESSED = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd", ".zstd": "zstd",
              ".zip": "zip"}
NATIVE = {"gzip", "zstd"}  # DuckDB's read_csv decompresses these itself
WHITESPACE_SEPS = (r"\s+", "\\s+", " +", r"\s*")
_RUNS = re.compile(r"[ \t\f\v]+")


@dataclass(frozen=True)
class TextSource:
    """What DuckDB should read: the path, its compression (for DuckDB) and the delimiter to use."""

    path: Path
    compression: str | None
    note: str | None = None  # how the file was read, for quality.json and validate


def compression_of(path: Path) -> str | None:
    """'gzip', 'bz2', 'xz', 'zstd', 'zip' or None, by the file's last suffix."""
    return COMPRESSED.get(path.suffix.lower())


def inner_suffix(path: Path) -> str:
    """The suffix of the data inside: '.csv' for 'orders.csv.gz'."""
    return Path(path.stem).suffix.lower() if compression_of(path) else path.suffix.lower()


def whitespace_aligned(read_options: dict) -> bool:
    """Whether the options ask for runs of whitespace as the separator (pandas ``sep=r'\\s+'``)."""
    return bool(read_options.get("delim_whitespace")) or read_options.get("sep") in WHITESPACE_SEPS


def open_binary(path: Path, member: str | None = None, where: str = "") -> io.BufferedIOBase:
    """The file's decompressed bytes as a stream (one member of a zip: the only one, or ``member``)."""
    kind = compression_of(path)
    if kind == "gzip":
        return gzip.open(path, "rb")
    if kind == "bz2":
        return bz2.open(path, "rb")
    if kind == "xz":
        return lzma.open(path, "rb")
    if kind == "zstd":
        try:
            import zstandard
        except ImportError:
            raise DataError(f"{path}: reading a .zst file line by line needs the 'zstandard' package; "
                            "decompress it first (zstd -d) or export the file as .gz") from None
        return zstandard.ZstdDecompressor().stream_reader(path.open("rb"))
    if kind == "zip":
        archive = zipfile.ZipFile(path)
        names = [n for n in archive.namelist() if not n.endswith("/")]
        if member is None and len(names) != 1:
            raise DataError(f"{path}: the zip holds {len(names)} files ({', '.join(names[:8])}); name the one to "
                            f"read in {where}read_options.member.")
        name = member or names[0]
        if name not in names:
            raise DataError(f"{path}: the zip has no file '{name}'; it holds {', '.join(names[:8])}.")
        return archive.open(name)
    return path.open("rb")


def head_bytes(path: Path, member: str | None = None, size: int = 1 << 20, where: str = "") -> bytes:
    """The first ``size`` decompressed bytes (for the encoding check)."""
    with open_binary(path, member, where) as fh:
        return fh.read(size)


def _whitespace_to_tabs(src: io.BufferedIOBase, target: Path, encoding: str) -> None:
    """Write ``src`` as tab-separated text: leading/trailing blanks dropped, runs of blanks as one tab, CRLF → LF."""
    reader = io.TextIOWrapper(src, encoding=encoding, newline=None)
    with target.open("w", encoding="utf-8", newline="\n") as out:
        for line in reader:
            stripped = line.strip()
            if stripped:
                out.write(_RUNS.sub("\t", stripped) + "\n")


def plain_source(path: Path, read_options: dict, encoding: str, scratch: Path, where: str = "") -> TextSource:
    """A file DuckDB can read directly: the source itself when it can, else a decompressed or re-delimited copy
    in ``scratch`` (streamed, never the whole file in memory)."""
    kind = compression_of(path)
    member = read_options.get("member")
    aligned = whitespace_aligned(read_options)
    if not aligned and (kind is None or kind in NATIVE):
        note = None if kind is None else f"{kind}-compressed, read by DuckDB"
        return TextSource(path, kind, note)
    scratch.mkdir(parents=True, exist_ok=True)
    target = scratch / (Path(path.stem).stem + (".tsv" if aligned else inner_suffix(path) or ".csv"))
    with open_binary(path, member, where) as src:
        if aligned:
            _whitespace_to_tabs(src, target, encoding)
        else:
            with target.open("wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
    parts = ([f"{kind} archive" + (f" member '{member}'" if member else "")] if kind else [])
    parts += ["whitespace-aligned columns (runs of spaces as one separator)"] if aligned else []
    return TextSource(target, None, "; ".join(parts))
