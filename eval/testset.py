"""Test sets: JSON Lines of questions with gold evidence substrings, tags and a dev/held-out split.

    {"id": "q097", "query": "私立初中报名的人太多了怎么决定收谁", "gold": ["招生计划的50%采取电脑摇号方式录取"],
     "tags": ["paraphrase"], "split": "heldout"}

A collection's test set also names the gold document ("doc": "doc03.html"), so an answer quoting another
document can be counted as wrong even when it quotes similar words.

An item without gold is out of scope: nothing in the corpus answers it (tag "out_of_scope").
Tune only on split "dev"; "heldout" is for reporting.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from zhengce.errors import ZhengceError

DEFAULT_TESTSET = Path(__file__).with_name("testset_2018.jsonl")
# Written by someone who saw only the plan's text (not the test set above, the word lists or any
# result), after the tuning: all held-out, for checking that the numbers carry over (docs/retrieval.md).
BLIND_TESTSET = Path(__file__).with_name("testset_2018_blind.jsonl")
# The project's own suite (`zhengce eval --suite`): each test set with the corpus it asks about, relative to
# a checkout. The collection is 14 fictional documents of several issuers, years and formats (tests/collection/).
SUITE = (
    ("2018 plan", "eval/testset_2018.jsonl", "corpus"),
    ("2018 plan, blind", "eval/testset_2018_blind.jsonl", "corpus"),
    ("collection", "eval/testset_collection.jsonl", "tests/collection/files"),
    ("collection, blind", "eval/testset_collection_blind.jsonl", "tests/collection/files"),
)
SPLITS = ("dev", "heldout")
OUT_OF_SCOPE = "out_of_scope"
FIELDS = {"id", "query", "gold", "doc", "tags", "split", "chunk_ids"}


@dataclass(frozen=True)
class TestItem:
    id: str
    query: str
    gold: tuple[str, ...]  # exact substrings of the cleaned text; empty when out of scope
    tags: tuple[str, ...]
    split: str
    chunk_ids: tuple[str, ...] = ()  # optional, informative only: relevance is judged by gold substrings
    doc: str = ""  # optional: the file whose text holds the gold (a collection's test set names it)

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


def load_testset(path: Path = DEFAULT_TESTSET) -> list[TestItem]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ZhengceError(f"cannot read test set {path} ({exc}); pass --testset FILE") from None
    items, ids = [], set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ZhengceError(f"{where}: not JSON ({exc.msg}); one JSON object per line") from None
        unknown = set(row) - FIELDS if isinstance(row, dict) else set()
        if not isinstance(row, dict) or unknown or not {"id", "query", "tags", "split"} <= set(row):
            raise ZhengceError(f"{where}: needs id, query, tags, split (and gold unless out of scope); unknown fields: {sorted(unknown)}")
        item = TestItem(
            id=str(row["id"]),
            query=str(row["query"]).strip(),
            gold=tuple(str(g) for g in row.get("gold") or ()),
            tags=tuple(str(t) for t in row["tags"]),
            split=str(row["split"]),
            chunk_ids=tuple(str(c) for c in row.get("chunk_ids") or ()),
            doc=str(row.get("doc") or ""),
        )
        if item.id in ids:
            raise ZhengceError(f"{where}: duplicate id {item.id}")
        if item.split not in SPLITS:
            raise ZhengceError(f"{where}: split must be one of {', '.join(SPLITS)}, not {item.split!r}")
        if not item.query or not item.tags:
            raise ZhengceError(f"{where}: empty query or tags")
        if item.answerable == (OUT_OF_SCOPE in item.tags):
            raise ZhengceError(f"{where}: an item has gold evidence exactly when it is not tagged {OUT_OF_SCOPE}")
        ids.add(item.id)
        items.append(item)
    if not items:
        raise ZhengceError(f"test set {path} is empty")
    return items


def missing_gold(items: list[TestItem], texts: list[str], fuzzy: bool = False) -> list[tuple[str, str]]:
    """(item id, gold) for every gold substring found in none of the cleaned document texts."""
    return [(item_id, gold) for item_id, gold, found in find_golds(items, texts, fuzzy) if found is None]


def find_golds(items: list[TestItem], texts: list[str], fuzzy: bool = False) -> list[tuple[str, str, str | None]]:
    """(item id, gold, how) for every gold: how is "exact" when a document holds it as written or after
    normalization (eval/metrics.py), "approximate" when one holds it only nearly (fuzzy), else None.
    Without fuzzy a gold with a wrong character is missing: that is how typos in a test set are caught."""
    from zhengce.eval.metrics import nearly_in
    from zhengce.ingest.pages import page_key

    keys = [page_key(text) for text in texts]
    found = []
    for item in items:
        for gold in item.gold:
            gold_key = page_key(gold)
            if any(gold in text for text in texts) or (gold_key and any(gold_key in key for key in keys)):
                how = "exact"
            elif fuzzy and gold_key and any(nearly_in(gold_key, key) for key in keys):
                how = "approximate"
            else:
                how = None
            found.append((item.id, gold, how))
    return found
