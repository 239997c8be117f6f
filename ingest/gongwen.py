"""What an official document (公文) says about itself, and what a government web page says around it.

    read_gongwen(cleaned_text) → Gongwen: title, notice title, issuer(s), date, 文号, document type,
                                 and the text split into front matter / 印发通知 / body / 落款 and 版记

Real pages put these in many places, so each field has several sources, in order of trust:
- title: the first title-like line (one ending in 要点/计划/意见/办法/…), joined with the next line when
  a long title is broken over two; behind a 红头 header ("××人民政府办公室文件") or a 文号 line. A
  印发通知 ("关于印发《X》的通知") wraps the document X: its title is X, the notice's title is kept apart,
  and the notice (salutation, the "现印发给你们" paragraph, its 落款) becomes its own section.
- issuer: the 落款 at the end (one or several bodies above the date), the 红头 header, the line under the
  title (晋江市教育局 / （2018年3月）), the page's 发布机构/来源 field.
- date: the page's 成文日期, the 落款 date, the "（2018年3月）" under the title, the page's 发布日期/时间.
- 文号: a line of its own (石政办〔2020〕15号) or the page's 发文字号 field.
Page-metadata lines (来源：… 时间：… 浏览量：, 索引号/发文字号 tables, "•发文字号" labels without values)
become fields, never passages; so do scan residue ("- 1 -", "20203") and the 版记 (抄送, "…印发").
Matching is done on a simplified copy of each line (意見 = 意见); what is kept is the text as written.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from zhengce.ingest.clean import to_simplified



# Document types, longest first, as the end of a title; what counts as the type when one ends the title
TYPE_WORDS = [
    ("工作要点", "要点"), ("要点", "要点"), ("工作计划", "计划"), ("行动计划", "计划"), ("计划", "计划"),
    ("发展规划", "规划"), ("规划", "规划"), ("实施方案", "方案"), ("工作方案", "方案"), ("方案", "方案"),
    ("实施意见", "意见"), ("指导意见", "意见"), ("意见", "意见"), ("管理办法", "办法"), ("实施办法", "办法"),
    ("办法", "办法"), ("实施细则", "细则"), ("细则", "细则"), ("规定", "规定"), ("条例", "条例"), ("决定", "决定"),
    ("纲要", "纲要"), ("通知", "通知"), ("通告", "通告"), ("公告", "公告"), ("报告", "报告"), ("总结", "总结"),
    ("批复", "批复"), ("意见书", "意见"), ("函", "函"),
]
TYPE_ALTERNATION = "|".join(re.escape(word) for word, _ in TYPE_WORDS)
TITLE_TAIL = r"(?:[（(](?:试行|暂行|修订|修订稿|征求意见稿|草案)[）)])?"
TITLE_LINE_RE = re.compile(rf"^[^。；！？]{{4,80}}?(?:{TYPE_ALTERNATION}){TITLE_TAIL}$")
NOTICE_RE = re.compile(r"关于(?:印发|转发|下发|发布)(?:《)?(?P<inner>.+?)(?:》)?(?:的)?通知$")
# the scrape form: title, issuer and date glued on one line ("晋江市2018年教育工作要点晋江市教育局（2018年3月）…")
GLUED_TITLE_RE = re.compile(rf"^(.{{2,40}}?(?:{TYPE_ALTERNATION}))")

ORG_SUFFIX = (
    r"(?:人民政府办公室|人民政府办公厅|人民政府|工作委员会|委员会|办公室|办公厅|领导小组|"
    r"保障局|教育局|教育厅|教育部|财政局|财政厅|局|厅|委|部|院|署|会|中心|所)"
)
ORG_RE = re.compile(rf"^(?:中共)?[\u4e00-\u9fff（）()“”]{{2,30}}?{ORG_SUFFIX}$")
PLACE_RE = re.compile(r"^(?:中共)?([\u4e00-\u9fff]{1,7}?(?:自治区|自治州|省|市|县|区|州|盟|旗))")
ISSUER_PREFIX_RE = re.compile(rf"^([\u4e00-\u9fff]{{2,16}}?(?:人民政府办公室|人民政府|教育局|教育厅|教育部|委员会|办公室|办公厅|局|厅|委|部))")
HEADER_RE = re.compile(r"^(?P<org>[\u4e00-\u9fff（）()]{2,40}?)文件$")
DOC_NUMBER = r"[\u4e00-\u9fff]{1,10}[〔\[【［(（]\s*(?:19|20)\d{2}\s*[〕\]】］)）]\s*第?\s*\d{1,4}\s*号"
DOC_NUMBER_RE = re.compile(DOC_NUMBER)
DATE_CN_RE = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?")
DATE_ISO_RE = re.compile(r"((?:19|20)\d{2})\s*[-/.]\s*(\d{1,2})(?:\s*[-/.]\s*(\d{1,2}))?")
DATE_LINE_RE = re.compile(r"^(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日$")
UNDER_TITLE_DATE_RE = re.compile(r"^[（(]\s*((\d{4})\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)\s*[）)]")
SALUTATION_RE = re.compile(r"^各[^。！？]{1,80}[：:]$")

# Labels of the metadata a government page shows around a document (信息公开 tables, the line under the
# title). Longest first, so 发布日期 wins over 日期. Spaces inside labels ("索 引 号") are ignored.
PAGE_LABELS = {
    "成文日期": "date_written", "印发日期": "date_written",
    "发布日期": "date_published", "发布时间": "date_published", "公开日期": "date_published",
    "更新时间": "date_published", "时间": "date_published", "日期": "date_published",
    "发布机构": "issuer", "发文机关": "issuer", "发文单位": "issuer", "发布单位": "issuer",
    "所属机构": "issuer", "信息来源": "issuer", "文章来源": "issuer", "来源": "issuer",
    "发文字号": "doc_number", "文号": "doc_number",
    "索引号": "", "主题分类": "", "主题词": "", "体裁分类": "", "组配分类": "", "服务对象": "", "分类": "",
    "名称": "", "标题": "", "有效性": "", "生效日期": "", "失效日期": "", "废止日期": "", "公开方式": "",
    "公开范围": "", "浏览量": "", "浏览次数": "", "点击数": "", "点击量": "", "阅读数": "", "访问量": "",
    "作者": "", "编辑": "", "责任编辑": "", "字号": "", "字体": "", "打印": "", "关闭": "",
}
LABEL_RE = re.compile("|".join(sorted(PAGE_LABELS, key=len, reverse=True)))
LABEL_AT_RE = re.compile(rf"({LABEL_RE.pattern})\s*[：:]")
# Lines that are neither text nor metadata: scan residue, share widgets, 版记
JUNK_LINE_RE = re.compile(
    r"^(?:[-—–]\s*\d{1,3}\s*[-—–]|\d{1,8}|第\s*\d+\s*页|[|\s:：-]+|（此件[^）]{0,12}）|\(此件[^)]{0,12}\)|"
    r"扫一扫[^。]{0,20}|分享到[^。]{0,30}|【?打印本页】?|【?关闭窗口】?|字体[：:]?\s*【?大\s*中\s*小】?.{0,20}|"
    r"[【\[]\s*大\s*中\s*小\s*[】\]].{0,20})$"
)
RECORD_LINE_RE = re.compile(r"^(?:抄送|抄报|主送)[：:]|印发$|^(?:19|20)\d{2}年\d{1,2}月\d{1,2}日印发$")


@dataclass
class Gongwen:
    title: str = ""
    notice_title: str = ""
    issuers: list[str] = field(default_factory=list)  # main issuer first
    date: str = ""  # "2020年3月6日" (or "2018年3月" when the day is not given)
    doc_number: str = ""
    doc_type: str = ""
    page: dict[str, str] = field(default_factory=dict)  # fields read from page-metadata lines
    front: list[str] = field(default_factory=list)  # lines shown above the body, not indexed
    notice: str = ""  # the 印发通知's text (salutation, notice, its 落款): its own section
    body: str = ""  # what the structure parser splits into sections
    back: list[str] = field(default_factory=list)  # 落款 and 版记, shown after the body, not indexed

    @property
    def issuer(self) -> str:
        return self.issuers[0] if self.issuers else ""


def simple(line: str) -> str:
    return to_simplified(line).replace(" ", "").replace("\u3000", "")


def read_gongwen(text: str, title_hint: str = "", issuer_hint: str = "") -> Gongwen:
    """Split cleaned text into the document's metadata and its parts. title_hint / issuer_hint: what a
    catalog entry says, matched at the top of a scrape whose first lines run together."""
    doc = Gongwen()
    lines = [line.strip() for line in text.split("\n")]
    lines = take_page_metadata([line for line in lines if line], doc)
    head, body_lines = read_head(lines, doc, title_hint, issuer_hint)
    body_lines = take_signature(body_lines, doc)
    doc.front = head
    doc.body = "\n".join(body_lines)
    settle_fields(doc)
    return doc


# ---------------------------------------------------------------- page metadata and junk


def page_fields(line: str) -> dict[str, str] | None:
    """The label: value pairs of a page-metadata line, or None when the line is text.

    "来源：临澜市教育局　时间：2019-03-05 10:12　浏览量：2137" → {issuer, date_published};
    "|发布机构：|临澜市教育局|成文日期：| 2023-02-20 |" → {issuer, date_written}; "•发文字号" → {}.
    """
    plain = re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff][\u4e00-\u9fff]?\s*[：:])", "", line)  # 索 引 号：
    plain = re.sub(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])", "", plain)
    stripped = plain.lstrip("|•·*- \u3000")
    if "。" in stripped:
        return None
    simplified = to_simplified(stripped)  # 發布日期 → 发布日期; one character for one, so positions agree
    if len(simplified) == len(stripped):
        stripped = simplified
    label = LABEL_RE.match(stripped)
    if not label:
        return None
    rest = stripped[label.end():].lstrip()
    if not rest or rest[0] in "|•·":  # a bare label ("•发文字号") or a table cell
        if not LABEL_AT_RE.search(stripped):
            return {}
    elif rest[0] not in "：:":
        return None
    found: dict[str, str] = {}
    matches = list(LABEL_AT_RE.finditer(stripped))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(stripped)
        value = re.sub(r"[|【】\[\]]|大\s*中\s*小|打印|关闭", " ", stripped[match.end():end]).strip(" |\u3000\t")
        key = PAGE_LABELS[match.group(1)]
        if key and value and value not in ("无", "—", "-") and key not in found:
            found[key] = re.sub(r"\s{2,}", " ", value)
    return found


def take_page_metadata(lines: list[str], doc: Gongwen) -> list[str]:
    kept = []
    for line in lines:
        fields = page_fields(line)
        if fields is not None:
            for key, value in fields.items():
                doc.page.setdefault(key, value)
            continue
        if JUNK_LINE_RE.match(line) and not DATE_LINE_RE.match(line):
            continue
        kept.append(line)
    return kept


# ---------------------------------------------------------------- the head: header, 文号, title, notice


def type_of(title: str) -> str:
    plain = re.sub(TITLE_TAIL + "$", "", simple(title))
    for word, kind in TYPE_WORDS:
        if plain.endswith(word):
            return kind
    return ""


def title_at(lines: list[str], i: int) -> tuple[str, int]:
    """(title, lines used) for a title starting at line i: one line, or two when a title breaks."""
    line = lines[i]
    if TITLE_LINE_RE.match(simple(line)) and not DATE_CN_RE.fullmatch(line):
        return line, 1
    if i + 1 < len(lines) and len(line) <= 40 and not re.search(r"[。；！？：:，,]", line):
        joined = line + lines[i + 1]
        if len(lines[i + 1]) <= 40 and TITLE_LINE_RE.match(simple(joined)):
            return joined, 2
    return "", 0


def read_head(lines: list[str], doc: Gongwen, title_hint: str, issuer_hint: str) -> tuple[list[str], list[str]]:
    """(front-matter lines, the rest). Looks at the first few lines only: a title further down is text."""
    front: list[str] = []
    i = 0
    while i < min(len(lines), 8) and not doc.title:
        line, plain = lines[i], simple(lines[i])
        header = HEADER_RE.match(plain)
        if header:
            doc.page.setdefault("header", line[: len(header.group("org"))])
        elif DOC_NUMBER_RE.fullmatch(plain):
            doc.doc_number = doc.doc_number or line
        else:
            title, used = title_at(lines, i)
            if not title:
                break
            doc.title = title
            front.append(title)
            i += used
            continue
        front.append(line)
        i += 1
    rest = lines[i:]
    if not doc.title:  # a scrape whose title, issuer and date run together on the first line
        glued, rest = split_glued(rest, doc, title_hint, issuer_hint)
        return front + glued, rest
    notice = NOTICE_RE.search(simple(doc.title))
    if notice:
        rest = take_notice(rest, doc, notice.group("inner"))
    under = take_under_title(rest, doc)
    return front + under, rest[len(under):]


def take_under_title(rest: list[str], doc: Gongwen) -> list[str]:
    """The lines right under a title that belong to it: 文号, issuer, "（2018年3月）", a salutation."""
    taken: list[str] = []
    for line in rest[:4]:
        plain = simple(line)
        if DOC_NUMBER_RE.fullmatch(plain):
            doc.doc_number = doc.doc_number or line
        elif is_org_line(line) and not taken:
            doc.page.setdefault("under_title_issuer", line)
        elif UNDER_TITLE_DATE_RE.fullmatch(plain):
            doc.page.setdefault("under_title_date", re.sub(r"\s", "", UNDER_TITLE_DATE_RE.match(plain).group(1)))
        elif not SALUTATION_RE.match(plain):
            break
        taken.append(line)
    return taken


def take_notice(rest: list[str], doc: Gongwen, inner: str) -> list[str]:
    """An 印发通知 wraps the document: the notice runs up to the document's own title line."""
    doc.notice_title = doc.title
    wanted = simple(inner).strip("《》")
    for j, line in enumerate(rest[:30]):
        if simple(line).strip("《》") == wanted:
            notice_lines = [l for l in rest[:j] if not RECORD_LINE_RE.search(simple(l))]
            doc.page.setdefault("notice_issuers", signature_issuers(notice_lines))
            doc.page.setdefault("notice_date", signature_date(notice_lines))
            doc.notice = "\n".join(notice_lines + [line])  # the document's own title closes the wrapper
            doc.title = line
            return rest[j + 1 :]
    doc.title = inner  # the document's own title line is missing: the notice names it
    return rest


