"""The corpus catalog (corpus/catalog.toml) and what we infer for files it does not list."""
from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path

from zhengce.errors import ZhengceError
from zhengce.ingest.records import DocumentMeta

CATALOG_NAME = "catalog.toml"
CATALOG_KEYS = {f.name for f in fields(DocumentMeta)} - {"doc_id"}

TITLE_WORDS = r"(?:工作要点|工作计划|实施方案|实施意见|行动计划|发展规划|规划|意见|通知|办法|规定|方案|要点|报告|总结|决定|细则|纲要)"
TITLE_RE = re.compile(rf"^(.{{2,40}}?{TITLE_WORDS})")
ISSUER_RE = re.compile(r"^([\u4e00-\u9fff]{2,16}?(?:人民政府办公室|人民政府|教育局|教育厅|教育部|委员会|办公室|办公厅|局|厅|委|部))")
DATE_RE = re.compile(r"^[（(]\s*((\d{4})\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)\s*[）)]")
YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年")


class CatalogError(ZhengceError):
    pass


def read_catalog(corpus_dir: Path) -> dict[str, dict]:
    """file name → catalog entry. A misspelt key is an error, not silently ignored."""
    path = corpus_dir / CATALOG_NAME
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path} is not valid TOML ({exc}); fix the file or move it away") from None
    entries: dict[str, dict] = {}
    for entry in data.get("document", []):
        unknown = set(entry) - CATALOG_KEYS
        if unknown:
            raise CatalogError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(CATALOG_KEYS))}")
        if "file" not in entry:
            raise CatalogError(f"{path}: every [[document]] needs a file = \"...\" key")
        entries[entry["file"]] = entry
    return entries


def split_front_matter(text: str, entry: dict) -> tuple[list[str], str, dict]:
    """Take the title, issuer and date off the top of a document's text.

    Returns (front-matter lines, the rest, what was found). Works on scrapes where they run together
    ("晋江市2018年教育工作要点晋江市教育局（2018年3月）2018年，…") and on files with one per line.
    """
    found: dict = {}
    rest = text.lstrip()
    lines: list[str] = []
    title = entry.get("title")
    if title and rest.replace(" ", "").startswith(title):
        rest = rest[len(title):].lstrip()
        found["title"] = title
    else:
        first_line = rest.split("\n", 1)[0]
        match = TITLE_RE.match(first_line)
        if match:
            found["title"] = match.group(1)
            rest = rest[match.end():].lstrip()
    if "title" in found:
        lines.append(found["title"])
    issuer = entry.get("issuer")
    if issuer and rest.startswith(issuer):
        found["issuer"] = issuer
    else:
        match = ISSUER_RE.match(rest)
        if match and DATE_RE.match(rest[match.end():].lstrip()):
            found["issuer"] = match.group(1)
    if "issuer" in found:
        rest = rest[len(found["issuer"]):].lstrip()
        lines.append(found["issuer"])
    match = DATE_RE.match(rest)
    if match:
        found["date"] = re.sub(r"\s", "", match.group(1))
        lines.append(match.group(0))
        rest = rest[match.end():].lstrip()
    return lines, rest, found


def make_meta(file: str, entry: dict, found: dict) -> DocumentMeta:
    """Catalog first, then what the text says, then the file name."""
    stem = Path(file).stem
    title = entry.get("title") or found.get("title") or stem
    year = entry.get("year")
    if year is None:
        for source in (title, found.get("date", ""), stem):
            match = YEAR_RE.search(source) or re.search(r"((?:19|20)\d{2})", source)
            if match:
                year = int(match.group(1))
                break
    return DocumentMeta(
        doc_id=stem,
        file=file,
        title=title,
        year=int(year) if year is not None else None,
        issuer=entry.get("issuer") or found.get("issuer", ""),
        date=entry.get("date") or found.get("date", ""),
        source=entry.get("source", ""),
        original_format=entry.get("original_format", Path(file).suffix.lstrip(".").upper()),
        note=entry.get("note", ""),
    )


CATALOG_HEADER = """\
# zhengce corpus catalog — one [[document]] entry per file in this folder.
# Edit freely: these values override what zhengce infers from a file's first lines or its name.
# Keys: file (required), title, year, issuer, date, source, original_format, note.
"""


def update_catalog(corpus_dir: Path, entries: list[dict]) -> Path:
    """Add or update [[document]] entries (matched by file), keeping everything people wrote, comments included.

    tomlkit round-trips the file unchanged except for the entries we touch; the new file replaces the
    old one atomically, so a crash never leaves half a catalog.
    """
    import os
    import tempfile

    import tomlkit

    path = corpus_dir / CATALOG_NAME
    read_catalog(corpus_dir)  # refuse to touch a catalog that does not parse
    doc = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.parse(CATALOG_HEADER)
    if "document" not in doc:
        doc.append("document", tomlkit.aot())
    tables = doc["document"]
    for entry in entries:
        unknown = set(entry) - CATALOG_KEYS
        if unknown:
            raise CatalogError(f"unknown catalog key(s) {', '.join(sorted(unknown))}")
        table = next((t for t in tables if t.get("file") == entry["file"]), None)
        if table is None:
            if len(tables):
                tables[-1].add(tomlkit.nl())  # a blank line between entries, as people write them
            table = tomlkit.table()
            tables.append(table)
        for key, value in entry.items():
            if value not in (None, ""):
                table[key] = value
    fd, tmp = tempfile.mkstemp(dir=corpus_dir, prefix=".catalog-", suffix=".toml")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(tomlkit.dumps(doc))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path
