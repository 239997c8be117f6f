"""The index on disk: FAISS vectors + BM25 keyword index + chunks, saved as atomic generations.

    index_dir/
      CURRENT            name of the live generation (replaced atomically)
      gen-000007/        manifest.json, chunks.jsonl, documents.jsonl, vectors.npy, dense.faiss, bm25/,
                         sentence_vectors.npy + sentence_owner.npy (one vector per sentence)
      gen-000006/        the previous generation, kept so a bad build never leaves nothing to search

No pickle anywhere: FAISS's own format, .npy without pickle, JSON Lines.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np

from zhengce.errors import ZhengceError
from zhengce.settings import ChunkConfig, DenseIndexConfig
from zhengce.ingest.clean import to_simplified
from zhengce.ingest.records import Chunk, Document, DocumentMeta
from zhengce.index.embed import EMBED_TEXT_VERSION, Embedder, embedding_text, expected_runtime, runtime_of, sentences, text_hash
from zhengce.index.tokenize import tokenize, tokenizer_id

SCHEMA_VERSION = 1
CURRENT = "CURRENT"
# Chunks of PDFs and scans carry their pages since this version; an older index of a corpus with PDFs
# would cite them without page numbers, so it is rebuilt (its vectors are reused: the texts are the same).
PAGES_VERSION = 1
PAGED_FILE_RE = re.compile(r"\.(?:pdf|png|jpe?g|tiff?)$", re.IGNORECASE)


class IndexMissing(ZhengceError):
    pass


class IndexMismatch(ZhengceError):
    pass


class IndexCorrupt(ZhengceError):
    pass


class IndexOutdated(IndexMismatch):
    """Built by an older zhengce (schema or embedded text); rebuilding from the corpus fixes it."""


@dataclass
class LoadedIndex:
    path: Path  # the generation folder
    manifest: dict
    chunks: list[Chunk]
    documents: list[dict]  # meta + cleaned text + section outline, for the reader
    vectors: np.ndarray
    dense: object  # faiss.Index
    bm25: object  # bm25s.BM25
    # one vector per sentence of every chunk, and the chunk row each belongs to (None: an index built
    # before sentence vectors existed; search then scores whole chunks only)
    sentence_vectors: np.ndarray | None = None
    sentence_owner: np.ndarray | None = None

    @cached_property
    def row_of(self) -> dict[str, int]:
        """chunk id → row in chunks / vectors."""
        return {chunk.chunk_id: row for row, chunk in enumerate(self.chunks)}

    @property
    def model_id(self) -> str:
        return self.manifest["model"]["id"]

    @property
    def exact(self) -> bool:
        """Exact inner-product search over all chunks (small indexes) or HNSW candidates (large ones)."""
        return self.manifest["dense"].get("exact", True)

    # Per-row facts as arrays, computed once: per-query Python loops over 100k chunks cost ~30 ms.
    @cached_property
    def years(self) -> list[int]:
        return sorted({c.year for c in self.chunks if c.year is not None})

    @cached_property
    def row_years(self) -> list[int | None]:
        return [c.year for c in self.chunks]

    @cached_property
    def row_year_array(self) -> np.ndarray:
        return np.array([-1 if c.year is None else c.year for c in self.chunks], dtype=np.int32)

    @cached_property
    def row_doc_array(self) -> np.ndarray:
        return np.array([c.doc_id for c in self.chunks], dtype=object)

    @cached_property
    def plain_text(self) -> str:
        """Every document's cleaned text (headings included) without brackets, for "do the documents ever
        mention X" checks: the plan writes 新（扩）建 where a reader writes 扩建. In simplified characters, like
        the word lists the checks take their names from."""
        return to_simplified(re.sub(r"[（）()]", "", "\n".join(d["text"] for d in self.documents)))

    @cached_property
    def doc_places(self) -> dict[str, frozenset[str]]:
        """doc_id → the places the document is about (its title's and issuers', index/scope.py)."""
        from zhengce.index.scope import document_places

        return {d["doc_id"]: document_places(d) for d in self.documents}

    @cached_property
    def row_places(self) -> list[frozenset[str]]:
        return [self.doc_places.get(c.doc_id, frozenset()) for c in self.chunks]

    @cached_property
    def places(self) -> frozenset[str]:
        return frozenset().union(*self.row_places) if self.chunks else frozenset()

    @cached_property
    def sentence_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """For each chunk row, [start, end) of its sentences in sentence_vectors (stored in chunk order)."""
        rows = np.arange(len(self.chunks))
        owner = self.sentence_owner if self.sentence_owner is not None else np.zeros(0, dtype=np.int64)
        return np.searchsorted(owner, rows, "left"), np.searchsorted(owner, rows, "right")


@dataclass(frozen=True)
class BuildReport:
    generation: str
    documents: int
    chunks: int
    embedded: int  # chunks whose vectors were computed in this build
    reused: int  # chunks whose vectors came from the previous generation
    seconds: float


# ---------------------------------------------------------------- reading


def current_generation(index_dir: Path) -> Path:
    pointer = index_dir / CURRENT
    if not pointer.exists():
        raise IndexMissing(f"no index in {index_dir}; build it with: zhengce index")
    name = pointer.read_text(encoding="utf-8").strip()
    path = index_dir / name
    if not name or not path.is_dir():
        raise IndexCorrupt(f"{pointer} points to a missing generation {name!r}; rebuild with: zhengce index")
    return path


def read_manifest(generation: Path, need_pages: bool = True) -> dict:
    try:
        manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexCorrupt(f"cannot read {generation / 'manifest.json'} ({exc}); rebuild with: zhengce index") from None
    return check_manifest(manifest, f"index in {generation.parent}", need_pages)


def check_manifest(manifest: dict, where: str, need_pages: bool = True) -> dict:
    """Refuse an index this zhengce cannot search correctly (schema, embedded text, runtime, tokenizer);
    where: "index in DIR", or the Milvus collection holding it (index/milvus_backend.py)."""
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise IndexOutdated(
            f"{where} has schema {manifest.get('schema_version')}, this zhengce needs "
            f"{SCHEMA_VERSION}; rebuild with: zhengce index"
        )
    if manifest.get("model", {}).get("embed_text") != EMBED_TEXT_VERSION:
        raise IndexOutdated(
            f"{where} embeds {manifest.get('model', {}).get('embed_text')!r}, this zhengce embeds "
            f"{EMBED_TEXT_VERSION!r}; rebuild with: zhengce index"
        )
    # Never search with vectors from another encoder. An index written before runtimes were recorded was
    # computed on torch; an embedder that names no runtime (tests' fake, in-house services) is not checked.
    recorded = manifest.get("model", {}).get("runtime", "torch")
    expected = expected_runtime(manifest.get("model", {}).get("id", ""))
    if expected is not None and recorded != expected:
        raise IndexOutdated(
            f"{where} holds vectors computed on {recorded}, this zhengce encodes on {expected}; "
            "rebuild with: zhengce index (or set ZHENGCE_RUNTIME to the one it was built with)"
        )
    tokenizer = manifest.get("keyword", {}).get("tokenizer")
    if tokenizer != tokenizer_id():  # e.g. built before keywords were converted to simplified characters
        raise IndexOutdated(
            f"{where} cuts keywords with {tokenizer!r}, this zhengce with {tokenizer_id()!r}; "
            "rebuild with: zhengce index"
        )
    paged = any(PAGED_FILE_RE.search(d.get("file", "")) for d in manifest.get("documents", []))
    if need_pages and paged and manifest.get("pages_version") != PAGES_VERSION:
        raise IndexOutdated(
            f"{where} was built before PDF passages kept their page numbers; rebuild with: zhengce index"
        )
    return manifest


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def single_threaded_blas() -> None:
    """Search does one matrix-vector product per query, which is memory-bound: one BLAS thread does it as
    fast as two, and two threads stall whenever torch or another process holds a core (measured on
    40k sentence vectors: 2.4 ms with one thread, 8 ms with two under load)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def load_index(index_dir: Path, model_id: str | None = None) -> LoadedIndex:
    """Load the live generation, verifying checksums; refuse an index built with another model."""
    import bm25s
    import faiss

    single_threaded_blas()
    generation = current_generation(index_dir)
    manifest = read_manifest(generation)
    if model_id is not None and manifest["model"]["id"] != model_id:
        raise IndexMismatch(
            f"index in {index_dir} was built with model {manifest['model']['id']!r}, not {model_id!r}; "
            "rebuild with: zhengce index (or use the model it was built with)"
        )
    for name, expected in manifest["files"].items():
        path = generation / name
        if not path.exists() or file_sha256(path) != expected:
            raise IndexCorrupt(f"index file {path} is missing or damaged (checksum mismatch); rebuild with: zhengce index")
    try:
        chunks = [Chunk.from_json(json.loads(line)) for line in read_lines(generation / "chunks.jsonl")]
        documents = [json.loads(line) for line in read_lines(generation / "documents.jsonl")]
        # Memory-mapped: a large index's sentence and chunk vectors are read only where a query looks.
        vectors = np.load(generation / "vectors.npy", allow_pickle=False, mmap_mode="r")
        dense = faiss.read_index(str(generation / "dense.faiss"))
        bm25 = bm25s.BM25.load(str(generation / "bm25"), allow_pickle=False)
        sentence_vectors = sentence_owner = None
        if (generation / "sentence_vectors.npy").exists():
            sentence_vectors = np.load(generation / "sentence_vectors.npy", allow_pickle=False, mmap_mode="r")
            sentence_owner = np.load(generation / "sentence_owner.npy", allow_pickle=False)
    except Exception as exc:  # checksums passed, so this is a version problem, not damage
        raise IndexCorrupt(f"cannot load index in {generation} ({type(exc).__name__}: {exc}); rebuild with: zhengce index") from None
    if not (len(chunks) == len(vectors) == dense.ntotal):
        raise IndexCorrupt(f"index in {generation} is inconsistent ({len(chunks)} chunks, {dense.ntotal} vectors); rebuild with: zhengce index")
    if sentence_vectors is not None and (len(sentence_vectors) != len(sentence_owner) or (len(sentence_owner) and sentence_owner.max() >= len(chunks))):
        raise IndexCorrupt(f"index in {generation} has inconsistent sentence vectors; rebuild with: zhengce index")
    return LoadedIndex(generation, manifest, chunks, documents, vectors, dense, bm25, sentence_vectors, sentence_owner)


