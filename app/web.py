"""The web chat (Gradio Blocks): ask → answer with cited passages; browse the indexed documents.

The index and the model are loaded once, before the app is built; every request reuses them, taking the
served generation once (zhengce/live.py) so that a new generation (an upload, `zhengce add` in another
shell) is picked up without a restart and no request mixes two. All text that reaches HTML (questions,
passages, titles) is escaped here, so a question containing markup is shown as text. The app serves no
files of its own (no allowed_paths).
"""
from __future__ import annotations

import html
import re
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from zhengce.answer import MARKER_RE, MAX_QUESTION_CHARS, Answer, Generator
from zhengce.app.examples import example_questions
from zhengce.app.present import UNSTATED, issuer_label, page_label, year_label
from zhengce.app.web_compare import build_compare_tab, compare_choices, one_year_note
from zhengce.errors import ZhengceError
from zhengce.index.search import Hit
from zhengce.index.store import LoadedIndex
from zhengce.ingest.records import SECTION_SEPARATOR
from zhengce.library import Library
from zhengce.live import LiveLibrary
from zhengce.paths import latest_eval_report
from zhengce.settings import UploadConfig

CONCURRENCY = 2  # answers are CPU-bound (the model); two at a time keeps a 2-core machine responsive
REFRESH_SECONDS = 2  # how often an open page asks whether the served generation changed (a dict lookup)
QUEUE_MAX = 64  # waiting requests beyond this get "queue full" instead of an ever-growing wait
FONT_STACK = ["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Zen Hei", "sans-serif"]

CSS = """
.gradio-container { max-width: 1280px !important; margin: 0 auto; }
#zc-header h1 { margin-bottom: 0.2em; }
#zc-header p { color: #555; margin-top: 0; }
.zc-sources h3 { font-size: 1.05rem; margin: 0.2em 0 0.6em; }
.zc-card { border: 1px solid #e3e6ea; border-left: 4px solid #b5332e; border-radius: 8px; padding: 10px 12px;
           margin-bottom: 10px; background: #fff; }
.zc-related .zc-card { border-left-color: #9aa3ad; background: #fafbfc; }
.zc-head { display: flex; flex-wrap: wrap; gap: 6px; align-items: baseline; font-size: 0.95rem; }
.zc-marker { font-weight: 700; color: #b5332e; }
.zc-title { font-weight: 600; }
.zc-year, .zc-score { color: #666; font-size: 0.85rem; }
.zc-section { color: #1f5f99; font-size: 0.88rem; margin: 4px 0 6px; }
.zc-page { color: #6b7280; font-size: 0.82rem; margin-left: 6px; white-space: nowrap; }
.zc-text { line-height: 1.7; margin: 0; font-size: 0.93rem; }
.zc-text mark, .zc-context mark { background: #fff1a8; padding: 0 1px; border-radius: 2px; }
.zc-card details { margin-top: 6px; font-size: 0.88rem; }
.zc-card summary { cursor: pointer; color: #1f5f99; }
.zc-context { line-height: 1.7; background: #f6f7f9; padding: 8px; border-radius: 6px; margin-top: 4px; }
.zc-banner { background: #fff6e5; border: 1px solid #f0c36d; border-radius: 8px; padding: 8px 12px; margin-bottom: 10px; }
.zc-notice { color: #8a5a00; font-size: 0.88rem; }
.zc-empty { color: #888; }
.zc-reader h2 { font-size: 1.2rem; } .zc-reader h3 { font-size: 1.05rem; margin-top: 1em; }
.zc-reader h4 { font-size: 0.98rem; margin-top: 0.8em; } .zc-reader h5 { font-size: 0.92rem; }
.zc-reader p { line-height: 1.8; }
.zc-doc { display: grid; grid-template-columns: minmax(220px, 1fr) 3fr; gap: 16px; }
.zc-outline, .zc-doc-text { max-height: 70vh; overflow-y: auto; }
.zc-outline { border-right: 1px solid #e3e6ea; padding-right: 8px; font-size: 0.88rem; }
.zc-outline ul { list-style: none; padding-left: 0; margin-top: 6px; }
.zc-outline a { color: #1f5f99; text-decoration: none; } .zc-outline li { margin: 3px 0; }
.zc-doc-text { padding-right: 8px; }
"""