def split_glued(rest: list[str], doc: Gongwen, title_hint: str, issuer_hint: str) -> tuple[list[str], list[str]]:
    """Title, issuer and date run together on the first line of a scrape (the bundled 2018 plan):
    (front-matter pieces, the rest)."""
    if not rest:
        return [], rest
    first = rest[0]
    if title_hint and first.replace(" ", "").startswith(title_hint):
        doc.title, first = title_hint, first[len(title_hint):].lstrip()
    else:
        match = GLUED_TITLE_RE.match(first)
        if not match:
            return [], rest
        doc.title, first = match.group(1), first[match.end():].lstrip()
    taken = [doc.title]
    issuer = issuer_hint if issuer_hint and first.startswith(issuer_hint) else ""
    if not issuer:
        match = ISSUER_PREFIX_RE.match(first)
        if match and UNDER_TITLE_DATE_RE.match(first[match.end():].lstrip()):
            issuer = match.group(1)
    if issuer:
        doc.page["under_title_issuer"] = issuer
        first = first[len(issuer):].lstrip()
        taken.append(issuer)
    match = UNDER_TITLE_DATE_RE.match(first)
    if match:
        doc.page["under_title_date"] = re.sub(r"\s", "", match.group(1))
        taken.append(match.group(0))
        first = first[match.end():].lstrip()
    return taken, ([first] if first else []) + rest[1:]


