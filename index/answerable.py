"""Does the corpus answer this question at all? Judged from the search hits alone.

The raw top cosine barely separates questions the plan answers from questions it doesn't (食品安全检查
scores 0.86, a paraphrased in-scope question 0.87), so the verdict adds the strongest keyword evidence:
in-scope questions nearly always share a rare word with some passage, out-of-scope ones only common
words (申请, 政策, 管理). Calibrated on the dev half of eval/testset_2018.jsonl with the default model
and hybrid search (docs/retrieval.md): the threshold sits in the middle of the gap between the
highest-scoring out-of-scope and the lowest-scoring answerable dev question.

English questions get no keyword evidence (the keyword index is Chinese) and score lower (0.76–0.80 for
in-scope ones), so they have their own, permissive threshold: only clearly unrelated ones are flagged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from index.search import HAN_RE, Hit

BM25_CAP = 6.0  # BM25 scores above this are all "a strong keyword match" (scores depend on corpus size)
BM25_WEIGHT = 0.08  # how much a strong keyword match adds to the cosine
THRESHOLD_CHINESE = 0.884  # dev: highest out-of-scope 0.881 (晋江明天天气怎么样), lowest answerable 0.887 (大班额)
THRESHOLD_OTHER = 0.75  # dev: answerable English questions 0.763–0.802; the one out-of-scope 0.765
CONFIDENCE_SCALE = 0.01  # a score 0.01 above the threshold → confidence 0.73; 0.03 above → 0.95


@dataclass(frozen=True)
class Verdict:
    answerable: bool
    confidence: float  # 0..1: how sure we are that the corpus answers the question
    reason: str  # one line for people


def evidence(question: str, hits: list[Hit]) -> tuple[float | None, float, bool]:
    """(best dense similarity, best BM25 score, question has Chinese) among the hits."""
    dense = [h.dense_score for h in hits if h.dense_score is not None]
    bm25 = [h.bm25_score for h in hits if h.bm25_score is not None]
    return (max(dense) if dense else None), (max(bm25) if bm25 else 0.0), bool(HAN_RE.search(question))


def judge(question: str, hits: list[Hit]) -> Verdict:
    if not hits:
        return Verdict(False, 0.0, "no passage matches the question")
    top, bm25, chinese = evidence(question, hits)
    if top is None:  # keyword-only search: a match is all we know
        return Verdict(True, 0.5, f"keyword match (BM25 {bm25:.2f}); similarity not measured")
    if chinese:
        score = top + BM25_WEIGHT * min(bm25, BM25_CAP) / BM25_CAP
        threshold = THRESHOLD_CHINESE
        detail = f"similarity {top:.3f} + keyword evidence (BM25 {bm25:.2f}) = {score:.3f}"
    else:
        score, threshold = top, THRESHOLD_OTHER
        detail = f"similarity {top:.3f}"
    confidence = 1.0 / (1.0 + math.exp(-(score - threshold) / CONFIDENCE_SCALE))
    answerable = score >= threshold
    verdict = "answered by the documents" if answerable else "probably not covered by the documents"
    return Verdict(answerable, round(confidence, 4), f"{verdict}: {detail}, threshold {threshold:.3f}")
