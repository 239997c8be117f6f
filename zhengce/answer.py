"""Answer a question from cited passages: the one function behind `zhengce ask`, the web chat and its API.

Extractive by default (offline): the retrieved passages are split into sentences, each sentence is
scored against the question, and the best few are quoted, each followed by its citation marker [n].
With a generator (an OpenAI-compatible model, app/generate.py) the model writes the answer from the same
passages; its markers are checked against the passages it was given.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from zhengce.errors import ZhengceError
from zhengce.index.answerable import Verdict, content_coverage, verdict_for
from zhengce.index.query_terms import expand_query
from zhengce.index.backend import backend_of
from zhengce.index.embed import Embedder, sentences
from zhengce.index.scope import fits_years, question_scope
from zhengce.index.search import Hit, search
from zhengce.index.store import LoadedIndex
from zhengce.settings import AnswerConfig, JudgeConfig, SearchConfig

ANSWER = AnswerConfig()  # the defaults (zhengce/settings.py)
MAX_QUESTION_CHARS = ANSWER.max_question_chars  # what the web page shows of a question, too
MARKER_RE = re.compile(r"\[(\d{1,3})\]")
# A follow-up such as "那民办学校呢？" or "还有呢" cannot be searched alone: it leans on the last topic.
FOLLOWUP_RE = re.compile(r"^(那|那么|还有|另外|其中|此外|它|这|该)|[呢吗]\s*[？?]?\s*$")
UNCITED_MARK = "〔无出处〕"
# A generated sentence: text up to its end punctuation plus the markers right after it ("…。[1][2]").
GENERATED_SENTENCE_RE = re.compile(r"[^。！？!?\n]+(?:[。！？!?]+|\n|$)(?:\s*\[\d+\])*|\n")
HAS_WORDS_RE = re.compile(r"[\w\u3400-\u9fff]")
# A question that asks to set documents side by side may be answered from several of them
# a question asking for an amount, a share, a limit or a date; answered by a sentence that states a number
QUANTITY_RE = re.compile(
    r"多少|几[个所名人岁月号天年次项倍成级]|多大|多高|多长|多久|占比|比例|比重|上限|下限|最高|最低|标准是|金额|数额|哪一?年|何时|什么时候|几时"
    r"|\bhow (?:many|much|long|old|high)\b|\bwhat (?:share|percentage|proportion|age|rate|amount)\b|\b(?:minimum|maximum|deadline|when)\b",
    re.IGNORECASE,
)
NUMBER_RE = re.compile(r"\d|百分之|[一二三四五六七八九十两百千万]+(?:个|所|名|人|元|岁|倍|成|周岁|小时)")
COMPARING_RE = re.compile(r"对比|比较|相比|比起|变化|区别|不同|异同|差别|分别|各自|历年|逐年|[和与跟同].{1,16}比")
NO_ANSWER_TEXT = "已收录的文件中没有找到能回答这个问题的内容。下面是最接近的段落，仅供参考，不能作为答案。"
HEDGE_NOTICE = "把握不大：文件中未必有直接回答这个问题的内容，请对照引用的原文核实"

Generator = Callable[[str, list[Hit]], str]  # (question, numbered passages) → text with [n] markers


@dataclass(frozen=True)
class Citation:
    marker: int
    hit: Hit
    highlights: tuple[str, ...]  # the passage's sentences that answer, verbatim

    def to_json(self) -> dict:
        return {**self.hit.to_json(), "marker": self.marker, "highlights": list(self.highlights)}


@dataclass(frozen=True)
class Answer:
    question: str  # as used (after truncation)
    search_query: str  # what was searched: a follow-up is combined with the previous topic
    text: str  # the answer, each sentence followed by its [n]
    answerable: bool
    confidence: float
    reason: str
    citations: tuple[Citation, ...]
    possibly_related: tuple[Hit, ...]  # retrieved but not cited (all of them when not answerable)
    notices: tuple[str, ...] = ()
    generated_by: str = "extractive"
    hedged: bool = False  # answered, but the judge was only just convinced (index/answerable.py)

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "search_query": self.search_query,
            "answer": self.text,
            "answerable": self.answerable,
            "confidence": self.confidence,
            "reason": self.reason,
            "citations": [c.to_json() for c in self.citations],
            "possibly_related": [h.to_json() for h in self.possibly_related],
            "notices": list(self.notices),
            "generated_by": self.generated_by,
            "hedged": self.hedged,
        }


@dataclass(frozen=True)
class Sentence:
    hit: Hit
    position: int  # order inside the passage
    text: str
    similarity: float
    score: float


def hit_sentences(index: LoadedIndex, embedder: Embedder, hits: list[Hit]) -> tuple[list[tuple[Hit, int, str]], np.ndarray]:
    """Each hit's sentences and their vectors. The index stores one vector per sentence (index/store.py,
    in chunk order, split by index.embed.sentences), so answering embeds nothing but the question; an
    index built before sentence vectors existed gets them computed here."""
    pieces: list[tuple[Hit, int, str]] = []
    rows: list[np.ndarray] = []
    backend = backend_of(index)
    stored = True
    for hit in hits:
        texts = sentences(hit.text)
        pieces += [(hit, i, text) for i, text in enumerate(texts)]
        vectors = backend.sentence_vectors(index.row_of[hit.chunk_id])
        stored = stored and vectors is not None
        if vectors is not None:
            rows.append(vectors)
    if not pieces:
        return [], np.zeros((0, embedder.dimension), dtype=np.float32)
    if not stored:
        return pieces, embedder.encode_documents([text for _, _, text in pieces])
    return pieces, np.concatenate(rows).astype(np.float32)  # a large index stores float16


def score_sentences(
    index: LoadedIndex, embedder: Embedder, query: str, hits: list[Hit], focus: str | None = None, config: AnswerConfig = ANSWER
) -> list[Sentence]:
    """focus: the words that must be answered. For a follow-up ("那民办学校呢？" after "积分入学政策") the search
    uses both questions, but the keyword bonus goes to sentences about the new part (民办学校)."""
    pieces, vectors = hit_sentences(index, embedder, hits)
    if not pieces:
        return []
    # with the words the search added (私立 → 民办; public kindergartens → 公办幼儿园): the answer's sentences
    # are in the documents' wording, and an English question has no other words to match them with
    similarities = vectors @ embedder.encode_queries([expand_query(query)])[0]
    focus = expand_query(focus or query)
    number_weight = config.number_weight if QUANTITY_RE.search(focus) else 0.0
    scored = [
        Sentence(h, i, s, float(sim), float(sim) + config.keyword_weight * content_coverage(focus, s) + number_weight * bool(NUMBER_RE.search(s)))
        for (h, i, s), sim in zip(pieces, similarities)
    ]
    return sorted(scored, key=lambda s: -s.score)


def is_followup(question: str, config: AnswerConfig = ANSWER) -> bool:
    return len(question) <= config.followup_max_chars and bool(FOLLOWUP_RE.search(question))


def search_query_for(question: str, history: Sequence[str], config: AnswerConfig = ANSWER) -> str:
    """A short follow-up is searched together with the last question that stood on its own."""
    if not is_followup(question, config):
        return question
    for previous in reversed(history):
        previous = previous.strip()[: config.max_question_chars]
        if previous and not is_followup(previous, config):
            return f"{previous} {question}"
    return question


def pick_sentences(scored: list[Sentence], config: AnswerConfig = ANSWER) -> list[Sentence]:
    best = scored[0].score
    picked = [s for s in scored if s.score >= best - config.sentence_margin][: config.max_answer_sentences]
    return sorted(picked, key=lambda s: (s.hit.rank, s.position))  # reading order, passage by passage


def as_statement(sentence: str) -> str:
    """A quoted clause that ended with ； reads as a full stop in an answer."""
    return sentence[:-1] + "。" if sentence.endswith(("；", ";")) else sentence


def extractive(scored: list[Sentence], config: AnswerConfig = ANSWER) -> tuple[str, list[Citation]]:
    picked = pick_sentences(scored, config)
    markers: dict[str, int] = {}
    parts = []
    for s in picked:
        marker = markers.setdefault(s.hit.chunk_id, len(markers) + 1)
        parts.append(f"{as_statement(s.text)}[{marker}]")
    citations = [
        Citation(markers[h.chunk_id], h, tuple(s.text for s in picked if s.hit.chunk_id == h.chunk_id))
        for h in dict((s.hit.chunk_id, s.hit) for s in picked).values()
    ]
    return "".join(parts), sorted(citations, key=lambda c: c.marker)


def check_generated(raw: str, hits: list[Hit], scored: list[Sentence]) -> tuple[str, list[Citation], list[str]]:
    """Keep markers that point to a passage the model was given, renumbered by first use; drop the rest;
    mark sentences left without any citation."""
    by_rank = {h.rank: h for h in hits}
    renumber: dict[int, int] = {}
    dropped: list[str] = []

    def replace(match: re.Match) -> str:
        number = int(match.group(1))
        if number not in by_rank:
            dropped.append(match.group(0))
            return ""
        return f"[{renumber.setdefault(number, len(renumber) + 1)}]"

    text = MARKER_RE.sub(replace, raw.strip())
    uncited = 0
    sentences = []
    for sentence in GENERATED_SENTENCE_RE.findall(text):
        if not MARKER_RE.search(sentence) and HAS_WORDS_RE.search(sentence):
            sentence = sentence.rstrip() + UNCITED_MARK + ("\n" if sentence.endswith("\n") else "")
            uncited += 1
        sentences.append(sentence)
    notices = []
    if dropped:
        notices.append(f"生成的回答引用了不存在的段落 {''.join(dict.fromkeys(dropped))}，已删除这些标记")
    if uncited:
        notices.append(f"生成的回答中有 {uncited} 句没有出处，已标记为{UNCITED_MARK}")
    citations = []
    for number, marker in sorted(renumber.items(), key=lambda kv: kv[1]):
        hit = by_rank[number]
        best = [s for s in scored if s.hit.chunk_id == hit.chunk_id][:2]
        citations.append(Citation(marker, hit, tuple(s.text for s in best)))
    return "".join(sentences), citations, notices


def evidence_hits(index: LoadedIndex, question: str, hits: list[Hit], scored: list[Sentence], config: AnswerConfig = ANSWER) -> list[Hit]:
    """The passages an answer may quote: those of one document. Two plans of different years or places
    often say the same thing with other numbers (新增学位3600个 / 4500个); quoting the best sentence of any
    passage mixed them. The document is the top passage's, unless another document among the top
    `document_choices` passages, of the same named year and place, has a sentence that answers better by
    `document_switch_margin` (scored: every hit's sentences, best first). A question that compares
    (对比, 变化, 和…比) keeps them all. A question naming a year is not answered from passages whose figures
    are for another time (a 2021 plan's review of “十三五”期间 or its 到2025年 targets), unless no other
    passage is left."""
    if not hits:
        return hits
    scope = question_scope(question, index.years, index.places)
    if not config.one_document or COMPARING_RE.search(question):
        return in_named_years(hits, scope.years)
    first = hits[0]

    def same_scope(hit: Hit) -> bool:
        if scope.years and hit.year != first.year:
            return False
        return not scope.places or index.doc_places.get(hit.doc_id, frozenset()) == index.doc_places.get(first.doc_id, frozenset())

    best: dict[str, float] = {}
    for sentence in scored:
        best.setdefault(sentence.hit.doc_id, sentence.score)
    chosen = first.doc_id
    for hit in hits[: config.document_choices]:
        if same_scope(hit) and best.get(hit.doc_id, -1.0) >= best.get(chosen, -1.0) + config.document_switch_margin:
            chosen = hit.doc_id
    return in_named_years([h for h in hits if h.doc_id == chosen], scope.years)


def in_named_years(hits: list[Hit], years) -> list[Hit]:
    return [h for h in hits if fits_years(h.text, h.year, years)] or hits


def choose_evidence(
    index: LoadedIndex, embedder: Embedder | None, question: str, query: str, hits: list[Hit], config: AnswerConfig = ANSWER
) -> tuple[list[Hit], list[Sentence]]:
    """The passages an answer may quote and their sentences, best first (the eval judges the same ones)."""
    scored = score_sentences(index, embedder, query, hits, focus=question, config=config) if embedder is not None else []
    evidence = evidence_hits(index, question, hits, scored, config)
    quoted = {h.chunk_id for h in evidence}
    return evidence, [s for s in scored if s.hit.chunk_id in quoted]


def answer_question(
    index: LoadedIndex,
    embedder: Embedder,
    question: str,
    *,
    k: int = 5,
    years: set[int] | None = None,
    doc_ids: set[str] | None = None,
    history: Sequence[str] = (),
    generator: Generator | None = None,
    generator_name: str = "",
    config: AnswerConfig = ANSWER,
    search_config: SearchConfig = SearchConfig(),
    judge_config: JudgeConfig = JudgeConfig(),
) -> Answer:
    question = (question or "").strip()
    if not question:
        raise ZhengceError("请输入问题，例如：积分入学政策是什么？ (empty question)")
    if not 1 <= k <= config.max_k:
        raise ZhengceError(f"number of passages must be between 1 and {config.max_k}")
    notices: list[str] = []
    limit = config.max_question_chars
    if len(question) > limit:
        notices.append(f"问题过长（{len(question)} 字），只使用了前 {limit} 字")
        question = question[:limit]
    query = search_query_for(question, history, config)
    if query != question:
        notices.append(f"结合上一个问题理解为：{query}")
    hits = search(index, embedder, query, k=k, years=years, doc_ids=doc_ids, config=search_config)
    evidence, scored = choose_evidence(index, embedder, question, query, hits, config)
    verdict: Verdict = verdict_for(index, query, hits, judge_config, evidence=evidence, embedder=embedder)
    common = dict(question=question, search_query=query, confidence=verdict.confidence, reason=verdict.reason)
    if not verdict.answerable or not scored:
        return Answer(text=NO_ANSWER_TEXT, answerable=False, citations=(), possibly_related=tuple(hits[: config.possibly_related]),
                      notices=tuple(notices), **common)
    if verdict.hedged:
        notices.insert(0, HEDGE_NOTICE)
    text, citations = extractive(scored, config)
    generated_by = "extractive"
    if generator is not None:
        try:
            generated, generated_citations, checks = check_generated(generator(query, evidence), evidence, scored)
        except ZhengceError as exc:
            notices.append(f"生成模型不可用（{exc}），已改用摘录式回答")
        else:
            if generated_citations:
                text, citations, generated_by = generated, generated_citations, generator_name or "generator"
                notices.extend(checks)
            else:
                notices.append("生成的回答没有引用任何段落，已改用摘录式回答")
    cited = {c.hit.chunk_id for c in citations}
    return Answer(
        text=text,
        answerable=True,
        citations=tuple(citations),
        possibly_related=tuple(h for h in hits if h.chunk_id not in cited),
        notices=tuple(notices),
        generated_by=generated_by,
        hedged=verdict.hedged,
        **common,
    )
