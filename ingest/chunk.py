"""Split sections into chunks: never across a section, at sentence boundaries, bounded in size."""
from __future__ import annotations

import hashlib

from langchain_text_splitters import RecursiveCharacterTextSplitter

from zhengce.settings import ChunkConfig
from zhengce.ingest.records import SECTION_SEPARATOR, Chunk, Document, Section

# Chinese sentence ends first, then clause breaks; LangChain's defaults ("\n\n", "\n", " ", "") would
# cut Chinese text mid-sentence because it has no spaces.
CHINESE_SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "，", "、", ""]


def make_splitter(config: ChunkConfig) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        separators=CHINESE_SEPARATORS,
        keep_separator="end",  # "。" stays with its sentence
        chunk_size=config.chunk_size,
        chunk_overlap=config.chunk_overlap,
        length_function=len,
        strip_whitespace=True,
    )


def chunk_id(doc_id: str, section: str, text: str, occurrence: int = 0) -> str:
    """Stable across runs: the same document, section and text always give the same id."""
    key = f"{doc_id}\n{section}\n{text}" + (f"\n{occurrence}" if occurrence else "")
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def split_section(body: str, splitter: RecursiveCharacterTextSplitter, min_chars: int) -> list[str]:
    pieces = [p for p in splitter.split_text(body) if p.strip()]
    merged: list[str] = []
    for piece in pieces:
        if merged and len(piece) < min_chars:
            merged[-1] += piece  # a tail clause belongs with the sentence before it
        else:
            merged.append(piece)
    if len(merged) > 1 and len(merged[0]) < min_chars:
        merged[1] = merged[0] + merged[1]
        merged.pop(0)
    return merged


def chunk_document(document: Document, config: ChunkConfig = ChunkConfig()) -> list[Chunk]:
    splitter = make_splitter(config)
    drafts: list[tuple[tuple[str, ...], str]] = []  # (section path, text)
    carry: tuple[tuple[str, ...], str] | None = None  # a tiny section waiting for its next sibling
    for section in document.sections:
        if not section.body:
            continue
        pieces = split_section(section.body, splitter, config.min_chars)
        text_of_tiny = (section.heading + "：" if section.heading and section.path[-1][1:2] != "是" else "") + pieces[0]
        if len(pieces) == 1 and len(pieces[0]) < config.min_chars:
            if drafts and drafts[-1][0][:-1] == section.path[:-1] and len(section.path) > 1:
                path, text = drafts[-1]
                drafts[-1] = (section.path[:-1], text + text_of_tiny)  # both now live in the parent section
            else:
                carry = (section.path, text_of_tiny)
            continue
        if carry and carry[0][:-1] == section.path[:-1] and len(section.path) > 1:
            pieces[0] = carry[1] + pieces[0]
            drafts.append((section.path[:-1], pieces[0]))
            pieces = pieces[1:]
        elif carry:
            drafts.append(carry)
        carry = None
        drafts.extend((section.path, piece) for piece in pieces)
    if carry:
        drafts.append(carry)
    return make_chunks(document, drafts)


def make_chunks(document: Document, drafts: list[tuple[tuple[str, ...], str]]) -> list[Chunk]:
    meta = document.meta
    seen: dict[str, int] = {}
    chunks = []
    for position, (path, text) in enumerate(drafts):
        section = SECTION_SEPARATOR.join(path)
        base = chunk_id(meta.doc_id, section, text)
        occurrence = seen.get(base, 0)
        seen[base] = occurrence + 1
        chunks.append(
            Chunk(
                chunk_id=chunk_id(meta.doc_id, section, text, occurrence),
                doc_id=meta.doc_id,
                title=meta.title,
                year=meta.year,
                section=section,
                text=text,
                position=position,
            )
        )
    return chunks
