"""The web page's example questions and compare topics, taken from the indexed documents' own section
headings: a corpus of health-insurance plans should not offer questions about school places.

Both are plain functions of the index's document records (title, year, outline, text), deterministic, at
most four, each short enough for one button.
"""
from __future__ import annotations

import re
from collections import defaultdict

from zhengce.index.tokenize import jieba_tokenizer
from zhengce.ingest.clean import to_simplified
from zhengce.ingest.records import SECTION_SEPARATOR

MAX_EXAMPLES = 4
MAX_CHARS = 16
# the numbering before a heading's words: 一、 （一） 1. （1） 一是 第一章 第三条
MARKER_RE = re.compile(
    r"^\s*(?:第[一二三四五六七八九十百零〇\d]+[章节条]|[（(][一二三四五六七八九十\d]+[）)]|[一二三四五六七八九十\d]+[、.．]|[一二三四五六七八九十]+是)\s*"
)
HAN_RE = re.compile(r"[\u4e00-\u9fff]+")
# Headings that name a part of any document rather than a policy: no question or topic is made of them.
GENERIC = set(
    "总体目标 主要目标 工作目标 目标任务 总体要求 指导思想 基本原则 重点任务 主要任务 重点工作 工作重点 工作任务 "
    "保障措施 工作措施 主要措施 工作要求 组织领导 组织实施 组织保障 实施步骤 工作步骤 进度安排 其他事项 总则 附则 "
    "适用范围 适用对象 基本情况 监督管理 工作机制 良好氛围 营造良好氛围 加强组织领导".split()
)
# A heading that names its subject (学前教育公益普惠) makes a better question than one that starts with
# what to do (加强干部队伍管理); both are used, subjects first.
ACTIONS = tuple(
    "加强 加快 加大 推进 推动 提升 提高 强化 完善 优化 深化 健全 扩大 扩充 创新 构建 建立 建设 坚持 落实 做好 抓 "
    "开展 实施 着力 认真 压实 全面 积极 大力 切实 统筹 促进 保障 增强 夯实 突出 严格 扎实 规范 关爱 守牢 拓宽 营造 "
    "办好 支持 鼓励 引导 打造 培育 巩固 补齐 聚焦 持续 进一步 狠抓 确保 探索 改善 改革 防范 维护 减轻 降低 提供 "
    "实行 推行 组织 做实 用好 守住 及时".split()
)
REGULATIONS = ("办法", "条例", "规定", "细则", "规则", "章程")  # they set rules; plans and opinions list measures
DEFINED = ("原则", "标准", "目标", "要求", "范围", "对象", "条件", "程序", "时间", "内容")  # 招生原则是什么？


def headings(document: dict) -> list[str]:
    """The document's section headings without their numbering, in simplified characters, in order."""
    out: list[str] = []
    for path in document.get("outline") or []:
        heading = MARKER_RE.sub("", to_simplified(path.split(SECTION_SEPARATOR)[-1])).strip()
        if heading and heading not in out:
            out.append(heading)
    return out


def example_questions(documents: list[dict], limit: int = MAX_EXAMPLES) -> list[str]:
    """Questions made of short headings, taking one document at a time, newest first, so that several
    documents get one each: 学前教育公益普惠 → 学前教育公益普惠有哪些措施？"""
    queues = []
    for document in sorted(documents, key=lambda d: (-(d.get("year") or 0), d["doc_id"])):
        ask = "有哪些规定？" if document.get("title", "").endswith(REGULATIONS) else "有哪些措施？"
        usable = [h for h in headings(document) if HAN_RE.fullmatch(h) and 4 <= len(h) and h not in GENERIC]
        usable.sort(key=lambda h: h.startswith(ACTIONS))  # stable: subjects first, each in document order
        asked = (h + ("是什么？" if h.endswith(DEFINED) else ask) for h in usable)
        queues.append([q for q in asked if len(q) <= MAX_CHARS])
    questions: list[str] = []
    for turn in range(max(map(len, queues), default=0)):
        for queue in queues:
            if turn < len(queue) and queue[turn] not in questions:
                questions.append(queue[turn])
                if len(questions) == limit:
                    return questions
    return questions


def example_topics(documents: list[dict], limit: int = MAX_EXAMPLES) -> list[str]:
    """Heading words (four characters or more: 学前教育, not 教育) used by documents of at least two years,
    most years first: topics for which a comparison has something to show. An index of one year gets its
    headings' words that its text uses most."""
    years: dict[str, set[int]] = defaultdict(set)
    documents_using: dict[str, set[str]] = defaultdict(set)
    first: dict[str, int] = {}
    for document in documents:
        for heading in headings(document):
            for word in jieba_tokenizer().lcut(heading):
                if len(word) >= 4 and HAN_RE.fullmatch(word) and word not in GENERIC:
                    if document.get("year"):
                        years[word].add(document["year"])
                    documents_using[word].add(document["doc_id"])
                    first.setdefault(word, len(first))
    indexed_years = {d["year"] for d in documents if d.get("year")}
    candidates = [w for w in first if len(years[w]) >= min(2, len(indexed_years))]
    text = to_simplified("\n".join(d.get("text", "") for d in documents))
    uses = {w: text.count(w) for w in candidates}  # few words pass the years test: cheap even on a large corpus
    ranked = sorted(candidates, key=lambda w: (-len(years[w]), -len(documents_using[w]), -uses[w], first[w]))
    return [w for w in ranked if len(w) <= MAX_CHARS][:limit]