# ---------------------------------------------------------------- the end: 落款 and 版记


def split_orgs(line: str) -> list[str]:
    """Bodies glued on one line: "东川省教育厅东川省财政厅" → both; a joint 落款 repeats the place."""
    plain = simple(line)
    place = PLACE_RE.match(plain)
    if not place or len(plain) != len(line):
        return [line]
    parts, start = [], 0
    for match in re.finditer(re.escape(place.group(1)), plain):
        cut = match.start() - (2 if plain[max(0, match.start() - 2) : match.start()] == "中共" else 0)
        if cut > start and re.search(ORG_SUFFIX + "$", plain[start:cut]):
            parts.append(line[start:cut])
            start = cut
    parts.append(line[start:])
    return [p for p in parts if p]


def is_org_line(line: str) -> bool:
    plain = simple(line)
    return len(plain) <= 60 and bool(ORG_RE.match(plain)) and not type_of(plain)


def orgs_above(lines: list[str], date_at: int) -> tuple[list[str], int]:
    """The bodies signed on the lines right above a 落款 date, and the index of the first of those lines."""
    orgs, first = [], date_at
    while first > 0 and is_org_line(lines[first - 1]) and len(orgs) < 4:
        orgs = split_orgs(lines[first - 1]) + orgs
        first -= 1
    return orgs, first


