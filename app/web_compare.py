"""The 年度对比 (compare years) tab of the web app: years side by side, changes highlighted.

    with gr.Blocks() as demo:
        with gr.Tabs():
            build_compare_tab(lib)

The tab calls Library.compare, the same method as `zhengce compare`; rendering is a pure function
(comparison_html) so it can be tested without a browser. All document text is escaped.
"""
from __future__ import annotations

import html
import re
from contextlib import nullcontext
from typing import Callable, ContextManager

from zhengce.app.examples import example_topics
from zhengce.compare import Comparison, all_series
from zhengce.errors import ZhengceError
from zhengce.ingest.records import SECTION_SEPARATOR
from zhengce.library import Library

AUTO_SERIES = "按主题自动选择"
CONCURRENCY = 2

COMPARE_CSS = """
<style>
.zc-cmp-summary { border: 1px solid #e3e6ea; border-radius: 8px; padding: 8px 14px; margin-bottom: 12px; background: #fff; }
.zc-cmp-summary h3 { font-size: 1.02rem; margin: 0.3em 0; }
.zc-cmp-summary li { margin: 3px 0; line-height: 1.6; }
.zc-cmp-grid { display: grid; gap: 12px; grid-template-columns: repeat(var(--zc-cols), minmax(0, 1fr)); }
.zc-cmp-col h3 { font-size: 1.05rem; margin: 0 0 8px; color: #b5332e; }
.zc-cmp-card { border: 1px solid #e3e6ea; border-radius: 8px; padding: 8px 10px; margin-bottom: 10px; background: #fff; }
.zc-cmp-section { color: #1f5f99; font-size: 0.86rem; margin-bottom: 4px; }
.zc-cmp-text { line-height: 1.75; font-size: 0.92rem; margin: 0; }
.zc-changed { background: #fff1a8; border-radius: 2px; }
.zc-new { background: #dff5e1; border-bottom: 2px solid #2e8b3e; }
.zc-dropped { background: #fde2e1; text-decoration: line-through; text-decoration-color: #b5332e; }
.zc-old { color: #888; text-decoration: line-through; }
.zc-up { color: #1b7a2f; font-weight: 600; }
.zc-cmp-notice { background: #fff6e5; border: 1px solid #f0c36d; border-radius: 8px; padding: 8px 12px; margin-bottom: 10px; }
</style>
"""


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def annotated(text: str, marks: dict[str, tuple[str, str]]) -> str:
    """Escape a passage and wrap the given clauses: clause → (css class, tooltip). Longest clauses win."""
    present = sorted((c for c in marks if c and c in text), key=len, reverse=True)
    if not present:
        return esc(text)
    pattern = re.compile("|".join(re.escape(c) for c in present))
    out, cursor = [], 0
    for match in pattern.finditer(text):
        css, tip = marks[match.group(0)]
        out += [esc(text[cursor : match.start()]), f'<span class="{css}" title="{esc(tip)}">{esc(match.group(0))}</span>']
        cursor = match.end()
    out.append(esc(text[cursor:]))
    return "".join(out)


def marks_for_year(result: Comparison, year: int) -> dict[str, tuple[str, str]]:
    marks: dict[str, tuple[str, str]] = {}
    for change in result.numbers:
        tip = f"{change.subject}: {change.before}（{change.year_before}）→ {change.after}（{change.year_after}）"
        if change.year_after == year:
            marks[change.clause_after] = ("zc-changed", tip)
        if change.year_before == year:
            marks.setdefault(change.clause_before, ("zc-changed", tip))
    for change in result.measures:
        if change.year == year:
            if change.kind == "new":
                marks.setdefault(change.clause, ("zc-new", f"{change.year}年新增（{change.year_before}年相关段落中没有）"))
            else:
                marks.setdefault(change.clause, ("zc-dropped", f"{change.year_after}年相关段落中不再出现"))
    return marks


def summary_html(result: Comparison) -> str:
    if len(result.years) < 2:
        return ""
    items = [
        f'<li>{c.year_before}→{c.year_after} <b>{esc(c.subject)}</b>：<span class="zc-old">{esc(c.before)}</span> → '
        f'<span class="zc-up">{esc(c.after)}</span> <small>§ {esc(c.section_after.split(SECTION_SEPARATOR)[-1])}</small></li>'
        for c in result.numbers
    ]
    items += [
        f'<li>{c.year_before}→{c.year_after} <span class="{"zc-new" if c.kind == "new" else "zc-dropped"}">'
        f'{"新增" if c.kind == "new" else "不再提及"}：{esc(c.clause)}</span></li>'
        for c in result.measures
    ]
    body = "".join(items) or "<li>这些段落中没有发现指标或措施的变化</li>"
    return f'<div class="zc-cmp-summary"><h3>变化摘要 · {esc(result.topic)}</h3><ul>{body}</ul></div>'


