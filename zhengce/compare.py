"""Compare a policy topic across years: the best passages per year and a summary of what changed.

    compare(index, embedder, "学前教育") → Comparison
      passages   per year, the top passages for the topic (with section paths)
      numbers    figures whose value changed: 普惠性学前教育覆盖率 83% → 88%
      measures   clauses found in one year's passages and nowhere in the other year's related passages

Figures are matched by their subject (the words around the number, fillers removed) and unit; clauses
by wording (character bigrams with numbers masked) or by meaning (the embedder). Consecutive years are
compared: 2018→2019, 2019→2020.

Only documents of one series are compared: the same issuer (or place) and the same kind of document
(临澜市教育局's 教育工作要点 of 2019, 2021, 2023). A county's 2020 计划 against a city's 2021 要点 is not a
change of policy. Without a chosen series, the series of the topic's best passage among those with two
or more years is compared, and the others are named.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher

import numpy as np

from zhengce.errors import ZhengceError
from zhengce.settings import CompareConfig
from zhengce.index.embed import Embedder
from zhengce.index.search import Hit, search
from zhengce.index.store import LoadedIndex
from zhengce.ingest.clean import to_simplified
from zhengce.ingest.structure import PREAMBLE


@dataclass(frozen=True)
class YearPassages:
    year: int
    hits: tuple[Hit, ...]


@dataclass(frozen=True)
class NumberChange:
    subject: str  # 普惠性学前教育覆盖率
    before: str  # 83%
    after: str  # 88%
    year_before: int
    year_after: int
    section_before: str
    section_after: str
    clause_before: str
    clause_after: str


@dataclass(frozen=True)
class MeasureChange:
    kind: str  # "new": only in year_after; "dropped": only in year_before
    year_before: int
    year_after: int
    year: int  # the year whose passage holds the clause
    section: str
    clause: str


@dataclass(frozen=True)
class Comparison:
    topic: str
    years: tuple[int, ...]
    passages: tuple[YearPassages, ...]
    numbers: tuple[NumberChange, ...] = field(default=())
    measures: tuple[MeasureChange, ...] = field(default=())
    notice: str = ""  # e.g. only one year indexed, and how to add another
    series: str = ""  # the series compared, e.g. 临澜市教育局·要点
    other_series: tuple[str, ...] = ()  # other series with passages on the topic (choose one with series=)

    def to_json(self) -> dict:
        return {
            "topic": self.topic,
            "years": list(self.years),
            "series": self.series,
            "other_series": list(self.other_series),
            "notice": self.notice,
            "passages": {str(p.year): [h.to_json() for h in p.hits] for p in self.passages},
            "numbers": [asdict(n) for n in self.numbers],
            "measures": [asdict(m) for m in self.measures],
        }


def series_name(document: dict, places: frozenset[str]) -> str:
    """临澜市教育局·要点: who issued it (or, without an issuer, where it is from) and what kind it is."""
    who = to_simplified(document.get("issuer") or "") or "".join(sorted(places)) or "未注明"
    return f"{who}·{document.get('doc_type') or '文件'}"


def all_series(index: LoadedIndex) -> dict[str, dict[int, list[str]]]:
    """series name → year → document ids, for every dated document of the index."""
    found: dict[str, dict[int, list[str]]] = {}
    for document in index.documents:
        if document.get("year") is not None:
            found.setdefault(series_name(document, index.doc_places[document["doc_id"]]), {}).setdefault(document["year"], []).append(document["doc_id"])
    return found


def choose_series(index: LoadedIndex, embedder: Embedder, topic: str, series: dict[str, dict[int, list[str]]], years) -> tuple[str, list[str]]:
    """The series of the topic's best passage among the series with two or more (of the chosen) years."""
    def usable(name: str) -> bool:
        return len([y for y in series[name] if not years or y in years]) >= 2

    by_doc = {d["doc_id"]: series_name(d, index.doc_places[d["doc_id"]]) for d in index.documents}
    ranked = list(dict.fromkeys(by_doc[h.doc_id] for h in search(index, embedder, topic, k=20) if h.doc_id in by_doc))
    candidates = [name for name in ranked if usable(name)] or ranked or sorted(series)
    return candidates[0], [name for name in ranked if name != candidates[0]]


