"""Retrieval metrics as pure functions over plain values (no index, no model), so tests pin them down.

Relevance is judged against gold evidence *substrings* of the cleaned text, not chunk ids, so the test
set survives re-chunking. A chunk covers a gold substring when it contains it whole, or when a chunk
boundary cuts through it and the chunk holds a large enough piece of it at that boundary:

    covers(text, gold) ⇔ gold in text
                         or text ends with gold[:m]   for some m ≥ min_overlap(gold)
                         or text starts with gold[-m:] for some m ≥ min_overlap(gold)
    min_overlap(gold) = max(MIN_OVERLAP_CHARS, ceil(len(gold) / 2))

Only pieces at the chunk's edges count: a short common word in the middle of an unrelated chunk
("学校") must never make it relevant.

Gold and passage are also compared after the normalization page lookup uses (letters, digits and Chinese
characters only, NFKC: `ingest/pages.py: page_key`), so a passage whose quotes or spaces differ from the
gold's (an OCRed or re-typed corpus) still covers it; a different character never does. Only when asked
(`zhengce eval --fuzzy-gold`, for OCRed or re-typed corpora) may the normalized gold also match *nearly*:
rapidfuzz's partial ratio (Indel similarity of the best-aligned window, 0–100) at least
FUZZY_GOLD_MIN_SCORE, with the same digits and Latin letters (only Chinese characters may differ). One
substitution costs 2 of the 2n characters compared (score 100·(1 − 1/n)), so 94 allows one misread character
in a gold of 17 characters or more; a shorter gold must match exactly. Not lower: at 93.3 a gold missing
two characters ("平均资助标准…") matched another document's sentence in the collection test set.
"""
from __future__ import annotations

import math
import re
from typing import Sequence

from zhengce.ingest.pages import page_key

MIN_OVERLAP_CHARS = 8
# One misread character in 17 (see above); the false matches it was checked against are in docs/retrieval.md
FUZZY_GOLD_MIN_SCORE = 94.0
FIGURES_RE = re.compile(r"[0-9A-Za-z]+")


def min_overlap(gold: str) -> int:
    return max(MIN_OVERLAP_CHARS, math.ceil(len(gold) / 2))


def covers(text: str, gold: str, fuzzy: bool = False) -> bool:
    """Whether the passage covers the gold: as written, after normalization, or (fuzzy) nearly."""
    if covers_exactly(text, gold):
        return True
    text_key, gold_key = page_key(text), page_key(gold)
    if gold_key and covers_exactly(text_key, gold_key):
        return True
    return fuzzy and bool(gold_key) and covers_nearly(text_key, gold_key)


def covers_exactly(text: str, gold: str) -> bool:
    if gold in text:
        return True
    need = min_overlap(gold)
    if need >= len(gold):
        return False  # a gold this short must be contained whole
    for m in range(need, len(gold)):
        if text.endswith(gold[:m]) or text.startswith(gold[-m:]):
            return True
    return False


def nearly_in(gold_key: str, text_key: str) -> bool:
    """The normalized gold nearly inside the normalized text (one misread character in 17)."""
    from rapidfuzz import fuzz

    # partial_ratio aligns the shorter string inside the longer: a passage shorter than the gold would
    # match any gold that contains it, so the gold must be the shorter
    if len(gold_key) > len(text_key):
        return False
    found = fuzz.partial_ratio_alignment(gold_key, text_key, score_cutoff=FUZZY_GOLD_MIN_SCORE)
    return found is not None and same_figures(gold_key, text_key[found.dest_start : found.dest_end])


def same_figures(gold_key: str, text_key: str) -> bool:
    """A near match may differ only in Chinese characters (what OCR misreads: 埭, 遴); no edit may touch a
    digit or a Latin letter, or "不低于90%" would match the "不低于92%" of another year's plan. Characters
    the aligned window holds beyond the gold's ends are not edits."""
    from rapidfuzz.distance import Levenshtein

    ops = [op for op in Levenshtein.opcodes(gold_key, text_key) if op.tag != "equal"]
    for op in ops:
        overhang = op.tag == "insert" and (op.dest_start == 0 or op.dest_end == len(text_key))
        changed = gold_key[op.src_start : op.src_end] + text_key[op.dest_start : op.dest_end]
        if not overhang and FIGURES_RE.search(changed):
            return False
    return True


def covers_nearly(text_key: str, gold_key: str) -> bool:
    """covers_exactly with near matches, on normalized strings: the gold nearly inside the passage, or
    a large enough piece of it nearly at the passage's start or end."""
    from rapidfuzz import fuzz

    if nearly_in(gold_key, text_key):
        return True
    # a piece shorter than m would score as if the missing characters were misread
    for m in range(min_overlap(gold_key), min(len(gold_key), len(text_key) + 1)):
        for text_piece, gold_piece in ((text_key[-m:], gold_key[:m]), (text_key[:m], gold_key[-m:])):
            if fuzz.ratio(text_piece, gold_piece, score_cutoff=FUZZY_GOLD_MIN_SCORE) and same_figures(gold_piece, text_piece):
                return True
    return False


def covered_golds(text: str, golds: Sequence[str], fuzzy: bool = False) -> frozenset[int]:
    """Indices of the gold substrings this passage covers."""
    return frozenset(i for i, gold in enumerate(golds) if covers(text, gold, fuzzy))


def first_relevant_rank(coverage: Sequence[frozenset[int]], k: int) -> int | None:
    """1-based rank of the first passage that covers any gold within the top k, else None."""
    for rank, covered in enumerate(coverage[:k], start=1):
        if covered:
            return rank
    return None


def hit_at(coverage: Sequence[frozenset[int]], k: int) -> float:
    return 1.0 if first_relevant_rank(coverage, k) is not None else 0.0


def recall_at(coverage: Sequence[frozenset[int]], n_gold: int, k: int) -> float:
    """Share of the gold substrings covered by the top k passages together."""
    if n_gold == 0:
        return 0.0
    found = set().union(*coverage[:k]) if coverage[:k] else set()
    return len(found) / n_gold


def reciprocal_rank(coverage: Sequence[frozenset[int]], k: int = 10) -> float:
    rank = first_relevant_rank(coverage, k)
    return 1.0 / rank if rank else 0.0


def ndcg_at(coverage: Sequence[frozenset[int]], n_gold: int, k: int = 10) -> float:
    """Gain at a rank = gold substrings covered there for the first time (a repeat earns nothing).
    The ideal ranking covers one new gold per rank from rank 1. Capped at 1.0 for the rare passage
    that covers two golds at once (which beats that ideal)."""
    if n_gold == 0:
        return 0.0
    seen: set[int] = set()
    dcg = 0.0
    for rank, covered in enumerate(coverage[:k], start=1):
        new = covered - seen
        seen |= new
        dcg += len(new) / math.log2(rank + 1)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(n_gold, k) + 1))
    return min(1.0, dcg / ideal)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), without numpy."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def flag_rates(flags_out_of_scope: Sequence[bool], flags_answerable: Sequence[bool]) -> tuple[float, float]:
    """(share of out-of-scope questions flagged unanswerable, share of answerable ones wrongly flagged).
    Each flag is True when the judge said "not answerable"."""
    return mean([1.0 if f else 0.0 for f in flags_out_of_scope]), mean([1.0 if f else 0.0 for f in flags_answerable])
