"""The same document twice in a corpus: identical text is refused (zhengce add) or skipped (indexing a
folder); a near-duplicate is only reported, since people may want both.

The same plan often reaches a corpus twice: as the bureau's web page and as the attached .docx, each with
its own page chrome, or as a scrape that stops after page 10 next to the full file. Either way its
passages would appear twice among the hits.

Identical: the same hash of the cleaned text (Document.text) with whitespace removed, so line breaks and
indents from another format do not count. Near: the share of the smaller document's character 5-grams
(of the keyword-normalized text: width, case and script do not count) that also occur in the other.
Containment rather than Jaccard, so that a cut-off scrape of a plan is found next to the full plan; a
size ratio of at least one half keeps a short notice that quotes one paragraph from counting as a copy.
Measured on the fictional collection (tests/collection) and copies of it: the same text in other formats,
chrome or script, a 60% cut-off and a copy with a third of its figures changed share 0.93–1.00; different
years of one series 0.33–0.57, other documents at most 0.2. tests/test_duplicates.py keeps that gap.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from zhengce.ingest.clean import normalize_for_index

SHINGLE_CHARS = 5  # a 5-gram is rarer than a word pair: boilerplate of one series shares fewer of them
NEAR_SHARE = 0.8  # share of the smaller document's 5-grams found in the other; the gap lies between 0.57 and 0.93
MIN_SIZE_RATIO = 0.5  # smaller / larger, in 5-grams: a cut-off scrape keeps more than half of a plan


@dataclass(frozen=True)
class Fingerprint:
    file: str
    title: str
    key: str  # sha256 of the cleaned text without whitespace
    shingles: frozenset[str]


@dataclass(frozen=True)
class NearDuplicate:
    file: str  # the later document (in corpus order, or the one being added)
    other: str  # the earlier one it resembles
    similarity: float  # share of the smaller document's 5-grams found in the other, 0..1

    def line(self) -> str:
        # rounded down: a near-duplicate never reads "100% same text"
        return f"{self.file} looks like a near-duplicate of {self.other} ({int(self.similarity * 100)}% same text)"


def fingerprint(file: str, title: str, text: str) -> Fingerprint:
    key = hashlib.sha256(re.sub(r"\s+", "", text).encode("utf-8")).hexdigest()
    plain = re.sub(r"\s+", "", normalize_for_index(text))
    shingles = frozenset(plain[i : i + SHINGLE_CHARS] for i in range(len(plain) - SHINGLE_CHARS + 1))
    return Fingerprint(file, title, key, shingles or frozenset({plain}))


def same_content(new: Fingerprint, earlier: list[Fingerprint]) -> Fingerprint | None:
    return next((f for f in earlier if f.key == new.key and f.file != new.file), None)


def same_content_reason(new: Fingerprint, original: Fingerprint, outcome: str = "") -> str:
    """"doc07.txt: same content as doc03.html (《…》)" and what became of it: one line, naming the document kept."""
    return f"{new.file}: same content as {original.file} (《{original.title}》)" + (f"; {outcome}" if outcome else "")


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    if not small or len(small) < MIN_SIZE_RATIO * len(large):
        return 0.0
    return len(small & large) / len(small)


def near_duplicate_of(new: Fingerprint, earlier: list[Fingerprint]) -> NearDuplicate | None:
    """The earlier document most like this one, when it is a near-duplicate."""
    best, best_score = None, 0.0
    for other in earlier:
        if other.file != new.file:
            score = similarity(new.shingles, other.shingles)
            if score > best_score:
                best, best_score = other, score
    if best is None or best_score < NEAR_SHARE:
        return None
    return NearDuplicate(new.file, best.file, best_score)


def near_duplicates(fingerprints: list[Fingerprint]) -> list[NearDuplicate]:
    """One note for each document that resembles an earlier one (the most similar), in corpus order.

    All pairs at once: the shared 5-grams of every pair are one sparse product (documents × 5-grams),
    which for 300 documents takes a fraction of a second where comparing sets pair by pair takes seconds.
    At 10k+ documents the pairs that share anything approach n², so compare only candidate pairs:
    MinHash signatures with LSH banding (datasketch) find them without looking at every pair.
    """
    import numpy as np
    from scipy.sparse import csr_matrix

    if len(fingerprints) < 2:
        return []
    sizes = np.array([len(f.shingles) for f in fingerprints])
    hashes = np.fromiter((hash(s) for f in fingerprints for s in f.shingles), dtype=np.int64, count=int(sizes.sum()))
    vocabulary, columns = np.unique(hashes, return_inverse=True)  # 64-bit hashes: a collision is negligible
    pointers = np.concatenate([[0], np.cumsum(sizes)])
    matrix = csr_matrix((np.ones(len(columns), dtype=np.float32), columns, pointers), shape=(len(fingerprints), len(vocabulary)))
    shared = (matrix @ matrix.T).tocoo()
    later, earlier, count = shared.row, shared.col, shared.data
    small = np.minimum(sizes[later], sizes[earlier])
    large = np.maximum(sizes[later], sizes[earlier])
    score = np.where(small >= MIN_SIZE_RATIO * large, count / small, 0.0)
    keep = (later > earlier) & (score >= NEAR_SHARE)
    later, earlier, score = later[keep], earlier[keep], score[keep]
    notes: dict[int, NearDuplicate] = {}
    for i in np.lexsort((earlier, -score, later)):  # per later document: best score first, then the earliest
        if later[i] not in notes:
            notes[later[i]] = NearDuplicate(fingerprints[later[i]].file, fingerprints[earlier[i]].file, float(score[i]))
    return [notes[i] for i in sorted(notes)]
