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
from zhengce.index.embed import EMBED_TEXT_VERSION, Embedder, embedding_text, expected_runtime, runtime_of, sentences
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
        chunks = read_chunks(generation / "chunks.jsonl")
        documents = [json.loads(line) for line in read_lines(generation / "documents.jsonl")]
        # Memory-mapped: a large index's sentence and chunk vectors and BM25 postings are read only where a
        # query looks.
        vectors = np.load(generation / "vectors.npy", allow_pickle=False, mmap_mode="r")
        dense = faiss.read_index(str(generation / "dense.faiss"))
        bm25 = bm25s.BM25.load(str(generation / "bm25"), allow_pickle=False, mmap=True)
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


def read_chunks(path: Path) -> list[Chunk]:
    """The chunks, one line at a time; a document's id, title and section paths are one string each, shared
    by its chunks (at a million chunks that saves ~200 MB)."""
    shared: dict[str, str] = {}
    chunks = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                for key in ("doc_id", "title", "section"):
                    row[key] = shared.setdefault(row[key], row[key])
                chunks.append(Chunk.from_json(row))
    return chunks


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


def text_key(text: str) -> int:
    """64 bits of the text's SHA-256: a million chunks' keys fit in 40 MB of numpy, where a dict of hex
    digests and vectors would take gigabytes."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


@dataclass
class TextPlan:
    """What a build embeds: every chunk's text, then every sentence of every chunk, described by numbers
    only (keys, lengths, owners) so a million chunks' texts never sit in memory all at once."""

    chunks: list[Chunk]
    keys: np.ndarray  # uint64 text key per text (chunks first, then sentences)
    lengths: np.ndarray  # characters per text: batches of similar length pad little
    sentence_owner: np.ndarray  # chunk row of each sentence
    sentence_place: np.ndarray  # which sentence of its chunk it is

    @property
    def chunk_count(self) -> int:
        return len(self.chunks)

    def texts(self, rows: np.ndarray) -> list[str]:
        n, split = self.chunk_count, {}
        out = []
        for row in rows.tolist():
            if row < n:
                out.append(embedding_text(self.chunks[row]))
                continue
            owner = int(self.sentence_owner[row - n])
            if owner not in split:
                split[owner] = sentences(self.chunks[owner].text)
            out.append(split[owner][self.sentence_place[row - n]])
        return out


def plan_texts(chunks: list[Chunk]) -> TextPlan:
    from array import array

    # typed arrays, not lists: 5 million Python ints would take ~150 MB each
    keys, lengths, owner, place = array("Q"), array("i"), array("i"), array("i")
    for chunk in chunks:
        text = embedding_text(chunk)
        keys.append(text_key(text))
        lengths.append(len(text))
    for row, chunk in enumerate(chunks):
        for number, sentence in enumerate(sentences(chunk.text)):
            keys.append(text_key(sentence))
            lengths.append(len(sentence))
            owner.append(row)
            place.append(number)
    return TextPlan(chunks, np.frombuffer(keys, dtype=np.uint64), np.frombuffer(lengths, dtype=np.int32),
                    np.frombuffer(owner, dtype=np.int32), np.frombuffer(place, dtype=np.int32))


