"""What a question is about beyond its words: the years and places it names, matched against the
documents of the index, and the ones it names that the collection does not have.

    question_scope("2016年泉州市幼儿园计划招生多少人", index.years, index.places)
      → Scope(years={2016}, places={"泉州市"}) when both are indexed,
        Scope(unknown_years=(2016,), unknown_places=("泉州市",)) when no document is of 2016 or about 泉州市

A document's places come from its title and issuers (临澜市2019年教育工作要点 → 临澜市; 东川省教育厅 → 东川省).
A question names an indexed place by its full name or its name without 市/县/省 (临澜). Search prefers the
named year and place (index/search.py); the no-answer verdict refuses a question whose named year or
place the collection lacks, unless the passages themselves mention it (index/answerable.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from zhengce.ingest.clean import to_simplified

HAN_RE = re.compile(r"[\u3400-\u9fff]")
PLACE_RE = re.compile(r"(?:中共)?([\u4e00-\u9fff]{2,6}?(?:自治区|自治州|省|市|县|区|州|盟|旗))")
# a place the question names that may not be indexed: two or three characters before 省/市/县, none of
# them generic (全市, 各县市, 本县, 城市, 乡镇…), not an adjective of rank (省级, 市里, 县直); it counts when
# jieba tags it a place name (泉州市, 张掖市) or when a year or an office follows it (河源县2021年, 河源县教育局)
PLACE_SUFFIX_RE = re.compile(r"(?<=[\u4e00-\u9fff])(?:省|市|县)(?![级里内外委属直长场民])")
GENERIC_PLACE_CHARS = set("各全本该此我外其每省市县区城乡镇村街道级域部大中小新老旧个在到为是有的和与向对从年")
OFFICE_AFTER_RE = re.compile(r"\d|人民政府|政府|教育局|教育厅|委员会")
# a document year: "2019年", "2019年度", "2019 年"; not a date ("2016年8月31日前出生") or a span's edge
DOC_YEAR_RE = re.compile(r"(?<![\d.])((?:19|20)\d{2})\s*(?:年度|年(?!\s*\d{1,2}\s*月)(?!底|末|前|后|以前|以后|之前|之后|起|至)|(?![\d.%％年]))")


@dataclass(frozen=True)
class Scope:
    years: frozenset[int] = frozenset()  # indexed years the question names
    places: frozenset[str] = frozenset()  # indexed places the question names (canonical: 临澜市)
    unknown_years: tuple[int, ...] = ()  # document years named that no indexed document has
    unknown_places: tuple[str, ...] = ()  # places named that no indexed document is about
    known_places: tuple[str, ...] = field(default=(), compare=False)  # for messages

    @property
    def named(self) -> bool:
        return bool(self.years or self.places)


def places_of(*texts: str) -> frozenset[str]:
    """The places at the start of a title or an issuer's name (simplified)."""
    found = set()
    for text in texts:
        match = PLACE_RE.match(to_simplified(text or ""))
        if match:
            found.add(match.group(1))
    return frozenset(found)


def document_places(document: dict) -> frozenset[str]:
    issuers = [document.get("issuer", "")] + (document.get("co_issuers") or "").split("、")
    return places_of(document.get("title", ""), *issuers)


def stem(place: str) -> str:
    for suffix in ("自治区", "自治州", "省", "市", "县", "区", "州", "盟", "旗"):
        if place.endswith(suffix) and len(place) - len(suffix) >= 2:
            return place[: -len(suffix)]
    return place


@lru_cache(maxsize=4096)
def pinyin(place: str) -> str:
    """临澜市 → "linlan": how an English question names a Chinese place."""
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(stem(place)))


def question_scope(question: str, known_years: set[int] | list[int], known_places: set[str] | frozenset[str]) -> Scope:
    text = to_simplified(question)
    years = {int(y) for y in DOC_YEAR_RE.findall(text)}
    places = {p for p in known_places if stem(p) in text}
    if not HAN_RE.search(text):  # "What was Linlan's 2021 target…"
        words = set(re.findall(r"[a-z]+", text.lower()))
        places |= {p for p in known_places if pinyin(p) in words}
    stems = {stem(p) for p in known_places}
    unknown_places = []
    for match in PLACE_SUFFIX_RE.finditer(text):
        for length in (3, 2):  # 张掖市 / 泉州市: the longest plausible name before the suffix
            start = match.start() - length
            prefix = text[max(0, start) : match.start()]
            if start < 0 or not re.fullmatch(r"[\u4e00-\u9fff]+", prefix) or any(c in GENERIC_PLACE_CHARS for c in prefix):
                continue
            name = prefix + match.group(0)
            if any(s in name or name in s for s in stems | set(known_places)):
                break
            if OFFICE_AFTER_RE.match(text, match.end()) or tagged_place(text, start, match.end()):
                unknown_places.append(name)
                break
    return Scope(
        years=frozenset(years & set(known_years)),
        places=frozenset(places),
        unknown_years=tuple(sorted(years - set(known_years))),
        unknown_places=tuple(dict.fromkeys(unknown_places)),
        known_places=tuple(sorted(known_places)),
    )


