"""Where things live by default. Every command can override these with flags or environment variables.

Run from a checkout (the editable install of scripts/setup.sh), the defaults are the checkout's corpus/
and data/. Installed from a wheel, the package has no corpus beside it: the corpus is ./corpus (or
--corpus) and the index and reports go to $XDG_DATA_HOME/zhengce (~/.local/share/zhengce).
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_PARENT = Path(__file__).resolve().parents[1]
IN_CHECKOUT = (PACKAGE_PARENT / "pyproject.toml").is_file() and (PACKAGE_PARENT / "ingest").is_dir()
REPO_ROOT = PACKAGE_PARENT if IN_CHECKOUT else None
EVAL_REPORT_GLOB = "eval-*.md"  # the reports `zhengce eval` writes, newest last by name


def default_corpus_dir() -> Path:
    """$ZHENGCE_CORPUS, else the bundled corpus/ of this checkout, else ./corpus."""
    if os.environ.get("ZHENGCE_CORPUS"):
        return Path(os.environ["ZHENGCE_CORPUS"])
    if REPO_ROOT is not None and (REPO_ROOT / "corpus").is_dir():
        return REPO_ROOT / "corpus"
    return Path.cwd() / "corpus"


def default_data_dir() -> Path:
    """$ZHENGCE_HOME, else data/ in this checkout, else $XDG_DATA_HOME/zhengce (index, reports)."""
    if os.environ.get("ZHENGCE_HOME"):
        return Path(os.environ["ZHENGCE_HOME"])
    if REPO_ROOT is not None:
        return REPO_ROOT / "data"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "zhengce"


def default_index_dir() -> Path:
    """$ZHENGCE_INDEX_DIR, else <data dir>/index."""
    if os.environ.get("ZHENGCE_INDEX_DIR"):
        return Path(os.environ["ZHENGCE_INDEX_DIR"])
    return default_data_dir() / "index"


def default_eval_dir() -> Path:
    return default_data_dir() / "eval"


def latest_eval_report(eval_dir: Path) -> str | None:
    """The newest `zhengce eval` report's markdown in eval_dir, or None when there is none."""
    reports = sorted(eval_dir.glob(EVAL_REPORT_GLOB)) if eval_dir.is_dir() else []
    return reports[-1].read_text(encoding="utf-8") if reports else None