def compare(
    index: LoadedIndex, embedder: Embedder, topic: str, years: list[int] | None = None, config: CompareConfig = CompareConfig(),
    series: str | None = None,
) -> Comparison:
    topic = topic.strip()
    if not topic:
        raise ZhengceError("empty topic; e.g. zhengce compare 学前教育")
    indexed = index.years
    missing = [y for y in (years or []) if y not in indexed]
    if missing:
        raise ZhengceError(
            f"no documents from {', '.join(map(str, missing))} in the index; years indexed: {', '.join(map(str, indexed)) or 'none'}"
        )
    every = all_series(index)
    if series is not None and series not in every:
        raise ZhengceError(f"no series {series!r}; series indexed: {'; '.join(sorted(every)) or 'none'}")
    name, others = (series, []) if series else choose_series(index, embedder, topic, every, years)
    in_series = every.get(name, {})
    chosen = sorted(y for y in in_series if not years or y in years)
    base = {y: search(index, embedder, topic, k=config.base_k, years={y}, doc_ids=set(in_series[y])) for y in chosen}
    passages = tuple(YearPassages(y, tuple(base[y][: config.k])) for y in chosen)
    common = dict(series=name, other_series=tuple(others))
    if len(chosen) < 2:
        return Comparison(topic, tuple(chosen), passages, notice=one_year_notice(chosen, indexed, name, every), **common)
    # every clause is embedded once, in one batch, however many year pairs it takes part in
    texts = sorted({c for hits in base.values() for c, _ in clauses(hits, config.min_clause_chars)})
    vectors = dict(zip(texts, np.asarray(embedder.encode_documents(texts)))) if texts else {}
    numbers: list[NumberChange] = []
    measures: list[MeasureChange] = []
    for before, after in zip(chosen, chosen[1:]):
        numbers += number_changes(base[before][: config.k], base[after][: config.k], before, after, config)
        measures += measure_changes(index, vectors, base[before], base[after], before, after, config)
    notice = f"compared within {name}; other series on this topic: {'; '.join(others)}" if others else ""
    return Comparison(topic, tuple(chosen), passages, tuple(numbers), tuple(measures), notice=notice, **common)


def one_year_notice(chosen: list[int], indexed: list[int], name: str = "", every: dict | None = None) -> str:
    several = [n for n, years in (every or {}).items() if len(years) >= 2]
    if len(indexed) >= 2 and len(chosen) < 2 and name and several and name not in several:
        return f"{name} has one year indexed; series with several years: {'; '.join(sorted(several))}"
    if len(indexed) < 2:
        only = f"only {indexed[0]}" if indexed else "no year"
        return (
            f"{only} is indexed, so there is nothing to compare yet; add another year's plan with "
            "zhengce add FILE --year YEAR (.docx, .pdf, .html, .txt …) and run the comparison again"
        )
    return f"one year chosen; years indexed: {', '.join(map(str, indexed))} (e.g. --years {indexed[-2]},{indexed[-1]})"


# ---------------------------------------------------------------- figures

NUMBER = r"\d+(?:\.\d+)?(?:\s*[-~～至到]\s*\d+(?:\.\d+)?)?"
UNITS = "%|％|万平方米|平方米|万个|万人|万名|万元|亿元|个|所|名|人|间|项|家|条|班|套|台|期|场|次|批|门|节|元|倍|对|支|座|张"
FIGURE_RE = re.compile(rf"(?P<value>{NUMBER})\s*(?P<unit>{UNITS})")
CLAUSE_SPLIT_RE = re.compile(r"[。；;！？!?\n，,、：:]")
LEADING_FILLER = re.compile(r"^(?:力争|确保|基本|全面|进一步|努力|提高|提升|完成|达到|实现|约)+")
TRAILING_FILLER = re.compile(r"(?:提高到|提升到|提高至|提升至|达到|超过|不低于|不少于|至|到|达|为|约)+$")
AFTER_FILLER = re.compile(r"^(?:以上|左右|以内|多)+|(?:以上|左右|等)+$")


@dataclass(frozen=True)
class Figure:
    subject: str
    value: str
    unit: str
    clause: str
    section: str


# a note in brackets after a figure ("1.2万个（其中小学7000个、初中5000个）") is not part of its subject
NOTE_RE = re.compile(r"[（(][^（）()]{1,60}[）)]")


def figures(hits: list[Hit]) -> list[Figure]:
    out = []
    for hit in hits:
        for clause in CLAUSE_SPLIT_RE.split(NOTE_RE.sub("", hit.text)):
            for match in FIGURE_RE.finditer(clause):
                before = TRAILING_FILLER.sub("", LEADING_FILLER.sub("", FIGURE_RE.sub("", clause[: match.start()])))
                after = AFTER_FILLER.sub("", FIGURE_RE.sub("", clause[match.end() :]))
                subject = (before + after).strip()
                if len(re.findall(r"[\u4e00-\u9fff]", subject)) >= 2:
                    value = re.sub(r"\s", "", match.group("value"))
                    out.append(Figure(subject, value, match.group("unit").replace("％", "%"), clause.strip(), hit.section))
    return out


