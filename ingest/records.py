"""Small frozen records that flow from zhengce.ingest to index: Document, Section, Chunk."""
from __future__ import annotations

from dataclasses import dataclass, field

SECTION_SEPARATOR = " > "
# The 印发通知 around a document ("现将《…》印发给你们"): a section of its own, shown in the reader but not
# indexed, so a bare wrapper never answers a question (ingest/gongwen.py finds it, ingest/chunk.py skips it)
NOTICE_SECTION = "印发通知"
# A document's facts as one short passage (title, issuing bodies, 文号, date, the 印发通知's title), indexed
# so "哪些单位联合印发的" or "石政办〔2020〕15号" finds its document without indexing the notice's boilerplate
CARD_SECTION = "文件信息"


@dataclass(frozen=True)
class DocumentMeta:
    """What we know about one file of the corpus (from the catalog or inferred)."""

    doc_id: str  # the file name without extension: stable, readable, unique in one folder
    file: str  # file name relative to the corpus folder
    title: str
    year: int | None
    issuer: str = ""
    date: str = ""
    source: str = ""
    original_format: str = ""
    note: str = ""
    co_issuers: str = ""  # further issuing bodies of a joint document, joined with 、
    doc_number: str = ""  # 文号, e.g. 石政办〔2020〕15号
    doc_type: str = ""  # 要点, 计划, 规划, 方案, 意见, 办法, 通知…
    notice_title: str = ""  # the 印发通知 that wraps the document, when there is one


@dataclass(frozen=True)
class Section:
    """A heading path and the body text under it (up to the next heading of any level)."""

    path: tuple[str, ...]  # e.g. ("四、强化统筹推动，促进各类教育协调发展", "2.义务教育优质均衡")
    heading: str  # the heading line itself ("" for the preamble)
    body: str  # text after the heading, before the next heading

    @property
    def path_text(self) -> str:
        return SECTION_SEPARATOR.join(self.path)


@dataclass(frozen=True)
class Document:
    meta: DocumentMeta
    text: str  # cleaned text for people to read, one heading per line
    sections: tuple[Section, ...] = field(default=())
    sha256: str = ""  # of the raw file, to tell which documents changed
    pages: tuple[str, ...] = ()  # a PDF's or scan's cleaned text page by page (running headers removed); () for text sources


@dataclass(frozen=True)
class Chunk:
    """The unit we index and cite. Never spans two sections."""

    chunk_id: str
    doc_id: str
    title: str
    year: int | None
    section: str  # section path joined with " > "
    text: str  # the passage as people read it
    position: int  # order of the chunk in its document
    pages: tuple[int, int] | None = None  # first and last page (from 1) in a PDF or scan; None for text sources

    def to_json(self) -> dict:
        row = {
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "title": self.title,
            "year": self.year,
            "section": self.section,
            "text": self.text,
            "position": self.position,
        }
        if self.pages:
            row["pages"] = list(self.pages)
        return row

    @classmethod
    def from_json(cls, row: dict) -> "Chunk":
        pages = row.get("pages")  # absent in chunks of text sources and in indexes built before pages existed
        return cls(**{**row, "pages": tuple(pages) if pages else None})