def without_places(query: str, places) -> str:
    """The query without the named places (and their short names); unchanged if nothing would be left."""
    text = query
    for place in sorted(places, key=len, reverse=True):
        for name in (place, stem(place)):
            text = re.sub("".join(f"[{c}{to_traditional(c)}]" for c in name), " ", text)
    text = re.sub(r"\s+", " ", text).strip(" 的")
    return text if re.search(r"[\u4e00-\u9fffA-Za-z]{2}", text) else query


@lru_cache(maxsize=1)
def traditionalizer():
    import opencc

    return opencc.OpenCC("s2t")


def to_traditional(char: str) -> str:
    """One simplified character's traditional form (县 → 縣), for matching a question written either way."""
    return traditionalizer().convert(char)


def without_scope(question: str, known_places) -> str:
    """The question's topic: its years and the indexed places it names taken out ("石桥县城乡居民医保缴费标准"
    → "城乡居民医保缴费标准"). Search has already preferred them, so they are no evidence that a passage
    is on the topic."""
    text = to_simplified(question)
    for place in sorted(known_places, key=len, reverse=True):
        text = text.replace(place, " ").replace(stem(place), " ")
    text = DOC_YEAR_RE.sub(" ", text)
    return text if re.search(r"[\u4e00-\u9fffA-Za-z]{2}", text) else question


def tagged_place(text: str, start: int, end: int) -> bool:
    """jieba's part-of-speech tagger calls a word overlapping text[start:end] a place name (ns)."""
    import jieba.posseg

    at = 0
    for word, flag in jieba.posseg.cut(text):
        if flag == "ns" and at < end and at + len(word) > start:
            return True
        at += len(word)
    return False


def prefer_scope(ranked: list[tuple[int, float]], row_years: list[int | None], row_places: list[frozenset[str]],
                 scope: Scope, k: int, row_text=lambda row: "") -> list[tuple[int, float]]:
    """Passages of documents matching everything the question names first, then those matching part of
    it, then the rest; each group in its original order. A passage that names the year or place itself
    matches too: a 2021 plan's "2022年春季学期" answers a question about spring 2022."""
    def fit(row: int) -> int:
        text = row_text(row)  # only the candidates' texts are read: a large index pays for k×3 rows
        year_ok = fits_years(text, row_years[row], scope.years)
        place_ok = not scope.places or bool(row_places[row] & scope.places) or any(stem(p) in text for p in scope.places)
        return 2 if year_ok and place_ok else 1 if (scope.years and year_ok) or (scope.places and place_ok) else 0

    return sorted(ranked, key=lambda item: -fit(item[0]))[:k]  # sorted() is stable


def fits_years(text: str, year: int | None, years) -> bool:
    """A passage answers for the named years when it names one of them itself ("2022年春季学期" in a 2021
    plan), or its document is of one of them and its figures are not for another time (other_period)."""
    return not years or any(f"{y}年" in text for y in years) or (year in years and not other_period(text, years))


TARGET_YEAR_RE = re.compile(r"(?:到|至|截至)\s*((?:19|20)\d{2})\s*年")
# a five-year plan's period as what the figures are about: “十三五”期间 / 十三五时期 / 十三五以来
FIVE_YEAR_PERIOD_RE = re.compile(r"十([一二三四五])五[”\"’']?(?:期间|时期|以来)")
FIVE_YEAR_PLANS = {"一": 2006, "二": 2011, "三": 2016, "四": 2021, "五": 2026}  # 十一五 = 2006–2010, …


def other_period(text: str, years) -> bool:
    """The passage's figures are for another time than the named years, though its document is of one of
    them: it sets them for another year ("到2025年建成…" in a 2021 plan) or reviews another five-year
    period ("“十三五”期间累计新增学位7.8万个" in the same plan). A question about 2021 is not answered by it."""
    if any(int(y) not in years for y in TARGET_YEAR_RE.findall(text)):
        return True
    for number in FIVE_YEAR_PERIOD_RE.findall(text):
        start = FIVE_YEAR_PLANS[number]
        if not any(start <= int(y) <= start + 4 for y in years):
            return True
    return False


def missing_scope(question: str, scope: Scope, passages: list[str]) -> list[str]:
    """What the question names that the collection lacks, unless the passages mention it themselves
    ("2016年8月31日前出生" asked of a 2022 notice that says so is answerable)."""
    text = to_simplified("\n".join(passages))
    missing = [f"{y}年" for y in scope.unknown_years if str(y) not in text]
    missing += [p for p in scope.unknown_places if stem(p) not in text]
    return missing


# Document kinds a question names to mean one document ("临澜市2022年教育工作要点的总体目标"). Not the bare
# words that are also everyday words (计划新增, 有什么办法, 意见, 规定, 方案).
NAMED_KIND_RE = re.compile(
    r"(?:工作要点|工作计划|行动计划|发展规划|实施方案|工作方案|实施意见|指导意见|管理办法|实施办法|实施细则|条例|纲要)"
)