def comparison_html(result: Comparison) -> str:
    notice = f'<div class="zc-cmp-notice">{esc(result.notice)}</div>' if result.notice else ""
    if result.series and len(result.years) >= 2:
        notice = f'<div class="zc-cmp-series">对比的系列：{esc(result.series)}</div>' + notice
    columns = []
    for year_passages in result.passages:
        marks = marks_for_year(result, year_passages.year)
        cards = "".join(
            f'<div class="zc-cmp-card"><div class="zc-cmp-section">《{esc(h.title)}》 § '
            f'{esc(h.section).replace(esc(SECTION_SEPARATOR), " › ")}</div>'
            f'<p class="zc-cmp-text">{annotated(h.text, marks)}</p></div>'
            for h in year_passages.hits
        ) or "<p>（没有相关段落）</p>"
        columns.append(f'<div class="zc-cmp-col" data-year="{year_passages.year}"><h3>{year_passages.year}年</h3>{cards}</div>')
    grid = f'<div class="zc-cmp-grid" style="--zc-cols:{max(len(columns), 1)}">{"".join(columns)}</div>'
    return COMPARE_CSS + notice + summary_html(result) + grid


def compare_choices(lib: Library) -> tuple[list[str], list[str]]:
    """The years and the series the tab offers: series with two or more years can be chosen; by default
    the topic's best passage decides."""
    series = [AUTO_SERIES] + sorted(name for name, by_year in all_series(lib.index).items() if len(by_year) >= 2)
    return [str(y) for y in lib.years], series


def one_year_note(years: list[str]) -> str:
    return f"只索引了 {', '.join(years) or '零'} 年的文件。用 `zhengce add 文件 --year 年份` 添加另一年的计划后即可对比。"


def build_compare_tab(lib: Library, use: Callable[[], ContextManager[Library]] | None = None):
    """Add the 年度对比 tab; call it inside `with gr.Tabs():` of the app's gr.Blocks. use: the served
    Library for one request (LiveLibrary.use), when the server follows new index generations. Returns the
    years and series choosers and the one-year note, which the page refreshes when a new generation is
    served."""
    import gradio as gr

    years, series = compare_choices(lib)
    topics = example_topics(lib.documents)

    def run(topic: str, chosen: list[str] | None, k: int, which: str | None = AUTO_SERIES) -> tuple[str, dict]:
        try:
            with use() if use else nullcontext(lib) as current:
                result = current.compare(topic or "", years=list(chosen or []) or None, k=int(k),
                                         series=None if which in (None, "", AUTO_SERIES) else which)
        except ZhengceError as exc:
            return f'<div class="zc-cmp-notice">{esc(str(exc))}</div>', {"error": str(exc)}
        return comparison_html(result), result.to_json()

    with gr.Tab("年度对比 Compare years", id="compare"):
        with gr.Row():
            topic = gr.Textbox(value=topics[0] if topics else "", label="主题 Topic", scale=4, elem_id="zc-cmp-topic")
            chosen = gr.CheckboxGroup(years, value=years, label="年份 Years（至少两个）", scale=3, elem_id="zc-cmp-years")
            k = gr.Slider(1, 6, value=3, step=1, label="每年段落数", scale=2)
            which = gr.Dropdown(series, value=AUTO_SERIES, label="系列 Series（同一发文机关、同一类文件）", scale=3,
                                elem_id="zc-cmp-series")
            go = gr.Button("对比", variant="primary", scale=1, elem_id="zc-cmp-go")
        if topics:
            gr.Examples(topics, inputs=topic, label="示例主题")
        note = gr.Markdown(one_year_note(years), visible=len(years) < 2)
        output = gr.HTML(elem_id="zc-cmp-output")
        data = gr.JSON(visible=False)
        go.click(run, [topic, chosen, k, which], [output, data], api_name="compare", concurrency_limit=CONCURRENCY, concurrency_id="compare")
        topic.submit(run, [topic, chosen, k, which], [output, data], api_name=False, concurrency_id="compare")
    return chosen, which, note
