"""Does the corpus answer this question at all? Judged from the search hits alone.

One function, used by the web app, `zhengce ask` and `zhengce eval` alike, so the evaluation measures
exactly what people see. Raw similarity barely separates questions the plan answers from those it
doesn't (食品安全检查 scores like a paraphrased in-scope question), so the verdict combines:

- similarity: the best dense score among the top hits (½ chunk + ½ best-sentence cosine, index/search.py);
- keyword evidence: the best BM25 score, capped (in-scope questions nearly always share a rare word
  with some passage, out-of-scope ones only common words such as 申请, 政策, 管理);
- coverage: the share of the question's keyword characters found in one of the best passages;
- missing concepts: a concept the question names (in any form the word lists know) that no indexed
  document mentions — 校车 asked of a plan that never speaks of school buses — decides "not answered"
  where similarity cannot (verdict_for, missing_concepts).

Cosine scales differ between models, so the weights and thresholds are calibrated per model on the dev
half of eval/testset_2018.jsonl (docs/retrieval.md has the numbers). A model without calibration (another
sentence-transformers model, the fake test embedder) is judged by keyword coverage alone. Questions
without Chinese characters are judged by similarity alone, against their own threshold: their keyword
evidence is only the glossary's translation of their terms (index/english_terms.txt), and the dev half
has too few out-of-scope English questions to calibrate a weight for it. Their similarity is as high for
out-of-scope questions as for answerable ones, so their missing concepts (glossary terms none of whose
Chinese words a document mentions: passport → 护照) always refuse.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Sequence

from zhengce.index.default_model import DEFAULT_MODEL_ID
from zhengce.index.query_terms import concept_forms, english_concepts, named_concepts
from zhengce.index.scope import lacking, not_above, question_scope, without_scope
from zhengce.index.search import HAN_RE, Hit, search
from zhengce.index.tokenize import tokenize
from zhengce.ingest.clean import normalize_for_index
from zhengce.settings import Calibration, JudgeConfig

JUDGE = JudgeConfig()  # the defaults (zhengce/settings.py; the numbers behind them: docs/retrieval.md)

# Fitted on the dev half of eval/testset_2018.jsonl with hybrid search (docs/retrieval.md, "no-answer judge").
CALIBRATED: dict[str, Calibration] = {
    DEFAULT_MODEL_ID: Calibration(bm25_weight=0.04, coverage_weight=0.04, threshold=0.890, threshold_other=0.75),
}


@dataclass(frozen=True)
class Verdict:
    answerable: bool
    confidence: float  # 0..1: how sure we are that the corpus answers the question (not a probability)
    reason: str  # one line for people, in Chinese like the interface
    similarity: float | None = None
    bm25: float = 0.0
    coverage: float = 0.0
    hedged: bool = False  # answerable, but only just: the answer is shown with a caution


def content_coverage(question: str, passage: str) -> float:
    """Share of the question's keyword characters whose keyword also occurs in the passage.

    积分入学政策 against the 义务教育 passage → 1.0; 房价调控政策 → 2/6 (only 政策 occurs).
    """
    text = normalize_for_index(question)
    passage_tokens = set(tokenize(passage))
    content: set[int] = set()
    covered: set[int] = set()
    for token in set(tokenize(question)):
        for match in re.finditer(re.escape(token), text):
            span = set(range(match.start(), match.end()))
            content |= span
            if token in passage_tokens:
                covered |= span
    return len(covered) / len(content) if content else 0.0


def missing_concepts(question: str, index, config: JudgeConfig = JUDGE) -> list[str]:
    """Concepts the question names that no indexed document mentions in any form the word lists know:
    校车, 中考 or 教师工资 asked of a plan that never speaks of them. Similarity cannot tell these near-topic
    questions from answerable ones (docs/retrieval.md, round 3); the documents' own words can.
    An English question's concepts are its glossary terms (index/english_terms.txt): one is missing when
    none of its Chinese words is mentioned, and it is named with its first Chinese word: pupil-teacher ratio（生师比）."""
    if HAN_RE.search(question):
        concepts = [(term, concept_forms()[term]) for term in named_concepts(question)]
    else:
        concepts = [(f"{term}（{chinese[0]}）", chinese) for term, chinese in english_concepts(question)]
    text = index.plain_text
    return [
        name for name, forms in concepts
        if not any(mentioned(form, text, config.mention_window, config.mention_looks) for form in forms)
    ]


def mentioned(name: str, text: str, window: int = JUDGE.mention_window, looks: int = JUDGE.mention_looks) -> bool:
    """name occurs in text, or all its words (two characters or more) occur close together: the plan's
    国际双语和高端民办幼儿园 mentions 双语幼儿园, and 新（扩）建 (brackets dropped) mentions 扩建."""
    if name in text:
        return True
    words = list(dict.fromkeys(w for w in tokenize(name) if len(w) >= 2 and w != name))
    if len(words) < 2 or any(w not in text for w in words):
        return False
    first = min(words, key=text.count)  # walk the rarest word's occurrences: few, even in a large corpus
    others = [w for w in words if w != first]
    at, looked = text.find(first), 0
    while at >= 0:
        around = text[max(0, at - window) : at + len(first) + window]
        if all(w in around for w in others):
            return True
        looked += 1
        if looked > looks:
            return True  # too common to settle quickly: count it as mentioned rather than refuse a question
        at = text.find(first, at + 1)
    return False


def verdict_for(index, question: str, hits: list[Hit], config: JudgeConfig = JUDGE, evidence: list[Hit] | None = None,
                embedder=None) -> Verdict:
    """The verdict for a search of this index: what the app, `zhengce ask` and `zhengce eval` call.

    evidence: the passages an answer would quote (zhengce/answer.py: those of the best passage's document);
    by default those of the top hit's document among the top hits. The verdict is about them, not about
    a passage of another document that the answer would not quote.
    embedder: lets the verdict search the question's topic without its place when the collection has
    documents of a same- or lower-level place (石桥县 and 青禾县; 石桥县 for 临澜市): the named place's
    documents may not cover it."""
    if evidence is None:
        evidence = [h for h in hits[: config.judge_hits] if h.doc_id == hits[0].doc_id] if hits else []
    topic = without_scope(question, index.places)  # 石桥县 matches every 石桥县 passage: not evidence of the topic
    verdict = judge(topic, evidence, index.model_id, missing_concepts(question, index, config), config)
    outside = None
    if embedder is not None and verdict.answerable and topic != question and has_sibling_places(question, index):
        outside = search(index, embedder, topic, k=1)
    absent = lacking(question, index, hits[: config.judge_hits], outside, config.sibling_place_margin)
    if absent and verdict.answerable:
        # 临澜市2020年… of a collection without that plan: the passages of other years or places would
        # answer with the wrong figures, however similar they are
        return replace(verdict, answerable=False, hedged=False, reason=f"{'；'.join(absent)}（{scores_of(verdict)}）")
    return verdict


def has_sibling_places(question: str, index) -> bool:
    """The question names an indexed place and the collection holds documents of another place of the
    same or a lower level (the only case the topic-without-place search can change the verdict)."""
    named = question_scope(question, index.years, index.places).places
    return any(all(not_above(p, q) for q in named) for p in index.places if p not in named)


def judge(question: str, hits: list[Hit], model_id: str, missing: Sequence[str] = (), config: JudgeConfig = JUDGE) -> Verdict:
    """missing: concepts of the question no document mentions (missing_concepts). They make the question
    unanswerable unless the passages match it almost certainly anyway; then the answer is hedged."""
    verdict = judge_by_scores(question, hits, model_id, config)
    if not missing:
        return verdict
    named = "、".join(f"“{term}”" for term in missing)
    # Not for English questions: their confidence is similarity alone, which is as high for the out-of-scope
    # English questions as for the answerable ones (docs/retrieval.md), so it cannot outweigh the documents' silence.
    if verdict.answerable and verdict.confidence >= config.missing_concept_override and HAN_RE.search(question):
        return replace(verdict, hedged=True, reason=f"文件中可能有相关内容（把握不大：文件没有提到{named}）：{scores_of(verdict)}")
    # refused, or unanswerable anyway: either way the missing concept is the clearest reason to give
    return replace(verdict, answerable=False, hedged=False, reason=f"文件中没有提到{named}（也没有同义的说法）：{scores_of(verdict)}")


def scores_of(verdict: Verdict) -> str:
    """The scores of a verdict's reason, without the verdict they led to ("文件中有相关内容：", or a hedge's
    "把握不大：…"): for a reason that overrides that verdict."""
    return verdict.reason.rsplit("：", 1)[-1]


def judge_by_scores(question: str, hits: list[Hit], model_id: str, config: JudgeConfig = JUDGE) -> Verdict:
    if not hits:
        return Verdict(False, 0.0, "没有检索到任何段落")
    top = hits[: config.judge_hits]
    dense = [h.dense_score for h in top if h.dense_score is not None]
    similarity = max(dense) if dense else None
    bm25 = max((h.bm25_score or 0.0 for h in top), default=0.0)
    coverage = max(content_coverage(question, f"{h.section} {h.text}") for h in top[: config.coverage_passages])
    chinese = bool(HAN_RE.search(question))
    calibration = CALIBRATED.get(model_id)
    signals = dict(similarity=similarity, bm25=round(bm25, 4), coverage=round(coverage, 4))
    if calibration is None or similarity is None:
        # No calibrated similarity scale (or keyword-only search): keyword coverage decides.
        ok = chinese and coverage >= config.coverage_only_min
        reason = f"问题关键词在段落中的覆盖率 {coverage:.0%}（需 ≥ {config.coverage_only_min:.0%}；此模型的相似度未校准）"
        return Verdict(ok, round(coverage, 4), reason, **signals)
    if chinese:
        score = (
            similarity
            + calibration.bm25_weight * min(bm25, config.bm25_cap) / config.bm25_cap
            + calibration.coverage_weight * coverage
        )
        threshold = calibration.threshold
        detail = f"相似度 {similarity:.3f} + 关键词证据（BM25 {bm25:.2f}，覆盖率 {coverage:.0%}）= {score:.3f}"
    else:
        score, threshold = similarity, calibration.threshold_other
        detail = f"相似度 {similarity:.3f}（问题不含中文，只看相似度）"
    confidence = 1.0 / (1.0 + math.exp(-(score - threshold) / config.confidence_scale))
    answerable = score >= threshold
    hedged = answerable and confidence < config.hedge_confidence
    verdict = "文件中可能有相关内容（把握不大）" if hedged else "文件中有相关内容" if answerable else "文件中可能没有相关内容"
    return Verdict(answerable, round(confidence, 4), f"{verdict}：{detail}，阈值 {threshold:.3f}", hedged=hedged, **signals)
