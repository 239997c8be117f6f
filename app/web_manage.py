"""The Documents tab's management part: upload, edit, remove documents, for an administrator.

The work is zhengce add's and zhengce remove/edit's own functions (zhengce/add.py, zhengce/manage.py),
run one at a time in a background thread; the handler streams the build's progress to the page while
questions keep being answered from the served generation, and the LiveLibrary switches when the new one
is complete. Every management call checks the password itself (the API as much as the page); without
ZHENGCE_ADMIN_PASSWORD / ZHENGCE_ADMIN_TOKEN_FILE the controls are hidden and every call is refused.
Uploaded files are read where Gradio put them, copied into the corpus by add_documents and then deleted:
nothing is served back from the upload folder (the app has no allowed_paths and returns no files).
"""
from __future__ import annotations

import hmac
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import gradio as gr  # imported with the web app only (app/web.py imports this module inside build_app)

from zhengce.app.present import issuer_label, year_label
from zhengce.errors import ZhengceError
from zhengce.ingest.load import LoadError
from zhengce.live import LiveLibrary
from zhengce.manage import EDITABLE, check_file_name, read_changes
from zhengce.settings import UploadConfig

MIN_PASSWORD_CHARS = 8
WRONG_PASSWORD_DELAY = 0.5  # seconds: guessing a password through the API gets slow
FIELD_LABELS = {"title": "标题", "year": "年份", "issuer": "发文机关", "date": "成文日期", "doc_number": "文号"}


def admin_secret(environ=os.environ) -> str | None:
    """The administrator password: $ZHENGCE_ADMIN_PASSWORD, or the first line of $ZHENGCE_ADMIN_TOKEN_FILE
    (a file only its owner can read keeps it out of the process list and shell history). None: no admin."""
    secret = environ.get("ZHENGCE_ADMIN_PASSWORD", "")
    if environ.get("ZHENGCE_ADMIN_TOKEN_FILE"):
        path = Path(environ["ZHENGCE_ADMIN_TOKEN_FILE"])
        try:
            secret = (path.read_text(encoding="utf-8").splitlines() or [""])[0].strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ZhengceError(f"cannot read the admin token file {path} ({exc}); fix ZHENGCE_ADMIN_TOKEN_FILE or unset it") from None
    if not secret:
        return None
    if len(secret) < MIN_PASSWORD_CHARS:
        raise ZhengceError(f"the admin password has {len(secret)} characters; use at least {MIN_PASSWORD_CHARS}")
    return secret


def refusal(secret: str | None, given: str | None) -> str | None:
    """Why a management call is refused, or None when the password is right."""
    if secret is None:
        return "管理功能未开启 (management is off): start zhengce serve with ZHENGCE_ADMIN_PASSWORD or ZHENGCE_ADMIN_TOKEN_FILE set"
    if not given or not hmac.compare_digest(given.encode("utf-8"), secret.encode("utf-8")):
        time.sleep(WRONG_PASSWORD_DELAY)
        return "管理员密码不对 (wrong admin password); nothing was changed"
    return None


def check_uploads(paths: list[Path], config: UploadConfig) -> tuple[list[Path], list[str]]:
    """The files that may go on to add_documents, and a line for each that may not. Too many files at once
    refuses them all: a half-done batch is harder to check than a refused one."""
    if len(paths) > config.max_files:
        return [], [f"{len(paths)} files at once, more than {config.max_files}; upload them in smaller batches (or use zhengce add)"]
    accepted, lines = [], []
    for path in paths:
        try:
            check_file_name(path.name)
            size = path.stat().st_size
            if size == 0:
                raise LoadError(f"{path.name}: the file is empty")
            if size > config.max_bytes:
                raise LoadError(f"{path.name}: {size / 1024 / 1024:.1f} MB, more than the {config.max_bytes / 1024 / 1024:.0f} MB limit per file")
        except (LoadError, OSError) as exc:
            lines.append(str(exc) if isinstance(exc, LoadError) else f"{path.name}: cannot read the upload ({exc.strerror})")
            continue
        if path.name in {p.name for p in accepted}:
            lines.append(f"{path.name}: uploaded twice in one batch; only the first is added")
            continue
        accepted.append(path)
    return accepted, lines


def forget_uploads(paths: list[Path]) -> None:
    """Delete Gradio's copies of the uploads (the corpus has its own): nothing stays to be served back."""
    for path in paths:
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()  # Gradio puts each upload in a folder of its own
        except OSError:
            pass


