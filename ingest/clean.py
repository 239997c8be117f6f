"""Turn raw text (often a scrape from a document-sharing site) into clean, readable Chinese text.

The rules come from real scrapes such as corpus/晋江2018年教育工作要点.txt: the site wraps the document in
upload info, page thumbnails and a footer; its scraper cuts the text into segments that start with
"\\n\\nN、" (often in the middle of a word), and page numbers of the original land inside sentences.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Characters that make up Chinese running text: CJK ideographs plus full-width and CJK punctuation
# (quotes included, because scrapes put stray spaces around “ ”).
CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_PUNCT = r"\u3000-\u303f\uff01-\uff60\u2018\u2019\u201c\u201d\u2026\u2014\u00b7"
CJK_CLASS = f"[{CJK}{CJK_PUNCT}]"
SPACE = r"[ \t\u00a0\u3000]"

# Whole lines that the sharing site adds around the document.
BOILERPLATE_LINES = [
    r".*\.(?:doc|docx|pdf|wps|txt)(?:_第\d+页)?",  # file-name title and page thumbnails
    r"上传人[:：].*",
    r"下载\s*相关\s*举报",
    r"第\s*\d+\s*页\s*/\s*共\s*\d+\s*页",
    r"点击查看更多.*",
    r"资源描述",
    r"展开阅读全文",
    r"相关资源",
    r"相关搜索",
    r"当前位置[:：].*",
    r"copyright.*",
    r".*icp备.*",
    r".*(?:公网安备|公安局备案).*",
    r"本站为.*(?:平台|下载用户).*",
]
BOILERPLATE_RE = re.compile("|".join(f"(?:{p})" for p in BOILERPLATE_LINES), re.IGNORECASE)

# A page number is followed by text, never by a measure word or unit: "有 3 名" keeps its 3.
UNIT_AFTER_NUMBER = set("名个所年月日号%％万亿千百元米顷期届项次人家条天岁级批层件场间座台套点倍分秒位多余周")
SEGMENT_MARKER_RE = re.compile(r"\n{2,}[ \t]*(\d{1,4})、[ \t]?")


def clean_text(raw: str) -> str:
    """Clean any document's text; scrape-specific repairs run only when the scrape is recognised."""
    text = raw.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    scraped = is_segmented_scrape(text)
    text = keep_document_body(text)
    text = drop_boilerplate_lines(text)
    if scraped:
        text = join_scrape_segments(text)
        text = remove_page_numbers(text)
    text = remove_spaces_in_chinese(text)
    text = to_fullwidth_punctuation(text)
    return tidy_lines(text)


def is_segmented_scrape(text: str) -> bool:
    """The sharing site's scraper numbers its segments 1、2、3… after blank lines, cutting words in half."""
    numbers = [int(m.group(1)) for m in re.finditer(r"(?:^|\n{2,})[ \t]*(\d{1,4})、", text)]
    if len(numbers) < 3:
        return False
    consecutive = sum(1 for a, b in zip(numbers, numbers[1:]) if b == a + 1)
    return consecutive >= 0.8 * (len(numbers) - 1) and ("资源描述" in text or "上传人" in text or consecutive >= 5)


def keep_document_body(text: str) -> str:
    """Keep what lies between the site's "资源描述" header and its "展开阅读全文" footer, when both exist."""
    start = text.find("资源描述")
    end = text.rfind("展开阅读全文")
    if start != -1 and end > start:
        return text[start + len("资源描述") : end]
    return text


def drop_boilerplate_lines(text: str) -> str:
    lines = [line for line in text.split("\n") if not BOILERPLATE_RE.fullmatch(line.strip())]
    return "\n".join(lines)


def join_scrape_segments(text: str) -> str:
    """Remove the "\\n\\nN、" segment markers and glue the halves: "陈埭民\\n\\n16、族中学" → "陈埭民族中学"."""
    text = re.sub(r"^\s*1、[ \t]?", "", text)
    return SEGMENT_MARKER_RE.sub("", text)


def remove_page_numbers(text: str) -> str:
    """Drop the original's page numbers (1, 2, 3… in order) that landed between spaces inside sentences.

    A candidate is a bare number between spaces whose value is the next expected page number and that
    is not followed by a unit ("选聘 35 名" keeps its 35, "有 3 名" its 3).
    """
    out: list[str] = []
    expected = 1
    last = 0
    for match in re.finditer(rf"(?:(?<={SPACE})|^)(\d{{1,3}})(?={SPACE}+(\S))", text):
        number, next_char = int(match.group(1)), match.group(2)
        if number == expected and next_char not in UNIT_AFTER_NUMBER:
            out.append(text[last : match.start()])
            last = match.end()
            expected += 1
        elif number == expected + 1 and next_char not in UNIT_AFTER_NUMBER and expected > 1:
            # a page whose number fell into a cut we could not see: accept the next one
            out.append(text[last : match.start()])
            last = match.end()
            expected += 2
    out.append(text[last:])
    return "".join(out)


def remove_spaces_in_chinese(text: str) -> str:
    """Spaces next to Chinese text are scraping noise ("三会一 课", "约 3.86 万个"); between Latin words they stay."""
    text = re.sub(rf"{SPACE}+(?={CJK_CLASS})", "", text)
    text = re.sub(rf"(?<={CJK_CLASS}){SPACE}+", "", text)
    return text


HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}


def to_fullwidth_punctuation(text: str) -> str:
    """Scrapes turn Chinese punctuation half-width ("2018年,全市"); restore it next to Chinese characters."""
    text = re.sub(
        rf"(?<=[{CJK}{CJK_PUNCT}])[,;:?!]|[,;:?!](?=[{CJK}])",
        lambda m: HALF_TO_FULL[m.group(0)],
        text,
    )
    # "各镇(街道)" → "各镇（街道）" when the parentheses touch or hold Chinese text
    def full_parens(m: re.Match) -> str:
        inner = m.group(1)
        before = text[m.start() - 1] if m.start() > 0 else ""
        if re.search(f"[{CJK}]", inner) or re.fullmatch(f"[{CJK}]", before):
            return f"（{inner}）"
        return m.group(0)

    return re.sub(r"\(([^()\n]{0,60})\)", full_parens, text)


def tidy_lines(text: str) -> str:
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def normalize_for_index(text: str) -> str:
    """What keyword search compares: full-width → half-width (NFKC), simplified characters, lower case.
    Never shown to people: passages stay in the script they were written in."""
    return to_simplified(unicodedata.normalize("NFKC", text)).lower()


@lru_cache(maxsize=1)
def simplifier():
    """OpenCC's t2s converter, built once (it loads its dictionaries; converting is then fast)."""
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """學校 → 学校, so that a simplified question finds a traditional (Taiwan, Hong Kong, older) document
    and the other way round. OpenCC converts by phrase, not by character: 乾燥 → 干燥 but 乾隆 stays."""
    try:
        return simplifier().convert(text)
    except UnicodeEncodeError:  # a lone surrogate (possible in a pasted query) cannot reach the C++ library
        return simplifier().convert(text.encode("utf-8", "replace").decode("utf-8"))