@dataclass(frozen=True)
class Shelf:
    """What the pages show besides answers: documents and each section's passages in order."""

    documents: list[dict]
    sections: dict[tuple[str, str], list[str]]  # (doc_id, section path) → passage texts in order
    section_order: dict[str, list[str]]  # doc_id → section paths in document order
    # (doc_id, section path) → each passage's pages (PDFs and scans; None for text sources), as in sections
    section_pages: dict[tuple[str, str], list[tuple[int, int] | None]] = field(default_factory=dict)

    @classmethod
    def from_index(cls, index: LoadedIndex) -> "Shelf":
        sections: dict[tuple[str, str], list[str]] = defaultdict(list)
        pages: dict[tuple[str, str], list[tuple[int, int] | None]] = defaultdict(list)
        order: dict[str, list[str]] = defaultdict(list)
        for chunk in sorted(index.chunks, key=lambda c: (c.doc_id, c.position)):
            if chunk.section not in order[chunk.doc_id]:
                order[chunk.doc_id].append(chunk.section)
            sections[(chunk.doc_id, chunk.section)].append(chunk.text)
            pages[(chunk.doc_id, chunk.section)].append(chunk.pages)
        return cls(index.documents, dict(sections), dict(order), dict(pages))

    def section_text(self, hit: Hit) -> list[str]:
        return self.sections.get((hit.doc_id, hit.section), [hit.text])


# ---------------------------------------------------------------- rendering (pure functions, tested)


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def mark_sentences(text: str, sentences: tuple[str, ...] | list[str]) -> str:
    """Escape the passage and wrap the answering sentences in <mark>."""
    spans = []
    for sentence in sentences:
        start = text.find(sentence)
        if start >= 0:
            spans.append((start, start + len(sentence)))
    out, cursor = [], 0
    for start, end in sorted(spans):
        if start < cursor:
            continue
        out += [esc(text[cursor:start]), f"<mark>{esc(text[start:end])}</mark>"]
        cursor = end
    out.append(esc(text[cursor:]))
    return "".join(out)


def section_html(section: str) -> str:
    return esc(section).replace(esc(SECTION_SEPARATOR), " › ") if section else "（无章节）"


def page_html(pages: tuple[int, int] | None) -> str:
    return f' <span class="zc-page">{page_label(pages)}</span>' if pages else ""


def card_html(hit: Hit, highlights: tuple[str, ...], shelf: Shelf, marker: int | None) -> str:
    similarity = f"相似度 {hit.dense_score:.3f}" if hit.dense_score is not None else f"得分 {hit.score:.3f}"
    label = f'<span class="zc-marker">[{marker}]</span>' if marker is not None else ""
    context = "".join(
        f"<p>{mark_sentences(passage, highlights) if passage == hit.text else esc(passage)}</p>"
        for passage in shelf.section_text(hit)
    )
    return (
        f'<div class="zc-card" data-chunk="{esc(hit.chunk_id)}">'
        f'<div class="zc-head">{label}<span class="zc-title">《{esc(hit.title)}》</span>'
        f'<span class="zc-year">{year_label(hit.year)}</span><span class="zc-score">{similarity}</span></div>'
        f'<div class="zc-section">§ {section_html(hit.section)}{page_html(hit.pages)}</div>'
        f'<p class="zc-text">{mark_sentences(hit.text, highlights)}</p>'
        f"<details><summary>查看上下文（本节全文）</summary><div class=\"zc-context\">{context}</div></details>"
        "</div>"
    )


def sources_html(answer: Answer | None, shelf: Shelf) -> str:
    if answer is None:
        return '<div class="zc-sources"><h3>出处 Sources</h3><p class="zc-empty">提问后，这里显示回答所引用的段落。</p></div>'
    parts = ['<div class="zc-sources">']
    if answer.citations:
        parts.append("<h3>出处 Sources</h3>")
        parts += [card_html(c.hit, c.highlights, shelf, c.marker) for c in answer.citations]
    if not answer.answerable:
        parts.append(f'<div class="zc-banner">文件中没有找到答案：{esc(answer.reason)}</div>')
    if answer.possibly_related:
        title = "可能相关的段落（不作为答案）" if not answer.answerable else "其他检索到的段落"
        related = "".join(card_html(h, (), shelf, None) for h in answer.possibly_related)
        if answer.answerable:
            parts.append(f'<details class="zc-related"><summary>{title}（{len(answer.possibly_related)}）</summary>{related}</details>')
        else:
            parts.append(f'<div class="zc-related"><h3>{title}</h3>{related}</div>')
    parts.append("</div>")
    return "".join(parts)