def signature_issuers(lines: list[str]) -> list[str]:
    """The bodies above the last date line (a 落款), or []."""
    for i in range(len(lines) - 1, -1, -1):
        if DATE_LINE_RE.match(simple(lines[i])):
            return orgs_above(lines, i)[0]
    return []


def signature_date(lines: list[str]) -> str:
    for line in reversed(lines):
        if DATE_LINE_RE.match(simple(line)):
            return re.sub(r"\s", "", line)
    return ""


def take_signature(lines: list[str], doc: Gongwen) -> list[str]:
    """Move the 落款 (bodies + date) and the 版记 (抄送, "…印发") off the end of the body."""
    end = len(lines)
    while end > 0 and RECORD_LINE_RE.search(simple(lines[end - 1])):
        doc.back.insert(0, lines[end - 1])
        end -= 1
    tail = lines[:end]
    if tail and DATE_LINE_RE.match(simple(tail[-1])):
        orgs, first = orgs_above(tail, len(tail) - 1)
        if orgs:
            doc.page.setdefault("signature_issuers", orgs)
            doc.page.setdefault("signature_date", re.sub(r"\s", "", tail[-1]))
            doc.back[:0] = tail[first:]
            return tail[:first]
    return tail


# ---------------------------------------------------------------- fields from their sources