# ---------------------------------------------------------------- background work, one change at a time


@dataclass
class Job:
    kind: str
    done: int = 0  # chunks embedded or reused so far
    total: int = 0
    lines: list[str] = field(default_factory=list)
    finished: threading.Event = field(default_factory=threading.Event)

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def progress_line(self) -> str:
        if self.total:
            return f"正在更新索引 updating the index: {self.done}/{self.total} 个段落（提问照常回答，完成后自动切换）"
        return "正在读取文件 reading the files…"


class Jobs:
    """One worker: changes queue behind each other, like `zhengce add` runs behind the corpus lock."""

    def __init__(self, live: LiveLibrary):
        self.live = live
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zhengce-manage")
        self.running: Job | None = None

    def submit(self, kind: str, work: Callable[[Job], list[str]]) -> Job:
        job = Job(kind)
        self.pool.submit(self.run, job, work)
        return job

    def run(self, job: Job, work: Callable[[Job], list[str]]) -> None:
        self.running = job
        try:
            job.lines = work(job)
        except ZhengceError as exc:
            job.lines = [f"未完成 (not done): {exc}"]
        except Exception as exc:  # a bug must not kill the worker; the page gets one line, the log the type
            print(f"zhengce: {job.kind} failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            job.lines = [f"未完成 (not done): {type(exc).__name__}: {exc}"]
        finally:
            self.live.refresh()  # serve the new generation now, not at the next poll
            self.running = None
            job.finished.set()


def index_line(result) -> str:
    report = result.report
    return (f"索引已更新 index updated [{report.generation}]: {report.documents} 份文件、{report.chunks} 个段落"
            f"（新嵌入 {report.embedded}，复用 {report.reused}），{report.seconds:.1f} 秒")


def as_markdown(lines: list[str]) -> str:
    from zhengce.app.web import esc

    return "\n".join(f"- {esc(line)}" for line in lines)


def follow(job: Job, before: list[str]):
    """Yield the page's text until the job is done (the page shows progress; the API gets the last one)."""
    while not job.finished.wait(0.5):
        yield as_markdown(before + [job.progress_line()])
    yield as_markdown(before + job.lines)


# ---------------------------------------------------------------- the controls


def build_manage_section(live: LiveLibrary, jobs: Jobs, secret: str | None, config: UploadConfig, doc_choices: list):
    """Inside the Documents tab: the login row (shown only when an admin password is set) and the controls
    (shown after login). Returns the components the page refresh updates."""
    from zhengce.add import add_documents
    from zhengce.manage import edit_document, remove_documents

    def who_of(name: str | None, request: gr.Request | None) -> str:
        host = getattr(getattr(request, "client", None), "host", "") or "?"
        return f"{(name or '').strip()[:40] or '管理员'} (web, {host})"

    def login(password):
        refused = refusal(secret, password)
        if refused:
            return gr.update(visible=False), as_markdown([refused])
        return gr.update(visible=True), "已登录 (logged in)：可以上传、修改、删除文件；每次修改都记入下方的变更记录。"

    def upload(password, name, files, request: gr.Request):
        """Add files to the library (admin): a line per file, then the index is updated in the background."""
        paths = [Path(f) for f in (files or [])]
        refused = refusal(secret, password)
        if refused:
            forget_uploads(paths)
            yield as_markdown([refused])
            return
        if not paths:
            yield as_markdown(["没有选择文件 (no files chosen)"])
            return
        accepted, lines = check_uploads(paths, config)
        lines = [f"未添加 not added: {line}" for line in lines]
        if not accepted:
            forget_uploads(paths)
            yield as_markdown(lines)
            return
        who = who_of(name, request)

        def work(job: Job) -> list[str]:
            try:
                lib = live.library
                result = add_documents(accepted, lib.corpus_dir, lib.index_dir, model_id=lib.index.model_id,
                                       show_progress=False, who=who, on_progress=job.progress)
            finally:
                forget_uploads(paths)
            out = [f"未添加 not added: {p.reason}" for p in result.problems]
            out += [f"已添加 added {m.file}: 《{m.title}》 {year_label(m.year)} {issuer_label(m.issuer)}".rstrip() for m in result.added]
            out += [f"注意 note: {n.line()}" for n in result.notes]
            return out + ([index_line(result.index)] if result.index else [])

        yield from follow(jobs.submit("upload", work), lines)

    def edit(password, name, doc_id, title, year, issuer, date, doc_number, request: gr.Request):
        """Change a document's title, year, issuer, date or 文号 (admin); empty fields stay as they are."""
        refused = refusal(secret, password) or ("" if doc_id else "先选择一个文件 (choose a document)")
        if refused:
            yield as_markdown([refused])
            return
        # the form is filled with the current values: only what the person changed is an edit
        current = next((d for d in live.library.documents if d["doc_id"] == doc_id), {})
        changes = {k: v for k, v in zip(EDITABLE, (title, year, issuer, date, doc_number)) if str(v or "").strip() != str(current.get(k) or "")}

        def work(job: Job) -> list[str]:
            lib = live.library
            result = edit_document(doc_id, changes, lib.corpus_dir, lib.index_dir, who=who_of(name, request),
                                   model_id=lib.index.model_id, show_progress=False, on_progress=job.progress)
            return [f"已修改 edited {result.files[0]}", index_line(result.index)]

        yield from follow(jobs.submit("edit", work), [])

    def remove(password, name, doc_id, request: gr.Request):
        """Take a document out of the library (admin); the file is kept in corpus/.removed/."""
        refused = refusal(secret, password) or ("" if doc_id else "先选择一个文件 (choose a document)")
        if refused:
            yield as_markdown([refused])
            return

        def work(job: Job) -> list[str]:
            lib = live.library
            result = remove_documents([doc_id], lib.corpus_dir, lib.index_dir, who=who_of(name, request),
                                      model_id=lib.index.model_id, show_progress=False, on_progress=job.progress)
            return [f"已删除 removed {result.files[0]}（文件保存在 corpus/.removed/）", index_line(result.index)]

        yield from follow(jobs.submit("remove", work), [])

    def fill(doc_id):
        document = next((d for d in live.library.documents if d["doc_id"] == doc_id), None) or {}
        return [gr.update(value=str(document.get(k) or "")) for k in EDITABLE]

    with gr.Column(visible=secret is not None, elem_id="zc-admin-login"):
        gr.Markdown("#### 管理 Manage（管理员）")
        with gr.Row():
            password = gr.Textbox(type="password", label="管理员密码 Admin password", elem_id="zc-admin-password", scale=3)
            name = gr.Textbox(label="姓名（记入变更记录）", elem_id="zc-admin-name", scale=2)
            go = gr.Button("登录 Log in", elem_id="zc-login", scale=1)
        note = gr.Markdown(elem_id="zc-login-note")
    with gr.Column(visible=False, elem_id="zc-manage") as controls:
        files = gr.File(file_count="multiple", type="filepath", elem_id="zc-upload",
                        label=f"上传文件（.txt .md .html .docx .pdf .doc .wps；每次最多 {config.max_files} 个，每个不超过 {config.max_bytes // 1024 // 1024} MB）")
        send = gr.Button("上传并更新索引 Upload", variant="primary", elem_id="zc-upload-go")
        with gr.Row():
            # custom values: the choices grow with uploads, and remove/edit check the id themselves
            target = gr.Dropdown(doc_choices, value=None, label="修改或删除的文件", elem_id="zc-edit-doc", scale=3,
                                 allow_custom_value=True)
            remove_button = gr.Button("删除文件 Remove", variant="stop", elem_id="zc-remove", scale=1)
        with gr.Row():
            fields = [gr.Textbox(label=FIELD_LABELS[k], elem_id=f"zc-edit-{k}") for k in EDITABLE]
        save = gr.Button("保存修改 Save", elem_id="zc-edit-save")
        result = gr.Markdown(elem_id="zc-manage-result")
    go.click(login, password, [controls, note], api_visibility="private")
    send.click(upload, [password, name, files], result, api_name="upload", concurrency_id="manage")
    save.click(edit, [password, name, target, *fields], result, api_name="edit", concurrency_id="manage")
    remove_button.click(remove, [password, name, target], result, api_name="remove", concurrency_id="manage")
    target.change(fill, target, fields, api_visibility="private")
    return target


def changes_rows(corpus_dir: Path, limit: int = 30) -> list[list[str]]:
    actions = {"added": "添加 added", "edited": "修改 edited", "removed": "删除 removed"}
    return [[c.time.replace("T", " ")[:19], c.who, actions.get(c.action, c.action), c.file, c.detail] for c in read_changes(corpus_dir, limit)]
