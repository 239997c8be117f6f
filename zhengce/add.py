"""zhengce add: copy files into the corpus, record them in the catalog, update the index."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from zhengce.library import IndexResult, check_corpus_dir, index_corpus
from zhengce.index.store import file_sha256, load_index
from zhengce.ingest.catalog import check_year, read_catalog, update_catalog
from zhengce.errors import ZhengceError
from zhengce.ingest.duplicates import Fingerprint, NearDuplicate, fingerprint, near_duplicate_of, same_content, same_content_reason
from zhengce.ingest.load import SUPPORTED_SUFFIXES, LoadError
from zhengce.manage import check_file_name, command_line_user, corpus_lock, record_change
from zhengce.ingest.pipeline import CorpusProblem, corpus_files, ingest_file
from zhengce.ingest.records import DocumentMeta


@dataclass(frozen=True)
class AddResult:
    added: list[DocumentMeta]
    problems: list[CorpusProblem]  # files that were not added, one line each
    index: IndexResult | None  # None when nothing was added
    notes: list[NearDuplicate] = field(default_factory=list)  # added, but they look like copies of corpus documents


def add_documents(
    files: list[Path],
    corpus_dir: Path,
    index_dir: Path,
    year: int | None = None,
    title: str | None = None,
    replace: bool = False,
    model_id: str | None = None,
    show_progress: bool = True,
    who: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> AddResult:
    """Each file is read first, where it is: only files that read cleanly are copied and catalogued.
    who: recorded in the change log (default: the command-line user)."""
    check_corpus_dir(corpus_dir)
    if title and len(files) > 1:
        raise ZhengceError("--title applies to one file; add the files one at a time to give each its title")
    if year is not None:
        check_year(year, f"--year for {', '.join(f.name for f in files)}")
    with corpus_lock(corpus_dir):
        return add_locked(files, corpus_dir, index_dir, year, title, replace, model_id, show_progress, who or command_line_user(), on_progress)


def add_locked(
    files: list[Path], corpus_dir: Path, index_dir: Path, year: int | None, title: str | None, replace: bool,
    model_id: str | None, show_progress: bool, who: str, on_progress: Callable[[int, int], None] | None,
) -> AddResult:
    catalog = read_catalog(corpus_dir)
    corpus = corpus_fingerprints(corpus_dir, index_dir, catalog)
    added: list[DocumentMeta] = []
    entries: list[dict] = []
    problems: list[CorpusProblem] = []
    notes: list[NearDuplicate] = []
    today = dt.date.today().isoformat()
    for source in files:
        try:
            meta, mark = add_one(source, corpus_dir, catalog, year, title, replace, corpus)
        except LoadError as exc:
            problems.append(CorpusProblem(source.name, str(exc)))
            continue
        note = near_duplicate_of(mark, corpus)
        notes += [note] if note else []
        corpus = [f for f in corpus if f.file != mark.file] + [mark]  # two copies in one call: the second is refused
        added.append(meta)
        if meta.file in catalog:  # an entry people may have edited: change only what was asked
            entries.append({"file": meta.file, "year": year, "title": title})
        else:
            entries.append(catalog_entry(meta, today))
    if not added:
        return AddResult(added, problems, None)
    update_catalog(corpus_dir, entries)
    for meta in added:
        record_change(corpus_dir, who, "added", meta.file, f"《{meta.title}》 {meta.year or '年份未注明'} {meta.issuer}".rstrip())
    result = index_corpus(corpus_dir, index_dir, model_id=model_id, show_progress=show_progress, on_progress=on_progress)
    return AddResult(added, problems, result, notes)


def add_one(
    source: Path, corpus_dir: Path, catalog: dict, year: int | None, title: str | None, replace: bool, corpus: list[Fingerprint]
) -> tuple[DocumentMeta, Fingerprint]:
    name = source.name
    if not source.is_file():
        raise LoadError(f"{name}: no such file ({source})")
    check_file_name(name)  # the web upload checks names the same way, before anything is written
    target = corpus_dir / name
    same_place = target.exists() and target.resolve() == source.resolve()
    if target.exists() and not same_place and target.read_bytes() != source.read_bytes() and not replace:
        raise LoadError(f"{name}: the corpus already has a different file of this name; pass --replace to replace it, or rename the new file")
    twins = [p.name for p in corpus_dir.iterdir() if p.stem == source.stem and p.name != name and p.suffix.lower() in SUPPORTED_SUFFIXES]
    if twins:
        raise LoadError(f"{name}: the corpus already has {twins[0]} (document ids are file names without extension); rename the new file")
    entry = dict(catalog.get(name, {}))
    entry.update({k: v for k, v in (("year", year), ("title", title)) if v is not None})
    document = ingest_file(source, entry)  # raises LoadError for a bad file: nothing copied
    mark = fingerprint(name, document.meta.title, document.text)
    original = same_content(mark, corpus)  # the file it replaces, of the same name, does not count
    if original:
        raise LoadError(same_content_reason(mark, original))  # printed as "not added: …"
    if not same_place:
        copy_atomically(source, target)
    return document.meta, mark


def corpus_fingerprints(corpus_dir: Path, index_dir: Path, catalog: dict) -> list[Fingerprint]:
    """What new files are compared with: every corpus document's cleaned text, taken from the index where
    the file has not changed since (same sha256), read again otherwise (the corpus is the source of truth).
    Reading a few hundred PDFs again would double the time of every zhengce add."""
    try:
        indexed = {d["file"]: d for d in load_index(index_dir).documents}
    except ZhengceError:  # no index yet, or an outdated one
        indexed = {}
    marks = []
    for path in corpus_files(corpus_dir):
        record = indexed.get(path.name)
        if record is None or record.get("sha256") != file_sha256(path):
            try:
                document = ingest_file(path, catalog.get(path.name, {}))
            except LoadError:
                continue  # reported when the corpus is indexed
            record = {"title": document.meta.title, "text": document.text}
        marks.append(fingerprint(path.name, record["title"], record["text"]))
    return marks


def copy_atomically(source: Path, target: Path) -> None:
    # A half-copied file must never be in the corpus: copy beside it, then rename.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".adding-", suffix=target.suffix)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise LoadError(f"{source.name}: cannot copy into {target.parent} ({exc.strerror})") from None


def catalog_entry(meta: DocumentMeta, today: str) -> dict:
    return {
        "file": meta.file,
        "title": meta.title,
        "year": meta.year,
        "issuer": meta.issuer,
        "date": meta.date,
        # what the document says about itself, written out so people can see and correct it
        **{key: getattr(meta, key) for key in ("co_issuers", "doc_number", "doc_type", "notice_title") if getattr(meta, key)},
        "original_format": meta.original_format,
        "note": f"added with zhengce add on {today}; title and year inferred unless given, edit if wrong",
    }