def reply_markdown(answer: Answer) -> str:
    """The chat bubble: the answer, notices, and a compact list of sources with section paths."""
    lines = []
    for notice in answer.notices:  # before the answer: a caution (把握不大) must be read first
        lines += [f"> ⚠️ {esc(notice)}", ""]
    lines += [MARKER_RE.sub(r"<sup>[\1]</sup>", esc(answer.text)), ""]
    if answer.citations:
        lines.append("**出处**")
        for c in answer.citations:
            where = " · ".join(x for x in (section_html(c.hit.section), page_label(c.hit.pages)) if x)
            lines.append(f"- [{c.marker}] 《{esc(c.hit.title)}》{year_label(c.hit.year)} · {where}")
    elif answer.possibly_related:
        lines.append("**可能相关的段落（不作为答案）**")
        for h in answer.possibly_related:
            lines.append(f"- 《{esc(h.title)}》 · {section_html(h.section)}")
    return "\n".join(lines)


def shown_question(question: str) -> str:
    question = question.strip()
    shown = question[:MAX_QUESTION_CHARS] + ("…" if len(question) > MAX_QUESTION_CHARS else "")
    return esc(shown)


def reader_html(doc_id: str | None, shelf: Shelf) -> str:
    """A document's cleaned text, section by section, with its outline as a table of contents."""
    document = next((d for d in shelf.documents if d["doc_id"] == doc_id), None)
    if document is None:
        return '<p class="zc-empty">选择一份文件阅读。</p>'
    toc, body, previous, number = [], [], [], 0
    for path in shelf.section_order.get(doc_id, []):
        parts = path.split(SECTION_SEPARATOR) if path else ["（无章节）"]
        # a heading for every level that changed: 一、 then 1. then 一是, like the printed document
        for depth, heading in enumerate(parts):
            if parts[: depth + 1] == previous[: depth + 1]:
                continue
            anchor, number = f"zc-sec-{number}", number + 1
            toc.append(f'<li style="margin-left:{depth * 1.2}em"><a href="#{anchor}">{esc(heading)}</a></li>')
            body.append(f'<h{min(depth, 2) + 3} id="{anchor}">{esc(heading)}</h{min(depth, 2) + 3}>')
        previous = parts
        passage_pages = shelf.section_pages.get((doc_id, path)) or [None] * len(shelf.sections[(doc_id, path)])
        body += [f"<p>{esc(text)}{page_html(pages)}</p>" for text, pages in zip(shelf.sections[(doc_id, path)], passage_pages)]
    facts = [year_label(document.get("year")), esc(issuer_label(document.get("issuer"))), esc(document.get("date") or "")]
    meta = " · ".join([f for f in facts if f] + [f"{document['chunk_count']} 个段落"])
    return (
        f'<div class="zc-reader"><h2>《{esc(document["title"])}》</h2><p>{meta}</p>'
        f'<div class="zc-doc"><nav class="zc-outline"><b>目录 Outline</b><ul>{"".join(toc)}</ul></nav>'
        f'<div class="zc-doc-text">{"".join(body)}{original_pages_html(document)}</div></div></div>'
    )


def original_pages_html(document: dict) -> str:
    """A PDF's or scan's text page by page (as read, OCR included), to check a citation's 第N页."""
    pages = document.get("pages") or []
    if not pages:
        return ""
    items = "".join(
        f'<details class="zc-page-text" id="zc-page-{n}"><summary>第{n}页</summary><p>{esc(text).replace(chr(10), "<br>")}</p></details>'
        for n, text in enumerate(pages, start=1)
    )
    return f'<h3>原文逐页 Pages as read</h3>{items}'



