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
has too few out-of-scope English questions to calibrate a weight for it.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Sequence

from index.default_model import DEFAULT_MODEL_ID
from index.query_terms import concept_forms, named_concepts
from index.search import HAN_RE, Hit
from index.tokenize import tokenize
from ingest.clean import normalize_for_index

JUDGE_HITS = 5  # the verdict looks at the top 5 hits whatever k the caller asked for, so eval = app
COVERAGE_PASSAGES = 3  # coverage is the best over the top 3 passages: the answer may sit in the 2nd
BM25_CAP = 6.0  # BM25 scores above this all count as "a strong keyword match" (scale depends on corpus size)
CONFIDENCE_SCALE = 0.01  # a score 0.01 above the threshold → confidence 0.73; 0.03 above → 0.95
# Below this confidence an "answerable" verdict is hedged: the answer is shown with a caution. The band
# (score < threshold + 0.022) covers every dev out-of-scope question the threshold lets through (the
# highest, 中考体育考哪些项目, is 0.015 above it): near-topic questions the plan does not answer score just
# above the threshold, and so do ~7 % of answerable ones (docs/retrieval.md, "hedged answers").
HEDGE_CONFIDENCE = 0.9
# A question naming a concept no document mentions is unanswerable unless the passages match it this
# surely anyway (score ≥ threshold + 0.046): then it is only hedged (积分入学和中考有什么关系 is half answered).
MISSING_CONCEPT_OVERRIDE = 0.99


@dataclass(frozen=True)
class Calibration:
    bm25_weight: float  # added to the similarity for a capped BM25 of BM25_CAP
    coverage_weight: float  # added to the similarity for full keyword coverage
    threshold: float  # Chinese questions: similarity + evidence must reach this
    threshold_other: float  # questions without Chinese: similarity alone must reach this


# Fitted on the dev half of eval/testset_2018.jsonl with hybrid search (docs/retrieval.md, "no-answer judge").
CALIBRATED: dict[str, Calibration] = {
    DEFAULT_MODEL_ID: Calibration(bm25_weight=0.08, coverage_weight=0.0, threshold=0.884, threshold_other=0.75),
}
COVERAGE_ONLY_MIN = 0.5  # uncalibrated models: half the question's keywords must occur in a passage


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


def missing_concepts(question: str, index) -> list[str]:
    """Concepts the question names that no indexed document mentions in any form the word lists know:
    校车, 中考 or 教师工资 asked of a plan that never speaks of them. Similarity cannot tell these near-topic
    questions from answerable ones (docs/retrieval.md, round 3); the documents' own words can."""
    text = index.plain_text
    return [term for term in named_concepts(question) if not any(mentioned(form, text) for form in concept_forms()[term])]


MENTION_WINDOW = 20  # characters either side: the words of one name must occur within a clause or two
MENTION_LOOKS = 2000  # occurrences of its rarest word examined at most (keeps a 100k-chunk corpus fast)


def mentioned(name: str, text: str) -> bool:
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
        window = text[max(0, at - MENTION_WINDOW) : at + len(first) + MENTION_WINDOW]
        if all(w in window for w in others):
            return True
        looked += 1
        if looked > MENTION_LOOKS:
            return True  # too common to settle quickly: count it as mentioned rather than refuse a question
        at = text.find(first, at + 1)
    return False


def verdict_for(index, question: str, hits: list[Hit]) -> Verdict:
    """The verdict for a search of this index: what the app, `zhengce ask` and `zhengce eval` call."""
    return judge(question, hits, index.model_id, missing_concepts(question, index))


def judge(question: str, hits: list[Hit], model_id: str, missing: Sequence[str] = ()) -> Verdict:
    """missing: concepts of the question no document mentions (missing_concepts). They make the question
    unanswerable unless the passages match it almost certainly anyway; then the answer is hedged."""
    verdict = judge_by_scores(question, hits, model_id)
    if not missing:
        return verdict
    named = "、".join(f"“{term}”" for term in missing)
    if verdict.answerable and verdict.confidence >= MISSING_CONCEPT_OVERRIDE:
        return replace(verdict, hedged=True, reason=f"文件中可能有相关内容（把握不大：文件没有提到{named}）：{verdict.reason}")
    # refused, or unanswerable anyway: either way the missing concept is the clearest reason to give
    return replace(verdict, answerable=False, hedged=False, reason=f"文件中没有提到{named}（也没有同义的说法）：{verdict.reason}")


def judge_by_scores(question: str, hits: list[Hit], model_id: str) -> Verdict:
    if not hits:
        return Verdict(False, 0.0, "没有检索到任何段落")
    top = hits[:JUDGE_HITS]
    dense = [h.dense_score for h in top if h.dense_score is not None]
    similarity = max(dense) if dense else None
    bm25 = max((h.bm25_score or 0.0 for h in top), default=0.0)
    coverage = max(content_coverage(question, f"{h.section} {h.text}") for h in top[:COVERAGE_PASSAGES])
    chinese = bool(HAN_RE.search(question))
    calibration = CALIBRATED.get(model_id)
    signals = dict(similarity=similarity, bm25=round(bm25, 4), coverage=round(coverage, 4))
    if calibration is None or similarity is None:
        # No calibrated similarity scale (or keyword-only search): keyword coverage decides.
        ok = chinese and coverage >= COVERAGE_ONLY_MIN
        reason = f"问题关键词在段落中的覆盖率 {coverage:.0%}（需 ≥ {COVERAGE_ONLY_MIN:.0%}；此模型的相似度未校准）"
        return Verdict(ok, round(coverage, 4), reason, **signals)
    if chinese:
        score = (
            similarity
            + calibration.bm25_weight * min(bm25, BM25_CAP) / BM25_CAP
            + calibration.coverage_weight * coverage
        )
        threshold = calibration.threshold
        detail = f"相似度 {similarity:.3f} + 关键词证据（BM25 {bm25:.2f}，覆盖率 {coverage:.0%}）= {score:.3f}"
    else:
        score, threshold = similarity, calibration.threshold_other
        detail = f"相似度 {similarity:.3f}（问题不含中文，只看相似度）"
    confidence = 1.0 / (1.0 + math.exp(-(score - threshold) / CONFIDENCE_SCALE))
    answerable = score >= threshold
    hedged = answerable and confidence < HEDGE_CONFIDENCE
    verdict = "文件中可能有相关内容（把握不大）" if hedged else "文件中有相关内容" if answerable else "文件中可能没有相关内容"
    return Verdict(answerable, round(confidence, 4), f"{verdict}：{detail}，阈值 {threshold:.3f}", hedged=hedged, **signals)
