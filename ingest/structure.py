"""Find the heading structure of a Chinese official document.

Levels, outermost first: 一、 / （一） / 1. / （1） / ① / the inline enumeration 一是…二是….
Scrapes lose line breaks, so headings are found in running text: a heading must follow a sentence
boundary (or the end of its parent's title: "…党的建设1.认真抓好…"), and numbers must run in order
within their parent (a "1." opens a list, an "N." needs its "N-1." sibling). That rejects look-alikes
such as "第一、二期" or "分别在1、2、4、20名以上".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from zhengce.ingest.records import Section

CN_DIGITS = "一二三四五六七八九十"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
PREAMBLE = "前言"

# (rank, pattern): the number is group "n"
MARKERS: list[tuple[int, str]] = [
    (0, rf"(?P<n>[{CN_DIGITS}]{{1,3}})、"),
    (1, rf"[（(](?P<n>[{CN_DIGITS}]{{1,3}})[）)]"),
    (2, r"(?P<n>\d{1,2})[\.．、](?=[^\d\s.．、])"),
    (3, r"[（(](?P<n>\d{1,2})[）)]"),
    (4, rf"(?P<n>[{CIRCLED}])"),
    (5, rf"(?P<n>[{CN_DIGITS}]{{1,3}})是(?=[^\s，,。；])"),
]
MARKER_RE = re.compile("|".join(f"(?P<m{rank}>{pattern.replace('(?P<n>', f'(?P<n{rank}>')})" for rank, pattern in MARKERS))
BOUNDARY_BEFORE = set("。；！？：\n ") | {""}
# An inline enumeration item may also follow a semicolon or colon; numbered headings may not follow a colon
INLINE_BOUNDARY = set("。；！？：\n")
# Where a heading's title ends
TITLE_END_RE = {
    0: re.compile(r"[。！？\n]|(?:（一）|[（(]一[）)]|1[\.．、])(?=\S)"),
    1: re.compile(r"[。！？\n]|1[\.．、](?=\S)"),
    2: re.compile(r"[。；！？：\n]"),
    3: re.compile(r"[。；！？：\n]"),
    4: re.compile(r"[。；！？：\n]"),
    5: re.compile(r"[。；！？：，\n]"),
}
MAX_TITLE = {0: 60, 1: 60, 2: 50, 3: 50, 4: 50, 5: 30}


@dataclass(frozen=True)
class Heading:
    rank: int
    number: int
    start: int  # where the marker starts
    title_end: int  # where the title text ends (exclusive)
    body_start: int  # where the body starts (after the title's closing punctuation)
    title: str


def to_number(token: str) -> int:
    if token in CIRCLED:  # before isdigit(): "①".isdigit() is True
        return CIRCLED.index(token) + 1
    if token.isdecimal():
        return int(token)
    # Chinese numerals up to 九十九
    if token == "十":
        return 10
    if token.startswith("十"):
        return 10 + CN_DIGITS.index(token[1]) + 1
    if token.endswith("十"):
        return (CN_DIGITS.index(token[0]) + 1) * 10
    if "十" in token:
        tens, ones = token.split("十")
        return (CN_DIGITS.index(tens) + 1) * 10 + CN_DIGITS.index(ones) + 1
    return CN_DIGITS.index(token) + 1 if len(token) == 1 else -1


def find_headings(text: str) -> list[Heading]:
    headings: list[Heading] = []
    open_stack: list[Heading] = []  # the path to the current position, ranks strictly increasing
    title_ends: set[int] = set()  # positions right after a heading title: boundaries for sub-headings
    for match in MARKER_RE.finditer(text):
        rank = next(r for r, _ in MARKERS if match.group(f"m{r}") is not None)
        number = to_number(match.group(f"n{rank}"))
        start = match.start()
        before = text[start - 1] if start > 0 else ""
        allowed = INLINE_BOUNDARY if rank == 5 else BOUNDARY_BEFORE - {"："}
        if headings and start < headings[-1].body_start:
            continue  # inside the previous heading's title
        if before not in allowed and start not in title_ends and start != 0:
            continue
        if not fits_sequence(open_stack, rank, number):
            continue
        heading = read_heading(text, match, rank, number)
        while open_stack and open_stack[-1].rank >= rank:
            open_stack.pop()
        open_stack.append(heading)
        headings.append(heading)
        title_ends.add(heading.title_end)
        title_ends.add(heading.body_start)
    return headings


def fits_sequence(open_stack: list[Heading], rank: int, number: int) -> bool:
    """A heading continues its sibling list (N after N-1) or opens a new, deeper list (1)."""
    same_rank = [h for h in open_stack if h.rank == rank]
    if number == 1:
        return not same_rank
    return bool(same_rank) and same_rank[-1].number == number - 1


def read_heading(text: str, match: re.Match, rank: int, number: int) -> Heading:
    title_start = match.end() if rank != 5 else match.start()
    limit = title_start + MAX_TITLE[rank]
    end_match = TITLE_END_RE[rank].search(text, title_start, limit + 1)
    if end_match is None:
        # no punctuation close enough: the title is the first clause
        comma = re.compile(r"[，,]").search(text, title_start, limit)
        title_end = comma.start() if comma else limit
        body_start = title_end + (1 if comma else 0)
    else:
        title_end = end_match.start()
        closing = text[title_end] if title_end < len(text) else ""
        body_start = title_end + (1 if closing in "。；！？：，\n" else 0)
    marker = text[match.start() : match.end()] if rank != 5 else ""
    title = (marker + text[title_start:title_end]).strip()
    return Heading(rank, number, match.start(), title_end, body_start, title)


def parse_sections(text: str) -> list[Section]:
    """Split cleaned text into sections, each with its full heading path."""
    headings = find_headings(text)
    sections: list[Section] = []
    preamble = text[: headings[0].start if headings else len(text)].strip()
    if preamble:
        sections.append(Section(path=(PREAMBLE,), heading="", body=preamble))
    stack: list[Heading] = []
    for i, heading in enumerate(headings):
        while stack and stack[-1].rank >= heading.rank:
            stack.pop()
        stack.append(heading)
        end = headings[i + 1].start if i + 1 < len(headings) else len(text)
        body = text[heading.body_start : end].strip()
        sections.append(Section(path=tuple(h.title for h in stack), heading=heading.title, body=body))
    return sections


def render_sections(sections: list[Section], front_matter: list[str]) -> str:
    """The cleaned text as people read it: front matter, then one paragraph per section."""
    lines = list(front_matter)
    for section in sections:
        if not section.heading:
            lines.append(section.body)
        elif section.body:
            joiner = "\n" if section.heading[0] in CN_DIGITS and "、" in section.heading[:4] else ""
            # 一是… items read as sentences: keep the heading sentence and its body together
            head = section.heading + ("" if joiner else "。")
            lines.append(f"{section.heading}\n{section.body}" if joiner else head + section.body)
        else:
            lines.append(section.heading)
    return "\n".join(line for line in lines if line)
