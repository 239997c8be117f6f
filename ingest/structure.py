"""Find the heading structure of a Chinese official document.

Levels, outermost first: 附件 / 第X编 / 第X章 / 第X节 / 第X条 / 一、 / （一） / 1. / （1） / ① / the
inline enumeration 一是…二是…. Regulations (办法, 条例, 规定, 细则) use 编/章/节/条; plans and notices use
一、 and below; either may end with 附件, whose headings start over.
Scrapes lose line breaks, so headings are found in running text: a heading must follow a sentence
boundary (or the end of its parent's title: "…党的建设1.认真抓好…", "第一章总则第一条为…"), and numbers
must run in order within their parent (a "1." opens a list, an "N." needs its "N-1." sibling). That
rejects look-alikes such as "第一、二期", "分别在1、2、4、20名以上" or "依照本办法第十二条规定".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from zhengce.ingest.records import Section

CN_DIGITS = "一二三四五六七八九十"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
PREAMBLE = "前言"

# A regulation's units, outermost first, with negative ranks so that 一、 and below keep theirs (0…5)
APPENDIX, PART, CHAPTER, SECTION, ARTICLE = -5, -4, -3, -2, -1
STATUTE_UNITS = {PART: "编", CHAPTER: "章", SECTION: "节", ARTICLE: "条"}
# 第一百零一条 and 第101条 both occur; the sequence check rejects a malformed numeral
STATUTE_NUMBER = rf"[{CN_DIGITS}百千零〇]{{1,8}}|\d{{1,4}}"
APPENDIX_PATTERN = rf"附件(?P<n>\d{{1,2}}|[{CN_DIGITS}]{{1,3}})?(?=[：:、.．\s]|$)"

# (rank, pattern): the number is group "n"
MARKERS: list[tuple[int, str]] = [
    (APPENDIX, APPENDIX_PATTERN),
    *((rank, rf"第(?P<n>{STATUTE_NUMBER}){unit}") for rank, unit in STATUTE_UNITS.items()),
    (0, rf"(?P<n>[{CN_DIGITS}]{{1,3}})、"),
    (1, rf"[（(](?P<n>[{CN_DIGITS}]{{1,3}})[）)]"),
    (2, r"(?P<n>\d{1,2})[\.．、](?=[^\d\s.．、])"),
    (3, r"[（(](?P<n>\d{1,2})[）)]"),
    (4, rf"(?P<n>[{CIRCLED}])"),
    (5, rf"(?P<n>[{CN_DIGITS}]{{1,3}})是(?=[^\s，,。；])"),
]
MARKER_RE = re.compile("|".join(f"(?P<m{i}>{pattern.replace('(?P<n>', f'(?P<n{i}>')})" for i, (_, pattern) in enumerate(MARKERS)))
BOUNDARY_BEFORE = set("。；！？：\n ") | {""}
# An inline enumeration item may also follow a semicolon or colon; numbered headings may not follow a colon
INLINE_BOUNDARY = set("。；！？：\n")
# Regulations are often indented with ideographic spaces ("　　第一条")
STATUTE_BOUNDARY = BOUNDARY_BEFORE - {"："} | {"\u3000", "\t"}
# A scrape glues the first chapter or article to the document's title: "…资金管理办法第一章总则"
STATUTE_TITLE_END_RE = re.compile(r"(?<!本)(?:办法|条例|规定|细则|规则|章程|准则)(?:[（(](?:试行|暂行)[）)])?$")
# Where a heading's title ends
TITLE_END_RE = {
    APPENDIX: re.compile(r"[。！？；\n]|(?:一、|[（(]一[）)]|1[\.．、])(?=\S)"),
    PART: re.compile(rf"[。！？；\n]|第(?:{STATUTE_NUMBER})[章节条]"),
    CHAPTER: re.compile(rf"[。！？；\n]|第(?:{STATUTE_NUMBER})[节条]"),
    SECTION: re.compile(rf"[。！？；\n]|第(?:{STATUTE_NUMBER})条"),
    0: re.compile(r"[。！？\n]|(?:（一）|[（(]一[）)]|1[\.．、])(?=\S)"),
    1: re.compile(r"[。！？\n]|1[\.．、](?=\S)"),
    2: re.compile(r"[。；！？：\n]"),
    3: re.compile(r"[。；！？：\n]"),
    4: re.compile(r"[。；！？：\n]"),
    5: re.compile(r"[。；！？：，\n]"),
}
MAX_TITLE = {APPENDIX: 40, PART: 30, CHAPTER: 30, SECTION: 30, 0: 60, 1: 60, 2: 50, 3: 50, 4: 50, 5: 30}
# a lone 第一条 or 第一节 is a phrase ("第一节课"): a regulation's first unit always has a second
SECOND_UNIT_RE = {rank: re.compile(rf"第(?:二|2){unit}") for rank, unit in STATUTE_UNITS.items()}
# Rendered titles of 附件 / 编 / 章 / 节: "附件1 申请表", "第一章 总则"
HEADING_LINE_RE = re.compile(rf"(?:第(?:{STATUTE_NUMBER})[编章节]|附件(?:\d{{1,2}}|[{CN_DIGITS}]{{1,3}})?)(?: |$)")
ARTICLE_RE = re.compile(rf"第(?:{STATUTE_NUMBER})条")
ITEM_RE = re.compile("|".join(re.sub(r"\(\?=[^)]*\)", "", pattern) for rank, pattern in MARKERS if rank >= 0).replace("(?P<n>", "(?:"))


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
    if len(token) > 3 or any(char in "百千零〇" for char in token):
        return large_number(token)
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


def large_number(token: str) -> int:
    """Article numbers beyond 九十九: 一百零一 → 101, 一百二十 → 120, 一千零五 → 1005."""
    total, digit = 0, 0
    for char in token:
        if char in "十百千":
            total += (digit or 1) * {"十": 10, "百": 100, "千": 1000}[char]
            digit = 0
        elif char not in "零〇":
            digit = CN_DIGITS.index(char) + 1
    return total + digit


def is_article(heading: str) -> bool:
    """第X条: a regulation's article, cited on its own (its heading has no title)."""
    return ARTICLE_RE.fullmatch(heading) is not None


