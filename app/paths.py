"""Where things live by default. Every command can override these with flags or environment variables."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def default_corpus_dir() -> Path:
    """$ZHENGCE_CORPUS, else the bundled corpus/ of this checkout."""
    if os.environ.get("ZHENGCE_CORPUS"):
        return Path(os.environ["ZHENGCE_CORPUS"])
    bundled = REPO_ROOT / "corpus"
    return bundled if bundled.is_dir() else Path.cwd() / "corpus"


def default_data_dir() -> Path:
    """$ZHENGCE_HOME, else data/ in this checkout (index, reports)."""
    return Path(os.environ["ZHENGCE_HOME"]) if os.environ.get("ZHENGCE_HOME") else REPO_ROOT / "data"


def default_index_dir() -> Path:
    """$ZHENGCE_INDEX_DIR, else <data dir>/index."""
    if os.environ.get("ZHENGCE_INDEX_DIR"):
        return Path(os.environ["ZHENGCE_INDEX_DIR"])
    return default_data_dir() / "index"
