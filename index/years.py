"""Year-aware ordering of a ranking when a question names no year: mix the years (index/scope.py prefers
the year and place a question does name).

It works on a ranked list of (row, score) longer than k and returns the top k, so it sits after
fusion without touching how scores are computed.
"""
from __future__ import annotations

import math
import re
from collections import Counter

from zhengce.settings import SearchConfig

# "2019年", "2019 年", "2019年度"; a bare 2019 counts too when no digit touches it ("2019智慧教室").
# Which of them name a document's year is index/scope.py's business; here they are only taken out.
QUERY_YEAR_RE = re.compile(r"(?<![\d.])((?:19|20)\d{2})(?![\d.%％])")


def diversify_years(
    ranked: list[tuple[int, float]], row_years: list[int | None], k: int, max_share: float = SearchConfig.year_max_share
) -> list[tuple[int, float]]:
    """Take the ranking in order but cap each year's share of the top k; passages over the cap wait.

    A year's passages are only pushed down, never dropped: when the other years have nothing left
    in the candidate list, the waiting ones fill the remaining places in their order.
    """
    if len({row_years[row] for row, _ in ranked}) < 2:
        return ranked[:k]
    cap = max(1, math.ceil(max_share * k))
    taken: list[tuple[int, float]] = []
    waiting: list[tuple[int, float]] = []
    per_year: Counter = Counter()
    for item in ranked:
        year = row_years[item[0]]
        if per_year[year] < cap:
            taken.append(item)
            per_year[year] += 1
        else:
            waiting.append(item)
        if len(taken) == k:
            break
    return (taken + waiting)[:k] if len(taken) < k else taken


def without_years(query: str) -> str:
    """The question without its year mentions ("2019年智慧教室建设目标" → "智慧教室建设目标"); unchanged if nothing is left."""
    rest = re.sub(r"\s+", " ", QUERY_YEAR_RE.sub(" ", query).replace(" 年度", " ").replace(" 年", " ")).strip(" 的")
    return rest if rest.strip() else query