def document_rows(documents: list[dict]) -> list[list]:
    """The Documents tab's table: what a document does not say reads 未注明, not an empty cell."""
    return [
        [d["title"], d.get("year") or UNSTATED, "、".join(x for x in (d.get("issuer"), d.get("co_issuers")) if x) or UNSTATED,
         d.get("date") or UNSTATED, d.get("doc_number") or "—", d.get("doc_type") or "—", d["chunk_count"], d["doc_id"]]
        for d in documents
    ]


# ---------------------------------------------------------------- the app


def eval_report_markdown(eval_dir: Path | None) -> str:
    text = latest_eval_report(eval_dir) if eval_dir else None
    if not text:
        return "还没有评估报告。运行 `zhengce eval` 后刷新本页。 (No evaluation report yet: run `zhengce eval`.)"
    # the chart is a file next to the report; the app serves no files, so the link is dropped
    return re.sub(r"!\[[^\]]*\]\([^)]*\)\n?", "", text)


_shelves: dict[Path, Shelf] = {}


def shelf_of(index: LoadedIndex) -> Shelf:
    """The Shelf of a generation, made once: the old and the new one are both in use during a switch."""
    if index.path not in _shelves:
        while len(_shelves) >= 4:
            _shelves.pop(next(iter(_shelves)))
        _shelves[index.path] = Shelf.from_index(index)
    return _shelves[index.path]


def doc_choices_of(documents: list[dict]) -> list[tuple[str, str]]:
    return [(f"{d['title']}（{year_label(d.get('year'))}）", d["doc_id"]) for d in documents]


def header_markdown(index: LoadedIndex) -> str:
    return (
        "# 政策问答 zhengce\n"
        f"根据已收录的政策文件回答问题，每句话标注出处（文件、年份、章节）。已收录 {len(index.documents)} 份文件、"
        f"{len(index.chunks)} 个段落（{', '.join(map(str, index.years)) or '年份' + UNSTATED}）。"
    )