def is_bare_item(heading: str) -> bool:
    """An item of an article ("（一）", "1."): a marker alone, its clause is the body."""
    return ITEM_RE.fullmatch(heading) is not None


def find_headings(text: str) -> list[Heading]:
    headings: list[Heading] = []
    open_stack: list[Heading] = []  # the path to the current position, ranks strictly increasing
    title_ends: set[int] = set()  # positions right after a heading title: boundaries for sub-headings
    appendices = appendix_starts(text)
    scope = 0  # headings[scope:] are those since the last 附件: an appendix numbers its headings afresh
    for match in MARKER_RE.finditer(text):
        index = next(i for i in range(len(MARKERS)) if match.group(f"m{i}") is not None)
        rank, token = MARKERS[index][0], match.group(f"n{index}")
        number = to_number(token) if token else 0
        start = match.start()
        if headings and start < headings[-1].body_start:
            continue  # inside the previous heading's title
        if rank == APPENDIX:
            if start not in appendices or main_body_continues(text, match.end(), headings[scope:], open_stack, appendices):
                continue
        elif rank < 0:
            if not statute_fits(text, start, rank, number, headings[scope:], open_stack, title_ends):
                continue
        else:
            before = text[start - 1] if start > 0 else ""
            allowed = INLINE_BOUNDARY if rank == 5 else BOUNDARY_BEFORE - {"："}
            if before not in allowed and start not in title_ends and start != 0:
                continue
            if not fits_sequence(open_stack, rank, number):
                continue
        # an article and its items (（一）…；) are clauses with no title of their own
        bare = rank == ARTICLE or rank >= 0 and any(h.rank == ARTICLE for h in open_stack)
        if bare:
            heading = Heading(rank, number, start, match.end(), match.end(), match.group(0))
        elif rank >= 0:
            heading = read_heading(text, match, rank, number)
        else:
            heading = read_statute_heading(text, match, rank, number)
        while open_stack and open_stack[-1].rank >= rank:
            open_stack.pop()
        open_stack.append(heading)
        headings.append(heading)
        if rank == APPENDIX:
            scope = len(headings)
        if not bare:  # "第九条一、二年级学生…" is the article's text, not a list
            title_ends.add(heading.title_end)
            title_ends.add(heading.body_start)
    return headings