def number_changes(hits_a: list[Hit], hits_b: list[Hit], year_a: int, year_b: int, config: CompareConfig) -> list[NumberChange]:
    """Pair figures of two years by subject and unit (best pairs first, each figure once); keep those whose value moved."""
    fa, fb = figures(hits_a), figures(hits_b)
    scored = []
    for i, a in enumerate(fa):
        for j, b in enumerate(fb):
            if a.unit.lstrip("万亿") != b.unit.lstrip("万亿"):  # 8500个 → 1.2万个 is one measure
                continue
            ratio = SequenceMatcher(None, a.subject, b.subject).ratio()
            if ratio >= config.subject_match:
                # the same heading on both sides breaks ties: "aligned by section"
                section = SequenceMatcher(None, last_heading(a.section), last_heading(b.section)).ratio()
                scored.append((ratio + 0.1 * section, i, j))
    used_a, used_b, changes = set(), set(), []
    for _, i, j in sorted(scored, reverse=True):
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        a, b = fa[i], fb[j]
        if a.value != b.value:
            changes.append(NumberChange(b.subject if len(b.subject) <= len(a.subject) else a.subject,
                                        a.value + a.unit, b.value + b.unit, year_a, year_b, a.section, b.section, a.clause, b.clause))
    return sorted(changes, key=lambda c: (c.section_after, c.clause_after))


def last_heading(section: str) -> str:
    # "二、… > 1.学前教育公益普惠" → "学前教育公益普惠": numbering differs between years, words less so
    return re.sub(r"^[\d一二三四五六七八九十（）()．.、]+", "", section.split(" > ")[-1])


# ---------------------------------------------------------------- measures


def clauses(hits: list[Hit], min_chars: int) -> list[tuple[str, str]]:
    """(clause, section) pairs, each clause once."""
    seen, out = set(), []
    for hit in hits:
        for clause in re.split(r"[。；;！？!?\n，,]", hit.text):
            clause = clause.strip("：: ")
            if "|" in clause:  # a table row (from .docx/.html tables), not a measure
                continue
            if len(re.findall(r"[\u4e00-\u9fff]", clause)) >= min_chars and clause not in seen:
                seen.add(clause)
                out.append((clause, hit.section))
    return out


def bigrams(text: str) -> set[str]:
    text = re.sub(NUMBER, "#", text)
    return {text[i : i + 2] for i in range(len(text) - 1)}


def dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def aligned_pairs(hits_a: list[Hit], hits_b: list[Hit], index: LoadedIndex, config: CompareConfig) -> list[tuple[Hit, Hit]]:
    """Shown passages of two years that treat the same thing: the same section heading words, or
    passage vectors as close as a reworded measure. Preambles are general statements, not measures."""
    rows = {c.chunk_id: i for i, c in enumerate(index.chunks)}
    pairs = []
    for b in hits_b:
        best, best_score = None, 0.0
        for a in hits_a:
            if PREAMBLE in (a.section, b.section):
                continue
            heading = SequenceMatcher(None, last_heading(a.section), last_heading(b.section)).ratio()
            meaning = float(index.vectors[rows[a.chunk_id]].astype(np.float32) @ index.vectors[rows[b.chunk_id]])
            if heading >= config.same_heading or meaning >= config.same_meaning:
                score = heading + meaning
                if score > best_score:
                    best, best_score = a, score
        if best is not None:
            pairs.append((best, b))
    return pairs


def measure_changes(
    index: LoadedIndex, vectors: dict[str, np.ndarray], hits_a: list[Hit], hits_b: list[Hit], year_a: int, year_b: int,
    config: CompareConfig,
) -> list[MeasureChange]:
    """Clauses of aligned shown passages with no counterpart among the other year's related passages."""
    pairs = aligned_pairs(hits_a[: config.k], hits_b[: config.k], index, config)
    shown_a = clauses(unique(a for a, _ in pairs), config.min_clause_chars)
    shown_b = clauses(unique(b for _, b in pairs), config.min_clause_chars)
    all_a = [c for c, _ in clauses(hits_a, config.min_clause_chars)]
    all_b = [c for c, _ in clauses(hits_b, config.min_clause_chars)]
    if not (shown_a or shown_b) or not all_a or not all_b:
        return []

    def unmatched(shown: list[tuple[str, str]], others: list[str]) -> list[tuple[str, str]]:
        other_vectors = np.stack([vectors[c] for c in others])
        other_grams = [bigrams(c) for c in others]
        out = []
        for clause, section in shown:
            meaning = float(np.max(other_vectors @ vectors[clause]))
            wording = max(dice(bigrams(clause), g) for g in other_grams)
            if meaning < config.same_meaning and wording < config.same_wording:
                out.append((clause, section))
        return out

    changes = [MeasureChange("new", year_a, year_b, year_b, section, clause) for clause, section in unmatched(shown_b, all_a)]
    changes += [MeasureChange("dropped", year_a, year_b, year_a, section, clause) for clause, section in unmatched(shown_a, all_b)]
    return changes


def unique(hits) -> list[Hit]:
    seen, out = set(), []
    for hit in hits:
        if hit.chunk_id not in seen:
            seen.add(hit.chunk_id)
            out.append(hit)
    return out
