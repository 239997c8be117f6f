"""corpus folder → documents → chunks: the whole ingest stage as plain function calls."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from zhengce.ingest.catalog import make_meta, read_catalog
from zhengce.ingest.chunk import chunk_document
from zhengce.settings import ChunkConfig
from zhengce.ingest.clean import clean_text
from zhengce.ingest.duplicates import Fingerprint, fingerprint, same_content_reason
from zhengce.ingest.load import PAGED_SUFFIXES, SUPPORTED_SUFFIXES, LoadError, read_document_pages
from zhengce.ingest.pages import drop_running_lines, join_pages
from zhengce.ingest.gongwen import read_gongwen
from zhengce.ingest.records import NOTICE_SECTION, Chunk, Document, Section
from zhengce.ingest.structure import parse_sections, render_sections


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:  # read in blocks: a scanned PDF may be hundreds of MB
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(frozen=True)
class CorpusProblem:
    file: str
    reason: str  # one line, for people


def corpus_files(corpus_dir: Path) -> list[Path]:
    # ".name" are our own half-written files (zhengce add, catalog writes); "~$name.docx" are Word's lock files
    return sorted(
        p for p in corpus_dir.iterdir()
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith((".", "~$"))
    )


def ingest_file(path: Path, entry: dict) -> Document:
    pages = read_document_pages(path)
    return document_from_pages(path.name, pages, entry, paged=path.suffix.lower() in PAGED_SUFFIXES, sha256=file_sha256(path))


def document_from_pages(name: str, pages: list[str], entry: dict, paged: bool, sha256: str = "") -> Document:
    """Clean and parse a file's text, read page by page (a PDF or scan) or as one piece (paged=False)."""
    if paged:
        pages = drop_running_lines(pages)
    raw = join_pages(pages) if paged else pages[0]
    cleaned = clean_text(raw)
    doc = read_gongwen(cleaned, title_hint=entry.get("title", ""), issuer_hint=entry.get("issuer", ""))
    meta = make_meta(name, entry, doc)
    sections = parse_sections(doc.body)
    if not any(s.body for s in sections):
        raise LoadError(f"{name}: no text left after cleaning")
    if doc.notice:  # the 印发通知 around the document: shown in the reader, not indexed (ingest/chunk.py)
        sections.insert(0, Section(path=(NOTICE_SECTION,), heading="", body=doc.notice))
    return Document(
        meta=meta,
        text=render_sections(sections, doc.front, doc.back),
        sections=tuple(sections),
        sha256=sha256,
        pages=tuple(clean_text(page) for page in pages) if paged else (),
    )


def ingest_corpus(corpus_dir: Path) -> tuple[list[Document], list[CorpusProblem]]:
    """Every readable file becomes a Document; each unreadable one, and each later copy of a document's
    text (ingest/duplicates.py), is reported and skipped, so no passage is found twice."""
    catalog = read_catalog(corpus_dir)
    documents, problems = [], []
    seen: dict[str, str] = {}  # doc_id → file: plan.docx and plan.pdf would share the id "plan"
    contents: dict[str, Fingerprint] = {}  # content key → the first document with that text
    for path in corpus_files(corpus_dir):
        if path.stem in seen:
            problems.append(CorpusProblem(path.name, f"{path.name}: same name as {seen[path.stem]} (document ids are file names without extension); rename one of them"))
            continue
        try:
            document = ingest_file(path, catalog.get(path.name, {}))
        except LoadError as exc:
            problems.append(CorpusProblem(path.name, str(exc)))
            continue
        mark = fingerprint(document.meta.file, document.meta.title, document.text)
        if mark.key in contents:
            original = contents[mark.key]
            problems.append(CorpusProblem(path.name, same_content_reason(mark, original, f"only {original.file} is indexed")))
            continue
        contents[mark.key] = mark
        documents.append(document)
        seen[path.stem] = path.name
    return documents, problems


def chunk_corpus(documents: list[Document], config: ChunkConfig = ChunkConfig()) -> list[Chunk]:
    return [chunk for document in documents for chunk in chunk_document(document, config)]
