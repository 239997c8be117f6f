"""Scanned pages → text, offline: RapidOCR (PP-OCRv4 Chinese detection and recognition models and a
direction classifier, bundled inside the rapidocr-onnxruntime wheel: nothing is downloaded) reads page
images; pypdfium2 renders the pages of a PDF that have no text layer.

OCR gives text lines with their boxes; this module puts them back in reading order and re-joins the
lines of a paragraph, so the text that leaves here looks like any other reader's: one paragraph per line.
"""
from __future__ import annotations

import math
import re
import statistics
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from zhengce.errors import ZhengceError

OCR_DPI = 200  # PDF pages are rendered at this resolution; 150–200 dpi is what scanners produce for text
# A page image larger than this is scaled down before OCR (RapidOCR scales to 2000 px on the long side
# anyway); larger still is refused before decoding, so a crafted image cannot fill memory.
MAX_PAGE_PIXELS = 60_000_000
MAX_RENDER_SIDE = 4000
MAX_OCR_PAGES = 500  # a scan longer than this is refused rather than read for an hour
# Boxes tilted more than this are not text lines of the page: a round seal's text, a stamp, a signature
MAX_LINE_TILT_DEGREES = 8.0
MIN_LINE_SCORE = 0.6  # recognitions below this confidence are mostly seal fragments and specks
# Bump when what leaves this module for a page changes: cached pages of an older version are read again
OCR_CACHE_VERSION = 2


class OcrError(ZhengceError):
    """A scan that cannot be read; the message is one line for the user."""


@dataclass(frozen=True)
class OcrLine:
    text: str
    left: float
    right: float
    top: float
    bottom: float
    score: float

    @property
    def height(self) -> float:
        return self.bottom - self.top


@lru_cache(maxsize=1)
def ocr_engine():
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:
        # OpenCV, under RapidOCR, links to libGL and GLib even without a display
        raise OcrError(f"reading scans needs rapidocr-onnxruntime and its OpenCV ({exc}); reinstall zhengce, "
                       "and on Debian/Ubuntu: apt-get install libgl1 libglib2.0-0") from None
    return RapidOCR()


def image_lines(image) -> list[OcrLine]:
    """The text lines OCR finds on one page image (a PIL image), seal text and specks left out."""
    import numpy as np

    pixels = np.asarray(image.convert("RGB"))[:, :, ::-1]  # RapidOCR takes OpenCV's BGR order
    result, _ = ocr_engine()(pixels)
    lines = []
    for box, text, score in result or []:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = box
        tilt = math.degrees(math.atan2(y1 - y0, max(x1 - x0, 1e-6)))
        if float(score) < MIN_LINE_SCORE or abs(tilt) > MAX_LINE_TILT_DEGREES or not text.strip():
            continue
        lines.append(OcrLine(text.strip(), min(x0, x3), max(x1, x2), min(y0, y1), max(y2, y3), float(score)))
    return lines