@dataclass
class ReusableVectors:
    """The live generation's vectors, memory-mapped, found by text key."""

    keys: np.ndarray  # sorted uint64
    rows: np.ndarray  # row of each key in vectors + sentence_vectors (chunks first)
    vectors: np.ndarray
    sentence_vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Row of each key in the previous generation, -1 where it has none."""
        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[at] == keys, self.rows[at], -1)

    def get(self, rows: np.ndarray) -> np.ndarray:
        n = len(self.vectors)
        out = np.empty((len(rows), self.vectors.shape[1]), dtype=np.float32)
        is_chunk = rows < n
        out[is_chunk] = self.vectors[rows[is_chunk]]
        out[~is_chunk] = self.sentence_vectors[rows[~is_chunk] - n]
        return out


def previous_vectors(index_dir: Path, embedder: Embedder) -> ReusableVectors | None:
    """The live generation's vectors (chunks and sentences) by text key, if the same model on the same
    runtime computed them; None when nothing is reusable."""
    try:
        generation = current_generation(index_dir)
        manifest = read_manifest(generation, need_pages=False)  # page numbers do not change what is embedded
        if (manifest["model"]["id"] != embedder.model_id or manifest["model"].get("embed_text") != EMBED_TEXT_VERSION
                or manifest["model"].get("runtime") != runtime_of(embedder)):
            return None
        vectors = np.load(generation / "vectors.npy", allow_pickle=False, mmap_mode="r")
        sentence_vectors = np.load(generation / "sentence_vectors.npy", allow_pickle=False, mmap_mode="r")
        chunk_keys, sentence_keys = [], []
        with (generation / "chunks.jsonl").open(encoding="utf-8") as handle:
            rows = (json.loads(line) for line in handle if line.strip())  # one chunk at a time: only keys are kept
            for chunk in map(Chunk.from_json, rows):
                chunk_keys.append(text_key(embedding_text(chunk)))
                sentence_keys.extend(text_key(s) for s in sentences(chunk.text))
    except (ZhengceError, OSError, ValueError, KeyError):
        return None  # nothing reusable: embed everything
    if len(chunk_keys) != len(vectors) or len(sentence_keys) != len(sentence_vectors):
        return None
    keys = np.asarray(chunk_keys + sentence_keys, dtype=np.uint64)
    order = np.argsort(keys, kind="stable")
    return ReusableVectors(keys[order], order.astype(np.int64), vectors, sentence_vectors)


# Texts per call to the embedder: it batches inside (16 at a time); a block bounds the vectors held in
# memory before they are written to disk, whatever the corpus size.
EMBED_BLOCK = 2048


def embed_into(
    plan: TextPlan, embedder: Embedder, reusable: ReusableVectors | None, chunk_out: np.ndarray, sentence_out: np.ndarray,
    progress: Callable[[int], None] | None = None, block: int = EMBED_BLOCK,
) -> np.ndarray:
    """Fill chunk_out and sentence_out (usually memory-mapped .npy files) with the planned texts' vectors
    (rows: chunks first, then sentences): reused ones copied
    from the previous generation, the others computed in batches of similar length, shortest first.
    Returns the rows that were computed. Progress is reported in chunks (the unit the caller's bar
    counts), sentences included pro rata."""
    total, done, reported = len(plan.keys), 0, 0

    def advance(n: int) -> None:
        nonlocal done, reported
        done += n
        now = done * plan.chunk_count // max(1, total)
        if progress and now > reported:
            progress(now - reported)
            reported = now

    previous = reusable.find(plan.keys) if reusable is not None else np.full(total, -1, dtype=np.int64)
    found = np.flatnonzero(previous >= 0)
    for start in range(0, len(found), 1 << 16):
        rows = found[start : start + (1 << 16)]
        write_rows(chunk_out, sentence_out, rows, reusable.get(previous[rows]))
    advance(len(found))
    missing = np.flatnonzero(previous < 0)
    missing = missing[np.argsort(plan.lengths[missing], kind="stable")]
    for start in range(0, len(missing), block):
        rows = missing[start : start + block]
        in_block = 0

        def batch_done(n: int) -> None:  # the embedder's batches move the bar, not only whole blocks
            nonlocal in_block
            in_block += n
            advance(n)

        write_rows(chunk_out, sentence_out, rows, embedder.encode_documents(plan.texts(rows), progress=batch_done))
        advance(len(rows) - in_block)  # an embedder that reports no progress
    return missing


def write_rows(chunk_out: np.ndarray, sentence_out: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    n = len(chunk_out)
    is_chunk = rows < n
    chunk_out[rows[is_chunk]] = values[is_chunk]
    sentence_out[rows[~is_chunk] - n] = values[~is_chunk]


def build_index(
    index_dir: Path,
    documents: list[Document],
    chunks: list[Chunk],
    embedder: Embedder,
    chunk_config: ChunkConfig,
    progress: Callable[[int], None] | None = None,
    dense_config: DenseIndexConfig = DenseIndexConfig(),
) -> BuildReport:
    """Write a new generation next to the live one and switch to it only when it is complete. Vectors go
    straight to their files as they are computed, so memory does not grow with the corpus's vectors."""
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
    plan = plan_texts(chunks)
    sentence_dtype = stored_sentence_dtype(len(chunks), dense_config)

    name = next_generation_name(index_dir)
    tmp = index_dir / f".tmp-{name}-{os.getpid()}"
    tmp.mkdir()
    try:
        vectors = new_npy(tmp / "vectors.npy", np.float32, (len(chunks), embedder.dimension))
        sentence_vectors = new_npy(tmp / "sentence_vectors.npy", sentence_dtype, (len(plan.sentence_owner), embedder.dimension))
        computed = embed_into(plan, embedder, reusable, vectors, sentence_vectors, progress)
        embedded = int(np.count_nonzero(computed < len(chunks)))
        del reusable, sentence_vectors  # unmaps the previous generation's files and flushes the new one
        np.save(tmp / "sentence_owner.npy", plan.sentence_owner, allow_pickle=False)
        write_jsonl(tmp / "chunks.jsonl", (c.to_json() for c in chunks))
        write_jsonl(tmp / "documents.jsonl", document_records(documents, chunks))
        dense = make_dense_index(vectors, dense_config)
        del vectors
        faiss.write_index(dense, str(tmp / "dense.faiss"))
        keyword_index(chunks).save(str(tmp / "bm25"), allow_pickle=False, show_progress=False)

        files = {str(p.relative_to(tmp)): file_sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "model": {"id": embedder.model_id, "dimension": embedder.dimension, "embed_text": EMBED_TEXT_VERSION,
                      **({"runtime": runtime_of(embedder)} if runtime_of(embedder) else {})},
            "chunker": chunk_config.to_json(),
            "keyword": {"tokenizer": tokenizer_id(), "bm25": "bm25s default (lucene, k1=1.5, b=0.75)"},
            "dense": {**dense_description(dense, dense_config), "stored_vectors": "float32",
                      "stored_sentence_vectors": np.dtype(sentence_dtype).name},
            "chunk_count": len(chunks),
            "pages_version": PAGES_VERSION,
            "documents": [{"doc_id": d.meta.doc_id, "file": d.meta.file, "sha256": d.sha256} for d in documents],
            "files": files,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        fsync_tree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # never live: the previous generation stays current
        raise
    os.replace(tmp, index_dir / name)
    switch_current(index_dir, name)
    prune_generations(index_dir, dense_config.keep_generations)
    return BuildReport(name, len(documents), len(chunks), embedded, len(chunks) - embedded, time.perf_counter() - started)


def stored_sentence_dtype(chunk_count: int, config: DenseIndexConfig) -> type:
    """Chunk vectors are always float32: a large index re-scores its HNSW candidates with them, and at a
    million near-duplicate synthetic chunks float16 rounding (±0.001) reordered the exact top 10 (recall@10
    0.945 with 200, 400, 800 or 1600 candidates alike). Rows are read with pread (index/backend.py), so the
    larger file costs disk, not memory. Sentence vectors, four times as many, are float16 above
    exact_search_max_chunks: they only pick each candidate's best sentence. Small indexes score every
    sentence per query and numpy has no fast float16 product, so they stay float32."""
    return np.float32 if chunk_count <= config.exact_search_max_chunks else np.float16


def new_npy(path: Path, dtype, shape: tuple[int, int]) -> np.ndarray:
    """A .npy file to fill row by row (memory-mapped); numpy cannot map an empty one."""
    if shape[0] == 0:
        empty = np.zeros(shape, dtype=dtype)
        np.save(path, empty, allow_pickle=False)
        return empty
    return np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)