def read_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


# ---------------------------------------------------------------- building


def chunk_sentences(chunks: list[Chunk]) -> tuple[list[str], np.ndarray]:
    """Every chunk's sentences in chunk order, and the chunk row of each."""
    texts, owner = [], []
    for row, chunk in enumerate(chunks):
        for sentence in sentences(chunk.text):
            texts.append(sentence)
            owner.append(row)
    return texts, np.asarray(owner, dtype=np.int32)


def previous_vectors(index_dir: Path, embedder: Embedder) -> dict[str, np.ndarray]:
    """embedded-text hash → vector (chunks and sentences) from the live generation, if the same model on the
    same runtime computed them."""
    try:
        generation = current_generation(index_dir)
        manifest = read_manifest(generation, need_pages=False)  # page numbers do not change what is embedded
        if (manifest["model"]["id"] != embedder.model_id or manifest["model"].get("embed_text") != EMBED_TEXT_VERSION
                or manifest["model"].get("runtime") != runtime_of(embedder)):
            return {}
        chunks = [Chunk.from_json(json.loads(line)) for line in read_lines(generation / "chunks.jsonl")]
        vectors = np.load(generation / "vectors.npy", allow_pickle=False)
        sentence_vectors = np.load(generation / "sentence_vectors.npy", allow_pickle=False)
    except (ZhengceError, OSError, ValueError, KeyError):
        return {}  # nothing reusable: embed everything
    texts = [embedding_text(c) for c in chunks]
    sentence_texts, _ = chunk_sentences(chunks)
    if len(chunks) != len(vectors) or len(sentence_texts) != len(sentence_vectors):
        return {}
    return {text_hash(t): v for t, v in zip(texts + sentence_texts, np.concatenate([vectors, sentence_vectors]))}


