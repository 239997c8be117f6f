"""How well `compare` finds the figures that changed within a series, and that it reports none across
series. The labels are JSON (tests/collection/changes.json):

    {"changes": [{"series", "topic", "from_year", "from_text", "to_year", "to_text"}, …],
     "not_changes": [{"topic", "a_file", "a_text", "b_file", "b_text"}, …]}

A labelled change is found when compare(topic, years=[from, to]) reports a change whose clauses carry
the two figures of from_text and to_text. A not-change is violated when any reported change pairs a
clause of a_text's document with one of b_text's.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from zhengce.errors import ZhengceError
from zhengce.library import Library

FIGURE = re.compile(r"\d+(?:\.\d+)?\s*(?:万|亿)?")


@dataclass(frozen=True)
class CompareScore:
    found: int
    labelled: int
    cross_series: int  # reported changes pairing documents of two series that were labelled apart
    missed: tuple[str, ...]

    @property
    def recall(self) -> float:
        return self.found / self.labelled if self.labelled else float("nan")


def first_figure(text: str) -> str:
    match = FIGURE.search(text)
    return re.sub(r"\s", "", match.group(0)) if match else ""


def compare_accuracy(lib: Library, labels_path: Path) -> CompareScore:
    try:
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ZhengceError(f"cannot read change labels {labels_path} ({exc})") from None
    found, missed = 0, []
    for change in labels["changes"]:
        result = lib.compare(change["topic"], years=[change["from_year"], change["to_year"]])
        before, after = first_figure(change["from_text"]), first_figure(change["to_text"])
        if any(before in n.before and after in n.after for n in result.numbers):
            found += 1
        else:
            missed.append(f"{change['topic']} {change['from_year']}→{change['to_year']}: {before} → {after}")
    stems = {d["file"]: d["doc_id"] for d in lib.documents}
    cross = 0
    for pair in labels.get("not_changes", []):
        result = lib.compare(pair["topic"])
        a, b = stems.get(pair["a_file"]), stems.get(pair["b_file"])
        docs_by_clause = {h.text: h.doc_id for p in result.passages for h in p.hits}
        for n in result.numbers:
            sides = {doc for clause in (n.clause_before, n.clause_after) for text, doc in docs_by_clause.items() if clause in text}
            if a in sides and b in sides:
                cross += 1
    return CompareScore(found, len(labels["changes"]), cross, tuple(missed))