def page_rows(lines: list[OcrLine]) -> list[OcrLine]:
    """Boxes of one printed line side by side (OCR splits a line at wide gaps) joined left to right,
    rows top to bottom."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda l: (l.top + l.bottom) / 2):
        middle = (line.top + line.bottom) / 2
        if rows and rows[-1][-1].top < middle < rows[-1][-1].bottom:
            rows[-1].append(line)
        else:
            rows.append([line])
    joined = []
    for row in rows:
        row.sort(key=lambda l: l.left)
        joined.append(OcrLine("".join(l.text for l in row), row[0].left, row[-1].right,
                              min(l.top for l in row), max(l.bottom for l in row), min(l.score for l in row)))
    return joined


def paragraphs(rows: list[OcrLine]) -> list[str]:
    """Re-join wrapped lines: a row that starts indented begins a paragraph (official documents indent
    two characters), and a row that ends well short of the right margin ends one (a heading, a last line)."""
    if not rows:
        return []
    char = statistics.median(r.height for r in rows)
    margin_left = min(r.left for r in rows)
    margin_right = max(r.right for r in rows)
    out, current = [], ""
    for row in rows:
        indented = row.left > margin_left + 0.8 * char
        if current and indented:
            out.append(current)
            current = ""
        if current and current[-1:].isascii() and current[-1:].isalnum() and row.text[:1].isascii() and row.text[:1].isalnum():
            current += " "  # Latin words and numbers broken across lines keep a space; Chinese needs none
        current += row.text
        if row.right < margin_right - 1.5 * char:
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return out


def ocr_image(image) -> str:
    """One page image → its text, a paragraph per line."""
    image = bounded(image)
    return "\n".join(fix_confusions(p) for p in paragraphs(page_rows(image_lines(image))))


# Heading markers OCR misreads: 一、 as 一. or 一， and a lone 一 as a dash (—、, (—)); the structure
# parser (ingest/structure.py) only knows the true markers.
CN_NUMERAL = "一二三四五六七八九十"
DASH_AS_ONE = "—–－―-一"
MISREAD_HEADINGS = [
    (re.compile(rf"^([{CN_NUMERAL}]{{1,3}})[.．,，·](?=\D)"), r"\1、"),
    (re.compile(rf"^[{DASH_AS_ONE}]\s*[、.．](?=\D)"), "一、"),
    (re.compile(rf"^[（(]\s*[{DASH_AS_ONE}]\s*[)）]"), "（一）"),
]


def fix_confusions(paragraph: str) -> str:
    for pattern, replacement in MISREAD_HEADINGS:
        paragraph = pattern.sub(replacement, paragraph)
    return curly_quotes(paragraph)


def curly_quotes(text: str) -> str:
    """OCR often reads Chinese quotation marks as straight ones ("三培养\") or turns a closing one round
    (积分入学“). Within a paragraph double quotes alternate, open then close: with an even count each is set
    by its turn. An odd count means OCR dropped one, and setting every later quote by its turn would flip
    them all; then only straight quotes are set, each the opposite of the quote before it."""
    quotes = sum(text.count(q) for q in '"“”')
    if not quotes:
        return text
    out, open_quote = [], False
    for char in text:
        if char in '"“”':
            if quotes % 2 == 0 or char == '"':
                char = "”" if open_quote else "“"
            open_quote = char == "“"
        out.append(char)
    return "".join(out)


def bounded(image):
    """Scale a very large page down: beyond ~4000 px a side OCR gains nothing and memory grows."""
    longest = max(image.size)
    if longest > MAX_RENDER_SIDE:
        factor = MAX_RENDER_SIDE / longest
        image = image.resize((max(1, round(image.width * factor)), max(1, round(image.height * factor))))
    return image


class PageCache:
    """OCRed pages by file content (sha256), in <data dir>/ocr-cache: `zhengce add` reads a file before
    copying it and the index build reads the corpus again, and every later build does too; OCR costs
    seconds a page, so each page is read once. Saved after every page, so an interrupted scan resumes."""

    def __init__(self, path: Path):
        import hashlib
        import json

        from zhengce.paths import default_data_dir

        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        self.file = default_data_dir() / "ocr-cache" / f"{digest}.json"
        try:
            saved = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = {}
        self.pages: dict[str, str] = saved.get("pages", {}) if saved.get("version") == OCR_CACHE_VERSION else {}

    def get(self, number: int) -> str | None:
        return self.pages.get(str(number))

    def put(self, number: int, text: str) -> None:
        import json
        import os

        self.pages[str(number)] = text
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.file.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps({"version": OCR_CACHE_VERSION, "pages": self.pages}, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.file)
        except OSError:
            pass  # a read-only data folder: OCR again next time, nothing is lost


class Progress:
    """A progress bar for pages being OCRed (pages, s/page), shown only when the scan takes a while."""

    def __init__(self, name: str, total: int):
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=f"OCR {name}", unit="page", file=sys.stderr, leave=False,
                        delay=1.0, bar_format="{desc}: {n}/{total} pages [{elapsed}<{remaining}, {rate_inv_fmt}]")

    def step(self) -> None:
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def read_image(path: Path) -> list[str]:
    """An image file → the text of each of its pages (a TIFF may hold several)."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(path) as image:  # reads the header only: the size is known before any decoding
            if image.width * image.height > MAX_PAGE_PIXELS:
                raise Image.DecompressionBombError(image.size)
            frames = getattr(image, "n_frames", 1)
            if frames > MAX_OCR_PAGES:
                raise OcrError(f"{path.name}: {frames} pages, more than the {MAX_OCR_PAGES}-page limit; split it")
            cache = PageCache(path)
            progress = Progress(path.name, frames)
            pages = []
            try:
                for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
                    text = cache.get(number)
                    if text is None:
                        text = ocr_image(frame.copy())
                        cache.put(number, text)
                    pages.append(text)
                    progress.step()
            finally:
                progress.close()
            return pages
    except Image.DecompressionBombError:
        raise OcrError(f"{path.name}: the image is larger than {MAX_PAGE_PIXELS // 1_000_000} million pixels; scan it at 300 dpi or less") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, OcrError):
            raise
        raise OcrError(f"{path.name}: not a readable image (corrupt or truncated)") from None


def render_page(page):
    """One PDF page as a PIL image at OCR_DPI, smaller when the page is huge (a poster, a map)."""
    width, height = page.get_size()  # in points
    scale = min(OCR_DPI / 72, MAX_RENDER_SIDE / max(width, height, 1))  # a poster-size page: at most 4000 px a side
    return page.render(scale=scale).to_pil()


def ocr_pdf_pages(path: Path, numbers: list[int]) -> dict[int, str]:
    """Render and OCR the given pages (1-based) of a PDF, one at a time, so memory stays that of one page."""
    import pypdfium2

    if len(numbers) > MAX_OCR_PAGES:
        raise OcrError(f"{path.name}: {len(numbers)} scanned pages, more than the {MAX_OCR_PAGES}-page limit; split it")
    try:
        pdf = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise OcrError(f"{path.name}: the PDF is password-protected; save an unprotected copy and add that") from None
        raise OcrError(f"{path.name}: not a readable PDF (corrupt or truncated)") from None
    cache = PageCache(path)
    progress = Progress(path.name, len(numbers))
    texts = {}
    try:
        for number in numbers:
            texts[number] = cache.get(number)
            if texts[number] is None:
                page = pdf[number - 1]
                try:
                    texts[number] = ocr_image(render_page(page))
                finally:
                    page.close()
                cache.put(number, texts[number])
            progress.step()
    finally:
        progress.close()
        pdf.close()
    return texts

