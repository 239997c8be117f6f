"""Split sections into chunks: never across a section, at sentence boundaries, bounded in size."""
from __future__ import annotations

import hashlib

from langchain_text_splitters import RecursiveCharacterTextSplitter

from zhengce.settings import ChunkConfig
from zhengce.ingest.records import CARD_SECTION, NOTICE_SECTION, SECTION_SEPARATOR, Chunk, Document, DocumentMeta, Section
from zhengce.ingest.pages import page_ranges
from zhengce.ingest.structure import is_article, is_bare_item

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
    carry: tuple[tuple[str, ...], str] | None = None  # a tiny section waiting for its next sibling (an article: its items)
    for section in document.sections:
        if not section.body or section.path[0] == NOTICE_SECTION:
            continue
        pieces = split_section(section.body, splitter, config.min_chars)
        if len(pieces) == 1 and len(pieces[0]) < config.min_chars:
            tiny = (section.path, headed(section, pieces[0]))
            if carry and (path := joined(carry[0], section.path)):
                carry = (path, carry[1] + tiny[1])
                continue
            if carry:
                drafts.append(carry)
                carry = None
            if drafts and (path := joined(drafts[-1][0], section.path, child=False)):
                drafts[-1] = (path, drafts[-1][1] + tiny[1])  # both now live in the parent section
            else:
                carry = tiny
            continue
        if is_article(section.heading) or is_bare_item(section.heading):
            pieces[0] = headed(section, pieces[0])  # "第三条　…", as the article is quoted
        if carry and (path := joined(carry[0], section.path)):
            drafts.append((path, carry[1] + pieces[0]))
            pieces = pieces[1:]
        elif carry:
            drafts.append(carry)
        carry = None
        drafts.extend((section.path, piece) for piece in pieces)
    if carry:
        drafts.append(carry)
    card = card_text(document.meta)
    return make_chunks(document, ([((CARD_SECTION,), card)] if card else []) + drafts)


def card_text(meta: DocumentMeta) -> str:
    """The document's facts as one passage: "《临澜市2023年教育工作要点》　发文机关：临澜市教育局、中共临澜市委
    教育工作委员会；文号：临教〔2023〕5号；成文日期：2023年2月20日；印发通知：…". "" when nothing but the
    title is known (a passage that only repeats the title would match every question naming it)."""
    issuers = "、".join(name for name in [meta.issuer, *meta.co_issuers.split("、")] if name)
    facts = [(label, value) for label, value in (
        ("发文机关", issuers), ("文号", meta.doc_number), ("成文日期", meta.date), ("印发通知", meta.notice_title),
    ) if value]
    if not facts:
        return ""
    return f"《{meta.title}》\u3000" + "；".join(f"{label}：{value}" for label, value in facts) + "。"


def headed(section: Section, text: str) -> str:
    """A piece that leaves its own section for a joined chunk carries its heading along."""
    if is_article(section.heading):
        return f"{section.heading}\u3000{text}"
    if is_bare_item(section.heading):
        return section.heading + text
    return (section.heading + "：" if section.heading and section.path[-1][1:2] != "是" else "") + text


def joined(first: tuple[str, ...], second: tuple[str, ...], child: bool = True) -> tuple[str, ...] | None:
    """The path a tiny section and the next one share in one chunk: siblings move up to their parent;
    a tiny article's opening takes in its first item (（一）…). Articles are cited one by one, so two
    articles never share a chunk."""
    if child and first == second[:-1] and is_article(first[-1]):
        return first
    if len(second) > 1 and first[:-1] == second[:-1] and not is_article(first[-1]) and not is_article(second[-1]):
        return second[:-1]
    return None


def make_chunks(document: Document, drafts: list[tuple[tuple[str, ...], str]]) -> list[Chunk]:
    meta = document.meta
    seen: dict[str, int] = {}
    chunks = []
    pages = [None] * len(drafts)
    if document.pages:  # the facts passage is written by us, on no page
        found = iter(page_ranges([text for path, text in drafts if path != (CARD_SECTION,)], document.pages))
        pages = [None if path == (CARD_SECTION,) else next(found) for path, _ in drafts]
    for position, ((path, text), page_range) in enumerate(zip(drafts, pages)):
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
                pages=page_range,
            )
        )
    return chunks