def named_document(question: str, known_places) -> str:
    """The document a question names by its kind and the words just before it, without year or place:
    "临澜市2022年教育工作要点的总体目标是什么" → "教育工作要点"; "" when it names none."""
    topic = without_scope(question, known_places)
    match = NAMED_KIND_RE.search(topic)
    if not match:
        return ""
    before = re.search(r"[\u4e00-\u9fff]{0,2}$", topic[: match.start()]).group(0)
    return before.removeprefix("的") + match.group(0)


# administrative levels by name: a document applies to the places under its issuer, not to those beside or above
LEVELS = {"自治区": 0, "省": 0, "自治州": 1, "市": 1, "州": 1, "盟": 1, "县": 2, "区": 2, "旗": 2}


def level(place: str) -> int | None:
    return LEVELS.get(place[len(stem(place)):]) if stem(place) != place else None


def same_level(place: str, other: str) -> bool:
    """Two places of one administrative level (石桥县 and 青禾县): one's documents do not apply to the other."""
    return level(place) is not None and level(place) == level(other)


def not_above(place: str, named: str) -> bool:
    """place's documents do not apply to the named place: it is another place of the same or a lower level
    (青禾县 or 石桥县 for 临澜市). A province's or city's documents may apply to the places under it, so a
    higher level is not judged a mismatch. Levels come from the name (市 is one level, so a county-level
    city counts as a city)."""
    return place != named and level(place) is not None and level(named) is not None and level(place) >= level(named)


def lacking(question: str, index, hits, outside=None, place_margin: float = 0.035) -> list[str]:
    """Why the passages cannot answer what the question names, one phrase each (empty: nothing lacking):
    - a year or place no document has, unless the passages mention it (2016年8月31日前出生);
    - a year and place that no one document has together ("临澜市2020年…" when the collection has
      临澜市's 2019 and 2021 plans and other places' 2020 ones), unless a passage of that place's
      documents speaks of that year (a 2021 plan's review of 2020);
    - a document the question names by kind that the collection has for other years or places only
      ("临澜市2022年教育工作要点" when it holds the 2019, 2021 and 2023 ones);
    - the best passage is from a document of another year or place than the one named (石桥县医保 asked
      of a collection whose only 医保 document is 青禾县's), and does not mention the named one itself;
    - outside: the best passages for the question's topic with no year or place preferred. When the best
      of them is another place's of the same or a lower level (青禾县 for 石桥县, 石桥县 for 临澜市) and
      clearly closer (place_margin) than the named place's own best passage, the named place's documents
      do not speak of the topic.
    """
    scope = question_scope(question, index.years, index.places)
    passages = [f"{h.title} {h.text}" for h in hits]
    reasons = [f"收录的文件中没有{name}的文件" for name in missing_scope(question, scope, passages)]
    if reasons or not hits or not scope.named:
        return reasons
    places = index.doc_places
    in_scope = lambda d: ((not scope.years or d.get("year") in scope.years)
                          and (not scope.places or bool(places.get(d["doc_id"], frozenset()) & scope.places)))
    together = [d for d in index.documents if in_scope(d)]
    named = "".join(sorted(scope.places)) + "".join(f"{y}年" for y in sorted(scope.years))
    if not together:
        of_place = [to_simplified(h.text) for h in hits if places.get(h.doc_id, frozenset()) & scope.places]
        if not (scope.places and scope.years and any(f"{y}年" in text for y in scope.years for text in of_place)):
            return [f"收录的文件中没有{named}的文件"]
    document = named_document(question, index.places)
    if document:
        with_kind = [d for d in index.documents if document in to_simplified(d.get("title", ""))]
        if with_kind and not any(in_scope(d) for d in with_kind):
            return [f"收录的文件中没有{named}的{document}"]
    top = hits[0]
    text = to_simplified(f"{top.title} {top.text}")
    wrong_year = scope.years and top.year not in scope.years and not any(str(y) in text for y in scope.years)
    top_places = places.get(top.doc_id, frozenset())
    wrong_place = scope.places and not top_places & scope.places and not any(stem(p) in text for p in scope.places)
    if wrong_year or wrong_place:
        reasons.append(f"最接近的段落出自《{top.title}》，不是{named}的文件")
    elif scope.places and outside and top.dense_score is not None and outside[0].dense_score is not None:
        best = outside[0]
        sibling = [p for p in places.get(best.doc_id, frozenset()) if all(not_above(p, q) for q in scope.places)]
        own = max((h.dense_score for h in hits if h.dense_score is not None and places.get(h.doc_id, frozenset()) & scope.places), default=None)
        if sibling and own is not None and best.dense_score - own >= place_margin:
            reasons.append(f"{''.join(sorted(scope.places))}的文件中没有相关内容，最接近的段落出自《{best.title}》")
    return reasons
