"""Presentation helpers shared by the CLI and the web app."""
from __future__ import annotations

import re

UNSTATED = "未注明"  # what a document does not say: shown as such, never as "年份未知年" or an empty cell


def year_label(year: int | None) -> str:
    """2018年, or 年份未注明."""
    return f"{year}年" if year else f"年份{UNSTATED}"


def issuer_label(issuer: str | None) -> str:
    return issuer or f"发文机关{UNSTATED}"


def mark_terms(text: str, terms: tuple[str, ...] | list[str], ansi: bool = False) -> str:
    """Mark query keywords in a passage: 【积分入学】, or bold yellow on a terminal. Longest terms first."""
    terms = [t for t in sorted(set(terms), key=len, reverse=True) if t.strip()]
    if not terms:
        return text
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    if ansi:
        return pattern.sub(lambda m: f"\x1b[1;33m{m.group(0)}\x1b[0m", text)
    return pattern.sub(lambda m: f"【{m.group(0)}】", text)


def page_label(pages: tuple[int, int] | list[int] | None) -> str:
    """第3页 or 第3–4页 for a passage of a PDF or scan; "" for text sources, which have no pages."""
    if not pages:
        return ""
    first, last = pages
    return f"第{first}页" if first == last else f"第{first}–{last}页"


def place_label(section: str, pages: tuple[int, int] | list[int] | None) -> str:
    """Where a passage is: its section path, then its pages when the source has them."""
    return "  ".join(x for x in (f"§ {section}", page_label(pages)) if x)