class TokenRows:
    """Every chunk's token ids as one flat int32 array: bm25s reads each document's ids in order (twice);
    a million Python lists of token strings would take gigabytes."""

    def __init__(self, ids: np.ndarray, ends: np.ndarray):
        self.ids, self.ends = ids, ends

    def __len__(self) -> int:
        return len(self.ends)

    def __iter__(self):
        start = 0
        for end in self.ends.tolist():
            yield self.ids[start:end].tolist()
            start = end


def keyword_index(chunks: list[Chunk]):
    """BM25 over each chunk's section path and text (bm25s defaults), tokenized one chunk at a time."""
    from array import array

    import bm25s
    from bm25s.tokenization import Tokenized

    vocab: dict[str, int] = {}
    ids, ends = array("i"), array("q")
    for chunk in chunks:
        ids.extend(vocab.setdefault(token, len(vocab)) for token in tokenize(f"{chunk.section} {chunk.text}") or ["∅"])
        ends.append(len(ids))
    bm25 = bm25s.BM25()
    bm25.index(Tokenized(ids=TokenRows(np.frombuffer(ids, dtype=np.int32), np.frombuffer(ends, dtype=np.int64)), vocab=vocab),
               show_progress=False)
    return bm25


def make_dense_index(vectors: np.ndarray, config: DenseIndexConfig = DenseIndexConfig()):
    """Exact inner product for small corpora; HNSW over 8-bit scalar-quantized codes when exact search
    gets too slow (by chunk count). The codes only propose candidates: search re-scores them with the
    stored vectors, so 8 bits lose no recall@10 and take a quarter of float32's memory
    (docs/benchmark.md)."""
    import faiss

    dimension = vectors.shape[1]
    if len(vectors) <= config.exact_search_max_chunks:
        index = faiss.IndexFlatIP(dimension)
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return index
    index = faiss.IndexHNSWSQ(dimension, faiss.ScalarQuantizer.QT_8bit, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = config.hnsw_ef_construction
    index.hnsw.efSearch = config.hnsw_ef_search
    sample = np.linspace(0, len(vectors) - 1, min(len(vectors), config.quantizer_training_rows)).astype(np.int64)
    index.train(np.asarray(vectors[sample], dtype=np.float32))  # per-dimension ranges of the 8-bit codes
    for start in range(0, len(vectors), 1 << 16):  # float32 copies one block at a time
        index.add(np.asarray(vectors[start : start + (1 << 16)], dtype=np.float32))
    return index


def dense_description(index, config: DenseIndexConfig) -> dict:
    exact = type(index).__name__ == "IndexFlatIP"
    return {
        "faiss": type(index).__name__,
        "exact": exact,
        "metric": "inner product over L2-normalised vectors",
        "params": {} if exact else {"M": config.hnsw_m, "efConstruction": config.hnsw_ef_construction, "efSearch": config.hnsw_ef_search,
                                    **({"codes": "8-bit scalar quantizer"} if type(index).__name__ == "IndexHNSWSQ" else {})},
        "exact_search_max_chunks": config.exact_search_max_chunks,
    }


def document_records(documents: list[Document], chunks: list[Chunk]):
    counts: dict[str, int] = {}
    for chunk in chunks:  # one pass: counting per document would be documents × chunks
        counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
    return (document_record(d, counts.get(d.meta.doc_id, 0)) for d in documents)


def document_record(document: Document, chunk_count: int) -> dict:
    meta = document.meta
    return {
        **{k: getattr(meta, k) for k in DocumentMeta.__dataclass_fields__},
        "sha256": document.sha256,
        "chunk_count": chunk_count,
        "text": document.text,
        "outline": [s.path_text for s in document.sections if s.heading],
        **({"pages": list(document.pages)} if document.pages else {}),
    }


def write_jsonl(path: Path, rows) -> None:
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