def fits_sequence(open_stack: list[Heading], rank: int, number: int) -> bool:
    """A heading continues its sibling list (N after N-1) or opens a new, deeper list (1)."""
    same_rank = [h for h in open_stack if h.rank == rank]
    if number == 1:
        return not same_rank
    return bool(same_rank) and same_rank[-1].number == number - 1


def statute_fits(text: str, start: int, rank: int, number: int, scope: list[Heading], open_stack: list[Heading], title_ends: set[int]) -> bool:
    """第X编/章/节/条 starts a line or follows a sentence or its parent's title, and continues the numbering.

    Articles (and chapters) are numbered through the whole document, so 第六条 continues 第五条 of the
    previous chapter; 节 (and 章 under 编) start again at 1 under a new parent.
    """
    before = text[start - 1] if start > 0 else ""
    last = next((h.number for h in reversed(scope) if h.rank == rank), 0)
    if number == 1 and not last and STATUTE_TITLE_END_RE.search(text, max(0, start - 12), start):
        pass  # "…资金管理办法第一章总则": the title's line break was lost
    elif before not in STATUTE_BOUNDARY and start not in title_ends:
        return False
    if number != last + 1 and not (number == 1 and rank != ARTICLE and all(h.rank != rank for h in open_stack)):
        return False
    return number != 1 or SECOND_UNIT_RE[rank].search(text, start) is not None


def appendix_starts(text: str) -> set[int]:
    """Where appendices begin: an 附件 line. The main text often lists its attachments first ("附件：1.申请表"
    or "附件1：申请表"), then each one follows under its own 附件 line: a mention that a later one repeats
    (the same number, or any after an unnumbered list) is the list, not an appendix."""
    found: list[tuple[int, int]] = []  # (start, number; 0 when unnumbered)
    for match in re.finditer(APPENDIX_PATTERN, text):
        start, after = match.start(), text[match.end() : match.end() + 1]
        line_start = text[text.rfind("\n", 0, start) + 1 : start].strip() == ""
        # a scrape that lost its line breaks: "…考核。附件1：…" (a bare "。附件" may be running text)
        glued = start > 0 and text[start - 1] in "。！？" and (match.group("n") or after in "：:")
        if line_start or glued:
            found.append((start, to_number(match.group("n")) if match.group("n") else 0))
    starts = set()
    for i, (start, number) in enumerate(found):
        later = {n for _, n in found[i + 1 :]}
        if not later or (number and number not in later):
            starts.add(start)
    return starts


def main_body_continues(text: str, pos: int, scope: list[Heading], open_stack: list[Heading], appendices: set[int]) -> bool:
    """An 附件 line is not an appendix when the main body's numbering goes on after it (before the next
    appendix): the next 一、 at a line start is 三、 after 二、, or the next article follows the last one."""
    end = min((s for s in appendices if s >= pos), default=len(text))
    last_article = next((h for h in reversed(scope) if h.rank == ARTICLE), None)
    outers = [h for h in (*open_stack[:1], last_article) if h is not None]
    return any(next_at_line_start(text, pos, end, outer.rank) == outer.number + 1 for outer in outers)


def next_at_line_start(text: str, pos: int, end: int, rank: int) -> int | None:
    """The number of the first heading of this rank that starts a line in text[pos:end]."""
    for match in MARKER_RE.finditer(text, pos, end):
        index = next(i for i in range(len(MARKERS)) if match.group(f"m{i}") is not None)
        if MARKERS[index][0] == rank and text[match.start() - 1] == "\n":
            return to_number(match.group(f"n{index}") or "")
    return None


