"""How well scanned documents are read: render a document's cleaned text to page images (a "scan" we
made, so the true text is known), read them back through the same ingest as any file, and measure the
character error rate (CER) against the text.

Variants: clean PNG pages, a skewed and noisy JPEG "photocopy", and a PDF of the page images (no text
layer). Each page carries a red running header and a "- N -" footer, as official documents do, so the
measurement includes removing them.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from zhengce.errors import ZhengceError

FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # Debian fonts-wqy-zenhei
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
)
A4_INCHES = (8.27, 11.69)
# GB/T 9704 (official documents): 三号 (16 pt) body, about 22 lines of 28 characters; margins in inches
BODY_PT, LINE_PT, MARGIN_IN = 16, 28, (1.1, 1.45)
VARIANTS = ("clean", "noisy", "pdf")


@dataclass(frozen=True)
class Variant:
    name: str
    dpi: int
    skew_degrees: float = 0.0
    noise: float = 0.0  # standard deviation of added grey noise, 0–255
    suffix: str = ".png"


VARIANT_SETTINGS = {
    "clean": Variant("clean", dpi=200),
    "noisy": Variant("noisy", dpi=150, skew_degrees=1.2, noise=18.0, suffix=".jpg"),
    "pdf": Variant("pdf", dpi=150, suffix=".pdf"),
}


def font_path() -> str:
    for path in FONT_PATHS:
        if Path(path).exists():
            return path
    raise ZhengceError("rendering scan fixtures needs the WenQuanYi Zen Hei font (apt-get install fonts-wqy-zenhei)")


def render_pages(text: str, dpi: int = 200, header: str = "", skew_degrees: float = 0.0, noise: float = 0.0, seed: int = 0) -> list:
    """The text laid out on A4 pages (PIL images): each line of the text a paragraph, indented two
    characters and wrapped at the margin, a running header and a "- N -" page number on every page."""
    from PIL import Image, ImageDraw, ImageFont

    scale = dpi / 72
    width, height = round(A4_INCHES[0] * dpi), round(A4_INCHES[1] * dpi)
    left, top = round(MARGIN_IN[0] * dpi), round(MARGIN_IN[1] * dpi)
    font = ImageFont.truetype(font_path(), round(BODY_PT * scale))
    small = ImageFont.truetype(font_path(), round(12 * scale))
    line_height = round(LINE_PT * scale)
    usable = width - 2 * left
    lines = [wrapped for paragraph in text.split("\n") if paragraph.strip()
             for wrapped in wrap("\u3000\u3000" + paragraph.strip(), font, usable)]
    per_page = (height - 2 * top) // line_height
    pages = []
    rng = random.Random(seed)
    for number, start in enumerate(range(0, len(lines), per_page), start=1):
        image = Image.new("L" if not header else "RGB", (width, height), "white")
        draw = ImageDraw.Draw(image)
        if header:
            draw.text((width / 2, top / 2), header, font=font, fill=(200, 20, 20), anchor="mm")
        for row, line in enumerate(lines[start : start + per_page]):
            draw.text((left, top + row * line_height), line, font=font, fill="black")
        draw.text((width / 2, height - top / 2), f"- {number} -", font=small, fill="black", anchor="mm")
        pages.append(degrade(image, skew_degrees, noise, rng))
    return pages


def wrap(paragraph: str, font, width: float) -> list[str]:
    lines, current = [], ""
    for char in paragraph:
        if current and font.getlength(current + char) > width:
            lines.append(current)
            current = ""
        current += char
    return lines + ([current] if current else [])


def degrade(image, skew_degrees: float, noise: float, rng: random.Random):
    """A photocopy: turned a little on the glass, grainy."""
    import numpy as np
    from PIL import Image

    if skew_degrees:
        image = image.rotate(skew_degrees, resample=Image.Resampling.BICUBIC, expand=False, fillcolor="white")
    if noise:
        pixels = np.asarray(image, dtype=np.float32)
        grain = np.random.default_rng(rng.randrange(1 << 30)).normal(0, noise, pixels.shape[:2])
        pixels = pixels + (grain[..., None] if pixels.ndim == 3 else grain)
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    return image


def write_variant(pages: list, folder: Path, stem: str, variant: Variant) -> list[Path]:
    """Page images as files: one image per page, or one PDF of all the images (no text layer)."""
    folder.mkdir(parents=True, exist_ok=True)
    if variant.suffix == ".pdf":
        path = folder / f"{stem}.pdf"
        pages[0].save(path, save_all=True, append_images=pages[1:], resolution=variant.dpi)
        return [path]
    paths = []
    for number, page in enumerate(pages, start=1):
        path = folder / f"{stem}-{number:03d}{variant.suffix}"
        page.convert("RGB").save(path, **({"quality": 75} if variant.suffix == ".jpg" else {}))
        paths.append(path)
    return paths


def comparable(text: str) -> str:
    """What CER counts: the characters, without the layout (spaces, line breaks)."""
    return re.sub(r"\s", "", text)


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over the reference's length (insertions, deletions and substitutions)."""
    from rapidfuzz.distance import Levenshtein

    reference, hypothesis = comparable(reference), comparable(hypothesis)
    return Levenshtein.distance(reference, hypothesis) / max(len(reference), 1)


