"""What the CLI and the web app both call: build the index, open it with its model, describe it."""
from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ingest.chunk import ChunkConfig
from ingest.errors import ZhengceError
from ingest.pipeline import CorpusProblem, chunk_corpus, ingest_corpus
from index.embed import Embedder, default_model_id, load_embedder
from index.store import BuildReport, IndexMissing, IndexOutdated, LoadedIndex, build_index, current_generation, load_index, read_manifest


@dataclass(frozen=True)
class IndexResult:
    report: BuildReport
    problems: list[CorpusProblem]


def check_corpus_dir(corpus_dir: Path) -> None:
    if not corpus_dir.is_dir():
        raise ZhengceError(f"corpus folder {corpus_dir} does not exist; pass --corpus DIR or set ZHENGCE_CORPUS")


def index_corpus(
    corpus_dir: Path,
    index_dir: Path,
    model_id: str | None = None,
    chunk_config: ChunkConfig = ChunkConfig(),
    show_progress: bool = True,
) -> IndexResult:
    from tqdm import tqdm

    check_corpus_dir(corpus_dir)
    documents, problems = ingest_corpus(corpus_dir)
    if not documents:
        reasons = "; ".join(p.reason for p in problems) or "no supported files: .txt .md .html .docx .pdf .doc .wps"
        raise ZhengceError(f"no readable documents in {corpus_dir} ({reasons})")
    chunks = chunk_corpus(documents, chunk_config)
    embedder = load_embedder(model_id or default_model_id())
    with tqdm(total=len(chunks), desc="embedding", unit="chunk", disable=not show_progress, file=sys.stderr) as bar:
        report = build_index(index_dir, documents, chunks, embedder, chunk_config, progress=bar.update)
        bar.update(bar.total - bar.n)  # chunks reused from the last build count as done
    return IndexResult(report, problems)


def open_index(index_dir: Path) -> tuple[LoadedIndex, Embedder]:
    """Load the index and the model it was built with (ZHENGCE_MODEL, if set, must agree)."""
    requested = os.environ.get("ZHENGCE_MODEL")
    index = load_index(index_dir, model_id=requested or None)
    return index, load_embedder(index.model_id)


def ensure_index(corpus_dir: Path, index_dir: Path, show_progress: bool = True) -> IndexResult | None:
    """Build the index when there is none yet (the main job's first run) or when an older zhengce built it;
    otherwise leave it alone. The corpus is the source of truth, so a rebuild loses nothing."""
    try:
        read_manifest(current_generation(index_dir))
        return None
    except (IndexMissing, IndexOutdated) as exc:
        if isinstance(exc, IndexOutdated):
            print(f"zhengce: {str(exc).split(';')[0]}; rebuilding it from {corpus_dir}", file=sys.stderr)
        return index_corpus(corpus_dir, index_dir, show_progress=show_progress)


def describe(corpus_dir: Path, index_dir: Path) -> dict:
    from index.default_model import default_model_cache

    info: dict = {
        "corpus": {"path": str(corpus_dir), "exists": corpus_dir.is_dir()},
        "index": {"path": str(index_dir)},
        "model": {"configured": default_model_id(), "cache": str(default_model_cache())},
    }
    if corpus_dir.is_dir():
        info["corpus"]["files"] = sorted(p.name for p in corpus_dir.iterdir() if p.is_file() and p.name != "catalog.toml")
    try:
        index = load_index(index_dir)
    except ZhengceError as exc:
        info["index"]["status"] = str(exc)
        return info
    manifest = index.manifest
    info["index"].update(
        status="ok",
        generation=index.path.name,
        created=manifest["created"],
        schema_version=manifest["schema_version"],
        chunks=len(index.chunks),
        chunker=manifest["chunker"],
        keyword=manifest["keyword"],
        dense=manifest["dense"],
        documents_per_year={str(y): n for y, n in sorted(Counter(d["year"] for d in index.documents).items(), key=lambda kv: str(kv[0]))},
        documents=[
            {k: d[k] for k in ("doc_id", "title", "year", "issuer", "date", "file", "chunk_count")} for d in index.documents
        ],
    )
    info["model"].update(index_model=manifest["model"]["id"], dimension=manifest["model"]["dimension"])
    return info
