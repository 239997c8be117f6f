"""Read a corpus file into text. Encodings are tried strictly in a fixed order before any guessing."""
from __future__ import annotations

from pathlib import Path

from ingest.errors import ZhengceError

TEXT_SUFFIXES = {".txt", ".md"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES
MAX_FILE_BYTES = 50 * 1024 * 1024


class LoadError(ZhengceError):
    """A file that cannot be read; the message is one line for the user."""


def decode_text(data: bytes, name: str) -> str:
    # Strict order: UTF-8 (with or without BOM), then GB18030 (a superset of GBK/GB2312). Detectors
    # often take GBK for Big5, so we only guess when all of these fail.
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or "\x00" in str(best):
        raise LoadError(f"{name}: not a text file in a known encoding (tried UTF-8, GB18030, detection)")
    return str(best)


def read_document_text(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"{path.name}: unsupported file type {suffix or '(none)'}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LoadError(f"{path.name}: {size // (1024 * 1024)} MB is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MB limit")
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"{path.name}: cannot read ({exc.strerror})") from None
    if not data.strip():
        raise LoadError(f"{path.name}: the file is empty")
    return decode_text(data, path.name)