@dataclass(frozen=True)
class VariantResult:
    variant: str
    files: int
    pages: int
    dpi: int
    cer: float
    seconds_per_page: float

    def to_json(self) -> dict:
        return {"variant": self.variant, "files": self.files, "pages": self.pages, "dpi": self.dpi,
                "cer": round(self.cer, 4), "seconds_per_page": round(self.seconds_per_page, 2)}


def source_document(corpus_dir: Path, doc_id: str | None):
    """The text document whose "scan" is measured, and its catalog entry."""
    from zhengce.ingest.catalog import read_catalog
    from zhengce.ingest.pipeline import corpus_files, ingest_file

    files = [p for p in corpus_files(corpus_dir) if doc_id in (None, p.stem)]
    if not files:
        raise ZhengceError(f"no document {doc_id!r} in {corpus_dir}" if doc_id else f"no documents in {corpus_dir}")
    entry = read_catalog(corpus_dir).get(files[0].name, {})
    return ingest_file(files[0], entry), entry


def read_variant(paths: list[Path], name: str, entry: dict):
    """Read the scan back as one document, through the same ingest as any corpus file."""
    from zhengce.ingest.load import read_document_pages
    from zhengce.ingest.pipeline import document_from_pages

    pages = [page for path in paths for page in read_document_pages(path)]
    return document_from_pages(name, pages, entry, paged=True), len(pages)


def run_ocr_eval(corpus_dir: Path, out_dir: Path, doc_id: str | None = None, variants: tuple[str, ...] = VARIANTS,
                 max_pages: int | None = None) -> list[VariantResult]:
    """Render, OCR and score each variant; the PDF variant is also left as a corpus (out_dir/corpus) for
    `zhengce eval --corpus` to measure retrieval on the OCRed text."""
    import shutil
    import time

    document, entry = source_document(corpus_dir, doc_id)
    header = f"{entry.get('issuer') or document.meta.issuer}文件" if (entry.get("issuer") or document.meta.issuer) else ""
    results = []
    for name in variants:
        if name not in VARIANT_SETTINGS:
            raise ZhengceError(f"unknown variant {name!r}; choose from {', '.join(VARIANTS)}")
        variant = VARIANT_SETTINGS[name]
        pages = render_pages(document.text, dpi=variant.dpi, header=header, skew_degrees=variant.skew_degrees,
                             noise=variant.noise, seed=len(results))
        reference = document.text
        if max_pages is not None and max_pages < len(pages):  # a quick check on the first pages
            pages = pages[:max_pages]
            reference = rendered_text(document.text, variant.dpi, max_pages)
        folder = out_dir / name
        shutil.rmtree(folder, ignore_errors=True)
        paths = write_variant(pages, folder, document.meta.doc_id, variant)
        started = time.perf_counter()
        read, page_count = read_variant(paths, document.meta.file, entry)
        seconds = time.perf_counter() - started
        results.append(VariantResult(name, len(paths), page_count, variant.dpi, character_error_rate(reference, read.text),
                                     seconds / max(page_count, 1)))
        (folder / "ocr.txt").write_text(read.text + "\n", encoding="utf-8")
        if variant.suffix == ".pdf":
            write_corpus(out_dir / "corpus", paths[0], entry)
    return results


def rendered_text(text: str, dpi: int, pages: int) -> str:
    """The part of the text that the first pages hold (for a CER on a few pages)."""
    from PIL import ImageFont

    scale = dpi / 72
    font = ImageFont.truetype(font_path(), round(BODY_PT * scale))
    per_page = (round(A4_INCHES[1] * dpi) - 2 * round(MARGIN_IN[1] * dpi)) // round(LINE_PT * scale)
    usable = round(A4_INCHES[0] * dpi) - 2 * round(MARGIN_IN[0] * dpi)
    kept, rows = [], 0
    for paragraph in (p for p in text.split("\n") if p.strip()):
        for line in wrap("\u3000\u3000" + paragraph.strip(), font, usable):
            if rows == per_page * pages:
                return "".join(kept)
            kept.append(line)
            rows += 1
    return "".join(kept)


def write_corpus(folder: Path, scan: Path, entry: dict) -> None:
    import shutil
    import tomlkit

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file():
            old.unlink()
    shutil.copyfile(scan, folder / scan.name)
    document = tomlkit.document()
    catalog = tomlkit.aot()
    catalog.append(tomlkit.item({**entry, "file": scan.name, "original_format": "PDF of page images (zhengce eval-ocr)"}))
    document["document"] = catalog
    (folder / "catalog.toml").write_text(tomlkit.dumps(document), encoding="utf-8")


def to_markdown(results: list[VariantResult], peak_mb: float) -> str:
    lines = ["| variant | files | pages | dpi | CER | s/page |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r.variant} | {r.files} | {r.pages} | {r.dpi} | {r.cer:.2%} | {r.seconds_per_page:.1f} |" for r in results]
    lines.append(f"\npeak memory of the process: {peak_mb:.0f} MB")
    return "\n".join(lines)