def normal_date(text: str) -> str:
    """"2020-03-06 10:15" or "2020年3月6日" → "2020年3月6日"; "2018年3月" stays."""
    match = DATE_CN_RE.search(text) or DATE_ISO_RE.search(text)
    if not match:
        return ""
    year, month, day = match.group(1), int(match.group(2)), match.group(3)
    if not 1 <= month <= 12:
        return ""
    return f"{year}年{month}月{int(day)}日" if day else f"{year}年{month}月"


def settle_fields(doc: Gongwen) -> None:
    page = doc.page
    if not doc.doc_number and page.get("doc_number") and DOC_NUMBER_RE.search(page["doc_number"]):
        doc.doc_number = DOC_NUMBER_RE.search(page["doc_number"]).group(0)
    signature = page.get("signature_issuers") or page.get("notice_issuers") or []
    named = page.get("issuer", "")
    if signature:
        # a joint 落款: the body the page names as publisher leads, else the first one signed
        lead = next((org for org in signature if named and simple(org) in simple(named)), signature[0])
        doc.issuers = [lead] + [org for org in signature if org != lead]
    else:
        for candidate in (page.get("header"), page.get("under_title_issuer"), named):
            if candidate:
                doc.issuers = split_orgs(candidate) if is_org_line(candidate) else [candidate]
                break
    for candidate in (page.get("date_written"), page.get("signature_date"), page.get("notice_date"),
                      page.get("under_title_date"), page.get("date_published")):
        date = normal_date(candidate or "")
        if date:
            doc.date = date
            break
    doc.doc_type = type_of(doc.title)