def read_heading(text: str, match: re.Match, rank: int, number: int) -> Heading:
    title_start = match.end() if rank != 5 else match.start()
    limit = title_start + MAX_TITLE[rank]
    end_match = TITLE_END_RE[rank].search(text, title_start, limit + 1)
    if end_match is None:
        # No punctuation close enough: an enumerated paragraph, not a titled heading ("（三）全日制博士研究生
        # …的，给予购房补贴30万元；…"). Its first clause names the section; the body keeps the whole
        # paragraph, so the passage that is indexed and quoted holds the complete sentence.
        comma = re.compile(r"[，,]").search(text, title_start, limit)
        title_end = comma.start() if comma else limit
        body_start = title_start
    else:
        title_end = end_match.start()
        closing = text[title_end] if title_end < len(text) else ""
        body_start = title_end + (1 if closing in "。；！？：，\n" else 0)
        comma = re.compile(r"[，,]").search(text, title_start, title_end)
        if rank in (1, 2, 3, 4) and closing == "。" and comma:
            # "（一）2022年度个人缴费标准为每人每年350元，财政补助标准为每人每年610元。": a sentence with
            # clauses is an enumerated paragraph, not a title; as a title it would leave its body empty
            # and its figures out of every passage. Its first clause names the section.
            title_end, body_start = comma.start(), title_start
    marker = text[match.start() : match.end()] if rank != 5 else ""
    title = (marker + text[title_start:title_end]).strip()
    return Heading(rank, number, match.start(), title_end, body_start, title)


def read_statute_heading(text: str, match: re.Match, rank: int, number: int) -> Heading:
    """"第一章　总则" → "第一章 总则"; "附件1：申请表" → "附件1 申请表"."""
    marker = match.group(0)
    title_start = match.end()
    while title_start < len(text) and text[title_start] in "：:、.． \t\u3000":
        title_start += 1
    limit = title_start + MAX_TITLE[rank]
    end_match = TITLE_END_RE[rank].search(text, title_start, limit + 1)
    if end_match is None and rank == APPENDIX:
        title_end = body_start = title_start  # a scrape: where "附件1：" ends its title is lost
    elif end_match is None:
        # no line end close enough: the title is the first clause
        comma = re.compile(r"[，,]").search(text, title_start, limit)
        title_end = comma.start() if comma else limit
        body_start = title_end + (1 if comma else 0)
    else:
        title_end = end_match.start()
        closing = text[title_end] if title_end < len(text) else ""
        body_start = title_end + (1 if closing in "。；！？：，\n" else 0)
    rest = text[title_start:title_end].strip()
    return Heading(rank, number, match.start(), title_end, body_start, f"{marker} {rest}" if rest else marker)


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


def untitled_marker(heading: str, body: str) -> str | None:
    """The numbering of a heading whose body repeats its text (an enumerated paragraph, read_heading),
    else None: "（三）全日制…的" with body "全日制…的，给予…" → "（三）"."""
    for cut in range(0, min(len(heading), 6)):
        if heading[cut:] and body.startswith(heading[cut:]):
            return heading[:cut]
    return None


def render_sections(sections: list[Section], front_matter: list[str], back_matter: list[str] = ()) -> str:
    """The cleaned text as people read it: front matter, one paragraph per section, back matter."""
    lines = list(front_matter)
    for section in sections:
        heading = section.heading
        if not heading:
            lines.append(section.body)
        elif not section.body:
            lines.append(heading)
        elif is_article(heading):
            lines.append(f"{heading}\u3000{section.body}")  # as regulations are printed
        elif (marker := untitled_marker(heading, section.body)) is not None:
            lines.append(marker + section.body)  # an enumerated paragraph: its body starts with its "title"
        elif heading[0] in CN_DIGITS and "、" in heading[:4] or HEADING_LINE_RE.match(heading):
            lines.append(f"{heading}\n{section.body}")  # 一、…, 第一章 …, 附件: a line of their own
        elif is_bare_item(heading):
            lines.append(heading + section.body)  # an article's item: "（一）" and its clause
        else:
            # 1.… and 一是… items read as sentences: keep the heading sentence and its body together
            lines.append(f"{heading}。{section.body}")
    lines += back_matter
    return "\n".join(line for line in lines if line)
