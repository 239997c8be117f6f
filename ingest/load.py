"""Read a corpus file into text. Encodings are tried strictly in a fixed order before any guessing."""
from __future__ import annotations

import unicodedata
from pathlib import Path

from zhengce.ingest.formats import LoadError, read_docx, read_html, read_legacy_word, read_pdf, sniff_legacy_word

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".docx", ".pdf", ".doc", ".wps"}
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_CONTROL_SHARE = 0.01  # decoded "text" with more control/unassigned characters than this is binary

__all__ = ["LoadError", "MAX_FILE_BYTES", "SUPPORTED_SUFFIXES", "decode_text", "read_document_text"]


def decode_text(data: bytes, name: str) -> str:
    # Strict order: UTF-8 (with or without BOM), then GB18030 (a superset of GBK/GB2312). Detectors
    # often take GBK for Big5, so we only guess when all of these fail.
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return checked_text(data[3:].decode("utf-8"), name)
        except UnicodeDecodeError:
            raise LoadError(f"{name}: starts with a UTF-8 mark but is not valid UTF-8 (truncated or corrupt?)") from None
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text and not looks_binary(text):
            return text
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or "\x00" in str(best) or looks_binary(str(best)):
        raise LoadError(f"{name}: not a text file in a known encoding (tried UTF-8, GB18030, detection); binary data?")
    return str(best)


def looks_binary(text: str) -> bool:
    """GB18030 decodes most byte soup without error; real text has almost no control or unassigned characters."""
    sample = text[:200_000]
    bad = sum(1 for ch in sample if ch not in "\n\r\t\f" and unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs"))
    return bad > MAX_CONTROL_SHARE * max(len(sample), 1)


def checked_text(text: str, name: str) -> str:
    if looks_binary(text):
        raise LoadError(f"{name}: binary data, not text")
    return text


def read_document_text(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"{path.name}: unsupported file type {suffix or '(none)'}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(f"{path.name}: cannot read ({exc.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise LoadError(f"{path.name}: {size / (1024 * 1024):.0f} MB is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MB limit; split it or save it as text")
    if size == 0:
        raise LoadError(f"{path.name}: the file is empty")
    if suffix == ".docx":
        return read_docx(path)
    if suffix == ".pdf":
        return read_pdf(path)
    html_inside = suffix in (".doc", ".wps") and sniff_legacy_word(path) == "html"  # a web page saved as .doc
    if suffix in (".doc", ".wps") and not html_inside:
        return read_legacy_word(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"{path.name}: cannot read ({exc.strerror})") from None
    if not data.strip():
        raise LoadError(f"{path.name}: the file is empty")
    text = decode_text(data, path.name)
    return read_html(path, text) if suffix in HTML_SUFFIXES or html_inside else text
