"""Read a corpus file into text. Encodings are tried strictly in a fixed order before any guessing."""
from __future__ import annotations

import unicodedata
from pathlib import Path

from zhengce.ingest.formats import LoadError, read_docx, read_html, read_legacy_word, read_pdf, sniff_legacy_word

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
# Formats read page by page: their chunks are cited with page numbers (第N页)
PAGED_SUFFIXES = {".pdf"} | IMAGE_SUFFIXES
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | IMAGE_SUFFIXES | {".docx", ".pdf", ".doc", ".wps"}
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_SCAN_BYTES = 400 * 1024 * 1024  # a scanned PDF holds images: a 300-page scan at 200 dpi is 50–150 MB; read page by page
MAX_CONTROL_SHARE = 0.01  # decoded "text" with more control/unassigned characters than this is binary

__all__ = ["LoadError", "MAX_FILE_BYTES", "PAGED_SUFFIXES", "SUPPORTED_SUFFIXES", "decode_text", "read_document_pages",
           "read_document_text"]


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
    """The whole text of a file; a paged file's pages one after another (ingest/pages.py joins them)."""
    from zhengce.ingest.pages import drop_running_lines, join_pages

    pages = read_document_pages(path)
    return join_pages(drop_running_lines(pages)) if path.suffix.lower() in PAGED_SUFFIXES else pages[0]


def read_document_pages(path: Path) -> list[str]:
    """The text of each page of a PDF or image (OCRed where there is no text layer); a one-item list
    for formats without pages."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"{path.name}: unsupported file type {suffix or '(none)'}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(f"{path.name}: cannot read ({exc.strerror})") from None
    limit = MAX_SCAN_BYTES if suffix in PAGED_SUFFIXES else MAX_FILE_BYTES
    if size > limit:
        raise LoadError(f"{path.name}: {size / (1024 * 1024):.0f} MB is larger than the {limit // (1024 * 1024)} MB limit; split it or save it as text")
    if size == 0:
        raise LoadError(f"{path.name}: the file is empty")
    if suffix == ".docx":
        return [read_docx(path)]
    if suffix == ".pdf":
        return read_pdf(path)
    if suffix in IMAGE_SUFFIXES:
        return read_image_pages(path)
    html_inside = suffix in (".doc", ".wps") and sniff_legacy_word(path) == "html"  # a web page saved as .doc
    if suffix in (".doc", ".wps") and not html_inside:
        return [read_legacy_word(path)]
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"{path.name}: cannot read ({exc.strerror})") from None
    if not data.strip():
        raise LoadError(f"{path.name}: the file is empty")
    text = decode_text(data, path.name)
    return [read_html(path, text) if suffix in HTML_SUFFIXES or html_inside else text]


def read_image_pages(path: Path) -> list[str]:
    from zhengce.ingest.ocr import OcrError, read_image

    try:
        pages = read_image(path)
    except OcrError as exc:
        raise LoadError(str(exc)) from None
    if not any(page.strip() for page in pages):
        raise LoadError(f"{path.name}: OCR found no text in the image (blank, a photo, or too blurred?)")
    return pages
