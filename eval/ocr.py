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