def embed_texts(
    texts: list[str], embedder: Embedder, reusable: dict[str, np.ndarray], progress: Callable[[int], None] | None
) -> tuple[np.ndarray, list[int]]:
    """Vectors for texts, computing only those not in reusable; returns them and the computed rows."""
    hashes = [text_hash(t) for t in texts]
    missing = [i for i, h in enumerate(hashes) if h not in reusable]
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    for i, h in enumerate(hashes):
        if h in reusable:
            vectors[i] = reusable[h]
    if missing:
        vectors[missing] = embedder.encode_documents([texts[i] for i in missing], progress=progress)
    return vectors, missing


def embed_chunks(
    chunks: list[Chunk], embedder: Embedder, reusable: dict[str, np.ndarray], progress: Callable[[int], None] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(chunk vectors, sentence vectors, sentence → chunk row, chunks embedded). Progress is reported in
    chunks (the unit the caller's bar counts) although sentences are embedded too."""
    texts = [embedding_text(c) for c in chunks]
    sentence_texts, owner = chunk_sentences(chunks)
    all_texts = texts + sentence_texts
    done = reported = 0

    def in_chunks(n: int) -> None:
        nonlocal done, reported
        done += n
        now = done * len(chunks) // max(1, len(all_texts))
        if progress and now > reported:
            progress(now - reported)
            reported = now

    vectors, computed = embed_texts(all_texts, embedder, reusable, in_chunks)
    return vectors[: len(chunks)], vectors[len(chunks) :], owner, sum(1 for i in computed if i < len(chunks))


def build_index(
    index_dir: Path,
    documents: list[Document],
    chunks: list[Chunk],
    embedder: Embedder,
    chunk_config: ChunkConfig,
    progress: Callable[[int], None] | None = None,
    dense_config: DenseIndexConfig = DenseIndexConfig(),
) -> BuildReport:
    """Write a new generation next to the live one and switch to it only when it is complete."""
    started = time.perf_counter()
    if not chunks:
        raise ZhengceError("nothing to index: the corpus has no readable documents")
    index_dir.mkdir(parents=True, exist_ok=True)
    with exclusive(index_dir / ".build.lock"):  # a web upload and `zhengce index` would name the same generation
        return build_generation(index_dir, documents, chunks, embedder, chunk_config, progress, dense_config, started)


def build_generation(
    index_dir: Path, documents: list[Document], chunks: list[Chunk], embedder: Embedder, chunk_config: ChunkConfig,
    progress: Callable[[int], None] | None, dense_config: DenseIndexConfig, started: float,
) -> BuildReport:
    import bm25s
    import faiss

    remove_stale_temporaries(index_dir)
    reusable = previous_vectors(index_dir, embedder)
    vectors, sentence_vectors, sentence_owner, embedded = embed_chunks(chunks, embedder, reusable, progress)

    name = next_generation_name(index_dir)
    tmp = index_dir / f".tmp-{name}-{os.getpid()}"
    tmp.mkdir()
    write_jsonl(tmp / "chunks.jsonl", [c.to_json() for c in chunks])
    write_jsonl(tmp / "documents.jsonl", [document_record(d, chunks) for d in documents])
    np.save(tmp / "vectors.npy", vectors, allow_pickle=False)
    np.save(tmp / "sentence_vectors.npy", sentence_vectors, allow_pickle=False)
    np.save(tmp / "sentence_owner.npy", sentence_owner, allow_pickle=False)
    dense = make_dense_index(vectors, dense_config)
    faiss.write_index(dense, str(tmp / "dense.faiss"))
    bm25 = bm25s.BM25()
    bm25.index([tokenize(f"{c.section} {c.text}") or ["∅"] for c in chunks], show_progress=False)
    bm25.save(str(tmp / "bm25"), allow_pickle=False, show_progress=False)

    files = {str(p.relative_to(tmp)): file_sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": {"id": embedder.model_id, "dimension": embedder.dimension, "embed_text": EMBED_TEXT_VERSION,
                  **({"runtime": runtime_of(embedder)} if runtime_of(embedder) else {})},
        "chunker": chunk_config.to_json(),
        "keyword": {"tokenizer": tokenizer_id(), "bm25": "bm25s default (lucene, k1=1.5, b=0.75)"},
        "dense": dense_description(dense, dense_config),
        "chunk_count": len(chunks),
        "pages_version": PAGES_VERSION,
        "documents": [{"doc_id": d.meta.doc_id, "file": d.meta.file, "sha256": d.sha256} for d in documents],
        "files": files,
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    fsync_tree(tmp)
    os.replace(tmp, index_dir / name)
    switch_current(index_dir, name)
    prune_generations(index_dir, dense_config.keep_generations)
    return BuildReport(name, len(documents), len(chunks), embedded, len(chunks) - embedded, time.perf_counter() - started)


def make_dense_index(vectors: np.ndarray, config: DenseIndexConfig = DenseIndexConfig()):
    """Exact inner product for small corpora; HNSW when exact search gets too slow (by chunk count)."""
    import faiss

    dimension = vectors.shape[1]
    if len(vectors) <= config.exact_search_max_chunks:
        index = faiss.IndexFlatIP(dimension)
    else:
        index = faiss.IndexHNSWFlat(dimension, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = config.hnsw_ef_construction
        index.hnsw.efSearch = config.hnsw_ef_search
    index.add(vectors)
    return index


def dense_description(index, config: DenseIndexConfig) -> dict:
    exact = type(index).__name__ == "IndexFlatIP"
    return {
        "faiss": type(index).__name__,
        "exact": exact,
        "metric": "inner product over L2-normalised vectors",
        "params": {} if exact else {"M": config.hnsw_m, "efConstruction": config.hnsw_ef_construction, "efSearch": config.hnsw_ef_search},
        "exact_search_max_chunks": config.exact_search_max_chunks,
    }


def document_record(document: Document, chunks: list[Chunk]) -> dict:
    meta = document.meta
    return {
        **{k: getattr(meta, k) for k in DocumentMeta.__dataclass_fields__},
        "sha256": document.sha256,
        "chunk_count": sum(1 for c in chunks if c.doc_id == meta.doc_id),
        "text": document.text,
        "outline": [s.path_text for s in document.sections if s.heading],
        **({"pages": list(document.pages)} if document.pages else {}),
    }


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def generation_names(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.is_dir() and p.name.startswith("gen-"))


def next_generation_name(index_dir: Path) -> str:
    names = generation_names(index_dir)
    number = int(names[-1].split("-")[1]) + 1 if names else 1
    return f"gen-{number:06d}"


def fsync_tree(root: Path) -> None:
    for path in [*root.rglob("*"), root]:
        flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if path.is_dir() else 0)
        fd = os.open(path, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def switch_current(index_dir: Path, name: str) -> None:
    tmp = index_dir / f".{CURRENT}.tmp"
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, index_dir / CURRENT)
    fd = os.open(index_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def prune_generations(index_dir: Path, keep: int) -> None:
    """Remove all but the live generation and the keep-1 before it, except those a running server still
    answers from (pinned with pin_generation); that server prunes them once its last request is done."""
    live = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    names = [n for n in generation_names(index_dir) if n != live]
    for name in names[: max(0, len(names) - (keep - 1))]:
        remove_unless_pinned(index_dir / name)


# ---------------------------------------------------------------- one writer; generations in use
# flock, not a lock file's existence: the kernel drops a killed process's locks, so a crash never leaves
# the library locked. Locks belong to open files, so two threads of one process exclude each other too.
try:
    import fcntl
except ImportError:  # not on Linux/macOS: no pinning, pruning as before
    fcntl = None


@contextmanager
def exclusive(lock_path: Path):
    """Hold an exclusive lock on lock_path for the block, waiting for the holder. A folder is locked
    itself (nothing is written into the corpus); a file is created if needed."""
    fd = os.open(lock_path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if lock_path.is_dir() else os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def pin_generation(generation: Path) -> int | None:
    """A shared lock on the generation folder while a server may answer from it; close the fd to unpin."""
    if fcntl is None:
        return None
    fd = os.open(generation, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def unpin_generation(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)


def remove_unless_pinned(generation: Path) -> bool:
    if fcntl is None:
        shutil.rmtree(generation, ignore_errors=True)
        return True
    try:
        fd = os.open(generation, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False  # a server still answers from it
    try:
        shutil.rmtree(generation, ignore_errors=True)
    finally:
        os.close(fd)
    return True


def remove_stale_temporaries(index_dir: Path) -> None:
    """A build that crashed leaves a .tmp-* folder; it was never live, so it is safe to delete."""
    for path in index_dir.glob(".tmp-gen-*"):
        shutil.rmtree(path, ignore_errors=True)
