"""Does the corpus answer this question at all? Judged from the search hits alone.

Calibrated on the dev half of eval/testset_2018.jsonl (see docs/retrieval.md for the numbers).
"""
from __future__ import annotations

from dataclasses import dataclass

from index.search import HAN_RE, Hit
from index.tokenize import tokenize


@dataclass(frozen=True)
class Verdict:
    answerable: bool
    confidence: float  # 0..1: how sure we are that the corpus answers the question
    reason: str  # one line for people


def signals(question: str, hits: list[Hit]) -> dict:
    """The measurable facts the verdict is built from (also written to the eval report)."""
    dense = [h.dense_score for h in hits if h.dense_score is not None]
    terms = set(tokenize(question))
    matched = set().union(*(h.matched for h in hits[:3])) if hits else set()
    return {
        "top_cosine": dense[0] if dense else None,
        "margin": dense[0] - sum(dense[1:5]) / len(dense[1:5]) if len(dense) >= 2 else None,
        "coverage": len(terms & matched) / len(terms) if terms else None,
        "chinese": bool(HAN_RE.search(question)),
    }


def judge(question: str, hits: list[Hit]) -> Verdict:
    if not hits:
        return Verdict(False, 0.0, "no passage matches the question")
    s = signals(question, hits)
    top = s["top_cosine"]
    if top is None:
        return Verdict(True, 0.5, "keyword matches only; relevance not checked")
    threshold = 0.85 if s["chinese"] else 0.80
    answerable = top >= threshold
    return Verdict(answerable, max(0.0, min(1.0, 0.5 + (top - threshold) * 10)), f"top similarity {top:.3f}")