def build_app(lib: Library | LiveLibrary, generator: Generator | None = None, generator_name: str = "",
              eval_dir: Path | None = None, admin_password: str | None = None, upload_config: UploadConfig = UploadConfig()):
    """lib: a Library (followed on disk from now on) or a LiveLibrary. admin_password: enables the Documents
    tab's upload/edit/remove (app/web_manage.py); None hides them and refuses every management call."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no usage pings, no version check
    import gradio as gr

    from zhengce.app.web_manage import Jobs, build_manage_section, changes_rows

    live = lib if isinstance(lib, LiveLibrary) else LiveLibrary(lib).watch()
    jobs = Jobs(live)
    index = live.library.index
    shelf = shelf_of(index)
    years = index.years
    doc_choices = doc_choices_of(index.documents)
    examples = example_questions(index.documents)

    def run(question: str, history: list[str], years_selected, docs_selected, k) -> tuple[Answer, Shelf, str]:
        with live.use() as current:  # one generation from the search to the rendered sources
            answer = current.ask(
                question, k=int(k or 5), years=list(years_selected or []) or None, docs=list(docs_selected or []) or None,
                history=history, generator=generator, generator_name=generator_name,
            )
            return answer, shelf_of(current.index), current.index.path.name

    def respond(question, chat, asked, years_selected, docs_selected, k):
        chat, asked = list(chat or []), list(asked or [])
        question = (question or "").strip()
        if not question:
            chat.append({"role": "assistant", "content": f"请输入问题{'，例如：' + examples[0] if examples else '。'}"})
            return chat, "", gr.update(), asked
        chat.append({"role": "user", "content": shown_question(question)})
        try:
            answer, answer_shelf, _ = run(question, asked, years_selected, docs_selected, k)
        except ZhengceError as exc:
            chat.append({"role": "assistant", "content": f"⚠️ {esc(str(exc))}"})
            return chat, "", gr.update(), asked
        chat.append({"role": "assistant", "content": reply_markdown(answer)})
        return chat, "", sources_html(answer, answer_shelf), asked + [answer.question]

    def ask(question: str, years: list[int] | None = None, doc_ids: list[str] | None = None, k: int = 5,
            history: list[str] | None = None) -> dict:
        """Answer a question from the indexed policy documents. Returns {question, answer, answerable,
        citations: [hit + marker + highlights], possibly_related, notices, generation (the index generation
        that answered)}; {question, error} on bad input."""
        try:
            answer, _, generation = run(question, list(history or []), years, doc_ids, k)
            return {**answer.to_json(), "generation": generation}
        except ZhengceError as exc:
            return {"question": question, "error": str(exc)}

    def refresh_page(shown: str):
        """On page load and every few seconds: the index status line, and — when the served generation
        changed since this page last looked — the header, the filters, the document list and the log."""
        current = live.library
        generation = current.index.path.name
        running = jobs.running
        status = f"索引 index {generation} · {len(current.documents)} 份文件" + (f" · {running.progress_line()}" if running else "")
        if generation == shown:
            return [status, shown] + [gr.skip()] * 10
        documents, choices = current.documents, doc_choices_of(current.documents)
        compare_years, compare_series = compare_choices(current)
        return [
            status, generation, header_markdown(current.index), document_rows(documents), gr.update(choices=choices),
            gr.update(choices=choices), gr.update(choices=[str(y) for y in current.years]), changes_rows(current.corpus_dir),
            gr.update(choices=choices), gr.update(choices=compare_years, value=compare_years), gr.update(choices=compare_series),
            gr.update(value=one_year_note(compare_years), visible=len(compare_years) < 2),
        ]

    theme = gr.themes.Soft(primary_hue="red", neutral_hue="slate", font=FONT_STACK, font_mono=["monospace"])
    with gr.Blocks(title="政策问答 zhengce", analytics_enabled=False) as demo:
        header = gr.Markdown(header_markdown(index), elem_id="zc-header")
        with gr.Tabs():
            with gr.Tab("问答 Ask", id="ask"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            label="对话", height=520, elem_id="zc-chat", buttons=["copy"], feedback_options=None,
                            placeholder=f"**请提问**{'，例如：' + ' '.join(examples[:2]) if examples else ''}\n\n回答只来自已收录的文件；找不到答案时会直说。",
                        )
                        with gr.Row():
                            box = gr.Textbox(placeholder="输入问题，按回车提问", show_label=False, scale=6,
                                             elem_id="zc-question", max_lines=4, autofocus=True)
                            send = gr.Button("提问", variant="primary", scale=1, elem_id="zc-ask")
                        if examples:
                            gr.Examples(examples, inputs=box, label="示例问题")
                        clear = gr.Button("清空对话", size="sm", variant="secondary")
                    with gr.Column(scale=2):
                        with gr.Accordion("筛选 Filters", open=False):
                            year_filter = gr.CheckboxGroup([str(y) for y in years], label="年份", elem_id="zc-years")
                            doc_filter = gr.Dropdown(doc_choices, multiselect=True, label="文件", elem_id="zc-docs")
                            k_slider = gr.Slider(1, 10, value=5, step=1, label="检索段落数")
                        sources = gr.HTML(sources_html(None, shelf), elem_id="zc-sources")
                asked = gr.State([])
                inputs = [box, chatbot, asked, year_filter, doc_filter, k_slider]
                outputs = [chatbot, box, sources, asked]
                for event in (box.submit, send.click):
                    event(respond, inputs, outputs, api_visibility="private", concurrency_id="answer",
                          concurrency_limit=CONCURRENCY)
                clear.click(lambda: ([], "", sources_html(None, shelf), []), None, outputs, api_visibility="private")
            with gr.Tab("文件 Documents", id="documents"):
                status = gr.Markdown(elem_id="zc-index-status")
                table = gr.Dataframe(
                    document_rows(index.documents), headers=["标题", "年份", "发文机关", "成文日期", "文号", "类型", "段落数", "文件 id"],
                    interactive=False, label="已收录的文件",
                    elem_id="zc-doc-table",
                )
                edit_target = build_manage_section(live, jobs, admin_password, upload_config, doc_choices)
                pick = gr.Dropdown(doc_choices, value=doc_choices[0][1] if doc_choices else None, label="阅读文件")
                reader = gr.HTML(reader_html(doc_choices[0][1] if doc_choices else None, shelf), elem_id="zc-reader")
                pick.change(lambda d: reader_html(d, shelf_of(live.library.index)), pick, reader, api_visibility="private")
                log = gr.Dataframe(changes_rows(live.library.corpus_dir), headers=["时间", "操作人", "操作", "文件", "内容"],
                                   interactive=False, label="变更记录 Changes", elem_id="zc-changes")
            compare_years, compare_series, compare_note = build_compare_tab(live.library, use=live.use)
            with gr.Tab("评估 Evaluation", id="evaluation"):
                # The latest `zhengce eval` report, read when the tab is shown, so a new run appears on refresh.
                report = gr.Markdown(elem_id="zc-eval-report")
                refresh = gr.Button("刷新 Refresh", size="sm")
                for event in (refresh.click, demo.load):
                    event(lambda: eval_report_markdown(eval_dir), None, report, api_visibility="private")
        gr.api(ask, api_name="ask", concurrency_id="answer", concurrency_limit=CONCURRENCY)
        shown = gr.State("")
        page_parts = [status, shown, header, table, pick, doc_filter, year_filter, log, edit_target, compare_years, compare_series, compare_note]
        timer = gr.Timer(REFRESH_SECONDS)
        for event in (demo.load, timer.tick):
            event(refresh_page, shown, page_parts, api_visibility="private", show_progress="hidden", concurrency_id="refresh",
                  concurrency_limit=None)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_MAX)
    demo.zhengce_live = live  # tests and start() reach the served generation through it
    return demo, theme


def launch(demo, theme, host: str, port: int, block: bool, upload_config: UploadConfig = UploadConfig()):
    try:
        demo.launch(
            server_name=host, server_port=port, prevent_thread_lock=not block, quiet=True, show_error=False,
            theme=theme, css=CSS, footer_links=["api"], enable_monitoring=False, ssr_mode=False,
            # Gradio refuses far larger uploads outright (the disk stays safe); up to twice the limit, the
            # page gets our one-line reason
            max_file_size=2 * upload_config.max_bytes,
        )
    except OSError as exc:
        raise ZhengceError(f"cannot listen on {host}:{port} ({exc}); choose another --port") from None
    return demo


def url_of(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{shown}:{port}/"


def start(lib: Library | LiveLibrary, host: str = "127.0.0.1", port: int = 7860, *,
          generator: Generator | None = None, generator_name: str = "", eval_dir: Path | None = None,
          admin_password: str | None = None, upload_config: UploadConfig = UploadConfig()):
    """Launch without blocking (tests, scripts); call .close() on the result to stop (it stops following
    the index too)."""
    demo, theme = build_app(lib, generator, generator_name, eval_dir, admin_password, upload_config)
    launch(demo, theme, host, port, block=False, upload_config=upload_config)
    close_server = demo.close

    def close() -> None:
        close_server()
        demo.zhengce_live.close()

    demo.close = close
    return demo


def serve(corpus_dir: Path, index_dir: Path, host: str, port: int) -> None:
    """The main job: build the index if there is none, load index + model once, serve until Ctrl+C."""
    from zhengce.app.web_manage import admin_secret
    from zhengce.generate import generator_from_env
    from zhengce.library import ensure_index
    from zhengce.paths import default_eval_dir

    built = ensure_index(corpus_dir, index_dir)
    if built:
        print(f"built the index: {built.report.chunks} chunks → {index_dir}", flush=True)
    lib = Library.open(corpus_dir, index_dir, build=False)
    generator, name = generator_from_env()
    secret = admin_secret()
    demo = start(lib, host, port, generator=generator, generator_name=name, eval_dir=default_eval_dir(), admin_password=secret)
    mode = f"generative answers by {name}" if generator else "extractive answers, offline"
    manage = "management on (admin password set)" if secret else "management off: set ZHENGCE_ADMIN_PASSWORD to upload, edit, remove"
    print(f"zhengce: web chat at {url_of(host, port)} ({mode}; {manage}; Ctrl+C to stop)", flush=True)
    stop_on_sigterm()
    try:
        demo.block_thread()
    finally:
        demo.close()


def stop_on_sigterm() -> None:
    """A service manager (systemd, docker stop) sends SIGTERM: stop as cleanly as on Ctrl+C, which
    block_thread turns into closing the server (otherwise SIGTERM ends the process mid-request)."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
