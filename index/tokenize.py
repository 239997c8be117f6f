"""Chinese-aware keyword tokens for BM25.

jieba, because it is mature, pure Python, MIT-licensed, needs no model download, and takes a user
dictionary: policy terms such as 积分入学, 大班额, 普惠性 stay whole (index/policy_terms.txt). Its
search mode also emits the parts of long words (积分入学 → 积分, 入学, 积分入学), so a query for 入学
still finds 积分入学.

Tokens are cut from normalize_for_index(text): half-width, lower case and simplified characters, so 學校
and 学校 are one word for the index and for queries.
"""
from __future__ import annotations

import hashlib
import logging
import re
from functools import lru_cache
from pathlib import Path

from zhengce.ingest.clean import normalize_for_index

POLICY_TERMS = Path(__file__).with_name("policy_terms.txt")
STOPWORDS = set(
    "的 了 和 与 及 或 等 在 对 为 是 将 把 被 由 从 以 于 之 其 并 也 都 而 及其 以及 一个 一些 这 那 有 要 让 "
    "什么 怎么 怎样 如何 哪些 哪个 多少 几个 吗 呢 吧 啊 今年 我们 你们 他们 请问 是否 有没有 有关 关于 方面 "
    "the a an of to in for and or is are what how which does do about".split()
)
TOKEN_RE = re.compile(r"[\w\u3400-\u9fff]")


@lru_cache(maxsize=1)
def jieba_tokenizer():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(str(POLICY_TERMS))
    return tokenizer


def tokenizer_id() -> str:
    """Recorded in the index manifest: a different dictionary or normalization means a different keyword
    index. "t2s": text is converted to simplified characters before cutting (ingest/clean.py)."""
    digest = hashlib.sha256(POLICY_TERMS.read_bytes()).hexdigest()[:12]
    return f"t2s+jieba-search+policy-terms-{digest}"


def tokenize(text: str) -> list[str]:
    tokens = []
    for token in jieba_tokenizer().cut_for_search(normalize_for_index(text)):
        token = token.strip()
        if token and token not in STOPWORDS and TOKEN_RE.search(token):
            tokens.append(token)
    return tokens
