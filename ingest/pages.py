"""Paged sources (PDFs, scans): what repeats on every page, joining pages, and which pages a chunk
came from.

A page's running header ("××市教育局文件"), its footer and its number ("- 3 -") are printed on every
page; read page after page they would land in the middle of sentences. Chunks are cited with the pages
they come from, found by looking their text up in the pages' text.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

PAGE_NUMBER_RE = re.compile(
    r"[-—–－_~·•\s]*(?:第\s*)?[0-9０-９]{1,4}\s*(?:页)?(?:\s*[/／]\s*(?:共\s*)?[0-9]{1,4}\s*页?)?[-—–－_~·•\s]*"
)
EDGE_LINES = 2  # a running header or footer is among a page's first or last two lines
# A line at the edge of at least this share of pages (and of two or more) is running matter, not text
RUNNING_SHARE = 0.5
SENTENCE_END = "。！？；：!?;:”」』）)"
KEY_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaffA-Za-z0-9]")


def edge_key(line: str) -> str:
    """Lines that differ only in their numbers are one running line ("第3页", "2018年工作要点 3")."""
    return re.sub(r"\d+", "#", re.sub(r"\s", "", unicodedata.normalize("NFKC", line)))


def drop_running_lines(pages: Sequence[str]) -> list[str]:
    """Remove page numbers at a page's top or bottom, and lines repeated at the edge of most pages."""
    page_lines = [[line for line in page.split("\n") if line.strip()] for page in pages]
    edges = Counter()
    for lines in page_lines:
        edges.update({edge_key(line) for line in lines[:EDGE_LINES] + lines[-EDGE_LINES:]})
    running = {key for key, count in edges.items() if count >= 2 and count >= RUNNING_SHARE * len(pages)}
    cleaned = []
    for lines in page_lines:
        edge = set(range(min(EDGE_LINES, len(lines)))) | set(range(max(0, len(lines) - EDGE_LINES), len(lines)))
        kept = [line for i, line in enumerate(lines)
                if not (i in edge and (PAGE_NUMBER_RE.fullmatch(line.strip()) or edge_key(line) in running))]
        cleaned.append("\n".join(kept))
    return cleaned


def join_pages(pages: Sequence[str]) -> str:
    """The pages one after another. A paragraph that runs over a page break (its page ends mid-sentence
    and the next page does not start a new line of its own) is joined, so "特别是政" + "治纪律" is one word.
    Running headers and page numbers are removed first (drop_running_lines)."""
    text = ""
    for page in pages:
        page = page.strip()
        if not page:
            continue
        if text and continues(text, page):
            text += page
        else:
            text += ("\n" if text else "") + page
    return text


def continues(before: str, page: str) -> bool:
    from zhengce.ingest.structure import MARKER_RE

    last_line = before.rsplit("\n", 1)[-1]
    first_line = page.split("\n", 1)[0]
    # a wrapped body line is long; a heading or a signature line that ends a page is short
    return (len(last_line) >= 20 and last_line[-1] not in SENTENCE_END
            and not MARKER_RE.match(first_line) and not MARKER_RE.match(last_line))


def page_key(text: str) -> str:
    """What page lookup compares: letters, digits and Chinese characters only (NFKC), so cleaning that
    changes spaces, punctuation width or line breaks does not matter."""
    return "".join(KEY_RE.findall(unicodedata.normalize("NFKC", text)))


def page_ranges(texts: Sequence[str], pages: Sequence[str]) -> list[tuple[int, int] | None]:
    """For each passage (in document order), the first and last page (1-based) its text comes from, or
    None when it cannot be found. A passage is looked for from where the previous one started, so a
    sentence repeated in two places is given the later page when it comes later."""
    keys = [page_key(page) for page in pages]
    starts, offset = [], 0
    for key in keys:
        starts.append(offset)
        offset += len(key)
    whole = "".join(keys)

    def page_at(position: int) -> int:
        page = 0
        while page + 1 < len(starts) and starts[page + 1] <= position:
            page += 1
        return page + 1

    ranges: list[tuple[int, int] | None] = []
    cursor = 0
    for text in texts:
        key = page_key(text)
        if not key:
            ranges.append(None)
            continue
        found = whole.find(key, cursor)
        if found < 0:
            found = whole.find(key)
        if found >= 0:
            end = found + len(key) - 1
        else:  # cleaning or structure parsing changed something inside: place its two ends
            head, tail = key[:12], key[-12:]
            found = whole.find(head, cursor)
            found = whole.find(head) if found < 0 else found
            end = whole.find(tail, max(found, 0))
            if found < 0 or end < 0:
                ranges.append(None)
                continue
            end += len(tail) - 1
        ranges.append((page_at(found), page_at(end)))
        cursor = found
    return ranges
