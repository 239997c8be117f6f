"""How well zhengce infers a document's metadata (title, year, issuer, date, 文号, type) without a catalog.

A truth file is JSON: a list of {"file", "title", "year", "issuer", "date" ("YYYY-MM-DD"), "doc_number",
"doc_type", "notice_title"} (tests/collection/truth.json). Each file of the folder is ingested with an
empty catalog entry, exactly as `zhengce add` of an unknown file would, and compared field by field.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from zhengce.errors import ZhengceError
from zhengce.ingest.pipeline import ingest_file
from zhengce.ingest.records import DocumentMeta

FIELDS = ("title", "year", "issuer", "date", "doc_number", "doc_type", "notice_title")


@dataclass(frozen=True)
class Mismatch:
    file: str
    field: str
    inferred: object
    truth: object


def same_day(inferred: str, truth: str) -> bool:
    """"2020年3月6日" against "2020-03-06"; a truth without a day matches the month."""
    got = [int(n) for n in re.findall(r"\d+", inferred or "")][:3]
    want = [int(n) for n in re.findall(r"\d+", truth or "")][:3]
    return got == want


def agrees(field: str, meta: DocumentMeta, row: dict) -> bool:
    value = getattr(meta, field)
    if field == "date":
        return same_day(value, row.get("date", ""))
    return value == (row.get(field) if row.get(field) is not None else "")


def metadata_accuracy(folder: Path, truth_path: Path) -> tuple[dict[str, float], list[Mismatch]]:
    """(share right per field, every mismatch). Files of the folder without a truth row are skipped."""
    try:
        truth = {row["file"]: row for row in json.loads(truth_path.read_text(encoding="utf-8"))}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ZhengceError(f"cannot read truth file {truth_path} ({exc}); a JSON list of {{file, title, year, …}}") from None
    rows = [(folder / name, row) for name, row in sorted(truth.items()) if (folder / name).is_file()]
    if not rows:
        raise ZhengceError(f"none of the files named in {truth_path} is in {folder}")
    right = dict.fromkeys(FIELDS, 0)
    counted = dict.fromkeys(FIELDS, 0)
    mismatches: list[Mismatch] = []
    for path, row in rows:
        meta = ingest_file(path, {}).meta
        for field in FIELDS:
            if field not in row:
                continue
            counted[field] += 1
            if agrees(field, meta, row):
                right[field] += 1
            else:
                mismatches.append(Mismatch(path.name, field, getattr(meta, field), row[field]))
    return {f: right[f] / counted[f] for f in FIELDS if counted[f]}, mismatches
