"""The corpus catalog (corpus/catalog.toml) and what we infer for files it does not list."""
from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path

from zhengce.errors import ZhengceError
from zhengce.ingest.gongwen import Gongwen
from zhengce.ingest.records import DocumentMeta

CATALOG_NAME = "catalog.toml"
CATALOG_KEYS = {f.name for f in fields(DocumentMeta)} - {"doc_id"}

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
        if "year" in entry:
            check_year(entry["year"], f"{path}: {entry['file']}")
        entries[entry["file"]] = entry
    return entries


def make_meta(file: str, entry: dict, doc: Gongwen) -> DocumentMeta:
    """Catalog first, then what the document says (ingest/gongwen.py), then the file name."""
    stem = Path(file).stem
    title = entry.get("title") or doc.title or stem
    year = entry.get("year")
    if year is None:
        year = inferred_year([title, doc.notice_title, doc.date, stem])
    # a catalog issuer that confirms one of the document's signers keeps the others as co-issuers; one that
    # corrects them replaces them all
    issuers = doc.issuers
    if entry.get("issuer"):
        confirmed = entry["issuer"] in doc.issuers
        issuers = [entry["issuer"]] + ([i for i in doc.issuers if i != entry["issuer"]] if confirmed else [])
    return DocumentMeta(
        doc_id=stem,
        file=file,
        title=title,
        year=int(year) if year is not None else None,
        issuer=issuers[0] if issuers else "",
        date=entry.get("date") or doc.date,
        source=entry.get("source", ""),
        original_format=entry.get("original_format", Path(file).suffix.lstrip(".").upper()),
        note=entry.get("note", ""),
        co_issuers=entry.get("co_issuers", "、".join(issuers[1:])),
        doc_number=entry.get("doc_number") or doc.doc_number,
        doc_type=entry.get("doc_type") or doc.doc_type,
        notice_title=entry.get("notice_title") or doc.notice_title,
    )


def inferred_year(sources: list[str]) -> int | None:
    """The first year named in the sources (title, dates, file name) that a policy document can have."""
    for source in sources:
        for match in YEAR_RE.finditer(source or ""):
            if is_plausible_year(int(match.group(1))):
                return int(match.group(1))
    for source in sources:
        for match in re.finditer(r"(?<!\d)((?:19|20)\d{2})(?!\d)", source or ""):
            if is_plausible_year(int(match.group(1))):
                return int(match.group(1))
    return None


def is_plausible_year(year: int) -> bool:
    import datetime as dt

    return 1949 <= year <= dt.date.today().year + 1


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
    return write_catalog(corpus_dir, tomlkit.dumps(doc))


def remove_catalog_entries(corpus_dir: Path, files: list[str]) -> Path | None:
    """Drop the [[document]] entries of these files (zhengce remove), keeping everything else as written."""
    import tomlkit

    path = corpus_dir / CATALOG_NAME
    if not path.exists():
        return None
    read_catalog(corpus_dir)  # refuse to touch a catalog that does not parse
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    tables = doc.get("document")
    if tables is None:
        return path
    for i in reversed(range(len(tables))):
        if tables[i].get("file") in files:
            del tables[i]
    return write_catalog(corpus_dir, tomlkit.dumps(doc))


def write_catalog(corpus_dir: Path, text: str) -> Path:
    import os
    import tempfile

    path = corpus_dir / CATALOG_NAME
    fd, tmp = tempfile.mkstemp(dir=corpus_dir, prefix=".catalog-", suffix=".toml")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def check_year(year, where: str) -> int:
    """A year that people give (catalog.toml, --year) must be one a policy document can have; otherwise a
    one-line error naming where it came from. (An inferred year out of range is just not used.)"""
    import datetime as dt

    if isinstance(year, str) and year.strip().isdigit():
        year = int(year)
    if isinstance(year, bool) or not isinstance(year, int) or not is_plausible_year(year):
        raise CatalogError(
            f"{where}: year {year!r} is not between 1949 and {dt.date.today().year + 1}; "
            "correct it, or leave it out to have the year inferred"
        )
    return year
