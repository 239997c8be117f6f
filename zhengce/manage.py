"""Change the library after it is built: remove a document, edit its catalog metadata, and keep a record
of who changed what. `zhengce remove` / `zhengce edit` and the web app's Documents tab call these, as
`zhengce add` and the web upload both call zhengce.add.add_documents.

Every change takes the corpus lock (one writer at a time, web and command line alike), changes the corpus
(files + catalog.toml, the source of truth) first and then builds a new index generation; a crash in
between leaves a corpus that `zhengce index` turns into the complete index, and the previous generation
still serving.
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from zhengce.errors import ZhengceError
from zhengce.index.store import exclusive
from zhengce.ingest.catalog import check_year, read_catalog, remove_catalog_entries, update_catalog
from zhengce.ingest.load import SUPPORTED_SUFFIXES, LoadError
from zhengce.ingest.pipeline import corpus_files
from zhengce.library import IndexResult, check_corpus_dir, index_corpus

CHANGES_NAME = "changes.jsonl"  # in the corpus folder, beside catalog.toml: the corpus's own history
REMOVED_DIR = ".removed"  # removed files are moved here, not deleted: a wrong click loses nothing
EDITABLE = ("title", "year", "issuer", "date", "doc_number")  # what the web form and `zhengce edit` change
MAX_NAME_CHARS = 120  # ext4 allows 255 bytes: 120 characters of Chinese (3 bytes each) leave room for a prefix
MAX_FIELD_CHARS = 200


@dataclass(frozen=True)
class Change:
    time: str  # ISO 8601, seconds
    who: str
    action: str  # added, edited, removed
    file: str
    detail: str = ""

    def line(self) -> str:
        return f"{self.time}  {self.who}  {self.action} {self.file}" + (f": {self.detail}" if self.detail else "")


@dataclass(frozen=True)
class ChangeResult:
    files: list[str]  # the corpus files changed
    index: IndexResult


def command_line_user() -> str:
    try:
        return f"{getpass.getuser()} (command line)"
    except (KeyError, OSError):
        return "command line"


@contextmanager
def corpus_lock(corpus_dir: Path):
    """One change at a time: a web upload and `zhengce add` must not both rewrite catalog.toml."""
    with exclusive(corpus_dir):
        yield


# ---------------------------------------------------------------- the change log


def record_change(corpus_dir: Path, who: str, action: str, file: str, detail: str = "") -> Change:
    change = Change(dt.datetime.now().astimezone().isoformat(timespec="seconds"), who, action, file, detail)
    line = (json.dumps(change.__dict__, ensure_ascii=False) + "\n").encode("utf-8")
    with open(corpus_dir / CHANGES_NAME, "a+b") as handle:
        if handle.seek(0, os.SEEK_END) and (handle.seek(-1, os.SEEK_END), handle.read(1))[1] != b"\n":
            line = b"\n" + line  # a line cut short by a crash stays one damaged line, not two
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    return change


def read_changes(corpus_dir: Path, limit: int = 50) -> list[Change]:
    """The newest changes first. A damaged line (a disk-full write) is skipped, not fatal."""
    path = corpus_dir / CHANGES_NAME
    if not path.exists():
        return []
    changes = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
            changes.append(Change(**{k: str(row.get(k, "")) for k in Change.__dataclass_fields__}))
        except (json.JSONDecodeError, TypeError, AttributeError):
            continue
    return changes[::-1][:limit]


# ---------------------------------------------------------------- checks shared by add and the web upload


def check_file_name(name: str) -> str:
    """A file name people give (an upload, a file to add) that is safe to create in the corpus folder;
    LoadError with one line otherwise. Nothing is renamed silently: the person sees why."""
    shown = repr(name) if any(unicodedata.category(c)[0] == "C" for c in name) else name
    if not name or not name.strip():
        raise LoadError("a file without a name; give the file a name")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in name):
        raise LoadError(f"{shown}: control or invisible characters in the file name; rename the file")
    if "/" in name or "\\" in name or name in (".", "..") or os.path.isabs(name):
        raise LoadError(f"{shown}: a path, not a file name (no / \\ or ..); upload the file itself")
    if name.startswith((".", "~$")):
        raise LoadError(f"{name}: a hidden or temporary file name (starts with . or ~$); rename the file")
    if len(name) > MAX_NAME_CHARS:
        raise LoadError(f"{name[:30]}…: the file name has {len(name)} characters, more than {MAX_NAME_CHARS}; shorten it")
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise LoadError(f"{name}: unsupported file type {Path(name).suffix or '(none)'}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    return name


# ---------------------------------------------------------------- remove and edit


def corpus_file_of(name: str, corpus_dir: Path) -> Path:
    """A document named by its file name or its id (the file name without extension)."""
    files = corpus_files(corpus_dir)
    match = next((p for p in files if p.name == name), None) or next((p for p in files if p.stem == name), None)
    if match is None:
        raise ZhengceError(f"no document {name!r} in {corpus_dir}; see the ids with: zhengce info")
    return match


def remove_documents(
    names: list[str], corpus_dir: Path, index_dir: Path, *, who: str | None = None, model_id: str | None = None,
    show_progress: bool = True, on_progress: Callable[[int, int], None] | None = None,
) -> ChangeResult:
    """Take documents out of the corpus (into corpus/.removed/, with a time stamp), drop their catalog
    entries, record the change and build the index without them."""
    check_corpus_dir(corpus_dir)
    if not names:
        raise ZhengceError("no documents to remove; name them by id or file name")
    who = who or command_line_user()
    with corpus_lock(corpus_dir):
        paths = list(dict.fromkeys(corpus_file_of(n, corpus_dir) for n in names))  # all named, or nothing changes
        if len(paths) >= len(corpus_files(corpus_dir)):
            raise ZhengceError("cannot remove every document: the index needs at least one; add the new ones first")
        trash = corpus_dir / REMOVED_DIR
        trash.mkdir(exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        catalog = read_catalog(corpus_dir)
        for path in paths:
            os.replace(path, trash / f"{stamp}-{path.name}")
        remove_catalog_entries(corpus_dir, [p.name for p in paths])
        for path in paths:
            title = catalog.get(path.name, {}).get("title", "")
            record_change(corpus_dir, who, "removed", path.name, f"《{title}》 kept in {REMOVED_DIR}/" if title else f"kept in {REMOVED_DIR}/")
        result = index_corpus(corpus_dir, index_dir, model_id=model_id, show_progress=show_progress, on_progress=on_progress)
    return ChangeResult([p.name for p in paths], result)


def check_edit(changes: dict) -> dict:
    """The fields to change, checked: a known field, one line of text, a plausible year. Empty values are
    left out (the form sends every field)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ZhengceError(f"cannot edit {', '.join(sorted(unknown))}; editable: {', '.join(EDITABLE)}")
    checked = {}
    for key, value in changes.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if key == "year":
            checked[key] = check_year(value.strip() if isinstance(value, str) else value, "year")
            continue
        value = str(value).strip()
        if len(value) > MAX_FIELD_CHARS or any(unicodedata.category(c) == "Cc" for c in value):
            raise ZhengceError(f"{key}: one line of at most {MAX_FIELD_CHARS} characters, please")
        checked[key] = value
    if not checked:
        raise ZhengceError(f"nothing to change; give at least one of {', '.join(EDITABLE)}")
    return checked


def edit_document(
    name: str, changes: dict, corpus_dir: Path, index_dir: Path, *, who: str | None = None, model_id: str | None = None,
    show_progress: bool = True, on_progress: Callable[[int, int], None] | None = None,
) -> ChangeResult:
    """Write the changed fields into catalog.toml (where they override what is inferred), record the change,
    rebuild the index. Passages whose text did not change keep their vectors."""
    check_corpus_dir(corpus_dir)
    checked = check_edit(changes)
    who = who or command_line_user()
    with corpus_lock(corpus_dir):
        path = corpus_file_of(name, corpus_dir)
        before = read_catalog(corpus_dir).get(path.name, {})
        update_catalog(corpus_dir, [{"file": path.name, **checked}])
        detail = ", ".join(f"{k} {before.get(k, '')!s}→{v}" if before.get(k) not in (None, "") else f"{k} →{v}" for k, v in checked.items())
        record_change(corpus_dir, who, "edited", path.name, detail)
        result = index_corpus(corpus_dir, index_dir, model_id=model_id, show_progress=show_progress, on_progress=on_progress)
    return ChangeResult([path.name], result)
